//! A preset-erased runner session for the CLI and the harnesses: the pool loaded and prepared once,
//! findings written before they are reported.

use crate::findings::{Context, FindingStore, RecordedState, RecordedVerdict};
use crate::runner::{Divergence, Execution, Runner, RunnerConfig};
use crate::target::Target;
use diverge_oracle::voter::ExternalVoter;
use diverge_types::*;
use std::path::{Path, PathBuf};

/// Default pool directory for a preset: `<repo>/corpora/states/<preset>`.
pub fn default_pool_dir(preset: Preset) -> PathBuf {
    crate::vectors::repository_root().join("corpora").join("states").join(preset.name())
}

/// Default seed corpus directory of a target: `<repo>/corpora/<target>` (minimal, and the DKG
/// targets, which have no preset) or `<repo>/corpora/mainnet/<target>`.
pub fn default_corpus_dir(preset: Preset, target: Target) -> PathBuf {
    let root = crate::vectors::repository_root().join("corpora");
    match preset {
        _ if !target.uses_pool() => root.join(target.name()),
        Preset::Minimal => root.join(target.name()),
        Preset::Mainnet => root.join("mainnet").join(target.name()),
    }
}

/// The outcome of one input, preset-erased.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Does not decode.
    Undecodable(String),
    /// Selected pool state unusable.
    StateUnavailable(String),
    /// Every implementation agreed.
    Agreed {
        /// The common verdict.
        verdicts: Vec<RecordedVerdict>,
        /// Selected state.
        state: RecordedState,
    },
    /// A divergence.
    Diverged {
        /// The divergence.
        divergence: Divergence,
        /// All verdicts.
        verdicts: Vec<RecordedVerdict>,
        /// Selected state.
        state: RecordedState,
    },
}

impl Outcome {
    /// The signature, for a divergence.
    pub fn signature(&self) -> Option<&str> {
        match self {
            Outcome::Diverged { divergence, .. } => Some(&divergence.signature),
            _ => None,
        }
    }
}

trait AnyRunner: Send + Sync {
    fn run(&self, target: Target, data: &[u8], record: Option<(&FindingStore, &str)>, roots: bool) -> std::io::Result<(Outcome, Option<(PathBuf, bool)>)>;
    fn pool_len(&self) -> usize;
    fn time_alone(&self, target: Target, inputs: &[Vec<u8>], implementation: &str, rounds: usize) -> Option<(u64, std::time::Duration)>;
}

struct Typed<E: EthSpec> {
    runner: Runner<E>,
    pool_dir: PathBuf,
}

impl<E: EthSpec> AnyRunner for Typed<E> {
    fn run(&self, target: Target, data: &[u8], record: Option<(&FindingStore, &str)>, roots: bool) -> std::io::Result<(Outcome, Option<(PathBuf, bool)>)> {
        let execution = self.runner.run(target, data);
        let mismatches = crate::runner::take_paranoid_mismatches();
        match execution {
            Execution::Undecodable(e) => Ok((Outcome::Undecodable(e.to_string()), None)),
            Execution::StateUnavailable { id, reason } => Ok((Outcome::StateUnavailable(format!("pool state {id}: {reason}")), None)),
            Execution::Ran { state_id, verdicts, divergence } => {
                let entry = self.runner.pool.manifest.states.get(state_id);
                let state = RecordedState {
                    id: state_id,
                    root: entry.map(|e| e.root.clone()).unwrap_or_default(),
                    source: entry.map(|e| e.source.clone()).unwrap_or_default(),
                };
                let with_roots = roots || divergence.is_some();
                let mut recorded: Vec<RecordedVerdict> = verdicts.iter().map(|v| RecordedVerdict::record(v, with_roots)).collect();
                crate::runner::attach_paranoid_messages(&mut recorded, &mismatches);
                match divergence {
                    None => Ok((Outcome::Agreed { verdicts: recorded, state }, None)),
                    Some(divergence) => {
                        let written = match record {
                            Some((store, engine)) => {
                                let ctx = Context {
                                    target,
                                    bls: self.runner.config.bls,
                                    strictness: self.runner.config.strictness.unwrap_or(target.strictness()),
                                    pool_dir: &self.pool_dir,
                                    state: state.clone(),
                                    engine,
                                    batch_seed: Some(self.runner.config.batch_seed),
                                };
                                Some(store.record_verdicts(&ctx, E::PRESET_BASE, data, recorded.clone(), &divergence)?)
                            }
                            None => None,
                        };
                        Ok((Outcome::Diverged { divergence, verdicts: recorded, state }, written))
                    }
                }
            }
        }
    }
    fn pool_len(&self) -> usize {
        self.runner.pool.len()
    }
    fn time_alone(&self, target: Target, inputs: &[Vec<u8>], implementation: &str, rounds: usize) -> Option<(u64, std::time::Duration)> {
        let imp = self.runner.implementations.iter().find(|i| i.name() == implementation)?;
        let decoded: Vec<(usize, Operation<E>)> = inputs
            .iter()
            .filter_map(|d| crate::target::decode::<E>(target, d).ok())
            .map(|d| (self.runner.pool.select(d.selector), d.operation))
            .filter(|(id, _)| self.runner.pool.available(*id).is_ok())
            .collect();
        let start = std::time::Instant::now();
        let mut n = 0u64;
        for _ in 0..rounds {
            for (id, op) in &decoded {
                let _ = std::hint::black_box(imp.execute(*id, op, self.runner.config.bls));
                n += 1;
            }
        }
        Some((n, start.elapsed()))
    }
}

