//! Crash isolation (issue 12 item 2, architecture.md §9): `diverge fuzz`, `diverge run` and
//! `diverge replay` execute inputs in worker processes (`diverge __worker`, the same binary) that
//! a supervisor watches, so an abort, a stack overflow, an out-of-memory or a hang in an
//! implementation (none of which `catch_unwind` catches) costs one worker restart instead of the
//! campaign, and the input that caused it is written as a finding.
//!
//! Each worker has a [`Slot`]: a small file both processes map into memory. Before each input the
//! worker copies the input into it (a `memcpy`, no system call) with the target; the runner marks
//! which implementation is executing ([`enter`] / [`leave`]), bumping a phase counter at every
//! step. The supervisor polls every [`POLL`]:
//! - the worker exited by a signal or a nonzero status while executing an input: that input is
//!   the culprit (`<target>: <impl>: crash/SIGABRT`, `crash/exit` for a plain nonzero exit);
//! - the phase counter has not moved for longer than the timeout while an input executes: the
//!   worker is killed (`<target>: <impl>: timeout`);
//! - its resident memory (`/proc/<pid>/status` `VmRSS`) is above the limit: killed
//!   (`<target>: <impl>: rss-limit`).
//!
//! `<impl>` is the implementation executing at that moment, `harness` when none was (decoding,
//! comparison, writing). [`record_death`] writes the finding (input, the one process-level
//! verdict, the selected pool state) before anything reports it.

use crate::findings::{Context, FindingStore, RecordedState, RecordedVerdict};
use crate::fuzz::MAX_INPUT_LEN;
use crate::runner::Divergence;
use crate::target::{Strictness, Target};
use diverge_types::{BlsMode, Preset};
use memmap2::MmapMut;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often the supervisor looks at its workers.
pub const POLL: Duration = Duration::from_millis(50);

/// Bytes of a slot before the input.
const HEADER: usize = 4096;
/// Size of a slot file: the header, then up to [`MAX_INPUT_LEN`] input bytes.
pub const SLOT_LEN: usize = HEADER + MAX_INPUT_LEN;

// Header layout (byte offsets, every field a little-endian u64 used atomically).
const MAGIC: usize = 0;
/// Bumped at every transition (input begins/ends, an implementation enters/leaves).
const PHASE: usize = 8;
/// 1 while an input executes, else 0.
const ACTIVE: usize = 16;
/// Index of the input's target in [`Target::ALL`].
const TARGET: usize = 24;
const INPUT_LEN: usize = 32;
/// Inputs begun by this worker incarnation.
const SEQ: usize = 40;
/// Set by the supervisor: finish the current input and exit.
const STOP: usize = 48;
/// Length of the executing implementation's name (0: none, the harness).
const IMPL_LEN: usize = 56;
const IMPL_NAME: usize = 64;
const IMPL_NAME_MAX: usize = 32;
/// Per-target counters, [`COUNTERS_PER_TARGET`] u64 each, in [`Target::ALL`] order.
const COUNTERS: usize = 512;
const COUNTERS_PER_TARGET: usize = 16;
// Every target's counters fit in the header.
const _: () = assert!(COUNTERS + Target::ALL.len() * COUNTERS_PER_TARGET * 8 <= HEADER);
const MAGIC_VALUE: u64 = u64::from_le_bytes(*b"DIVSLOT1");

/// A worker's live counters for one target, as exported into its slot (absolute: they include
/// the counts of the worker's earlier incarnations, handed to it when it was restarted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Executions.
    pub execs: u64,
    /// Undecodable executions.
    pub undecodable: u64,
    /// In-memory corpus size.
    pub corpus: u64,
    /// Seeds in that corpus.
    pub seeds: u64,
    /// Worker time on the target, nanoseconds.
    pub busy_ns: u64,
    /// Corpus entries exported to the sync directory (`diverge fuzz --sync-dir`).
    #[serde(default)]
    pub synced_out: u64,
    /// Entries imported from the sync directory's other queues.
    #[serde(default)]
    pub synced_in: u64,
    /// Imported entries that joined the corpus (a behaviour new to the worker).
    #[serde(default)]
    pub synced_kept: u64,
    /// Executions every implementation accepted (`valid` verdicts all round).
    #[serde(default)]
    pub valid: u64,
    /// Reject reasons reached, a mask per implementation (`fuzz::reason_bit`).
    #[serde(default)]
    pub reasons: [u64; crate::fuzz::MAX_REASON_IMPLS],
    /// Corpus writes that failed (`fuzz::TargetState::write_errors`).
    #[serde(default)]
    pub write_errors: u64,
}

