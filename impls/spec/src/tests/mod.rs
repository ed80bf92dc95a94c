//! Unit tests asserting real values: official shuffling vectors, hand-computed domains and square
//! roots, a deposit proof from the vectors, and epoch sub-function edge cases beyond the vectors.
#![allow(clippy::arithmetic_side_effects, reason = "test arithmetic on small known values")]

mod epoch;
mod crafted;
mod doc_links;
mod helpers;
mod no_panic;
mod reasons;

use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::ssz::Decode;
use diverge_types::ssz_types::{BitVector, FixedVector, VariableList};
use diverge_types::*;
use std::path::PathBuf;

/// The spec vectors' `tests` directory ([`diverge_test_vectors::require`]: fails the test, naming
/// the paths tried, when there are none).
pub(crate) fn vectors_dir() -> PathBuf {
    diverge_test_vectors::require()
}

/// Decodes a `.ssz_snappy` file (snappy block format).
pub(crate) fn read_ssz<T: Decode>(path: &std::path::Path) -> T {
    let compressed = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = snap::raw::Decoder::new().decompress_vec(&compressed).unwrap();
    T::from_ssz_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

/// A minimal-preset state at `slot` with `n` validators active since genesis, 32 ETH each, no
/// attestations, finalized checkpoint at epoch 0, block roots `repeat_byte(slot % 64 + 1)`.
pub(crate) fn synthetic_state(n: u64, slot: u64) -> BeaconState<MinimalSpec> {
    let validators: Vec<Validator> = (0..n)
        .map(|i| {
            let mut pubkey = [0u8; 48];
            pubkey[..8].copy_from_slice(&i.to_le_bytes());
            Validator {
                pubkey: BlsPubkey::from(pubkey),
                withdrawal_credentials: Root::ZERO,
                effective_balance: 32_000_000_000,
                slashed: false,
                activation_eligibility_epoch: 0,
                activation_epoch: 0,
                exit_epoch: FAR_FUTURE_EPOCH,
                withdrawable_epoch: FAR_FUTURE_EPOCH,
            }
        })
        .collect();
    let block_roots: Vec<Root> = (0..64u8).map(|i| Root::repeat_byte(i + 1)).collect();
    BeaconState {
        genesis_time: 0,
        genesis_validators_root: Root::ZERO,
        slot,
        fork: Fork::default(),
        latest_block_header: BeaconBlockHeader::default(),
        block_roots: FixedVector::new(block_roots).unwrap().into(),
        state_roots: FixedVector::default().into(),
        historical_roots: VariableList::empty().into(),
        eth1_data: Eth1Data::default(),
        eth1_data_votes: VariableList::empty().into(),
        eth1_deposit_index: 0,
        balances: VariableList::new(vec![32_000_000_000; n as usize]).unwrap().into(),
        validators: VariableList::new(validators).unwrap().into(),
        randao_mixes: FixedVector::default().into(),
        slashings: FixedVector::default().into(),
        previous_epoch_attestations: VariableList::empty().into(),
        current_epoch_attestations: VariableList::empty().into(),
        justification_bits: BitVector::new(),
        previous_justified_checkpoint: Checkpoint::default(),
        current_justified_checkpoint: Checkpoint::default(),
        finalized_checkpoint: Checkpoint::default(),
    }
}
