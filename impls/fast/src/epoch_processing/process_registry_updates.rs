//! `process_registry_updates` (`#registry-updates`, v1.1.10).

use crate::arith::{u, us, SafeArith};
use crate::caches::{get_validator_churn_limit, initiate_validator_exit};
use crate::helpers::{compute_activation_exit_epoch, get_current_epoch, is_active_validator};
use crate::state::FastState;
use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::*;

/// `process_registry_updates(state)`: eligibility and ejections in one pass, then the activation
/// queue (sorted by eligibility epoch, then index) up to the churn limit.
///
/// # Errors
/// Overflow.
pub fn process_registry_updates<E: EthSpec>(fs: &mut FastState<E>) -> Result<(), Reject> {
    let current = get_current_epoch(&fs.state);
    let mut to_mark = Vec::new();
    let mut to_eject = Vec::new();
    for (i, v) in fs.state.validators.iter().enumerate() {
        if v.activation_eligibility_epoch == FAR_FUTURE_EPOCH && v.effective_balance == E::MAX_EFFECTIVE_BALANCE {
            to_mark.push(i);
        }
        if is_active_validator(v, current) && v.effective_balance <= E::EJECTION_BALANCE {
            to_eject.push(i);
        }
    }
    let next = current.sadd(1);
    // Marking and ejection interleave per validator in the spec; they touch disjoint fields, and
    // an exit only reads exit epochs, so doing all marks first is equivalent.
    for &i in &to_mark {
        let next = next?;
        let v = fs.state.validators.get_mut(i).ok_or(Reject::ValidatorIndexOutOfRange)?;
        v.activation_eligibility_epoch = next;
    }
    for &i in &to_eject {
        initiate_validator_exit(fs, u(i))?;
    }
    let finalized = fs.state.finalized_checkpoint.epoch;
    let mut queue: Vec<(u64, u64)> = fs
        .state
        .validators
        .iter()
        .enumerate()
        .filter(|(_, v)| v.activation_eligibility_epoch <= finalized && v.activation_epoch == FAR_FUTURE_EPOCH)
        .map(|(i, v)| (v.activation_eligibility_epoch, u(i)))
        .collect();
    queue.sort_unstable();
    let churn = get_validator_churn_limit(fs)?;
    if queue.is_empty() {
        return Ok(());
    }
    let activation_epoch = compute_activation_exit_epoch::<E>(current)?;
    for &(_, i) in queue.iter().take(us(churn)) {
        let v = fs.state.validators.get_mut(us(i)).ok_or(Reject::ValidatorIndexOutOfRange)?;
        v.activation_epoch = activation_epoch;
    }
    Ok(())
}
