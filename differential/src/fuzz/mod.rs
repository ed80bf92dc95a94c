//! The built-in multi-core fuzz loop (`diverge fuzz`): mutate seeds, run every input through every
//! implementation, write each new divergence signature's finding before reporting it, and keep
//! going. Inputs reaching a new behaviour (a new verdict on a new pool state) join the in-memory
//! corpus; no coverage instrumentation is needed, so it runs on stable in any build.

pub mod mutate;
pub mod sync;
pub mod structured;
pub mod schedule;

use crate::findings::FindingStore;
use crate::session::{Outcome, Session};
use crate::target::Target;
use mutate::Mutator;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Implementations whose reject reasons are tracked per target (verdict order, registration order).
pub const MAX_REASON_IMPLS: usize = 4;

/// The reject reasons `target` can reach, in mask-bit order: `Reject::ALL`'s names for the phase0
/// targets; for the DKG targets, drand's error kinds (`DkgError::KINDS`) and `Crash`. Each has
/// fewer than 64 entries.
fn reason_names_of(target: Target) -> Vec<&'static str> {
    if target.is_dkg() {
        dkg_types::error::DkgError::KINDS.iter().copied().chain(std::iter::once("Crash")).collect()
    } else {
        diverge_types::Reject::ALL.iter().map(|r| r.name()).collect()
    }
}

/// The implementations of `target`'s verdicts, in verdict order (phase0: registration order;
/// DKG: drand, spec).
fn implementations_of(target: Target) -> Vec<&'static str> {
    if target.is_dkg() {
        vec!["drand", "spec"]
    } else {
        crate::registry::implementation_names()
    }
}

/// The bit of a reject reason name of `target` in a reasons mask (its index in the target's
/// reason list, `reason_names_of`). On the loop's hot path: it searches the static lists and
/// allocates nothing.
pub fn reason_bit(target: Target, name: &str) -> Option<u64> {
    let kinds = &dkg_types::error::DkgError::KINDS;
    let i = if target.is_dkg() {
        kinds.iter().position(|k| *k == name).or_else(|| (name == "Crash").then_some(kinds.len()))
    } else {
        diverge_types::Reject::ALL.iter().position(|r| r.name() == name)
    }?;
    1u64.checked_shl(u32::try_from(i).ok()?)
}

/// The reject reasons one verdict of `target` names. phase0: its `reason`. DKG: the kinds of its
/// steps other than `Ok` (a verdict's kind is the comma-separated kind of every step; masked
/// steps read `allowed:<entry>` and name no reason).
fn verdict_reasons(target: Target, v: &crate::findings::RecordedVerdict) -> impl Iterator<Item = &str> {
    let dkg = target.is_dkg();
    let steps = dkg.then(|| v.kind.split(',')).into_iter().flatten().filter(|k| *k != "Ok" && !k.is_empty() && !k.starts_with("allowed:"));
    steps.chain(v.reason.as_deref().filter(|_| !dkg))
}

/// Whether a verdict of `target` accepted the input: phase0 `valid`; DKG, every step `Ok`.
fn verdict_valid(target: Target, v: &crate::findings::RecordedVerdict) -> bool {
    if target.is_dkg() {
        !v.kind.is_empty() && v.kind.split(',').all(|k| k == "Ok")
    } else {
        v.kind == "valid"
    }
}

/// Distinct reject reasons per implementation of `target`, from masks in verdict order:
/// `{name: count}`.
pub fn reason_counts(target: Target, masks: &[u64]) -> std::collections::BTreeMap<String, u32> {
    implementations_of(target).into_iter().zip(masks).map(|(n, m)| (n.to_string(), m.count_ones())).collect()
}

