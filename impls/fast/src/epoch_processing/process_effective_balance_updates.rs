//! `process_effective_balance_updates` (`#effective-balances-updates`, v1.1.10).

use crate::arith::SafeArith;
use crate::state::FastState;
use diverge_types::*;

/// `process_effective_balance_updates(state)` with hysteresis. Drops the caches that depend on
/// effective balances (proposers, total active balance).
///
/// # Errors
/// Overflow of `balance + DOWNWARD_THRESHOLD` or `effective_balance + UPWARD_THRESHOLD`.
pub fn process_effective_balance_updates<E: EthSpec>(fs: &mut FastState<E>) -> Result<(), Reject> {
    let hysteresis_increment = E::EFFECTIVE_BALANCE_INCREMENT.sdiv(E::HYSTERESIS_QUOTIENT)?;
    let downward = hysteresis_increment.smul(E::HYSTERESIS_DOWNWARD_MULTIPLIER)?;
    let upward = hysteresis_increment.smul(E::HYSTERESIS_UPWARD_MULTIPLIER)?;
    let mut updates = Vec::new();
    for (i, (v, &balance)) in fs.state.validators.iter().zip(fs.state.balances.iter()).enumerate() {
        if balance.sadd(downward)? < v.effective_balance || v.effective_balance.sadd(upward)? < balance {
            let eb = balance.ssub(balance.srem(E::EFFECTIVE_BALANCE_INCREMENT)?)?.min(E::MAX_EFFECTIVE_BALANCE);
            if eb != v.effective_balance {
                updates.push((i, eb));
            }
        }
    }
    if fs.state.validators.len() != fs.state.balances.len() {
        return Err(Reject::IndexOutOfRange);
    }
    for (i, eb) in updates {
        let v = fs.state.validators.get_mut(i).ok_or(Reject::ValidatorIndexOutOfRange)?;
        v.effective_balance = eb;
    }
    fs.caches.effective_balances_changed();
    Ok(())
}
