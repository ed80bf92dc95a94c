//! Predicates.
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#predicates>

use crate::helpers::accessors::get_domain;
use crate::helpers::misc::compute_signing_root;
use crate::{validator, Result};
use diverge_types::constants::{DOMAIN_BEACON_ATTESTER, FAR_FUTURE_EPOCH};
use diverge_types::{bls, AttestationData, BeaconState, BlsMode, EthSpec, IndexedAttestation, Reject, Root, Validator};

/// `validator.activation_epoch <= epoch < validator.exit_epoch`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#is_active_validator>
pub fn is_active_validator(validator: &Validator, epoch: u64) -> bool {
    validator.activation_epoch <= epoch && epoch < validator.exit_epoch
}

/// Eligible to be placed into the activation queue.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#is_eligible_for_activation_queue>
pub fn is_eligible_for_activation_queue<E: EthSpec>(validator: &Validator) -> bool {
    validator.activation_eligibility_epoch == FAR_FUTURE_EPOCH
        && validator.effective_balance == E::MAX_EFFECTIVE_BALANCE
}

/// Eligible for activation: queue placement finalized, not yet activated.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#is_eligible_for_activation>
pub fn is_eligible_for_activation<E: EthSpec>(state: &BeaconState<E>, validator: &Validator) -> bool {
    // Placement in queue is finalized
    validator.activation_eligibility_epoch <= state.finalized_checkpoint.epoch
        // Has not yet been activated
        && validator.activation_epoch == FAR_FUTURE_EPOCH
}

/// `(not validator.slashed) and (validator.activation_epoch <= epoch < validator.withdrawable_epoch)`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#is_slashable_validator>
pub fn is_slashable_validator(validator: &Validator, epoch: u64) -> bool {
    (!validator.slashed) && (validator.activation_epoch <= epoch && epoch < validator.withdrawable_epoch)
}

/// Casper FFG slashing conditions: double vote or surround vote.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#is_slashable_attestation_data>
pub fn is_slashable_attestation_data(data_1: &AttestationData, data_2: &AttestationData) -> bool {
    // Double vote
    (data_1 != data_2 && data_1.target.epoch == data_2.target.epoch)
        // Surround vote
        || (data_1.source.epoch < data_2.source.epoch && data_2.target.epoch < data_1.target.epoch)
}

/// Not empty, sorted and unique indices, valid aggregate signature.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#is_valid_indexed_attestation>
///
/// The spec returns a bool; here `Ok(())` is `True` and each `False` branch is its own reason.
///
/// # Errors
/// [`Reject::IndexedAttestationEmpty`], [`Reject::IndexedAttestationNotSortedUnique`],
/// [`Reject::ValidatorIndexOutOfRange`] (the pubkey lookup raises, also under
/// [`BlsMode::AssumeValid`]), [`Reject::InvalidIndexedAttestationSignature`].
pub fn is_valid_indexed_attestation<E: EthSpec>(
    state: &BeaconState<E>,
    indexed_attestation: &IndexedAttestation<E>,
    bls: BlsMode,
) -> Result<()> {
    // Verify indices are sorted and unique
    let indices = &indexed_attestation.attesting_indices;
    // > if len(indices) == 0 or not indices == sorted(set(indices)): return False
    if indices.is_empty() {
        return Err(Reject::IndexedAttestationEmpty);
    }
    // `indices == sorted(set(indices))` holds exactly when every pair is strictly increasing.
    if indices.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(Reject::IndexedAttestationNotSortedUnique);
    }
    // Verify aggregate signature
    let pubkeys = indices
        .iter()
        .map(|i| validator(state, *i).map(|v| v.pubkey))
        .collect::<Result<Vec<_>>>()?;
    let domain = get_domain(state, DOMAIN_BEACON_ATTESTER, Some(indexed_attestation.data.target.epoch))?;
    let signing_root = compute_signing_root(&indexed_attestation.data, &domain);
    if !bls::fast_aggregate_verify(bls, &pubkeys, &signing_root, &indexed_attestation.signature) {
        return Err(Reject::InvalidIndexedAttestationSignature);
    }
    Ok(())
}

/// Whether `leaf` at `index` verifies against the Merkle `root` and `branch`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#is_valid_merkle_branch>
///
/// # Errors
/// [`Reject::IndexOutOfRange`] when `branch` is shorter than `depth` (Python `IndexError`).
pub fn is_valid_merkle_branch(leaf: &Root, branch: &[Root], depth: u64, index: u64, root: &Root) -> Result<bool> {
    let mut value = *leaf;
    for i in 0..depth {
        let node = usize::try_from(i).ok().and_then(|i| branch.get(i)).ok_or(Reject::IndexOutOfRange)?;
        // `index // (2**i) % 2`; Python ints do not overflow, so bits past 63 are 0.
        let bit = u32::try_from(i).ok().and_then(|s| index.checked_shr(s)).unwrap_or(0) & 1;
        let (left, right) = if bit == 1 { (node, &value) } else { (&value, node) };
        value = Root::from(diverge_types::hash(&[left.as_slice(), right.as_slice()].concat()));
    }
    Ok(value == *root)
}
