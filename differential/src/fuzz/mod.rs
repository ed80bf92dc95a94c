//! The built-in multi-core fuzz loop (`diverge fuzz`): mutate seeds, run every input through every
//! implementation, write each new divergence signature's finding before reporting it, and keep
//! going. Inputs reaching a new behaviour (a new verdict on a new pool state) join the in-memory
//! corpus; no coverage instrumentation is needed, so it runs on stable in any build.

pub mod mutate;

use crate::findings::FindingStore;
use crate::session::{Outcome, Session};
use crate::target::Target;
use mutate::Mutator;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest input the loop produces, bytes.
pub const MAX_INPUT_LEN: usize = 64 * 1024;

/// A campaign's settings.
pub struct FuzzConfig {
    /// Targets, each with its seed corpus directory.
    pub targets: Vec<(Target, PathBuf)>,
    /// Stop after this long (`None`: until stopped).
    pub duration: Option<Duration>,
    /// Stop after this many executions per target (`None`: no limit).
    pub max_execs: Option<u64>,
    /// Worker threads.
    pub jobs: usize,
    /// RNG seed; with one job and `max_execs`, a campaign is reproducible.
    pub seed: u64,
    /// Where findings go.
    pub store: FindingStore,
    /// Where new corpus entries are saved, if anywhere (one directory per target).
    pub save_corpus: Option<PathBuf>,
    /// Engine name recorded in findings.
    pub engine: String,
}

/// A new finding, reported after it is on disk.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NewFinding {
    /// Target.
    pub target: String,
    /// Signature.
    pub signature: String,
    /// Finding directory.
    pub path: PathBuf,
    /// Seconds since the campaign started.
    pub after_secs: f64,
}

/// Live counters of one target.
pub struct TargetState {
    /// Target.
    pub target: Target,
    /// Executions so far.
    pub execs: AtomicU64,
    /// Inputs that did not decode.
    pub undecodable: AtomicU64,
    /// Corpus (seeds + behaviour-new inputs).
    pub corpus: Mutex<Vec<Vec<u8>>>,
    behaviours: Mutex<HashSet<String>>,
    /// Findings of this target.
    pub findings: Mutex<Vec<NewFinding>>,
    signatures: Mutex<HashSet<String>>,
}

/// Final counts of one target.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TargetReport {
    /// Target.
    pub target: String,
    /// Preset.
    pub preset: String,
    /// Executions.
    pub execs: u64,
    /// Executions per second over the campaign.
    pub execs_per_sec: f64,
    /// Executions whose input did not decode (rejected before reaching the implementations).
    pub undecodable: u64,
    /// Final corpus size.
    pub corpus: usize,
    /// Findings, one per signature.
    pub findings: Vec<NewFinding>,
}

/// Reads every file of a seed directory (skipping `PROVENANCE` and dot-files). Unreadable files
/// are returned as warnings with their path.
pub fn load_seeds(dir: &Path) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut seeds = Vec::new();
    let mut warnings = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        warnings.push(format!("{}: cannot list seed directory", dir.display()));
        return (seeds, warnings);
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !p.is_file() || name == "PROVENANCE" || name.starts_with('.') {
            continue;
        }
        match std::fs::read(&p) {
            Ok(d) => seeds.push(d),
            Err(e) => warnings.push(format!("{}: cannot read: {e}", p.display())),
        }
    }
    (seeds, warnings)
}

fn behaviour(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Agreed { verdicts, state } => {
            let kinds: Vec<String> = verdicts.iter().map(|v| v.reason.clone().unwrap_or_else(|| v.kind.clone())).collect();
            Some(format!("{}:{}", state.id, kinds.join(",")))
        }
        Outcome::Diverged { divergence, state, .. } => Some(format!("{}:{}", state.id, divergence.signature)),
        _ => None,
    }
}

