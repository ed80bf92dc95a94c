//! `diverge fuzz`: the built-in multi-core loop.

use super::{parse_target, BlsArg, OnePreset};
use anyhow::{bail, Context, Result};
use clap::Args;
use diverge::findings::FindingStore;
use diverge::metrics::{Metrics, MetricsServer, TargetTotals};
use diverge::fuzz::{self, NewFinding, TargetReport};
use diverge::session::{default_corpus_dir, default_pool_dir};
use diverge::supervisor::{self, DeathRecorder, FuzzTarget, FuzzWork, Limits, Poll, Slot, Worker, WorkerFinding, WorkerMode, WorkerOptions, WorkerSpec};
use diverge::target::Target;
use diverge_types::{BlsMode, Preset};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct FuzzArgs {
    /// Target(s) to fuzz.
    #[arg(long = "target", value_parser = parse_target, num_args = 1.., required_unless_present = "all")]
    targets: Vec<Target>,
    /// Fuzz every target.
    #[arg(long, conflicts_with = "targets")]
    all: bool,
    /// Preset.
    #[arg(long, value_enum, default_value = "minimal")]
    preset: OnePreset,
    /// How long: `90s`, `10m`, `2h` or seconds (default: until Ctrl-C).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Stop each target after this many executions.
    #[arg(long)]
    max_execs: Option<u64>,
    /// Worker processes (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Seed corpus: a directory of inputs for one target, or a directory holding one directory per
    /// target (default: the shipped corpora).
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// RNG seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// BLS mode.
    #[arg(long, value_enum, default_value = "assume-valid")]
    bls: BlsArg,
    /// Secret seed of batch verification's random scalars, 64 hex digits (default: fresh from the
    /// OS per run); recorded in findings.
    #[arg(long, value_name = "HEX", value_parser = super::findings::parse_seed)]
    batch_seed: Option<diverge_types::bls::BatchSeed>,
    /// State pool (default corpora/states/<preset>).
    #[arg(long, value_name = "DIR")]
    pool: Option<PathBuf>,
    /// Where findings are written.
    #[arg(long, value_name = "DIR", default_value = "findings")]
    findings: PathBuf,
    /// Save inputs that reached a new behaviour here (one directory per target).
    #[arg(long, value_name = "DIR")]
    save_corpus: Option<PathBuf>,
    /// Per-implementation time budget per input, seconds: a worker executing one implementation
    /// (or the harness) longer is killed, the input written as a `timeout` finding, the worker
    /// restarted.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Resident memory limit per worker process, MB (0: none), like libFuzzer's: a worker above it
    /// is killed, the input written as an `rss-limit` finding, the worker restarted.
    #[arg(long, default_value_t = 2048)]
    rss_limit_mb: u64,
    /// Serve live Prometheus metrics on http://ADDR/metrics while the campaign runs, e.g.
    /// 127.0.0.1:9187 (series: `diverge metric-names`; Grafana dashboard: ci/monitoring/).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<std::net::SocketAddr>,
    /// Stop the campaign once a finding is on disk: the first one, or with a PATTERN the first
    /// whose signature contains it (CI: prove a bug build's divergence is found, then stop).
    #[arg(long, value_name = "PATTERN", num_args = 0..=1, default_missing_value = "")]
    stop_on_finding: Option<String>,
    /// Print one JSON document at the end instead of the table.
    #[arg(long)]
    json: bool,
    /// The loop's mutator: `havoc` (bytes, SSZ-aware integers), `structured` (generated and
    /// field-level mutated operations on the pool states, diverge-mutators) or `mixed` (either,
    /// even odds). Only attestation, attester_slashing, proposer_slashing, voluntary_exit,
    /// block_header, dkg_packet and dkg_sequence have a structured mutator; the other targets
    /// always get havoc.
    #[arg(long, default_value = "mixed")]
    mutator: diverge::fuzz::structured::MutatorKind,
    /// Cross-check one export in N of each implementation against a full copy of its post-state
    /// (paranoid mode on a sample: a stale cached field root becomes an `Internal` finding naming
    /// the field). 0 turns it off, 1 checks every execution.
    #[arg(long, default_value_t = diverge::runner::PARANOID_ONE_IN_DEFAULT, value_name = "N")]
    paranoid_one_in: u32,
    #[command(flatten)]
    sync: SyncArgs,
}

