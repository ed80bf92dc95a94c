//! The participation summary shared by the epoch steps: one pass over the pending attestations
//! (committees from the cache) and one over the registry, instead of the spec's repeated
//! `get_unslashed_attesting_indices` / `get_total_balance` scans.
//!
//! Evaluation order follows the spec where a crafted state can make two lookups fail differently:
//! for justification the target roots are checked before any committee; for rewards the
//! committees of every source attestation come before the target and head roots.

use crate::arith::{us, SafeArith};
use crate::caches::{get_beacon_committee, get_total_active_balance};
use crate::helpers::{get_block_root, get_block_root_at_slot, get_current_epoch, get_previous_epoch, is_active_validator};
use crate::state::FastState;
use diverge_types::*;

/// Per-validator facts of one epoch transition.
#[derive(Clone, Debug, Default)]
pub struct ValidatorInfo {
    /// Effective balance, Gwei.
    pub effective_balance: u64,
    /// Slashed.
    pub slashed: bool,
    /// In `get_eligible_validator_indices`.
    pub eligible: bool,
    /// Unslashed, in a matching source attestation of the previous epoch.
    pub prev_source: bool,
    /// Unslashed, in a matching target attestation of the previous epoch.
    pub prev_target: bool,
    /// Unslashed, in a matching head attestation of the previous epoch.
    pub prev_head: bool,
    /// Unslashed, in a matching target attestation of the current epoch.
    pub curr_target: bool,
    /// `(inclusion_delay, proposer_index)` of the first attestation with the smallest delay.
    pub inclusion: Option<(u64, u64)>,
}

/// What the epoch steps need from the attestations and the registry.
#[derive(Clone, Debug, Default)]
pub struct EpochSummary {
    /// `get_total_active_balance(state)`.
    pub total_active_balance: u64,
    /// Per validator, by index.
    pub validators: Vec<ValidatorInfo>,
    /// `get_attesting_balance` of the previous epoch's matching source attestations.
    pub prev_source_balance: u64,
    /// Same, target.
    pub prev_target_balance: u64,
    /// Same, head.
    pub prev_head_balance: u64,
    /// Same, current epoch target.
    pub curr_target_balance: u64,
}

/// `get_attesting_indices(state, data, bits)` (unsorted, committee order).
///
/// # Errors
/// Committee errors; [`Reject::IndexOutOfRange`] when `bits` is shorter than the committee.
pub fn get_attesting_indices<E: EthSpec>(fs: &mut FastState<E>, a: &PendingAttestation<E>) -> Result<Vec<u64>, Reject> {
    let committee = get_beacon_committee(fs, a.data.slot, a.data.index)?;
    let mut out = Vec::new();
    for (i, &v) in committee.members().iter().enumerate() {
        if a.aggregation_bits.get(i).map_err(|_| Reject::IndexOutOfRange)? {
            out.push(v);
        }
    }
    Ok(out)
}

/// Which participation to gather.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Need {
    /// Justification only: previous and current target.
    Justification,
    /// Rewards only: previous source, target, head, inclusion.
    Rewards,
    /// Both, justification's order first (`process_epoch`).
    Both,
    /// Neither: registry facts and the total active balance only.
    Registry,
}

fn target_flags<E: EthSpec>(fs: &FastState<E>, atts: &[PendingAttestation<E>], epoch: u64) -> Result<Vec<bool>, Reject> {
    if atts.is_empty() {
        return Ok(Vec::new());
    }
    let root = get_block_root(&fs.state, epoch)?;
    Ok(atts.iter().map(|a| a.data.target.root == root).collect())
}

