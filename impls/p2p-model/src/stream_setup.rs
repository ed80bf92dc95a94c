//! Model of Harmony's stream setup written from the protocol's intent, not from the Go code.
//!
//! Intent: a node wants at least `lo` streams. It tries to open one with every peer discovery
//! reported (still live, without a stream), but it tries a given peer at most once per cooldown,
//! and a discovery round that tries nobody makes it rest for a cooldown before the next round.
//! A node looks for peers when it starts, when told of new peers, on its check tick (every
//! [`TICK_MS`] from its start, while it still wants a stream) and whenever it drops below `lo`
//! (a stream closed or a setup refused). A setup that gets no answer is given up after
//! [`CONNECT_TIMEOUT_MS`].
//!
//! Simultaneous open (both ends sent `Init` before either arrived) is resolved by a tie-break:
//! the lower id keeps its outbound stream (while its attempt is younger than the connect timeout)
//! and ignores the other `Init`; the higher id accepts
//! the lower id's `Init` and forgets its own attempt. Any `Init` from a peer already streamed is
//! re-acknowledged (its `InitAck` may have been lost), and a late `InitAck` completes the stream.
//! A peer that answered none of our last `UNANSWERED_LIMIT` attempts is forgotten until
//! discovery reports it again.

use p2p_types::stream_setup::{Command, Config, Msg, Obs, CONNECT_TIMEOUT_MS, ENTRY_BYTES, TICK_MS, TICK_TIMER, UNANSWERED_LIMIT};
use p2p_types::{Fault, Millis, NodeId, Outbox, Resources, TimerId};
use std::collections::BTreeMap;

/// What a node knows about one peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Peer {
    /// Reported by discovery and live.
    known: bool,
    /// Both ends hold a stream.
    stream: bool,
    /// Time of our unanswered `Init`, if any.
    opening: Option<Millis>,
    /// Time of our last attempt (for the per-peer cooldown).
    last_try: Option<Millis>,
    /// Our `Init`s since we last heard anything from the peer.
    silent_tries: u8,
}

/// A node of the model.
#[derive(Debug)]
pub struct Node {
    id: NodeId,
    nodes: u8,
    lo: usize,
    cooldown: Millis,
    peers: BTreeMap<NodeId, Peer>,
    resting_until: Millis,
    born: Millis,
    tick_pending: bool,
    attempts: u32,
}

impl Node {
    /// Node `id` of `nodes` with `config`'s threshold and cooldown.
    pub fn new(id: NodeId, nodes: u8, config: &Config) -> Self {
        Node {
            id,
            nodes,
            lo: usize::from(config.lo),
            cooldown: config.cooldown_ms,
            peers: BTreeMap::new(),
            resting_until: 0,
            born: 0,
            tick_pending: false,
            attempts: 0,
        }
    }

    fn peer(&mut self, p: NodeId) -> &mut Peer {
        self.peers.entry(p).or_default()
    }

    fn stream_count(&self) -> usize {
        self.peers.values().filter(|p| p.stream).count()
    }

    fn below_lo(&self) -> bool {
        self.stream_count() < self.lo
    }

    fn wants(&self) -> bool {
        self.below_lo() && self.peers.values().any(|p| p.known && !p.stream)
    }

    /// One discovery round, unless resting.
    fn look_for_peers(&mut self, now: Millis, out: &mut Outbox<Msg>) {
        if now < self.resting_until {
            return;
        }
        let cooldown = self.cooldown;
        let me = self.id;
        let mut tried = 0u32;
        for (&p, st) in &mut self.peers {
            if st.opening.is_some_and(|t| now.saturating_sub(t) >= CONNECT_TIMEOUT_MS) {
                st.opening = None;
            }
            if p == me || !st.known || st.stream {
                continue;
            }
            if st.silent_tries >= UNANSWERED_LIMIT {
                // The peer never answers: forget it until discovery reports it again.
                st.known = false;
                continue;
            }
            if st.last_try.is_some_and(|t| now.saturating_sub(t) < cooldown) {
                continue;
            }
            st.last_try = Some(now);
            st.opening = Some(now);
            st.silent_tries = st.silent_tries.saturating_add(1);
            tried = tried.saturating_add(1);
            out.send(p, Msg::Init);
        }
        self.attempts = self.attempts.saturating_add(tried);
        if tried == 0 {
            self.resting_until = now.saturating_add(cooldown);
        }
    }

