//! Exit-queue cache: how many validators exit at each epoch (`exit_epoch != FAR_FUTURE_EPOCH`), so
//! `initiate_validator_exit` finds the queue's last epoch and its churn without scanning the
//! registry. Exact because `initiate_validator_exit` is the only writer of `exit_epoch`.

use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::Validator;
use std::collections::BTreeMap;

/// Exit epoch → number of validators exiting then.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExitCache {
    counts: BTreeMap<u64, u64>,
}

impl ExitCache {
    /// Counts the exits of `validators`.
    pub fn new<'a>(validators: impl Iterator<Item = &'a Validator>) -> Self {
        let mut c = ExitCache::default();
        for v in validators {
            c.record(v.exit_epoch);
        }
        c
    }

    /// Records one validator exiting at `epoch` (ignored for `FAR_FUTURE_EPOCH`).
    pub fn record(&mut self, epoch: u64) {
        if epoch != FAR_FUTURE_EPOCH {
            let n = self.counts.entry(epoch).or_insert(0);
            *n = n.saturating_add(1);
        }
    }

    /// The largest exit epoch in use.
    pub fn max_epoch(&self) -> Option<u64> {
        self.counts.keys().next_back().copied()
    }

    /// Validators exiting at `epoch`.
    pub fn churn_at(&self, epoch: u64) -> u64 {
        self.counts.get(&epoch).copied().unwrap_or(0)
    }
}
