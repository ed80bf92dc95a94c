//! Building the pre-state pool (architecture.md §5) from the spec vectors, and crafting the states
//! the vectors lack: `diverge corpus build`. Loading a pool is the oracle's
//! ([`diverge_oracle::pool`], re-exported here so `diverge::pool::StatePool` still names it).

pub use diverge_oracle::pool::*;
use crate::vectors::files;
use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::ssz::Encode;
use diverge_types::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod first_use;
pub mod stats;
mod wide;
pub use first_use::ensure_built;
pub use wide::runs_in_both;

/// `diverge corpus build`'s default state count for a preset (`None`: every vector state):
/// every one for minimal, 8 for mainnet, where each prepared state costs tens of MB per
/// implementation. The wide crafted states come on top.
pub fn default_max_states(preset: &str) -> Option<usize> {
    (preset == "mainnet").then_some(8)
}

/// Loads the pool at `dir` ([`StatePool::load`]), first building the states of a pool shipped as
/// its manifest alone (`built_at_first_use`: mainnet) from the spec vectors, checked against the
/// manifest (`pool/first_use.rs`). The oracle only reads pools; building writes, so it is here.
///
/// # Errors
/// As [`StatePool::load`]. A first-use build that fails leaves the states it did not build as
/// unavailable slots, each naming the failure (as for any missing file).
pub fn load<E: EthSpec>(dir: &Path) -> Result<StatePool<E>, PoolError> {
    let path = dir.join("manifest.json");
    let mut failed = None;
    if let Ok(manifest) = std::fs::read_to_string(&path).map_err(|e| e.to_string()).and_then(|t| serde_json::from_str::<Manifest>(&t).map_err(|e| e.to_string())) {
        if manifest.built_at_first_use && manifest.preset == E::PRESET_BASE && manifest.states.iter().any(|e| !dir.join(&e.file).exists()) {
            failed = first_use::build_missing::<E>(dir, &manifest).err();
        }
    }
    let mut pool = StatePool::load(dir)?;
    if let Some(why) = failed {
        for reason in pool.states.iter_mut().filter_map(|s| s.as_mut().err()) {
            *reason = format!("{reason} ({why})");
        }
    }
    Ok(pool)
}
/// The runners whose `pre.ssz_snappy` states enter the pool, in a fixed order (ids are stable for
/// a given vector set).
pub const POOL_SOURCES: &[&str] = &["operations", "sanity", "epoch_processing", "finality", "random", "rewards"];

