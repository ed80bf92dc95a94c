//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#rewards-and-penalties-1>
//!
//! Every `get_*_deltas` returns `(rewards, penalties)`, one Gwei entry per validator.

use crate::epoch_processing::{
    get_matching_head_attestations, get_matching_source_attestations, get_matching_target_attestations,
    get_unslashed_attesting_indices,
};
use crate::helpers::accessors::{
    get_attesting_indices, get_current_epoch, get_previous_epoch, get_total_active_balance, get_total_balance,
};
use crate::helpers::math::integer_squareroot;
use crate::helpers::mutators::{decrease_balance, increase_balance};
use crate::helpers::predicates::is_active_validator;
use crate::uint64::{add, div, mul, sub};
use crate::{validator, Result};
use diverge_types::constants::{BASE_REWARDS_PER_EPOCH, GENESIS_EPOCH};
use diverge_types::{BeaconState, EthSpec, PendingAttestation, Reject};
use std::collections::BTreeSet;

/// `(rewards, penalties)`, Gwei per validator index.
pub type DeltaPair = (Vec<u64>, Vec<u64>);

/// `list[index] += delta`: [`Reject::ValidatorIndexOutOfRange`] when `index` is past the list
/// (the lists have one entry per validator), [`Reject::ArithmeticOverflow`] on overflow.
fn add_at(list: &mut [u64], index: u64, delta: u64) -> Result<()> {
    let slot = usize::try_from(index)
        .ok()
        .and_then(|i| list.get_mut(i))
        .ok_or(Reject::ValidatorIndexOutOfRange)?;
    *slot = add(*slot, delta)?;
    Ok(())
}

/// `effective_balance * BASE_REWARD_FACTOR // integer_squareroot(total_balance) // BASE_REWARDS_PER_EPOCH`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helpers>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`], [`Reject::ValidatorIndexOutOfRange`].
pub fn get_base_reward<E: EthSpec>(state: &BeaconState<E>, index: u64) -> Result<u64> {
    let total_balance = get_total_active_balance(state)?;
    let effective_balance = validator(state, index)?.effective_balance;
    div(
        div(mul(effective_balance, E::BASE_REWARD_FACTOR)?, integer_squareroot(total_balance)?)?,
        BASE_REWARDS_PER_EPOCH,
    )
}

/// `get_base_reward(state, attesting_index) // PROPOSER_REWARD_QUOTIENT`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helpers>
///
/// # Errors
/// As [`get_base_reward`].
pub fn get_proposer_reward<E: EthSpec>(state: &BeaconState<E>, attesting_index: u64) -> Result<u64> {
    div(get_base_reward(state, attesting_index)?, E::PROPOSER_REWARD_QUOTIENT)
}

/// `get_previous_epoch(state) - state.finalized_checkpoint.epoch`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helpers>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] when the finalized epoch is after the previous epoch (crafted).
pub fn get_finality_delay<E: EthSpec>(state: &BeaconState<E>) -> Result<u64> {
    sub(get_previous_epoch(state)?, state.finalized_checkpoint.epoch)
}

/// `get_finality_delay(state) > MIN_EPOCHS_TO_INACTIVITY_PENALTY`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helpers>
///
/// # Errors
/// As [`get_finality_delay`].
pub fn is_in_inactivity_leak<E: EthSpec>(state: &BeaconState<E>) -> Result<bool> {
    Ok(get_finality_delay(state)? > E::MIN_EPOCHS_TO_INACTIVITY_PENALTY)
}

/// Validators active in the previous epoch, or slashed and not yet withdrawable.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helpers>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] (`previous_epoch + 1`, evaluated only for slashed validators).
pub fn get_eligible_validator_indices<E: EthSpec>(state: &BeaconState<E>) -> Result<Vec<u64>> {
    let previous_epoch = get_previous_epoch(state)?;
    let mut out = Vec::new();
    for (v, index) in state.validators.iter().zip(0u64..) {
        if is_active_validator(v, previous_epoch) || (v.slashed && add(previous_epoch, 1)? < v.withdrawable_epoch) {
            out.push(index);
        }
    }
    Ok(out)
}

