//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#effective-balances-updates>

use crate::uint64::{add, div, mul, rem, sub};
use crate::{validator, validator_mut, Result};
use diverge_types::{BeaconState, EthSpec, Reject};

/// Updates effective balances with hysteresis (down when the balance is a quarter increment below,
/// up when it is 1.25 increments above).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#effective-balances-updates>
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`] when `state.balances` is shorter than `state.validators`;
/// [`Reject::ArithmeticOverflow`] for balances near `2**64`.
pub fn process_effective_balance_updates<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    // Update effective balances with hysteresis
    for index in 0..state.validators.len() {
        let balance = *state.balances.get(index).ok_or(Reject::ValidatorIndexOutOfRange)?;
        let hysteresis_increment = div(E::EFFECTIVE_BALANCE_INCREMENT, E::HYSTERESIS_QUOTIENT)?;
        let downward_threshold = mul(hysteresis_increment, E::HYSTERESIS_DOWNWARD_MULTIPLIER)?;
        let upward_threshold = mul(hysteresis_increment, E::HYSTERESIS_UPWARD_MULTIPLIER)?;
        let index = u64::try_from(index).map_err(|_| Reject::ArithmeticOverflow)?;
        // Read first, borrow mutably only to write: an epoch in which no effective balance
        // changes leaves the registry (and its memoised root) untouched.
        let effective_balance = validator(state, index)?.effective_balance;
        // (`or` short-circuits: the right side is evaluated only when the left is false)
        if add(balance, downward_threshold)? < effective_balance || add(effective_balance, upward_threshold)? < balance {
            validator_mut(state, index)?.effective_balance =
                sub(balance, rem(balance, E::EFFECTIVE_BALANCE_INCREMENT)?)?.min(E::MAX_EFFECTIVE_BALANCE);
        }
    }
    Ok(())
}