/// A prepared runner for one preset.
pub struct Session {
    inner: Box<dyn AnyRunner>,
    /// Preset.
    pub preset: Preset,
    /// Settings.
    pub config: RunnerConfig,
}

impl Session {
    /// Loads the pool at `pool_dir` and prepares every implementation over it.
    ///
    /// # Errors
    /// A missing or malformed pool manifest.
    pub fn new(preset: Preset, pool_dir: &Path, config: RunnerConfig) -> Result<Session, crate::pool::PoolError> {
        Self::with_voters(preset, pool_dir, config, Vec::new())
    }

    /// [`Session::new`] with external voters ([`diverge_oracle::voter`], e.g.
    /// [`crate::voter::ProcessVoter`]) asked after the in-process implementations on the phase0
    /// targets that select a pool state.
    ///
    /// # Errors
    /// A missing or malformed pool manifest.
    pub fn with_voters(preset: Preset, pool_dir: &Path, config: RunnerConfig, external: Vec<Box<dyn ExternalVoter>>) -> Result<Session, crate::pool::PoolError> {
        fn typed<E: EthSpec>(pool_dir: &Path, config: RunnerConfig, external: Vec<Box<dyn ExternalVoter>>) -> Result<Box<dyn AnyRunner>, crate::pool::PoolError> {
            let pool = crate::pool::load::<E>(pool_dir)?;
            Ok(Box::new(Typed { runner: Runner::new(pool, config).with_external(external), pool_dir: pool_dir.to_path_buf() }))
        }
        let inner = match preset {
            Preset::Minimal => typed::<MinimalSpec>(pool_dir, config, external)?,
            Preset::Mainnet => typed::<MainnetSpec>(pool_dir, config, external)?,
        };
        Ok(Session { inner, preset, config })
    }

    /// Runs one input; nothing is written. Verdicts carry post-state roots.
    pub fn run(&self, target: Target, data: &[u8]) -> Outcome {
        let result = if let Some(p2p) = target.p2p() {
            self.run_p2p(target, p2p, data, None)
        } else if target.is_dkg() {
            self.run_dkg(target, data, None)
        } else if target == Target::SszDecode {
            self.run_ssz_decode(data, None)
        } else {
            self.inner.run(target, data, None, true)
        };
        match result {
            Ok((o, _)) => o,
            Err(e) => Outcome::StateUnavailable(e.to_string()),
        }
    }

    /// Runs one input and, on a divergence, writes the finding (durably) before returning:
    /// `Some((dir, is_new))`. Post-state roots are computed only for divergences.
    ///
    /// # Errors
    /// Writing the finding failed.
    pub fn run_and_record(&self, target: Target, data: &[u8], store: &FindingStore, engine: &str) -> std::io::Result<(Outcome, Option<(PathBuf, bool)>)> {
        if let Some(p2p) = target.p2p() {
            return self.run_p2p(target, p2p, data, Some((store, engine)));
        }
        if target.is_dkg() {
            return self.run_dkg(target, data, Some((store, engine)));
        }
        if target == Target::SszDecode {
            return self.run_ssz_decode(data, Some((store, engine)));
        }
        self.inner.run(target, data, Some((store, engine)), false)
    }

