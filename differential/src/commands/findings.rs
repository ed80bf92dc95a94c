//! `diverge run`, `replay`, `minimize`, `triage`.

use super::{parse_target, BlsArg, OnePreset, StrictnessArg};
use anyhow::{bail, Context, Result};
use clap::Args;
use diverge::findings::FindingStore;
use diverge::replay::{self, ReplayReport, ReplaySpec};
use diverge::runner::RunnerConfig;
use diverge::session::{default_pool_dir, Outcome, Session};
use diverge::target::Target;
use diverge_types::Preset;
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
    /// Per-implementation time budget per input, seconds; slower is a `timeout` verdict.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Print one JSON document at the end.
    #[arg(long)]
    json: bool,
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

pub fn run(args: RunArgs) -> Result<i32> {
    let preset: Preset = args.preset.into();
    let pool = args.pool.unwrap_or_else(|| default_pool_dir(preset));
    let config = RunnerConfig { bls: args.bls.into(), timeout: Duration::from_secs(args.timeout), strictness: args.strictness.map(Into::into) };
    let session = Session::new(preset, &pool, config)?;
    let inputs = if args.inputs.is_empty() { vec![diverge::session::default_corpus_dir(preset, args.target)] } else { args.inputs };
    let files = input_files(&inputs)?;
    let store = FindingStore { root: args.findings.clone() };
    let (mut agreed, mut undecodable, mut unavailable, mut unreadable) = (0usize, 0usize, 0usize, 0usize);
    let mut signatures: BTreeMap<String, (usize, PathBuf)> = BTreeMap::new();
    // Signatures of known upstream hazards: reported, counted apart, not a failure.
    let mut known = std::collections::BTreeSet::new();
    for file in &files {
        let data = match std::fs::read(file) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {}: cannot read: {e}", file.display());
                unreadable += 1;
                continue;
            }
        };
        let (outcome, written) = session
            .run_and_record(args.target, &data, &store, "diverge-run")
            .with_context(|| format!("writing the finding for {}", file.display()))?;
        match outcome {
            Outcome::Agreed { .. } => agreed += 1,
            Outcome::Undecodable(_) => undecodable += 1,
            Outcome::StateUnavailable(reason) => {
                eprintln!("warning: {}: {reason}", file.display());
                unavailable += 1;
            }
            Outcome::Diverged { divergence, .. } => {
                let dir = written.as_ref().map(|(d, _)| d.clone()).unwrap_or_default();
                if written.as_ref().is_some_and(|(_, new)| *new) {
                    // The finding is on disk (fsynced) before this line is printed; with --json,
                    // stdout holds the JSON document alone.
                    let line = format!("NEW FINDING {} -> {} (input {})", divergence.signature, dir.display(), file.display());
                    if args.json {
                        eprintln!("{line}");
                    } else {
                        println!("{line}");
                    }
                }
                if divergence.known.is_some() {
                    known.insert(divergence.signature.clone());
                }
                let e = signatures.entry(divergence.signature).or_insert((0, dir));
                e.0 += 1;
            }
        }
    }
    let diverged: usize = signatures.values().map(|(n, _)| n).sum();
    if args.json {
        let list: Vec<_> = signatures.iter().map(|(s, (n, p))| serde_json::json!({"signature": s, "inputs": n, "path": p, "known": known.contains(s)})).collect();
        println!("{}", serde_json::json!({"target": args.target.name(), "preset": preset.name(), "inputs": files.len(),
            "agreed": agreed, "diverged": diverged, "undecodable": undecodable, "state_unavailable": unavailable,
            "unreadable": unreadable, "findings": list}));
    } else {
        println!("{}: {} inputs: {agreed} agreed, {diverged} diverged, {undecodable} undecodable, {unavailable} on unavailable states, {unreadable} unreadable",
            args.target, files.len());
        for (s, (n, p)) in &signatures {
            let tag = if known.contains(s) { "  [known upstream hazard]" } else { "" };
            println!("  {s}  ({n} inputs)  {}{tag}", p.display());
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
    /// Print JSON.
    #[arg(long)]
    json: bool,
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
    }
    if let Some(d) = &r.divergence {
        println!("ASSERTION FAILED: diverge/{}", d.signature);
        if !d.majority.is_empty() {
            println!("  majority: {}", d.majority.join(", "));
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

pub fn replay(args: ReplayArgs) -> Result<i32> {
    let spec = spec_from(&args.path, args.target, args.preset, args.bls, args.strictness, args.pool)?;
    let report = replay::replay(&spec)?;
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
