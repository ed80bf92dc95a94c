//! The spec's "Helper functions" section, grouped as the spec groups them.
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helper-functions>

pub mod accessors;
pub mod math;
pub(crate) mod memo;
pub mod misc;
pub mod mutators;
pub mod predicates;
