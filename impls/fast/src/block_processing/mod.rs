//! Block processing (`specs/phase0/beacon-chain.md#block-processing`, v1.1.10): one file per
//! operation; signatures go through [`signatures::SigVerifier`] (batched for whole blocks).

pub mod process_attestation;
pub mod process_attester_slashing;
pub mod process_block_header;
pub mod process_deposit;
pub mod process_eth1_data;
pub mod process_operations;
pub mod process_proposer_slashing;
pub mod process_randao;
pub mod process_voluntary_exit;
pub mod signatures;

use crate::arith::{us, SafeArith};
use crate::caches::{get_beacon_proposer_index, initiate_validator_exit};
use crate::helpers::{decrease_balance, get_current_epoch, increase_balance};
use crate::state::FastState;
use diverge_types::bls::PublicKey;
use diverge_types::*;
use signatures::SigVerifier;

/// `process_block(state, block)`: header, RANDAO, eth1 vote, operations.
///
/// # Errors
/// The first failing assertion; signatures are checked by `verifier` (possibly later).
pub fn process_block<E: EthSpec>(fs: &mut FastState<E>, block: &BeaconBlock<E>, verifier: &mut SigVerifier) -> Result<(), Reject> {
    process_block_header::process_block_header(fs, block)?;
    process_randao::process_randao(fs, &block.body, verifier)?;
    process_eth1_data::process_eth1_data(fs, &block.body)?;
    process_operations::process_operations(fs, &block.body, verifier)
}

/// The cached key of validator `index` as a one-key set: `Ok(None)` when its key bytes are invalid.
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`] (the spec's `state.validators[index]`).
pub(crate) fn validator_key<E: EthSpec>(fs: &FastState<E>, index: u64) -> Result<Option<Vec<PublicKey>>, Reject> {
    if us(index) >= fs.state.validators.len() {
        return Err(Reject::ValidatorIndexOutOfRange);
    }
    Ok(fs.caches.pubkeys.get(index).map(|k| vec![k.clone()]))
}

/// `slash_validator(state, slashed_index, whistleblower_index)`.
///
/// # Errors
/// Index out of range; overflow.
pub fn slash_validator<E: EthSpec>(fs: &mut FastState<E>, slashed_index: u64, whistleblower_index: Option<u64>) -> Result<(), Reject> {
    let epoch = get_current_epoch(&fs.state);
    initiate_validator_exit(fs, slashed_index)?;
    let min_withdrawable = epoch.sadd(E::EPOCHS_PER_SLASHINGS_VECTOR)?;
    let v = fs.state.validators.get_mut(us(slashed_index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    v.slashed = true;
    v.withdrawable_epoch = v.withdrawable_epoch.max(min_withdrawable);
    let eb = v.effective_balance;
    let s = fs.state.slashings.get_mut(us(epoch.srem(E::EPOCHS_PER_SLASHINGS_VECTOR)?)).ok_or(Reject::Internal)?;
    *s = s.sadd(eb)?;
    decrease_balance(&mut fs.state, slashed_index, eb.sdiv(E::MIN_SLASHING_PENALTY_QUOTIENT)?)?;
    let proposer_index = get_beacon_proposer_index(fs)?;
    let whistleblower_index = whistleblower_index.unwrap_or(proposer_index);
    let whistleblower_reward = eb.sdiv(E::WHISTLEBLOWER_REWARD_QUOTIENT)?;
    let proposer_reward = whistleblower_reward.sdiv(E::PROPOSER_REWARD_QUOTIENT)?;
    increase_balance(&mut fs.state, proposer_index, proposer_reward)?;
    increase_balance(&mut fs.state, whistleblower_index, whistleblower_reward.ssub(proposer_reward)?)
}
