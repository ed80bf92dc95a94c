//! `diverge run`, `replay`, `minimize`, `triage`.

use super::{parse_target, BlsArg, OnePreset, StrictnessArg};
use anyhow::{bail, Context, Result};
use clap::Args;
use super::isolated::{Answer, Isolated};
use diverge::findings::FindingStore;
use diverge::replay::{self, ReplayReport, ReplaySpec};
use diverge::session::default_pool_dir;
use diverge::supervisor::{DeathRecorder, Limits, WorkerMode, WorkerOptions, WorkerSpec};
use diverge::target::{Strictness, Target};
use diverge_types::{BlsMode, Preset};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args)]
pub struct RunArgs {
    /// Target the inputs are for.
    #[arg(long, value_parser = parse_target)]
    target: Target,
    /// Preset.
    #[arg(long, value_enum, default_value = "minimal")]
    preset: OnePreset,
    /// BLS mode.
    #[arg(long, value_enum, default_value = "assume-valid")]
    bls: BlsArg,
    /// Override the target's reason strictness.
    #[arg(long, value_enum)]
    strictness: Option<StrictnessArg>,
    /// State pool directory (default corpora/states/<preset>).
    #[arg(long, value_name = "DIR")]
    pool: Option<PathBuf>,
    /// Where findings are written.
    #[arg(long, value_name = "DIR", default_value = "findings")]
    findings: PathBuf,
    /// Per-implementation time budget per input, seconds: the worker process is killed past it
    /// and the input's verdict is `timeout`.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Resident memory limit of the worker process, MB (0: none): past it the worker is killed
    /// and the input's verdict is `rss-limit`.
    #[arg(long, default_value_t = 2048)]
    rss_limit_mb: u64,
    /// Print one JSON document at the end.
    #[arg(long)]
    json: bool,
    /// Secret seed of batch verification's random scalars, 64 hex digits (default: fresh from the
    /// OS per run); recorded in findings.
    #[arg(long, value_name = "HEX", value_parser = parse_seed)]
    batch_seed: Option<diverge_types::bls::BatchSeed>,
    /// Also compare every post-state's shared export with a full copy; a difference is an
    /// `Internal` finding naming the field.
    #[arg(long)]
    paranoid: bool,
    /// Input files or directories of input files (default: the target's seed corpus).
    inputs: Vec<PathBuf>,
}

fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("listing {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.file_name().is_some_and(|n| n != "PROVENANCE" && !n.to_string_lossy().starts_with('.')))
                .collect();
            files.sort();
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

/// The worker spec and recorder of an isolated `run`/`replay`.
#[allow(clippy::too_many_arguments)]
pub(super) fn isolated(preset: Preset, pool: PathBuf, bls: BlsMode, strictness: Option<Strictness>, timeout: u64, rss_limit_mb: u64, findings: PathBuf, engine: &str, options: WorkerOptions) -> Result<Isolated> {
    check_pool(&pool)?;
    let spec = WorkerSpec {
        slot: PathBuf::new(),
        preset: preset.name().to_string(),
        pool: pool.clone(),
        bls: bls.name().to_string(),
        strictness,
        timeout_ms: timeout.saturating_mul(1000),
        findings: findings.clone(),
        engine: engine.to_string(),
        mode: WorkerMode::Exec,
        options,
    };
    let limits = Limits { timeout: Duration::from_secs(timeout), rss_limit_mb };
    let recorder = DeathRecorder { store: FindingStore { root: findings }, preset, bls, strictness, pool_dir: pool, engine: engine.to_string(), batch_seed: options.batch_seed };
    Isolated::new(spec, limits, recorder)
}

/// Fails early, with the reason, when the pool's manifest is unusable (the worker would only
/// say it could not start).
pub fn check_pool(pool: &Path) -> Result<()> {
    let path = pool.join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("state pool manifest {}: cannot read (build the pool with `diverge corpus build --preset <preset>`; the minimal one is shipped)", path.display()))?;
    serde_json::from_str::<diverge::pool::Manifest>(&text).with_context(|| format!("state pool manifest {}: malformed", path.display()))?;
    // A pool shipped as its manifest (mainnet) is built here, before any worker loads it.
    diverge::pool::ensure_built(pool).map_err(anyhow::Error::msg)?;
    Ok(())
}