/// Builds the pool for preset `E` from `tests_root` into `out_dir`: distinct `pre` states of
/// [`POOL_SOURCES`], deduplicated by root. Without `max_states`, every one in sorted path order;
/// with it, at most that many, taken round-robin over the runner/handler directories so that a
/// small pool (mainnet: every prepared state costs tens of MB) still spans every operation.
/// Overwrites the manifest.
///
/// # Errors
/// Unreadable vector directories or unwritable output. Corrupt vector files are skipped and
/// listed in the returned warnings.
pub fn build<E: EthSpec>(tests_root: &Path, out_dir: &Path, max_states: Option<usize>) -> Result<(Manifest, Vec<String>), PoolError> {
    let phase0 = tests_root.join(E::PRESET_BASE).join("phase0");
    let mut groups: Vec<Vec<PathBuf>> = Vec::new();
    for runner in POOL_SOURCES {
        let mut pres = Vec::new();
        collect_pre_states(&phase0.join(runner), &mut pres)?;
        // One group per handler directory (`<runner>/<handler>/...`).
        let mut by_handler: std::collections::BTreeMap<PathBuf, Vec<PathBuf>> = std::collections::BTreeMap::new();
        for p in pres {
            let handler = p.strip_prefix(&phase0).ok().and_then(|r| r.iter().take(2).collect::<PathBuf>().into()).unwrap_or_default();
            by_handler.entry(handler).or_default().push(p);
        }
        groups.extend(by_handler.into_values());
    }
    let order: Vec<PathBuf> = match max_states {
        None => groups.into_iter().flatten().collect(),
        Some(_) => {
            let mut order = Vec::new();
            let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
            for i in 0..longest {
                order.extend(groups.iter().filter_map(|g| g.get(i).cloned()));
            }
            order
        }
    };
    std::fs::create_dir_all(out_dir).map_err(|e| PoolError::Write { path: out_dir.to_path_buf(), reason: e.to_string() })?;
    let mut seen = BTreeSet::new();
    let mut states = Vec::new();
    let mut warnings = Vec::new();
    for pre in order {
        if max_states.is_some_and(|m| states.len() >= m) {
            break;
        }
        let state: BeaconState<E> = match files::read_ssz(&pre) {
            Ok(s) => s,
            Err(e) => {
                warnings.push(e.to_string());
                continue;
            }
        };
        let source = pre.parent().and_then(|p| p.strip_prefix(tests_root).ok()).map(|p| p.display().to_string()).unwrap_or_default();
        add_state(&state, source, out_dir, &mut seen, &mut states)?;
    }
    append_crafted::<E>(tests_root, out_dir, &mut seen, &mut states, &mut warnings)?;
    let manifest = Manifest { format: POOL_FORMAT, preset: E::PRESET_BASE.to_string(), spec_version: "v1.1.10".to_string(), states, built_at_first_use: E::PRESET_BASE == "mainnet" };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| PoolError::Write { path: out_dir.join("manifest.json"), reason: e.to_string() })?;
    crate::findings::write_atomic(&out_dir.join("manifest.json"), json.as_bytes())
        .map_err(|e| PoolError::Write { path: out_dir.join("manifest.json"), reason: e.to_string() })?;
    Ok((manifest, warnings))
}

/// A crafted edge state: a vector's `pre` state changed by `craft`, for bugs that need a state
/// no valid chain reaches (bugs.md A, e.g. `proposer-index-overflow`), for generators that need a
/// state committing to data they know (deposits), or for counters one step below and at their
/// thresholds (issue 13, "Counters that build up across blocks").
struct Crafted {
    /// Short name, recorded as `crafted:<name> from <vector case>` in the manifest's `source`.
    name: &'static str,
    /// The vector case (below `<tests>/<preset>/phase0/`) whose `pre` state is changed.
    case: &'static str,
    /// What is changed.
    craft: Craft,
}

/// How a [`Crafted`] state differs from its vector state. Every variant is deterministic.
enum Craft {
    /// Every validator changed by the function.
    Validators(fn(&mut Validator)),
    /// `eth1_data` commits to the first `count` leaves of the registry's
    /// [`diverge_mutators::deposit::DepositTree`] (block hash = its marker), and
    /// `eth1_deposit_index = index`: the deposit at `index` (and the rest of the tree) is valid.
    DepositTree { index: u64, count: u64 },
    /// `eth1_deposit_index = 0`, `eth1_data` the (empty) known tree of 0 deposits, and
    /// `eth1_data_votes` = `SLOTS_PER_ETH1_VOTING_PERIOD / 2 - short` votes for the known tree of
    /// 4 deposits: with `short == 0`, the next vote for it is a majority
    /// (`2 * count > SLOTS_PER_ETH1_VOTING_PERIOD`) and the block must then carry its 4
    /// deposits; with `short == 1`, the next vote lands exactly on `2 * count ==` the period (no
    /// majority).
    Eth1Votes { short: u64 },
    /// `previous_epoch_attestations` rebuilt so the unslashed attesting balance of the previous
    /// epoch's target is the least that justifies it (`3 * attesting >= 2 * total`), minus one
    /// `EFFECTIVE_BALANCE_INCREMENT` when `below`; one attester's effective balance (and
    /// balance) is set to land on the boundary. `current_epoch_attestations` is emptied.
    Justification { below: bool },
    /// `get_validator_churn_limit(state) - short` validators (the last active, not exiting
    /// ones) exit at `compute_activation_exit_epoch(current_epoch)`: with `short == 1` the next
    /// exit fills that epoch's churn exactly, with `short == 0` it goes to the next epoch.
    ExitChurn { short: u64 },
    /// `state.slashings` sums to `(total_active_balance + delta * EFFECTIVE_BALANCE_INCREMENT) /
    /// PROPORTIONAL_SLASHING_MULTIPLIER` (one entry), and two validators are slashed with
    /// `withdrawable_epoch == current_epoch + EPOCHS_PER_SLASHINGS_VECTOR / 2`, so
    /// `process_slashings` penalises them with the adjusted total one increment below, at, or
    /// above the proportional cap (`min(sum * multiplier, total)`).
    Slashings { delta: i64 },
}

