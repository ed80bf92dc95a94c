//! `diverge bench`: exec/s per target of the built-in loop on one core, and the harness overhead:
//! the time of a full differential execution (decode, every implementation, comparison) over the
//! time of the same operations in the spec implementation alone.

use super::{parse_target, BlsArg, OnePreset};
use anyhow::{Context, Result};
use clap::Args;
use diverge::findings::FindingStore;
use diverge::fuzz::{self, mutate::Havoc, FuzzConfig, TargetState};
use diverge::runner::RunnerConfig;
use diverge::session::{default_corpus_dir, default_pool_dir, Session};
use diverge::target::Target;
use diverge_types::Preset;
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
    /// Fuzzing time per target, seconds.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
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
    execs_per_sec: f64,
    undecodable_fraction: f64,
    overhead_ratio: Option<f64>,
}

pub fn run(args: BenchArgs) -> Result<i32> {
    let preset: Preset = args.preset.into();
    let targets = if args.targets.is_empty() { Target::ALL.to_vec() } else { args.targets };
    let config = RunnerConfig { bls: args.bls.into(), ..RunnerConfig::default() };
    let session = Session::new(preset, &default_pool_dir(preset), config).context("loading the state pool")?;
    let scratch = std::env::temp_dir().join(format!("diverge-bench-{}", std::process::id()));
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().context("starting the bench thread")?;
    let mut rows = Vec::new();
    for target in targets {
        let (seeds, _) = fuzz::load_seeds(&default_corpus_dir(preset, target));
        // 1. The built-in loop, one job.
        let states = vec![TargetState::new(target, seeds.clone())];
        let cfg = FuzzConfig {
            targets: vec![],
            duration: Some(Duration::from_secs(args.seconds)),
            max_execs: None,
            jobs: 1,
            seed: 1,
            store: FindingStore { root: scratch.clone() },
            save_corpus: None,
            engine: "diverge-bench".into(),
        };
        let elapsed = fuzz::fuzz(&cfg, &session, &Havoc, &states, &AtomicBool::new(false), &|_| {})?;
        let report = states[0].report(preset.name(), elapsed);
        // 2. Overhead: the seeds through the whole runner vs through the spec implementation alone,
        //    both on one rayon worker thread as in the loop.
        let rounds = 20;
        let (full, alone) = one_thread.install(|| -> Result<(f64, Option<f64>)> {
            let store = FindingStore { root: scratch.clone() };
            let start = Instant::now();
            let mut n = 0u64;
            for _ in 0..rounds {
                for s in &seeds {
                    std::hint::black_box(session.run_and_record(target, s, &store, "diverge-bench")?);
                    n += 1;
                }
            }
            let full = start.elapsed().as_secs_f64() / n.max(1) as f64;
            let alone = session.time_alone(target, &seeds, "spec", rounds).map(|(k, t)| t.as_secs_f64() / k.max(1) as f64);
            Ok((full, alone))
        })?;
        rows.push(Row {
            target: target.name().into(),
            preset: preset.name().into(),
            execs_per_sec: report.execs_per_sec,
            undecodable_fraction: report.undecodable as f64 / report.execs.max(1) as f64,
            overhead_ratio: alone.filter(|a| *a > 0.0).map(|a| full / a),
        });
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "targets": rows }))?);
    } else {
        println!("{:<18} {:<8} {:>10} {:>12} {:>9}", "target", "preset", "exec/s", "undecodable", "overhead");
        for r in &rows {
            let o = r.overhead_ratio.map(|o| format!("{o:.2}x")).unwrap_or_else(|| "-".into());
            println!("{:<18} {:<8} {:>10.0} {:>11.0}% {:>9}", r.target, r.preset, r.execs_per_sec, 100.0 * r.undecodable_fraction, o);
        }
        println!("exec/s: built-in loop, one job, {} s per target; overhead: full differential execution / spec implementation alone, over the seeds", args.seconds);
    }
    Ok(0)
}