pub fn run(args: RunArgs) -> Result<i32> {
    let preset: Preset = args.preset.into();
    let pool = args.pool.unwrap_or_else(|| default_pool_dir(preset));
    let inputs = if args.inputs.is_empty() { vec![diverge::session::default_corpus_dir(preset, args.target)] } else { args.inputs };
    let files = input_files(&inputs)?;
    let options = WorkerOptions { batch_seed: args.batch_seed, paranoid: args.paranoid, ..WorkerOptions::default() };
    let mut worker = isolated(preset, pool, args.bls.into(), args.strictness.map(Into::into), args.timeout, args.rss_limit_mb, args.findings.clone(), "diverge-run", options)?;
    let (mut agreed, mut undecodable, mut unavailable, mut unreadable, mut died) = (0usize, 0usize, 0usize, 0usize, 0usize);
    // Signature -> (inputs, finding directory, the process-level verdict of a dead worker).
    let mut signatures: BTreeMap<String, (usize, PathBuf, Option<String>)> = BTreeMap::new();
    // Signatures of known upstream hazards: reported, counted apart, not a failure.
    let mut known = std::collections::BTreeSet::new();
    let announce = |line: String| {
        // The finding is on disk (fsynced) before this line is printed; with --json, stdout
        // holds the JSON document alone.
        if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    for file in &files {
        let data = match std::fs::read(file) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {}: cannot read: {e}", file.display());
                unreadable += 1;
                continue;
            }
        };
        let answer = worker.exec(args.target, &data, true).with_context(|| format!("running {}", file.display()))?;
        match answer {
            Answer::Died(death, written) => {
                died += 1;
                let dir = written.as_ref().map(|(d, _)| d.clone()).unwrap_or_default();
                let verdict = format!("{} in {}", death.cause.describe(), death.implementation);
                if written.as_ref().is_some_and(|(_, new)| *new) {
                    announce(format!("NEW FINDING {} -> {} (input {}; {verdict})", death.signature(), dir.display(), file.display()));
                }
                let e = signatures.entry(death.signature()).or_insert((0, dir, Some(verdict)));
                e.0 += 1;
            }
            Answer::Ran(r) => match (r.status.as_str(), r.divergence.clone()) {
                (_, Some(divergence)) => {
                    let dir = r.written.as_ref().map(|(d, _)| d.clone()).unwrap_or_default();
                    if r.written.as_ref().is_some_and(|(_, new)| *new) {
                        announce(format!("NEW FINDING {} -> {} (input {})", divergence.signature, dir.display(), file.display()));
                    }
                    if divergence.known.is_some() {
                        known.insert(divergence.signature.clone());
                    }
                    let e = signatures.entry(divergence.signature).or_insert((0, dir, None));
                    e.0 += 1;
                }
                ("agreed", None) => agreed += 1,
                ("undecodable", None) => undecodable += 1,
                (_, None) => {
                    eprintln!("warning: {}: {}", file.display(), r.detail.unwrap_or_default());
                    unavailable += 1;
                }
            },
        }
    }
    let diverged: usize = signatures.values().map(|(n, _, _)| n).sum::<usize>() - died;
    if args.json {
        let list: Vec<_> = signatures
            .iter()
            .map(|(s, (n, p, v))| {
                let mut j = serde_json::json!({"signature": s, "inputs": n, "path": p, "known": known.contains(s)});
                if let Some(v) = v {
                    j["verdict"] = serde_json::json!(v);
                }
                j
            })
            .collect();
        println!("{}", serde_json::json!({"target": args.target.name(), "preset": preset.name(), "inputs": files.len(),
            "agreed": agreed, "diverged": diverged, "crashed": died, "undecodable": undecodable, "state_unavailable": unavailable,
            "unreadable": unreadable, "restarts": worker.restarts, "findings": list}));
    } else {
        println!("{}: {} inputs: {agreed} agreed, {diverged} diverged, {died} killed their worker (crash, timeout or rss-limit), {undecodable} undecodable, {unavailable} on unavailable states, {unreadable} unreadable",
            args.target, files.len());
        for (s, (n, p, v)) in &signatures {
            let tag = if known.contains(s) { "  [known upstream hazard]" } else { "" };
            match v {
                Some(v) => println!("  {s}  ({n} inputs; {v})  {}", p.display()),
                None => println!("  {s}  ({n} inputs)  {}{tag}", p.display()),
            }
        }
    }
    Ok(if signatures.keys().all(|s| known.contains(s)) { 0 } else { 1 })
}

