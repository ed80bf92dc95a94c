//! Shared foundation of every Diverge phase0 implementation: the containers of consensus-specs
//! v1.1.10 (minimal and mainnet presets), constants, hashing, the BLS wrapper, the rejection
//! taxonomy and the [`Phase0Impl`] trait. It holds no logic under test.

pub mod api;
pub mod bls;
pub mod constants;
pub mod containers;
pub mod preset;
pub mod reject;
pub mod shared;

pub use api::{ChainRejection, Deltas, EpochStep, Operation, Phase0Impl, RewardsDeltas, MAX_CHAIN_BLOCKS};
pub use bls::BlsMode;
pub use containers::*;
pub use preset::{EthSpec, MainnetSpec, MinimalSpec, Preset};
pub use reject::Reject;
pub use shared::Shared;

pub use ssz;
pub use ssz_types;
pub use tree_hash;
pub use tree_hash::TreeHash;

/// `Root` / `Bytes32`: 32 bytes.
pub type Root = alloy_primitives::B256;
/// `BLSPubkey`: 48-byte compressed G1 point.
pub type BlsPubkey = alloy_primitives::FixedBytes<48>;
/// `BLSSignature`: 96-byte compressed G2 point.
pub type BlsSignature = alloy_primitives::FixedBytes<96>;

/// The spec's `hash(data)`: SHA-256 (SHA-NI when the CPU has it).
pub fn hash(data: &[u8]) -> [u8; 32] {
    ethereum_hashing::hash_fixed(data)
}

/// `hash_tree_root(value)` as a [`Root`].
pub fn hash_tree_root<T: TreeHash>(value: &T) -> Root {
    value.tree_hash_root()
}