/// The reject reasons reached per implementation of `target`, from masks in verdict order:
/// `{name: [reason, ...]}` in the target's reason order (the names behind [`reason_counts`]).
pub fn reason_names(target: Target, masks: &[u64]) -> std::collections::BTreeMap<String, Vec<String>> {
    let all = reason_names_of(target);
    implementations_of(target)
        .into_iter()
        .zip(masks)
        .map(|(n, m)| {
            let names = all.iter().filter(|r| reason_bit(target, r).is_some_and(|b| m & b != 0)).map(|r| r.to_string()).collect();
            (n.to_string(), names)
        })
        .collect()
}

/// Largest input the loop produces, bytes.
pub const MAX_INPUT_LEN: usize = 64 * 1024;

/// Largest in-memory corpus per target; past it a new input replaces a random non-seed one (so a
/// weeks-long campaign runs in bounded memory; `--save-corpus` still keeps every one on disk).
pub const MAX_CORPUS: usize = 16 * 1024;

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
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct NewFinding {
    /// Target.
    pub target: String,
    /// Signature.
    pub signature: String,
    /// Finding directory.
    pub path: PathBuf,
    /// Seconds since the campaign started.
    pub after_secs: f64,
    /// The known upstream hazard's name, when it is one (not a new finding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

/// Live counters of one target.
pub struct TargetState {
    /// Target.
    pub target: Target,
    /// Executions so far.
    pub execs: AtomicU64,
    /// Inputs that did not decode.
    pub undecodable: AtomicU64,
    /// Inputs every implementation accepted.
    pub valid: AtomicU64,
    /// Reject reasons reached, one mask per implementation in verdict order ([`reason_bit`]).
    pub reasons: [AtomicU64; MAX_REASON_IMPLS],
    /// Corpus (seeds + behaviour-new inputs).
    pub corpus: Mutex<Vec<Vec<u8>>>,
    /// How many of the first corpus entries are seeds (never replaced).
    seeds: usize,
    /// Behaviours seen (64-bit hashes of [`behaviour`] keys: weeks-long runs see millions).
    behaviours: Mutex<HashSet<u64>>,
    /// Findings of this target.
    pub findings: Mutex<Vec<NewFinding>>,
    signatures: Mutex<HashSet<String>>,
    /// Worker time spent on this target, nanoseconds (the scheduler's fairness measure).
    pub busy_ns: AtomicU64,
    /// Inputs to run unmutated before any mutant (the seed pass of `diverge fuzz`), last first.
    unmutated: Mutex<Vec<Vec<u8>>>,
    /// `unmutated.len()`, read without the lock on every execution.
    unmutated_left: AtomicUsize,
    /// Corpus sync (`diverge fuzz --sync-dir`): behaviour-new inputs are exported here.
    pub sync: Mutex<Option<sync::TargetSync>>,
    /// Corpus writes (`--save-corpus`, `--sync-dir` exports) that failed: counted and reported,
    /// the first one printed with its path and reason (a full disk must not stop the campaign, and
    /// must not go unnoticed either).
    pub write_errors: AtomicU64,
    /// Whether the target's inputs were queued by [`TargetState::queue_enumeration`]: once its
    /// unmutated queue is empty, the scheduler weighs its time by [`ENUMERATED_WEIGHT`].
    enumerated: AtomicBool,
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
    /// Executions per second over the campaign (wall clock).
    pub execs_per_sec: f64,
    /// Worker time this target had, seconds (all workers together).
    pub worker_secs: f64,
    /// Executions whose input did not decode (rejected before reaching the implementations).
    pub undecodable: u64,
    /// Executions every implementation accepted (all verdicts `valid`).
    pub valid: u64,
    /// Distinct reject reasons reached, per implementation.
    pub reject_reasons: std::collections::BTreeMap<String, u32>,
    /// The reject reasons reached, per implementation (`Reject` names).
    pub reject_reasons_reached: std::collections::BTreeMap<String, Vec<String>>,
    /// Final corpus size.
    pub corpus: usize,
    /// Findings, one per signature.
    pub findings: Vec<NewFinding>,
    /// Worker restarts caused by inputs of this target (crash, timeout, rss-limit).
    pub restarts: u64,
    /// Corpus writes that failed ([`TargetState::write_errors`]).
    pub write_errors: u64,
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
            // `chain`: the rejecting block's index is part of the behaviour.
            let kinds: Vec<String> = verdicts
                .iter()
                .map(|v| {
                    let kind = v.reason.clone().unwrap_or_else(|| v.kind.clone());
                    v.rejected_block.map_or_else(|| kind.clone(), |b| format!("{kind}@{b}"))
                })
                .collect();
            // `root`: a pool state's root (constant per id), or a network run's behaviour key.
            Some(format!("{}:{}:{}", state.id, state.root, kinds.join(",")))
        }
        Outcome::Diverged { divergence, state, .. } => Some(format!("{}:{}", state.id, divergence.signature)),
        _ => None,
    }
}

