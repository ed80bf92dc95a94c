//! `diverge bench`: exec/s per target of the built-in loop on one core with the chosen mutator,
//! what its executions reached (undecodable share, valid share, distinct reject reasons per
//! implementation), what the mutator costs (time per mutation, and its share of an execution's
//! wall time), and the harness overhead: the time of a full differential execution (decode, every
//! implementation, comparison) over the time of the same operations in the spec implementation
//! alone.
//!
//! Shared machines are noisy: every target is measured `--rounds` times, rounds interleaved
//! across targets (target A, B, C, then A, B, C again), and the median is reported with the
//! range.
//!
//! `--jobs N` (N > 1) also measures scaling, as `diverge fuzz --jobs` runs: in every round, one
//! worker process and then N worker processes (this binary, `bench --worker-loop`) each load the
//! pool, wait until all are ready, then run the same target's loop for `--seconds` at once; the
//! N workers' summed exec/s over the one worker's is the scaling (ideal: N).

use super::{parse_target, BlsArg, OnePreset};
use anyhow::{Context, Result};
use clap::Args;
use diverge::findings::FindingStore;
use diverge::fuzz::mutate::Mutator;
use diverge::fuzz::structured::{MutatorKind, PoolMutator};
use diverge::fuzz::{self, FuzzConfig, TargetState, MAX_INPUT_LEN};
use diverge::runner::RunnerConfig;
use diverge::session::{default_corpus_dir, default_pool_dir, Session};
use diverge::target::Target;
use diverge_types::{BlsMode, Preset};
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BenchArgs {
    /// Targets (default: all).
    #[arg(long = "target", value_parser = parse_target, num_args = 1..)]
    targets: Vec<Target>,
    /// Preset.
    #[arg(long, value_enum, default_value = "minimal")]
    preset: OnePreset,
    /// Fuzzing time per target per round, seconds.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Rounds per target; the median is reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// BLS mode.
    #[arg(long, value_enum, default_value = "assume-valid")]
    bls: BlsArg,
    /// The loop's mutator, as `diverge fuzz --mutator` (havoc, structured, mixed).
    #[arg(long, default_value = "mixed")]
    mutator: MutatorKind,
    /// Also measure N worker processes against one on each target, every round (`--jobs 2`:
    /// the scaling from 1 to 2 workers). 1: no scaling measurement.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Internal (`--jobs`): be one worker process with this RNG seed: load, print `ready`, wait
    /// for a line on stdin, run the loop on the one target, print its figures as one JSON line.
    #[arg(long, hide = true)]
    worker_loop: Option<u64>,
}

#[derive(serde::Serialize)]
struct Row {
    target: String,
    preset: String,
    /// Median over the rounds.
    execs_per_sec: f64,
    /// Every round's exec/s, in order.
    rounds: Vec<f64>,
    undecodable_fraction: f64,
    /// Executions every implementation accepted (median over the rounds).
    valid_fraction: f64,
    /// Distinct reject reasons reached per implementation, over all rounds.
    reject_reasons: BTreeMap<String, u32>,
    /// The reject reasons reached per implementation (`Reject` names), over all rounds.
    reject_reasons_reached: BTreeMap<String, Vec<String>>,
    /// Mean time of one mutation, microseconds (median over the rounds).
    mutation_us: f64,
    /// Mutation time over the loop's time per execution (median over the rounds).
    mutation_share: f64,
    /// Full differential execution / spec implementation alone (median over the rounds).
    overhead_ratio: Option<f64>,
    /// `--jobs N`: one worker process's exec/s, and N's summed, per round.
    #[serde(skip_serializing_if = "Option::is_none")]
    scaling: Option<Scaling>,
}

