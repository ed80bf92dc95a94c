//! The spec-vector runner: every case of the official consensus-spec-tests layout
//! `<root>/<preset>/phase0/<runner>/<handler>/<suite>/<case>/` through every implementation, with a
//! pass/fail count per preset × runner × handler × implementation.
//!
//! A case whose files are missing or corrupt fails with the file's path and the reason; every
//! other case still runs. An implementation that panics fails that case with the panic message.

pub use diverge_oracle::files;
mod runners;

use diverge_types::Preset;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use runners::{SUPPORTED_RUNNERS, SSZ_IMPLEMENTATION};

/// What to run.
#[derive(Debug, Clone)]
pub struct VectorsConfig {
    /// The `tests` directory holding `<preset>/phase0/...`.
    pub root: PathBuf,
    /// Presets to run.
    pub presets: Vec<Preset>,
    /// Runner names to run; empty means every runner found.
    pub runners: Vec<String>,
    /// Implementation names to run; empty means all registered.
    pub implementations: Vec<String>,
}

/// One test case on disk.
#[derive(Debug, Clone)]
pub struct Case {
    /// Preset.
    pub preset: Preset,
    /// Runner, e.g. `operations`.
    pub runner: String,
    /// Handler, e.g. `attestation`.
    pub handler: String,
    /// The case directory.
    pub dir: PathBuf,
}

/// The result of one case for one implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Matches the expected result.
    Passed,
    /// Does not match, or the case could not be read; the reason says which and why.
    Failed(String),
}

/// One failing case in a result row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    /// The case directory.
    pub case: String,
    /// Why it failed.
    pub reason: String,
}

/// Counts for one preset × runner × handler × implementation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResultRow {
    /// Preset name.
    pub preset: String,
    /// Runner name.
    pub runner: String,
    /// Handler name.
    pub handler: String,
    /// Implementation name (`-` for a skipped runner).
    pub implementation: String,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases not run.
    pub skipped: usize,
    /// Why cases were skipped, when some were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// The failing cases.
    pub failures: Vec<Failure>,
}

/// Errors that stop a run before any case runs.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The vectors directory is missing.
    #[error("no spec vectors for preset {preset} at {path}: run scripts/get-spec-tests.sh, or point --tests / DIVERGE_SPEC_TESTS at a consensus-spec-tests `tests` directory")]
    MissingPreset {
        /// Preset.
        preset: Preset,
        /// Where they were looked for.
        path: PathBuf,
    },
    /// An `--impl` name is not registered.
    #[error("unknown implementation {0:?} (registered: {1})")]
    UnknownImplementation(String, String),
    /// A directory could not be listed.
    #[error("cannot list {path}: {reason}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn subdirs(path: &Path) -> Result<Vec<PathBuf>, SetupError> {
    let entries = std::fs::read_dir(path).map_err(|e| SetupError::Io { path: path.to_path_buf(), reason: e.to_string() })?;
    let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    Ok(dirs)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Lists every case under `root` for the configured presets and runners, plus a skipped row for
/// every runner found that Diverge does not support.
///
/// # Errors
/// A preset directory that does not exist, or an unreadable directory.
pub fn discover(config: &VectorsConfig) -> Result<(Vec<Case>, Vec<ResultRow>), SetupError> {
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for &preset in &config.presets {
        let phase0 = config.root.join(preset.name()).join("phase0");
        if !phase0.is_dir() {
            return Err(SetupError::MissingPreset { preset, path: phase0 });
        }
        for runner_dir in subdirs(&phase0)? {
            let runner = file_name(&runner_dir);
            if !config.runners.is_empty() && !config.runners.contains(&runner) {
                continue;
            }
            for handler_dir in subdirs(&runner_dir)? {
                let handler = file_name(&handler_dir);
                let mut found = Vec::new();
                for suite_dir in subdirs(&handler_dir)? {
                    for dir in subdirs(&suite_dir)? {
                        found.push(Case { preset, runner: runner.clone(), handler: handler.clone(), dir });
                    }
                }
                match runners::unsupported_reason(&runner, &handler) {
                    None => cases.extend(found),
                    Some(reason) => skipped.push(ResultRow {
                        preset: preset.name().to_string(),
                        runner: runner.clone(),
                        handler,
                        implementation: "-".to_string(),
                        passed: 0,
                        failed: 0,
                        skipped: found.len(),
                        skip_reason: Some(reason),
                        failures: Vec::new(),
                    }),
                }
            }
        }
    }
    Ok((cases, skipped))
}

