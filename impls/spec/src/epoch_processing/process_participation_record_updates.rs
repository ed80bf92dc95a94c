//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#participation-records-rotation>

use crate::Result;
use diverge_types::ssz_types::VariableList;
use diverge_types::{BeaconState, EthSpec};

/// Rotates current/previous epoch attestations.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#participation-records-rotation>
///
/// # Errors
/// None; typed like every sub-function.
pub fn process_participation_record_updates<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    // Rotate current/previous epoch attestations
    state.previous_epoch_attestations =
        core::mem::replace(&mut state.current_epoch_attestations, VariableList::empty().into());
    Ok(())
}
