//! Port of go-spacemesh's UDP server and its caches (`p2p/net/udp.go`, `p2p/net/session_cache.go`)
//! as they stood after the fix of the Tweedledee eviction panic:
//! spacemeshos/go-spacemesh commit `d1b3fbe866bcffd6bf10c29664eb96fd5f36dca4` (PR #2125,
//! "fixed panic bug on cache eviction", 2020-08-25). With the feature
//! `spacemesh-session-cache-evict` the eviction is the pre-fix code of the parent commit
//! `e090af3b73ddd7af9b1dd4cf31572fac549711f3`, whose panic is reported as [`Fault::Crash`].
//!
//! What is mirrored, line by line (line numbers at `d1b3fbe8`):
//! - `UdpNet::on_packet` — `udp.go:222-265` (`listenToUDPNetworkMessages`): an unknown source
//!   address gets a session (`n.cache.GetOrCreate(pk)`, `:232`) and a connection (`addConn`,
//!   `:261`); the message is then handled (the discovery protocol answers a ping);
//! - `UdpNet::add_conn` — `udp.go:273-294` (`addConn`), the incident;
//! - `UdpNet::send` — `udp.go:141-153` (`Send`: `GetOrCreate`, then write from the listener);
//! - `UdpNet::dial` — `udp.go:162-173` (`Dial`: `net.DialUDP` on a fresh local port, `GetOrCreate`);
//! - `SessionCache` — `session_cache.go:10-76` (`GetOrCreate`, `expire`).
//!
//! Go's `range` over a map visits entries in an unspecified (randomised) order. The port fixes
//! one legal order: in `addConn`, expired connections first (oldest first), then live ones
//! newest first, so the fixed code evicts the oldest connection; in `expire`, ascending peer id
//! (so of two equally old sessions the lower id goes). The pre-fix panic does not depend on the
//! order: the loop stops only at an expired entry, and reaching one is what panics.
//! `time.Since(c.Created()) > maxUDPLife` is `now - created > life_ms` in virtual time.
//! The UDP layer has no notion of a peer leaving: entries stay until evicted.

use p2p_types::session_cache::{Command, Config, Msg, Obs, EPHEMERAL_PORTS, ENTRY_BYTES};
use p2p_types::{Fault, Millis, NodeId, Outbox, Resources, TimerId};
use std::collections::BTreeMap;

/// The secure-session cache (`session_cache.go:20-24`): public key (here the node id) to the
/// time the session was stored.
#[derive(Debug)]
struct SessionCache {
    /// `maxSessions` (scaled: the configuration's capacity).
    max_sessions: usize,
    /// `sessions map[p2pcrypto.PublicKey]*storedSession`: peer to `ts`.
    sessions: BTreeMap<NodeId, Millis>,
}

impl SessionCache {
    /// `expire` (`session_cache.go:43-52`): removes the entry with the oldest `ts`; of equal ones
    /// the first met (ascending id: strict `Before`).
    fn expire(&mut self) {
        let mut key: Option<(NodeId, Millis)> = None;
        for (&k, &ts) in &self.sessions {
            if key.is_none_or(|(_, kts)| ts < kts) {
                key = Some((k, ts));
            }
        }
        if let Some((k, _)) = key {
            self.sessions.remove(&k);
        }
    }

    /// `GetOrCreate` (`session_cache.go:56-76`): an existing session is returned as is (its `ts`
    /// is not refreshed); a new one evicts the oldest when the cache is full.
    fn get_or_create(&mut self, now: Millis, peer: NodeId) {
        if self.sessions.contains_key(&peer) {
            return;
        }
        // `dialFunc` (`initSession`, `udp.go:130-133`) never fails.
        if self.sessions.len() == self.max_sessions {
            self.expire();
        }
        self.sessions.insert(peer, now);
    }
}

/// `udpConnWrapper` (`udp.go:314-324`): what eviction looks at is `created`; `Close` only
/// closes its channel, so closing and dropping the entry are one thing here.
#[derive(Debug, Clone, Copy)]
struct UdpConn {
    created: Millis,
}

/// `UDPNet` (`udp.go:42-59`).
#[derive(Debug)]
struct UdpNet {
    cache: SessionCache,
    /// `incomingConn map[string]udpConn`, keyed by source address `(peer, port)`.
    incoming_conn: BTreeMap<(NodeId, u8), UdpConn>,
    /// `maxUDPConn` (scaled).
    max_udp_conn: usize,
    /// `maxUDPLife` in ms.
    max_udp_life: Millis,
    /// The last ephemeral port `Dial` used (`1..=EPHEMERAL_PORTS`, 0 before the first dial).
    last_port: u8,
}

impl UdpNet {
    /// `time.Since(c.Created()) > maxUDPLife`.
    fn expired(&self, now: Millis, c: &UdpConn) -> bool {
        now.saturating_sub(c.created) > self.max_udp_life
    }

    /// The order in which this port's `range n.incomingConn` visits entries (see the module doc).
    fn range_order(&self, now: Millis) -> Vec<(NodeId, u8)> {
        let mut expired: Vec<((NodeId, u8), Millis)> = Vec::new();
        let mut live: Vec<((NodeId, u8), Millis)> = Vec::new();
        for (&k, c) in &self.incoming_conn {
            if self.expired(now, c) {
                expired.push((k, c.created));
            } else {
                live.push((k, c.created));
            }
        }
        expired.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        live.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        expired.into_iter().chain(live).map(|(k, _)| k).collect()
    }