/// Checks the `--impl` names against the registry.
///
/// # Errors
/// [`SetupError::UnknownImplementation`].
pub fn check_implementations(names: &[String]) -> Result<(), SetupError> {
    let known = crate::registry::implementation_names();
    for n in names {
        if !known.contains(&n.as_str()) {
            return Err(SetupError::UnknownImplementation(n.clone(), known.join(", ")));
        }
    }
    Ok(())
}

/// Runs one case through the selected implementations. Never panics: implementation panics are
/// caught and reported as failures.
pub fn run_case(case: &Case, implementations: &[String]) -> Vec<(String, Outcome)> {
    match case.preset {
        Preset::Minimal => runners::run_case::<diverge_types::MinimalSpec>(case, implementations),
        Preset::Mainnet => runners::run_case::<diverge_types::MainnetSpec>(case, implementations),
    }
}

/// Runs every case (in parallel) and aggregates rows, sorted by preset, runner, handler and
/// implementation. `progress` is called once per finished case.
pub fn run_all(cases: &[Case], implementations: &[String], progress: &(dyn Fn(&Case) + Sync)) -> Vec<ResultRow> {
    let results: Vec<(&Case, Vec<(String, Outcome)>)> = cases
        .par_iter()
        .map(|case| {
            let r = run_case(case, implementations);
            progress(case);
            (case, r)
        })
        .collect();
    let mut rows: BTreeMap<(Preset, String, String, String), ResultRow> = BTreeMap::new();
    for (case, outcomes) in results {
        for (implementation, outcome) in outcomes {
            let key = (case.preset, case.runner.clone(), case.handler.clone(), implementation.clone());
            let row = rows.entry(key).or_insert_with(|| ResultRow {
                preset: case.preset.name().to_string(),
                runner: case.runner.clone(),
                handler: case.handler.clone(),
                implementation,
                passed: 0,
                failed: 0,
                skipped: 0,
                skip_reason: None,
                failures: Vec::new(),
            });
            match outcome {
                Outcome::Passed => row.passed = row.passed.saturating_add(1),
                Outcome::Failed(reason) => {
                    row.failed = row.failed.saturating_add(1);
                    row.failures.push(Failure { case: case.dir.display().to_string(), reason });
                }
            }
        }
    }
    let mut rows: Vec<ResultRow> = rows.into_values().collect();
    for row in &mut rows {
        row.failures.sort_by(|a, b| a.case.cmp(&b.case));
    }
    rows
}

/// The default `tests` directory of [`repository_root`], by the lookup every vector-driven test
/// uses ([`diverge_test_vectors::locate_in`]): `$DIVERGE_SPEC_TESTS`, else
/// `../shared/consensus-spec-tests/tests` beside the repository, else `spec-tests/tests` (where
/// `scripts/get-spec-tests.sh` puts them).
///
/// # Errors
/// [`diverge_test_vectors::NotFound`] naming every path tried.
pub fn default_tests_dir() -> Result<PathBuf, diverge_test_vectors::NotFound> {
    diverge_test_vectors::locate_in(&repository_root())
}

/// The repository root: the nearest ancestor of the current directory holding `differential/`
/// and `impls/`, else the one this binary was built from.
pub fn repository_root() -> PathBuf {
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            if dir.join("differential").is_dir() && dir.join("impls").is_dir() {
                return dir.to_path_buf();
            }
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}
