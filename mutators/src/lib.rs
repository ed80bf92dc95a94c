//! Structure-aware, state-aware mutators for the phase0 fuzz targets (issue 13, first slice).
//!
//! Inputs keep the runner's format (`differential/oracle/src/target.rs`): `[state selector: u16 LE][SSZ
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
//! Signatures: under `--bls assume-valid` (the campaigns' default) inputs carry their own
//! signature or random bytes. With [`Config::sign`] (`--bls real`) generated operations carry real
//! signatures and aggregates made with the spec tests' deterministic keys ([`keys`], [`sign`]),
//! and a mutation keeps, re-signs, corrupts or swaps them. The leaves of the crafted states'
//! deposit trees ([`deposit`]) always carry real signatures of the spec-test keys, since a tree's
//! root fixes them (and deposit signatures are verified under every BLS mode).

pub mod block;
pub mod chain;
pub mod deposit;
pub mod dkg;
pub mod g2;
pub mod generate;
pub mod havoc;
pub mod keys;
pub mod sign;
pub mod view;

pub use generate::{Config, Kind, Structured};
pub use view::PoolView;
