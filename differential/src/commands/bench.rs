//! `diverge bench`: exec/s per target of the built-in loop on one core, and the harness overhead:
//! the time of a full differential execution (decode, every implementation, comparison) over the
//! time of the same operations in the spec implementation alone.
//!
//! Shared machines are noisy: every target is measured `--rounds` times, rounds interleaved
//! across targets (target A, B, C, then A, B, C again), and the median is reported with the
//! range.

use super::{parse_target, BlsArg, OnePreset};
use anyhow::{Context, Result};
use clap::Args;
use diverge::findings::FindingStore;
use diverge::fuzz::{self, mutate::Havoc, FuzzConfig, TargetState};
use diverge::runner::RunnerConfig;
use diverge::session::{default_corpus_dir, default_pool_dir, Session};
use diverge::target::Target;
use diverge_types::Preset;
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
    /// Print JSON.
    #[arg(long)]
    json: bool,
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
    /// Full differential execution / spec implementation alone (median over the rounds).
    overhead_ratio: Option<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// One round of one target: (exec/s of the loop, undecodable fraction, overhead ratio).
fn measure(session: &Session, target: Target, seeds: &[Vec<u8>], seconds: u64, scratch: &Path, one_thread: &rayon::ThreadPool) -> Result<(f64, f64, Option<f64>)> {
    let preset = session.preset;
    // 1. The built-in loop, one job.
    let states = vec![TargetState::new(target, seeds.to_vec())];
    let cfg = FuzzConfig {
        targets: vec![],
        duration: Some(Duration::from_secs(seconds)),
        max_execs: None,
        jobs: 1,
        seed: 1,
        store: FindingStore { root: scratch.to_path_buf() },
        save_corpus: None,
        engine: "diverge-bench".into(),
    };
    let elapsed = fuzz::fuzz(&cfg, session, &Havoc, &states, &AtomicBool::new(false), &|_| {})?;
    let report = states[0].report(preset.name(), elapsed);
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
    let undecodable = report.undecodable as f64 / report.execs.max(1) as f64;
    Ok((report.execs_per_sec, undecodable, alone.filter(|a| *a > 0.0).map(|a| full / a)))
}

pub fn run(args: BenchArgs) -> Result<i32> {
    let preset: Preset = args.preset.into();
    let targets = if args.targets.is_empty() { Target::ALL.to_vec() } else { args.targets };
    let config = RunnerConfig { bls: args.bls.into(), ..RunnerConfig::default() };
    let session = Session::new(preset, &default_pool_dir(preset), config).context("loading the state pool")?;
    let scratch = std::env::temp_dir().join(format!("diverge-bench-{}", std::process::id()));
    // The record-keeping a `diverge fuzz` worker does for its supervisor (the input copied into
    // a shared slot, implementation steps marked) is measured with the rest.
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let slot_dir = diverge::supervisor::slot_dir().context("creating the bench's slot directory")?;
    let slot = diverge::supervisor::Slot::create(&slot_dir.join("bench.slot")).context("creating the bench's worker slot")?;
    diverge::supervisor::install(slot);
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().context("starting the bench thread")?;
    let seeds: Vec<Vec<Vec<u8>>> = targets.iter().map(|&t| fuzz::load_seeds(&default_corpus_dir(preset, t)).0).collect();
    let rounds = args.rounds.max(1);
    let mut samples: Vec<Vec<(f64, f64, Option<f64>)>> = vec![Vec::new(); targets.len()];
    for round in 0..rounds {
        for (i, &target) in targets.iter().enumerate() {
            if !args.json {
                eprint!("\rbench: round {}/{rounds}, {target:<18}", round + 1);
            }
            let m = measure(&session, target, &seeds[i], args.seconds, &scratch, &one_thread)?;
            samples[i].push(m);
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
        .map(|(t, s)| {
            let overheads: Vec<f64> = s.iter().filter_map(|m| m.2).collect();
            Row {
                target: t.name().into(),
                preset: preset.name().into(),
                execs_per_sec: median(s.iter().map(|m| m.0).collect()),
                rounds: s.iter().map(|m| m.0).collect(),
                undecodable_fraction: median(s.iter().map(|m| m.1).collect()),
                overhead_ratio: (!overheads.is_empty()).then(|| median(overheads)),
            }
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "targets": rows }))?);
    } else {
        println!("{:<18} {:<8} {:>10} {:>21} {:>12} {:>9}", "target", "preset", "exec/s", "range", "undecodable", "overhead");
        for r in &rows {
            let o = r.overhead_ratio.map(|o| format!("{o:.2}x")).unwrap_or_else(|| "-".into());
            let lo = r.rounds.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = r.rounds.iter().copied().fold(0.0, f64::max);
            println!("{:<18} {:<8} {:>10.0} {:>21} {:>11.0}% {:>9}", r.target, r.preset, r.execs_per_sec, format!("{lo:.0}..{hi:.0}"), 100.0 * r.undecodable_fraction, o);
        }
        println!(
            "exec/s: median of {rounds} round(s) of {} s, built-in loop, one job, rounds interleaved across targets; overhead: full differential execution / spec implementation alone, over the seeds",
            args.seconds
        );
    }
    Ok(0)
}