#[derive(Args)]
pub struct ReplayArgs {
    /// A finding directory, its finding.json, or a raw input file (then --target is required).
    path: PathBuf,
    /// Target of a raw input.
    #[arg(long, value_parser = parse_target)]
    target: Option<Target>,
    /// Preset of a raw input.
    #[arg(long, value_enum, default_value = "minimal")]
    preset: OnePreset,
    /// BLS mode of a raw input.
    #[arg(long, value_enum, default_value = "assume-valid")]
    bls: BlsArg,
    /// Strictness of a raw input (default: the target's).
    #[arg(long, value_enum)]
    strictness: Option<StrictnessArg>,
    /// Pool of a raw input (default corpora/states/<preset>).
    #[arg(long, value_name = "DIR")]
    pool: Option<PathBuf>,
    /// Per-implementation time budget, seconds: the worker process is killed past it (`timeout`).
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Resident memory limit of the worker process, MB (0: none; past it: `rss-limit`).
    #[arg(long, default_value_t = 2048)]
    rss_limit_mb: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Batch-verification seed, 64 hex digits (default: the finding's `batch_seed`, else fresh).
    #[arg(long, value_name = "HEX", value_parser = parse_seed)]
    batch_seed: Option<diverge_types::bls::BatchSeed>,
    /// Also compare every post-state's shared export with a full copy (on by itself when the
    /// finding records a paranoid mismatch).
    #[arg(long)]
    paranoid: bool,
}

/// `--batch-seed HEX`.
pub(super) fn parse_seed(text: &str) -> Result<diverge_types::bls::BatchSeed, String> {
    replay::parse_batch_seed(text)
}

fn is_finding(path: &Path) -> bool {
    path.join("finding.json").is_file() || path.file_name().is_some_and(|n| n == "finding.json")
}

fn spec_from(path: &Path, target: Option<Target>, preset: OnePreset, bls: BlsArg, strictness: Option<StrictnessArg>, pool: Option<PathBuf>) -> Result<ReplaySpec> {
    if is_finding(path) {
        return Ok(ReplaySpec::from_finding(path)?);
    }
    let Some(target) = target else {
        bail!("{} is not a finding (no finding.json): give --target to run it as a raw input", path.display());
    };
    let preset: Preset = preset.into();
    let input = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(ReplaySpec {
        target,
        preset,
        bls: bls.into(),
        strictness: strictness.map(Into::into).unwrap_or(target.strictness()),
        pool_dir: pool.unwrap_or_else(|| default_pool_dir(preset)),
        input,
        recorded: None,
        batch_seed: None,
        paranoid: false,
    })
}

fn print_report(r: &ReplayReport) {
    println!("target {}  preset {}  bls {}", r.target, r.preset, r.bls);
    if let Some(s) = &r.state {
        println!("state  #{} {} ({})", s.id, s.root, s.source);
    }
    match r.detail.as_deref() {
        Some(d) => println!("{}: {d}", r.status),
        None => println!("status {}", r.status),
    }
    for v in &r.verdicts {
        println!("  {:<8} {}", v.implementation, v.summary());
        if let (Some("invalid"), Some(m)) = (Some(v.kind.as_str()), &v.message) {
            println!("           {m}");
        }
    }
    if let Some(d) = &r.divergence {
        println!("ASSERTION FAILED: diverge/{}", d.signature);
        if !d.majority.is_empty() {
            println!("  majority: {}", d.majority.join(", "));
        }
        if let Some(k) = &d.known {
            println!("  known upstream hazard {}: {}", k.hazard, k.reference);
        }
        if let Some(diff) = &d.diff {
            println!("  first difference: {diff}");
        }
    }
    match r.reproduced {
        Some(true) => println!("reproduced: identical verdicts to the finding"),
        Some(false) => println!("NOT reproduced: verdicts differ from the finding"),
        None => {}
    }
}


/// Runs the spec's input in a worker process: a crash, hang or memory blow-up is the verdict
/// (`crash: signal 6 (SIGABRT)`, `timeout`, `rss-limit`) instead of the end of `diverge replay`.
fn replay_isolated(spec: &ReplaySpec, timeout: u64, rss_limit_mb: u64) -> Result<ReplayReport> {
    let scratch = std::env::temp_dir().join(format!("diverge-replay-{}", std::process::id()));
    let options = WorkerOptions { batch_seed: spec.batch_seed, paranoid: spec.paranoid, ..WorkerOptions::default() };
    let mut worker = isolated(spec.preset, spec.pool_dir.clone(), spec.bls, Some(spec.strictness), timeout, rss_limit_mb, scratch.clone(), "diverge-replay", options)?;
    let answer = worker.exec(spec.target, &spec.input, false);
    let state_of = |d: &diverge::supervisor::Death| worker.recorder().state(d);
    let mut report = ReplayReport::empty(spec.target, spec.preset, spec.bls);
    match answer? {
        Answer::Ran(r) => {
            report.status = r.status;
            report.detail = r.detail;
            report.state = r.state;
            report.verdicts = r.verdicts;
            report.divergence = r.divergence;
        }
        Answer::Died(death, _) => {
            report.status = "diverged".into();
            report.detail = Some(format!("the worker process died: {} while {} was executing", death.cause.describe(), death.implementation));
            report.state = Some(state_of(&death));
            report.verdicts = vec![death.verdict()];
            report.divergence = Some(death.divergence());
        }
    }
    drop(worker);
    let _ = std::fs::remove_dir_all(&scratch);
    if let Some(recorded) = &spec.recorded {
        report.reproduced = Some(report.divergence.as_ref().map(|d| &d.signature) == Some(&recorded.signature) && replay::same_verdicts(&recorded.verdicts, &report.verdicts));
    }
    Ok(report)
}

pub fn replay(args: ReplayArgs) -> Result<i32> {
    let mut spec = spec_from(&args.path, args.target, args.preset, args.bls, args.strictness, args.pool)?;
    spec.batch_seed = args.batch_seed.or(spec.batch_seed);
    spec.paranoid |= args.paranoid;
    let report = replay_isolated(&spec, args.timeout, args.rss_limit_mb)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report.divergence.is_some() { 1 } else { 0 })
}

