//! Shared plumbing of Diverge's network-incident models (architecture.md §12): the deterministic
//! network simulation ([`sim`]), the schedule a fuzz input decodes to ([`schedule`]), the [`Node`]
//! trait every protocol implementation provides, and each component's wire types:
//!
//! - [`announce`]: NEAR's account announcements (the Stake Wars storm, nearcore PR 1688);
//! - [`session_cache`]: Spacemesh's UDP session cache (the Tweedledee eviction panic);
//! - [`stream_setup`]: Harmony's stream manager and discovery (the October 2021 setup storm).
//!
//! Everything here is shared by both implementations of a component and therefore can never
//! diverge: the simulation (delivery, time, timers, membership), the encoding of inputs and the
//! message, command and observation types. The protocol logic under test lives in `p2p-port`
//! (ports of the upstream code) and `p2p-model` (models written from the protocol's intent).

pub mod announce;
pub mod schedule;
pub mod session_cache;
pub mod sim;
pub mod stream_setup;
pub mod testing;

use std::fmt::Debug;

/// A node's index in the simulated network, `0..nodes` (at most [`schedule::MAX_NODES`]).
pub type NodeId = u8;

/// Virtual time, milliseconds since the start of the run. Only the schedule advances it.
pub type Millis = u64;

/// A node-local timer name; setting a timer with a name already pending replaces it.
pub type TimerId = u32;

/// What a node reports instead of panicking: the upstream code would have crashed here
/// (`Crash`, e.g. go-spacemesh's panic on eviction) or hit an internal inconsistency (`Internal`).
/// A node that faults is taken out of the network (it is dead, as the crashed process was).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// The upstream process would have crashed (panic, nil dereference, fatal log) here.
    #[error("crash: {0}")]
    Crash(String),
    /// The implementation found its own state inconsistent.
    #[error("internal: {0}")]
    Internal(String),
}

/// What a node holds, for the resource oracles: each bounded table's size and capacity, and an
/// estimate of the bytes it retains (caches, queues, seen-sets), so that a leak shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// `(table name, entries, capacity)` for every bounded table; `capacity` `None` = unbounded.
    pub tables: Vec<(&'static str, usize, Option<usize>)>,
    /// Bytes retained by the node beyond its constant-size fields (an estimate, same rule for
    /// both implementations: the sum over retained entries of their wire sizes).
    pub retained_bytes: usize,
}

/// Everything a node may do in reaction to an event: send messages and set timers. Sends are
/// queued on the simulated network in a canonical order (destination, then message), so two
/// implementations that send the same set of messages produce the same network state.
#[derive(Debug)]
pub struct Outbox<M> {
    /// Live peers at the moment of the event (sorted, never the node itself).
    peers: Vec<NodeId>,
    /// `(to, message)` in the order sent.
    pub(crate) sends: Vec<(NodeId, M)>,
    /// `(delay from now, timer)`.
    pub(crate) timers: Vec<(Millis, TimerId)>,
}

impl<M: Clone> Outbox<M> {
    /// An outbox for a node whose live peers are `peers`.
    pub fn new(peers: Vec<NodeId>) -> Self {
        Outbox { peers, sends: Vec::new(), timers: Vec::new() }
    }
    /// The node's live peers (sorted ascending, never the node itself).
    pub fn peers(&self) -> &[NodeId] {
        &self.peers
    }
    /// Sends `msg` to `to` (dropped by the network if `to` is not live when it is delivered).
    pub fn send(&mut self, to: NodeId, msg: M) {
        self.sends.push((to, msg));
    }
    /// Sends `msg` to every live peer.
    pub fn broadcast(&mut self, msg: &M) {
        for &p in &self.peers {
            self.sends.push((p, msg.clone()));
        }
    }
    /// Sends `msg` to every live peer but `except`.
    pub fn broadcast_except(&mut self, except: NodeId, msg: &M) {
        for &p in &self.peers {
            if p != except {
                self.sends.push((p, msg.clone()));
            }
        }
    }
    /// Fires `timer` after `delay` ms of virtual time (replacing a pending timer of that name).
    pub fn set_timer(&mut self, delay: Millis, timer: TimerId) {
        self.timers.push((delay, timer));
    }
    /// The messages sent so far, in order (for unit tests of a node).
    pub fn sent(&self) -> &[(NodeId, M)] {
        &self.sends
    }
    /// The timers set so far, `(delay, timer)` (for unit tests of a node).
    pub fn timers_set(&self) -> &[(Millis, TimerId)] {
        &self.timers
    }
}

/// A message's size on the wire, bytes: what the byte budget of the amplification oracle counts
/// (`sim::Stats::sent_bytes`). Each component documents its encoding at the implementation
/// (a one-byte tag and the payload's fields; lengths one byte).
pub trait Wire {
    /// Bytes of this message on the wire.
    fn wire_bytes(&self) -> u64;
}

