//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#attester-slashings>

use crate::helpers::accessors::get_current_epoch;
use crate::helpers::mutators::slash_validator;
use crate::helpers::predicates::{is_slashable_attestation_data, is_slashable_validator, is_valid_indexed_attestation};
use crate::{validator, Result};
use diverge_types::{AttesterSlashing, BeaconState, BlsMode, EthSpec, Reject};
use std::collections::BTreeSet;

/// Slashes every slashable validator in both attestations of a double or surround vote.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#attester-slashings>
///
/// # Errors
/// [`Reject::AttesterSlashingNotSlashable`], the reasons of `is_valid_indexed_attestation` (first
/// attestation, then second), [`Reject::AttesterSlashingNoneSlashed`], and the errors of
/// `slash_validator`.
pub fn process_attester_slashing<E: EthSpec>(
    state: &mut BeaconState<E>,
    attester_slashing: &AttesterSlashing<E>,
    bls: BlsMode,
) -> Result<()> {
    let attestation_1 = &attester_slashing.attestation_1;
    let attestation_2 = &attester_slashing.attestation_2;
    // > assert is_slashable_attestation_data(attestation_1.data, attestation_2.data)
    if !is_slashable_attestation_data(&attestation_1.data, &attestation_2.data) {
        return Err(Reject::AttesterSlashingNotSlashable);
    }
    // > assert is_valid_indexed_attestation(state, attestation_1)
    is_valid_indexed_attestation(state, attestation_1, bls)?;
    // > assert is_valid_indexed_attestation(state, attestation_2)
    is_valid_indexed_attestation(state, attestation_2, bls)?;

    let mut slashed_any = false;
    let set_1: BTreeSet<u64> = attestation_1.attesting_indices.iter().copied().collect();
    let set_2: BTreeSet<u64> = attestation_2.attesting_indices.iter().copied().collect();
    // `for index in sorted(indices)`: a BTreeSet intersection iterates in ascending order.
    let indices: Vec<u64> = set_1.intersection(&set_2).copied().collect();
    for index in indices {
        if is_slashable_validator(validator(state, index)?, get_current_epoch(state)?) {
            slash_validator(state, index, None)?;
            slashed_any = true;
        }
    }
    // > assert slashed_any
    if !slashed_any {
        return Err(Reject::AttesterSlashingNoneSlashed);
    }
    Ok(())
}