#[derive(Args)]
pub struct MinimizeArgs {
    /// A finding directory or its finding.json.
    path: PathBuf,
    /// Execution budget.
    #[arg(long, default_value_t = 5000)]
    max_execs: usize,
}

pub fn minimize(args: MinimizeArgs) -> Result<i32> {
    let spec = ReplaySpec::from_finding(&args.path)?;
    let Some(signature) = spec.recorded.as_ref().map(|f| f.signature.clone()) else { bail!("not a finding") };
    let (min, execs) = replay::minimize(&spec, &signature, args.max_execs)?;
    let dir = if args.path.is_dir() { args.path.clone() } else { args.path.parent().map(Path::to_path_buf).unwrap_or_default() };
    let out = dir.join("minimized.bin");
    diverge::findings::write_atomic(&out, &min).with_context(|| format!("writing {}", out.display()))?;
    println!("{} -> {} bytes in {execs} executions, signature kept: {signature}\nwrote {}", spec.input.len(), min.len(), out.display());
    Ok(0)
}

#[derive(Args)]
pub struct TriageArgs {
    /// Findings directory.
    #[arg(default_value = "findings")]
    dir: PathBuf,
    /// Print JSON.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print a Markdown report for an upstream issue: signature, culprit, verdicts, first
    /// differing field, replay command, input as hex (diverge::report).
    #[arg(long)]
    markdown: bool,
}

pub fn triage(args: TriageArgs) -> Result<i32> {
    if !args.dir.is_dir() {
        bail!("{}: not a directory", args.dir.display());
    }
    if args.markdown {
        let (text, errors) = diverge::report::triage_markdown(&args.dir);
        print!("{text}");
        for e in &errors {
            eprintln!("error: {e}");
        }
        return Ok(if errors.is_empty() { 0 } else { 1 });
    }
    let (groups, errors) = replay::triage(&args.dir);
    if args.json {
        println!("{}", serde_json::json!({"groups": groups, "errors": errors}));
    } else {
        let (new, known): (Vec<_>, Vec<_>) = groups.iter().partition(|g| g.known.is_none());
        let count = |gs: &[&replay::TriageGroup]| gs.iter().map(|g| g.count).sum::<usize>();
        println!("{} new signature(s), {} finding(s); {} known upstream hazard(s), {} finding(s)", new.len(), count(&new), known.len(), count(&known));
        for g in &new {
            println!("{:>4}  {}\n      {}", g.count, g.signature, g.replay);
        }
        if !known.is_empty() {
            println!("known upstream hazards (reproduced on purpose; see finding.json `known`):");
            for g in &known {
                let reference = g.known.as_ref().map(|k| k.reference.as_str()).unwrap_or_default();
                println!("{:>4}  {}\n      {}\n      upstream: {reference}", g.count, g.signature, g.replay);
            }
        }
        for e in &errors {
            eprintln!("error: {e}");
        }
    }
    Ok(if errors.is_empty() { 0 } else { 1 })
}
