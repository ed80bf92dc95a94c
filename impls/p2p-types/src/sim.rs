//! The deterministic discrete-event network (architecture.md §12.1): nodes, a queue of messages
//! in flight that the schedule delivers, drops, duplicates and reorders, virtual time and per-node
//! timers, and membership (join, leave, crash). A run is a pure function of the schedule.
//!
//! Shared by both implementations of a component, so it is never under test; the comparison runs
//! one [`Sim`] per implementation in lockstep, step by step.
//!
//! Bounds keep every execution cheap: at most [`Limits::max_in_flight`] messages queued and
//! [`Limits::max_timer_fires`] timer firings per `Advance`; reaching one stops the run with
//! [`Stop`] (the amplification and timer-storm oracles report it).

use crate::schedule::Step;
use crate::{Fault, Millis, Node, NodeId, Outbox, Resources, TimerId, Wire};
use std::collections::{BTreeMap, VecDeque};

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<M> {
    /// Sender.
    pub from: NodeId,
    /// Recipient.
    pub to: NodeId,
    /// Virtual time it was sent.
    pub sent_at: Millis,
    /// The message.
    pub msg: M,
}

/// Execution bounds of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Messages in flight at once; one more stops the run ([`Stop::InFlight`]).
    pub max_in_flight: usize,
    /// Timer firings within one `Advance` (or one drain); one more stops the run
    /// ([`Stop::TimerStorm`]).
    pub max_timer_fires: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_in_flight: 4096, max_timer_fires: 4096 }
    }
}

/// Why a run stopped before its schedule ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// More than [`Limits::max_in_flight`] messages were queued at once.
    InFlight(usize),
    /// More than [`Limits::max_timer_fires`] timers fired within one advance of time.
    TimerStorm(usize),
}

/// Counters of one run (all monotone).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages sent (queued), over the whole run.
    pub sent: u64,
    /// Messages delivered to a live node.
    pub delivered: u64,
    /// Messages dropped: by the schedule, or addressed to / sent by a node that left.
    pub dropped: u64,
    /// External events: commands to live nodes, joins and leaves.
    pub external_events: u64,
    /// Timer firings.
    pub timer_fires: u64,
    /// Messages sent per node (indexed by node id).
    pub sent_by: Vec<u64>,
    /// Network faults the schedule injected: messages it dropped (`Drop`) or duplicated
    /// (`Duplicate`). Each can provoke a reaction (a retry, an answer to the copy), so the
    /// amplification oracle budgets them like external events.
    pub injected: u64,
    /// Bytes sent ([`Wire::wire_bytes`] of every message sent), over the whole run.
    pub sent_bytes: u64,
    /// Commands delivered to a live node (part of `external_events`).
    pub commands: u64,
    /// Joins (part of `external_events`).
    pub joins: u64,
    /// Leaves (part of `external_events`).
    pub leaves: u64,
    /// Messages the schedule duplicated (part of `injected`; the rest are drops).
    pub duplicates: u64,
    /// The sum over joins of the commands delivered before each (the announcements a joiner
    /// may have missed and can still learn from messages in flight; docs/network-oracles.md).
    pub commands_before_joins: u64,
}

/// What one step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Messages sent during the step.
    pub sent: u64,
    /// Faults raised during the step, `(node, fault)`; each faulting node left the network.
    pub faults: Vec<(NodeId, Fault)>,
}

/// The simulated network of one implementation.
pub struct Sim<N: Node> {
    nodes: Vec<Option<N>>,
    make: Box<dyn Fn(NodeId) -> N + Send>,
    in_flight: VecDeque<Envelope<N::Msg>>,
    /// Pending timers: `(at, node, timer)`; the map `(node, timer) -> at` allows replacement.
    timers: BTreeMap<(Millis, NodeId, TimerId), ()>,
    timer_at: BTreeMap<(NodeId, TimerId), Millis>,
    now: Millis,
    limits: Limits,
    stats: Stats,
    stopped: Option<Stop>,
}

impl<N: Node> Sim<N> {
    /// A network of `nodes` nodes built by `make` (also used to restart a node that re-joins),
    /// all live and started at time 0 in id order.
    pub fn new(nodes: u8, limits: Limits, make: Box<dyn Fn(NodeId) -> N + Send>) -> (Self, StepReport) {
        let mut sim = Sim {
            nodes: (0..nodes).map(|id| Some(make(id))).collect(),
            make,
            in_flight: VecDeque::new(),
            timers: BTreeMap::new(),
            timer_at: BTreeMap::new(),
            now: 0,
            limits,
            stats: Stats { sent_by: vec![0; usize::from(nodes)], ..Stats::default() },
            stopped: None,
        };
        let mut report = StepReport::default();
        for id in 0..nodes {
            sim.with_node(id, &mut report, |n, now, out| n.on_start(now, out));
        }
        (sim, report)
    }

