//! Caches of the prepared state. Each is keyed by what it summarises and invalidated exactly when
//! that changes:
//! - committees ([`committee`]): per epoch, for the previous, current and next epoch;
//! - proposers: per slot of the current epoch; depend on effective balances, so
//!   [`Caches::effective_balances_changed`] drops them (effective balance updates);
//! - total active balance of the current epoch: same dependency, same invalidation;
//! - public keys ([`pubkey`]): per validator index, appended by deposits;
//! - exit queue ([`exit`]): updated by `initiate_validator_exit`.

pub mod committee;
pub mod exit;
pub mod pubkey;
pub mod shuffling;

use crate::arith::{u, us, SafeArith};
use crate::helpers::{get_current_epoch, get_previous_epoch, get_seed, hash_concat};
use crate::state::{FastState, MState};
use committee::CommitteeCache;
use diverge_types::constants::DOMAIN_BEACON_PROPOSER;
use diverge_types::*;
use exit::ExitCache;
use pubkey::PubkeyCache;
use std::sync::Arc;

/// Proposer index of each slot of one epoch, filled on first use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposerCache {
    epoch: u64,
    by_slot: Vec<Option<u64>>,
}

/// Every cache of a [`FastState`]. Cloning copies `Arc`s only.
#[derive(Clone, Debug, Default)]
pub struct Caches {
    committees: [Option<Arc<CommitteeCache>>; 3],
    proposers: Option<Arc<ProposerCache>>,
    total_active_balance: Option<(u64, u64)>,
    /// Validator public keys.
    pub pubkeys: Arc<PubkeyCache>,
    /// Exit queue.
    pub exits: Arc<ExitCache>,
}

impl Caches {
    /// The epoch-independent caches of `state`; the others fill on demand.
    pub fn new<E: EthSpec>(state: &MState<E>) -> Self {
        Caches {
            pubkeys: Arc::new(PubkeyCache::new(state.validators.iter())),
            exits: Arc::new(ExitCache::new(state.validators.iter())),
            ..Caches::default()
        }
    }

    /// Effective balances changed: drop what depends on them.
    pub fn effective_balances_changed(&mut self) {
        self.proposers = None;
        self.total_active_balance = None;
    }
}

/// The committee cache of `epoch`: a cached one for the previous, current or next epoch, else
/// built (and kept when `epoch` is one of those three).
///
/// # Errors
/// As [`CommitteeCache::build`].
pub fn committee_cache<E: EthSpec>(fs: &mut FastState<E>, epoch: u64) -> Result<Arc<CommitteeCache>, Reject> {
    let slot = us(epoch % 3);
    if let Some(Some(c)) = fs.caches.committees.get(slot) {
        if c.epoch == epoch {
            return Ok(Arc::clone(c));
        }
    }
    let built = Arc::new(CommitteeCache::build(&fs.state, epoch)?);
    let cur = get_current_epoch(&fs.state);
    let keep = epoch == cur || epoch == get_previous_epoch(&fs.state) || Some(epoch) == cur.checked_add(1);
    if keep {
        if let Some(entry) = fs.caches.committees.get_mut(slot) {
            *entry = Some(Arc::clone(&built));
        }
    }
    Ok(built)
}

/// A committee: its epoch's cache and its range in the shuffling.
#[derive(Clone, Debug)]
pub struct Committee {
    cache: Arc<CommitteeCache>,
    range: (usize, usize),
}

impl Committee {
    /// Members in committee order.
    pub fn members(&self) -> &[u64] {
        self.cache.members(self.range)
    }
}

/// `get_beacon_committee(state, slot, index)`.
///
/// # Errors
/// Overflow; [`Reject::ShuffleIndexOutOfRange`] for an index past the committee count.
pub fn get_beacon_committee<E: EthSpec>(fs: &mut FastState<E>, slot: u64, index: u64) -> Result<Committee, Reject> {
    let epoch = crate::helpers::compute_epoch_at_slot::<E>(slot);
    let cache = committee_cache(fs, epoch)?;
    let range = cache.committee_range::<E>(slot, index)?;
    Ok(Committee { cache, range })
}

/// `get_committee_count_per_slot(state, epoch)`.
///
/// # Errors
/// As [`committee_cache`].
pub fn get_committee_count_per_slot<E: EthSpec>(fs: &mut FastState<E>, epoch: u64) -> Result<u64, Reject> {
    Ok(committee_cache(fs, epoch)?.committees_per_slot)
}

/// `get_validator_churn_limit(state)`.
///
/// # Errors
/// As [`committee_cache`].
pub fn get_validator_churn_limit<E: EthSpec>(fs: &mut FastState<E>) -> Result<u64, Reject> {
    let cur = get_current_epoch(&fs.state);
    let active = u(committee_cache(fs, cur)?.active_indices.len());
    Ok(E::MIN_PER_EPOCH_CHURN_LIMIT.max(active.sdiv(E::CHURN_LIMIT_QUOTIENT)?))
}