/// Corpus sync with other `diverge fuzz` processes and AFL++ instances (issue 14 item 3).
#[derive(Args)]
struct SyncArgs {
    /// Share the corpus through DIR in AFL++'s layout: each worker exports its new entries to
    /// DIR/<target>/<sync-name>-w<k>/queue/ and imports every other queue under DIR/<target>/
    /// (other processes, other machines' mirrors, `diverge farm afl` instances).
    #[arg(long, value_name = "DIR")]
    sync_dir: Option<PathBuf>,
    /// This process's name in the sync directory (default: <hostname>-<pid>); unique per process.
    #[arg(long, value_name = "NAME", requires = "sync_dir")]
    sync_name: Option<String>,
    /// Seconds between imports from the sync directory.
    #[arg(long, value_name = "SECS", default_value_t = 15, requires = "sync_dir")]
    sync_interval: u64,
}

impl SyncArgs {
    /// The workers' sync spec; creates DIR.
    fn spec(&self) -> Result<Option<fuzz::sync::SyncSpec>> {
        let Some(dir) = &self.sync_dir else { return Ok(None) };
        std::fs::create_dir_all(dir).with_context(|| format!("sync directory {}: cannot create", dir.display()))?;
        let name = match &self.sync_name {
            Some(n) => diverge::farm::sanitize_name(n),
            None => format!("{}-{}", diverge::farm::hostname(), std::process::id()),
        };
        Ok(Some(fuzz::sync::SyncSpec { dir: dir.clone(), name, interval_ms: self.sync_interval.max(1).saturating_mul(1000) }))
    }
}

/// The sync summary: per target, entries exported, imported, and imported that joined the corpus
/// (summed over the workers).
fn sync_summary(spec: &fuzz::sync::SyncSpec, targets: &[Target], counters: &[Vec<supervisor::Counters>]) -> serde_json::Value {
    let per: Vec<serde_json::Value> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (out, inn, kept) = counters.iter().filter_map(|w| w.get(i)).fold((0u64, 0u64, 0u64), |(o, n, k), c| (o + c.synced_out, n + c.synced_in, k + c.synced_kept));
            serde_json::json!({"target": t.name(), "exported": out, "imported": inn, "kept": kept})
        })
        .collect();
    serde_json::json!({"dir": spec.dir, "name": spec.name, "targets": per})
}

/// Parses `90s`, `10m`, `2h`, `1d` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.trim().split_at(s.trim().find(|c: char| !c.is_ascii_digit()).unwrap_or(s.trim().len()));
    let n: u64 = num.parse().map_err(|_| format!("invalid duration {s:?} (e.g. 90s, 10m, 2h)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("invalid duration unit in {s:?} (s, m, h, d)")),
    };
    Ok(Duration::from_secs(secs))
}

/// One worker of the campaign, as the supervisor tracks it.
struct Seat {
    /// The running process (`None` once finished or between a death and its restart).
    worker: Option<Worker>,
    /// Incarnations started so far.
    incarnation: u64,
    /// Consecutive deaths outside any input (start-up): past 3 the campaign stops.
    idle_deaths: u32,
    finished: bool,
}