    /// `ssz_decode`: the shared decoder must not panic and must accept only canonical encodings.
    fn run_ssz_decode(&self, data: &[u8], record: Option<(&FindingStore, &str)>) -> std::io::Result<(Outcome, Option<(PathBuf, bool)>)> {
        use crate::ssz_types::{ssz_decode, SszDecodeOutcome, SSZ_TYPES};
        diverge_oracle::hooks::enter("ssz");
        let outcome = match self.preset {
            Preset::Minimal => ssz_decode::<MinimalSpec>(data),
            Preset::Mainnet => ssz_decode::<MainnetSpec>(data),
        };
        diverge_oracle::hooks::leave();
        let id = data.first().map(|b| usize::from(*b) % SSZ_TYPES.len()).unwrap_or(0);
        let name = SSZ_TYPES.get(id).copied().unwrap_or_default();
        let state = RecordedState { id, root: String::new(), source: format!("SSZ type {name}") };
        let verdict = |kind: &str, message: Option<String>| RecordedVerdict {
            implementation: "ssz".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: kind.into(),
            reason: None,
            message,
            post_root: None,
            rejected_block: None,
        };
        let (signature, verdicts) = match outcome {
            SszDecodeOutcome::Rejected => return Ok((Outcome::Undecodable("not valid SSZ of the selected type".into()), None)),
            SszDecodeOutcome::Consistent { .. } => return Ok((Outcome::Agreed { verdicts: vec![verdict("valid", None)], state }, None)),
            SszDecodeOutcome::NonCanonical { name } => {
                (format!("ssz_decode: decode-vs-encode: {name}/non-canonical"), vec![verdict("non-canonical", None)])
            }
            SszDecodeOutcome::Crash { name, message } => (format!("ssz_decode: ssz: crash/{name}"), vec![verdict("crash", Some(message))]),
        };
        let divergence = Divergence { signature, majority: Vec::new(), groups: vec![vec!["ssz".into()]], diff: None, diffs: Vec::new(), known: None };
        let written = match record {
            Some((store, engine)) => {
                let ctx = Context {
                    target: Target::SszDecode,
                    bls: self.config.bls,
                    strictness: crate::target::Strictness::Reason,
                    pool_dir: Path::new("-"),
                    state: state.clone(),
                    engine,
                    batch_seed: None,
                };
                Some(store.record_verdicts(&ctx, self.preset.name(), data, verdicts.clone(), &divergence)?)
            }
            None => None,
        };
        Ok((Outcome::Diverged { divergence, verdicts, state }, written))
    }

    /// The network targets: both implementations through [`crate::p2p`], mapped onto the same
    /// outcomes and findings as the others. The "state" is the schedule's node count; each
    /// verdict's message carries its network's counters (messages sent, per node, external
    /// events, timer firings, virtual time); the divergence's `diff` says where and what.
    fn run_p2p(&self, target: Target, p2p: crate::p2p::P2pTarget, data: &[u8], record: Option<(&FindingStore, &str)>) -> std::io::Result<(Outcome, Option<(PathBuf, bool)>)> {
        let report = p2p.run(data);
        let state = crate::p2p::recorded_state_of(&report);
        let verdict = |s: &crate::p2p::ImplStats, kind: &str, detail: Option<&str>| RecordedVerdict {
            implementation: s.implementation.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            kind: kind.to_string(),
            reason: None,
            message: Some(match detail {
                Some(d) => format!("{d}; {}", s.line()),
                None => s.line(),
            }),
            post_root: None,
            rejected_block: None,
        };
        let Some(finding) = &report.finding else {
            let verdicts = report.stats.iter().map(|s| verdict(s, "ok", None)).collect();
            return Ok((Outcome::Agreed { verdicts, state }, None));
        };
        let verdicts: Vec<RecordedVerdict> = report
            .stats
            .iter()
            .map(|s| match &finding.implementation {
                Some(name) if *name == s.implementation => verdict(s, &finding.oracle, Some(&finding.detail)),
                Some(_) => verdict(s, "ok", None),
                None => verdict(s, "diverged", None),
            })
            .collect();
        let divergence = Divergence {
            signature: finding.signature.clone(),
            majority: Vec::new(),
            groups: report.stats.iter().map(|s| vec![s.implementation.clone()]).collect(),
            diff: Some(crate::diff::FieldDiff { path: finding.at.to_string(), left: finding.detail.clone(), right: String::new() }),
            diffs: Vec::new(),
            known: None,
        };
        let written = match record {
            Some((store, engine)) => {
                let ctx = Context { target, bls: self.config.bls, strictness: target.strictness(), pool_dir: Path::new("-"), state: state.clone(), engine, batch_seed: None };
                Some(store.record_verdicts(&ctx, self.preset.name(), data, verdicts.clone(), &divergence)?)
            }
            None => None,
        };
        Ok((Outcome::Diverged { divergence, verdicts, state }, written))
    }