    fn lost_stream(&mut self, now: Millis, p: NodeId, out: &mut Outbox<Msg>) {
        self.peer(p).stream = false;
        if self.below_lo() {
            self.look_for_peers(now, out);
        }
    }

    /// Keeps the check tick armed on the grid `born + k * TICK_MS` while the node wants streams.
    fn schedule_tick(&mut self, now: Millis, out: &mut Outbox<Msg>) {
        if !self.tick_pending && self.wants() {
            let periods = now.saturating_sub(self.born).checked_div(TICK_MS).unwrap_or(0).saturating_add(1);
            let next = self.born.saturating_add(periods.saturating_mul(TICK_MS));
            out.set_timer(next.saturating_sub(now), TICK_TIMER);
            self.tick_pending = true;
        }
    }
}

impl p2p_types::Node for Node {
    type Msg = Msg;
    type Command = Command;
    type Obs = Obs;
    fn on_start(&mut self, now: Millis, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        self.born = now;
        self.look_for_peers(now, out);
        self.schedule_tick(now, out);
        Ok(())
    }
    fn on_peer_joined(&mut self, _now: Millis, _peer: NodeId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn on_peer_left(&mut self, now: Millis, peer: NodeId, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        let had_stream = {
            let st = self.peer(peer);
            st.known = false;
            st.opening = None;
            st.silent_tries = 0;
            st.stream
        };
        if had_stream {
            self.lost_stream(now, peer, out);
        }
        self.schedule_tick(now, out);
        Ok(())
    }
    fn on_command(&mut self, now: Millis, command: &Command, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        match *command {
            Command::Discover { peers } => {
                let live: Vec<NodeId> = out.peers().iter().copied().filter(|p| peers.checked_shr(u32::from(*p)).is_some_and(|b| b & 1 == 1)).collect();
                for p in live {
                    let st = self.peer(p);
                    st.known = true;
                    st.silent_tries = 0;
                }
                self.look_for_peers(now, out);
            }
            Command::CloseStream { peer } => {
                if self.peers.get(&peer).is_some_and(|p| p.stream) {
                    out.send(peer, Msg::Reset);
                    self.lost_stream(now, peer, out);
                }
            }
        }
        self.schedule_tick(now, out);
        Ok(())
    }
    fn on_message(&mut self, now: Millis, from: NodeId, msg: &Msg, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        let me = self.id;
        self.peer(from).silent_tries = 0;
        let st = *self.peer(from);
        match msg {
            Msg::Init => {
                if st.stream {
                    out.send(from, Msg::InitAck);
                } else if st.opening.is_some_and(|t| now.saturating_sub(t) < CONNECT_TIMEOUT_MS) && me < from {
                    // Tie-break: our outbound stream wins.
                } else {
                    let p = self.peer(from);
                    p.opening = None;
                    p.stream = true;
                    out.send(from, Msg::InitAck);
                }
            }
            Msg::InitAck => {
                let p = self.peer(from);
                p.opening = None;
                p.stream = true;
            }
            Msg::Reset => {
                if st.stream {
                    self.lost_stream(now, from, out);
                } else if st.opening.is_some() {
                    self.peer(from).opening = None;
                    if self.below_lo() {
                        self.look_for_peers(now, out);
                    }
                }
            }
        }
        self.schedule_tick(now, out);
        Ok(())
    }
    fn on_timer(&mut self, now: Millis, timer: TimerId, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        if timer == TICK_TIMER {
            self.tick_pending = false;
            if self.below_lo() {
                self.look_for_peers(now, out);
            }
        }
        self.schedule_tick(now, out);
        Ok(())
    }
    fn observe(&self) -> Obs {
        let pick = |f: fn(&Peer) -> bool| self.peers.iter().filter(|(_, p)| f(p)).map(|(id, _)| *id).collect();
        Obs { streams: pick(|p| p.stream), known: pick(|p| p.known), attempts: self.attempts }
    }
    fn resources(&self) -> Resources {
        let cap = Some(usize::from(self.nodes.saturating_sub(1)));
        let count = |f: fn(&Peer) -> bool| self.peers.values().filter(|p| f(p)).count();
        let s = count(|p| p.stream);
        let u = count(|p| p.opening.is_some());
        let f = count(|p| p.known);
        let c = count(|p| p.last_try.is_some());
        Resources {
            tables: vec![("streams", s, cap), ("setting_up", u, cap), ("found", f, cap), ("cool_down_cache", c, cap)],
            retained_bytes: s.saturating_add(u).saturating_add(f).saturating_add(c).saturating_mul(ENTRY_BYTES),
        }
    }
}
