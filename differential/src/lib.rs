//! Diverge's differential runner: the registry of implementations, the spec-vector runner, and
//! structural state comparison. The `diverge` binary is a thin CLI over this library.

pub mod diff;
pub mod registry;
pub mod vectors;
pub mod allowlist;
pub mod findings;
pub mod pool;
pub mod runner;
pub mod target;
pub mod session;
pub mod corpus;
pub mod replay;
pub mod fuzz;
pub mod harness;
pub mod dkg;
pub mod p2p;
pub mod ssz_types;
pub mod panics;
pub mod bugs;
pub mod policy;
pub mod supervisor;
pub mod farm;
#[cfg(feature = "fault-injection")]
pub mod faults;
pub mod report;
pub mod metrics;
