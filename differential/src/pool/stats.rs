//! `diverge corpus stats`: the distribution of a state pool (issue 21 item 7) — per state its
//! registry size, active validators, epoch, finality gap, outstanding deposits and list fills,
//! and per preset a bucketed table of the four that decide which code paths a pool can reach
//! (shuffling blocks and churn above the minimum, epochs and inactivity leak, deposits beyond
//! `MAX_DEPOSITS`).

use super::StatePool;
use diverge_types::*;
use serde::Serialize;

/// One pool state's figures.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StateStats {
    /// Pool id.
    pub id: usize,
    /// The manifest's `source`.
    pub source: String,
    /// `len(state.validators)`.
    pub validators: u64,
    /// `len(get_active_validator_indices(state, get_current_epoch(state)))`.
    pub active: u64,
    /// `get_current_epoch(state)`.
    pub epoch: u64,
    /// `get_current_epoch(state) - state.finalized_checkpoint.epoch` (saturating): the spec's
    /// `get_finality_delay` is this minus one (it counts from the previous epoch).
    pub finality_gap: u64,
    /// `state.eth1_data.deposit_count - state.eth1_deposit_index` (saturating): deposits the chain
    /// owes, `min(.., MAX_DEPOSITS)` of them per block.
    pub outstanding_deposits: u64,
    /// `len(previous_epoch_attestations)`.
    pub previous_attestations: u64,
    /// `len(current_epoch_attestations)`.
    pub current_attestations: u64,
    /// `len(eth1_data_votes)`.
    pub eth1_votes: u64,
}

impl StateStats {
    /// The figures of `state` (pool id `id`, manifest source `source`).
    pub fn of<E: EthSpec>(id: usize, source: &str, state: &BeaconState<E>) -> StateStats {
        let epoch = state.slot / E::SLOTS_PER_EPOCH;
        StateStats {
            id,
            source: source.to_string(),
            validators: state.validators.len() as u64,
            active: state.validators.iter().filter(|v| v.activation_epoch <= epoch && epoch < v.exit_epoch).count() as u64,
            epoch,
            finality_gap: epoch.saturating_sub(state.finalized_checkpoint.epoch),
            outstanding_deposits: state.eth1_data.deposit_count.saturating_sub(state.eth1_deposit_index),
            previous_attestations: state.previous_epoch_attestations.len() as u64,
            current_attestations: state.current_epoch_attestations.len() as u64,
            eth1_votes: state.eth1_data_votes.len() as u64,
        }
    }
}

/// A preset's pool figures: every available state's, and the unavailable slots' reasons.
#[derive(Clone, Debug, Serialize)]
pub struct PoolStats {
    /// Preset name.
    pub preset: String,
    /// Pool directory.
    pub dir: String,
    /// Bytes of the pool's files on disk (manifest and states).
    pub bytes_on_disk: u64,
    /// One entry per available state, in id order.
    pub states: Vec<StateStats>,
    /// `(id, reason)` of every unusable slot.
    pub unavailable: Vec<(usize, String)>,
    /// `MAX_ATTESTATIONS * SLOTS_PER_EPOCH`, the limit of each pending-attestation list.
    pub pending_limit: u64,
    /// `EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH`, the limit of `eth1_data_votes`.
    pub votes_limit: u64,
}

