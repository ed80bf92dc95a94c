//! The versioned pre-state pool (architecture.md §5): inputs select a state by index into it, so a
//! finding reproduces alone. Built from the spec vectors by `diverge corpus build`, stored as
//! `corpora/states/<preset>/{manifest.json, <root>.ssz_snappy}`.
//!
//! A state file that is missing or corrupt (does not decode, or its root differs from the
//! manifest) keeps its slot, marked unavailable with the path and reason: indices never shift, and
//! inputs selecting other states are unaffected.

use crate::vectors::files;
use diverge_types::ssz::Encode;
use diverge_types::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Pool format version, bumped when the selection rule or layout changes.
pub const POOL_FORMAT: u32 = 1;

/// One state of the manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PoolEntry {
    /// Index selected by `selector % len`.
    pub id: usize,
    /// File name inside the pool directory.
    pub file: String,
    /// `hash_tree_root` of the state, `0x`-hex.
    pub root: String,
    /// The spec-vector case it was first taken from (relative to the `tests` directory).
    pub source: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// [`POOL_FORMAT`].
    pub format: u32,
    /// Preset name.
    pub preset: String,
    /// consensus-specs version of the source vectors.
    pub spec_version: String,
    /// The states, in id order.
    pub states: Vec<PoolEntry>,
}

/// Errors reading or building a pool.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The manifest is missing or unreadable.
    #[error("state pool manifest {path}: {reason} (build the pool with `diverge corpus build --preset <preset>`; the minimal one is shipped)")]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Writing failed.
    #[error("writing {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A vectors directory could not be read.
    #[error("reading vectors: {0}")]
    Vectors(String),
}

/// A loaded pool: `states[i]` is `Err(reason)` when the file for id `i` is unusable, and `Ok(None)`
/// once [`StatePool::release`] dropped it (the implementations hold their prepared forms).
pub struct StatePool<E: EthSpec> {
    /// The pool directory.
    pub dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
    /// The states, by id.
    pub states: Vec<Result<Option<BeaconState<E>>, String>>,
}

impl<E: EthSpec> StatePool<E> {
    /// Loads `dir/manifest.json` and every state it lists.
    ///
    /// # Errors
    /// A missing or malformed manifest, or one for another preset. Individual state files that
    /// fail are kept as unavailable slots.
    pub fn load(dir: &Path) -> Result<Self, PoolError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| PoolError::Manifest { path: path.clone(), reason: e.to_string() })?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| PoolError::Manifest { path: path.clone(), reason: e.to_string() })?;
        if manifest.preset != E::PRESET_BASE {
            return Err(PoolError::Manifest { path, reason: format!("pool is for preset {}, not {}", manifest.preset, E::PRESET_BASE) });
        }
        if manifest.states.is_empty() {
            return Err(PoolError::Manifest { path, reason: "no states".to_string() });
        }
        let states = manifest
            .states
            .iter()
            .map(|entry| {
                let file = dir.join(&entry.file);
                let state: BeaconState<E> = files::read_ssz(&file).map_err(|e| e.to_string())?;
                let root = format!("{:#x}", state.tree_hash_root());
                if root == entry.root {
                    Ok(Some(state))
                } else {
                    Err(format!("{}: root {root} differs from the manifest's {}", file.display(), entry.root))
                }
            })
            .collect();
        Ok(StatePool { dir: dir.to_path_buf(), manifest, states })
    }

    /// Drops the plain states, keeping which ids are available: after the implementations prepared
    /// them, the plain copies are dead weight (about 2.7 MB per mainnet state).
    pub fn release(&mut self) {
        for state in self.states.iter_mut().flatten() {
            *state = None;
        }
    }

    /// `Err(reason)` when state `id` is unusable (also for an id beyond the pool).
    pub fn available(&self, id: usize) -> Result<(), String> {
        match self.states.get(id) {
            Some(Ok(_)) => Ok(()),
            Some(Err(reason)) => Err(reason.clone()),
            None => Err(format!("no state {id} in a pool of {}", self.states.len())),
        }
    }

    /// The id a selector picks: `selector % len`.
    pub fn select(&self, selector: u16) -> usize {
        usize::from(selector) % self.states.len().max(1)
    }

    /// Number of slots (available or not).
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether the pool has no slot.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
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
    let manifest = Manifest { format: POOL_FORMAT, preset: E::PRESET_BASE.to_string(), spec_version: "v1.1.10".to_string(), states };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| PoolError::Write { path: out_dir.join("manifest.json"), reason: e.to_string() })?;
    crate::findings::write_atomic(&out_dir.join("manifest.json"), json.as_bytes())
        .map_err(|e| PoolError::Write { path: out_dir.join("manifest.json"), reason: e.to_string() })?;
    Ok((manifest, warnings))
}

/// A crafted edge state: a vector's `pre` state changed by `craft`, for bugs that need a state
/// no valid chain reaches (bugs.md A, e.g. `proposer-index-overflow`).
struct Crafted {
    /// Short name, recorded as `crafted:<name> from <vector case>` in the manifest's `source`.
    name: &'static str,
    /// The vector case (below `<tests>/<preset>/phase0/`) whose `pre` state is changed.
    case: &'static str,
    /// What is changed, per validator.
    craft: fn(&mut Validator),
}

/// The crafted states, appended after the vector states in this order (existing ids never move;
/// add new ones at the end).
const CRAFTED: &[Crafted] = &[
    // Every effective balance 2**57 Gwei (far above MAX_EFFECTIVE_BALANCE, which no valid
    // transition exceeds): `effective_balance * MAX_RANDOM_BYTE` overflows uint64 in
    // `compute_proposer_index` (Lighthouse PR 1009, specs #1701). The spec rejects any
    // operation that needs the proposer (uint64 overflow is an exception); the re-injected
    // `bug-proposer-index-overflow` panics.
    Crafted {
        name: "huge-effective-balance",
        case: "operations/block_header/pyspec_tests/success_block_header",
        craft: |v| v.effective_balance = 1 << 57,
    },
];

/// Appends [`CRAFTED`] (deterministic: same vectors, same states) after the vector states. A
/// missing source vector is a warning; the crafted states after it still get the next ids.
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
        state.validators.iter_mut().for_each(c.craft);
        let source = format!("crafted:{} from {}/phase0/{}", c.name, E::PRESET_BASE, c.case);
        add_state(&state, source, out_dir, seen, states)?;
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
