//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#eth1-data-votes-updates>

use crate::helpers::accessors::get_current_epoch;
use crate::uint64::{add, rem};
use crate::Result;
use diverge_types::ssz_types::VariableList;
use diverge_types::{BeaconState, EthSpec};

/// Clears `state.eth1_data_votes` at the end of each voting period.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#eth1-data-votes-updates>
///
/// # Errors
/// [`diverge_types::Reject::ArithmeticOverflow`] only for a slot near `2**64`.
pub fn process_eth1_data_reset<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    let next_epoch = add(get_current_epoch(state)?, 1)?;
    // Reset eth1 data votes
    if rem(next_epoch, E::EPOCHS_PER_ETH1_VOTING_PERIOD)? == 0 {
        state.eth1_data_votes = VariableList::empty().into();
    }
    Ok(())
}
