//! `diverge __worker <spec>` (hidden): a worker process of the crash-isolating supervisor
//! (`diverge::supervisor`). It maps its slot, loads the pool, then either fuzzes (one job of the
//! built-in loop, findings announced as JSON lines on stdout) or executes the inputs it is sent
//! on stdin (one JSON answer per line). It exits 0 when done or stopped,
//! [`EXIT_WRITE_FAILED`] when a finding cannot be written, [`EXIT_SETUP_FAILED`] when it cannot
//! start; any other end is judged by the supervisor.

use diverge::findings::FindingStore;
use diverge::fuzz::{self, structured::PoolMutator, sync::TargetSync, FuzzConfig, NewFinding, TargetState};
use diverge::replay::{parse_bls, ReplayReport};
use diverge::runner::RunnerConfig;
use diverge::session::Session;
use diverge::supervisor::{self, Counters, ExecRequest, ExecResult, FuzzWork, Slot, WorkerFinding, WorkerMode, WorkerSpec, EXIT_SETUP_FAILED, EXIT_WRITE_FAILED};
use diverge::target::Target;
use diverge_types::{BlsMode, Preset};
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn setup_failed(message: String) -> i32 {
    eprintln!("diverge worker: {message}");
    EXIT_SETUP_FAILED
}

pub fn run(spec_json: &str) -> i32 {
    let spec: WorkerSpec = match serde_json::from_str(spec_json) {
        Ok(s) => s,
        Err(e) => return setup_failed(format!("bad worker spec: {e}")),
    };
    let slot = match Slot::open(&spec.slot) {
        Ok(s) => s,
        Err(e) => return setup_failed(format!("slot {}: {e}", spec.slot.display())),
    };
    supervisor::install(slot);
    let Some(slot) = supervisor::installed() else { return setup_failed("slot not installed".into()) };
    let (Some(preset), Some(bls)) = (Preset::from_name(&spec.preset), parse_bls(&spec.bls)) else {
        return setup_failed(format!("unknown preset {:?} or bls {:?}", spec.preset, spec.bls));
    };
    // The supervisor judges timeouts (and kills); the runner's after-the-fact check only backs it.
    let mut config = RunnerConfig {
        bls,
        timeout: Duration::from_millis(spec.timeout_ms.saturating_mul(2)),
        strictness: spec.strictness,
        paranoid: spec.options.paranoid,
        paranoid_one_in: spec.options.paranoid_one_in,
        ..RunnerConfig::default()
    };
    if let Some(seed) = spec.options.campaign_seed {
        diverge::findings::set_campaign_seed(seed);
    }
    if let Some(seed) = spec.options.batch_seed {
        config.batch_seed = seed;
    }
    let session = match Session::new(preset, &spec.pool, config) {
        Ok(s) => s,
        Err(e) => return setup_failed(format!("loading the {preset} state pool: {e}")),
    };
    watch_parent(slot.stop_flag());
    let store = FindingStore { root: spec.findings.clone() };
    match &spec.mode {
        WorkerMode::Fuzz(work) => fuzz_worker(&spec, work, &session, slot),
        WorkerMode::Exec => exec_worker(&spec, &session, &store),
    }
}

/// If the supervisor goes away (killed without stopping its workers), stop; exit if the current
/// input does not finish within a minute.
fn watch_parent(stop: &'static AtomicBool) {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(250));
        if std::os::unix::process::parent_id() != parent {
            stop.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(60));
            std::process::exit(0);
        }
    });
}

