//! Voters that are not linked in (architecture.md §3.1): a production client or the executable spec
//! in another process, or any voter that knows the input only as bytes and a pool state id.
//!
//! The in-process phase0 implementations ([`crate::registry`]) vote through
//! [`crate::runner::PreparedImpl`]: a typed post-state, compared field by field with a pointer
//! compare of unchanged fields. An [`ExternalVoter`] answers with a [`Vote`]: a post-state
//! *commitment* (its `hash_tree_root`), a rejection with or without a reason of the taxonomy, a
//! crash, a timeout, or an abstention; and, on request, the post-state's SSZ bytes, so that a
//! divergence still names the first differing field. The runner ([`crate::runner::Runner`]) asks
//! every external voter after the in-process ones and compares all N verdicts the same way; an
//! abstention is recorded and never counts as agreement or divergence.
//!
//! How an external voter reaches its implementation (a worker process, a socket) is the engine's
//! business: this module has no processes (the `diverge` crate's `voter::ProcessVoter` speaks to a
//! persistent worker over stdin/stdout).

use crate::target::Target;
use diverge_types::{BlsMode, Reject, Root};

/// One external voter's answer to one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Vote {
    /// Accepted; the post-state's `hash_tree_root`.
    Valid {
        /// `hash_tree_root(post_state)`.
        root: Root,
    },
    /// Rejected. `reason` is the taxonomy's name when the voter's error maps to one exactly (then
    /// it is compared like an in-process rejection); `None` compares at outcome level (any typed
    /// rejection but `Internal` agrees with it). `message` is the voter's own text, recorded.
    Invalid {
        /// The reason, when the mapping is exact.
        reason: Option<Reject>,
        /// The voter's message.
        message: String,
    },
    /// The voter failed on the input in a way that is not a rejection (an uncaught exception, a
    /// worker that died): a finding, like any crash.
    Crash(String),
    /// No answer within the time limit (the worker is killed and restarted).
    Timeout,
    /// No vote: the operation is not implemented by this voter, or the voter is unavailable (its
    /// runtime is not installed, its worker does not start). Recorded with the reason; never
    /// agreement, never divergence.
    Abstain(String),
}

/// A voter that sees the input as bytes and the pool state by id.
pub trait ExternalVoter: Send + Sync {
    /// Name used in tables and signatures (registry order follows the in-process voters).
    fn name(&self) -> &'static str;
    /// Version recorded in findings (the worker's, once it said hello; else what is configured).
    fn version(&self) -> &'static str;
    /// Runs `data`, an input of `target` whose selector picked pool state `state_id`.
    fn vote(&self, target: Target, state_id: usize, data: &[u8], bls: BlsMode) -> Vote;
    /// The SSZ bytes of the post-state of the last [`ExternalVoter::vote`] that answered
    /// [`Vote::Valid`], when the voter can give them (the runner asks only when a root differs).
    fn post_state(&self) -> Option<Vec<u8>>;
}