/// Writes one `--save-corpus` entry, complete or not at all (a temporary file, then a rename), but
/// unsynced: a lost corpus entry costs nothing, while the two fsyncs of
/// [`crate::findings::write_atomic`] per new behaviour cut the loop's exec/s by 10 to 100 times
/// while the corpus grows fast (measured: `diverge fuzz --all`, attestation 189 vs 17149 exec/s).
/// An entry already there (same name: same input hash) is not written again.
fn save_corpus_entry(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The inputs of a target whose input space is small, every one once, in a fixed order
/// (`None` for the other targets): `epoch`, every pool state × every step of
/// [`diverge_types::EpochStep::ALL`]; `slots`, every pool state × n in `0..=2·SLOTS_PER_EPOCH+1`
/// (whatever a state's slot, that holds the next two epoch boundaries ±1, and `n = 0`, which
/// `process_slots` refuses) and n = `MAX_SLOTS_PER_TRANSITION` and one more (the bound). State-major:
/// all of state 0's inputs, then state 1's, ...
pub fn enumeration(target: Target, pool_len: usize, slots_per_epoch: u64) -> Option<Vec<Vec<u8>>> {
    let states = (0..pool_len).filter_map(|id| u16::try_from(id).ok());
    let input = |id: u16, body: &[u8]| id.to_le_bytes().iter().chain(body).copied().collect::<Vec<u8>>();
    match target {
        Target::Epoch => {
            let steps = diverge_types::EpochStep::ALL.len();
            Some(states.flat_map(|id| (0..steps).filter_map(move |s| u8::try_from(s).ok()).map(move |s| input(id, &[s]))).collect())
        }
        Target::Slots => {
            let bound = diverge_types::constants::MAX_SLOTS_PER_TRANSITION;
            let ns: Vec<u16> = (0..=2 * slots_per_epoch + 1).chain([bound, bound + 1]).filter_map(|n| u16::try_from(n).ok()).collect();
            Some(states.flat_map(|id| ns.iter().map(move |n| input(id, &n.to_le_bytes()))).collect())
        }
        _ => None,
    }
}

/// After its enumeration ([`enumeration`]) has run, a target's worker time counts this many times
/// over in the scheduler: it keeps a havoc trickle of about 1/16 of a fair share, and the rest of
/// its time goes to the other targets.
pub const ENUMERATED_WEIGHT: u64 = 16;

/// Worker time given to one target before the scheduler picks again, nanoseconds.
const SLICE_NS: u64 = 20_000_000;

/// What every execution of a campaign shares.
struct Campaign<'a> {
    config: &'a FuzzConfig,
    session: &'a Session,
    mutator: &'a dyn Mutator,
    on_finding: &'a (dyn Fn(&NewFinding) + Sync),
    start: Instant,
}

