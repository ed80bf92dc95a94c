//! Ports of the upstream components (see each module for the repository, commit, file and line mirrored).
//!
//! - [`announce`]: NEAR account-announcement routing;
//! - [`session_cache`]: Spacemesh's session cache;
//! - [`stream_setup`]: Harmony's stream setup and discovery.

pub mod announce;
pub mod session_cache;
pub mod stream_setup;

use p2p_types::{announce as a, session_cache as s, stream_setup as t, AnnounceNode, NodeId, P2pImpl, SessionCacheNode, StreamSetupNode};

/// The `port` implementation of the three components.
#[derive(Clone, Copy, Debug, Default)]
pub struct Port;

impl P2pImpl for Port {
    fn name(&self) -> &'static str {
        "port"
    }
    fn announce_node(&self, id: NodeId, nodes: u8, config: &a::Config) -> AnnounceNode {
        Box::new(announce::Node::new(id, nodes, config))
    }
    fn session_cache_node(&self, id: NodeId, nodes: u8, config: &s::Config) -> SessionCacheNode {
        Box::new(session_cache::Node::new(id, nodes, config))
    }
    fn stream_setup_node(&self, id: NodeId, nodes: u8, config: &t::Config) -> StreamSetupNode {
        Box::new(stream_setup::Node::new(id, nodes, config))
    }
}
