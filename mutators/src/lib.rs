//! Structure-aware, state-aware mutators for the phase0 fuzz targets (issue 13, first slice).
//!
//! Inputs keep the runner's format (`differential/src/target.rs`): `[state selector: u16 LE][SSZ
//! of the operation]`, the selector picking pool state `selector % pool_len`. [`Structured`]
//! decodes an input, changes one field, and re-encodes; or generates a fresh operation that is
//! valid by construction on a pool state seen through a [`PoolView`] (with a tunable probability,
//! then one field perturbed toward a boundary). An input that does not decode gets byte havoc
//! ([`havoc::havoc`]), never a panic.
//!
//! Engines call it with a byte buffer, a maximum size and a seed ([`Structured::mutate_seeded`]),
//! as libFuzzer's `fuzz_mutator!` and AFL++'s `afl_custom_fuzz` provide; the built-in loop passes
//! its own RNG ([`Structured::mutate`]).
//!
//! Signatures are not generated in this slice: inputs carry the input's own signature or random
//! bytes, which is what `--bls assume-valid` (the campaigns' default) accepts.

pub mod dkg;
pub mod generate;
pub mod havoc;
pub mod view;

pub use generate::{Config, Kind, Structured};
pub use view::PoolView;
