//! Preset-independent constants of `specs/phase0/beacon-chain.md#constants` at v1.1.10.

/// `GENESIS_SLOT`.
pub const GENESIS_SLOT: u64 = 0;
/// `GENESIS_EPOCH`.
pub const GENESIS_EPOCH: u64 = 0;
/// `FAR_FUTURE_EPOCH`.
pub const FAR_FUTURE_EPOCH: u64 = u64::MAX;
/// `BASE_REWARDS_PER_EPOCH`.
pub const BASE_REWARDS_PER_EPOCH: u64 = 4;
/// `DEPOSIT_CONTRACT_TREE_DEPTH`.
pub const DEPOSIT_CONTRACT_TREE_DEPTH: u64 = 32;
/// `JUSTIFICATION_BITS_LENGTH`.
pub const JUSTIFICATION_BITS_LENGTH: u64 = 4;
/// `BLS_WITHDRAWAL_PREFIX`.
pub const BLS_WITHDRAWAL_PREFIX: u8 = 0x00;
/// `ETH1_ADDRESS_WITHDRAWAL_PREFIX`.
pub const ETH1_ADDRESS_WITHDRAWAL_PREFIX: u8 = 0x01;

/// `DomainType`: 4 bytes.
pub type DomainType = [u8; 4];
/// `DOMAIN_BEACON_PROPOSER`.
pub const DOMAIN_BEACON_PROPOSER: DomainType = [0, 0, 0, 0];
/// `DOMAIN_BEACON_ATTESTER`.
pub const DOMAIN_BEACON_ATTESTER: DomainType = [1, 0, 0, 0];
/// `DOMAIN_RANDAO`.
pub const DOMAIN_RANDAO: DomainType = [2, 0, 0, 0];
/// `DOMAIN_DEPOSIT`.
pub const DOMAIN_DEPOSIT: DomainType = [3, 0, 0, 0];
/// `DOMAIN_VOLUNTARY_EXIT`.
pub const DOMAIN_VOLUNTARY_EXIT: DomainType = [4, 0, 0, 0];
/// `DOMAIN_SELECTION_PROOF`.
pub const DOMAIN_SELECTION_PROOF: DomainType = [5, 0, 0, 0];
/// `DOMAIN_AGGREGATE_AND_PROOF`.
pub const DOMAIN_AGGREGATE_AND_PROOF: DomainType = [6, 0, 0, 0];

/// Harness bound, not a spec rule: `process_slots` refuses to advance more than this many slots in
/// one call ([`crate::Reject::SlotsTooFar`]), so a fuzz input cannot ask for a 2^64-slot loop.
/// Every implementation applies the same bound, before doing any work. 256 slots are 8 mainnet
/// epochs (32 minimal ones): above every skip in the official phase0 vectors (the shared set passes
/// even with 64; the longest official skip is 5 epochs), while keeping one execution of the plain
/// implementation, which re-hashes the state every slot, within tens of milliseconds.
pub const MAX_SLOTS_PER_TRANSITION: u64 = 256;