/// Builds the summary for the state's current epoch transition.
///
/// # Errors
/// The spec's errors of the lookups involved (committees, block roots, overflow).
pub fn build<E: EthSpec>(fs: &mut FastState<E>, need: Need) -> Result<EpochSummary, Reject> {
    let current = get_current_epoch(&fs.state);
    let previous = get_previous_epoch(&fs.state);
    // get_matching_source_attestations(previous): the current list when previous == current.
    let prev_atts: Vec<PendingAttestation<E>> = if previous == current {
        fs.state.current_epoch_attestations.iter().cloned().collect()
    } else {
        fs.state.previous_epoch_attestations.iter().cloned().collect()
    };
    let want_jf = matches!(need, Need::Justification | Need::Both);
    let want_rw = matches!(need, Need::Rewards | Need::Both);
    let mut prev_committees: Vec<Option<Vec<u64>>> = vec![None; prev_atts.len()];
    let mut prev_target: Vec<bool> = Vec::new();
    let mut curr_committees: Vec<Vec<u64>> = Vec::new();
    if want_jf {
        prev_target = target_flags(fs, &prev_atts, previous)?;
        let cur_atts: Vec<PendingAttestation<E>> = fs.state.current_epoch_attestations.iter().cloned().collect();
        let cur_target = target_flags(fs, &cur_atts, current)?;
        get_total_active_balance(fs)?;
        for (k, a) in prev_atts.iter().enumerate() {
            if prev_target.get(k).copied().unwrap_or(false) {
                if let Some(slot) = prev_committees.get_mut(k) {
                    *slot = Some(get_attesting_indices(fs, a)?);
                }
            }
        }
        for (k, a) in cur_atts.iter().enumerate() {
            if cur_target.get(k).copied().unwrap_or(false) {
                curr_committees.push(get_attesting_indices(fs, a)?);
            }
        }
    }
    let total_active_balance = get_total_active_balance(fs)?;
    let mut prev_head: Vec<bool> = Vec::new();
    if want_rw {
        for (k, a) in prev_atts.iter().enumerate() {
            if let Some(slot) = prev_committees.get_mut(k) {
                if slot.is_none() {
                    *slot = Some(get_attesting_indices(fs, a)?);
                }
            }
        }
        if !want_jf {
            prev_target = target_flags(fs, &prev_atts, previous)?;
        }
        for (k, a) in prev_atts.iter().enumerate() {
            let head = if prev_target.get(k).copied().unwrap_or(false) {
                a.data.beacon_block_root == get_block_root_at_slot(&fs.state, a.data.slot)?
            } else {
                false
            };
            prev_head.push(head);
        }
    }
    // Registry pass.
    let mut validators: Vec<ValidatorInfo> = Vec::with_capacity(fs.state.validators.len());
    let prev_plus_one = previous.sadd(1)?;
    for v in fs.state.validators.iter() {
        validators.push(ValidatorInfo {
            effective_balance: v.effective_balance,
            slashed: v.slashed,
            eligible: is_active_validator(v, previous) || (v.slashed && prev_plus_one < v.withdrawable_epoch),
            ..ValidatorInfo::default()
        });
    }
    // Attestation flags.
    for (k, a) in prev_atts.iter().enumerate() {
        let Some(Some(indices)) = prev_committees.get(k) else { continue };
        let target = prev_target.get(k).copied().unwrap_or(false);
        let head = prev_head.get(k).copied().unwrap_or(false);
        for &i in indices {
            let info = validators.get_mut(us(i)).ok_or(Reject::ValidatorIndexOutOfRange)?;
            if info.slashed {
                continue;
            }
            if want_rw {
                info.prev_source = true;
                info.prev_head |= head;
                match info.inclusion {
                    Some((d, _)) if d <= a.inclusion_delay => {}
                    _ => info.inclusion = Some((a.inclusion_delay, a.proposer_index)),
                }
            }
            info.prev_target |= target;
        }
    }
    for indices in &curr_committees {
        for &i in indices {
            let info = validators.get_mut(us(i)).ok_or(Reject::ValidatorIndexOutOfRange)?;
            if !info.slashed {
                info.curr_target = true;
            }
        }
    }
    let mut s = EpochSummary { total_active_balance, ..EpochSummary::default() };
    let (mut ps, mut pt, mut ph, mut ct) = (0u64, 0u64, 0u64, 0u64);
    for info in &validators {
        if info.prev_source {
            ps = ps.sadd(info.effective_balance)?;
        }
        if info.prev_target {
            pt = pt.sadd(info.effective_balance)?;
        }
        if info.prev_head {
            ph = ph.sadd(info.effective_balance)?;
        }
        if info.curr_target {
            ct = ct.sadd(info.effective_balance)?;
        }
    }
    let inc = E::EFFECTIVE_BALANCE_INCREMENT;
    s.prev_source_balance = ps.max(inc);
    s.prev_target_balance = pt.max(inc);
    s.prev_head_balance = ph.max(inc);
    s.curr_target_balance = ct.max(inc);
    s.validators = validators;
    Ok(s)
}