/// One worker's shared record: a memory-mapped file of [`SLOT_LEN`] bytes.
pub struct Slot {
    map: MmapMut,
    base: *mut u8,
    path: PathBuf,
}

// SAFETY: `base` points into `map`, which lives as long as the `Slot`; every header field is only
// accessed through `AtomicU64`s, and the input bytes are written by the single executing thread
// of the worker and read by the supervisor only once that worker is dead or stopped.
unsafe impl Send for Slot {}
// SAFETY: as above.
unsafe impl Sync for Slot {}

impl Slot {
    /// Creates (or truncates) the slot file at `path`, zeroed, and maps it.
    ///
    /// # Errors
    /// Creating, sizing or mapping the file failed.
    pub fn create(path: &Path) -> std::io::Result<Slot> {
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)?;
        file.set_len(SLOT_LEN as u64)?;
        let slot = Self::map(&file, path)?;
        slot.word(MAGIC).store(MAGIC_VALUE, Ordering::Relaxed);
        Ok(slot)
    }

    /// Maps an existing slot file (the worker's side).
    ///
    /// # Errors
    /// The file is missing, too short, not a slot, or cannot be mapped.
    pub fn open(path: &Path) -> std::io::Result<Slot> {
        let file = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
        if file.metadata()?.len() < SLOT_LEN as u64 {
            return Err(std::io::Error::other(format!("{}: not a worker slot (too short)", path.display())));
        }
        let slot = Self::map(&file, path)?;
        if slot.word(MAGIC).load(Ordering::Relaxed) != MAGIC_VALUE {
            return Err(std::io::Error::other(format!("{}: not a worker slot (bad magic)", path.display())));
        }
        Ok(slot)
    }

    fn map(file: &std::fs::File, path: &Path) -> std::io::Result<Slot> {
        // SAFETY: the file is private to one campaign (a fresh temporary directory); only this
        // module's two sides access it, with the discipline described on `Slot`.
        let mut map = unsafe { MmapMut::map_mut(file)? };
        if map.len() < SLOT_LEN {
            return Err(std::io::Error::other(format!("{}: mapping too short", path.display())));
        }
        let base = map.as_mut_ptr();
        Ok(Slot { map, base, path: path.to_path_buf() })
    }

    /// The slot file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `word += 1` for a word only this process writes: a load and a store, no locked
    /// read-modify-write on the hot path.
    #[inline]
    fn bump(&self, offset: usize, order: Ordering) {
        let w = self.word(offset);
        w.store(w.load(Ordering::Relaxed).wrapping_add(1), order);
    }

    fn word(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset & 7 == 0 && offset + 8 <= HEADER && self.map.len() >= SLOT_LEN);
        // SAFETY: `offset` is 8-aligned within the page-aligned mapping and below `HEADER`, so
        // the pointer is valid and aligned for an `AtomicU64` for the lifetime of `self`; the
        // mapping's bytes are only ever accessed as atomics at these offsets.
        unsafe { &*self.base.add(offset).cast::<AtomicU64>() }
    }

    /// The stop flag the supervisor sets and the worker's loop polls.
    pub fn stop_flag(&self) -> &AtomicBool {
        // SAFETY: as `word`: an aligned, live byte of the mapping, only accessed atomically (the
        // flag is the first byte of the `STOP` word, which nothing else uses).
        unsafe { &*self.base.add(STOP).cast::<AtomicBool>() }
    }

    /// Records that `data` of `target` starts executing: copies it (up to [`MAX_INPUT_LEN`]).
    #[inline]
    pub fn begin_input(&self, target: Target, data: &[u8]) {
        let len = data.len().min(MAX_INPUT_LEN);
        // SAFETY: `HEADER + len <= SLOT_LEN <= map.len()`; only the worker's executing thread
        // writes the input area, and it does not overlap `data` (a separate allocation).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.base.add(HEADER), len) };
        self.word(INPUT_LEN).store(len as u64, Ordering::Relaxed);
        let index = Target::ALL.iter().position(|t| *t == target).unwrap_or(0);
        self.word(TARGET).store(index as u64, Ordering::Relaxed);
        self.word(IMPL_LEN).store(0, Ordering::Relaxed);
        self.bump(SEQ, Ordering::Relaxed);
        self.word(ACTIVE).store(1, Ordering::Relaxed);
        self.bump(PHASE, Ordering::Release);
    }

    /// Records that the current input finished.
    #[inline]
    pub fn end_input(&self) {
        self.word(ACTIVE).store(0, Ordering::Relaxed);
        self.word(IMPL_LEN).store(0, Ordering::Relaxed);
        self.bump(PHASE, Ordering::Release);
    }

    /// Records that implementation `name` starts executing.
    #[inline]
    pub fn enter(&self, name: &str) {
        let len = name.len().min(IMPL_NAME_MAX);
        // SAFETY: `IMPL_NAME + IMPL_NAME_MAX <= COUNTERS < HEADER`; written only by the executing
        // thread, read by the supervisor once the worker is dead or stuck.
        unsafe { std::ptr::copy_nonoverlapping(name.as_ptr(), self.base.add(IMPL_NAME), len) };
        self.word(IMPL_LEN).store(len as u64, Ordering::Relaxed);
        self.bump(PHASE, Ordering::Release);
    }

    /// Records that the executing implementation returned.
    #[inline]
    pub fn leave(&self) {
        self.word(IMPL_LEN).store(0, Ordering::Relaxed);
        self.bump(PHASE, Ordering::Release);
    }

    /// The phase counter and whether an input is executing.
    pub fn phase(&self) -> (u64, bool) {
        (self.word(PHASE).load(Ordering::Acquire), self.word(ACTIVE).load(Ordering::Relaxed) == 1)
    }

    /// What the worker was doing: (executing an input?, target, implementation or `harness`, the
    /// input). Meaningful once the worker is dead or stopped.
    pub fn snapshot(&self) -> (bool, Option<Target>, String, Vec<u8>) {
        let active = self.word(ACTIVE).load(Ordering::Acquire) == 1;
        let target = usize::try_from(self.word(TARGET).load(Ordering::Relaxed)).ok().and_then(|i| Target::ALL.get(i)).copied();
        let len = usize::try_from(self.word(INPUT_LEN).load(Ordering::Relaxed)).unwrap_or(0).min(MAX_INPUT_LEN);
        let name_len = usize::try_from(self.word(IMPL_LEN).load(Ordering::Relaxed)).unwrap_or(0).min(IMPL_NAME_MAX);
        let mut input = vec![0u8; len];
        let mut name = vec![0u8; name_len];
        // SAFETY: both ranges lie inside the mapping (bounded above); `input`/`name` are fresh.
        unsafe {
            std::ptr::copy_nonoverlapping(self.base.add(HEADER), input.as_mut_ptr(), len);
            std::ptr::copy_nonoverlapping(self.base.add(IMPL_NAME), name.as_mut_ptr(), name_len);
        }
        let name = String::from_utf8(name).ok().filter(|n| !n.is_empty()).unwrap_or_else(|| "harness".to_string());
        (active, target, name, input)
    }

    /// Clears the execution record and the stop flag for a new incarnation (counters are kept).
    pub fn reset(&self) {
        for offset in [PHASE, ACTIVE, TARGET, INPUT_LEN, SEQ, STOP, IMPL_LEN] {
            self.word(offset).store(0, Ordering::Relaxed);
        }
    }

    /// Exports one target's counters (worker side).
    pub fn set_counters(&self, target: Target, c: &Counters) {
        let Some(i) = Target::ALL.iter().position(|t| *t == target) else { return };
        let at = COUNTERS + i * COUNTERS_PER_TARGET * 8;
        let [r0, r1, r2, r3] = c.reasons;
        for (k, v) in [c.execs, c.undecodable, c.corpus, c.seeds, c.busy_ns, c.synced_out, c.synced_in, c.synced_kept, c.valid, r0, r1, r2, r3, c.write_errors].into_iter().enumerate() {
            self.word(at + k * 8).store(v, Ordering::Relaxed);
        }
    }

    /// One target's last exported counters.
    pub fn counters(&self, target: Target) -> Counters {
        let Some(i) = Target::ALL.iter().position(|t| *t == target) else { return Counters::default() };
        let at = COUNTERS + i * COUNTERS_PER_TARGET * 8;
        let w = |k: usize| self.word(at + k * 8).load(Ordering::Relaxed);
        Counters { execs: w(0), undecodable: w(1), corpus: w(2), seeds: w(3), busy_ns: w(4), synced_out: w(5), synced_in: w(6), synced_kept: w(7), valid: w(8), reasons: [w(9), w(10), w(11), w(12)], write_errors: w(13) }
    }
}

