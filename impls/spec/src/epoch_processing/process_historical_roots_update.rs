//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#historical-roots-updates>

use crate::helpers::accessors::get_current_epoch;
use crate::uint64::{add, div, rem};
use crate::Result;
use diverge_types::{hash_tree_root, BeaconState, EthSpec, HistoricalBatch, Reject};

/// Appends the root of the block/state root batch every `SLOTS_PER_HISTORICAL_ROOT` slots.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#historical-roots-updates>
///
/// # Errors
/// [`Reject::ListFull`] at `HISTORICAL_ROOTS_LIMIT`; [`Reject::ArithmeticOverflow`] only for a
/// slot near `2**64`.
pub fn process_historical_roots_update<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    // Set historical root accumulator
    let next_epoch = add(get_current_epoch(state)?, 1)?;
    if rem(next_epoch, div(E::SLOTS_PER_HISTORICAL_ROOT, E::SLOTS_PER_EPOCH)?)? == 0 {
        let historical_batch =
            HistoricalBatch::<E> { block_roots: (*state.block_roots).clone(), state_roots: (*state.state_roots).clone() };
        state.historical_roots.push(hash_tree_root(&historical_batch)).map_err(|_| Reject::ListFull)?;
    }
    Ok(())
}
