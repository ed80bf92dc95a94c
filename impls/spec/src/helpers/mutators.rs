//! Beacon state mutators.
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#beacon-state-mutators>

use crate::helpers::accessors::{get_beacon_proposer_index, get_current_epoch, get_validator_churn_limit};
use crate::helpers::misc::compute_activation_exit_epoch;
use crate::uint64::{add, div, len_u64, sub};
use crate::{balance_mut, validator, validator_mut, vector_index, Result};
use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::{BeaconState, EthSpec, Reject};

/// `state.balances[index] += delta`, Gwei.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#increase_balance>
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`], [`Reject::ArithmeticOverflow`].
pub fn increase_balance<E: EthSpec>(state: &mut BeaconState<E>, index: u64, delta: u64) -> Result<()> {
    let balance = balance_mut(state, index)?;
    *balance = add(*balance, delta)?;
    Ok(())
}

/// `state.balances[index] -= delta`, floored at 0, Gwei.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#decrease_balance>
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`].
pub fn decrease_balance<E: EthSpec>(state: &mut BeaconState<E>, index: u64, delta: u64) -> Result<()> {
    let balance = balance_mut(state, index)?;
    *balance = if delta > *balance { 0 } else { sub(*balance, delta)? };
    Ok(())
}

/// Initiates the exit of validator `index` through the exit queue (churn-limited).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#initiate_validator_exit>
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`], [`Reject::ArithmeticOverflow`] (crafted exit epochs near
/// `FAR_FUTURE_EPOCH`).
pub fn initiate_validator_exit<E: EthSpec>(state: &mut BeaconState<E>, index: u64) -> Result<()> {
    // Return if validator already initiated exit
    if validator(state, index)?.exit_epoch != FAR_FUTURE_EPOCH {
        return Ok(());
    }

    // Compute exit queue epoch
    let activation_exit_epoch = compute_activation_exit_epoch::<E>(get_current_epoch(state)?)?;
    let mut exit_queue_epoch = state
        .validators
        .iter()
        .map(|v| v.exit_epoch)
        .filter(|e| *e != FAR_FUTURE_EPOCH)
        .chain(core::iter::once(activation_exit_epoch))
        .max()
        .unwrap_or(activation_exit_epoch);
    let exit_queue_churn = len_u64(state.validators.iter().filter(|v| v.exit_epoch == exit_queue_epoch).count())?;
    if exit_queue_churn >= get_validator_churn_limit(state)? {
        exit_queue_epoch = add(exit_queue_epoch, 1)?;
    }

    // Set validator exit epoch and withdrawable epoch
    let validator = validator_mut(state, index)?;
    validator.exit_epoch = exit_queue_epoch;
    validator.withdrawable_epoch = add(validator.exit_epoch, E::MIN_VALIDATOR_WITHDRAWABILITY_DELAY)?;
    Ok(())
}

/// Slashes validator `slashed_index`; the whistleblower defaults to the proposer.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#slash_validator>
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`], [`Reject::ArithmeticOverflow`],
/// [`Reject::NoActiveValidators`] (from `get_beacon_proposer_index`).
pub fn slash_validator<E: EthSpec>(
    state: &mut BeaconState<E>,
    slashed_index: u64,
    whistleblower_index: Option<u64>,
) -> Result<()> {
    let epoch = get_current_epoch(state)?;
    initiate_validator_exit(state, slashed_index)?;
    let validator = validator_mut(state, slashed_index)?;
    validator.slashed = true;
    validator.withdrawable_epoch = validator.withdrawable_epoch.max(add(epoch, E::EPOCHS_PER_SLASHINGS_VECTOR)?);
    let effective_balance = validator.effective_balance;
    let slot = state
        .slashings
        .get_mut(vector_index(epoch, E::EPOCHS_PER_SLASHINGS_VECTOR)?)
        .ok_or(Reject::IndexOutOfRange)?;
    *slot = add(*slot, effective_balance)?;
    decrease_balance(state, slashed_index, div(effective_balance, E::MIN_SLASHING_PENALTY_QUOTIENT)?)?;

    // Apply proposer and whistleblower rewards
    let proposer_index = get_beacon_proposer_index(state)?;
    let whistleblower_index = whistleblower_index.unwrap_or(proposer_index);
    let whistleblower_reward = div(effective_balance, E::WHISTLEBLOWER_REWARD_QUOTIENT)?;
    let proposer_reward = div(whistleblower_reward, E::PROPOSER_REWARD_QUOTIENT)?;
    increase_balance(state, proposer_index, proposer_reward)?;
    increase_balance(state, whistleblower_index, sub(whistleblower_reward, proposer_reward)?)?;
    Ok(())
}