impl Campaign<'_> {
    /// Mutates a corpus entry of `ts`, runs it, records what it found.
    ///
    /// # Errors
    /// Writing a finding failed.
    fn execute_one(&self, ts: &TargetState, rng: &mut ChaCha8Rng) -> std::io::Result<()> {
        let input = match ts.next_unmutated() {
            Some(seed) => seed,
            None => self.mutant(ts, rng),
        };
        // The worker's record of what runs (a memcpy; nothing without a supervisor).
        crate::supervisor::begin_input(ts.target, &input);
        let result = self.session.run_and_record(ts.target, &input, &self.config.store, &self.config.engine);
        crate::supervisor::end_input();
        ts.execs.fetch_add(1, Ordering::Relaxed);
        self.judge(ts, input, result, rng)
    }

    /// A mutant of a corpus entry of `ts`.
    fn mutant(&self, ts: &TargetState, rng: &mut ChaCha8Rng) -> Vec<u8> {
        let (mut input, splice) = {
            let corpus = ts.corpus.lock().unwrap_or_else(|e| e.into_inner());
            let pick = |rng: &mut ChaCha8Rng| corpus.get(rng.gen_range(0..corpus.len().max(1))).cloned();
            let base = pick(rng).unwrap_or_else(|| vec![0u8; 2]);
            // Splice candidates: a few entries, not the whole corpus.
            let others: Vec<Vec<u8>> = (0..2).filter_map(|_| pick(rng)).collect();
            (base, others)
        };
        self.mutator.mutate(ts.target, &mut input, &splice, rng, MAX_INPUT_LEN);
        input
    }

    /// Records what one execution found; keeps behaviour-new inputs.
    ///
    /// # Errors
    /// Writing a finding failed.
    fn judge(&self, ts: &TargetState, input: Vec<u8>, result: std::io::Result<(Outcome, Option<(PathBuf, bool)>)>, rng: &mut ChaCha8Rng) -> std::io::Result<()> {
        let (outcome, written) = result?;
        if matches!(outcome, Outcome::Undecodable(_)) {
            ts.undecodable.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        if let Outcome::Agreed { verdicts, .. } | Outcome::Diverged { verdicts, .. } = &outcome {
            if matches!(outcome, Outcome::Agreed { .. }) && verdicts.iter().all(|v| verdict_valid(ts.target, v)) {
                ts.valid.fetch_add(1, Ordering::Relaxed);
            }
            for (mask, v) in ts.reasons.iter().zip(verdicts) {
                for bit in verdict_reasons(ts.target, v).filter_map(|r| reason_bit(ts.target, r)) {
                    mask.fetch_or(bit, Ordering::Relaxed);
                }
            }
        }
        if let (Outcome::Diverged { divergence, .. }, Some((path, _))) = (&outcome, written) {
            let sig = &divergence.signature;
            let first = ts.signatures.lock().unwrap_or_else(|e| e.into_inner()).insert(sig.to_string());
            if first {
                let f = NewFinding {
                    target: ts.target.name().to_string(),
                    signature: sig.to_string(),
                    path,
                    after_secs: self.start.elapsed().as_secs_f64(),
                    known: divergence.known.as_ref().map(|k| k.hazard.clone()),
                };
                (self.on_finding)(&f);
                ts.findings.lock().unwrap_or_else(|e| e.into_inner()).push(f);
            }
        }
        if let Some(key) = behaviour(&outcome) {
            let key = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                key.hash(&mut h);
                h.finish()
            };
            if ts.behaviours.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
                if let Some(dir) = &self.config.save_corpus {
                    let name = hex::encode(diverge_types::hash(&input).get(..16).unwrap_or_default());
                    let path = dir.join(ts.target.name()).join(name);
                    if let Err(e) = save_corpus_entry(&path, &input) {
                        ts.write_failed(&format!("--save-corpus {}", path.display()), &e);
                    }
                }
                if let Some(sync) = ts.sync.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                    // Counted, like --save-corpus: a full disk must not stop the campaign.
                    if let Err(e) = sync.export(&input) {
                        ts.write_failed("--sync-dir export", &e);
                    }
                }
                let mut corpus = ts.corpus.lock().unwrap_or_else(|e| e.into_inner());
                if corpus.len() < MAX_CORPUS {
                    corpus.push(input);
                } else if let Some(slot) = corpus.get_mut(rng.gen_range(ts.seeds.min(MAX_CORPUS - 1)..MAX_CORPUS)) {
                    // Full: the new input replaces a random non-seed entry.
                    *slot = input;
                }
            }
        }
        Ok(())
    }
}

