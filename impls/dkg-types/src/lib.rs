//! Shared types of Diverge's drand v2 DKG implementations: packets, terms, participants,
//! statuses, stored node state, errors (drand's names), the signed-bytes encoding
//! (`messageForSigning`), a BLS wrapper (blst, drand's DSTs), the state pool and the fuzz-input
//! encoding. Mirrors drand at f45e7e04 (`internal/dkg/*.go`, `protobuf/dkg/*.proto`). Never logic
//! under test: the state machine lives in `dkg-drand` and `dkg-spec`.

pub mod bls;
pub mod error;
pub mod input;
pub mod model;
pub mod pool;
pub mod signing;
pub mod time;

pub use bls::BlsMode;
pub use error::DkgError;
pub use model::*;
pub use time::{GoTime, Timestamp};

/// The result of one step: the whole node after it, or the rejection (the node is then unchanged).
pub type StepResult = Result<NodeState, DkgError>;

/// One implementation of drand's DKG packet validation.
pub trait DkgImpl: Send + Sync {
    /// Short stable name used in divergence signatures (`drand`, `spec`).
    fn name(&self) -> &'static str;
    /// `Process.Packet`: the receive pipeline for one gossip packet at time `now`.
    ///
    /// # Errors
    /// The first failing check, as a [`DkgError`]; the node is then unchanged.
    fn packet(&self, node: &NodeState, packet: &GossipPacket, now: GoTime, mode: BlsMode) -> StepResult;
    /// `Process.Command` (or the execution outcome for `Complete`/`Failed`) at time `now`.
    ///
    /// # Errors
    /// The first failing check, as a [`DkgError`]; the node is then unchanged.
    fn command(&self, node: &NodeState, command: &Command, now: GoTime, mode: BlsMode) -> StepResult;
}
