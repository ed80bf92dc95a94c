//! `process_attestation` (`#attestations`, v1.1.10), with committees from the committee cache.

#[cfg(not(feature = "bug-empty-attesting-indices"))]
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
    if !committee_index_in_range(data.index, get_committee_count_per_slot(fs, data.target.epoch)?) {
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
    check_indexed_attestation(fs, &indices, data, &attestation.signature, verifier)
}

/// `assert data.index < get_committee_count_per_slot(state, data.target.epoch)`.
#[cfg(not(any(feature = "bug-committee-index-eq-count", feature = "bug-attestation-committee-index-unchecked")))]
fn committee_index_in_range(index: u64, count: u64) -> bool {
    index < count
}

/// Re-injected bug `committee-index-eq-count` (bugs.md A; Prysm, fixed in PR 7684, spec tests
/// added in consensus-specs PR 2119): the range check rejected only `index > count`, so
/// `data.index == count` was accepted (`<=` for the spec's `<`); that index names the first
/// committee of the next slot.
#[cfg(all(feature = "bug-committee-index-eq-count", not(feature = "bug-attestation-committee-index-unchecked")))]
fn committee_index_in_range(index: u64, count: u64) -> bool {
    index <= count
}

/// Re-injected bug `attestation-committee-index-unchecked` (bugs.md A; Nimbus #659): no check of
/// `data.index < committee_count` at all; the committee computation then fails its assertion
/// and the node crashes (see `CommitteeCache::committee_range`).
#[cfg(feature = "bug-attestation-committee-index-unchecked")]
fn committee_index_in_range(_index: u64, _count: u64) -> bool {
    true
}

/// `assert is_valid_indexed_attestation(state, get_indexed_attestation(state, attestation))`.
#[cfg(not(feature = "bug-empty-attesting-indices"))]
fn check_indexed_attestation<E: EthSpec>(fs: &FastState<E>, indices: &[u64], data: &AttestationData, signature: &BlsSignature, verifier: &mut SigVerifier) -> Result<(), Reject> {
    is_valid_indexed_attestation(fs, indices, data, signature, verifier)
}

/// Re-injected bug `empty-attesting-indices` (bugs.md A; Prysm, fixed in PR 6983 "Add in
/// Attestation Validity Check"): the batch path (`ProcessAttestationNoVerifySignature`, whose
/// signatures are verified afterwards in one batch) never ran `is_valid_indexed_attestation`; it
/// only collected the signature set. An attestation without any aggregation bit set (empty
/// attesting indices) was accepted. diverge-fast has one attestation path: here it collects the
/// signature set and skips the structural checks (non-empty, sorted, in range).
#[cfg(feature = "bug-empty-attesting-indices")]
fn check_indexed_attestation<E: EthSpec>(fs: &FastState<E>, indices: &[u64], data: &AttestationData, signature: &BlsSignature, verifier: &mut SigVerifier) -> Result<(), Reject> {
    if !verifier.checks() {
        return Ok(());
    }
    let keys: Option<Vec<_>> = indices.iter().map(|&i| fs.caches.pubkeys.get(i).cloned()).collect();
    let domain = crate::helpers::get_domain(&fs.state, diverge_types::constants::DOMAIN_BEACON_ATTESTER, data.target.epoch);
    let signing_root = crate::helpers::compute_signing_root(data.tree_hash_root(), domain);
    verifier.add(keys, signing_root, *signature, Reject::InvalidIndexedAttestationSignature)
}
