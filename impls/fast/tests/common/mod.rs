//! Helpers shared by the vector-driven tests of diverge-fast.
#![allow(dead_code, clippy::expect_used, reason = "test helpers; not every test uses each")]

use diverge_types::ssz::Decode;
use std::path::{Path, PathBuf};

/// The official vectors' `tests` directory ([`diverge_test_vectors::require`]: the test fails,
/// naming the paths tried, when there are none).
pub fn tests_dir() -> PathBuf {
    diverge_test_vectors::require()
}

/// A `.ssz_snappy` vector file: `None` when it does not exist; a corrupt one fails the test.
pub fn read<T: Decode>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    let raw = snap::raw::Decoder::new().decompress_vec(&bytes).expect("snappy");
    Some(T::from_ssz_bytes(&raw).expect("ssz"))
}
