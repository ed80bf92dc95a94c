//! Committee cache (one per epoch): the active validator indices of the epoch and their
//! committee ordering, shuffled once with [`shuffle_list`].
//!
//! Validity: an epoch's entry depends on the active set at that epoch and on
//! `get_seed(state, epoch, DOMAIN_BEACON_ATTESTER)`. Within a state, operations and epoch steps
//! only set activation/exit epochs to `compute_activation_exit_epoch(current) = current + 5` or
//! later, and only write the RANDAO mixes of `current` and `current + 1`, which seed epochs
//! `current + 2` and `current + 3`. So entries for the previous, current and next epoch stay exact
//! until the slot moves to a new epoch, when lookups key by the new epochs.

use super::shuffling::shuffle_list;
use crate::arith::{u, us, SafeArith};
use crate::helpers::{get_seed, is_active_validator};
use crate::state::MState;
use diverge_types::constants::DOMAIN_BEACON_ATTESTER;
use diverge_types::*;

/// Committees of one epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitteeCache {
    /// The epoch.
    pub epoch: u64,
    /// `get_active_validator_indices(state, epoch)`, ascending.
    pub active_indices: Vec<u64>,
    /// The active indices in committee order: `shuffling[i] = active[compute_shuffled_index(i)]`.
    pub shuffling: Vec<u64>,
    /// `get_committee_count_per_slot(state, epoch)`.
    pub committees_per_slot: u64,
}

impl CommitteeCache {
    /// Builds the cache of `epoch`.
    ///
    /// # Errors
    /// Overflow computing the seed.
    pub fn build<E: EthSpec>(state: &MState<E>, epoch: u64) -> Result<Self, Reject> {
        let active_indices: Vec<u64> = state
            .validators
            .iter()
            .enumerate()
            .filter(|(_, v)| is_active_validator(v, epoch))
            .map(|(i, _)| u(i))
            .collect();
        let per_slot = u(active_indices.len()).sdiv(E::SLOTS_PER_EPOCH)?.sdiv(E::TARGET_COMMITTEE_SIZE)?;
        let committees_per_slot = per_slot.min(E::MAX_COMMITTEES_PER_SLOT).max(1);
        let seed = get_seed(state, epoch, DOMAIN_BEACON_ATTESTER)?;
        let shuffling = shuffle_list::<E>(&active_indices, &seed)?;
        Ok(CommitteeCache { epoch, active_indices, shuffling, committees_per_slot })
    }

    /// `get_beacon_committee(state, slot, index)` for a `slot` of this epoch, as the range of
    /// [`CommitteeCache::shuffling`] that `compute_committee` selects.
    ///
    /// # Errors
    /// Overflow, or [`Reject::ShuffleIndexOutOfRange`] when the range passes the end of the
    /// active list (a committee index past the count), as `compute_shuffled_index`'s assert.
    pub fn committee_range<E: EthSpec>(&self, slot: u64, index: u64) -> Result<(usize, usize), Reject> {
        let cps = self.committees_per_slot;
        let idx = slot.srem(E::SLOTS_PER_EPOCH)?.smul(cps)?.sadd(index)?;
        let count = cps.smul(E::SLOTS_PER_EPOCH)?;
        let len = u(self.shuffling.len());
        let start = len.smul(idx)?.sdiv(count)?;
        let end = len.smul(idx.sadd(1)?)?.sdiv(count)?;
        if start < end && end > len {
            // Re-injected bug `attestation-committee-index-unchecked` (bugs.md A; Nimbus #659):
            // with the caller's `data.index < committee_count` check missing, the committee
            // computation hit its assertion (a Nim `doAssert`, a Defect: the node crashed)
            // instead of rejecting the attestation.
            #[cfg(feature = "bug-attestation-committee-index-unchecked")]
            #[allow(clippy::panic, reason = "re-injected historical bug attestation-committee-index-unchecked, feature-gated")]
            {
                panic!("assertion failed: index < index_count (committee index {index} past the committee count)");
            }
            #[cfg(not(feature = "bug-attestation-committee-index-unchecked"))]
            return Err(Reject::ShuffleIndexOutOfRange);
        }
        if end <= start {
            return Ok((0, 0));
        }
        Ok((us(start), us(end)))
    }

    /// The committee members of `committee_range`.
    pub fn members(&self, range: (usize, usize)) -> &[u64] {
        self.shuffling.get(range.0..range.1).unwrap_or(&[])
    }
}
