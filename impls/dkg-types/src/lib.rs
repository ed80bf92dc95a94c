//! Shared types of Diverge's drand v2 DKG implementations: packets, terms, participants,
//! statuses, stored node state, errors (drand's names), the signed-bytes encoding
//! (`messageForSigning`), BLS plumbing (drand's scheme table and DSTs, the PoP message, test keys
//! and signing; decoding and verifying keys and signatures is logic under test and lives in each
//! implementation), the state pool and the fuzz-input
//! encoding. Mirrors drand at f45e7e04 (`internal/dkg/*.go`, `protobuf/dkg/*.proto`). Never logic
//! under test: the state machine lives in `dkg-drand` and `dkg-spec`.

pub mod bls;
pub mod error;
pub mod input;
pub mod model;
pub mod pool;
pub mod scenarios;
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

/// Runs resolved steps through one implementation from `node`: a rejected step leaves the node
/// as it was (as the store does). Returns the final node and each step's outcome.
pub fn run_steps<I: DkgImpl + ?Sized>(imp: &I, node: &NodeState, steps: &[input::ResolvedStep], mode: BlsMode) -> (NodeState, Vec<Result<(), DkgError>>) {
    let mut cur = node.clone();
    let mut outcomes = Vec::with_capacity(steps.len());
    for s in steps {
        let r = match s {
            input::ResolvedStep::Packet(p, now) => imp.packet(&cur, p, *now, mode),
            input::ResolvedStep::Command(c, now) => imp.command(&cur, c, *now, mode),
        };
        match r {
            Ok(n) => {
                cur = n;
                outcomes.push(Ok(()));
            }
            Err(e) => outcomes.push(Err(e)),
        }
    }
    (cur, outcomes)
}
