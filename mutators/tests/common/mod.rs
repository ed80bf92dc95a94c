//! The shipped minimal pool for the mutator tests (`corpora/states/minimal`: `manifest.json`
//! and snappy-compressed SSZ states), loaded the way `differential/src/pool.rs` stores it.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, dead_code, reason = "test code: a missing or corrupt pool fails the test that needs it")]

use diverge_types::ssz::Decode;
use diverge_types::{BeaconState, MinimalSpec};
use std::path::{Path, PathBuf};

/// The minimal preset, which the shipped pool uses.
pub type E = MinimalSpec;

/// Reads a snappy-compressed SSZ file (`.ssz_snappy`), panicking with its path.
pub fn read_snappy<T: Decode>(path: &Path) -> T {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    T::from_ssz_bytes(&snap::raw::Decoder::new().decompress_vec(&bytes).unwrap()).unwrap()
}

/// Every pool state with its manifest `source` (`minimal/phase0/...` or `crafted:...`), in id
/// order (a state's index is the selector that picks it).
pub fn pool_with_sources() -> Vec<(String, BeaconState<E>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpora/states/minimal");
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    manifest["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["source"].as_str().unwrap().to_string(), read_snappy(&dir.join(s["file"].as_str().unwrap()))))
        .collect()
}

/// Every pool state, in id order.
pub fn pool() -> Vec<BeaconState<E>> {
    pool_with_sources().into_iter().map(|(_, s)| s).collect()
}
