//! The fuzz input of the network targets: a schedule (architecture.md §12.2).
//!
//! Layout: `[nodes: u8][config: Component::CONFIG_BYTES bytes][step]*`, where
//! - the node count is `MIN_NODES + nodes % (MAX_NODES - MIN_NODES + 1)` (per component);
//! - each step is an opcode byte (taken modulo [`OPCODES`]) and its arguments:
//!
//! | op | step                      | arguments                                  |
//! |----|---------------------------|--------------------------------------------|
//! | 0  | [`Step::Command`]         | node: u8 (mod nodes), the command's bytes  |
//! | 1  | [`Step::Deliver`]         | index: u8 (mod in-flight count)            |
//! | 2  | [`Step::Drop`]            | index: u8                                  |
//! | 3  | [`Step::Duplicate`]       | index: u8                                  |
//! | 4  | [`Step::Delay`]           | index: u8 (the message moves to the back)  |
//! | 5  | [`Step::Advance`]         | ms: u16 LE                                 |
//! | 6  | [`Step::Join`]            | node: u8                                   |
//! | 7  | [`Step::Leave`]           | node: u8                                   |
//!
//! Every byte string decodes (a truncated last step is dropped; at most [`MAX_STEPS`] steps), so
//! no execution is wasted on an undecodable input, and [`encode`] is the exact inverse for the
//! steps it writes (seeds and regressions are written with it).

use crate::{Millis, NodeId};

/// Largest network a schedule can describe.
pub const MAX_NODES: u8 = 16;
/// Steps beyond this many are ignored (bounds an execution's cost).
pub const MAX_STEPS: usize = 512;
/// Number of step opcodes.
pub const OPCODES: u8 = 8;

/// A byte cursor over an input; every read is total (`None` at the end).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }
    /// The next byte.
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }
    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> Option<u16> {
        let lo = self.u8()?;
        let hi = self.u8()?;
        Some(u16::from_le_bytes([lo, hi]))
    }
    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A component's part of the input encoding: its configuration and its commands.
pub trait Component {
    /// The component's external command type.
    type Command: Clone + std::fmt::Debug;
    /// The component's configuration (capacities, thresholds, timeouts).
    type Config: Clone + std::fmt::Debug + PartialEq;
    /// Smallest network.
    const MIN_NODES: u8;
    /// Largest network (at most [`MAX_NODES`]).
    const MAX_NODES: u8;
    /// Name used in targets and signatures (`p2p_announce`, ...).
    const NAME: &'static str;
    /// Decodes the configuration (total: every byte string gives one, defaults when short).
    fn decode_config(r: &mut Reader<'_>) -> Self::Config;
    /// Encodes a configuration ([`Self::decode_config`]'s inverse).
    fn encode_config(config: &Self::Config, out: &mut Vec<u8>);
    /// Decodes one command (`None` if the input ends first). Values are reduced into range here
    /// (e.g. modulo the node count), never rejected.
    fn decode_command(r: &mut Reader<'_>, nodes: u8) -> Option<Self::Command>;
    /// Encodes a command ([`Self::decode_command`]'s inverse for in-range values).
    fn encode_command(command: &Self::Command, out: &mut Vec<u8>);
    /// The configuration's timeouts and cooldowns, ms: the schedule mutations jump time to
    /// these ±1 (`differential/src/fuzz/schedule.rs`). Default: none known (the mutator then
    /// guesses from the encoded configuration's bytes).
    fn timeouts(config: &Self::Config) -> Vec<Millis> {
        let _ = config;
        Vec::new()
    }
}

/// One step of a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<C> {
    /// An external command to a node (ignored if the node is not live).
    Command {
        /// The node.
        node: NodeId,
        /// The command.
        command: C,
    },
    /// Deliver the in-flight message at this index (modulo the count; no-op when none).
    Deliver(u8),
    /// Lose the in-flight message at this index.
    Drop(u8),
    /// Copy the in-flight message at this index to the back of the queue.
    Duplicate(u8),
    /// Move the in-flight message at this index to the back of the queue (reordering).
    Delay(u8),
    /// Advance virtual time by this many ms, firing due timers in time order.
    Advance(Millis),
    /// A node (re)joins: it restarts with empty state and every live node learns of it.
    Join(NodeId),
    /// A node leaves: its in-flight messages are dropped and every live node learns of it.
    Leave(NodeId),
}

/// A decoded schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule<C: Component> {
    /// Number of nodes, `C::MIN_NODES..=C::MAX_NODES`.
    pub nodes: u8,
    /// The configuration.
    pub config: C::Config,
    /// The steps, at most [`MAX_STEPS`].
    pub steps: Vec<Step<C::Command>>,
}

fn node_count<C: Component>(b: u8) -> u8 {
    let span = C::MAX_NODES.saturating_sub(C::MIN_NODES).saturating_add(1);
    C::MIN_NODES.saturating_add(b.checked_rem(span).unwrap_or(0))
}

/// Decodes `data` (total: every byte string is a schedule).
pub fn decode<C: Component>(data: &[u8]) -> Schedule<C> {
    let mut r = Reader::new(data);
    let nodes = node_count::<C>(r.u8().unwrap_or(0));
    let config = C::decode_config(&mut r);
    let mut steps = Vec::new();
    while steps.len() < MAX_STEPS {
        let Some(op) = r.u8() else { break };
        let step = match op.checked_rem(OPCODES).unwrap_or(0) {
            0 => {
                let Some(node) = r.u8() else { break };
                let Some(command) = C::decode_command(&mut r, nodes) else { break };
                Step::Command { node: node.checked_rem(nodes).unwrap_or(0), command }
            }
            1 => match r.u8() { Some(i) => Step::Deliver(i), None => break },
            2 => match r.u8() { Some(i) => Step::Drop(i), None => break },
            3 => match r.u8() { Some(i) => Step::Duplicate(i), None => break },
            4 => match r.u8() { Some(i) => Step::Delay(i), None => break },
            5 => match r.u16() { Some(ms) => Step::Advance(Millis::from(ms)), None => break },
            6 => match r.u8() { Some(n) => Step::Join(n.checked_rem(nodes).unwrap_or(0)), None => break },
            _ => match r.u8() { Some(n) => Step::Leave(n.checked_rem(nodes).unwrap_or(0)), None => break },
        };
        steps.push(step);
    }
    Schedule { nodes, config, steps }
}

/// Encodes a schedule ([`decode`]'s inverse for in-range values; `Advance` above 65,535 ms is
/// written as several steps).
pub fn encode<C: Component>(schedule: &Schedule<C>) -> Vec<u8> {
    let mut out = vec![schedule.nodes.saturating_sub(C::MIN_NODES)];
    C::encode_config(&schedule.config, &mut out);
    for step in &schedule.steps {
        match step {
            Step::Command { node, command } => {
                out.extend([0, *node]);
                C::encode_command(command, &mut out);
            }
            Step::Deliver(i) => out.extend([1, *i]),
            Step::Drop(i) => out.extend([2, *i]),
            Step::Duplicate(i) => out.extend([3, *i]),
            Step::Delay(i) => out.extend([4, *i]),
            Step::Advance(ms) => {
                let mut left = *ms;
                loop {
                    let chunk = u16::try_from(left).unwrap_or(u16::MAX);
                    out.push(5);
                    out.extend(chunk.to_le_bytes());
                    left = left.saturating_sub(Millis::from(chunk));
                    if left == 0 {
                        break;
                    }
                }
            }
            Step::Join(n) => out.extend([6, *n]),
            Step::Leave(n) => out.extend([7, *n]),
        }
    }
    out
}