/// Shared logic of the source, target and head deltas.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#components-of-attestation-deltas>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] and the errors of `get_attesting_indices` (crafted states).
pub fn get_attestation_component_deltas<E: EthSpec>(
    state: &BeaconState<E>,
    attestations: &[&PendingAttestation<E>],
) -> Result<DeltaPair> {
    let n = state.validators.len();
    let mut rewards = vec![0u64; n];
    let mut penalties = vec![0u64; n];
    let total_balance = get_total_active_balance(state)?;
    let unslashed_attesting_indices = get_unslashed_attesting_indices(state, attestations)?;
    let attesting_balance = get_total_balance(state, &unslashed_attesting_indices)?;
    for index in get_eligible_validator_indices(state)? {
        if unslashed_attesting_indices.contains(&index) {
            let increment = E::EFFECTIVE_BALANCE_INCREMENT; // Factored out from balance totals to avoid uint64 overflow
            if is_in_inactivity_leak(state)? {
                // Since full base reward will be canceled out by inactivity penalty deltas,
                // optimal participation receives full base reward compensation here.
                add_at(&mut rewards, index, get_base_reward(state, index)?)?;
            } else {
                let reward_numerator = mul(get_base_reward(state, index)?, div(attesting_balance, increment)?)?;
                add_at(&mut rewards, index, div(reward_numerator, div(total_balance, increment)?)?)?;
            }
        } else {
            add_at(&mut penalties, index, get_base_reward(state, index)?)?;
        }
    }
    Ok((rewards, penalties))
}

/// Source-vote micro-rewards/penalties.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#components-of-attestation-deltas>
///
/// # Errors
/// As [`get_attestation_component_deltas`].
pub fn get_source_deltas<E: EthSpec>(state: &BeaconState<E>) -> Result<DeltaPair> {
    let matching_source_attestations = get_matching_source_attestations(state, get_previous_epoch(state)?)?;
    get_attestation_component_deltas(state, &matching_source_attestations)
}

/// Target-vote micro-rewards/penalties.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#components-of-attestation-deltas>
///
/// # Errors
/// As [`get_attestation_component_deltas`]; [`Reject::BlockRootSlotOutOfRange`].
pub fn get_target_deltas<E: EthSpec>(state: &BeaconState<E>) -> Result<DeltaPair> {
    let matching_target_attestations = get_matching_target_attestations(state, get_previous_epoch(state)?)?;
    get_attestation_component_deltas(state, &matching_target_attestations)
}

/// Head-vote micro-rewards/penalties.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#components-of-attestation-deltas>
///
/// # Errors
/// As [`get_attestation_component_deltas`]; [`Reject::BlockRootSlotOutOfRange`].
pub fn get_head_deltas<E: EthSpec>(state: &BeaconState<E>) -> Result<DeltaPair> {
    let matching_head_attestations = get_matching_head_attestations(state, get_previous_epoch(state)?)?;
    get_attestation_component_deltas(state, &matching_head_attestations)
}

/// Proposer and inclusion-delay micro-rewards (no penalties).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#components-of-attestation-deltas>
///
/// The spec recomputes `get_attesting_indices(state, a.data, a.aggregation_bits)` for every
/// (validator, attestation) pair; here each attestation's set is computed once up front (the same
/// values: the state does not change inside this function), which keeps the plain implementation
/// quadratic rather than cubic.
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] (including an `inclusion_delay` of 0: division by zero),
/// [`Reject::ValidatorIndexOutOfRange`] (a `proposer_index` past the registry), and the errors of
/// `get_attesting_indices` (crafted states).
pub fn get_inclusion_delay_deltas<E: EthSpec>(state: &BeaconState<E>) -> Result<DeltaPair> {
    let n = state.validators.len();
    let mut rewards = vec![0u64; n];
    let matching_source_attestations = get_matching_source_attestations(state, get_previous_epoch(state)?)?;
    let unslashed = get_unslashed_attesting_indices(state, &matching_source_attestations)?;
    let attesting_sets = matching_source_attestations
        .iter()
        .map(|a| get_attesting_indices(state, &a.data, &a.aggregation_bits))
        .collect::<Result<Vec<BTreeSet<u64>>>>()?;
    for index in unslashed {
        // > attestation = min([a for a in matching_source_attestations
        // >     if index in get_attesting_indices(state, a.data, a.aggregation_bits)], key=lambda a: a.inclusion_delay)
        // Python's `min` keeps the first of equal keys.
        let mut attestation: Option<&PendingAttestation<E>> = None;
        for (a, set) in matching_source_attestations.iter().zip(attesting_sets.iter()) {
            if set.contains(&index) && attestation.is_none_or(|best| a.inclusion_delay < best.inclusion_delay) {
                attestation = Some(a);
            }
        }
        // `index` came from the union of these sets, so a matching attestation exists.
        let attestation = attestation.ok_or(Reject::Internal)?;
        add_at(&mut rewards, attestation.proposer_index, get_proposer_reward(state, index)?)?;
        let max_attester_reward = sub(get_base_reward(state, index)?, get_proposer_reward(state, index)?)?;
        add_at(&mut rewards, index, div(max_attester_reward, attestation.inclusion_delay)?)?;
    }

    // No penalties associated with inclusion delay
    let penalties = vec![0u64; n];
    Ok((rewards, penalties))
}

