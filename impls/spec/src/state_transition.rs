//! The beacon chain state transition function.
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#beacon-chain-state-transition-function>

use crate::block_processing::process_block;
use crate::epoch_processing::process_epoch;
use crate::helpers::accessors::get_domain;
use crate::helpers::misc::compute_signing_root;
use crate::uint64::{add, rem, sub};
use crate::{validator, vector_index, Result};
use diverge_types::constants::{DOMAIN_BEACON_PROPOSER, MAX_SLOTS_PER_TRANSITION};
use diverge_types::{bls, hash_tree_root, BeaconState, BlsMode, EthSpec, Reject, Root, SignedBeaconBlock};

/// `process_slots` to the block's slot, then (if `validate_result`) the block signature, the block,
/// and (if `validate_result`) the post-state root.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#beacon-chain-state-transition-function>
///
/// # Errors
/// [`Reject::SlotNotAfterState`], [`Reject::SlotsTooFar`], [`Reject::InvalidBlockSignature`],
/// [`Reject::StateRootMismatch`], and every error of slot, epoch and block processing.
pub fn state_transition<E: EthSpec>(
    state: &mut BeaconState<E>,
    signed_block: &SignedBeaconBlock<E>,
    validate_result: bool,
    bls: BlsMode,
) -> Result<()> {
    let block = &signed_block.message;
    // Process slots (including those with no blocks) since block
    process_slots(state, block.slot)?;
    // Verify signature
    // > if validate_result: assert verify_block_signature(state, signed_block)
    if validate_result && !verify_block_signature(state, signed_block, bls)? {
        return Err(Reject::InvalidBlockSignature);
    }
    // Process block
    process_block(state, block, bls)?;
    // Verify state root
    // > if validate_result: assert block.state_root == hash_tree_root(state)
    if validate_result && block.state_root != hash_tree_root(state) {
        return Err(Reject::StateRootMismatch);
    }
    Ok(())
}

/// `bls.Verify(proposer.pubkey, signing_root, signed_block.signature)` for the block's proposer.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#beacon-chain-state-transition-function>
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`] when `proposer_index` is not in the registry (the lookup
/// happens under [`BlsMode::AssumeValid`] too).
pub fn verify_block_signature<E: EthSpec>(
    state: &BeaconState<E>,
    signed_block: &SignedBeaconBlock<E>,
    bls: BlsMode,
) -> Result<bool> {
    let proposer = validator(state, signed_block.message.proposer_index)?;
    let signing_root = compute_signing_root(&signed_block.message, &get_domain(state, DOMAIN_BEACON_PROPOSER, None)?);
    Ok(bls::verify(bls, &proposer.pubkey, &signing_root, &signed_block.signature))
}

/// Advances the state to `slot`, running `process_slot` for each slot and `process_epoch` at the
/// last slot of each epoch.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#beacon-chain-state-transition-function>
///
/// Harness bound (not a spec rule, shared by every implementation): more than
/// [`MAX_SLOTS_PER_TRANSITION`] slots at once is refused before any work.
///
/// # Errors
/// [`Reject::SlotNotAfterState`] (`assert state.slot < slot`), [`Reject::SlotsTooFar`], and the
/// errors of `process_epoch`.
pub fn process_slots<E: EthSpec>(state: &mut BeaconState<E>, slot: u64) -> Result<()> {
    // > assert state.slot < slot
    if state.slot >= slot {
        return Err(Reject::SlotNotAfterState);
    }
    if sub(slot, state.slot)? > MAX_SLOTS_PER_TRANSITION {
        return Err(Reject::SlotsTooFar);
    }
    while state.slot < slot {
        process_slot(state)?;
        // Process epoch on the start slot of the next epoch
        if rem(add(state.slot, 1)?, E::SLOTS_PER_EPOCH)? == 0 {
            process_epoch(state)?;
        }
        state.slot = add(state.slot, 1)?;
    }
    Ok(())
}

/// Caches the previous state root and block root in the history vectors.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#beacon-chain-state-transition-function>
///
/// # Errors
/// None in practice (the vectors have their fixed length).
pub fn process_slot<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    // Cache state root
    let previous_state_root = hash_tree_root(state);
    let index = vector_index(state.slot, E::SLOTS_PER_HISTORICAL_ROOT)?;
    *state.state_roots.get_mut(index).ok_or(Reject::IndexOutOfRange)? = previous_state_root;
    // Cache latest block header state root
    if state.latest_block_header.state_root == Root::ZERO {
        state.latest_block_header.state_root = previous_state_root;
    }
    // Cache block root
    let previous_block_root = hash_tree_root(&state.latest_block_header);
    *state.block_roots.get_mut(index).ok_or(Reject::IndexOutOfRange)? = previous_block_root;
    Ok(())
}
