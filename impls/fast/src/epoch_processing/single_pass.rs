//! The fused balance pass of `process_epoch`: rewards and penalties, slashing penalties and
//! effective-balance updates in one read pass over `validators`/`balances` with sparse writes.
//!
//! Equivalent to running `process_rewards_and_penalties`, `process_slashings` and
//! `process_effective_balance_updates` in spec order because, per validator, each uses only that
//! validator's balance (updated by the previous one), its effective balance (unchanged until the
//! last) and state-wide values fixed before the pass: the total active balance (effective balances
//! and active sets do not change before the last step), `sum(state.slashings)` and the current
//! epoch. `process_registry_updates` runs before the pass: it reads effective balances only and
//! writes no balance, and the slashing condition reads `withdrawable_epoch` after it, as the spec.
//! `process_eth1_data_reset` touches neither list.

use super::summary::EpochSummary;
use crate::arith::SafeArith;
use crate::helpers::get_current_epoch;
use crate::state::FastState;
use diverge_types::*;

/// Applies `deltas` (the attestation deltas, computed before the registry updates as the spec
/// orders them; `None` at `GENESIS_EPOCH`), slashings and effective-balance updates in one pass.
///
/// # Errors
/// Overflow, as the three spec functions.
pub fn process_balances_fused<E: EthSpec>(fs: &mut FastState<E>, s: &EpochSummary, deltas: Option<&RewardsDeltas>) -> Result<(), Reject> {
    let epoch = get_current_epoch(&fs.state);
    let total = s.total_active_balance;
    let mut slashings_sum: u64 = 0;
    for x in fs.state.slashings.iter() {
        slashings_sum = slashings_sum.sadd(*x)?;
    }
    let adjusted = slashings_sum.smul(E::PROPORTIONAL_SLASHING_MULTIPLIER)?.min(total);
    let slashing_epoch = epoch.sadd(E::EPOCHS_PER_SLASHINGS_VECTOR.sdiv(2)?)?;
    let inc = E::EFFECTIVE_BALANCE_INCREMENT;
    let hysteresis_increment = inc.sdiv(E::HYSTERESIS_QUOTIENT)?;
    let downward = hysteresis_increment.smul(E::HYSTERESIS_DOWNWARD_MULTIPLIER)?;
    let upward = hysteresis_increment.smul(E::HYSTERESIS_UPWARD_MULTIPLIER)?;
    if fs.state.validators.len() != fs.state.balances.len() {
        return Err(Reject::IndexOutOfRange);
    }
    let mut balance_writes = Vec::new();
    let mut eb_writes = Vec::new();
    for (i, (v, &old)) in fs.state.validators.iter().zip(fs.state.balances.iter()).enumerate() {
        let mut balance = old;
        if let Some(d) = deltas {
            let at = |x: &Vec<u64>| x.get(i).copied().unwrap_or(0);
            let reward = at(&d.source.rewards).sadd(at(&d.target.rewards))?.sadd(at(&d.head.rewards))?.sadd(at(&d.inclusion_delay.rewards))?;
            let penalty = at(&d.source.penalties).sadd(at(&d.target.penalties))?.sadd(at(&d.head.penalties))?.sadd(at(&d.inactivity_penalty.penalties))?;
            balance = balance.sadd(reward)?.saturating_sub(penalty);
        }
        if v.slashed && slashing_epoch == v.withdrawable_epoch {
            let penalty = v.effective_balance.sdiv(inc)?.smul(adjusted)?.sdiv(total)?.smul(inc)?;
            balance = balance.saturating_sub(penalty);
        }
        if balance.sadd(downward)? < v.effective_balance || v.effective_balance.sadd(upward)? < balance {
            let eb = balance.ssub(balance.srem(inc)?)?.min(E::MAX_EFFECTIVE_BALANCE);
            if eb != v.effective_balance {
                eb_writes.push((i, eb));
            }
        }
        if balance != old {
            balance_writes.push((i, balance));
        }
    }
    for (i, b) in balance_writes {
        *fs.state.balances.get_mut(i).ok_or(Reject::ValidatorIndexOutOfRange)? = b;
    }
    for (i, eb) in eb_writes {
        fs.state.validators.get_mut(i).ok_or(Reject::ValidatorIndexOutOfRange)?.effective_balance = eb;
    }
    fs.caches.effective_balances_changed();
    Ok(())
}
