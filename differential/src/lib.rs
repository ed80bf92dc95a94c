//! Diverge's differential runner: the registry of implementations, the spec-vector runner, and
//! structural state comparison. The `diverge` binary is a thin CLI over this library.

// The oracle's modules, re-exported so that `diverge::target`, `diverge::runner`, ... (and
// `crate::...` inside this crate) keep naming them.
pub use diverge_oracle::{allowlist, bugs, diff, dkg, hooks, p2p, panics, policy, record, registry, runner, ssz_types, target};
#[cfg(feature = "fault-injection")]
pub use diverge_oracle::faults;
/// The git commit this build is from (`build.rs`: `$DIVERGE_GIT_COMMIT`, else `git rev-parse
/// HEAD`, else `unknown`), in `diverge --version` and every `finding.json`.
pub const BUILD_COMMIT: &str = env!("DIVERGE_GIT_COMMIT");
pub mod vectors;
pub mod findings;
pub mod pool;
pub mod session;
pub mod voter;
pub mod corpus;
pub mod replay;
pub mod fuzz;
pub mod harness;
pub mod supervisor;
pub mod farm;
pub mod report;
pub mod metrics;
