//! `diverge replay`, `diverge minimize`, `diverge triage`: reproduce a finding in a fresh process,
//! shrink its input while keeping its signature, and group a findings directory by signature.

use crate::findings::{self, Finding, FindingError, RecordedState, RecordedVerdict};
use crate::runner::{Divergence, ParanoidMismatch, RunnerConfig};
use crate::session::{default_pool_dir, Outcome, Session};
use crate::target::{Strictness, Target};
use diverge_types::bls;
use diverge_types::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything an execution needs, from a finding or from the command line.
#[derive(Clone, Debug)]
pub struct ReplaySpec {
    /// Target.
    pub target: Target,
    /// Preset.
    pub preset: Preset,
    /// BLS mode.
    pub bls: BlsMode,
    /// Strictness.
    pub strictness: Strictness,
    /// Pool directory.
    pub pool_dir: PathBuf,
    /// The input bytes.
    pub input: Vec<u8>,
    /// The recorded finding, when replaying one.
    pub recorded: Option<Finding>,
    /// Batch-verification seed: the finding's `batch_seed` (or `--batch-seed`); `None` draws the
    /// process's own ([`bls::process_batch_seed`]).
    pub batch_seed: Option<bls::BatchSeed>,
    /// Paranoid mode ([`RunnerConfig::paranoid`]): on with `--paranoid`, and when replaying a
    /// finding whose verdicts record a paranoid mismatch.
    pub paranoid: bool,
}

/// Parses a 32-byte batch seed written as 64 hex digits (an optional `0x` prefix allowed).
///
/// # Errors
/// What is wrong with the text.
pub fn parse_batch_seed(text: &str) -> Result<bls::BatchSeed, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(digits).map_err(|e| format!("not hex: {e}"))?;
    bls::BatchSeed::try_from(bytes.as_slice()).map_err(|_| format!("{} bytes, expected 32", bytes.len()))
}

/// Errors of replay/minimize/triage set-up.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The finding file is unusable.
    #[error(transparent)]
    Finding(#[from] FindingError),
    /// The pool is unusable.
    #[error(transparent)]
    Pool(#[from] crate::pool::PoolError),
    /// A field of the finding has an unknown value.
    #[error("{path}: unknown {field} {value:?}")]
    Field {
        /// The finding.
        path: PathBuf,
        /// Which field.
        field: &'static str,
        /// Its value.
        value: String,
    },
    /// Writing failed.
    #[error("writing {0}: {1}")]
    Write(PathBuf, std::io::Error),
}

/// Parses a BLS mode name (`real`, `assume-valid`).
pub fn parse_bls(name: &str) -> Option<BlsMode> {
    [BlsMode::Real, BlsMode::AssumeValid].into_iter().find(|m| m.name() == name)
}

impl ReplaySpec {
    /// Reads a finding directory or `finding.json`. The pool is the recorded one when it exists,
    /// else the repository's default for the preset.
    ///
    /// # Errors
    /// A corrupt finding, naming the file.
    pub fn from_finding(path: &Path) -> Result<ReplaySpec, ReplayError> {
        let (finding, input, dir) = findings::load(path)?;
        let json = dir.join("finding.json");
        let field = |field: &'static str, value: &str| ReplayError::Field { path: json.clone(), field, value: value.to_string() };
        let target = Target::from_name(&finding.target).ok_or_else(|| field("target", &finding.target))?;
        let preset = Preset::from_name(&finding.preset).ok_or_else(|| field("preset", &finding.preset))?;
        let bls = parse_bls(&finding.bls).ok_or_else(|| field("bls", &finding.bls))?;
        let recorded_pool = PathBuf::from(&finding.pool);
        let pool_dir = if recorded_pool.join("manifest.json").is_file() { recorded_pool } else { default_pool_dir(preset) };
        let batch_seed = match &finding.batch_seed {
            Some(hex) => Some(parse_batch_seed(hex).map_err(|e| field("batch_seed", &format!("{hex} ({e})")))?),
            None => None,
        };
        let paranoid = finding.verdicts.iter().any(|v| v.message.as_deref().is_some_and(|m| m.starts_with(ParanoidMismatch::PREFIX)));
        Ok(ReplaySpec { target, preset, bls, strictness: finding.strictness, pool_dir, input, recorded: Some(finding), batch_seed, paranoid })
    }

    /// The runner session for this spec.
    ///
    /// # Errors
    /// An unusable pool.
    pub fn session(&self) -> Result<Session, ReplayError> {
        let mut config = RunnerConfig { bls: self.bls, strictness: Some(self.strictness), paranoid: self.paranoid, ..RunnerConfig::default() };
        if let Some(seed) = self.batch_seed {
            config.batch_seed = seed;
        }
        Ok(Session::new(self.preset, &self.pool_dir, config)?)
    }
}

/// The result of a replay, for people and `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    /// Target.
    pub target: String,
    /// Preset.
    pub preset: String,
    /// BLS mode.
    pub bls: String,
    /// `undecodable`, `state-unavailable`, `agreed` or `diverged`.
    pub status: String,
    /// Why, for the first two statuses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Selected state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<RecordedState>,
    /// Verdicts in registry order.
    pub verdicts: Vec<RecordedVerdict>,
    /// The divergence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergence: Option<Divergence>,
    /// For a finding: whether the verdicts are identical to the recorded ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduced: Option<bool>,
}