/// Runs the campaign until `stop` is set, the duration passes, or every target reaches
/// `max_execs`. `on_finding` is called once per new signature, after its finding is on disk.
///
/// # Errors
/// Writing a finding failed (the campaign stops: nothing found may be lost).
pub fn fuzz(
    config: &FuzzConfig,
    session: &Session,
    mutator: &dyn Mutator,
    states: &[TargetState],
    stop: &AtomicBool,
    on_finding: &(dyn Fn(&NewFinding) + Sync),
) -> std::io::Result<Duration> {
    let start = Instant::now();
    let deadline = config.duration.map(|d| start + d);
    let error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let jobs = config.jobs.max(1);
    // The workers are the threads of a rayon pool of exactly `jobs` threads: milhouse hashes tree
    // halves with `rayon::join`, which then runs inline on the worker that asked for it instead of
    // waking the global pool's threads for every state root (a context switch per hash, and more
    // threads than `--jobs` competing for the cores).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("diverge-fuzz-{i}"))
        .build()
        .map_err(|e| std::io::Error::other(format!("cannot start {jobs} fuzz workers: {e}")))?;
    pool.scope(|scope| {
        for job in 0..jobs {
            let error = &error;
            scope.spawn(move |_| {
                let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(job as u64));
                let mut round = 0usize;
                loop {
                    // Each worker rotates over the targets in batches, so every target gets time.
                    let Some(ts) = states.get((job + round) % states.len().max(1)) else { return };
                    round = round.wrapping_add(1);
                    for _ in 0..64 {
                        if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                            return;
                        }
                        if config.max_execs.is_some_and(|m| ts.execs.load(Ordering::Relaxed) >= m) {
                            if states.iter().all(|s| s.execs.load(Ordering::Relaxed) >= config.max_execs.unwrap_or(u64::MAX)) {
                                return;
                            }
                            break;
                        }
                        let (mut input, snapshot) = {
                            let corpus = ts.corpus.lock().unwrap_or_else(|e| e.into_inner());
                            let base = if corpus.is_empty() { vec![0u8; 2] } else { corpus[rng.gen_range(0..corpus.len())].clone() };
                            // Splice candidates: a few entries, not the whole corpus.
                            let others: Vec<Vec<u8>> =
                                if corpus.is_empty() { Vec::new() } else { (0..2).map(|_| corpus[rng.gen_range(0..corpus.len())].clone()).collect() };
                            (base, others)
                        };
                        mutator.mutate(ts.target, &mut input, &snapshot, &mut rng, MAX_INPUT_LEN);
                        let result = session.run_and_record(ts.target, &input, &config.store, &config.engine);
                        ts.execs.fetch_add(1, Ordering::Relaxed);
                        let (outcome, written) = match result {
                            Ok(r) => r,
                            Err(e) => {
                                *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                                stop.store(true, Ordering::Relaxed);
                                return;
                            }
                        };
                        if matches!(outcome, Outcome::Undecodable(_)) {
                            ts.undecodable.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        if let (Some(sig), Some((path, _))) = (outcome.signature(), written) {
                            let first = ts.signatures.lock().unwrap_or_else(|e| e.into_inner()).insert(sig.to_string());
                            if first {
                                let f = NewFinding { target: ts.target.name().to_string(), signature: sig.to_string(), path, after_secs: start.elapsed().as_secs_f64() };
                                on_finding(&f);
                                ts.findings.lock().unwrap_or_else(|e| e.into_inner()).push(f);
                            }
                        }
                        if let Some(key) = behaviour(&outcome) {
                            if ts.behaviours.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
                                if let Some(dir) = &config.save_corpus {
                                    let name = hex::encode(diverge_types::hash(&input).get(..16).unwrap_or_default());
                                    let _ = crate::findings::write_atomic(&dir.join(ts.target.name()).join(name), &input);
                                }
                                ts.corpus.lock().unwrap_or_else(|e| e.into_inner()).push(input);
                            }
                        }
                    }
                }
            });
        }
    });
    match error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(start.elapsed()),
    }
}

impl TargetState {
    /// A target with its seeds.
    pub fn new(target: Target, seeds: Vec<Vec<u8>>) -> Self {
        TargetState {
            target,
            execs: AtomicU64::new(0),
            undecodable: AtomicU64::new(0),
            corpus: Mutex::new(seeds),
            behaviours: Mutex::new(HashSet::new()),
            findings: Mutex::new(Vec::new()),
            signatures: Mutex::new(HashSet::new()),
        }
    }

    /// The final report.
    pub fn report(&self, preset: &str, elapsed: Duration) -> TargetReport {
        let execs = self.execs.load(Ordering::Relaxed);
        TargetReport {
            target: self.target.name().to_string(),
            preset: preset.to_string(),
            execs,
            execs_per_sec: execs as f64 / elapsed.as_secs_f64().max(1e-9),
            undecodable: self.undecodable.load(Ordering::Relaxed),
            corpus: self.corpus.lock().map(|c| c.len()).unwrap_or(0),
            findings: self.findings.lock().map(|f| f.clone()).unwrap_or_default(),
        }
    }
}
