//! `state_transition`, `process_slots`, `process_slot` (`#beacon-chain-state-transition-function`,
//! v1.1.10), with block signatures verified in one batch.

use crate::arith::{us, SafeArith};
use crate::block_processing::signatures::SigVerifier;
use crate::block_processing::{process_block, validator_key};
use crate::epoch_processing::process_epoch;
use crate::helpers::{compute_signing_root, get_current_epoch, get_domain};
use crate::state::FastState;
use diverge_types::bls::BlsMode;
use diverge_types::constants::{DOMAIN_BEACON_PROPOSER, MAX_SLOTS_PER_TRANSITION};
use diverge_types::*;

/// `process_slot(state)`: caches the previous state and block roots. The state root reuses every
/// unchanged subtree root (milhouse).
///
/// # Errors
/// [`Reject::Internal`] on a milhouse error.
pub fn process_slot<E: EthSpec>(fs: &mut FastState<E>) -> Result<(), Reject> {
    let previous_state_root = fs.state.hash_tree_root()?;
    let i = us(fs.state.slot.srem(E::SLOTS_PER_HISTORICAL_ROOT)?);
    *fs.state.state_roots.get_mut(i).ok_or(Reject::Internal)? = previous_state_root;
    if fs.state.latest_block_header.state_root == Root::ZERO {
        fs.state.latest_block_header.state_root = previous_state_root;
    }
    let previous_block_root = fs.state.latest_block_header.tree_hash_root();
    *fs.state.block_roots.get_mut(i).ok_or(Reject::Internal)? = previous_block_root;
    Ok(())
}

/// `process_slots(state, slot)`, refusing to advance more than [`MAX_SLOTS_PER_TRANSITION`]
/// slots (a harness bound, checked before any work).
///
/// # Errors
/// [`Reject::SlotNotAfterState`], [`Reject::SlotsTooFar`], or an epoch-processing failure.
pub fn process_slots<E: EthSpec>(fs: &mut FastState<E>, slot: u64) -> Result<(), Reject> {
    if fs.state.slot >= slot {
        return Err(Reject::SlotNotAfterState);
    }
    if slot.ssub(fs.state.slot)? > MAX_SLOTS_PER_TRANSITION {
        return Err(Reject::SlotsTooFar);
    }
    while fs.state.slot < slot {
        process_slot(fs)?;
        if fs.state.slot.sadd(1)?.srem(E::SLOTS_PER_EPOCH)? == 0 {
            process_epoch(fs)?;
        }
        fs.state.slot = fs.state.slot.sadd(1)?;
    }
    Ok(())
}

/// `state_transition(state, signed_block, validate_result)`.
///
/// Signatures (block, RANDAO, slashings, attestations, exits) are collected and verified in one
/// batch with secret random scalars; verdicts equal the spec's (see
/// [`crate::block_processing::signatures`]).
///
/// # Errors
/// The spec's first failing assertion, including [`Reject::InvalidBlockSignature`] and
/// [`Reject::StateRootMismatch`].
pub fn state_transition<E: EthSpec>(fs: &mut FastState<E>, signed_block: &SignedBeaconBlock<E>, validate_result: bool, bls: BlsMode) -> Result<(), Reject> {
    let block = &signed_block.message;
    process_slots(fs, block.slot)?;
    let mut verifier = SigVerifier::batched(bls);
    if validate_result {
        let key = validator_key(fs, block.proposer_index)?;
        if verifier.checks() {
            let domain = get_domain(&fs.state, DOMAIN_BEACON_PROPOSER, get_current_epoch(&fs.state));
            let signing_root = compute_signing_root(block.tree_hash_root(), domain);
            verifier.add(key, signing_root, signed_block.signature, Reject::InvalidBlockSignature)?;
        }
    }
    if let Err(e) = process_block(fs, block, &mut verifier) {
        return Err(verifier.resolve(e));
    }
    verifier.finish()?;
    if validate_result && block.state_root != fs.state.hash_tree_root()? {
        return Err(Reject::StateRootMismatch);
    }
    Ok(())
}