    /// The DKG targets: both DKG implementations through [`crate::dkg`], mapped onto the same
    /// outcomes and findings as phase0 (the "state" is the DKG node-state pool entry).
    fn run_dkg(&self, target: Target, data: &[u8], record: Option<(&FindingStore, &str)>) -> std::io::Result<(Outcome, Option<(PathBuf, bool)>)> {
        use crate::dkg::{self, DkgConfig, DkgOutcome};
        let mode = match self.config.bls {
            BlsMode::Real => dkg_types::BlsMode::Real,
            BlsMode::AssumeValid => dkg_types::BlsMode::AssumeValid,
        };
        let strictness = self.config.strictness.unwrap_or(target.strictness());
        let config = DkgConfig { mode, strict: strictness == crate::target::Strictness::Reason };
        let (outcome, pool) = if target == Target::DkgPacket {
            (dkg::run_dkg_packet_with(data, &config), dkg_types::input::decode_packet_case(data).pool)
        } else {
            (dkg::run_dkg_sequence_with(data, &config), dkg_types::input::decode_sequence_case(data).pool)
        };
        let state = RecordedState { id: usize::from(pool), root: String::new(), source: "dkg-types node-state pool".into() };
        let verdict = |implementation: &str, kind: String| RecordedVerdict {
            implementation: implementation.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            kind,
            reason: None,
            message: None,
            post_root: None,
            rejected_block: None,
        };
        match outcome {
            DkgOutcome::Agree { kinds } => {
                let k = kinds.join(",");
                Ok((Outcome::Agreed { verdicts: vec![verdict("drand", k.clone()), verdict("spec", k)], state }, None))
            }
            DkgOutcome::Allowed { masked, kinds } => {
                let k = kinds.join(",");
                let message = Some(masked.iter().map(|m| format!("{}@{}", m.entry, m.step)).collect::<Vec<_>>().join(","));
                let allowed = |implementation: &str| RecordedVerdict { message: message.clone(), ..verdict(implementation, k.clone()) };
                Ok((Outcome::Agreed { verdicts: vec![allowed("drand"), allowed("spec")], state }, None))
            }
            DkgOutcome::Diverge(d) => {
                let divergence = Divergence {
                    signature: d.signature.clone(),
                    majority: Vec::new(),
                    groups: d.kinds.iter().map(|(name, _)| vec![name.clone()]).collect(),
                    diff: Some(crate::diff::FieldDiff { path: format!("step {}", d.step), left: d.detail.clone(), right: String::new() }),
                    diffs: Vec::new(),
                    known: d.known.clone().map(Box::new),
                };
                let verdicts: Vec<RecordedVerdict> = d
                    .kinds
                    .iter()
                    .map(|(name, kind)| RecordedVerdict { message: Some(format!("step {}", d.step)), ..verdict(name, kind.clone()) })
                    .collect();
                let written = match record {
                    Some((store, engine)) => {
                        let ctx = Context { target, bls: self.config.bls, strictness, pool_dir: Path::new("-"), state: state.clone(), engine, batch_seed: None };
                        Some(store.record_verdicts(&ctx, self.preset.name(), data, verdicts.clone(), &divergence)?)
                    }
                    None => None,
                };
                Ok((Outcome::Diverged { divergence, verdicts, state }, written))
            }
        }
    }

    /// Number of pool states.
    pub fn pool_len(&self) -> usize {
        self.inner.pool_len()
    }

    /// Executes the decodable `inputs` `rounds` times through one implementation alone (clone of
    /// the prepared state, apply, export; no decoding, no comparison): the baseline of `diverge
    /// bench`'s overhead ratio. `None` for an unknown implementation, for the DKG and network targets
    /// and for `ssz_decode` (no implementation runs: the shared decoders are the subject).
    pub fn time_alone(&self, target: Target, inputs: &[Vec<u8>], implementation: &str, rounds: usize) -> Option<(u64, std::time::Duration)> {
        if !target.uses_pool() {
            return None;
        }
        self.inner.time_alone(target, inputs, implementation, rounds)
    }
}