pub fn run(args: FuzzArgs) -> Result<i32> {
    let preset: Preset = args.preset.into();
    let targets: Vec<Target> = if args.all { Target::ALL.to_vec() } else { args.targets.clone() };
    let corpus_for = |t: Target| -> PathBuf {
        match &args.corpus {
            None => default_corpus_dir(preset, t),
            Some(dir) if targets.len() == 1 && !dir.join(t.name()).is_dir() => dir.clone(),
            Some(dir) => dir.join(t.name()),
        }
    };
    let pool = args.pool.clone().unwrap_or_else(|| default_pool_dir(preset));
    super::findings::check_pool(&pool).with_context(|| format!("loading the {preset} state pool"))?;
    if targets.is_empty() {
        bail!("no target");
    }
    let mut seed_counts = Vec::new();
    for &t in &targets {
        let dir = corpus_for(t);
        let (seeds, warnings) = fuzz::load_seeds(&dir);
        for w in warnings {
            eprintln!("warning: {w}");
        }
        if seeds.is_empty() {
            eprintln!("warning: {t}: no seeds in {}; starting from an empty input", dir.display());
        }
        seed_counts.push(seeds.len() as u64);
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let bls: BlsMode = args.bls.into();
    let limits = Limits { timeout: Duration::from_secs(args.timeout), rss_limit_mb: args.rss_limit_mb };
    let store = FindingStore { root: args.findings.clone() };
    store.check_writable()?;
    diverge::findings::set_campaign_seed(args.seed);
    let cleaned = store.clean_staging();
    if cleaned > 0 {
        eprintln!("removed {cleaned} staging director{} of killed runs in {} (never reported findings)", if cleaned == 1 { "y" } else { "ies" }, store.root.display());
    }
    let batch_seed = args.batch_seed.unwrap_or_else(diverge_types::bls::process_batch_seed);
    let recorder = DeathRecorder { store, preset, bls, strictness: None, pool_dir: pool.clone(), engine: "diverge-fuzz".into(), batch_seed: Some(batch_seed) };
    let sync = args.sync.spec()?;
    let exe = std::env::current_exe().context("locating the diverge binary for its workers")?;
    let (metrics, _metrics_server) = serve_metrics(args.metrics)?;
    let slot_dir = supervisor::slot_dir().context("creating the worker slot directory")?;

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nstopping (Ctrl-C again to quit at once)");
        });
    }
    let tty = std::io::stderr().is_terminal() && !args.json;
    let bar = tty.then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(ProgressStyle::with_template("{spinner} fuzz [{elapsed_precise}] {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        b
    });
    let say = |line: String| match &bar {
        Some(b) => b.println(line),
        None => eprintln!("{line}"),
    };
    eprintln!(
        "fuzz: {} target(s), preset {preset}, {jobs} worker process(es), bls {}, timeout {} s, rss limit {}, findings in {}",
        targets.len(),
        bls.name(),
        args.timeout,
        if args.rss_limit_mb == 0 { "none".to_string() } else { format!("{} MB", args.rss_limit_mb) },
        args.findings.display()
    );

    let start = Instant::now();
    let deadline = args.duration.map(|d| start + d);
    // Per target: findings reported (first of each signature), restarts.
    let mut findings: Vec<Vec<NewFinding>> = vec![Vec::new(); targets.len()];
    let mut restarts: Vec<u64> = vec![0; targets.len()];
    // Restarts after a worker died outside any input (e.g. killed from outside between inputs).
    let mut idle_restarts = 0u64;
    let mut fatal: Vec<String> = Vec::new();
    let index_of = |t: Target| targets.iter().position(|x| *x == t);
    let report_finding = |findings: &mut Vec<Vec<NewFinding>>, t: usize, signature: String, path: PathBuf, known: Option<String>| {
        let Some(list) = findings.get_mut(t) else { return };
        if list.iter().any(|f| f.signature == signature) {
            return;
        }
        let f = NewFinding { target: targets[t].name().to_string(), signature, path, after_secs: start.elapsed().as_secs_f64(), known };
        if let Some(m) = &metrics {
            m.finding(&f.target, preset.name(), &f.signature, f.known.as_deref());
        }
        say(match &f.known {
            // Known upstream hazards are shown, counted apart, and not a failure.
            Some(hazard) => format!("KNOWN HAZARD after {:.1}s: {} ({hazard}) -> {}", f.after_secs, f.signature, f.path.display()),
            None => format!("NEW FINDING after {:.1}s: {} -> {}\nASSERTION FAILED: diverge/{}", f.after_secs, f.signature, f.path.display(), f.signature),
        });
        if f.known.is_none() && args.stop_on_finding.as_deref().is_some_and(|p| f.signature.contains(p)) {
            stop.store(true, Ordering::SeqCst);
        }
        list.push(f);
    };
    let spec_for = |w: usize, incarnation: u64, slot: &Slot, fatal: &[String]| WorkerSpec {
        slot: slot.path().to_path_buf(),
        preset: preset.name().to_string(),
        pool: pool.clone(),
        bls: bls.name().to_string(),
        strictness: None,
        timeout_ms: args.timeout.saturating_mul(1000),
        findings: args.findings.clone(),
        engine: "diverge-fuzz".to_string(),
        // One secret batch seed for the whole campaign, every worker and restart alike.
        options: WorkerOptions { batch_seed: Some(batch_seed), paranoid: false, paranoid_one_in: args.paranoid_one_in, campaign_seed: Some(args.seed), mutator: args.mutator },
        mode: WorkerMode::Fuzz(FuzzWork {
            targets: targets.iter().map(|&t| FuzzTarget { target: t.name().to_string(), corpus: corpus_for(t), start: slot.counters(t) }).collect(),
            // This worker's share of --max-execs per target.
            max_execs: args.max_execs.map(|m| m / jobs as u64 + u64::from((w as u64) < m % jobs as u64)),
            seed: supervisor::worker_seed(args.seed, w, incarnation),
            worker: w,
            workers: jobs,
            fatal: fatal.to_vec(),
            save_corpus: args.save_corpus.clone(),
            sync: sync.clone(),
        }),
    };
    let mut seats: Vec<Seat> = Vec::new();
    for w in 0..jobs {
        let path = slot_dir.join(format!("worker-{w}.slot"));
        let slot = Arc::new(Slot::create(&path).with_context(|| format!("creating {}", path.display()))?);
        let worker = Worker::spawn(&exe, &spec_for(w, 0, &slot, &fatal), slot).context("starting a worker process")?;
        seats.push(Seat { worker: Some(worker), incarnation: 0, idle_deaths: 0, finished: false });
    }
    // The last counters seen per worker (slots outlive their processes).
    let counters = |seats: &[Seat], finals: &[Option<Arc<Slot>>]| -> Vec<Vec<supervisor::Counters>> {
        seats
            .iter()
            .zip(finals)
            .map(|(s, f)| {
                let slot = s.worker.as_ref().map(Worker::slot).or(f.as_deref());
                targets.iter().map(|&t| slot.map(|sl| sl.counters(t)).unwrap_or_default()).collect()
            })
            .collect()
    };
    // Slots of workers that are gone (finished), kept for their final counters.
    let mut finals: Vec<Option<Arc<Slot>>> = (0..jobs).map(|_| None).collect();
    let mut stopping = false;
    let mut failure: Option<String> = None;
    let mut last_line = Instant::now();
    loop {
        std::thread::sleep(supervisor::POLL);
        if !stopping && (stop.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d)) {
            stopping = true;
            for seat in &mut seats {
                if let Some(w) = seat.worker.as_mut() {
                    w.stop();
                }
            }
        }
        for (w, seat) in seats.iter_mut().enumerate() {
            let Some(worker) = seat.worker.as_mut() else { continue };
            let mut lines = worker.drain();
            let poll = worker.poll(&limits, &mut lines).context("watching a worker")?;
            for line in lines {
                match serde_json::from_str::<WorkerFinding>(&line) {
                    Ok(wf) => {
                        if let Some(t) = Target::from_name(&wf.finding.target).and_then(index_of) {
                            report_finding(&mut findings, t, wf.finding.signature, wf.finding.path, wf.finding.known);
                        }
                    }
                    Err(_) => say(format!("worker {w}: {line}")),
                }
            }
            let died_on = match poll {
                Poll::Running => continue,
                Poll::Finished => {
                    seat.finished = true;
                    finals[w] = seat.worker.take().map(|w| w.into_slot());
                    continue;
                }
                Poll::Failed(m) => {
                    failure.get_or_insert(m);
                    stop.store(true, Ordering::SeqCst);
                    seat.finished = true;
                    finals[w] = seat.worker.take().map(|w| w.into_slot());
                    continue;
                }
                Poll::DiedIdle(m) => {
                    seat.idle_deaths += 1;
                    idle_restarts += 1;
                    say(format!("worker {w} died before running an input ({m}); restarting"));
                    if seat.idle_deaths > 3 {
                        failure.get_or_insert(format!("worker {w} keeps dying at start-up ({m})"));
                        stop.store(true, Ordering::SeqCst);
                    }
                    None
                }
                Poll::Died(death) => Some(death),
            };
            let Some(old) = seat.worker.take() else { continue };
            let slot = old.into_slot();
            if let Some(death) = died_on {
                seat.idle_deaths = 0;
                // Written (durably) before it is reported.
                let (path, _) = recorder.record(&death).with_context(|| format!("writing the finding of {}", death.signature()))?;
                let t = index_of(death.target).unwrap_or(0);
                say(format!("worker {w} died on an input of {}: {} in {}", death.target, death.cause.describe(), death.implementation));
                report_finding(&mut findings, t, death.signature(), path, None);
                // The fatal execution counts; the input stays out of every later corpus.
                let mut c = slot.counters(death.target);
                c.execs += 1;
                slot.set_counters(death.target, &c);
                fatal.push(hex::encode(diverge_types::hash(&death.input)));
                if let Some(r) = restarts.get_mut(t) {
                    *r += 1;
                }
            }
            if stopping || failure.is_some() {
                seat.finished = true;
                finals[w] = Some(slot);
                continue;
            }
            seat.incarnation += 1;
            let spec = spec_for(w, seat.incarnation, &slot, &fatal);
            seat.worker = Some(Worker::spawn(&exe, &spec, slot).context("restarting a worker process")?);
        }
        if seats.iter().all(|s| s.finished) {
            break;
        }
        let elapsed = start.elapsed().as_secs_f64().max(1e-9);
        let now = counters(&seats, &finals);
        if let Some(m) = &metrics {
            publish(m, &targets, preset, &now, &seed_counts, &restarts, (idle_restarts, seats.iter().filter(|s| s.worker.is_some()).count()), start.elapsed());
        }
        let execs: u64 = now.iter().flatten().map(|c| c.execs).sum();
        let corpus: u64 = seed_counts.iter().sum::<u64>() + now.iter().flatten().map(|c| c.corpus.saturating_sub(c.seeds)).sum::<u64>();
        let found: usize = findings.iter().map(Vec::len).sum();
        let msg = format!("{execs} execs, {:.0} exec/s, corpus {corpus}, findings {found}, restarts {}", execs as f64 / elapsed, restarts.iter().sum::<u64>() + idle_restarts);
        match &bar {
            Some(b) => {
                b.set_message(msg);
                b.tick();
            }
            None if last_line.elapsed() >= Duration::from_secs(10) => {
                eprintln!("fuzz: [{:.0}s] {msg}", elapsed);
                last_line = Instant::now();
            }
            None => {}
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let elapsed = start.elapsed();
    let now = counters(&seats, &finals);
    let _ = std::fs::remove_dir_all(&slot_dir);
    if let Some(m) = failure {
        bail!("{m}; the campaign stopped (its error is above)");
    }
    let reports: Vec<TargetReport> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let per: Vec<supervisor::Counters> = now.iter().filter_map(|w| w.get(i).copied()).collect();
            let execs: u64 = per.iter().map(|c| c.execs).sum();
            let masks = per.iter().fold([0u64; fuzz::MAX_REASON_IMPLS], |mut acc, c| {
                acc.iter_mut().zip(c.reasons).for_each(|(a, m)| *a |= m);
                acc
            });
            TargetReport {
                target: t.name().to_string(),
                preset: preset.name().to_string(),
                execs,
                execs_per_sec: execs as f64 / elapsed.as_secs_f64().max(1e-9),
                worker_secs: per.iter().map(|c| c.busy_ns).sum::<u64>() as f64 / 1e9,
                undecodable: per.iter().map(|c| c.undecodable).sum(),
                valid: per.iter().map(|c| c.valid).sum(),
                reject_reasons: fuzz::reason_counts(*t, &masks),
                reject_reasons_reached: fuzz::reason_names(*t, &masks),
                corpus: (seed_counts.get(i).copied().unwrap_or(0) + per.iter().map(|c| c.corpus.saturating_sub(c.seeds)).sum::<u64>()) as usize,
                findings: findings.get(i).cloned().unwrap_or_default(),
                restarts: restarts.get(i).copied().unwrap_or(0),
                write_errors: per.iter().map(|c| c.write_errors).sum(),
            }
        })
        .collect();
    let total_findings: usize = reports.iter().map(|r| r.findings.iter().filter(|f| f.known.is_none()).count()).sum();
    let known_findings: usize = reports.iter().map(|r| r.findings.iter().filter(|f| f.known.is_some()).count()).sum();
    let total_restarts: u64 = restarts.iter().sum::<u64>() + idle_restarts;
    if args.json {
        let mut doc = serde_json::json!({ "targets": reports, "restarts": total_restarts });
        if let Some(spec) = &sync {
            doc["sync"] = sync_summary(spec, &targets, &now);
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "{:<18} {:<8} {:>10} {:>10} {:>9} {:>11} {:>6} {:>7} {:>7} {:>8} {:>8}",
            "target", "preset", "execs", "exec/s", "worker-s", "undecodable", "valid", "reasons", "corpus", "findings", "restarts"
        );
        for r in &reports {
            let undecodable = format!("{:.0}%", 100.0 * r.undecodable as f64 / r.execs.max(1) as f64);
            let valid = format!("{:.0}%", 100.0 * r.valid as f64 / r.execs.max(1) as f64);
            let reasons = r.reject_reasons.values().map(u32::to_string).collect::<Vec<_>>().join("/");
            println!(
                "{:<18} {:<8} {:>10} {:>10.0} {:>9.1} {:>11} {:>6} {:>7} {:>7} {:>8} {:>8}",
                r.target, r.preset, r.execs, r.execs_per_sec, r.worker_secs, undecodable, valid, reasons, r.corpus, r.findings.len(), r.restarts
            );
        }
        println!("exec/s: executions over the campaign's wall time; valid: executions every implementation accepted (DKG: every step Ok); reasons: distinct reject reasons reached per implementation (phase0: fast/spec, Reject names; DKG: drand/spec, drand's error kinds); worker-s: worker time the target had (targets share the workers equally); restarts: worker processes restarted after an input of the target crashed, hung or passed the memory limit");
        for r in &reports {
            for f in &r.findings {
                let tag = if f.known.is_some() { "  [known upstream hazard]" } else { "" };
                println!("  {}  {}{tag}", f.signature, f.path.display());
            }
        }
        if let Some(spec) = &sync {
            let summary = sync_summary(spec, &targets, &now);
            for t in summary["targets"].as_array().into_iter().flatten() {
                println!("sync {} as {}: {}: exported {}, imported {} ({} joined the corpus)", spec.dir.display(), spec.name, t["target"].as_str().unwrap_or(""), t["exported"], t["imported"], t["kept"]);
            }
        }
        for r in reports.iter().filter(|r| r.write_errors > 0) {
            println!("warning: {}: {} corpus write(s) failed (--save-corpus / --sync-dir; the first is on stderr)", r.target, r.write_errors);
        }
        println!(
            "{} new finding(s), {} known upstream hazard(s) in {}; {} restart(s); {:.0} s",
            total_findings,
            known_findings,
            args.findings.display(),
            total_restarts,
            elapsed.as_secs_f64()
        );
    }
    Ok(if total_findings > 0 { 1 } else { 0 })
}

