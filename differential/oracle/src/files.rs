//! Reading the files of one test case: `.ssz_snappy` (raw snappy framing-free blocks, as the
//! consensus-spec-tests format prescribes) and YAML. Every error carries the file's path and the
//! reason, so a corrupt case is reported precisely and the run goes on.

use diverge_types::ssz::Decode;
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};

/// A file of a case that could not be read, decompressed or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The offending file.
    pub path: PathBuf,
    /// What went wrong, for a person.
    pub reason: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for FileError {}

fn err(path: &Path, reason: impl Into<String>) -> FileError {
    FileError { path: path.to_path_buf(), reason: reason.into() }
}

/// Reads a whole file.
///
/// # Errors
/// Missing or unreadable file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, FileError> {
    std::fs::read(path).map_err(|e| err(path, format!("cannot read: {e}")))
}

/// Reads and snappy-decompresses an `.ssz_snappy` file (raw snappy, `snap::raw`).
///
/// # Errors
/// Missing file or invalid snappy data (e.g. a truncated file).
pub fn read_ssz_snappy_bytes(path: &Path) -> Result<Vec<u8>, FileError> {
    let compressed = read_bytes(path)?;
    snap::raw::Decoder::new()
        .decompress_vec(&compressed)
        .map_err(|e| err(path, format!("invalid snappy data: {e}")))
}

/// Reads an `.ssz_snappy` file and decodes it as `T`.
///
/// # Errors
/// As [`read_ssz_snappy_bytes`], or SSZ that does not decode as `T`.
pub fn read_ssz<T: Decode>(path: &Path) -> Result<T, FileError> {
    let bytes = read_ssz_snappy_bytes(path)?;
    T::from_ssz_bytes(&bytes).map_err(|e| err(path, format!("invalid SSZ for {}: {e:?}", short_type_name::<T>())))
}

/// Like [`read_ssz`], but a missing file is `Ok(None)` (an absent `post` means "invalid input").
///
/// # Errors
/// As [`read_ssz`] for a file that exists.
pub fn read_ssz_opt<T: Decode>(path: &Path) -> Result<Option<T>, FileError> {
    if path.exists() {
        read_ssz(path).map(Some)
    } else {
        Ok(None)
    }
}

/// Reads and parses a YAML file.
///
/// # Errors
/// Missing file or YAML that does not parse as `T`.
pub fn read_yaml<T: DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    serde_saphyr::from_str(&text).map_err(|e| err(path, format!("invalid YAML: {}", one_line(&e.to_string()))))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// `meta.yaml` of a case. Absent file: every field defaults.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Meta {
    /// 0: BLS optional, 1: required, 2: must be ignored (signatures are fake).
    #[serde(default)]
    pub bls_setting: u8,
    /// `sanity/blocks`, `finality`, `random`: number of `blocks_<i>` files.
    #[serde(default)]
    pub blocks_count: Option<usize>,
    /// `genesis/initialization`: number of `deposits_<i>` files.
    #[serde(default)]
    pub deposits_count: Option<usize>,
}

/// Reads `meta.yaml` in `case_dir`, defaulting when it is absent.
///
/// # Errors
/// A `meta.yaml` that exists but does not parse.
pub fn read_meta(case_dir: &Path) -> Result<Meta, FileError> {
    let path = case_dir.join("meta.yaml");
    if path.exists() {
        read_yaml(&path)
    } else {
        Ok(Meta::default())
    }
}

/// Parses a `0x`-prefixed hex string of exactly `N` bytes.
///
/// # Errors
/// Not hex, or the wrong length.
pub fn parse_hex<const N: usize>(path: &Path, s: &str) -> Result<[u8; N], FileError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(digits).map_err(|e| err(path, format!("invalid hex {s:?}: {e}")))?;
    bytes.try_into().map_err(|b: Vec<u8>| err(path, format!("expected {N} bytes, got {}", b.len())))
}