/// The slot of this process, when it is a worker (or `diverge bench`, which measures the same
/// record-keeping). Unset in library use: the hooks are then a load and a branch.
static ACTIVE_SLOT: OnceLock<Slot> = OnceLock::new();

/// Makes `slot` this process's record, and the oracle's execution hooks
/// ([`diverge_oracle::hooks`]: the runner names the implementation it calls). `false` if one was
/// installed already.
pub fn install(slot: Slot) -> bool {
    let fresh = ACTIVE_SLOT.set(slot).is_ok();
    if let Some(s) = ACTIVE_SLOT.get() {
        diverge_oracle::hooks::install(s);
    }
    fresh
}

impl diverge_oracle::hooks::ExecutionHooks for Slot {
    fn enter(&self, name: &str) {
        Slot::enter(self, name);
    }
    fn leave(&self) {
        Slot::leave(self);
    }
}

/// This process's slot, if installed.
pub fn installed() -> Option<&'static Slot> {
    ACTIVE_SLOT.get()
}

/// Hook: `data` of `target` starts executing in this process.
#[inline]
pub fn begin_input(target: Target, data: &[u8]) {
    if let Some(s) = ACTIVE_SLOT.get() {
        s.begin_input(target, data);
    }
}

/// Hook: the current input finished.
#[inline]
pub fn end_input() {
    if let Some(s) = ACTIVE_SLOT.get() {
        s.end_input();
    }
}