/// Inactivity-leak penalties (no rewards).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#components-of-attestation-deltas>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`], [`Reject::BlockRootSlotOutOfRange`], and the errors of
/// `get_attesting_indices` (crafted states).
pub fn get_inactivity_penalty_deltas<E: EthSpec>(state: &BeaconState<E>) -> Result<DeltaPair> {
    let n = state.validators.len();
    let mut penalties = vec![0u64; n];
    if is_in_inactivity_leak(state)? {
        let matching_target_attestations = get_matching_target_attestations(state, get_previous_epoch(state)?)?;
        let matching_target_attesting_indices = get_unslashed_attesting_indices(state, &matching_target_attestations)?;
        for index in get_eligible_validator_indices(state)? {
            // If validator is performing optimally this cancels all rewards for a neutral balance
            let base_reward = get_base_reward(state, index)?;
            add_at(
                &mut penalties,
                index,
                sub(mul(BASE_REWARDS_PER_EPOCH, base_reward)?, get_proposer_reward(state, index)?)?,
            )?;
            if !matching_target_attesting_indices.contains(&index) {
                let effective_balance = validator(state, index)?.effective_balance;
                add_at(
                    &mut penalties,
                    index,
                    div(mul(effective_balance, get_finality_delay(state)?)?, E::INACTIVITY_PENALTY_QUOTIENT)?,
                )?;
            }
        }
    }

    // No rewards associated with inactivity penalties
    let rewards = vec![0u64; n];
    Ok((rewards, penalties))
}

/// The sum of the component deltas per validator.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_attestation_deltas>
///
/// # Errors
/// As the components; [`Reject::ArithmeticOverflow`] on a per-validator sum.
pub fn get_attestation_deltas<E: EthSpec>(state: &BeaconState<E>) -> Result<DeltaPair> {
    let (source_rewards, source_penalties) = get_source_deltas(state)?;
    let (target_rewards, target_penalties) = get_target_deltas(state)?;
    let (head_rewards, head_penalties) = get_head_deltas(state)?;
    let (inclusion_delay_rewards, _) = get_inclusion_delay_deltas(state)?;
    let (_, inactivity_penalties) = get_inactivity_penalty_deltas(state)?;

    let n = state.validators.len();
    let at = |list: &[u64], i: usize| list.get(i).copied().ok_or(Reject::Internal);
    let mut rewards = Vec::with_capacity(n);
    let mut penalties = Vec::with_capacity(n);
    for i in 0..n {
        rewards.push(add(
            add(add(at(&source_rewards, i)?, at(&target_rewards, i)?)?, at(&head_rewards, i)?)?,
            at(&inclusion_delay_rewards, i)?,
        )?);
    }
    for i in 0..n {
        penalties.push(add(
            add(add(at(&source_penalties, i)?, at(&target_penalties, i)?)?, at(&head_penalties, i)?)?,
            at(&inactivity_penalties, i)?,
        )?);
    }
    Ok((rewards, penalties))
}

/// Applies the attestation deltas of the previous epoch (nothing in the genesis epoch).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#rewards-and-penalties-1>
///
/// # Errors
/// As [`get_attestation_deltas`]; [`Reject::ValidatorIndexOutOfRange`] when `state.balances` is
/// shorter than `state.validators`; [`Reject::ArithmeticOverflow`] on a balance overflow.
pub fn process_rewards_and_penalties<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    // No rewards are applied at the end of `GENESIS_EPOCH` because rewards are for work done in the previous epoch
    if get_current_epoch(state)? == GENESIS_EPOCH {
        return Ok(());
    }

    let (rewards, penalties) = get_attestation_deltas(state)?;
    for ((reward, penalty), index) in rewards.into_iter().zip(penalties).zip(0u64..) {
        increase_balance(state, index, reward)?;
        decrease_balance(state, index, penalty)?;
    }
    Ok(())
}