/// `--jobs N` figures of one target: worker processes running the loop at once.
#[derive(serde::Serialize)]
struct Scaling {
    jobs: usize,
    /// One worker's exec/s, every round.
    one: Vec<f64>,
    /// The N workers' summed exec/s, every round.
    many: Vec<f64>,
    /// Median of `many / one` over the rounds.
    scaling: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// One round of one target.
struct Sample {
    execs_per_sec: f64,
    undecodable: f64,
    valid: f64,
    /// Reject-reason masks per implementation ([`fuzz::reason_counts`] reads them).
    reasons: [u64; fuzz::MAX_REASON_IMPLS],
    mutation_us: f64,
    overhead: Option<f64>,
}

/// Mutations timed per round: enough for a stable mean, a fraction of a second.
const MUTATIONS: usize = 2_000;

/// The mean time of one call of `mutator` on `target`, microseconds: each call mutates a fresh
/// copy of a seed (cycling through them; copies made before the clock starts) with two seeds
/// offered for splicing, as the loop does.
fn mutation_cost(mutator: &dyn Mutator, target: Target, seeds: &[Vec<u8>], round: u64) -> f64 {
    let fallback = [vec![0u8; 2]];
    let seeds = if seeds.is_empty() { &fallback[..] } else { seeds };
    let mut inputs: Vec<Vec<u8>> = seeds.iter().cycle().take(MUTATIONS).cloned().collect();
    let splice: Vec<Vec<u8>> = seeds.iter().take(2).cloned().collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(round);
    let start = Instant::now();
    for input in &mut inputs {
        mutator.mutate(target, input, &splice, &mut rng, MAX_INPUT_LEN);
    }
    std::hint::black_box(&inputs);
    start.elapsed().as_secs_f64() * 1e6 / MUTATIONS as f64
}

/// The built-in loop, one job, on `target` for `seconds`: its report and reason masks.
fn run_loop(session: &Session, mutator: &dyn Mutator, target: Target, seeds: &[Vec<u8>], seconds: u64, seed: u64, scratch: &Path) -> Result<(fuzz::TargetReport, [u64; fuzz::MAX_REASON_IMPLS])> {
    let states = vec![TargetState::new(target, seeds.to_vec())];
    let cfg = FuzzConfig {
        targets: vec![],
        duration: Some(Duration::from_secs(seconds)),
        max_execs: None,
        jobs: 1,
        seed,
        store: FindingStore { root: scratch.to_path_buf() },
        save_corpus: None,
        engine: "diverge-bench".into(),
    };
    let elapsed = fuzz::fuzz(&cfg, session, mutator, &states, &AtomicBool::new(false), &|_| {})?;
    Ok((states[0].report(session.preset.name(), elapsed), states[0].reason_masks()))
}

/// One round of `--jobs`: `workers` worker processes (`bench --worker-loop`) on `target` at once;
/// their summed exec/s. Each loads the pool first; the loops start together once all are ready.
fn measure_workers(args: &BenchArgs, target: Target, workers: usize, round: u64) -> Result<f64> {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().context("locating this binary for the --jobs workers")?;
    let preset: Preset = args.preset.into();
    let mut children = Vec::new();
    for w in 0..workers {
        let seed = round * 1000 + w as u64;
        let mut child = Command::new(&exe)
            .args(["bench", "--target", target.name(), "--preset", preset.name(), "--seconds", &args.seconds.to_string()])
            .args(["--bls", BlsMode::from(args.bls).name(), "--mutator", args.mutator.name(), "--worker-loop", &seed.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting --jobs worker {w}"))?;
        let stdout = BufReader::new(child.stdout.take().context("worker stdout")?);
        children.push((child, stdout));
    }
    for (_, out) in &mut children {
        let mut line = String::new();
        out.read_line(&mut line)?;
        anyhow::ensure!(line.trim() == "ready", "a --jobs worker did not get ready: {line:?}");
    }
    for (child, _) in &mut children {
        writeln!(child.stdin.as_mut().context("worker stdin")?, "go")?;
    }
    let mut total = 0.0;
    for (mut child, mut out) in children {
        let mut line = String::new();
        out.read_line(&mut line)?;
        let v: serde_json::Value = serde_json::from_str(line.trim()).with_context(|| format!("a --jobs worker's report: {line:?}"))?;
        total += v["execs_per_sec"].as_f64().context("execs_per_sec")?;
        anyhow::ensure!(child.wait()?.success(), "a --jobs worker failed");
    }
    Ok(total)
}

/// `--worker-loop`: one worker of a `--jobs` measurement.
fn worker_loop(args: &BenchArgs, seed: u64) -> Result<i32> {
    use std::io::{BufRead, Write};
    let preset: Preset = args.preset.into();
    let [target] = args.targets[..] else { anyhow::bail!("--worker-loop takes exactly one --target") };
    let config = RunnerConfig { bls: args.bls.into(), ..RunnerConfig::default() };
    let session = Session::new(preset, &default_pool_dir(preset), config).context("loading the state pool")?;
    let scratch = std::env::temp_dir().join(format!("diverge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let slot_dir = diverge::supervisor::slot_dir().context("creating the worker's slot directory")?;
    let slot = diverge::supervisor::Slot::create(&slot_dir.join("bench.slot")).context("creating the worker's slot")?;
    diverge::supervisor::install(slot);
    let mutator = PoolMutator::new(args.mutator, preset, &default_pool_dir(preset)).context("loading the pool for the structured mutator")?.with_bls(args.bls.into());
    let seeds = fuzz::load_seeds(&default_corpus_dir(preset, target)).0;
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().context("starting the worker thread")?;
    println!("ready");
    std::io::stdout().flush()?;
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go)?;
    let (report, _) = one_thread.install(|| run_loop(&session, &mutator, target, &seeds, args.seconds, seed, &scratch))?;
    println!("{}", serde_json::json!({ "execs_per_sec": report.execs_per_sec, "execs": report.execs, "valid": report.valid }));
    let _ = std::fs::remove_dir_all(&scratch);
    let _ = std::fs::remove_dir_all(&slot_dir);
    Ok(0)
}

/// One round of one target: the loop's figures, the mutation cost, the overhead ratio.
#[allow(clippy::too_many_arguments, reason = "one call site; the round's context")]
fn measure(session: &Session, mutator: &dyn Mutator, target: Target, seeds: &[Vec<u8>], seconds: u64, round: u64, scratch: &Path, one_thread: &rayon::ThreadPool) -> Result<Sample> {
    // 1. The built-in loop, one job.
    let (report, reasons) = run_loop(session, mutator, target, seeds, seconds, round, scratch)?;
    // 2. Overhead: the seeds through the whole runner vs through the spec implementation alone,
    //    both on one rayon worker thread as in the loop.
    let rounds = 20;
    let (full, alone) = one_thread.install(|| -> Result<(f64, Option<f64>)> {
        let store = FindingStore { root: scratch.to_path_buf() };
        let start = Instant::now();
        let mut n = 0u64;
        for _ in 0..rounds {
            for s in seeds {
                std::hint::black_box(session.run_and_record(target, s, &store, "diverge-bench")?);
                n += 1;
            }
        }
        let full = start.elapsed().as_secs_f64() / n.max(1) as f64;
        let alone = session.time_alone(target, seeds, "spec", rounds).map(|(k, t)| t.as_secs_f64() / k.max(1) as f64);
        Ok((full, alone))
    })?;
    let execs = report.execs.max(1) as f64;
    Ok(Sample {
        execs_per_sec: report.execs_per_sec,
        undecodable: report.undecodable as f64 / execs,
        valid: report.valid as f64 / execs,
        reasons,
        mutation_us: one_thread.install(|| mutation_cost(mutator, target, seeds, round)),
        overhead: alone.filter(|a| *a > 0.0).map(|a| full / a),
    })
}

pub fn run(args: BenchArgs) -> Result<i32> {
    if let Some(seed) = args.worker_loop {
        return worker_loop(&args, seed);
    }
    let preset: Preset = args.preset.into();
    let targets = if args.targets.is_empty() { Target::ALL.to_vec() } else { args.targets.clone() };
    let config = RunnerConfig { bls: args.bls.into(), ..RunnerConfig::default() };
    let session = Session::new(preset, &default_pool_dir(preset), config).context("loading the state pool")?;
    let scratch = std::env::temp_dir().join(format!("diverge-bench-{}", std::process::id()));
    // The record-keeping a `diverge fuzz` worker does for its supervisor (the input copied into
    // a shared slot, implementation steps marked) is measured with the rest.
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let slot_dir = diverge::supervisor::slot_dir().context("creating the bench's slot directory")?;
    let slot = diverge::supervisor::Slot::create(&slot_dir.join("bench.slot")).context("creating the bench's worker slot")?;
    diverge::supervisor::install(slot);
    // Signed for real under `--bls real`, as a `diverge fuzz` worker's mutator.
    let mutator = PoolMutator::new(args.mutator, preset, &default_pool_dir(preset)).context("loading the pool for the structured mutator")?.with_bls(args.bls.into());
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().context("starting the bench thread")?;
    let seeds: Vec<Vec<Vec<u8>>> = targets.iter().map(|&t| fuzz::load_seeds(&default_corpus_dir(preset, t)).0).collect();
    let rounds = args.rounds.max(1);
    let mut samples: Vec<Vec<Sample>> = targets.iter().map(|_| Vec::new()).collect();
    // `--jobs`: (one worker, N workers) exec/s per round, per target.
    let mut scaling: Vec<Vec<(f64, f64)>> = targets.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for (i, &target) in targets.iter().enumerate() {
            if !args.json {
                eprint!("\rbench: round {}/{rounds}, {target:<18}", round + 1);
            }
            let m = measure(&session, &mutator, target, &seeds[i], args.seconds, round as u64 + 1, &scratch, &one_thread)?;
            if let Some(s) = samples.get_mut(i) {
                s.push(m);
            }
            if args.jobs > 1 {
                if !args.json {
                    eprint!("\rbench: round {}/{rounds}, {target:<18} 1 and {} worker processes", round + 1, args.jobs);
                }
                let one = measure_workers(&args, target, 1, round as u64 + 1)?;
                let many = measure_workers(&args, target, args.jobs, round as u64 + 1)?;
                if let Some(s) = scaling.get_mut(i) {
                    s.push((one, many));
                }
            }
        }
    }
    if !args.json {
        eprintln!();
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let _ = std::fs::remove_dir_all(&slot_dir);
    let rows: Vec<Row> = targets
        .iter()
        .zip(samples)
        .zip(scaling)
        .map(|((t, s), sc)| {
            let overheads: Vec<f64> = s.iter().filter_map(|m| m.overhead).collect();
            let masks = s.iter().fold([0u64; fuzz::MAX_REASON_IMPLS], |mut acc, m| {
                acc.iter_mut().zip(m.reasons).for_each(|(a, r)| *a |= r);
                acc
            });
            Row {
                target: t.name().into(),
                preset: preset.name().into(),
                execs_per_sec: median(s.iter().map(|m| m.execs_per_sec).collect()),
                rounds: s.iter().map(|m| m.execs_per_sec).collect(),
                undecodable_fraction: median(s.iter().map(|m| m.undecodable).collect()),
                valid_fraction: median(s.iter().map(|m| m.valid).collect()),
                reject_reasons: fuzz::reason_counts(*t, &masks),
                reject_reasons_reached: fuzz::reason_names(*t, &masks),
                mutation_us: median(s.iter().map(|m| m.mutation_us).collect()),
                // Per round: one mutation's time over the loop's wall time per execution.
                mutation_share: median(s.iter().map(|m| m.mutation_us * 1e-6 * m.execs_per_sec).collect()),
                overhead_ratio: (!overheads.is_empty()).then(|| median(overheads)),
                scaling: (!sc.is_empty()).then(|| Scaling {
                    jobs: args.jobs,
                    one: sc.iter().map(|p| p.0).collect(),
                    many: sc.iter().map(|p| p.1).collect(),
                    scaling: median(sc.iter().map(|(one, many)| if *one > 0.0 { many / one } else { 0.0 }).collect()),
                }),
            }
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "mutator": args.mutator.name(), "bls": BlsMode::from(args.bls).name(), "targets": rows }))?);
    } else {
        println!(
            "{:<18} {:<8} {:>10} {:>17} {:>12} {:>6} {:>8} {:>12} {:>9} {:>9}",
            "target", "preset", "exec/s", "range", "undecodable", "valid", "reasons", "mutation-us", "mutation", "overhead"
        );
        for r in &rows {
            let o = r.overhead_ratio.map(|o| format!("{o:.2}x")).unwrap_or_else(|| "-".into());
            let lo = r.rounds.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = r.rounds.iter().copied().fold(0.0, f64::max);
            let reasons = r.reject_reasons.values().map(u32::to_string).collect::<Vec<_>>().join("/");
            println!(
                "{:<18} {:<8} {:>10.0} {:>17} {:>11.1}% {:>5.1}% {:>8} {:>12.2} {:>8.1}% {:>9}",
                r.target,
                r.preset,
                r.execs_per_sec,
                format!("{lo:.0}..{hi:.0}"),
                100.0 * r.undecodable_fraction,
                100.0 * r.valid_fraction,
                reasons,
                r.mutation_us,
                100.0 * r.mutation_share,
                o
            );
        }
        if args.jobs > 1 {
            println!("{:<18} {:>14} {:>14} {:>8}", "target", "exec/s x1", format!("exec/s x{}", args.jobs), "scaling");
            for r in &rows {
                if let Some(sc) = &r.scaling {
                    println!("{:<18} {:>14.0} {:>14.0} {:>7.2}x", r.target, median(sc.one.clone()), median(sc.many.clone()), sc.scaling);
                }
            }
            println!(
                "scaling: {} worker processes (as diverge fuzz --jobs {}) against one, each loading the pool, then all running the loop for {} s at once; exec/s summed, medians of {rounds} round(s); scaling: median of the per-round ratios",
                args.jobs, args.jobs, args.seconds
            );
        }
        println!(
            "mutator {}, --bls {}; exec/s: median of {rounds} round(s) of {} s, built-in loop, one job, rounds interleaved across targets; valid: executions every implementation accepted (DKG: every step Ok); reasons: distinct reject reasons reached per implementation ({}: phase0 Reject names, DKG drand's error kinds), over all rounds; mutation-us: mean time of one mutation; mutation: that time over the loop's time per execution; overhead: full differential execution / spec implementation alone, over the seeds",
            args.mutator.name(),
            BlsMode::from(args.bls).name(),
            args.seconds,
            rows.first().map(|r| r.reject_reasons.keys().cloned().collect::<Vec<_>>().join("/")).unwrap_or_default()
        );
    }
    Ok(0)
}
