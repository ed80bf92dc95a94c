//! The findings store (architecture.md §8): a finding is written to disk before it is reported, as
//! `findings/<target>/<signature-hash>/{input.bin, finding.json}`.
//!
//! A finding directory appears whole or not at all: both files are written and fsynced in a staging
//! directory beside the final one (`findings/<target>/.staging-<hash>-<pid>-<n>`), which is then
//! renamed into place and the parent fsynced. The rename is also the exclusive creation across
//! processes: renaming a directory onto an existing non-empty one fails, so of two workers that
//! record one signature at once, exactly one directory lands and the other learns it lost. A kill at
//! any point leaves at most a hidden staging directory, which readers skip ([`list`]) and
//! [`FindingStore::clean_staging`] removes once its process is gone. One directory per signature:
//! the first input kept, later inputs with the same signature only counted by the caller.

use crate::diff::FieldDiff;
use crate::runner::{Divergence, ImplVerdict};
use crate::target::Target;
pub use diverge_oracle::record::{RecordedState, RecordedVerdict};
use diverge_types::*;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `finding.json` format version.
pub const FINDING_FORMAT: u32 = 1;

/// Writes `bytes` to `path` atomically and durably: a temp file in the same directory, fsync,
/// rename over `path`, fsync of the directory.
///
/// # Errors
/// Any I/O failure; `path` is then either absent or its old content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// `finding.json`: everything needed to understand and reproduce one divergence.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Finding {
    /// [`FINDING_FORMAT`].
    pub format: u32,
    /// The divergence signature.
    pub signature: String,
    /// Target name.
    pub target: String,
    /// Preset name.
    pub preset: String,
    /// BLS mode name.
    pub bls: String,
    /// Reason strictness used.
    pub strictness: crate::target::Strictness,
    /// Pool directory used (as given) and its manifest format.
    pub pool: String,
    /// The selected state.
    pub state: RecordedState,
    /// Every implementation's verdict, in registry order.
    pub verdicts: Vec<RecordedVerdict>,
    /// Majority group, if any.
    pub majority: Vec<String>,
    /// Agreeing groups.
    pub groups: Vec<Vec<String>>,
    /// The differing field the signature names (the first not derived from others), for two
    /// valid post-states.
    pub diff: Option<FieldDiff>,
    /// Every differing field of the two post-states (the first difference within each field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<FieldDiff>,
    /// The known upstream hazard this finding is, with its upstream reference; `None` for a new
    /// finding. `diverge triage` counts known findings apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<crate::policy::KnownHazard>,
    /// What found it: `diverge-run`, `diverge-fuzz`, `libfuzzer`, ...
    pub engine: String,
    /// File name of the input beside this file.
    pub input: String,
    /// SHA-256 of the input, hex.
    pub input_sha256: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    /// The command that reproduces it.
    pub replay: String,
    /// The run's secret batch-verification seed (hex, 32 bytes) under `bls: real`, which `diverge
    /// replay` reuses so that batches draw the same scalars (`diverge_types::bls::batch_scalars`).
    /// Absent in findings recorded before it existed, and under `assume-valid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_seed: Option<String>,
    /// The git commit of the `diverge` that wrote it ([`crate::BUILD_COMMIT`]). Absent in findings
    /// recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The campaign's `--seed` (`diverge fuzz`; the community image draws a fresh one per start),
    /// when a campaign wrote it ([`set_campaign_seed`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

