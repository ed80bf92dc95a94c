//! A tiny toy protocol for testing the simulation and the oracles without the real components
//! (architecture.md §12.5): every node holds a value, a command sets it, a node that hears a
//! larger value adopts it and passes it on, so the network converges to the maximum. Flags of the
//! configuration switch on misbehaviour, one per oracle of the differential runner, so each
//! oracle has an input that trips it and a near miss that does not; [`Quirk`] makes a second,
//! deliberately different implementation for the disagreement checks.
//!
//! Not a protocol under test: it exists only so that `p2p-types` and `differential/oracle/src/p2p/` can
//! be tested on their own.

use crate::schedule::{Component, Reader, Schedule, Step};
use crate::{sim, Fault, Millis, NodeId, Outbox, Properties, Resources, TimerId};

/// Rebroadcast every received value, changed or not (an amplification storm).
pub const STORM: u8 = 1;
/// `Set(CRASH_VALUE)` makes the node fault ([`Fault::Crash`]).
pub const CRASH: u8 = 1 << 1;
/// A timer that re-arms itself with no delay (a timer storm at the first `Advance`).
pub const TIMER_LOOP: u8 = 1 << 2;
/// Every node re-arms a timer every `period` ms, for ever (never quiet, sends nothing).
pub const PERIODIC: u8 = 1 << 3;
/// Every received message is retained in the table `seen` of capacity `capacity` (a leak).
pub const LEAK: u8 = 1 << 4;
/// Node 0 never adopts a value it hears (the network does not converge).
pub const STUBBORN: u8 = 1 << 5;
/// A `Set` starts a burst of `capacity` timer firings 1 ms apart (setup attempts per minute).
pub const BURST: u8 = 1 << 6;

/// The value whose `Set` crashes a node under [`CRASH`].
pub const CRASH_VALUE: u8 = 255;

/// The toy's configuration: misbehaviour flags, a capacity and a period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Bit set of [`STORM`], [`CRASH`], [`TIMER_LOOP`], [`PERIODIC`], [`LEAK`], [`STUBBORN`], [`BURST`].
    pub flags: u8,
    /// Capacity of the `seen` table ([`LEAK`]) and length of a burst ([`BURST`]).
    pub capacity: u8,
    /// Period of [`PERIODIC`]'s ticks, ms (0 is read as 1).
    pub period: u16,
}

/// A command: set the node's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Set the value and tell the peers.
    Set(u8),
}

/// A message.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Msg {
    /// The sender's value.
    Value(u8),
}

/// `Value(v)`: tag and value, 2 bytes.
impl crate::Wire for Msg {
    fn wire_bytes(&self) -> u64 {
        2
    }
}

/// What a node shows: its value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obs {
    /// The node's value.
    pub value: u8,
}

/// The toy's schedule type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Toy;

impl Component for Toy {
    type Command = Command;
    type Config = Config;
    const MIN_NODES: u8 = 2;
    const MAX_NODES: u8 = 8;
    const NAME: &'static str = "p2p_toy";
    fn decode_config(r: &mut Reader<'_>) -> Config {
        Config { flags: r.u8().unwrap_or(0), capacity: r.u8().unwrap_or(0), period: r.u16().unwrap_or(0) }
    }
    fn encode_config(config: &Config, out: &mut Vec<u8>) {
        out.push(config.flags);
        out.push(config.capacity);
        out.extend(config.period.to_le_bytes());
    }
    fn decode_command(r: &mut Reader<'_>, _nodes: u8) -> Option<Command> {
        r.u8().map(Command::Set)
    }
    fn encode_command(command: &Command, out: &mut Vec<u8>) {
        match command {
            Command::Set(v) => out.push(*v),
        }
    }
}

impl Properties for Toy {
    type Obs = Obs;
    /// `nodes²` messages per external event (a flood through every link).
    fn amplification_bound(nodes: u8, _config: &Config) -> u64 {
        u64::from(nodes).saturating_mul(u64::from(nodes))
    }
    fn drain_budget(_nodes: u8, _config: &Config) -> (usize, Millis) {
        (2_000, 10_000)
    }
    /// A quiet toy node needs its value only: nothing retained.
    fn quiet_bound(_nodes: u8, _config: &Config) -> usize {
        0
    }
    fn check_converged(_config: &Config, obs: &[Option<Obs>]) -> Result<(), String> {
        let mut live = obs.iter().zip(0u8..).filter_map(|(o, id)| o.as_ref().map(|o| (id, o.value)));
        let Some((first, value)) = live.next() else { return Ok(()) };
        match live.find(|(_, v)| *v != value) {
            Some((id, v)) => Err(format!("node {first} holds {value}, node {id} holds {v}")),
            None => Ok(()),
        }
    }
    /// At most one timer firing per node per virtual second (at least a minute's worth).
    fn check_liveness(_config: &Config, obs: &[Option<Obs>], stats: &sim::Stats, now: Millis) -> Result<(), String> {
        let nodes = u64::try_from(obs.len()).unwrap_or(u64::MAX);
        let bound = nodes.saturating_mul(60).saturating_mul((now / 60_000).max(1));
        if stats.timer_fires > bound {
            return Err(format!("{} timer firings in {now} ms, bound {bound}", stats.timer_fires));
        }
        Ok(())
    }
    fn seeds() -> Vec<(&'static str, Schedule<Self>)> {
        let set = |node, v| Step::Command { node, command: Command::Set(v) };
        vec![
            ("toy-two-values", Schedule { nodes: 3, config: Config::default(), steps: vec![set(0, 3), set(1, 5), Step::Deliver(0), Step::Deliver(0)] }),
            ("toy-join", Schedule { nodes: 4, config: Config::default(), steps: vec![Step::Leave(2), set(0, 7), Step::Advance(100), Step::Join(2)] }),
        ]
    }
}