fn fuzz_worker(spec: &WorkerSpec, work: &FuzzWork, session: &Session, slot: &'static Slot) -> i32 {
    let fatal: HashSet<&str> = work.fatal.iter().map(String::as_str).collect();
    // The structured mutators see the pool through views; only load them when a target has one.
    let structured = work.targets.iter().any(|t| Target::from_name(&t.target).is_some_and(PoolMutator::needs_pool));
    let mutator = match (structured, Preset::from_name(&spec.preset)) {
        (true, Some(preset)) => match PoolMutator::new(spec.options.mutator, preset, &spec.pool) {
            Ok(m) => m.with_bls(parse_bls(&spec.bls).unwrap_or(BlsMode::AssumeValid)),
            Err(e) => return setup_failed(format!("loading the pool for the {} mutator: {e}", spec.options.mutator.name())),
        },
        _ => PoolMutator::without_pool(spec.options.mutator),
    };
    let mut states = Vec::new();
    for t in &work.targets {
        let Some(target) = Target::from_name(&t.target) else { return setup_failed(format!("unknown target {:?}", t.target)) };
        // The supervisor printed the seed warnings; inputs that killed a worker stay out.
        let (mut seeds, _) = fuzz::load_seeds(&t.corpus);
        seeds.retain(|s| !fatal.contains(hex::encode(diverge_types::hash(s)).as_str()));
        let mine: Vec<Vec<u8>> = seeds.iter().enumerate().filter(|(i, _)| i % work.workers.max(1) == work.worker).map(|(_, s)| s.clone()).collect();
        let ts = TargetState::new(target, seeds);
        ts.execs.store(t.start.execs, Ordering::Relaxed);
        ts.undecodable.store(t.start.undecodable, Ordering::Relaxed);
        ts.valid.store(t.start.valid, Ordering::Relaxed);
        ts.busy_ns.store(t.start.busy_ns, Ordering::Relaxed);
        ts.queue_unmutated(mine);
        // slots and epoch: their whole (small) input space once, after the seeds (a restarted
        // worker runs its share again).
        ts.queue_enumeration(session.pool_len(), slots_per_epoch(session.preset), work.worker, work.workers);
        if let Some(sync) = &work.sync {
            match TargetSync::open(&sync.dir, target, &sync.instance(work.worker), t.start.synced_out, t.start.synced_in) {
                Ok(mut s) => {
                    s.kept = t.start.synced_kept;
                    *ts.sync.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
                }
                Err(e) => return setup_failed(e.to_string()),
            }
        }
        states.push(ts);
    }
    let config = FuzzConfig {
        targets: Vec::new(),
        duration: None,
        max_execs: work.max_execs,
        jobs: 1,
        seed: work.seed,
        store: FindingStore { root: spec.findings.clone() },
        save_corpus: work.save_corpus.clone(),
        engine: spec.engine.clone(),
    };
    let export = |states: &[TargetState]| {
        for ts in states {
            let corpus = ts.corpus.lock().map(|c| c.len()).unwrap_or(0) as u64;
            let c = Counters {
                execs: ts.execs.load(Ordering::Relaxed),
                undecodable: ts.undecodable.load(Ordering::Relaxed),
                corpus,
                seeds: ts.seed_count() as u64,
                busy_ns: ts.busy_ns.load(Ordering::Relaxed),
                valid: ts.valid.load(Ordering::Relaxed),
                reasons: ts.reason_masks(),
                write_errors: ts.write_errors.load(Ordering::Relaxed),
                ..sync_counts(ts)
            };
            slot.set_counters(ts.target, &c);
        }
    };
    let on_finding = |f: &NewFinding| {
        // On disk already; one line (flushed at the newline) tells the supervisor.
        if let Ok(line) = serde_json::to_string(&WorkerFinding { finding: f.clone() }) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    };
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut last_import: Option<std::time::Instant> = None;
            while !done.load(Ordering::Relaxed) {
                export(&states);
                if let Some(sync) = &work.sync {
                    if last_import.is_none_or(|t| t.elapsed() >= Duration::from_millis(sync.interval_ms)) {
                        import(&states);
                        last_import = Some(std::time::Instant::now());
                    }
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        });
        let r = fuzz::fuzz(&config, session, &mutator, &states, slot.stop_flag(), &on_finding);
        done.store(true, Ordering::Relaxed);
        r
    });
    export(&states);
    match result {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("diverge worker: a finding could not be written: {e}");
            EXIT_WRITE_FAILED
        }
    }
}

/// `SLOTS_PER_EPOCH` of a preset.
fn slots_per_epoch(preset: Preset) -> u64 {
    use diverge_types::EthSpec;
    match preset {
        Preset::Minimal => diverge_types::MinimalSpec::SLOTS_PER_EPOCH,
        Preset::Mainnet => diverge_types::MainnetSpec::SLOTS_PER_EPOCH,
    }
}

/// The sync counters of a target (zero without `--sync-dir`).
fn sync_counts(ts: &TargetState) -> Counters {
    let sync = ts.sync.lock().unwrap_or_else(|e| e.into_inner());
    sync.as_ref().map(|s| Counters { synced_out: s.exported, synced_in: s.imported, synced_kept: s.kept, ..Counters::default() }).unwrap_or_default()
}

/// `--sync-dir`: the other queues' new entries run once each, unmutated, before further mutants
/// (an entry reaching a behaviour new here joins the corpus).
fn import(states: &[TargetState]) {
    for ts in states {
        let inputs = match ts.sync.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            Some(s) => s.import(fuzz::MAX_INPUT_LEN),
            None => continue,
        };
        if !inputs.is_empty() {
            ts.queue_unmutated(inputs);
        }
    }
}

fn exec_worker(spec: &WorkerSpec, session: &Session, store: &FindingStore) -> i32 {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let request: ExecRequest = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => return setup_failed(format!("bad request: {e}")),
        };
        let (Some(target), Ok(data)) = (Target::from_name(&request.target), hex::decode(&request.input)) else {
            return setup_failed(format!("bad request for target {:?}", request.target));
        };
        supervisor::begin_input(target, &data);
        let result = if request.record {
            session.run_and_record(target, &data, store, &spec.engine)
        } else {
            Ok((session.run(target, &data), None))
        };
        supervisor::end_input();
        let (outcome, written) = match result {
            Ok(r) => r,
            Err(e) => {
                eprintln!("diverge worker: a finding could not be written: {e}");
                return EXIT_WRITE_FAILED;
            }
        };
        let r = ReplayReport::of(target, session, outcome);
        let answer = ExecResult { status: r.status, detail: r.detail, state: r.state, verdicts: r.verdicts, divergence: r.divergence, written };
        let Ok(json) = serde_json::to_string(&answer) else { return EXIT_WRITE_FAILED };
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{json}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    0
}
