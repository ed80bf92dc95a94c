//! `process_rewards_and_penalties` and the `get_*_deltas` (`#rewards-and-penalties-1`, v1.1.10):
//! all five components in one pass over the summary.

use super::summary::EpochSummary;
use crate::arith::{us, SafeArith};
use crate::helpers::{decrease_balance, get_current_epoch, get_previous_epoch, increase_balance, integer_squareroot};
use crate::state::FastState;
use diverge_types::constants::{BASE_REWARDS_PER_EPOCH, GENESIS_EPOCH};
use diverge_types::*;

fn zeros(n: usize) -> Deltas {
    Deltas { rewards: vec![0; n], penalties: vec![0; n] }
}

fn add(v: &mut [u64], i: usize, x: u64) -> Result<(), Reject> {
    let e = v.get_mut(i).ok_or(Reject::ValidatorIndexOutOfRange)?;
    *e = e.sadd(x)?;
    Ok(())
}

/// `get_source_deltas`, `get_target_deltas`, `get_head_deltas`, `get_inclusion_delay_deltas` and
/// `get_inactivity_penalty_deltas`, from one summary.
///
/// # Errors
/// Overflow (including `get_finality_delay` underflow), division by a zero inclusion delay,
/// a proposer index out of range.
pub fn get_attestation_deltas<E: EthSpec>(fs: &FastState<E>, s: &EpochSummary) -> Result<RewardsDeltas, Reject> {
    let n = s.validators.len();
    let mut out = RewardsDeltas { source: zeros(n), target: zeros(n), head: zeros(n), inclusion_delay: zeros(n), inactivity_penalty: zeros(n) };
    let total = s.total_active_balance;
    // Evaluated lazily, as the spec does inside `get_base_reward` (only when a reward is computed).
    let sqrt_total = integer_squareroot(total);
    let finality_delay = get_previous_epoch(&fs.state).ssub(fs.state.finalized_checkpoint.epoch);
    let leak = || -> Result<bool, Reject> { Ok(finality_delay? > E::MIN_EPOCHS_TO_INACTIVITY_PENALTY) };
    let inc = E::EFFECTIVE_BALANCE_INCREMENT;
    let base_reward = |eb: u64| -> Result<u64, Reject> {
        eb.smul(E::BASE_REWARD_FACTOR)?.sdiv(sqrt_total?)?.sdiv(BASE_REWARDS_PER_EPOCH)
    };
    let components = [
        (s.prev_source_balance, 0usize),
        (s.prev_target_balance, 1),
        (s.prev_head_balance, 2),
    ];
    for (i, info) in s.validators.iter().enumerate() {
        if info.eligible {
            let base = base_reward(info.effective_balance)?;
            for (attesting_balance, which) in components {
                let attested = match which {
                    0 => info.prev_source,
                    1 => info.prev_target,
                    _ => info.prev_head,
                };
                let d = match which {
                    0 => &mut out.source,
                    1 => &mut out.target,
                    _ => &mut out.head,
                };
                if attested {
                    if leak()? {
                        add(&mut d.rewards, i, base)?;
                    } else {
                        let numerator = base.smul(attesting_balance.sdiv(inc)?)?;
                        add(&mut d.rewards, i, numerator.sdiv(total.sdiv(inc)?)?)?;
                    }
                } else {
                    add(&mut d.penalties, i, base)?;
                }
            }
        }
        if let Some((delay, proposer)) = info.inclusion {
            let base = base_reward(info.effective_balance)?;
            let proposer_reward = base.sdiv(E::PROPOSER_REWARD_QUOTIENT)?;
            add(&mut out.inclusion_delay.rewards, us(proposer), proposer_reward)?;
            let max_attester_reward = base.ssub(proposer_reward)?;
            add(&mut out.inclusion_delay.rewards, i, max_attester_reward.sdiv(delay)?)?;
        }
    }
    if leak()? {
        let delay = finality_delay?;
        for (i, info) in s.validators.iter().enumerate() {
            if !info.eligible {
                continue;
            }
            let base = base_reward(info.effective_balance)?;
            let proposer_reward = base.sdiv(E::PROPOSER_REWARD_QUOTIENT)?;
            add(&mut out.inactivity_penalty.penalties, i, BASE_REWARDS_PER_EPOCH.smul(base)?.ssub(proposer_reward)?)?;
            if !info.prev_target {
                add(&mut out.inactivity_penalty.penalties, i, info.effective_balance.smul(delay)?.sdiv(E::INACTIVITY_PENALTY_QUOTIENT)?)?;
            }
        }
    }
    Ok(out)
}

/// Whether the step does anything at this epoch (not at `GENESIS_EPOCH`).
pub fn applies<E: EthSpec>(fs: &FastState<E>) -> bool {
    get_current_epoch(&fs.state) != GENESIS_EPOCH
}

/// `process_rewards_and_penalties(state)`.
///
/// # Errors
/// As [`get_attestation_deltas`]; overflow of a balance.
pub fn process_rewards_and_penalties<E: EthSpec>(fs: &mut FastState<E>, s: &EpochSummary) -> Result<(), Reject> {
    if !applies(fs) {
        return Ok(());
    }
    let d = get_attestation_deltas(fs, s)?;
    for i in 0..s.validators.len() {
        let get = |v: &Vec<u64>| v.get(i).copied().unwrap_or(0);
        let reward = get(&d.source.rewards).sadd(get(&d.target.rewards))?.sadd(get(&d.head.rewards))?.sadd(get(&d.inclusion_delay.rewards))?;
        let penalty = get(&d.source.penalties).sadd(get(&d.target.penalties))?.sadd(get(&d.head.penalties))?.sadd(get(&d.inactivity_penalty.penalties))?;
        if reward == 0 && penalty == 0 {
            continue;
        }
        let index = crate::arith::u(i);
        increase_balance(&mut fs.state, index, reward)?;
        decrease_balance(&mut fs.state, index, penalty)?;
    }
    Ok(())
}