impl ReplayReport {
    /// A report of `target` under `preset` and `bls` with nothing in it yet.
    pub fn empty(target: Target, preset: Preset, bls: BlsMode) -> ReplayReport {
        ReplayReport {
            target: target.name().to_string(),
            preset: preset.name().to_string(),
            bls: bls.name().to_string(),
            status: String::new(),
            detail: None,
            state: None,
            verdicts: Vec::new(),
            divergence: None,
            reproduced: None,
        }
    }

    /// The report of one `outcome` of `target` in `session` (not compared with any recording).
    pub fn of(target: Target, session: &Session, outcome: Outcome) -> ReplayReport {
        let mut report = ReplayReport::empty(target, session.preset, session.config.bls);
        match outcome {
            Outcome::Undecodable(e) => {
                report.status = "undecodable".into();
                report.detail = Some(e);
            }
            Outcome::StateUnavailable(e) => {
                report.status = "state-unavailable".into();
                report.detail = Some(e);
            }
            Outcome::Agreed { verdicts, state } => {
                report.status = "agreed".into();
                report.verdicts = verdicts;
                report.state = Some(state);
            }
            Outcome::Diverged { divergence, verdicts, state } => {
                report.status = "diverged".into();
                report.verdicts = verdicts;
                report.state = Some(state);
                report.divergence = Some(divergence);
            }
        }
        report
    }
}

/// Runs the spec's input once.
///
/// # Errors
/// An unusable pool.
pub fn replay(spec: &ReplaySpec) -> Result<ReplayReport, ReplayError> {
    let session = spec.session()?;
    let mut report = ReplayReport::of(spec.target, &session, session.run(spec.target, &spec.input));
    if let Some(recorded) = &spec.recorded {
        report.reproduced = Some(
            report.divergence.as_ref().map(|d| &d.signature) == Some(&recorded.signature) && same_verdicts(&recorded.verdicts, &report.verdicts),
        );
    }
    Ok(report)
}

/// Same verdicts, versions aside (they may differ between the recording and the replaying build).
pub fn same_verdicts(a: &[RecordedVerdict], b: &[RecordedVerdict]) -> bool {
    // Versions may differ between the recording and the replaying build; the verdicts may not.
    let key = |v: &RecordedVerdict| (v.implementation.clone(), v.kind.clone(), v.reason.clone(), v.message.clone(), v.post_root.clone());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| key(x) == key(y))
}

/// Shrinks `spec.input` while the divergence signature stays `signature`: removes ever smaller
/// chunks of the body after the 2-byte selector (delta debugging), within `max_execs` executions.
/// Returns the smallest input found and the executions used.
///
/// # Errors
/// An unusable pool.
pub fn minimize(spec: &ReplaySpec, signature: &str, max_execs: usize) -> Result<(Vec<u8>, usize), ReplayError> {
    let session = spec.session()?;
    let keeps = |data: &[u8]| session.run(spec.target, data).signature() == Some(signature);
    let mut best = spec.input.clone();
    let mut execs = 0usize;
    let header = 2.min(best.len());
    let mut chunk = best.len().saturating_sub(header).div_ceil(2).max(1);
    loop {
        let mut start = header;
        let mut progressed = false;
        while start < best.len() && execs < max_execs {
            let end = start.saturating_add(chunk).min(best.len());
            let mut candidate = best.get(..start).unwrap_or_default().to_vec();
            candidate.extend_from_slice(best.get(end..).unwrap_or_default());
            execs = execs.saturating_add(1);
            if keeps(&candidate) {
                best = candidate;
                progressed = true;
            } else {
                start = end;
            }
        }
        if execs >= max_execs || (chunk == 1 && !progressed) {
            break;
        }
        if !progressed {
            chunk = chunk.div_ceil(2).max(1);
        }
    }
    Ok((best, execs))
}

/// One signature group of a findings directory.
#[derive(Clone, Debug, Serialize)]
pub struct TriageGroup {
    /// The signature.
    pub signature: String,
    /// Number of findings with it.
    pub count: usize,
    /// One finding directory.
    pub example: PathBuf,
    /// Its replay command.
    pub replay: String,
    /// The known upstream hazard, when the signature is one (counted apart from new findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<crate::policy::KnownHazard>,
}

/// Groups every `finding.json` below `dir` by signature ([`findings::list`]: staging directories
/// skipped). Corrupt findings, and directories that hold no `finding.json`, are returned separately
/// with their path and reason; they do not stop the rest.
pub fn triage(dir: &Path) -> (Vec<TriageGroup>, Vec<String>) {
    let listing = findings::list(dir);
    let mut groups: BTreeMap<String, TriageGroup> = BTreeMap::new();
    let mut errors: Vec<String> = listing.incomplete.iter().map(|d| format!("{}: incomplete finding directory (no finding.json): skipped", d.display())).collect();
    for path in listing.findings {
        match findings::load(&path) {
            Ok((finding, _, finding_dir)) => {
                let g = groups.entry(finding.signature.clone()).or_insert_with(|| TriageGroup {
                    signature: finding.signature.clone(),
                    count: 0,
                    example: finding_dir.clone(),
                    replay: format!("diverge replay {}", finding_dir.display()),
                    known: finding.known.clone(),
                });
                g.count = g.count.saturating_add(1);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    (groups.into_values().collect(), errors)
}

