//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#randao-mixes-updates>

use crate::helpers::accessors::{get_current_epoch, get_randao_mix};
use crate::uint64::add;
use crate::{vector_index, Result};
use diverge_types::{BeaconState, EthSpec, Reject};

/// Carries the current randao mix into the next epoch's slot.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#randao-mixes-updates>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] only for a slot near `2**64`.
pub fn process_randao_mixes_reset<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    let current_epoch = get_current_epoch(state)?;
    let next_epoch = add(current_epoch, 1)?;
    // Set randao mix
    let mix = get_randao_mix(state, current_epoch)?;
    let slot = state
        .randao_mixes
        .get_mut(vector_index(next_epoch, E::EPOCHS_PER_HISTORICAL_VECTOR)?)
        .ok_or(Reject::IndexOutOfRange)?;
    *slot = mix;
    Ok(())
}