/// A deliberate difference of the second implementation, for disagreement tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quirk {
    /// Behaves as described above.
    #[default]
    None,
    /// Adopts a heard value but does not pass it on (sends fewer messages).
    Quiet,
    /// Shows `value + 1` for values above 100 (a different observation).
    OffByOne,
}

/// A toy node.
#[derive(Clone, Debug)]
pub struct ToyNode {
    id: NodeId,
    config: Config,
    quirk: Quirk,
    value: u8,
    seen: Vec<u8>,
    burst_left: u8,
}

const TIMER_LOOP_ID: TimerId = 1;
const TICK: TimerId = 2;
const BURST_ID: TimerId = 3;

impl ToyNode {
    /// Node `id` with `config`, behaving per `quirk`.
    pub fn new(id: NodeId, config: &Config, quirk: Quirk) -> Self {
        ToyNode { id, config: config.clone(), quirk, value: 0, seen: Vec::new(), burst_left: 0 }
    }
    fn flag(&self, f: u8) -> bool {
        self.config.flags & f != 0
    }
    fn period(&self) -> Millis {
        Millis::from(self.config.period.max(1))
    }
}

impl crate::Node for ToyNode {
    type Msg = Msg;
    type Command = Command;
    type Obs = Obs;
    fn on_start(&mut self, _now: Millis, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        if self.flag(PERIODIC) {
            out.set_timer(self.period(), TICK);
        }
        Ok(())
    }
    fn on_peer_joined(&mut self, _now: Millis, peer: NodeId, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        if self.value > 0 {
            out.send(peer, Msg::Value(self.value));
        }
        Ok(())
    }
    fn on_peer_left(&mut self, _now: Millis, _peer: NodeId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn on_command(&mut self, _now: Millis, command: &Command, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        let Command::Set(v) = command;
        if self.flag(CRASH) && *v == CRASH_VALUE {
            return Err(Fault::Crash(format!("toy node {} told to crash", self.id)));
        }
        if self.flag(TIMER_LOOP) {
            out.set_timer(0, TIMER_LOOP_ID);
        }
        if self.flag(BURST) && self.config.capacity > 0 {
            self.burst_left = self.config.capacity;
            out.set_timer(1, BURST_ID);
        }
        self.value = *v;
        out.broadcast(&Msg::Value(*v));
        Ok(())
    }
    fn on_message(&mut self, _now: Millis, from: NodeId, msg: &Msg, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        if self.flag(LEAK) {
            let Msg::Value(v) = msg;
            self.seen.push(*v);
        }
        let Msg::Value(v) = msg;
        let adopt = *v > self.value && !(self.flag(STUBBORN) && self.id == 0);
        if adopt {
            self.value = *v;
        }
        if (adopt && self.quirk != Quirk::Quiet) || self.flag(STORM) {
            out.broadcast_except(from, &Msg::Value(self.value));
        }
        Ok(())
    }
    fn on_timer(&mut self, _now: Millis, timer: TimerId, out: &mut Outbox<Msg>) -> Result<(), Fault> {
        match timer {
            TIMER_LOOP_ID => out.set_timer(0, TIMER_LOOP_ID),
            TICK => out.set_timer(self.period(), TICK),
            _ => {
                self.burst_left = self.burst_left.saturating_sub(1);
                if self.burst_left > 0 {
                    out.set_timer(1, BURST_ID);
                }
            }
        }
        Ok(())
    }
    fn observe(&self) -> Obs {
        let shown = if self.quirk == Quirk::OffByOne && self.value > 100 { self.value.saturating_add(1) } else { self.value };
        Obs { value: shown }
    }
    fn resources(&self) -> Resources {
        let capacity = if self.flag(LEAK) { Some(usize::from(self.config.capacity)) } else { None };
        Resources { tables: vec![("seen", self.seen.len(), capacity)], retained_bytes: self.seen.len() }
    }
}