const DEPOSIT_CASE: &str = "operations/deposit/pyspec_tests/new_deposit_max";
const HEADER_CASE: &str = "operations/block_header/pyspec_tests/success_block_header";
const JUSTIFICATION_CASE: &str = "epoch_processing/justification_and_finalization/pyspec_tests/234_ok_support";
const EXIT_CASE: &str = "operations/voluntary_exit/pyspec_tests/success";
const SLASHINGS_CASE: &str = "epoch_processing/slashings/pyspec_tests/low_penalty";

/// The crafted states, appended after the vector states in this order (existing ids never move;
/// add new ones at the end).
const CRAFTED: &[Crafted] = &[
    // Every effective balance 2**57 Gwei (far above MAX_EFFECTIVE_BALANCE, which no valid
    // transition exceeds): `effective_balance * MAX_RANDOM_BYTE` overflows uint64 in
    // `compute_proposer_index` (Lighthouse PR 1009, specs #1701). The spec rejects any
    // operation that needs the proposer (uint64 overflow is an exception); the re-injected
    // `bug-proposer-index-overflow` panics.
    Crafted { name: "huge-effective-balance", case: HEADER_CASE, craft: Craft::Validators(|v| v.effective_balance = 1 << 57) },
    // A known deposit tree of 16 leaves (one of each `LeafKind` twice), the next deposit at
    // each of the 8 kinds and at 12 (a block must then carry 4).
    Crafted { name: "deposit-tree-16-at-0", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 0, count: 16 } },
    Crafted { name: "deposit-tree-16-at-1", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 1, count: 16 } },
    Crafted { name: "deposit-tree-16-at-2", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 2, count: 16 } },
    Crafted { name: "deposit-tree-16-at-3", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 3, count: 16 } },
    Crafted { name: "deposit-tree-16-at-4", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 4, count: 16 } },
    Crafted { name: "deposit-tree-16-at-5", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 5, count: 16 } },
    Crafted { name: "deposit-tree-16-at-6", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 6, count: 16 } },
    Crafted { name: "deposit-tree-16-at-7", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 7, count: 16 } },
    Crafted { name: "deposit-tree-16-at-12", case: DEPOSIT_CASE, craft: Craft::DepositTree { index: 12, count: 16 } },
    // Eth1 votes one short of a majority, and two short.
    Crafted { name: "eth1-votes-one-short", case: HEADER_CASE, craft: Craft::Eth1Votes { short: 0 } },
    Crafted { name: "eth1-votes-two-short", case: HEADER_CASE, craft: Craft::Eth1Votes { short: 1 } },
    // Previous-epoch target participation exactly at 2/3 and one increment below.
    Crafted { name: "justification-at-two-thirds", case: JUSTIFICATION_CASE, craft: Craft::Justification { below: false } },
    Crafted { name: "justification-one-increment-below", case: JUSTIFICATION_CASE, craft: Craft::Justification { below: true } },
    // The exit queue epoch one exit short of the churn limit, and full.
    Crafted { name: "exit-churn-one-short", case: EXIT_CASE, craft: Craft::ExitChurn { short: 1 } },
    Crafted { name: "exit-churn-full", case: EXIT_CASE, craft: Craft::ExitChurn { short: 0 } },
    // Slashings one increment below, at and above the proportional cap.
    Crafted { name: "slashings-below-cap", case: SLASHINGS_CASE, craft: Craft::Slashings { delta: -1 } },
    Crafted { name: "slashings-at-cap", case: SLASHINGS_CASE, craft: Craft::Slashings { delta: 0 } },
    Crafted { name: "slashings-above-cap", case: SLASHINGS_CASE, craft: Craft::Slashings { delta: 1 } },
];