/// Runs the campaign until `stop` is set, the duration passes, or every target reaches
/// `max_execs`. `on_finding` is called once per new signature, after its finding is on disk.
///
/// Scheduling: every worker repeatedly takes the target that has had the least worker time so
/// far and runs it for a 20 ms slice, so over a campaign each target gets the same share of the
/// cores whatever its cost per execution (`TargetReport::worker_secs`); a target whose
/// enumeration has run counts its time [`ENUMERATED_WEIGHT`] times over.
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
    let campaign = Campaign { config, session, mutator, on_finding, start: Instant::now() };
    let deadline = config.duration.map(|d| campaign.start + d);
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
    let n = states.len().max(1);
    pool.scope(|scope| {
        for job in 0..jobs {
            let (campaign, error) = (&campaign, &error);
            scope.spawn(move |_| {
                // One RNG per target: a target's inputs do not depend on how the worker's time was
                // interleaved with the other targets.
                let mut rngs: Vec<ChaCha8Rng> = (0..states.len())
                    .map(|t| ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(job as u64).wrapping_add((t as u64) << 32)))
                    .collect();
                let open = |s: &TargetState| config.max_execs.is_none_or(|m| s.execs.load(Ordering::Relaxed) < m);
                loop {
                    // Least worker time first; ties broken by the job's own rotation.
                    let Some((t, ts)) = states
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| open(s))
                        .min_by_key(|(i, s)| (s.scheduled_ns(), (i + n - job % n) % n))
                    else {
                        return;
                    };
                    let Some(rng) = rngs.get_mut(t) else { return };
                    // Charge the slice up front, so the other workers pick other targets.
                    ts.busy_ns.fetch_add(SLICE_NS, Ordering::Relaxed);
                    let slice_start = Instant::now();
                    let outcome = loop {
                        let now = Instant::now();
                        if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| now >= d) {
                            break Some(Ok(()));
                        }
                        if now.duration_since(slice_start) >= Duration::from_nanos(SLICE_NS) || !open(ts) {
                            break None;
                        }
                        if let Err(e) = campaign.execute_one(ts, rng) {
                            break Some(Err(e));
                        }
                    };
                    let spent = u64::try_from(slice_start.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    if spent >= SLICE_NS {
                        ts.busy_ns.fetch_add(spent - SLICE_NS, Ordering::Relaxed);
                    } else {
                        ts.busy_ns.fetch_sub(SLICE_NS - spent, Ordering::Relaxed);
                    }
                    match outcome {
                        None => {}
                        Some(Ok(())) => return,
                        Some(Err(e)) => {
                            *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                            stop.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                }
            });
        }
    });
    match error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(campaign.start.elapsed()),
    }
}

impl TargetState {
    /// A target with its seeds.
    pub fn new(target: Target, seeds: Vec<Vec<u8>>) -> Self {
        TargetState {
            target,
            execs: AtomicU64::new(0),
            undecodable: AtomicU64::new(0),
            valid: AtomicU64::new(0),
            reasons: Default::default(),
            seeds: seeds.len(),
            corpus: Mutex::new(seeds),
            behaviours: Mutex::new(HashSet::new()),
            findings: Mutex::new(Vec::new()),
            signatures: Mutex::new(HashSet::new()),
            busy_ns: AtomicU64::new(0),
            unmutated: Mutex::new(Vec::new()),
            unmutated_left: AtomicUsize::new(0),
            sync: Mutex::new(None),
            write_errors: AtomicU64::new(0),
            enumerated: AtomicBool::new(false),
        }
    }