static CAMPAIGN_SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Records `seed` (the campaign's `--seed`) in every finding this process writes from now on.
/// The first call wins.
pub fn set_campaign_seed(seed: u64) {
    let _ = CAMPAIGN_SEED.set(seed);
}

/// Errors reading a finding.
#[derive(Debug, thiserror::Error)]
pub enum FindingError {
    /// Unreadable or malformed file.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Prefix of the staging directories [`FindingStore::record_verdicts`] writes a finding into before
/// renaming it into place; readers skip every entry whose name starts with `.`.
pub const STAGING_PREFIX: &str = ".staging-";

/// Where findings go.
#[derive(Clone, Debug)]
pub struct FindingStore {
    /// The `findings` directory.
    pub root: PathBuf,
}

/// Hex of the first 8 bytes of SHA-256 of the signature: the directory name.
pub fn signature_hash(signature: &str) -> String {
    hex::encode(diverge_types::hash(signature.as_bytes()).get(..8).unwrap_or_default())
}

/// What [`FindingStore::record`] needs beyond the execution.
pub struct Context<'a> {
    /// Target.
    pub target: Target,
    /// BLS mode.
    pub bls: BlsMode,
    /// Strictness used.
    pub strictness: crate::target::Strictness,
    /// Pool directory.
    pub pool_dir: &'a Path,
    /// Selected state.
    pub state: RecordedState,
    /// Engine name.
    pub engine: &'a str,
    /// The run's batch-verification seed, recorded as [`Finding::batch_seed`] under `bls: real`.
    pub batch_seed: Option<diverge_types::bls::BatchSeed>,
}

impl FindingStore {
    /// The directory a signature's finding lives in.
    pub fn dir_for(&self, target: Target, signature: &str) -> PathBuf {
        self.root.join(target.name()).join(signature_hash(signature))
    }

    /// Writes the finding unless one with the same signature exists. Returns its directory and
    /// whether it is new. The files are durable when this returns.
    ///
    /// # Errors
    /// I/O failures.
    pub fn record<E: EthSpec>(&self, ctx: &Context<'_>, input: &[u8], verdicts: &[ImplVerdict<E>], divergence: &Divergence) -> std::io::Result<(PathBuf, bool)> {
        let recorded: Vec<RecordedVerdict> = verdicts.iter().map(RecordedVerdict::from_verdict).collect();
        self.record_verdicts(ctx, E::PRESET_BASE, input, recorded, divergence)
    }

    /// [`FindingStore::record`] with verdicts already recorded (the DKG targets use it).
    ///
    /// # Errors
    /// I/O failures.
    pub fn record_verdicts(&self, ctx: &Context<'_>, preset: &str, input: &[u8], verdicts: Vec<RecordedVerdict>, divergence: &Divergence) -> std::io::Result<(PathBuf, bool)> {
        let dir = self.dir_for(ctx.target, &divergence.signature);
        if dir.join("finding.json").exists() {
            return Ok((dir, false));
        }
        let finding = Finding {
            format: FINDING_FORMAT,
            signature: divergence.signature.clone(),
            target: ctx.target.name().to_string(),
            preset: preset.to_string(),
            bls: ctx.bls.name().to_string(),
            strictness: ctx.strictness,
            pool: ctx.pool_dir.display().to_string(),
            state: ctx.state.clone(),
            verdicts,
            majority: divergence.majority.clone(),
            groups: divergence.groups.clone(),
            diff: divergence.diff.clone(),
            diffs: divergence.diffs.clone(),
            known: divergence.known.as_deref().cloned(),
            engine: ctx.engine.to_string(),
            input: "input.bin".to_string(),
            input_sha256: hex::encode(diverge_types::hash(input)),
            created: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            replay: format!("diverge replay {}", dir.display()),
            batch_seed: ctx.batch_seed.filter(|_| ctx.bls == BlsMode::Real).map(hex::encode),
            commit: Some(crate::BUILD_COMMIT.to_string()),
            seed: CAMPAIGN_SEED.get().copied(),
        };
        let json = serde_json::to_string_pretty(&finding).map_err(std::io::Error::other)?;
        let created = publish_dir(&dir, &[("input.bin", input), ("finding.json", json.as_bytes())])?;
        Ok((dir, created))
    }

    /// Checks before a campaign starts that findings can be written here: creates the directory and
    /// publishes and removes a probe file, so a read-only or missing mount fails at once, not at the
    /// first finding hours later.
    ///
    /// # Errors
    /// The I/O failure, with the store's path.
    pub fn check_writable(&self) -> std::io::Result<()> {
        let probe = self.root.join(format!(".probe-{}", std::process::id()));
        let r = std::fs::create_dir_all(&self.root).and_then(|()| write_atomic(&probe, b"probe")).and_then(|()| std::fs::remove_file(&probe));
        r.map_err(|e| std::io::Error::new(e.kind(), format!("{}: findings cannot be written: {e}", self.root.display())))
    }

    /// Removes the staging directories of processes that no longer run (left by a kill between
    /// staging and rename: never a finding, since nothing was reported for them). Returns how many
    /// were removed.
    pub fn clean_staging(&self) -> usize {
        let mut removed = 0usize;
        let Ok(targets) = std::fs::read_dir(&self.root) else { return 0 };
        for target in targets.filter_map(Result::ok) {
            let Ok(entries) = std::fs::read_dir(target.path()) else { continue };
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(rest) = name.strip_prefix(STAGING_PREFIX) else { continue };
                // `<hash>-<pid>-<n>`
                let pid = rest.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
                let alive = pid.is_some_and(|pid| pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists());
                if !alive && std::fs::remove_dir_all(entry.path()).is_ok() {
                    removed = removed.saturating_add(1);
                }
            }
        }
        removed
    }
}