/// Appends [`CRAFTED`] (deterministic: same vectors, same states) after the vector states. A
/// missing source vector, or a state the craft does not apply to, is a warning; the crafted
/// states after it still get the next ids.
fn append_crafted<E: EthSpec>(tests_root: &Path, out_dir: &Path, seen: &mut BTreeSet<String>, states: &mut Vec<PoolEntry>, warnings: &mut Vec<String>) -> Result<(), PoolError> {
    let phase0 = tests_root.join(E::PRESET_BASE).join("phase0");
    for c in CRAFTED {
        let pre = phase0.join(c.case).join("pre.ssz_snappy");
        let mut state: BeaconState<E> = match files::read_ssz(&pre) {
            Ok(s) => s,
            Err(e) => {
                warnings.push(format!("crafted state {}: {e}", c.name));
                continue;
            }
        };
        if let Err(e) = craft(&c.craft, &mut state) {
            warnings.push(format!("crafted state {} from {}: {e}", c.name, pre.display()));
            continue;
        }
        let source = format!("crafted:{} from {}/phase0/{}", c.name, E::PRESET_BASE, c.case);
        add_state(&state, source, out_dir, seen, states)?;
    }
    wide::append::<E>(tests_root, out_dir, seen, states, warnings)
}

fn known_tree_data<E: EthSpec>(state: &BeaconState<E>, count: u64) -> Result<Eth1Data, String> {
    let tree = diverge_mutators::deposit::DepositTree::for_registry::<E>(&state.validators, count).ok_or("no deposit tree for this registry")?;
    Ok(Eth1Data { deposit_root: tree.root, deposit_count: count, block_hash: diverge_mutators::deposit::tree_marker() })
}

fn total_active_balance<E: EthSpec>(state: &BeaconState<E>, epoch: u64) -> u64 {
    let total: u64 = state.validators.iter().filter(|v| v.activation_epoch <= epoch && epoch < v.exit_epoch).map(|v| v.effective_balance).fold(0, u64::saturating_add);
    total.max(E::EFFECTIVE_BALANCE_INCREMENT)
}

