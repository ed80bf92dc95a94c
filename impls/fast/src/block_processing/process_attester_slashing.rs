//! `process_attester_slashing` and `is_valid_indexed_attestation` (`#attester-slashings`, v1.1.10).

use super::signatures::SigVerifier;
use super::slash_validator;
use crate::arith::us;
use crate::helpers::{compute_signing_root, get_current_epoch, get_domain, is_slashable_attestation_data, is_slashable_validator};
use crate::state::FastState;
use diverge_types::constants::DOMAIN_BEACON_ATTESTER;
use diverge_types::*;

/// `assert is_valid_indexed_attestation(state, indexed_attestation)`, given its parts: non-empty,
/// strictly increasing indices, every index a validator, aggregate signature (through `verifier`).
///
/// # Errors
/// [`Reject::IndexedAttestationEmpty`], [`Reject::IndexedAttestationNotSortedUnique`],
/// [`Reject::ValidatorIndexOutOfRange`], [`Reject::InvalidIndexedAttestationSignature`].
pub fn is_valid_indexed_attestation<E: EthSpec>(
    fs: &FastState<E>,
    indices: &[u64],
    data: &AttestationData,
    signature: &BlsSignature,
    verifier: &mut SigVerifier,
) -> Result<(), Reject> {
    if indices.is_empty() {
        return Err(Reject::IndexedAttestationEmpty);
    }
    if indices.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(Reject::IndexedAttestationNotSortedUnique);
    }
    // Re-injected bug `attester-slashing-index-unchecked` (bugs.md A; Teku #2345, Nimbus #1207):
    // the attesting indices were not range-checked (with BLS off nothing looked their keys up).
    #[cfg(not(feature = "bug-attester-slashing-index-unchecked"))]
    if indices.iter().any(|&i| us(i) >= fs.state.validators.len()) {
        return Err(Reject::ValidatorIndexOutOfRange);
    }
    if !verifier.checks() {
        return Ok(());
    }
    let keys: Option<Vec<_>> = indices.iter().map(|&i| fs.caches.pubkeys.get(i).cloned()).collect();
    let domain = get_domain(&fs.state, DOMAIN_BEACON_ATTESTER, data.target.epoch);
    let signing_root = compute_signing_root(data.tree_hash_root(), domain);
    verifier.add(keys, signing_root, *signature, Reject::InvalidIndexedAttestationSignature)
}

/// `process_attester_slashing(state, attester_slashing)`.
///
/// # Errors
/// [`Reject::AttesterSlashingNotSlashable`], the reasons of [`is_valid_indexed_attestation`],
/// [`Reject::AttesterSlashingNoneSlashed`].
pub fn process_attester_slashing<E: EthSpec>(fs: &mut FastState<E>, s: &AttesterSlashing<E>, verifier: &mut SigVerifier) -> Result<(), Reject> {
    let a1 = &s.attestation_1;
    let a2 = &s.attestation_2;
    if !is_slashable_attestation_data(&a1.data, &a2.data) {
        return Err(Reject::AttesterSlashingNotSlashable);
    }
    is_valid_indexed_attestation(fs, &a1.attesting_indices, &a1.data, &a1.signature, verifier)?;
    is_valid_indexed_attestation(fs, &a2.attesting_indices, &a2.data, &a2.signature, verifier)?;
    // Both lists are strictly increasing: a merge gives the sorted intersection.
    let mut both = Vec::new();
    let (mut i, mut j) = (a1.attesting_indices.iter().peekable(), a2.attesting_indices.iter().peekable());
    while let (Some(&&x), Some(&&y)) = (i.peek(), j.peek()) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => {
                i.next();
            }
            std::cmp::Ordering::Greater => {
                j.next();
            }
            std::cmp::Ordering::Equal => {
                both.push(x);
                i.next();
                j.next();
            }
        }
    }
    let mut slashed_any = false;
    for index in both {
        #[cfg(not(feature = "bug-attester-slashing-index-unchecked"))]
        let v = fs.state.validators.get(us(index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
        // Re-injected bug `attester-slashing-index-unchecked` (bugs.md A; Teku #2345: an
        // IndexOutOfBoundsException from `state.getValidators().get(index)`; Nimbus #1207: an
        // IndexDefect from `state.validators[index]`): the unchecked index of the intersection
        // is looked up directly, and an index past the registry crashes the node.
        #[cfg(feature = "bug-attester-slashing-index-unchecked")]
        #[allow(clippy::expect_used, reason = "re-injected historical bug attester-slashing-index-unchecked, feature-gated")]
        let v = fs.state.validators.get(us(index)).expect("index out of bounds: the validator registry is shorter");
        if is_slashable_validator(v, get_current_epoch(&fs.state)) {
            slash_validator(fs, index, None)?;
            slashed_any = true;
        }
    }
    if !slashed_any {
        return Err(Reject::AttesterSlashingNoneSlashed);
    }
    Ok(())
}