/// Why a worker died on an input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    /// Killed by a signal (abort, segfault, stack overflow, an outside SIGKILL...).
    Signal(i32),
    /// Exited with a nonzero status.
    Exit(i32),
    /// An execution step took longer than the timeout; the supervisor killed it.
    Timeout,
    /// Resident memory passed the limit (MB); the supervisor killed it.
    RssLimit {
        /// Resident set size seen, MB.
        rss_mb: u64,
        /// The limit, MB.
        limit_mb: u64,
    },
}

/// The conventional name of a signal number (Linux numbering).
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return "SIGNAL".to_string(),
    };
    name.to_string()
}

impl Cause {
    /// The verdict kind: `crash`, `timeout` or `rss-limit`.
    pub fn kind(&self) -> &'static str {
        match self {
            Cause::Signal(_) | Cause::Exit(_) => "crash",
            Cause::Timeout => "timeout",
            Cause::RssLimit { .. } => "rss-limit",
        }
    }

    /// The signature's last part, without numbers: `crash/SIGABRT`, `crash/exit`, `timeout`,
    /// `rss-limit`.
    pub fn signature_kind(&self) -> String {
        match self {
            Cause::Signal(s) => format!("crash/{}", signal_name(*s)),
            Cause::Exit(_) => "crash/exit".to_string(),
            Cause::Timeout => "timeout".to_string(),
            Cause::RssLimit { .. } => "rss-limit".to_string(),
        }
    }

    /// The recorded message (stable for a given input, so a replay compares equal):
    /// `signal 6 (SIGABRT)`, `exit status 101`; none for timeouts and the rss limit.
    pub fn message(&self) -> Option<String> {
        match self {
            Cause::Signal(s) => Some(format!("signal {s} ({})", signal_name(*s))),
            Cause::Exit(c) => Some(format!("exit status {c}")),
            Cause::Timeout | Cause::RssLimit { .. } => None,
        }
    }

    /// One line for people: `crash: signal 6 (SIGABRT)`, `timeout`, `rss-limit: 2100 MB > 2048 MB`.
    pub fn describe(&self) -> String {
        match self {
            Cause::Signal(_) | Cause::Exit(_) => format!("crash: {}", self.message().unwrap_or_default()),
            Cause::Timeout => "timeout".to_string(),
            Cause::RssLimit { rss_mb, limit_mb } => format!("rss-limit: {rss_mb} MB > {limit_mb} MB"),
        }
    }
}

/// A worker that died (or was killed) while executing an input.
#[derive(Clone, Debug)]
pub struct Death {
    /// Why.
    pub cause: Cause,
    /// The input's target.
    pub target: Target,
    /// The implementation executing, or `harness`.
    pub implementation: String,
    /// The input.
    pub input: Vec<u8>,
}

impl Death {
    /// `<target>: <impl>: crash/SIGABRT` (or `timeout`, `rss-limit`).
    pub fn signature(&self) -> String {
        format!("{}: {}: {}", self.target.name(), self.implementation, self.cause.signature_kind())
    }