    /// Current virtual time.
    pub fn now(&self) -> Millis {
        self.now
    }
    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    /// Why the run stopped early, if it did (then further steps are no-ops).
    pub fn stopped(&self) -> Option<&Stop> {
        self.stopped.as_ref()
    }
    /// Messages in flight, in queue order.
    pub fn in_flight(&self) -> &VecDeque<Envelope<N::Msg>> {
        &self.in_flight
    }
    /// Number of pending timers.
    pub fn pending_timers(&self) -> usize {
        self.timers.len()
    }
    /// Whether node `id` is live.
    pub fn is_live(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(usize::from(id)), Some(Some(_)))
    }
    /// Every node's observation (`None` for a node that is not live), by id.
    pub fn observe(&self) -> Vec<Option<N::Obs>> {
        self.nodes.iter().map(|n| n.as_ref().map(Node::observe)).collect()
    }
    /// Every live node's resources, by id.
    pub fn resources(&self) -> Vec<(NodeId, Resources)> {
        self.nodes
            .iter()
            .zip(0u8..)
            .filter_map(|(n, id)| n.as_ref().map(|n| (id, n.resources())))
            .collect()
    }

    fn live_peers(&self, id: NodeId) -> Vec<NodeId> {
        self.nodes.iter().zip(0u8..).filter(|(n, p)| n.is_some() && *p != id).map(|(_, p)| p).collect()
    }

    /// Runs `f` on live node `id` with a fresh outbox, then queues its sends (canonical order)
    /// and timers; a fault takes the node out.
    fn with_node<F>(&mut self, id: NodeId, report: &mut StepReport, f: F)
    where
        F: FnOnce(&mut N, Millis, &mut Outbox<N::Msg>) -> Result<(), Fault>,
    {
        if self.stopped.is_some() {
            return;
        }
        let mut out = Outbox::new(self.live_peers(id));
        let now = self.now;
        let result = match self.nodes.get_mut(usize::from(id)) {
            Some(Some(node)) => f(node, now, &mut out),
            _ => return,
        };
        let mut sends = std::mem::take(&mut out.sends);
        sends.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let count = u64::try_from(sends.len()).unwrap_or(u64::MAX);
        let bytes = sends.iter().fold(0u64, |b, (_, m)| b.saturating_add(m.wire_bytes()));
        self.stats.sent = self.stats.sent.saturating_add(count);
        self.stats.sent_bytes = self.stats.sent_bytes.saturating_add(bytes);
        report.sent = report.sent.saturating_add(count);
        if let Some(s) = self.stats.sent_by.get_mut(usize::from(id)) {
            *s = s.saturating_add(count);
        }
        for (to, msg) in sends {
            self.in_flight.push_back(Envelope { from: id, to, sent_at: now, msg });
        }
        if self.in_flight.len() > self.limits.max_in_flight {
            self.stopped = Some(Stop::InFlight(self.in_flight.len()));
        }
        for (delay, timer) in out.timers {
            let at = now.saturating_add(delay);
            if let Some(old) = self.timer_at.insert((id, timer), at) {
                self.timers.remove(&(old, id, timer));
            }
            self.timers.insert((at, id, timer), ());
        }
        if let Err(fault) = result {
            report.faults.push((id, fault));
            self.remove(id, report);
        }
    }

    /// Takes node `id` out: drops its messages and timers, tells the others.
    fn remove(&mut self, id: NodeId, report: &mut StepReport) {
        if let Some(slot) = self.nodes.get_mut(usize::from(id)) {
            if slot.take().is_none() {
                return;
            }
        }
        let before = self.in_flight.len();
        self.in_flight.retain(|e| e.from != id && e.to != id);
        let gone = u64::try_from(before.saturating_sub(self.in_flight.len())).unwrap_or(u64::MAX);
        self.stats.dropped = self.stats.dropped.saturating_add(gone);
        self.timers.retain(|(_, n, _), ()| *n != id);
        self.timer_at.retain(|(n, _), _| *n != id);
        for peer in self.live_peers(id) {
            self.with_node(peer, report, |n, now, out| n.on_peer_left(now, id, out));
        }
    }

    fn pick(&self, index: u8) -> Option<usize> {
        usize::from(index).checked_rem(self.in_flight.len())
    }

    /// Delivers the in-flight message at queue position `pos`.
    fn deliver_at(&mut self, pos: usize, report: &mut StepReport) {
        let Some(env) = self.in_flight.remove(pos) else { return };
        if !self.is_live(env.to) {
            self.stats.dropped = self.stats.dropped.saturating_add(1);
            return;
        }
        self.stats.delivered = self.stats.delivered.saturating_add(1);
        self.with_node(env.to, report, |n, now, out| n.on_message(now, env.from, &env.msg, out));
    }

    /// Fires every timer due at or before `until`, in time order, then sets the clock to
    /// `until`. Stops the run after [`Limits::max_timer_fires`] firings.
    fn advance_to(&mut self, until: Millis, report: &mut StepReport) {
        let mut fired = 0usize;
        while self.stopped.is_none() && self.fire_next_due(until, &mut fired, report) {}
        if !matches!(self.stopped, Some(Stop::TimerStorm(_))) {
            self.now = self.now.max(until);
        }
    }

    /// Fires the earliest pending timer if it is due at or before `until` (the clock moves to
    /// it), counting it in `fired`; one firing more than [`Limits::max_timer_fires`] stops the
    /// run instead ([`Stop::TimerStorm`]). Returns whether a timer fired.
    fn fire_next_due(&mut self, until: Millis, fired: &mut usize, report: &mut StepReport) -> bool {
        let Some((&(at, node, timer), ())) = self.timers.iter().next() else { return false };
        if at > until {
            return false;
        }
        self.timers.remove(&(at, node, timer));
        self.timer_at.remove(&(node, timer));
        self.now = self.now.max(at);
        *fired = fired.saturating_add(1);
        self.stats.timer_fires = self.stats.timer_fires.saturating_add(1);
        if *fired > self.limits.max_timer_fires {
            self.stopped = Some(Stop::TimerStorm(*fired));
            return false;
        }
        self.with_node(node, report, |n, now, out| n.on_timer(now, timer, out));
        true
    }

    /// Applies one schedule step.
    pub fn step(&mut self, step: &Step<N::Command>) -> StepReport {
        let mut report = StepReport::default();
        if self.stopped.is_some() {
            return report;
        }
        match step {
            Step::Command { node, command } => {
                if self.is_live(*node) {
                    self.stats.external_events = self.stats.external_events.saturating_add(1);
                    self.stats.commands = self.stats.commands.saturating_add(1);
                    self.with_node(*node, &mut report, |n, now, out| n.on_command(now, command, out));
                }
            }
            Step::Deliver(i) => {
                if let Some(pos) = self.pick(*i) {
                    self.deliver_at(pos, &mut report);
                }
            }
            Step::Drop(i) => {
                if let Some(pos) = self.pick(*i) {
                    if self.in_flight.remove(pos).is_some() {
                        self.stats.dropped = self.stats.dropped.saturating_add(1);
                        self.stats.injected = self.stats.injected.saturating_add(1);
                    }
                }
            }
            Step::Duplicate(i) => {
                if let Some(env) = self.pick(*i).and_then(|pos| self.in_flight.get(pos)).cloned() {
                    self.in_flight.push_back(env);
                    self.stats.injected = self.stats.injected.saturating_add(1);
                    self.stats.duplicates = self.stats.duplicates.saturating_add(1);
                    if self.in_flight.len() > self.limits.max_in_flight {
                        self.stopped = Some(Stop::InFlight(self.in_flight.len()));
                    }
                }
            }
            Step::Delay(i) => {
                if let Some(env) = self.pick(*i).and_then(|pos| self.in_flight.remove(pos)) {
                    self.in_flight.push_back(env);
                }
            }
            Step::Advance(ms) => {
                let until = self.now.saturating_add(*ms);
                self.advance_to(until, &mut report);
            }
            Step::Join(id) => {
                if !self.is_live(*id) && usize::from(*id) < self.nodes.len() {
                    self.stats.external_events = self.stats.external_events.saturating_add(1);
                    self.stats.joins = self.stats.joins.saturating_add(1);
                    self.stats.commands_before_joins = self.stats.commands_before_joins.saturating_add(self.stats.commands);
                    let fresh = (self.make)(*id);
                    if let Some(slot) = self.nodes.get_mut(usize::from(*id)) {
                        *slot = Some(fresh);
                    }
                    self.with_node(*id, &mut report, |n, now, out| n.on_start(now, out));
                    // A node whose start faulted is already out again (its peers were told it
                    // left): they must not learn that it joined.
                    let peers = if self.is_live(*id) { self.live_peers(*id) } else { Vec::new() };
                    for peer in peers {
                        self.with_node(peer, &mut report, |n, now, out| n.on_peer_joined(now, *id, out));
                    }
                }
            }
            Step::Leave(id) => {
                if self.is_live(*id) {
                    self.stats.external_events = self.stats.external_events.saturating_add(1);
                    self.stats.leaves = self.stats.leaves.saturating_add(1);
                    self.remove(*id, &mut report);
                }
            }
        }
        report
    }

    /// After the schedule: delivers every message in flight (front first) and fires timers in
    /// time order, one event at a time, up to `max_events` deliveries and firings together and
    /// `horizon` ms of virtual time. More than [`Limits::max_timer_fires`] firings within the
    /// drain stop the run ([`Stop::TimerStorm`]), so a timer that re-arms itself with no delay
    /// cannot loop. Returns the report and whether the network went quiet (nothing in flight and
    /// no timer due within the horizon, and the run not stopped).
    pub fn drain(&mut self, max_events: usize, horizon: Millis) -> (StepReport, bool) {
        let mut report = StepReport::default();
        let end = self.now.saturating_add(horizon);
        let mut events = 0usize;
        let mut fired = 0usize;
        while self.stopped.is_none() && events < max_events {
            events = events.saturating_add(1);
            if !self.in_flight.is_empty() {
                self.deliver_at(0, &mut report);
                continue;
            }
            if !self.fire_next_due(end, &mut fired, &mut report) {
                break;
            }
        }
        let quiet = self.in_flight.is_empty() && self.timers.keys().next().is_none_or(|&(at, _, _)| at > end);
        (report, quiet && self.stopped.is_none())
    }
}
