//! The reset and rotation steps of `process_epoch` (v1.1.10): `process_eth1_data_reset`,
//! `process_slashings_reset`, `process_randao_mixes_reset`, `process_historical_roots_update`,
//! `process_participation_record_updates`.

use crate::arith::{us, SafeArith};
use crate::helpers::{get_current_epoch, get_randao_mix, hash_concat};
use crate::state::FastState;
use diverge_types::*;
use milhouse::List;
use tree_hash::TreeHash;
use typenum::Unsigned;

/// `process_eth1_data_reset(state)`.
///
/// # Errors
/// Overflow.
pub fn process_eth1_data_reset<E: EthSpec>(fs: &mut FastState<E>) -> Result<(), Reject> {
    let next_epoch = get_current_epoch(&fs.state).sadd(1)?;
    if next_epoch.srem(E::EPOCHS_PER_ETH1_VOTING_PERIOD)? == 0 {
        fs.state.eth1_data_votes = List::empty();
    }
    Ok(())
}

/// `process_slashings_reset(state)`.
///
/// # Errors
/// Overflow.
pub fn process_slashings_reset<E: EthSpec>(fs: &mut FastState<E>) -> Result<(), Reject> {
    let next_epoch = get_current_epoch(&fs.state).sadd(1)?;
    let s = fs.state.slashings.get_mut(us(next_epoch.srem(E::EPOCHS_PER_SLASHINGS_VECTOR)?)).ok_or(Reject::Internal)?;
    *s = 0;
    Ok(())
}

/// `process_randao_mixes_reset(state)`.
///
/// # Errors
/// Overflow.
pub fn process_randao_mixes_reset<E: EthSpec>(fs: &mut FastState<E>) -> Result<(), Reject> {
    let current = get_current_epoch(&fs.state);
    let next_epoch = current.sadd(1)?;
    let mix = get_randao_mix(&fs.state, current)?;
    let m = fs.state.randao_mixes.get_mut(us(next_epoch.srem(E::EPOCHS_PER_HISTORICAL_VECTOR)?)).ok_or(Reject::Internal)?;
    *m = mix;
    Ok(())
}

/// `process_historical_roots_update(state)`: `HistoricalBatch` root from the two cached vector roots.
///
/// # Errors
/// Overflow; [`Reject::ListFull`].
pub fn process_historical_roots_update<E: EthSpec>(fs: &mut FastState<E>) -> Result<(), Reject> {
    let next_epoch = get_current_epoch(&fs.state).sadd(1)?;
    if next_epoch.srem(E::SLOTS_PER_HISTORICAL_ROOT.sdiv(E::SLOTS_PER_EPOCH)?)? == 0 {
        fs.state.block_roots.apply_updates().map_err(|_| Reject::Internal)?;
        fs.state.state_roots.apply_updates().map_err(|_| Reject::Internal)?;
        let root = Root::from(hash_concat(fs.state.block_roots.tree_hash_root().as_slice(), fs.state.state_roots.tree_hash_root().as_slice()));
        if fs.state.historical_roots.len() >= E::HistoricalRootsLimit::to_usize() {
            return Err(Reject::ListFull);
        }
        fs.state.historical_roots.push(root).map_err(|_| Reject::ListFull)?;
    }
    Ok(())
}

/// `process_participation_record_updates(state)`.
pub fn process_participation_record_updates<E: EthSpec>(fs: &mut FastState<E>) {
    fs.state.previous_epoch_attestations = std::mem::take(&mut fs.state.current_epoch_attestations);
}
