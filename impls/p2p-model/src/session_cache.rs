//! Model of Spacemesh's UDP session caches written from the protocol's intent, not from the Go
//! code: a node keeps two bounded caches, one of secure sessions (by peer) and one of incoming
//! connections (by source address `(peer, port)`). Each is a bounded LRU cache in which recency is
//! the time an entry was created (the protocol never refreshes an entry on use): inserting into a
//! full cache first drops the least recently created entry (of equal ages, the smallest key).
//! Connections also have a lifetime; an expired connection is simply the oldest one, so it is the
//! one dropped, and dropping is never an error.
//!
//! Traffic: `Send` pings from the listening socket (port 0), `Dial` from the next of the
//! ephemeral ports `1..=EPHEMERAL_PORTS`; every ping is answered with a pong to the listener; a
//! packet from an address without a connection creates the connection and, if missing, the
//! session; sending to a peer creates the session if missing.

use p2p_types::session_cache::{Command, Config, Msg, Obs, EPHEMERAL_PORTS, ENTRY_BYTES};
use p2p_types::{Fault, Millis, NodeId, Outbox, Resources, TimerId};
use std::collections::BTreeMap;

/// A bounded cache whose entries remember when they were created.
#[derive(Debug)]
struct Lru<K: Ord + Copy> {
    capacity: usize,
    created: BTreeMap<K, Millis>,
}

impl<K: Ord + Copy> Lru<K> {
    fn new(capacity: usize) -> Self {
        Lru { capacity, created: BTreeMap::new() }
    }

    /// Inserts `key` created at `now` unless present; a full cache drops its least recently
    /// created entry first.
    fn touch(&mut self, now: Millis, key: K) {
        if self.created.contains_key(&key) {
            return;
        }
        while self.created.len() >= self.capacity {
            let oldest = self.created.iter().min_by_key(|(k, t)| (**t, **k)).map(|(k, _)| *k);
            match oldest {
                Some(k) => {
                    self.created.remove(&k);
                }
                None => break,
            }
        }
        self.created.insert(key, now);
    }

    fn keys(&self) -> Vec<K> {
        self.created.keys().copied().collect()
    }
}

/// A node of the model.
#[derive(Debug)]
pub struct Node {
    id: NodeId,
    capacity: usize,
    sessions: Lru<NodeId>,
    conns: Lru<(NodeId, u8)>,
    next_port: u8,
}

impl Node {
    /// Node `id` of `nodes`; both caches hold `config.capacity` entries. The lifetime
    /// (`config.life_ms`) never changes which entry goes: the oldest is dropped either way.
    pub fn new(id: NodeId, _nodes: u8, config: &Config) -> Self {
        let capacity = usize::from(config.capacity);
        Node { id, capacity, sessions: Lru::new(capacity), conns: Lru::new(capacity), next_port: 1 }
    }

    fn heard_from(&mut self, now: Millis, from: NodeId, port: u8) {
        if !self.conns.created.contains_key(&(from, port)) {
            self.sessions.touch(now, from);
            self.conns.touch(now, (from, port));
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
        let (Command::Send { peer } | Command::Dial { peer }) = *command;
        if peer == self.id {
            // A node never talks to itself.
            return Ok(());
        }
        let port = match *command {
            Command::Send { .. } => 0,
            Command::Dial { .. } => {
                let port = self.next_port;
                self.next_port = if port >= EPHEMERAL_PORTS { 1 } else { port.saturating_add(1) };
                port
            }
        };
        self.sessions.touch(now, peer);
        out.send(peer, Msg::Ping { port });
        Ok(())
    }
    fn on_message(&mut self, now: Millis, from: NodeId, msg: &Msg, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        match *msg {
            Msg::Ping { port } => {
                self.heard_from(now, from, port);
                self.sessions.touch(now, from);
                out.send(from, Msg::Pong);
            }
            Msg::Pong => self.heard_from(now, from, 0),
        }
        Ok(())
    }
    fn on_timer(&mut self, _now: Millis, _timer: TimerId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn observe(&self) -> Obs {
        Obs { sessions: self.sessions.keys(), conns: self.conns.keys() }
    }
    fn resources(&self) -> Resources {
        let s = self.sessions.created.len();
        let c = self.conns.created.len();
        Resources {
            tables: vec![("sessions", s, Some(self.capacity)), ("incoming_conns", c, Some(self.capacity))],
            retained_bytes: s.saturating_add(c).saturating_mul(ENTRY_BYTES),
        }
    }
}
