//! Diverge's oracle (architecture.md §1): what an input means and how verdicts are judged.
//!
//! - [`target`]: the fuzz targets and their input codecs; [`ssz_types`]: the `ssz_decode` target.
//! - [`registry`]: the registered phase0 implementations; [`runner`]: one input through every one
//!   of them and the N-way comparison; [`dkg`] and [`p2p`]: the same for the drand DKG and the
//!   network-incident families.
//! - [`policy`], [`allowlist`], [`diff`]: when two verdicts agree, the signatures, the explained
//!   exceptions, the first differing field.
//! - [`bugs`]: the registry of re-injected bugs (data); [`pool`]: loading the pre-state pool;
//!   [`record`]: verdicts as recorded.
//! - [`voter`]: voters that are not linked in (another process), answering by root or abstaining.
//! - [`hooks`]: what an engine learns while an input runs, installed by the engine.
//!
//! Nothing here writes files, starts processes or parses command lines: the store, the engines and
//! the CLI (the `diverge` crate) build on it, never the other way round.

pub mod allowlist;
pub mod bugs;
pub mod diff;
pub mod dkg;
#[cfg(feature = "fault-injection")]
pub mod faults;
pub mod files;
pub mod hooks;
pub mod p2p;
pub mod panics;
pub mod policy;
pub mod pool;
pub mod record;
pub mod registry;
pub mod runner;
pub mod ssz_types;
pub mod target;
pub mod voter;