/// `--metrics ADDR`: a registry and its server (stopped when dropped), or nothing.
fn serve_metrics(addr: Option<std::net::SocketAddr>) -> Result<(Option<Metrics>, Option<MetricsServer>)> {
    let Some(addr) = addr else { return Ok((None, None)) };
    let metrics = Metrics::new();
    let server = metrics.serve(addr)?;
    eprintln!("fuzz: metrics on http://{}/metrics", server.addr());
    Ok((Some(metrics), Some(server)))
}

/// Sets the `--metrics` series from the supervisor's view: per target the sums over the workers'
/// slots (`counters`, one row per worker), the seeds, the restarts; `(idle restarts, workers
/// running)`; the campaign's uptime.
#[allow(clippy::too_many_arguments, reason = "the supervisor loop's locals, passed as they are")]
fn publish(m: &Metrics, targets: &[Target], preset: Preset, counters: &[Vec<supervisor::Counters>], seeds: &[u64], restarts: &[u64], campaign: (u64, usize), uptime: Duration) {
    for (i, t) in targets.iter().enumerate() {
        let per = || counters.iter().filter_map(|w| w.get(i));
        m.set_target(
            t.name(),
            preset.name(),
            TargetTotals {
                execs: per().map(|c| c.execs).sum(),
                undecodable: per().map(|c| c.undecodable).sum(),
                corpus: seeds.get(i).copied().unwrap_or(0) + per().map(|c| c.corpus.saturating_sub(c.seeds)).sum::<u64>(),
                restarts: restarts.get(i).copied().unwrap_or(0),
            },
        );
    }
    m.set_campaign(campaign.0, campaign.1 as u64, uptime);
}
