//! `process_attestation` (`#attestations`, v1.1.10), with committees from the committee cache.

use super::process_attester_slashing::is_valid_indexed_attestation;
use super::signatures::SigVerifier;
use crate::arith::SafeArith;
use crate::caches::{get_beacon_committee, get_beacon_proposer_index, get_committee_count_per_slot};
use crate::helpers::{compute_epoch_at_slot, get_current_epoch, get_previous_epoch};
use crate::state::FastState;
use diverge_types::*;
use typenum::Unsigned;

/// `process_attestation(state, attestation)`.
///
/// # Errors
/// In spec order: [`Reject::AttestationTargetEpochOutOfRange`],
/// [`Reject::AttestationTargetEpochMismatch`], [`Reject::AttestationTooEarly`],
/// [`Reject::AttestationTooLate`], [`Reject::CommitteeIndexOutOfRange`],
/// [`Reject::AggregationBitsLengthMismatch`], [`Reject::AttestationSourceMismatch`],
/// [`Reject::ListFull`], then the reasons of `is_valid_indexed_attestation`.
pub fn process_attestation<E: EthSpec>(fs: &mut FastState<E>, attestation: &Attestation<E>, verifier: &mut SigVerifier) -> Result<(), Reject> {
    let data = &attestation.data;
    let current = get_current_epoch(&fs.state);
    let previous = get_previous_epoch(&fs.state);
    if data.target.epoch != previous && data.target.epoch != current {
        return Err(Reject::AttestationTargetEpochOutOfRange);
    }
    if data.target.epoch != compute_epoch_at_slot::<E>(data.slot) {
        return Err(Reject::AttestationTargetEpochMismatch);
    }
    if data.slot.sadd(E::MIN_ATTESTATION_INCLUSION_DELAY)? > fs.state.slot {
        return Err(Reject::AttestationTooEarly);
    }
    if fs.state.slot > data.slot.sadd(E::SLOTS_PER_EPOCH)? {
        return Err(Reject::AttestationTooLate);
    }
    if data.index >= get_committee_count_per_slot(fs, data.target.epoch)? {
        return Err(Reject::CommitteeIndexOutOfRange);
    }
    let committee = get_beacon_committee(fs, data.slot, data.index)?;
    let members = committee.members();
    if attestation.aggregation_bits.len() != members.len() {
        return Err(Reject::AggregationBitsLengthMismatch);
    }
    let pending = PendingAttestation {
        aggregation_bits: attestation.aggregation_bits.clone(),
        data: data.clone(),
        inclusion_delay: fs.state.slot.ssub(data.slot)?,
        proposer_index: get_beacon_proposer_index(fs)?,
    };
    let list = if data.target.epoch == current {
        if data.source != fs.state.current_justified_checkpoint {
            return Err(Reject::AttestationSourceMismatch);
        }
        &mut fs.state.current_epoch_attestations
    } else {
        if data.source != fs.state.previous_justified_checkpoint {
            return Err(Reject::AttestationSourceMismatch);
        }
        &mut fs.state.previous_epoch_attestations
    };
    if list.len() >= E::MaxPendingAttestations::to_usize() {
        return Err(Reject::ListFull);
    }
    list.push(pending).map_err(|_| Reject::ListFull)?;
    let mut indices: Vec<u64> = members
        .iter()
        .enumerate()
        .filter(|(i, _)| attestation.aggregation_bits.get(*i).unwrap_or(false))
        .map(|(_, &v)| v)
        .collect();
    indices.sort_unstable();
    is_valid_indexed_attestation(fs, &indices, data, &attestation.signature, verifier)
}