/// `compute_proposer_index(state, indices, seed)`.
///
/// # Errors
/// [`Reject::NoActiveValidators`]; overflow of `effective_balance * MAX_RANDOM_BYTE`.
pub fn compute_proposer_index<E: EthSpec>(state: &MState<E>, indices: &[u64], seed: &Root) -> Result<u64, Reject> {
    if indices.is_empty() {
        return Err(Reject::NoActiveValidators);
    }
    const MAX_RANDOM_BYTE: u64 = 255;
    let total = u(indices.len());
    let mut i: u64 = 0;
    let mut block = u64::MAX;
    let mut random = [0u8; 32];
    loop {
        let shuffled = shuffling::compute_shuffled_index::<E>(i.srem(total)?, total, seed)?;
        let candidate = *indices.get(us(shuffled)).ok_or(Reject::IndexOutOfRange)?;
        if i / 32 != block {
            block = i / 32;
            random = hash_concat(seed.as_slice(), &block.to_le_bytes());
        }
        let random_byte = u64::from(random.get(us(i % 32)).copied().unwrap_or(0));
        let eb = state.validators.get(us(candidate)).ok_or(Reject::ValidatorIndexOutOfRange)?.effective_balance;
        #[cfg(not(feature = "bug-proposer-index-overflow"))]
        let weighted = eb.smul(MAX_RANDOM_BYTE)?;
        // Re-injected bug `proposer-index-overflow` (bugs.md A; Lighthouse PR 1009, specs #1701):
        // `effective_balance * MAX_RANDOM_BYTE` unchecked; on an invalid state with a huge
        // effective balance it overflowed, and Lighthouse's fuzzing builds (overflow checks on)
        // panicked with "attempt to multiply with overflow". Release builds here do not check
        // overflow, so the panic is spelled out: `checked_mul(..).expect(..)`.
        #[cfg(feature = "bug-proposer-index-overflow")]
        #[allow(clippy::expect_used, reason = "re-injected historical bug proposer-index-overflow, feature-gated")]
        let weighted = eb.checked_mul(MAX_RANDOM_BYTE).expect("attempt to multiply with overflow");
        if weighted >= E::MAX_EFFECTIVE_BALANCE.smul(random_byte)? {
            return Ok(candidate);
        }
        i = i.sadd(1)?;
    }
}

/// `get_beacon_proposer_index(state)`, memoised per slot of the current epoch.
///
/// # Errors
/// As [`compute_proposer_index`] and [`committee_cache`].
pub fn get_beacon_proposer_index<E: EthSpec>(fs: &mut FastState<E>) -> Result<u64, Reject> {
    let epoch = get_current_epoch(&fs.state);
    let slot = fs.state.slot;
    let pos = us(slot.srem(E::SLOTS_PER_EPOCH)?);
    if let Some(p) = &fs.caches.proposers {
        if p.epoch == epoch {
            if let Some(Some(i)) = p.by_slot.get(pos) {
                return Ok(*i);
            }
        }
    }
    let seed = Root::from(hash_concat(get_seed(&fs.state, epoch, DOMAIN_BEACON_PROPOSER)?.as_slice(), &slot.to_le_bytes()));
    let cache = committee_cache(fs, epoch)?;
    let index = compute_proposer_index(&fs.state, &cache.active_indices, &seed)?;
    let entry = match &mut fs.caches.proposers {
        Some(p) if p.epoch == epoch => p,
        other => other.insert(Arc::new(ProposerCache { epoch, by_slot: vec![None; us(E::SLOTS_PER_EPOCH)] })),
    };
    if let Some(s) = Arc::make_mut(entry).by_slot.get_mut(pos) {
        *s = Some(index);
    }
    Ok(index)
}

/// `get_total_active_balance(state)`, cached for the current epoch.
///
/// # Errors
/// Overflow of the sum; index out of range (cannot happen).
pub fn get_total_active_balance<E: EthSpec>(fs: &mut FastState<E>) -> Result<u64, Reject> {
    let epoch = get_current_epoch(&fs.state);
    if let Some((e, b)) = fs.caches.total_active_balance {
        if e == epoch {
            return Ok(b);
        }
    }
    let cache = committee_cache(fs, epoch)?;
    let mut sum: u64 = 0;
    for &i in &cache.active_indices {
        let v = fs.state.validators.get(us(i)).ok_or(Reject::ValidatorIndexOutOfRange)?;
        sum = sum.sadd(v.effective_balance)?;
    }
    let total = sum.max(E::EFFECTIVE_BALANCE_INCREMENT);
    fs.caches.total_active_balance = Some((epoch, total));
    Ok(total)
}

/// `initiate_validator_exit(state, index)` with the exit-queue cache.
///
/// # Errors
/// Index out of range; overflow.
pub fn initiate_validator_exit<E: EthSpec>(fs: &mut FastState<E>, index: u64) -> Result<(), Reject> {
    let v = fs.state.validators.get(us(index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    if v.exit_epoch != constants::FAR_FUTURE_EPOCH {
        return Ok(());
    }
    let activation_exit = crate::helpers::compute_activation_exit_epoch::<E>(get_current_epoch(&fs.state))?;
    let mut exit_queue_epoch = fs.caches.exits.max_epoch().map_or(activation_exit, |m| m.max(activation_exit));
    let churn = fs.caches.exits.churn_at(exit_queue_epoch);
    if churn >= get_validator_churn_limit(fs)? {
        exit_queue_epoch = exit_queue_epoch.sadd(1)?;
    }
    let withdrawable = exit_queue_epoch.sadd(E::MIN_VALIDATOR_WITHDRAWABILITY_DELAY)?;
    let v = fs.state.validators.get_mut(us(index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    v.exit_epoch = exit_queue_epoch;
    v.withdrawable_epoch = withdrawable;
    Arc::make_mut(&mut fs.caches.exits).record(exit_queue_epoch);
    Ok(())
}