/// A one-byte message (the simulation's own tests use `u8` messages).
impl Wire for u8 {
    fn wire_bytes(&self) -> u64 {
        1
    }
}

/// What a component's protocol allows the whole network to send over a run (the amplification
/// oracle, checked after every step and after the drain): messages and their bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most messages sent so far.
    pub messages: u64,
    /// Most bytes sent so far (the sum of [`Wire::wire_bytes`]).
    pub bytes: u64,
}

/// One node of a protocol: a deterministic state machine driven by the simulation. Every
/// method gets the virtual time `now` and an [`Outbox`]; an `Err` is a [`Fault`] (the node then
/// leaves the network). Implementations never panic (workspace lints).
pub trait Node: Send {
    /// A message on the wire (shared by both implementations of the component).
    type Msg: Clone + Debug + Ord + Send + Wire;
    /// An external event addressed to this node (e.g. "announce account 3 for epoch 2").
    type Command: Clone + Debug + Send;
    /// What the node shows the comparison after every step: both implementations must agree on it.
    type Obs: Clone + Debug + PartialEq + Send;

    /// The node starts (at time 0, or when it joins) with these live peers.
    ///
    /// # Errors
    /// A [`Fault`] where the upstream code would have crashed.
    fn on_start(&mut self, now: Millis, out: &mut Outbox<Self::Msg>) -> Result<(), Fault>;
    /// `peer` became reachable (it joined).
    ///
    /// # Errors
    /// A [`Fault`] where the upstream code would have crashed.
    fn on_peer_joined(&mut self, now: Millis, peer: NodeId, out: &mut Outbox<Self::Msg>) -> Result<(), Fault>;
    /// `peer` left (or crashed); messages in flight from and to it were dropped.
    ///
    /// # Errors
    /// A [`Fault`] where the upstream code would have crashed.
    fn on_peer_left(&mut self, now: Millis, peer: NodeId, out: &mut Outbox<Self::Msg>) -> Result<(), Fault>;
    /// An external command.
    ///
    /// # Errors
    /// A [`Fault`] where the upstream code would have crashed.
    fn on_command(&mut self, now: Millis, command: &Self::Command, out: &mut Outbox<Self::Msg>) -> Result<(), Fault>;
    /// A message from `from` is delivered.
    ///
    /// # Errors
    /// A [`Fault`] where the upstream code would have crashed.
    fn on_message(&mut self, now: Millis, from: NodeId, msg: &Self::Msg, out: &mut Outbox<Self::Msg>) -> Result<(), Fault>;
    /// A timer set earlier fires.
    ///
    /// # Errors
    /// A [`Fault`] where the upstream code would have crashed.
    fn on_timer(&mut self, now: Millis, timer: TimerId, out: &mut Outbox<Self::Msg>) -> Result<(), Fault>;
    /// The node's observable state.
    fn observe(&self) -> Self::Obs;
    /// What the node retains, for the resource oracles.
    fn resources(&self) -> Resources;
}

impl<T: Node + ?Sized> Node for Box<T> {
    type Msg = T::Msg;
    type Command = T::Command;
    type Obs = T::Obs;
    fn on_start(&mut self, now: Millis, out: &mut Outbox<Self::Msg>) -> Result<(), Fault> {
        (**self).on_start(now, out)
    }
    fn on_peer_joined(&mut self, now: Millis, peer: NodeId, out: &mut Outbox<Self::Msg>) -> Result<(), Fault> {
        (**self).on_peer_joined(now, peer, out)
    }
    fn on_peer_left(&mut self, now: Millis, peer: NodeId, out: &mut Outbox<Self::Msg>) -> Result<(), Fault> {
        (**self).on_peer_left(now, peer, out)
    }
    fn on_command(&mut self, now: Millis, command: &Self::Command, out: &mut Outbox<Self::Msg>) -> Result<(), Fault> {
        (**self).on_command(now, command, out)
    }
    fn on_message(&mut self, now: Millis, from: NodeId, msg: &Self::Msg, out: &mut Outbox<Self::Msg>) -> Result<(), Fault> {
        (**self).on_message(now, from, msg, out)
    }
    fn on_timer(&mut self, now: Millis, timer: TimerId, out: &mut Outbox<Self::Msg>) -> Result<(), Fault> {
        (**self).on_timer(now, timer, out)
    }
    fn observe(&self) -> Self::Obs {
        (**self).observe()
    }
    fn resources(&self) -> Resources {
        (**self).resources()
    }
}

/// A boxed [`announce`] node.
pub type AnnounceNode = Box<dyn Node<Msg = announce::Msg, Command = announce::Command, Obs = announce::Obs>>;
/// A boxed [`session_cache`] node.
pub type SessionCacheNode = Box<dyn Node<Msg = session_cache::Msg, Command = session_cache::Command, Obs = session_cache::Obs>>;
/// A boxed [`stream_setup`] node.
pub type StreamSetupNode = Box<dyn Node<Msg = stream_setup::Msg, Command = stream_setup::Command, Obs = stream_setup::Obs>>;