    /// Queues this worker's share of the target's [`enumeration`] (entries `i` with
    /// `i % workers == worker`) to run once each, unmutated, after what is queued already (the
    /// seeds); from then on the target is scheduled at a reduced share once the queue is empty.
    /// Nothing for a target without an enumeration. Returns how many inputs were queued.
    pub fn queue_enumeration(&self, pool_len: usize, slots_per_epoch: u64, worker: usize, workers: usize) -> usize {
        let Some(all) = enumeration(self.target, pool_len, slots_per_epoch) else { return 0 };
        let workers = workers.max(1);
        let mine: Vec<Vec<u8>> = all.into_iter().enumerate().filter(|(i, _)| i % workers == worker).map(|(_, x)| x).collect();
        let n = mine.len();
        let mut q = self.unmutated.lock().unwrap_or_else(|e| e.into_inner());
        // The queue pops from the back: what is queued already (the seeds) still runs first.
        let queued = std::mem::take(&mut *q);
        q.extend(mine.into_iter().rev());
        q.extend(queued);
        self.unmutated_left.store(q.len(), Ordering::Relaxed);
        self.enumerated.store(true, Ordering::Relaxed);
        n
    }

    /// The worker time the scheduler compares: `busy_ns`, times [`ENUMERATED_WEIGHT`] once the
    /// target's enumeration has run.
    fn scheduled_ns(&self) -> u64 {
        let busy = self.busy_ns.load(Ordering::Relaxed);
        if self.enumerated.load(Ordering::Relaxed) && self.unmutated_left.load(Ordering::Relaxed) == 0 {
            busy.saturating_mul(ENUMERATED_WEIGHT)
        } else {
            busy
        }
    }

    /// Queues `inputs` to run once each, unmutated and in order, before mutants (every worker
    /// then takes the next one): `diverge fuzz` runs each seed as it is first, so a seed that
    /// diverges, crashes or hangs is found at once.
    pub fn queue_unmutated(&self, inputs: Vec<Vec<u8>>) {
        let mut q = self.unmutated.lock().unwrap_or_else(|e| e.into_inner());
        q.extend(inputs.into_iter().rev());
        self.unmutated_left.store(q.len(), Ordering::Relaxed);
    }

    fn next_unmutated(&self) -> Option<Vec<u8>> {
        if self.unmutated_left.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut q = self.unmutated.lock().unwrap_or_else(|e| e.into_inner());
        let next = q.pop();
        self.unmutated_left.store(q.len(), Ordering::Relaxed);
        next
    }

    /// The reject-reason masks, per implementation in verdict order.
    pub fn reason_masks(&self) -> [u64; MAX_REASON_IMPLS] {
        std::array::from_fn(|i| self.reasons.get(i).map(|m| m.load(Ordering::Relaxed)).unwrap_or(0))
    }

    /// Number of seeds in the corpus (the first entries, never replaced).
    pub fn seed_count(&self) -> usize {
        self.seeds
    }

    /// The final report.
    /// Counts a failed corpus write; the first of this target in this process is printed.
    pub fn write_failed(&self, what: &str, error: &dyn std::fmt::Display) {
        if self.write_errors.fetch_add(1, Ordering::Relaxed) == 0 {
            eprintln!("warning: {}: {what}: write failed: {error} (the campaign goes on; later failures are counted as write_errors in the report)", self.target);
        }
    }