    /// The one verdict a dead worker leaves: the executing implementation's.
    pub fn verdict(&self) -> RecordedVerdict {
        RecordedVerdict {
            implementation: self.implementation.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            kind: self.cause.kind().to_string(),
            reason: None,
            message: self.cause.message(),
            post_root: None,
            rejected_block: None,
        }
    }

    /// The divergence recorded for it.
    pub fn divergence(&self) -> Divergence {
        Divergence { signature: self.signature(), majority: Vec::new(), groups: vec![vec![self.implementation.clone()]], diff: None, diffs: Vec::new(), known: None }
    }
}

/// The pool state an input selects, as findings record it, without loading the pool: phase0
/// targets read the manifest (`selector % len`), the DKG targets their node-state pool byte,
/// `ssz_decode` its type byte.
pub fn recorded_state(target: Target, pool_dir: &Path, data: &[u8]) -> RecordedState {
    if let Some(p2p) = target.p2p() {
        return crate::p2p::recorded_state(p2p, data);
    }
    if target.is_dkg() {
        let pool = if target == Target::DkgPacket {
            dkg_types::input::decode_packet_case(data).pool
        } else {
            dkg_types::input::decode_sequence_case(data).pool
        };
        return RecordedState { id: usize::from(pool), root: String::new(), source: "dkg-types node-state pool".into() };
    }
    if target == Target::SszDecode {
        use crate::ssz_types::SSZ_TYPES;
        let id = data.first().map(|b| usize::from(*b) % SSZ_TYPES.len()).unwrap_or(0);
        return RecordedState { id, root: String::new(), source: format!("SSZ type {}", SSZ_TYPES.get(id).copied().unwrap_or_default()) };
    }
    let selector = match data {
        [a, b, ..] => usize::from(u16::from_le_bytes([*a, *b])),
        _ => 0,
    };
    let manifest = std::fs::read_to_string(pool_dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<crate::pool::Manifest>(&t).ok());
    match manifest {
        Some(m) if !m.states.is_empty() => {
            let id = selector % m.states.len();
            let entry = m.states.get(id);
            RecordedState { id, root: entry.map(|e| e.root.clone()).unwrap_or_default(), source: entry.map(|e| e.source.clone()).unwrap_or_default() }
        }
        _ => RecordedState { id: selector, root: String::new(), source: format!("pool manifest {} unreadable", pool_dir.join("manifest.json").display()) },
    }
}

/// Where and how findings of dead workers are written.
#[derive(Clone, Debug)]
pub struct DeathRecorder {
    /// Findings directory.
    pub store: FindingStore,
    /// Preset.
    pub preset: Preset,
    /// BLS mode.
    pub bls: BlsMode,
    /// Strictness override (else the target's).
    pub strictness: Option<Strictness>,
    /// Pool directory.
    pub pool_dir: PathBuf,
    /// Engine name.
    pub engine: String,
    /// The run's batch-verification seed, recorded in the finding (`None`: not recorded).
    pub batch_seed: Option<diverge_types::bls::BatchSeed>,
}

impl DeathRecorder {
    /// Writes the finding of `death` (durably) unless its signature exists: its directory and
    /// whether it is new.
    ///
    /// # Errors
    /// I/O failures.
    pub fn record(&self, death: &Death) -> std::io::Result<(PathBuf, bool)> {
        let state = self.state(death);
        let pool_dir = if !death.target.uses_pool() { Path::new("-") } else { self.pool_dir.as_path() };
        let ctx = Context {
            target: death.target,
            bls: self.bls,
            strictness: self.strictness.unwrap_or(death.target.strictness()),
            pool_dir,
            state,
            engine: &self.engine,
            batch_seed: self.batch_seed,
        };
        self.store.record_verdicts(&ctx, self.preset.name(), &death.input, vec![death.verdict()], &death.divergence())
    }

    /// The pool state of the death's input.
    pub fn state(&self, death: &Death) -> RecordedState {
        recorded_state(death.target, &self.pool_dir, &death.input)
    }
}

