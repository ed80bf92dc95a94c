//! PLACEHOLDER: an idle node, replaced by the component's owner.

use p2p_types::session_cache::{Command, Config, Msg, Obs};
use p2p_types::{Fault, Millis, NodeId, Outbox, Resources, TimerId};

/// A node (placeholder: ignores everything).
#[derive(Debug)]
pub struct Node {
    id: NodeId,
}

impl Node {
    /// Node `id` of `nodes`.
    pub fn new(id: NodeId, _nodes: u8, _config: &Config) -> Self {
        Node { id }
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
    fn on_command(&mut self, _now: Millis, _command: &Command, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn on_message(&mut self, _now: Millis, _from: NodeId, _msg: &Msg, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn on_timer(&mut self, _now: Millis, _timer: TimerId, _out: &mut Outbox<Msg>) -> Result<(), Fault> {
        Ok(())
    }
    fn observe(&self) -> Obs {
        Obs { peers: vec![self.id] }
    }
    fn resources(&self) -> Resources {
        Resources::default()
    }
}