/// Applies `craft` to `state`.
fn craft<E: EthSpec>(craft: &Craft, state: &mut BeaconState<E>) -> Result<(), String> {
    let epoch = state.slot / E::SLOTS_PER_EPOCH;
    match craft {
        Craft::Validators(f) => state.validators.iter_mut().for_each(f),
        Craft::DepositTree { index, count } => {
            state.eth1_data = known_tree_data(state, *count)?;
            state.eth1_deposit_index = *index;
        }
        Craft::Eth1Votes { short } => {
            state.eth1_data = known_tree_data(state, 0)?;
            state.eth1_deposit_index = 0;
            let vote = known_tree_data(state, 4)?;
            let m = (E::EPOCHS_PER_ETH1_VOTING_PERIOD * E::SLOTS_PER_EPOCH / 2).checked_sub(*short).ok_or("short beyond the period")?;
            let votes: Vec<Eth1Data> = (0..m).map(|_| vote.clone()).collect();
            *state.eth1_data_votes = ssz_types::VariableList::new(votes).map_err(|e| format!("{e:?}"))?;
        }
        Craft::Justification { below } => {
            let previous = epoch.checked_sub(1).ok_or("justification needs epoch >= 1")?;
            if epoch <= 1 {
                return Err(format!("epoch {epoch}: process_justification_and_finalization returns early"));
            }
            let view = diverge_mutators::PoolView::new(&*state);
            let target_root = view.block_root(previous).ok_or("no block root for the previous epoch")?;
            let shuffling = view.shuffling(previous).ok_or("no shuffling")?;
            let inc = E::EFFECTIVE_BALANCE_INCREMENT;
            let eb = |st: &BeaconState<E>, i: u64| st.validators.get(i as usize).map(|v| v.effective_balance).unwrap_or(0);
            // Unslashed, active in the previous and the current epoch.
            let both: Vec<u64> = shuffling
                .active
                .iter()
                .copied()
                .filter(|i| state.validators.get(*i as usize).is_some_and(|v| !v.slashed && epoch < v.exit_epoch))
                .collect();
            let [rest @ .., filler2, filler, adjuster] = both.as_slice() else { return Err("fewer than three active validators".to_string()) };
            let (filler2, filler, adjuster) = (*filler2, *filler, *adjuster);
            let total = total_active_balance(state, epoch);
            // Attesters: the first k of `rest` and the adjuster. With the two fillers' effective
            // balances summing to f (not attesting), t0 = total without adjuster and fillers + f
            // and a0 the first k's balance, the adjuster's x = 2 t0 - 3 a0 is the least with
            // 3 (a0 + x) >= 2 (t0 + x); search k and f so x is in [2, 32] increments (need
            // spans 2 * 62 increments over f, more than the 96 it drops per 32-ETH attester,
            // so some f fits).
            let base_t = total.saturating_sub(eb(state, adjuster)).saturating_sub(eb(state, filler)).saturating_sub(eb(state, filler2));
            let mut found = None;
            let mut a0 = 0u64;
            'search: for k in 0..=rest.len() {
                for f in 2..=2 * (E::MAX_EFFECTIVE_BALANCE / inc) {
                    let need = (2 * (base_t + f * inc)).saturating_sub(3 * a0);
                    if need >= 2 * inc && need <= E::MAX_EFFECTIVE_BALANCE {
                        found = Some((k, f * inc, need.div_ceil(inc) * inc));
                        break 'search;
                    }
                }
                a0 += rest.get(k).map(|i| eb(state, *i)).unwrap_or(0);
            }
            let (k, f, x) = found.ok_or("no attester set reaches the threshold")?;
            let x = if *below { x - inc } else { x };
            let mut attesters: Vec<u64> = rest.iter().take(k).copied().collect();
            attesters.push(adjuster);
            let f1 = f.saturating_sub(inc).min(E::MAX_EFFECTIVE_BALANCE);
            for (i, value) in [(filler, f1), (filler2, f - f1), (adjuster, x)] {
                if let Some(v) = state.validators.get_mut(i as usize) {
                    v.effective_balance = value;
                }
                if let Some(b) = state.balances.get_mut(i as usize) {
                    *b = value;
                }
            }
            let set: BTreeSet<u64> = attesters.into_iter().collect();
            let mut pending = Vec::new();
            let start = previous * E::SLOTS_PER_EPOCH;
            for slot in start..start + E::SLOTS_PER_EPOCH {
                for index in 0..shuffling.committees_per_slot {
                    let committee = view.beacon_committee(slot, index).ok_or("no committee")?;
                    let mut bits = ssz_types::BitList::with_capacity(committee.len()).map_err(|e| format!("{e:?}"))?;
                    for (k, v) in committee.iter().enumerate() {
                        bits.set(k, set.contains(v)).map_err(|e| format!("{e:?}"))?;
                    }
                    pending.push(PendingAttestation {
                        aggregation_bits: bits,
                        data: AttestationData {
                            slot,
                            index,
                            beacon_block_root: view.block_root_at_slot(slot).unwrap_or_default(),
                            source: state.previous_justified_checkpoint,
                            target: Checkpoint { epoch: previous, root: target_root },
                        },
                        inclusion_delay: 1,
                        proposer_index: view.proposer_index().unwrap_or(0),
                    });
                }
            }
            *state.previous_epoch_attestations = ssz_types::VariableList::new(pending).map_err(|e| format!("{e:?}"))?;
            *state.current_epoch_attestations = ssz_types::VariableList::empty();
        }
        Craft::ExitChurn { short } => {
            let active: Vec<usize> = (0..state.validators.len())
                .filter(|&i| state.validators.get(i).is_some_and(|v| v.activation_epoch <= epoch && epoch < v.exit_epoch && v.exit_epoch == FAR_FUTURE_EPOCH))
                .collect();
            let churn = (active.len() as u64 / E::CHURN_LIMIT_QUOTIENT).max(E::MIN_PER_EPOCH_CHURN_LIMIT);
            let n = churn.checked_sub(*short).ok_or("short beyond the churn")? as usize;
            let exit_epoch = epoch + 1 + E::MAX_SEED_LOOKAHEAD;
            if active.len() <= n {
                return Err("too few active validators".to_string());
            }
            for &i in active.iter().rev().take(n) {
                if let Some(v) = state.validators.get_mut(i) {
                    v.exit_epoch = exit_epoch;
                    v.withdrawable_epoch = exit_epoch + E::MIN_VALIDATOR_WITHDRAWABILITY_DELAY;
                }
            }
        }
        Craft::Slashings { delta } => {
            let withdrawable = epoch + E::EPOCHS_PER_SLASHINGS_VECTOR / 2;
            let candidates: Vec<usize> = (0..state.validators.len()).filter(|&i| state.validators.get(i).is_some_and(|v| !v.slashed && v.activation_epoch <= epoch && epoch < v.exit_epoch)).take(2).collect();
            if candidates.len() < 2 {
                return Err("fewer than two active unslashed validators".to_string());
            }
            for i in candidates {
                if let Some(v) = state.validators.get_mut(i) {
                    v.slashed = true;
                    v.exit_epoch = epoch + 1;
                    v.withdrawable_epoch = withdrawable;
                }
            }
            let total = total_active_balance(state, epoch);
            let target = total.checked_add_signed(delta * E::EFFECTIVE_BALANCE_INCREMENT as i64).ok_or("slashings total out of range")?;
            let mut slashings = vec![0u64; E::EPOCHS_PER_SLASHINGS_VECTOR as usize];
            if let Some(x) = slashings.get_mut((epoch % E::EPOCHS_PER_SLASHINGS_VECTOR) as usize) {
                *x = target / E::PROPORTIONAL_SLASHING_MULTIPLIER;
            }
            *state.slashings = ssz_types::FixedVector::new(slashings).map_err(|e| format!("{e:?}"))?;
        }
    }
    Ok(())
}