    /// `addConn` (`udp.go:273-294` at `d1b3fbe8`).
    ///
    /// # Errors
    /// Under `spacemesh-session-cache-evict` (`udp.go:278-283` at `e090af3b`): an expired entry
    /// is deleted and then closed through the map, a nil interface: the node crashes.
    fn add_conn(&mut self, now: Millis, addr: (NodeId, u8), ucw: UdpConn) -> Result<(), Fault> {
        let mut evicted = false;
        let mut lastk: Option<(NodeId, u8)> = None;
        if self.incoming_conn.len() >= self.max_udp_conn {
            for k in self.range_order(now) {
                lastk = Some(k);
                let Some(c) = self.incoming_conn.get(&k).copied() else { continue };
                if self.expired(now, &c) {
                    self.incoming_conn.remove(&k);
                    if cfg!(feature = "spacemesh-session-cache-evict") {
                        // `n.incomingConn[k].Close()` after `delete(n.incomingConn, k)`.
                        return Err(Fault::Crash(format!(
                            "panic: runtime error: invalid memory address or nil pointer dereference \
                             (UDPNet.addConn, p2p/net/udp.go:282 at e090af3b: Close on the deleted \
                             incomingConn entry {k:?}, created at {} ms, now {now} ms, table full at {})",
                            c.created, self.max_udp_conn
                        )));
                    }
                    // `c.Close()` (the fix): closes the wrapper it still holds.
                    evicted = true;
                    break;
                }
            }
            if !evicted {
                // `n.incomingConn[lastk].Close()` then `delete(n.incomingConn, lastk)`.
                if let Some(k) = lastk {
                    self.incoming_conn.remove(&k);
                }
            }
        }
        self.incoming_conn.insert(addr, ucw);
        Ok(())
    }

    /// A packet arrives at the listening socket from `(from, port)` (`udp.go:222-265`).
    fn on_packet(&mut self, now: Millis, from: NodeId, port: u8) -> Result<(), Fault> {
        let addr = (from, port);
        if !self.incoming_conn.contains_key(&addr) {
            self.cache.get_or_create(now, from);
            let conn = UdpConn { created: now };
            self.add_conn(now, addr, conn)?;
        }
        Ok(())
    }

    /// `Send` (`udp.go:141-153`): session, then a packet from the listener.
    fn send(&mut self, now: Millis, to: NodeId, msg: Msg, out: &mut Outbox<Msg>) {
        self.cache.get_or_create(now, to);
        out.send(to, msg);
    }

    /// `Dial` (`udp.go:162-173`): a connected socket on a fresh ephemeral port, the session, and
    /// the first message of the connection.
    fn dial(&mut self, now: Millis, to: NodeId, out: &mut Outbox<Msg>) {
        self.last_port = self.last_port.checked_rem(EPHEMERAL_PORTS).unwrap_or(0).saturating_add(1);
        self.cache.get_or_create(now, to);
        out.send(to, Msg::Ping { port: self.last_port });
    }
}

/// One Spacemesh node's UDP layer.
#[derive(Debug)]
pub struct Node {
    id: NodeId,
    net: UdpNet,
}

impl Node {
    /// Node `id` of `nodes` with both tables of `config.capacity` entries.
    pub fn new(id: NodeId, _nodes: u8, config: &Config) -> Self {
        let cap = usize::from(config.capacity);
        Node {
            id,
            net: UdpNet {
                cache: SessionCache { max_sessions: cap, sessions: BTreeMap::new() },
                incoming_conn: BTreeMap::new(),
                max_udp_conn: cap,
                max_udp_life: config.life_ms,
                last_port: 0,
            },
        }
    }
}

impl p2p_types::Node for Node {
    type Msg = Msg;
    type Command = Command;
    type Obs = Obs;
    fn on_start(&mut self, _now: Millis, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn on_peer_joined(&mut self, _now: Millis, _peer: NodeId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn on_peer_left(&mut self, _now: Millis, _peer: NodeId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn on_command(&mut self, now: Millis, command: &Command, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        match *command {
            Command::Send { peer } if peer != self.id => self.net.send(now, peer, Msg::Ping { port: 0 }, out),
            Command::Dial { peer } if peer != self.id => self.net.dial(now, peer, out),
            _ => {}
        }
        Ok(())
    }
    fn on_message(&mut self, now: Millis, from: NodeId, msg: &Msg, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        match *msg {
            Msg::Ping { port } => {
                self.net.on_packet(now, from, port)?;
                // The discovery protocol answers through `Send` to the peer's listener.
                self.net.send(now, from, Msg::Pong, out);
            }
            Msg::Pong => self.net.on_packet(now, from, 0)?,
        }
        Ok(())
    }
    fn on_timer(&mut self, _now: Millis, _timer: TimerId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn observe(&self) -> Obs {
        Obs {
            sessions: self.net.cache.sessions.keys().copied().collect(),
            conns: self.net.incoming_conn.keys().copied().collect(),
        }
    }
    fn resources(&self) -> Resources {
        let s = self.net.cache.sessions.len();
        let c = self.net.incoming_conn.len();
        Resources {
            tables: vec![
                ("sessions", s, Some(self.net.cache.max_sessions)),
                ("incoming_conns", c, Some(self.net.max_udp_conn)),
            ],
            retained_bytes: s.saturating_add(c).saturating_mul(ENTRY_BYTES),
        }
    }
}