/// What a worker process does (its command line: `diverge __worker <json of this>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerSpec {
    /// The slot file.
    pub slot: PathBuf,
    /// Preset name.
    pub preset: String,
    /// Pool directory.
    pub pool: PathBuf,
    /// BLS mode name.
    pub bls: String,
    /// Strictness override.
    pub strictness: Option<Strictness>,
    /// The supervisor's timeout, milliseconds (the in-process runner check gets twice this, so the
    /// supervisor judges first).
    pub timeout_ms: u64,
    /// Findings directory.
    pub findings: PathBuf,
    /// Engine name recorded in findings.
    pub engine: String,
    /// What to run.
    pub mode: WorkerMode,
    /// Runner options beyond the above.
    #[serde(default)]
    pub options: WorkerOptions,
}

/// Runner options a worker takes from its supervisor.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct WorkerOptions {
    /// The run's batch-verification seed (every worker of a campaign gets the same one; `None`:
    /// the worker's own process seed). Recorded in findings.
    pub batch_seed: Option<diverge_types::bls::BatchSeed>,
    /// Paranoid mode ([`crate::runner::RunnerConfig::paranoid`]).
    pub paranoid: bool,
    /// The sampled paranoid check ([`crate::runner::RunnerConfig::paranoid_one_in`]).
    #[serde(default)]
    pub paranoid_one_in: u32,
    /// The campaign's `--seed`, recorded in the findings the worker writes
    /// ([`crate::findings::set_campaign_seed`]).
    #[serde(default)]
    pub campaign_seed: Option<u64>,
    /// The built-in loop's mutator (`diverge fuzz --mutator`).
    #[serde(default)]
    pub mutator: crate::fuzz::structured::MutatorKind,
}

/// A worker's job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum WorkerMode {
    /// The built-in fuzz loop, one job, until the slot's stop flag or `max_execs`.
    Fuzz(FuzzWork),
    /// One [`ExecRequest`] per line of standard input, one [`ExecResult`] per line of output.
    Exec,
}

/// A fuzzing worker's share of a campaign.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FuzzWork {
    /// Targets with their seed directories and the counts of earlier incarnations.
    pub targets: Vec<FuzzTarget>,
    /// Executions per target for this worker (its share of `--max-execs`), counting earlier
    /// incarnations.
    pub max_execs: Option<u64>,
    /// RNG seed of this incarnation.
    pub seed: u64,
    /// This worker's index: seed `i` runs unmutated in worker `i % workers` first (again after a
    /// restart, less the fatal ones).
    pub worker: usize,
    /// Number of workers.
    pub workers: usize,
    /// SHA-256 (hex) of inputs that killed a worker: left out of the corpus.
    pub fatal: Vec<String>,
    /// Where new corpus entries are saved.
    pub save_corpus: Option<PathBuf>,
    /// Corpus sync with other processes and AFL++ instances (`--sync-dir`).
    #[serde(default)]
    pub sync: Option<crate::fuzz::sync::SyncSpec>,
}

/// One target of a fuzzing worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FuzzTarget {
    /// Target name.
    pub target: String,
    /// Seed directory.
    pub corpus: PathBuf,
    /// Counts carried over from earlier incarnations.
    pub start: Counters,
}

/// One input for an [`WorkerMode::Exec`] worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExecRequest {
    /// Target name.
    pub target: String,
    /// The input, hex.
    pub input: String,
    /// Write a finding for a divergence.
    pub record: bool,
}

/// An [`WorkerMode::Exec`] worker's answer: the replay report's fields and the finding written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExecResult {
    /// `undecodable`, `state-unavailable`, `agreed` or `diverged`.
    pub status: String,
    /// Why, for the first two.
    pub detail: Option<String>,
    /// Selected state.
    pub state: Option<RecordedState>,
    /// Verdicts.
    pub verdicts: Vec<RecordedVerdict>,
    /// The divergence.
    pub divergence: Option<Divergence>,
    /// The finding directory and whether it is new.
    pub written: Option<(PathBuf, bool)>,
}

/// A fuzzing worker's stdout line: a finding it wrote.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerFinding {
    /// The finding.
    pub finding: crate::fuzz::NewFinding,
}

/// Exit status of a worker that could not write a finding (the campaign must stop).
pub const EXIT_WRITE_FAILED: i32 = 3;
/// Exit status of a worker that could not start (bad spec, pool).
pub const EXIT_SETUP_FAILED: i32 = 2;

/// What [`Worker::poll`] saw.
#[derive(Debug)]
pub enum Poll {
    /// Still running.
    Running,
    /// Exited with status 0.
    Finished,
    /// Could not write a finding, or could not start: the message; the campaign stops.
    Failed(String),
    /// Died outside any input (start-up): not an input's fault.
    DiedIdle(String),
    /// Died on an input.
    Died(Death),
}