/// The figures of a loaded pool (before [`StatePool::release`]).
pub fn pool_stats<E: EthSpec>(pool: &StatePool<E>) -> PoolStats {
    let mut states = Vec::new();
    let mut unavailable = Vec::new();
    for (entry, state) in pool.manifest.states.iter().zip(&pool.states) {
        match state {
            Ok(Some(s)) => states.push(StateStats::of(entry.id, &entry.source, s)),
            Ok(None) => unavailable.push((entry.id, "released".to_string())),
            Err(e) => unavailable.push((entry.id, e.clone())),
        }
    }
    let bytes_on_disk = std::iter::once("manifest.json".to_string())
        .chain(pool.manifest.states.iter().map(|e| e.file.clone()))
        .filter_map(|f| std::fs::metadata(pool.dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    PoolStats {
        preset: E::PRESET_BASE.to_string(),
        dir: pool.dir.display().to_string(),
        bytes_on_disk,
        states,
        unavailable,
        pending_limit: E::MAX_ATTESTATIONS * E::SLOTS_PER_EPOCH,
        votes_limit: E::EPOCHS_PER_ETH1_VOTING_PERIOD * E::SLOTS_PER_EPOCH,
    }
}

/// The table's rows: a metric, a bucket label and the bucket's inclusive bounds.
pub const BUCKETS: &[(&str, &str, u64, u64)] = &[
    ("active validators", "<= 64", 0, 64),
    ("active validators", "65-256", 65, 256),
    ("active validators", "257-1023", 257, 1023),
    ("active validators", "1024-4095", 1024, 4095),
    ("active validators", ">= 4096", 4096, u64::MAX),
    ("epoch", "0-1", 0, 1),
    ("epoch", "2-4", 2, 4),
    ("epoch", "5-63", 5, 63),
    ("epoch", "64-1023", 64, 1023),
    ("epoch", ">= 1024", 1024, u64::MAX),
    ("finality gap", "0-2", 0, 2),
    ("finality gap", "3-5 (leak starts past 5)", 3, 5),
    ("finality gap", "6-63", 6, 63),
    ("finality gap", "64-1023", 64, 1023),
    ("finality gap", ">= 1024", 1024, u64::MAX),
    ("outstanding deposits", "0", 0, 0),
    ("outstanding deposits", "1-16 (<= MAX_DEPOSITS)", 1, 16),
    ("outstanding deposits", "> 16", 17, u64::MAX),
];

fn metric(s: &StateStats, name: &str) -> u64 {
    match name {
        "active validators" => s.active,
        "epoch" => s.epoch,
        "finality gap" => s.finality_gap,
        _ => s.outstanding_deposits,
    }
}

/// How many states of `stats` fall in each of [`BUCKETS`], in order.
pub fn bucket_counts(stats: &PoolStats) -> Vec<usize> {
    BUCKETS.iter().map(|(m, _, lo, hi)| stats.states.iter().filter(|s| (*lo..=*hi).contains(&metric(s, m))).count()).collect()
}

/// The human table: one column per preset (`None`: that pool could not be loaded, with why),
/// then per preset the maxima and the states with full lists.
pub fn render(pools: &[(String, Result<PoolStats, String>)]) -> String {
    let mut out = format!("{:<22} {:<28}", "metric", "bucket");
    for (preset, _) in pools {
        out.push_str(&format!(" {preset:>9}"));
    }
    out.push('\n');
    let counts: Vec<Option<Vec<usize>>> = pools.iter().map(|(_, p)| p.as_ref().ok().map(bucket_counts)).collect();
    let mut last = "";
    for (row, (m, label, _, _)) in BUCKETS.iter().enumerate() {
        let name = if *m == last { "" } else { m };
        last = m;
        out.push_str(&format!("{name:<22} {label:<28}"));
        for c in &counts {
            match c.as_ref().and_then(|c| c.get(row)) {
                Some(n) => out.push_str(&format!(" {n:>9}")),
                None => out.push_str(&format!(" {:>9}", "-")),
            }
        }
        out.push('\n');
    }
    for (preset, p) in pools {
        match p {
            Err(e) => out.push_str(&format!("{preset}: not loaded: {e}\n")),
            Ok(p) => {
                let max = |f: fn(&StateStats) -> u64| p.states.iter().map(f).max().unwrap_or(0);
                let full_pending = p.states.iter().filter(|s| s.previous_attestations.max(s.current_attestations) >= p.pending_limit).count();
                let full_votes = p.states.iter().filter(|s| s.eth1_votes >= p.votes_limit).count();
                out.push_str(&format!(
                    "{preset}: {} states ({} unavailable), {:.1} MB on disk in {}; max active {}, max epoch {}, max finality gap {}, max outstanding deposits {}; {} with a full pending-attestation list (>= {}), {} with a full eth1 vote list ({})\n",
                    p.states.len(),
                    p.unavailable.len(),
                    p.bytes_on_disk as f64 / 1e6,
                    p.dir,
                    max(|s| s.active),
                    max(|s| s.epoch),
                    max(|s| s.finality_gap),
                    max(|s| s.outstanding_deposits),
                    full_pending,
                    p.pending_limit,
                    full_votes,
                    p.votes_limit,
                ));
                for (id, reason) in &p.unavailable {
                    out.push_str(&format!("{preset}: state {id} unavailable: {reason}\n"));
                }
            }
        }
    }
    out
}
