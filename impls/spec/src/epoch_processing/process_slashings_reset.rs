//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#slashings-balances-updates>

use crate::helpers::accessors::get_current_epoch;
use crate::uint64::add;
use crate::{vector_index, Result};
use diverge_types::{BeaconState, EthSpec, Reject};

/// Zeroes the slashings slot of the next epoch.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#slashings-balances-updates>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] only for a slot near `2**64`.
pub fn process_slashings_reset<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    let next_epoch = add(get_current_epoch(state)?, 1)?;
    // Reset slashings
    let slot = state
        .slashings
        .get_mut(vector_index(next_epoch, E::EPOCHS_PER_SLASHINGS_VECTOR)?)
        .ok_or(Reject::IndexOutOfRange)?;
    *slot = 0;
    Ok(())
}
