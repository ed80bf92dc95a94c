//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#justification-and-finalization>

use crate::epoch_processing::{get_attesting_balance, get_matching_target_attestations};
use crate::helpers::accessors::{get_block_root, get_current_epoch, get_previous_epoch, get_total_active_balance};
use crate::uint64::{add, mul};
use crate::Result;
use diverge_types::constants::{GENESIS_EPOCH, JUSTIFICATION_BITS_LENGTH};
use diverge_types::{BeaconState, Checkpoint, EthSpec, Reject};

/// Justifies the previous/current epoch on a 2/3 target vote and finalizes per the four FFG rules.
/// Skipped in the first two epochs.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#justification-and-finalization>
///
/// # Errors
/// Only on crafted states: [`Reject::ArithmeticOverflow`], [`Reject::BlockRootSlotOutOfRange`], and
/// the errors of `get_attesting_indices`.
pub fn process_justification_and_finalization<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    // Initial FFG checkpoint values have a `0x00` stub for `root`.
    // Skip FFG updates in the first two epochs to avoid corner cases that might result in modifying this stub.
    if get_current_epoch(state)? <= add(GENESIS_EPOCH, 1)? {
        return Ok(());
    }
    let (total_active_balance, previous_target_balance, current_target_balance) = {
        let previous_attestations = get_matching_target_attestations(state, get_previous_epoch(state)?)?;
        let current_attestations = get_matching_target_attestations(state, get_current_epoch(state)?)?;
        let total_active_balance = get_total_active_balance(state)?;
        let previous_target_balance = get_attesting_balance(state, &previous_attestations)?;
        let current_target_balance = get_attesting_balance(state, &current_attestations)?;
        (total_active_balance, previous_target_balance, current_target_balance)
    };
    weigh_justification_and_finalization(state, total_active_balance, previous_target_balance, current_target_balance)
}

fn bit(bits: &diverge_types::ssz_types::BitVector<diverge_types::ssz_types::typenum::U4>, i: usize) -> Result<bool> {
    bits.get(i).map_err(|_| Reject::IndexOutOfRange)
}

/// The justification/finalization update given the balances.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#justification-and-finalization>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] (`balance * 3`, `total * 2`, checkpoint epochs near `2**64`),
/// [`Reject::BlockRootSlotOutOfRange`].
pub fn weigh_justification_and_finalization<E: EthSpec>(
    state: &mut BeaconState<E>,
    total_active_balance: u64,
    previous_epoch_target_balance: u64,
    current_epoch_target_balance: u64,
) -> Result<()> {
    let previous_epoch = get_previous_epoch(state)?;
    let current_epoch = get_current_epoch(state)?;
    let old_previous_justified_checkpoint = state.previous_justified_checkpoint;
    let old_current_justified_checkpoint = state.current_justified_checkpoint;

    // Process justifications
    state.previous_justified_checkpoint = state.current_justified_checkpoint;
    // > state.justification_bits[1:] = state.justification_bits[:JUSTIFICATION_BITS_LENGTH - 1]
    let old_bits = state.justification_bits.clone();
    let length = usize::try_from(JUSTIFICATION_BITS_LENGTH).map_err(|_| Reject::Internal)?;
    for (i, j) in (1..length).zip(0..) {
        state.justification_bits.set(i, bit(&old_bits, j)?).map_err(|_| Reject::IndexOutOfRange)?;
    }
    state.justification_bits.set(0, false).map_err(|_| Reject::IndexOutOfRange)?;
    if mul(previous_epoch_target_balance, 3)? >= mul(total_active_balance, 2)? {
        state.current_justified_checkpoint =
            Checkpoint { epoch: previous_epoch, root: get_block_root(state, previous_epoch)? };
        state.justification_bits.set(1, true).map_err(|_| Reject::IndexOutOfRange)?;
    }
    if mul(current_epoch_target_balance, 3)? >= mul(total_active_balance, 2)? {
        state.current_justified_checkpoint =
            Checkpoint { epoch: current_epoch, root: get_block_root(state, current_epoch)? };
        state.justification_bits.set(0, true).map_err(|_| Reject::IndexOutOfRange)?;
    }

    // Process finalizations
    let bits = &state.justification_bits;
    let all = |range: core::ops::Range<usize>| -> Result<bool> {
        for i in range {
            if !bit(bits, i)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let mut finalized = state.finalized_checkpoint;
    // The 2nd/3rd/4th most recent epochs are justified, the 2nd using the 4th as source
    if all(1..4)? && add(old_previous_justified_checkpoint.epoch, 3)? == current_epoch {
        finalized = old_previous_justified_checkpoint;
    }
    // The 2nd/3rd most recent epochs are justified, the 2nd using the 3rd as source
    if all(1..3)? && add(old_previous_justified_checkpoint.epoch, 2)? == current_epoch {
        finalized = old_previous_justified_checkpoint;
    }
    // The 1st/2nd/3rd most recent epochs are justified, the 1st using the 3rd as source
    if all(0..3)? && add(old_current_justified_checkpoint.epoch, 2)? == current_epoch {
        finalized = old_current_justified_checkpoint;
    }
    // The 1st/2nd most recent epochs are justified, the 1st using the 2nd as source
    if all(0..2)? && add(old_current_justified_checkpoint.epoch, 1)? == current_epoch {
        finalized = old_current_justified_checkpoint;
    }
    state.finalized_checkpoint = finalized;
    Ok(())
}