/// Writes `state` into the pool directory as `<root>.ssz_snappy` and appends its entry, unless a
/// state with the same root is already in the pool.
fn add_state<E: EthSpec>(state: &BeaconState<E>, source: String, out_dir: &Path, seen: &mut BTreeSet<String>, states: &mut Vec<PoolEntry>) -> Result<(), PoolError> {
    let root = format!("{:#x}", state.tree_hash_root());
    if !seen.insert(root.clone()) {
        return Ok(());
    }
    let file = format!("{}.ssz_snappy", root.trim_start_matches("0x"));
    let path = out_dir.join(&file);
    let bytes = snap::raw::Encoder::new().compress_vec(&state.as_ssz_bytes()).map_err(|e| PoolError::Write { path: path.clone(), reason: e.to_string() })?;
    crate::findings::write_atomic(&path, &bytes).map_err(|e| PoolError::Write { path: path.clone(), reason: e.to_string() })?;
    states.push(PoolEntry { id: states.len(), file, root, source });
    Ok(())
}

fn collect_pre_states(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PoolError> {
    if !dir.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| PoolError::Vectors(format!("{}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_pre_states(&path, out)?;
        } else if path.file_name().is_some_and(|n| n == "pre.ssz_snappy") {
            out.push(path);
        }
    }
    Ok(())
}
