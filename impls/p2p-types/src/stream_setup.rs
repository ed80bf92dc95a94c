//! Wire types of the `p2p_stream_setup` component. PLACEHOLDER shapes: the component's owner replaces the
//! command, message, observation and configuration types with the ones the upstream protocol
//! needs (keeping the [`Component`] contract: total decoding, encode as its inverse).

use crate::schedule::{Component, Reader};
use crate::NodeId;

/// The component's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// A tunable parameter (placeholder).
    pub param: u8,
}

/// An external command to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Placeholder.
    Poke(u8),
}

/// A message on the wire.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Msg {
    /// Placeholder.
    Ping(u8),
}

/// A node's observable state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obs {
    /// Placeholder.
    pub peers: Vec<NodeId>,
}

/// The `p2p_stream_setup` schedule encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamSetup;

impl Component for StreamSetup {
    type Command = Command;
    type Config = Config;
    const MIN_NODES: u8 = 2;
    const MAX_NODES: u8 = 8;
    const NAME: &'static str = "p2p_stream_setup";
    fn decode_config(r: &mut Reader<'_>) -> Config {
        Config { param: r.u8().unwrap_or(0) }
    }
    fn encode_config(config: &Config, out: &mut Vec<u8>) {
        out.push(config.param);
    }
    fn decode_command(r: &mut Reader<'_>, _nodes: u8) -> Option<Command> {
        r.u8().map(Command::Poke)
    }
    fn encode_command(command: &Command, out: &mut Vec<u8>) {
        match command {
            Command::Poke(b) => out.push(*b),
        }
    }
}
