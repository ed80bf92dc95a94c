//! `process_justification_and_finalization` (`#justification-and-finalization`, v1.1.10).

use super::summary::EpochSummary;
use crate::arith::SafeArith;
use crate::helpers::{get_block_root, get_current_epoch, get_previous_epoch};
use crate::state::FastState;
use diverge_types::constants::GENESIS_EPOCH;
use diverge_types::*;

/// Whether the step does anything at this epoch (`get_current_epoch(state) > GENESIS_EPOCH + 1`).
pub fn applies<E: EthSpec>(fs: &FastState<E>) -> bool {
    get_current_epoch(&fs.state) > GENESIS_EPOCH + 1
}

/// `process_justification_and_finalization(state)` from the summary's target balances.
///
/// # Errors
/// Overflow; [`Reject::BlockRootSlotOutOfRange`].
pub fn process_justification_and_finalization<E: EthSpec>(fs: &mut FastState<E>, s: &EpochSummary) -> Result<(), Reject> {
    if !applies(fs) {
        return Ok(());
    }
    weigh_justification_and_finalization(fs, s.total_active_balance, s.prev_target_balance, s.curr_target_balance)
}

/// `weigh_justification_and_finalization(state, total, previous_target, current_target)`.
///
/// # Errors
/// Overflow; [`Reject::BlockRootSlotOutOfRange`].
pub fn weigh_justification_and_finalization<E: EthSpec>(fs: &mut FastState<E>, total: u64, previous_target: u64, current_target: u64) -> Result<(), Reject> {
    let st = &mut fs.state;
    let previous_epoch = get_previous_epoch(st);
    let current_epoch = get_current_epoch(st);
    let old_previous_justified = st.previous_justified_checkpoint;
    let old_current_justified = st.current_justified_checkpoint;

    st.previous_justified_checkpoint = st.current_justified_checkpoint;
    let mut bits = [false; 4];
    for (i, b) in bits.iter_mut().enumerate().skip(1) {
        *b = st.justification_bits.get(i.saturating_sub(1)).unwrap_or(false);
    }
    if previous_target.smul(3)? >= total.smul(2)? {
        st.current_justified_checkpoint = Checkpoint { epoch: previous_epoch, root: get_block_root(st, previous_epoch)? };
        bits[1] = true;
    }
    if current_target.smul(3)? >= total.smul(2)? {
        st.current_justified_checkpoint = Checkpoint { epoch: current_epoch, root: get_block_root(st, current_epoch)? };
        bits[0] = true;
    }
    for (i, b) in bits.iter().enumerate() {
        st.justification_bits.set(i, *b).map_err(|_| Reject::Internal)?;
    }
    if bits[1] && bits[2] && bits[3] && old_previous_justified.epoch.sadd(3)? == current_epoch {
        st.finalized_checkpoint = old_previous_justified;
    }
    if bits[1] && bits[2] && old_previous_justified.epoch.sadd(2)? == current_epoch {
        st.finalized_checkpoint = old_previous_justified;
    }
    if bits[0] && bits[1] && bits[2] && old_current_justified.epoch.sadd(2)? == current_epoch {
        st.finalized_checkpoint = old_current_justified;
    }
    if bits[0] && bits[1] && old_current_justified.epoch.sadd(1)? == current_epoch {
        st.finalized_checkpoint = old_current_justified;
    }
    Ok(())
}