/// Creates `dir` holding `files`, whole or not at all: the files are written and fsynced in a
/// staging directory beside `dir`, which is renamed onto `dir`; then the parent is fsynced.
/// Returns `false` (and leaves `dir` as it is) when another process created `dir` first. An
/// incomplete `dir` without `finding.json` (left by a version that wrote in place) is moved aside to
/// `<dir>.incomplete-<pid>` first.
///
/// # Errors
/// Any I/O failure; `dir` is then absent or as it was, and the staging directory is removed.
pub fn publish_dir(dir: &Path, files: &[(&str, &[u8])]) -> std::io::Result<bool> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let leaf = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let staging = parent.join(format!("{STAGING_PREFIX}{leaf}-{}-{n}", std::process::id()));
    let result = (|| {
        std::fs::create_dir(&staging)?;
        for (name, bytes) in files {
            let mut f = std::fs::File::create(staging.join(name))?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::File::open(&staging)?.sync_all()?;
        for attempt in 0..2 {
            match std::fs::rename(&staging, dir) {
                Ok(()) => {
                    std::fs::File::open(parent)?.sync_all()?;
                    return Ok(true);
                }
                Err(e) if dir.is_dir() => {
                    if dir.join("finding.json").exists() || attempt > 0 {
                        // Another process published it first (or the move aside failed again).
                        let _ = std::fs::remove_dir_all(&staging);
                        return if dir.join("finding.json").exists() { Ok(false) } else { Err(e) };
                    }
                    std::fs::rename(dir, parent.join(format!("{leaf}.incomplete-{}", std::process::id())))?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// What a findings directory holds, as every reader sees it.
#[derive(Debug, Default)]
pub struct Listing {
    /// The `finding.json` of every complete finding, sorted.
    pub findings: Vec<PathBuf>,
    /// Directories below a target directory that hold no `finding.json` (not staging ones): each is
    /// reported by the reader, never loaded.
    pub incomplete: Vec<PathBuf>,
}

/// Lists the findings below `root` (`<root>/<target>/<hash>/finding.json`, or any deeper layout a
/// user copied in): every `finding.json` found, and every leaf directory without one. Entries whose
/// name starts with `.` (staging directories, editors' files) are skipped.
pub fn list(root: &Path) -> Listing {
    fn walk(dir: &Path, depth: usize, out: &mut Listing) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut subdirs = 0usize;
        let mut has_finding = false;
        for entry in entries.filter_map(Result::ok) {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                subdirs = subdirs.saturating_add(1);
                walk(&path, depth.saturating_add(1), out);
            } else if path.file_name().is_some_and(|n| n == "finding.json") {
                has_finding = true;
                out.findings.push(path);
            }
        }
        // A leaf two levels down (`<target>/<hash>`) with no finding.json is a broken finding.
        if depth >= 2 && subdirs == 0 && !has_finding {
            out.incomplete.push(dir.to_path_buf());
        }
    }
    let mut out = Listing::default();
    walk(root, 0, &mut out);
    out.findings.sort();
    out.incomplete.sort();
    out
}

/// Reads a finding from its directory or its `finding.json`, with the input bytes, checking the
/// input's hash.
///
/// # Errors
/// [`FindingError::Corrupt`] naming the file and the reason.
pub fn load(path: &Path) -> Result<(Finding, Vec<u8>, PathBuf), FindingError> {
    let json_path = if path.is_dir() { path.join("finding.json") } else { path.to_path_buf() };
    let corrupt = |p: &Path, reason: String| FindingError::Corrupt { path: p.to_path_buf(), reason };
    let text = std::fs::read_to_string(&json_path).map_err(|e| corrupt(&json_path, format!("cannot read: {e}")))?;
    let finding: Finding = serde_json::from_str(&text).map_err(|e| corrupt(&json_path, format!("not a finding: {e}")))?;
    let dir = json_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let input_path = dir.join(&finding.input);
    let input = std::fs::read(&input_path).map_err(|e| corrupt(&input_path, format!("cannot read: {e}")))?;
    if hex::encode(diverge_types::hash(&input)) != finding.input_sha256 {
        return Err(corrupt(&input_path, "SHA-256 differs from finding.json's input_sha256".to_string()));
    }
    Ok((finding, input, dir))
}
