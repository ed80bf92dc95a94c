//! The versioned pre-state pool (architecture.md §5): inputs select a state by index into it, so a
//! finding reproduces alone. Built from the spec vectors by `diverge corpus build` (the store's
//! `diverge::pool::build`: the oracle only reads pools), stored as
//! `corpora/states/<preset>/{manifest.json, <root>.ssz_snappy}`.
//!
//! A state file that is missing or corrupt (does not decode, or its root differs from the
//! manifest) keeps its slot, marked unavailable with the path and reason: indices never shift, and
//! inputs selecting other states are unaffected.

use crate::files;
use diverge_types::*;
use serde::{Deserialize, Serialize};
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
    /// The states are not shipped, only this manifest: `diverge::pool::load` builds missing ones
    /// from the spec vectors and checks them against it. Set for mainnet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub built_at_first_use: bool,
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