/// Limits the supervisor enforces.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest time an execution step may take.
    pub timeout: Duration,
    /// Resident memory limit, MB (0: none).
    pub rss_limit_mb: u64,
}

/// A running worker process and the supervisor's view of it.
pub struct Worker {
    child: Child,
    slot: std::sync::Arc<Slot>,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
    last_phase: (u64, bool),
    phase_since: Instant,
    /// When the stop flag was set.
    stopping_since: Option<Instant>,
}

impl Worker {
    /// Starts `exe __worker <spec>` with its slot (reset first), stdout piped (one JSON line per
    /// message), stdin piped for exec workers, in its own process group (a terminal's Ctrl-C
    /// reaches only the supervisor, which stops the workers through their slots).
    ///
    /// # Errors
    /// The process could not be started.
    pub fn spawn(exe: &Path, spec: &WorkerSpec, slot: std::sync::Arc<Slot>) -> std::io::Result<Worker> {
        use std::os::unix::process::CommandExt;
        slot.reset();
        let json = serde_json::to_string(spec).map_err(std::io::Error::other)?;
        let mut child = Command::new(exe)
            .arg("__worker")
            .arg(json)
            .stdin(if matches!(spec.mode, WorkerMode::Exec) { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("worker stdout not piped"))?;
        let stdin = child.stdin.take();
        let (tx, lines) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Worker { child, slot, stdin, lines, reader: Some(reader), last_phase: (0, false), phase_since: Instant::now(), stopping_since: None })
    }

    /// Its slot.
    pub fn slot(&self) -> &Slot {
        &self.slot
    }

