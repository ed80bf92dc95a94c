//! Helpers shared by the vector-driven tests of diverge-fast.
#![allow(dead_code, clippy::expect_used, reason = "test helpers; not every test uses each")]

use diverge_types::ssz::Decode;
use std::path::{Path, PathBuf};

/// The official vectors' `tests` directory: `$DIVERGE_SPEC_TESTS`, else `../shared` beside the
/// repository; `None` when absent (the test then says so and skips).
pub fn tests_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DIVERGE_SPEC_TESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/consensus-spec-tests/tests"));
    dir.is_dir().then_some(dir)
}

/// A `.ssz_snappy` vector file: `None` when it does not exist; a corrupt one fails the test.
pub fn read<T: Decode>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    let raw = snap::raw::Decoder::new().decompress_vec(&bytes).expect("snappy");
    Some(T::from_ssz_bytes(&raw).expect("ssz"))
}
