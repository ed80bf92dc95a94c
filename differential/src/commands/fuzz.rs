//! `diverge fuzz`: the built-in multi-core loop.

use super::{parse_target, BlsArg, OnePreset};
use anyhow::{bail, Context, Result};
use clap::Args;
use diverge::findings::FindingStore;
use diverge::fuzz::{self, mutate::Havoc, FuzzConfig, NewFinding, TargetReport, TargetState};
use diverge::runner::RunnerConfig;
use diverge::session::{default_corpus_dir, default_pool_dir, Session};
use diverge::target::Target;
use diverge_types::Preset;
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
    /// Worker threads (default: all cores).
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
    /// Per-implementation time budget per input, seconds.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Stop the campaign once a finding is on disk: the first one, or with a PATTERN the first
    /// whose signature contains it (CI: prove a bug build's divergence is found, then stop).
    #[arg(long, value_name = "PATTERN", num_args = 0..=1, default_missing_value = "")]
    stop_on_finding: Option<String>,
    /// Print one JSON document at the end instead of the table.
    #[arg(long)]
    json: bool,
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
    let mut config = RunnerConfig { bls: args.bls.into(), timeout: Duration::from_secs(args.timeout), strictness: None, ..RunnerConfig::default() };
    if let Some(seed) = args.batch_seed {
        config.batch_seed = seed;
    }
    let session = Session::new(preset, &pool, config).with_context(|| format!("loading the {preset} state pool"))?;

    let mut states = Vec::new();
    for &t in &targets {
        let dir = corpus_for(t);
        let (seeds, warnings) = fuzz::load_seeds(&dir);
        for w in warnings {
            eprintln!("warning: {w}");
        }
        if seeds.is_empty() {
            eprintln!("warning: {t}: no seeds in {}; starting from an empty input", dir.display());
        }
        states.push(TargetState::new(t, seeds));
    }
    if states.is_empty() {
        bail!("no target");
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let fuzz_config = FuzzConfig {
        targets: targets.iter().map(|&t| (t, corpus_for(t))).collect(),
        duration: args.duration,
        max_execs: args.max_execs,
        jobs,
        seed: args.seed,
        store: FindingStore { root: args.findings.clone() },
        save_corpus: args.save_corpus.clone(),
        engine: "diverge-fuzz".to_string(),
    };

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
    let on_finding = |f: &NewFinding| {
        let line = format!("NEW FINDING after {:.1}s: {} -> {}\nASSERTION FAILED: diverge/{}", f.after_secs, f.signature, f.path.display(), f.signature);
        match &bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
        if args.stop_on_finding.as_deref().is_some_and(|p| f.signature.contains(p)) {
            stop.store(true, Ordering::SeqCst);
        }
    };
    eprintln!("fuzz: {} target(s), preset {preset}, {jobs} job(s), bls {}, findings in {}", states.len(), config.bls.name(), args.findings.display());
    let start = Instant::now();
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let r = fuzz::fuzz(&fuzz_config, &session, &Havoc, &states, &stop, &on_finding);
            done.store(true, Ordering::SeqCst);
            r
        });
        let mut last_line = Instant::now();
        while !done.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(200));
            let elapsed = start.elapsed().as_secs_f64().max(1e-9);
            let execs: u64 = states.iter().map(|s| s.execs.load(Ordering::Relaxed)).sum();
            let corpus: usize = states.iter().map(|s| s.corpus.lock().map(|c| c.len()).unwrap_or(0)).sum();
            let found: usize = states.iter().map(|s| s.findings.lock().map(|f| f.len()).unwrap_or(0)).sum();
            let msg = format!("{execs} execs, {:.0} exec/s, corpus {corpus}, findings {found}", execs as f64 / elapsed);
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
        worker.join().unwrap_or_else(|_| Err(std::io::Error::other("fuzz worker panicked")))
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let elapsed = result.context("a finding could not be written; the campaign stopped")?;
    let reports: Vec<TargetReport> = states.iter().map(|s| s.report(preset.name(), elapsed)).collect();
    let total_findings: usize = reports.iter().map(|r| r.findings.len()).sum();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "targets": reports }))?);
    } else {
        println!("{:<18} {:<8} {:>10} {:>10} {:>9} {:>11} {:>7} {:>8}", "target", "preset", "execs", "exec/s", "worker-s", "undecodable", "corpus", "findings");
        for r in &reports {
            let undecodable = format!("{:.0}%", 100.0 * r.undecodable as f64 / r.execs.max(1) as f64);
            println!(
                "{:<18} {:<8} {:>10} {:>10.0} {:>9.1} {:>11} {:>7} {:>8}",
                r.target, r.preset, r.execs, r.execs_per_sec, r.worker_secs, undecodable, r.corpus, r.findings.len()
            );
        }
        println!("exec/s: executions over the campaign's wall time; worker-s: worker time the target had (targets share the workers equally)");
        for r in &reports {
            for f in &r.findings {
                println!("  {}  {}", f.signature, f.path.display());
            }
        }
        println!("{} finding(s) in {}; {:.0} s", total_findings, args.findings.display(), elapsed.as_secs_f64());
    }
    Ok(if total_findings > 0 { 1 } else { 0 })
}