/// One implementation of the three network components (`p2p-port`, `p2p-model`): builds node
/// `id` of a network of `nodes` nodes with the component's configuration.
pub trait P2pImpl: Send + Sync {
    /// Short stable name used in divergence signatures (`port`, `model`).
    fn name(&self) -> &'static str;
    /// A NEAR announcement-routing node.
    fn announce_node(&self, id: NodeId, nodes: u8, config: &announce::Config) -> AnnounceNode;
    /// A Spacemesh session-cache node.
    fn session_cache_node(&self, id: NodeId, nodes: u8, config: &session_cache::Config) -> SessionCacheNode;
    /// A Harmony stream-setup node.
    fn stream_setup_node(&self, id: NodeId, nodes: u8, config: &stream_setup::Config) -> StreamSetupNode;
}

/// What a component's protocol promises, checked by the oracles of the differential runner
/// (`differential/oracle/src/p2p/`). Written from the protocol's intent and the incident reports, never
/// from either implementation; implemented by each component's schedule type.
pub trait Properties: schedule::Component {
    /// The component's observation type (the nodes' `Node::Obs`).
    type Obs: Clone + Debug + PartialEq;
    /// Most messages the whole network may send per external event (command, join, leave), or
    /// network fault the schedule injects (a message dropped or duplicated: each can provoke a
    /// retry or an answer; `sim::Stats::injected`), e.g. NEAR: O(nodes²) per announcement, never
    /// growing with time. The oracle checks it amortized: after every step and after the drain,
    /// messages sent so far ≤ bound × max(1, events so far).
    fn amplification_bound(nodes: u8, config: &Self::Config) -> u64;
    /// The exact budget of the run so far, from the events the simulation counted (`stats`:
    /// commands, joins and the commands before each, leaves, drops and duplicates) and the
    /// virtual time `now`. Each component derives its own from the protocol
    /// (docs/network-oracles.md); the default is [`Self::amplification_bound`] per event
    /// (external or injected, at least one) with no byte limit.
    fn budget(nodes: u8, config: &Self::Config, stats: &sim::Stats, now: Millis) -> Budget {
        let _ = now;
        let events = stats.external_events.saturating_add(stats.injected).max(1);
        Budget { messages: Self::amplification_bound(nodes, config).saturating_mul(events), bytes: u64::MAX }
    }
    /// Most bytes one node may retain ([`Resources::retained_bytes`]) at any time: its tables at
    /// capacity. Default: 1 KiB per node of the network.
    fn retained_bound(nodes: u8, config: &Self::Config) -> usize {
        let _ = config;
        usize::from(nodes).saturating_mul(1024)
    }
    /// Budget of the drain after the schedule: `(deliveries and timer firings, virtual ms)`.
    fn drain_budget(nodes: u8, config: &Self::Config) -> (usize, Millis);
    /// After the drain: do the live nodes agree (e.g. identical routing tables)?
    ///
    /// # Errors
    /// What disagrees, in one line (it becomes the finding's verdict).
    fn check_converged(config: &Self::Config, obs: &[Option<Self::Obs>]) -> Result<(), String>;
    /// Most bytes one node needs once the network is quiet (nothing in flight, no timer due): the
    /// leak oracle names growth with the repetitions of a schedule only above it, so tables that
    /// fill towards their capacity as a repeated schedule runs longer are no leak. Default:
    /// [`Self::retained_bound`] (every table may be full when quiet).
    fn quiet_bound(nodes: u8, config: &Self::Config) -> usize {
        Self::retained_bound(nodes, config)
    }
    /// Whether two implementations' observations of one node disagree on what the protocol
    /// guarantees, and on what: `None` if they agree; `Some("")` if they differ anywhere (the
    /// runner then names the first differing field); `Some(name)` names the guarantee broken
    /// (`observation.<name>` in the signature). Default: the observations must be equal; a
    /// component whose protocol leaves a choice to the implementation (which entry to evict)
    /// compares only what every correct choice shares.
    fn disagreement(a: &Self::Obs, b: &Self::Obs) -> Option<&'static str> {
        (a != b).then_some("")
    }
    /// After the drain: liveness (e.g. two peers that both want a stream have one, setup
    /// attempts per virtual minute under the cooldown's bound). Default: nothing to check.
    ///
    /// # Errors
    /// What failed, in one line.
    fn check_liveness(config: &Self::Config, obs: &[Option<Self::Obs>], stats: &sim::Stats, now: Millis) -> Result<(), String> {
        let _ = (config, obs, stats, now);
        Ok(())
    }
    /// Shipped seeds: schedules of the protocol's normal behaviour, `(file name, schedule)`.
    fn seeds() -> Vec<(&'static str, schedule::Schedule<Self>)>
    where
        Self: Sized;
}
