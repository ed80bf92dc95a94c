//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#attestations>

use crate::helpers::accessors::{
    get_beacon_committee, get_beacon_proposer_index, get_committee_count_per_slot, get_current_epoch,
    get_indexed_attestation, get_previous_epoch,
};
use crate::helpers::misc::compute_epoch_at_slot;
use crate::helpers::predicates::is_valid_indexed_attestation;
use crate::uint64::{add, sub};
use crate::Result;
use diverge_types::{Attestation, BeaconState, BlsMode, EthSpec, PendingAttestation, Reject};

/// Checks an attestation and records it as a pending attestation of the current or previous epoch.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#attestations>
///
/// # Errors
/// In the spec's order: [`Reject::AttestationTargetEpochOutOfRange`],
/// [`Reject::AttestationTargetEpochMismatch`], [`Reject::AttestationTooEarly`],
/// [`Reject::AttestationTooLate`], [`Reject::CommitteeIndexOutOfRange`],
/// [`Reject::AggregationBitsLengthMismatch`], [`Reject::AttestationSourceMismatch`],
/// [`Reject::ListFull`], then the reasons of `is_valid_indexed_attestation`.
pub fn process_attestation<E: EthSpec>(
    state: &mut BeaconState<E>,
    attestation: &Attestation<E>,
    bls: BlsMode,
) -> Result<()> {
    let data = &attestation.data;
    // > assert data.target.epoch in (get_previous_epoch(state), get_current_epoch(state))
    if data.target.epoch != get_previous_epoch(state)? && data.target.epoch != get_current_epoch(state)? {
        return Err(Reject::AttestationTargetEpochOutOfRange);
    }
    // > assert data.target.epoch == compute_epoch_at_slot(data.slot)
    if data.target.epoch != compute_epoch_at_slot::<E>(data.slot)? {
        return Err(Reject::AttestationTargetEpochMismatch);
    }
    // > assert data.slot + MIN_ATTESTATION_INCLUSION_DELAY <= state.slot <= data.slot + SLOTS_PER_EPOCH
    // (a chained comparison: the right side is evaluated only when the left holds)
    if add(data.slot, E::MIN_ATTESTATION_INCLUSION_DELAY)? > state.slot {
        return Err(Reject::AttestationTooEarly);
    }
    if state.slot > add(data.slot, E::SLOTS_PER_EPOCH)? {
        return Err(Reject::AttestationTooLate);
    }
    // > assert data.index < get_committee_count_per_slot(state, data.target.epoch)
    if data.index >= get_committee_count_per_slot(state, data.target.epoch)? {
        return Err(Reject::CommitteeIndexOutOfRange);
    }

    let committee = get_beacon_committee(state, data.slot, data.index)?;
    // > assert len(attestation.aggregation_bits) == len(committee)
    if attestation.aggregation_bits.len() != committee.len() {
        return Err(Reject::AggregationBitsLengthMismatch);
    }

    let pending_attestation = PendingAttestation {
        data: data.clone(),
        aggregation_bits: attestation.aggregation_bits.clone(),
        inclusion_delay: sub(state.slot, data.slot)?,
        proposer_index: get_beacon_proposer_index(state)?,
    };

    if data.target.epoch == get_current_epoch(state)? {
        // > assert data.source == state.current_justified_checkpoint
        if data.source != state.current_justified_checkpoint {
            return Err(Reject::AttestationSourceMismatch);
        }
        state.current_epoch_attestations.push(pending_attestation).map_err(|_| Reject::ListFull)?;
    } else {
        // > assert data.source == state.previous_justified_checkpoint
        if data.source != state.previous_justified_checkpoint {
            return Err(Reject::AttestationSourceMismatch);
        }
        state.previous_epoch_attestations.push(pending_attestation).map_err(|_| Reject::ListFull)?;
    }

    // Verify signature
    // > assert is_valid_indexed_attestation(state, get_indexed_attestation(state, attestation))
    is_valid_indexed_attestation(state, &get_indexed_attestation(state, attestation)?, bls)
}
