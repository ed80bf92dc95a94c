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
//! - `SessionCache` — `session_cache.go:10-76` (`GetOrCreate`, `expire`: the oldest session,
//!   ties to the first met in the map's order).
//!
//! Go's `range` over a map visits entries in a randomised order, and the incident's eviction
//! depends on it (the fixed code closes the *first expired* entry met, else the *last* one ranged
//! over). The port keeps both maps as Go's runtime lays out a small map — one bucket of 8 slots
//! (`bucketCnt`), a new key in the first empty slot, a deleted key leaving its slot empty
//! (golang/go `src/runtime/map.go`, `mapassign` / `mapdelete`, go1.14–go1.21) — and ranges over
//! them as `mapiterinit` / `mapiternext` do: from a random slot `offset` (`it.offset = uint8(r >>
//! h.B & (bucketCnt - 1))`, `r = fastrand()`) visiting slot `(offset + i) & 7`. Every `range`
//! draws its `r` from the input: a splitmix64 stream seeded by the configuration's `map_seed`
//! byte, the node id and the count of ranges the node made ([`GoMap::range`]). The tables
//! never exceed `capacity + 1 ≤ 5` entries, so the map never grows past one bucket (Go grows
//! at a load factor of 6.5 per bucket); should a sixth to eighth key arrive, it still fits,
//! and a ninth would take an overflow slot appended after the bucket (Go chains an overflow
//! bucket, ranged after the first with the same offset — the port ranges the slots as one
//! ring instead, which no configuration reaches). `time.Since(c.Created()) > maxUDPLife` is
//! `now - created > life_ms` in virtual time.
//! The UDP layer has no notion of a peer leaving: entries stay until evicted.

use p2p_types::session_cache::{Command, Config, Msg, Obs, EPHEMERAL_PORTS, ENTRY_BYTES};
use p2p_types::{Fault, Millis, NodeId, Outbox, Resources, TimerId};

/// Go's `bucketCnt`: slots of a map bucket.
const BUCKET_CNT: usize = 8;

/// A small Go map (one bucket): keys in slots, in the order `mapassign` put them. See the module
/// documentation for the upstream code this follows.
#[derive(Debug, Clone)]
struct GoMap<K, V> {
    slots: Vec<Option<(K, V)>>,
    /// The node's source of `fastrand` values: seed and ranges made so far.
    seed: u64,
    ranges: u64,
}

impl<K: PartialEq + Copy, V: Copy> GoMap<K, V> {
    fn new(seed: u64) -> Self {
        GoMap { slots: vec![None; BUCKET_CNT], seed, ranges: 0 }
    }
    fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }
    fn get(&self, k: &K) -> Option<&V> {
        self.slots.iter().flatten().find(|(key, _)| key == k).map(|(_, v)| v)
    }
    fn contains_key(&self, k: &K) -> bool {
        self.get(k).is_some()
    }
    /// `mapassign`: an existing key's value is replaced in place; a new key takes the first
    /// empty slot (an overflow slot after the bucket when none is left).
    fn insert(&mut self, k: K, v: V) {
        if let Some(slot) = self.slots.iter_mut().flatten().find(|(key, _)| *key == k) {
            slot.1 = v;
            return;
        }
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => *slot = Some((k, v)),
            None => self.slots.push(Some((k, v))),
        }
    }
    /// `mapdelete`: the slot is emptied (`emptyOne`), the others stay where they are.
    fn remove(&mut self, k: &K) {
        if let Some(slot) = self.slots.iter_mut().find(|s| s.as_ref().is_some_and(|(key, _)| key == k)) {
            *slot = None;
        }
    }
    /// `for k, v := range m`: the entries from a random slot on (`mapiterinit` / `mapiternext`),
    /// the randomness drawn from the input (module documentation).
    fn range(&mut self) -> Vec<(K, V)> {
        self.ranges = self.ranges.saturating_add(1);
        let r = splitmix64(self.seed ^ self.ranges.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let slots = self.slots.len().max(1);
        let offset = usize::try_from(r & 7).unwrap_or(0);
        (0..slots)
            .filter_map(|i| {
                let at = offset.saturating_add(i).checked_rem(slots).unwrap_or(0);
                self.slots.get(at).copied().flatten()
            })
            .collect()
    }
    /// The keys, for observations (slot order; callers sort).
    fn keys(&self) -> Vec<K> {
        self.slots.iter().flatten().map(|(k, _)| *k).collect()
    }
}

/// splitmix64's output function: the port's stand-in for Go's `fastrand`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The secure-session cache (`session_cache.go:20-24`): public key (here the node id) to the
/// time the session was stored.
#[derive(Debug)]
struct SessionCache {
    /// `maxSessions` (scaled: the configuration's capacity).
    max_sessions: usize,
    /// `sessions map[p2pcrypto.PublicKey]*storedSession`: peer to `ts`.
    sessions: GoMap<NodeId, Millis>,
}

impl SessionCache {
    /// `expire` (`session_cache.go:43-52`): removes the entry with the oldest `ts`; of equal ones
    /// the first met in the map's order (strict `Before`).
    fn expire(&mut self) {
        let mut key: Option<(NodeId, Millis)> = None;
        for (k, ts) in self.sessions.range() {
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
    incoming_conn: GoMap<(NodeId, u8), UdpConn>,
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

    /// `addConn` (`udp.go:273-294` at `d1b3fbe8`): when the table is full, range over it; the
    /// first expired entry met is deleted and closed, else the last entry ranged over is.
    ///
    /// # Errors
    /// Under `spacemesh-session-cache-evict` (`udp.go:278-283` at `e090af3b`): an expired entry
    /// is deleted and then closed through the map, a nil interface: the node crashes.
    fn add_conn(&mut self, now: Millis, addr: (NodeId, u8), ucw: UdpConn) -> Result<(), Fault> {
        let mut evicted = false;
        let mut lastk: Option<(NodeId, u8)> = None;
        if self.incoming_conn.len() >= self.max_udp_conn {
            for (k, c) in self.incoming_conn.range() {
                lastk = Some(k);
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
    /// Node `id` of `nodes` with both tables of `config.capacity` entries; the maps' iteration
    /// order is drawn from `config.map_seed` and the node id.
    pub fn new(id: NodeId, _nodes: u8, config: &Config) -> Self {
        let cap = usize::from(config.capacity);
        let seed = splitmix64(u64::from(config.map_seed) << 8 | u64::from(id));
        Node {
            id,
            net: UdpNet {
                cache: SessionCache { max_sessions: cap, sessions: GoMap::new(seed) },
                incoming_conn: GoMap::new(splitmix64(seed)),
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
        let mut sessions = self.net.cache.sessions.keys();
        let mut conns = self.net.incoming_conn.keys();
        sessions.sort_unstable();
        conns.sort_unstable();
        Obs { sessions, conns }
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