    pub fn report(&self, preset: &str, elapsed: Duration) -> TargetReport {
        let execs = self.execs.load(Ordering::Relaxed);
        TargetReport {
            target: self.target.name().to_string(),
            preset: preset.to_string(),
            execs,
            execs_per_sec: execs as f64 / elapsed.as_secs_f64().max(1e-9),
            worker_secs: self.busy_ns.load(Ordering::Relaxed) as f64 / 1e9,
            undecodable: self.undecodable.load(Ordering::Relaxed),
            valid: self.valid.load(Ordering::Relaxed),
            reject_reasons: reason_counts(self.target, &self.reason_masks()),
            reject_reasons_reached: reason_names(self.target, &self.reason_masks()),
            corpus: self.corpus.lock().map(|c| c.len()).unwrap_or(0),
            findings: self.findings.lock().map(|f| f.clone()).unwrap_or_default(),
            restarts: 0,
            write_errors: self.write_errors.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::decode;
    use diverge_types::{EpochStep, MinimalSpec, Operation};
    use std::collections::HashSet;

    /// Every worker's share of the enumeration together: each (state, step) and each (state, n)
    /// exactly once, whatever the number of workers.
    #[test]
    fn enumeration_covers_every_state_and_parameter_exactly_once() {
        let pool_len = 158;
        for workers in [1, 2, 3, 5] {
            let mut epoch: Vec<(u16, EpochStep)> = Vec::new();
            let mut slots: Vec<(u16, u64)> = Vec::new();
            for worker in 0..workers {
                for target in [Target::Epoch, Target::Slots] {
                    let ts = TargetState::new(target, Vec::new());
                    let queued = ts.queue_enumeration(pool_len, 8, worker, workers);
                    let mut n = 0;
                    while let Some(input) = ts.next_unmutated() {
                        let d = decode::<MinimalSpec>(target, &input).unwrap();
                        match d.operation {
                            Operation::Epoch(step) => epoch.push((d.selector, step)),
                            Operation::Slots(k) => slots.push((d.selector, k)),
                            other => panic!("{other:?}"),
                        }
                        n += 1;
                    }
                    assert_eq!(n, queued);
                }
            }
            let expected_epoch: HashSet<(u16, EpochStep)> = (0..158u16).flat_map(|s| EpochStep::ALL.map(|step| (s, step))).collect();
            assert_eq!(epoch.len(), expected_epoch.len(), "{workers} workers: no (state, step) twice");
            assert_eq!(epoch.iter().copied().collect::<HashSet<_>>(), expected_epoch);
            let ns: Vec<u64> = (0..=17).chain([256, 257]).collect();
            let expected_slots: HashSet<(u16, u64)> = (0..158u16).flat_map(|s| ns.iter().map(move |n| (s, *n))).collect();
            assert_eq!(slots.len(), expected_slots.len(), "{workers} workers: no (state, n) twice");
            assert_eq!(slots.iter().copied().collect::<HashSet<_>>(), expected_slots);
        }
        assert!(enumeration(Target::Attestation, 158, 8).is_none());
    }

    /// The seeds run first, then the enumeration; once both are done the target's time weighs
    /// ENUMERATED_WEIGHT times over in the scheduler.
    #[test]
    fn enumeration_runs_after_the_seeds_and_then_the_share_drops() {
        let ts = TargetState::new(Target::Epoch, vec![vec![9, 0, 3]]);
        ts.queue_unmutated(vec![vec![9, 0, 3]]);
        ts.queue_enumeration(2, 8, 0, 1);
        ts.busy_ns.store(1000, Ordering::Relaxed);
        assert_eq!(ts.next_unmutated(), Some(vec![9, 0, 3]), "the seed first");
        assert_eq!(ts.next_unmutated(), Some(vec![0, 0, 0]), "then state 0, step 0");
        assert_eq!(ts.scheduled_ns(), 1000, "a fair share while enumerating");
        while ts.next_unmutated().is_some() {}
        assert_eq!(ts.scheduled_ns(), 1000 * ENUMERATED_WEIGHT);
        let plain = TargetState::new(Target::Attestation, Vec::new());
        assert_eq!(plain.queue_enumeration(2, 8, 0, 1), 0);
        plain.busy_ns.store(1000, Ordering::Relaxed);
        assert_eq!(plain.scheduled_ns(), 1000);
    }
}