    /// Its slot, once the process is gone (kept for the counters, or for the next incarnation).
    pub fn into_slot(self) -> std::sync::Arc<Slot> {
        self.slot.clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one line to an exec worker.
    ///
    /// # Errors
    /// The worker's stdin is closed (it died).
    pub fn send(&mut self, line: &str) -> std::io::Result<()> {
        let stdin = self.stdin.as_mut().ok_or_else(|| std::io::Error::other("worker has no stdin"))?;
        stdin.write_all(line.as_bytes())?;
        stdin.write_all(b"\n")?;
        stdin.flush()
    }

    /// Closes an exec worker's stdin (it exits after its last answer).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next line the worker printed, waiting at most `wait`.
    pub fn line(&self, wait: Duration) -> Option<String> {
        self.lines.recv_timeout(wait).ok()
    }

    /// Every line printed so far, without waiting.
    pub fn drain(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Asks the worker to finish its input and exit.
    pub fn stop(&mut self) {
        self.slot.stop_flag().store(true, Ordering::SeqCst);
        self.stopping_since.get_or_insert_with(Instant::now);
        self.close_stdin();
    }

    /// Kills the worker (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// After the worker exited: waits for its stdout to be read to the end, then returns the lines
    /// not consumed yet.
    fn finish_output(&mut self) -> Vec<String> {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.drain()
    }

    /// Checks the worker: exit, timeout, memory. A worker past its timeout or limit is killed
    /// here. After a non-`Running` answer the worker is reaped; lines it printed before dying are
    /// in `output`.
    ///
    /// # Errors
    /// `try_wait` failed.
    pub fn poll(&mut self, limits: &Limits, output: &mut Vec<String>) -> std::io::Result<Poll> {
        if let Some(status) = self.child.try_wait()? {
            output.extend(self.finish_output());
            return Ok(self.judge_exit(status));
        }
        let phase = self.slot.phase();
        let now = Instant::now();
        if phase != self.last_phase {
            self.last_phase = phase;
            self.phase_since = now;
        }
        // Memory first: a worker both over the limit and slow is slow because of its memory.
        if limits.rss_limit_mb > 0 {
            if let Some(rss_mb) = rss_mb(self.child.id()) {
                if rss_mb > limits.rss_limit_mb {
                    self.kill();
                    output.extend(self.finish_output());
                    return Ok(self.death(Cause::RssLimit { rss_mb, limit_mb: limits.rss_limit_mb }));
                }
            }
        }
        let stuck = phase.1 && now.duration_since(self.phase_since) > limits.timeout;
        // A stopped worker that does not exit within the timeout (plus a grace second) is killed.
        let stop_overdue = self.stopping_since.is_some_and(|s| now.duration_since(s) > limits.timeout + Duration::from_secs(1));
        if stuck || stop_overdue {
            self.kill();
            output.extend(self.finish_output());
            return Ok(if stuck { self.death(Cause::Timeout) } else { Poll::Finished });
        }
        Ok(Poll::Running)
    }

    fn judge_exit(&self, status: ExitStatus) -> Poll {
        use std::os::unix::process::ExitStatusExt;
        let cause = match (status.code(), status.signal()) {
            (Some(0), _) => return Poll::Finished,
            (Some(EXIT_WRITE_FAILED), _) => return Poll::Failed("a worker could not write a finding".into()),
            (Some(EXIT_SETUP_FAILED), _) if !self.slot.phase().1 => return Poll::Failed("a worker could not start".into()),
            (Some(code), _) => Cause::Exit(code),
            (None, Some(signal)) => Cause::Signal(signal),
            (None, None) => Cause::Exit(-1),
        };
        self.death(cause)
    }

    fn death(&self, cause: Cause) -> Poll {
        match self.slot.snapshot() {
            (true, Some(target), implementation, input) => Poll::Died(Death { cause, target, implementation, input }),
            _ => Poll::DiedIdle(cause.describe()),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// Resident set size of process `pid`, MB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// A fresh private directory for a campaign's slot files: `/dev/shm/diverge-<pid>-<nanos>` (else
/// under the temporary directory).
///
/// # Errors
/// The directory could not be created.
pub fn slot_dir() -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    // Memory-backed where there is one: a slot on a disk file system would be written back.
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    let dir = base.join(format!("diverge-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The RNG seed of incarnation `restart` of worker `worker`: `seed + worker` for the first (as the
/// in-process loop's job `worker`), a SplitMix64 mix of all three after a restart.
pub fn worker_seed(seed: u64, worker: usize, restart: u64) -> u64 {
    let base = seed.wrapping_add(worker as u64);
    if restart == 0 {
        return base;
    }
    let mut z = base ^ restart.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_round_trip_between_two_mappings() {
        let dir = slot_dir().unwrap();
        let path = dir.join("w.slot");
        let a = Slot::create(&path).unwrap();
        let b = Slot::open(&path).unwrap();
        a.begin_input(Target::VoluntaryExit, &[1, 2, 3]);
        a.enter("fast");
        assert!(b.phase().1);
        assert_eq!(b.snapshot(), (true, Some(Target::VoluntaryExit), "fast".to_string(), vec![1, 2, 3]));
        a.leave();
        assert_eq!(b.snapshot().2, "harness");
        let before = b.phase().0;
        a.end_input();
        assert_eq!(b.phase(), (before + 1, false));
        a.set_counters(Target::Block, &Counters { execs: 7, undecodable: 2, corpus: 5, seeds: 4, busy_ns: 9, synced_out: 3, synced_in: 1, synced_kept: 1, valid: 6, reasons: [5, 0, 1 << 40, 0], write_errors: 2 });
        assert_eq!(b.counters(Target::Block).execs, 7);
        assert_eq!((b.counters(Target::Block).synced_out, b.counters(Target::Block).synced_in), (3, 1));
        assert_eq!(b.counters(Target::Attestation), Counters::default());
        b.stop_flag().store(true, Ordering::SeqCst);
        assert!(a.stop_flag().load(Ordering::SeqCst));
        a.reset();
        assert!(!b.stop_flag().load(Ordering::SeqCst));
        assert_eq!(b.counters(Target::Block).busy_ns, 9, "reset keeps the counters");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn signatures_have_no_digits_and_seeds_differ_per_restart() {
        let d = Death { cause: Cause::Signal(6), target: Target::VoluntaryExit, implementation: "fast".into(), input: vec![] };
        assert_eq!(d.signature(), "voluntary_exit: fast: crash/SIGABRT");
        assert_eq!(d.verdict().message.as_deref(), Some("signal 6 (SIGABRT)"));
        let t = Death { cause: Cause::RssLimit { rss_mb: 3000, limit_mb: 2048 }, ..d.clone() };
        assert_eq!(t.signature(), "voluntary_exit: fast: rss-limit");
        assert_eq!(Death { cause: Cause::Exit(101), ..d }.signature(), "voluntary_exit: fast: crash/exit");
        assert_eq!(worker_seed(5, 2, 0), 7);
        assert_ne!(worker_seed(5, 2, 1), worker_seed(5, 2, 2));
        assert_ne!(worker_seed(5, 2, 1), 7);
    }
}
