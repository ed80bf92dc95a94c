//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#slashings>

use crate::helpers::accessors::{get_current_epoch, get_total_active_balance};
use crate::helpers::mutators::decrease_balance;
use crate::uint64::{add, div, mul};
use crate::Result;
use diverge_types::{BeaconState, EthSpec};

/// The proportional slashing penalty, applied halfway through a slashed validator's
/// `EPOCHS_PER_SLASHINGS_VECTOR` window.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#slashings>
///
/// # Errors
/// [`diverge_types::Reject::ArithmeticOverflow`] (`sum(state.slashings) * PROPORTIONAL_SLASHING_MULTIPLIER`
/// or the penalty numerator overflowing on a crafted state).
pub fn process_slashings<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    let epoch = get_current_epoch(state)?;
    let total_balance = get_total_active_balance(state)?;
    let mut sum: u64 = 0;
    for s in state.slashings.iter() {
        sum = add(sum, *s)?;
    }
    let adjusted_total_slashing_balance = mul(sum, E::PROPORTIONAL_SLASHING_MULTIPLIER)?.min(total_balance);
    for index in 0..state.validators.len() {
        let index = u64::try_from(index).map_err(|_| diverge_types::Reject::ArithmeticOverflow)?;
        let validator = crate::validator(state, index)?;
        if validator.slashed && add(epoch, div(E::EPOCHS_PER_SLASHINGS_VECTOR, 2)?)? == validator.withdrawable_epoch {
            let increment = E::EFFECTIVE_BALANCE_INCREMENT; // Factored out from penalty numerator to avoid uint64 overflow
            let penalty_numerator = mul(div(validator.effective_balance, increment)?, adjusted_total_slashing_balance)?;
            let penalty = mul(div(penalty_numerator, total_balance)?, increment)?;
            decrease_balance(state, index, penalty)?;
        }
    }
    Ok(())
}
