//! `diverge farm`: an AFL++ farm over the engine targets (issue 14 item 2; README "Fuzz farm",
//! architecture.md §10). The logic that does not start processes is in `diverge::farm`.

use super::fuzz::parse_duration;
use super::isolated::Answer;
use super::{parse_target, BlsArg, OnePreset};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use diverge::farm::{self, CrashLedger, InstancePlan, InstanceStatus};
use diverge::metrics::{AflFuzzerStats, Metrics};
use diverge::session::{default_corpus_dir, default_pool_dir};
use diverge::supervisor::WorkerOptions;
use diverge::target::Target;
use diverge_types::{BlsMode, Preset};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process from the command line")]
pub enum FarmCommand {
    /// Run AFL++ instances per target on this machine (one -M, the others -S, diversified), sharing
    /// DIR/<target> with other machines and `diverge fuzz --sync-dir DIR`; turn every AFL++ crash
    /// into a finding; print the status; stop cleanly on Ctrl-C or --duration. Exit 1 when a new
    /// finding was written.
    #[command(long_about = "Run AFL++ instances per target on this machine, as AFL++'s \
        docs/fuzzing_in_depth.md (3c, 3d) describes: for every target, --cores instances named \
        <machine>-<target>-<k> with `afl-fuzz -o DIR/<target>`.\n\n\
        Which instance gets what, and why:\n\
        - instance 0 is the -M: AFL++'s defaults (the docs: the defaults are usually best) and \
        AFL_FINAL_SYNC=1 (a last import from every instance at the stop), because its queue is what \
        other machines copy;\n\
        - the others are -S, each varied: power schedules in turn (-p fast, explore, coe, exploit, \
        rare, lin, quad, seek);\n\
        - CmpLog with --cmplog: instance 1 (instance 0 when --cores 1) runs `-c <CmpLog binary> -l AT` \
        (the docs: one or two CmpLog instances, at least one following transformations), from 8 cores \
        instance cores/2 runs `-l 2` too, both with AFL_CMPLOG_ONLY_NEW=1 (the farm resumes its \
        queues); the other instances run the plain binary at full speed;\n\
        - --custom-mutator LIB (AFL_CUSTOM_MUTATOR_LIBRARY) on the odd instances;\n\
        - MOpt (-L 0) on a quarter of the secondaries, rounded up (the docs: a quarter to a third), \
        never on a custom-mutator instance (AFL++ refuses the two together): at --cores 2 with \
        --custom-mutator there is none;\n\
        - -Z (old queue cycling) on one secondary in five, at least one (the highest index);\n\
        - every instance: -x <the target's dictionary> (ci/oss-fuzz/gen-dict.py's, written to \
        DIR/.farm/<machine>/dict/; --no-dict leaves it out), AFL_IMPORT_FIRST=1 (load the other \
        instances' entries first), AFL_TESTCACHE_SIZE=--testcache-mb.\n\
        The farm prints each instance's line (and its kind: main, mopt, Z, cmplog, custom) at start.\n\n\
        Binaries: --afl-bin DIR (default targets/target/afl/release), built with `cd targets && \
        CARGO_TARGET_DIR=target/afl cargo afl build --release --no-default-features --features afl \
        --bin <target>` (what --build runs; --features adds e.g. a bug-<name> feature). CmpLog \
        binaries: --cmplog-bin DIR (default targets/target/afl-cmplog/release), the same build with \
        AFL_LLVM_CMPLOG=1 and CARGO_TARGET_DIR=target/afl-cmplog (--build --cmplog builds them \
        too); cargo-afl needs AFL++'s LLVM plugins for it (`cargo afl config --build --force \
        --plugins`, an LLVM matching rustc's). --custom-mutator takes any AFL++ custom mutator \
        library; diverge's structure-aware one is `cargo build --release -p diverge-afl-mutator` \
        (target/release/libdiverge_afl_mutator.so). afl-fuzz: --afl-fuzz, else cargo-afl's \
        (~/.local/share/afl.rs/rustc-*/afl.rs-*/afl/bin/afl-fuzz), else afl-fuzz on PATH.\n\n\
        Every --crash-interval seconds and at the end, each new AFL++ crash file of this machine's \
        instances is run through the runner in a worker process (as `diverge run` does): its \
        finding (signature, finding.json) is written to --findings (the runner is this diverge \
        binary: for AFL++ binaries of a bug build, use a diverge built with the same feature); crash files are remembered in \
        DIR/.farm/<machine>/crashes.tsv and deduplicated by input hash. Every --status-interval \
        seconds and at the end, a table per instance from its fuzzer_stats (exec/s, execs, paths, \
        imported, crashes, last new path). AFL++ imports the queues of the other instances of \
        DIR/<target> every --afl-sync-minutes (AFL_SYNC_TIME; -M instances twice as often). Other \
        machines need only the -M directories (`diverge farm sync`).\n\n\
        Exit status: 1 when a new finding was written (not a known upstream hazard), 0 otherwise, \
        2 on a usage or setup error.")]
    Afl(AflArgs),
    /// Copy the -M instance queues of one farm directory into another (AFL++ instances and
    /// `diverge fuzz` processes under --to import them): how machines without a shared file system
    /// sync, with rsync in between (docs/farm.md). Only -M directories (holding AFL++'s
    /// is_main_node): the -M has imported its secondaries' finds (AFL++ docs/fuzzing_in_depth.md
    /// 3d). Runs every --every seconds until Ctrl-C or --duration, or once with --once.
    Sync(SyncArgs),
    /// Print the status of every AFL++ instance under a farm directory (from its fuzzer_stats).
    Status(StatusArgs),
    /// Turn the AFL++ crash files under a farm directory into findings (one pass, as `farm afl`
    /// does periodically). Exit 1 when a new finding was written.
    Crashes(CrashesArgs),
}

#[derive(Args)]
pub struct AflArgs {
    /// AFL++ instances per target on this machine.
    #[arg(long, default_value_t = 1)]
    cores: usize,
    /// The farm directory: DIR/<target> is each target's AFL++ sync root (shared by every machine
    /// on a shared file system, or mirrored with `diverge farm sync`).
    #[arg(long, value_name = "DIR")]
    sync_dir: PathBuf,
    /// This machine's name in instance names (default: the hostname); unique per machine.
    #[arg(long, value_name = "MACHINE")]
    name: Option<String>,
    /// How long: `90s`, `10m`, `2h` or seconds (default: until Ctrl-C).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Target(s) (default: attestation).
    #[arg(long = "target", value_parser = parse_target, num_args = 1..)]
    targets: Vec<Target>,
    /// Directory of the AFL++ target binaries (default: targets/target/afl/release).
    #[arg(long, value_name = "DIR")]
    afl_bin: Option<PathBuf>,
    /// Build the binaries first (`cargo afl build` in targets/, into targets/target/afl).
    #[arg(long)]
    build: bool,
    /// Extra cargo features of --build (e.g. bug-attestation-committee-index-unchecked).
    #[arg(long, value_name = "FEATURES", requires = "build")]
    features: Option<String>,
    /// The afl-fuzz executable.
    #[arg(long, value_name = "PATH")]
    afl_fuzz: Option<PathBuf>,
    /// CmpLog instances (`-c <CmpLog binary> -l AT`, instance 1; a second with `-l 2` from 8
    /// cores), running the binaries of --cmplog-bin (built with AFL_LLVM_CMPLOG=1).
    #[arg(long)]
    cmplog: bool,
    /// Directory of the CmpLog builds of the targets (default: targets/target/afl-cmplog/release).
    #[arg(long, value_name = "DIR", requires = "cmplog")]
    cmplog_bin: Option<PathBuf>,
    /// No dictionary (default: `-x` the target's, generated by ci/oss-fuzz/gen-dict.py).
    #[arg(long)]
    no_dict: bool,
    /// AFL_TESTCACHE_SIZE, MB of test cases each instance caches in memory (0: AFL++'s default).
    #[arg(long, value_name = "MB", default_value_t = 50)]
    testcache_mb: u64,
    /// A custom mutator library for half the instances (diverge's structure-aware one:
    /// target/release/libdiverge_afl_mutator.so).
    #[arg(long, value_name = "LIB")]
    custom_mutator: Option<PathBuf>,
    /// Let AFL++ bind each instance to a free core (default: AFL_NO_AFFINITY=1, for shared machines).
    #[arg(long)]
    bind_cores: bool,
    /// AFL_SYNC_TIME, minutes between AFL++ imports of the other instances' queues (-M: half).
    #[arg(long, value_name = "MIN", default_value_t = 1)]
    afl_sync_minutes: u64,
    /// Seconds between crash passes.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    crash_interval: u64,
    /// Seconds between status tables.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    status_interval: u64,
    /// Serve live Prometheus metrics on http://ADDR/metrics (e.g. 127.0.0.1:9187): per instance
    /// execs, exec/s, paths, crashes and seconds since the last find (`diverge_afl_*`, read from
    /// `fuzzer_stats` every 5 s), findings of the crash passes by signature, uptime.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<std::net::SocketAddr>,
    #[command(flatten)]
    runner: RunnerArgs,
    /// Print one JSON document at the end instead of the table.
    #[arg(long)]
    json: bool,
}

/// How crash files are run (and how the harness in the AFL++ binaries runs).
#[derive(Args)]
pub struct RunnerArgs {
    /// Preset.
    #[arg(long, value_enum, default_value = "minimal")]
    preset: OnePreset,
    /// BLS mode.
    #[arg(long, value_enum, default_value = "assume-valid")]
    bls: BlsArg,
    /// State pool (default corpora/states/<preset>).
    #[arg(long, value_name = "DIR")]
    pool: Option<PathBuf>,
    /// Where findings are written.
    #[arg(long, value_name = "DIR", default_value = "findings")]
    findings: PathBuf,
    /// Per-implementation time budget per crash input, seconds (worker killed past it).
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Resident memory limit of the worker running crash inputs, MB (0: none).
    #[arg(long, default_value_t = 2048)]
    rss_limit_mb: u64,
}

#[derive(Args)]
pub struct SyncArgs {
    /// Farm directory to copy from (e.g. an rsync copy of another machine's).
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// Farm directory to copy into (this machine's --sync-dir).
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
    /// Copy every instance queue, not only the -M ones (for machines that run only `diverge fuzz
    /// --sync-dir`, which has no -M).
    #[arg(long)]
    all_instances: bool,
    /// Also copy --to into --from (two farm directories on one host or a shared mount).
    #[arg(long)]
    both: bool,
    /// Seconds between passes.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    every: u64,
    /// How long (default: until Ctrl-C).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// One pass, then exit.
    #[arg(long)]
    once: bool,
}

#[derive(Args)]
pub struct StatusArgs {
    /// The farm directory.
    #[arg(long, value_name = "DIR")]
    sync_dir: PathBuf,
    /// Only instances whose name starts with this (e.g. a machine name).
    #[arg(long, value_name = "PREFIX")]
    name: Option<String>,
    /// One JSON document: {"instances":[...]}.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CrashesArgs {
    /// The farm directory.
    #[arg(long, value_name = "DIR")]
    sync_dir: PathBuf,
    /// Only instances whose name starts with this; also names the ledger
    /// DIR/.farm/<name>/crashes.tsv (default: all instances, ledger DIR/.farm/all/).
    #[arg(long, value_name = "PREFIX")]
    name: Option<String>,
    #[command(flatten)]
    runner: RunnerArgs,
    /// One JSON document: {"processed":N,"findings":[...]}.
    #[arg(long)]
    json: bool,
}

pub fn run(command: FarmCommand) -> Result<i32> {
    match command {
        FarmCommand::Afl(args) => afl(args),
        FarmCommand::Sync(args) => sync(args),
        FarmCommand::Status(args) => status(args),
        FarmCommand::Crashes(args) => crashes(args),
    }
}

/// A finding made of an AFL++ crash file.
#[derive(Clone, Debug, Serialize)]
pub struct FarmFinding {
    /// Target.
    pub target: String,
    /// Signature.
    pub signature: String,
    /// Finding directory.
    pub path: PathBuf,
    /// The crash file it was first seen in.
    pub crash: PathBuf,
    /// Not in the findings directory when the campaign started, and not a known upstream hazard.
    pub new: bool,
    /// The known upstream hazard's name, for a known one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

/// Turns crash files into findings through a worker process (what `diverge run` uses).
struct CrashPass {
    worker: super::isolated::Isolated,
    ledger: CrashLedger,
    /// Finding directories present when the campaign started.
    before: HashSet<PathBuf>,
    /// Signature -> finding, first of each.
    findings: BTreeMap<String, FarmFinding>,
    /// Crash files run (not duplicates).
    ran: usize,
    /// Crash files whose input was run before.
    duplicates: usize,
    /// Crash files that did not diverge in the runner.
    not_reproduced: usize,
}

impl CrashPass {
    fn new(runner: &RunnerArgs, ledger_path: &Path) -> Result<CrashPass> {
        let preset: Preset = runner.preset.into();
        let pool = runner.pool.clone().unwrap_or_else(|| default_pool_dir(preset));
        let bls: BlsMode = runner.bls.into();
        let worker = super::findings::isolated(preset, pool, bls, None, runner.timeout, runner.rss_limit_mb, runner.findings.clone(), "afl++-farm", WorkerOptions::default())?;
        let ledger = CrashLedger::open(ledger_path)?;
        let mut before = HashSet::new();
        for t in std::fs::read_dir(&runner.findings).into_iter().flatten().filter_map(Result::ok) {
            for f in std::fs::read_dir(t.path()).into_iter().flatten().filter_map(Result::ok) {
                before.insert(f.path());
            }
        }
        Ok(CrashPass { worker, ledger, before, findings: BTreeMap::new(), ran: 0, duplicates: 0, not_reproduced: 0 })
    }

    /// One pass over the crash files not seen yet. Returns the findings first seen in it.
    fn pass(&mut self, dir: &Path, only: Option<&str>, say: &dyn Fn(String)) -> Result<Vec<FarmFinding>> {
        let mut fresh = Vec::new();
        for crash in self.ledger.new_crashes(dir, only) {
            let data = match std::fs::read(&crash.path) {
                Ok(d) => d,
                Err(e) => {
                    say(format!("warning: {}: cannot read: {e}", crash.path.display()));
                    continue;
                }
            };
            let sha = hex::encode(diverge_types::hash(&data));
            if self.ledger.seen_hash(&sha) {
                self.duplicates += 1;
                self.ledger.record(&crash, &sha, "duplicate input").context("writing the crash ledger")?;
                continue;
            }
            let Some(target) = Target::from_name(&crash.target) else { continue };
            self.ran += 1;
            let (signature, written, known) = match self.worker.exec(target, &data, true).with_context(|| format!("running {}", crash.path.display()))? {
                Answer::Died(death, written) => (Some(death.signature()), written, None),
                Answer::Ran(r) => match r.divergence {
                    Some(d) => (Some(d.signature.clone()), r.written.clone(), d.known.as_ref().map(|k| k.hazard.clone())),
                    None => {
                        self.not_reproduced += 1;
                        say(format!("warning: {}: did not diverge in the runner ({}{})", crash.path.display(), r.status, r.detail.map(|d| format!(": {d}")).unwrap_or_default()));
                        self.ledger.record(&crash, &sha, &format!("not reproduced: {}", r.status)).context("writing the crash ledger")?;
                        continue;
                    }
                },
            };
            let (Some(signature), Some((path, _))) = (signature, written) else { continue };
            self.ledger.record(&crash, &sha, &signature).context("writing the crash ledger")?;
            if self.findings.contains_key(&signature) {
                continue;
            }
            let f = FarmFinding { target: crash.target.clone(), signature: signature.clone(), new: known.is_none() && !self.before.contains(&path), path, crash: crash.path.clone(), known };
            say(match (&f.known, f.new) {
                (Some(h), _) => format!("KNOWN HAZARD {} ({h}) -> {} (from {})", f.signature, f.path.display(), f.crash.display()),
                (None, true) => format!("NEW FINDING {} -> {} (from {})\nASSERTION FAILED: diverge/{}", f.signature, f.path.display(), f.crash.display(), f.signature),
                (None, false) => format!("finding {} (already in {}) from {}", f.signature, f.path.display(), f.crash.display()),
            });
            self.findings.insert(signature, f.clone());
            fresh.push(f);
        }
        Ok(fresh)
    }

    fn new_count(&self) -> usize {
        self.findings.values().filter(|f| f.new).count()
    }
}

/// `afl-fuzz`: `--afl-fuzz`, else cargo-afl's newest build, else `afl-fuzz` on PATH.
fn find_afl_fuzz(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        if !p.is_file() {
            bail!("--afl-fuzz {}: no such file", p.display());
        }
        return Ok(p.to_path_buf());
    }
    let data = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    if let Some(base) = data.map(|d| d.join("afl.rs")) {
        for rustc in std::fs::read_dir(&base).into_iter().flatten().filter_map(Result::ok) {
            for afl in std::fs::read_dir(rustc.path()).into_iter().flatten().filter_map(Result::ok) {
                let p = afl.path().join("afl/bin/afl-fuzz");
                if let Ok(m) = std::fs::metadata(&p).and_then(|m| m.modified()) {
                    found.push((m, p));
                }
            }
        }
    }
    found.sort();
    if let Some((_, p)) = found.pop() {
        return Ok(p);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if dir.join("afl-fuzz").is_file() {
            return Ok(dir.join("afl-fuzz"));
        }
    }
    bail!("afl-fuzz not found (install cargo-afl: `bash ci/install-engines.sh afl`, or pass --afl-fuzz PATH)")
}

/// The AFL++ binaries (and, with --cmplog, the CmpLog builds), built first with `--build`: the
/// directory of each.
fn afl_binaries(args: &AflArgs, targets: &[Target]) -> Result<(PathBuf, Option<PathBuf>)> {
    let root = diverge::vectors::repository_root();
    let dir = args.afl_bin.clone().unwrap_or_else(|| root.join("targets/target/afl/release"));
    let cmplog_dir = args.cmplog.then(|| args.cmplog_bin.clone().unwrap_or_else(|| root.join("targets/target/afl-cmplog/release")));
    let mut features = "afl".to_string();
    if let Some(f) = &args.features {
        features.push(',');
        features.push_str(f);
    }
    let bins = targets.iter().map(|t| format!("--bin {}", t.name())).collect::<Vec<_>>().join(" ");
    let build_cmd = |target_dir: &str, cmplog: bool| format!("(cd targets && {}CARGO_TARGET_DIR={target_dir} cargo afl build --release --no-default-features --features {features} {bins})", if cmplog { "AFL_LLVM_CMPLOG=1 " } else { "" });
    if args.build {
        let builds: &[(&str, bool)] = if args.cmplog { &[("target/afl", false), ("target/afl-cmplog", true)] } else { &[("target/afl", false)] };
        for &(target_dir, cmplog) in builds {
            let mut cmd = Command::new("cargo");
            cmd.current_dir(root.join("targets")).env("CARGO_TARGET_DIR", target_dir).args(["afl", "build", "--release", "--no-default-features", "--features", &features]);
            if cmplog {
                cmd.env("AFL_LLVM_CMPLOG", "1");
            }
            for t in targets {
                cmd.args(["--bin", t.name()]);
            }
            eprintln!("farm: building: {}", build_cmd(target_dir, cmplog));
            let status = cmd.status().context("running cargo afl build (is cargo-afl installed? `bash ci/install-engines.sh afl`)")?;
            if !status.success() {
                bail!("cargo afl build failed ({status})");
            }
        }
    }
    for t in targets {
        let bin = dir.join(t.name());
        if !bin.is_file() {
            bail!("{}: no AFL++ binary; build it with `{}` (or pass --build, or --afl-bin DIR)", bin.display(), build_cmd("target/afl", false));
        }
        if let Some(c) = &cmplog_dir {
            let bin = c.join(t.name());
            if !bin.is_file() {
                bail!("{}: no CmpLog build; build it with `{}` (needs cargo-afl's LLVM plugins), or pass --build, or --cmplog-bin DIR", bin.display(), build_cmd("target/afl-cmplog", true));
            }
        }
    }
    Ok((dir, cmplog_dir))
}

/// The dictionary of `target` (`ci/oss-fuzz/gen-dict.py <target>`, the OSS-Fuzz build's), written
/// to `dir/<target>.dict`.
fn write_dictionary(target: Target, dir: &Path) -> Result<PathBuf> {
    let script = diverge::vectors::repository_root().join("ci/oss-fuzz/gen-dict.py");
    let out = Command::new("python3").arg(&script).arg(target.name()).output().with_context(|| format!("running python3 {} (or pass --no-dict)", script.display()))?;
    if !out.status.success() {
        bail!("{} {} failed ({}): {} (or pass --no-dict)", script.display(), target.name(), out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let path = dir.join(format!("{}.dict", target.name()));
    std::fs::write(&path, &out.stdout).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(path)
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("{}: cannot make absolute", p.display()))
}

/// A running AFL++ instance.
struct Instance {
    plan: InstancePlan,
    child: Option<Child>,
    log: PathBuf,
}

/// Sends `signal` to process `pid`.
fn signal(pid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a pid this process started (a child it has not reaped yet).
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let _ = ctrlc::set_handler(move || {
        if s.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping (Ctrl-C again to quit at once)");
    });
    stop
}

fn afl(args: AflArgs) -> Result<i32> {
    let targets = if args.targets.is_empty() { vec![Target::Attestation] } else { args.targets.clone() };
    let machine = farm::sanitize_name(&args.name.clone().unwrap_or_else(farm::hostname));
    let cores = args.cores.max(1);
    let preset: Preset = args.runner.preset.into();
    let (bin_dir, cmplog_dir) = afl_binaries(&args, &targets)?;
    let bin_dir = absolute(&bin_dir)?;
    let cmplog_dir = cmplog_dir.as_deref().map(absolute).transpose()?;
    let afl_fuzz = find_afl_fuzz(args.afl_fuzz.as_deref())?;
    if let Some(lib) = &args.custom_mutator {
        if !lib.is_file() {
            bail!("--custom-mutator {}: no such file", lib.display());
        }
    }
    let dir = absolute(&args.sync_dir)?;
    let own = dir.join(".farm").join(&machine);
    let logs = own.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("{}: cannot create", logs.display()))?;
    let pool = absolute(&args.runner.pool.clone().unwrap_or_else(|| default_pool_dir(preset)))?;
    super::findings::check_pool(&pool)?;
    let findings_dir = absolute(&args.runner.findings)?;
    std::fs::create_dir_all(&findings_dir).with_context(|| format!("{}: cannot create", findings_dir.display()))?;
    let mut pass = CrashPass::new(&args.runner, &own.join("crashes.tsv"))?;
    let custom = args.custom_mutator.as_deref().map(absolute).transpose()?;
    let bls: BlsMode = args.runner.bls.into();

    let stop = stop_flag();
    let mut instances: Vec<Instance> = Vec::new();
    // What each instance runs, for the report (per-kind measurements read it).
    let mut planned: Vec<serde_json::Value> = Vec::new();
    for &t in &targets {
        let seeds = absolute(&default_corpus_dir(preset, t))?;
        let root = dir.join(t.name());
        std::fs::create_dir_all(&root).with_context(|| format!("{}: cannot create", root.display()))?;
        let options = farm::PlanOptions {
            cmplog_binary: cmplog_dir.as_ref().map(|d| d.join(t.name())),
            custom_mutator: custom.clone(),
            dictionary: if args.no_dict { None } else { Some(write_dictionary(t, &own.join("dict"))?) },
            testcache_mb: args.testcache_mb,
        };
        for plan in farm::plan(&machine, t.name(), cores, &options) {
            let log = logs.join(format!("{}.log", plan.name));
            let file = std::fs::File::create(&log).with_context(|| format!("{}: cannot create", log.display()))?;
            let mut cmd = Command::new(&afl_fuzz);
            use std::os::unix::process::CommandExt;
            cmd.args(plan.args(&seeds, &root, &bin_dir.join(t.name())))
                // Every path given is absolute; the working directory is the farm's own log
                // directory because AFL++ 4.40c, with a custom mutator loaded, creates an empty file
                // named after an uninitialised buffer in its working directory
                // (check_sync_fuzzers opens qd_main_path where qd_path was meant).
                .current_dir(&logs)
                .env("AFL_NO_UI", "1")
                .env("AFL_SKIP_CPUFREQ", "1")
                .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
                .env("AFL_AUTORESUME", "1")
                // fuzzer_stats every 10 s (AFL++'s default is 60): the status view reads it.
                .env("AFL_FUZZER_STATS_UPDATE_INTERVAL", "10")
                .env("AFL_SYNC_TIME", args.afl_sync_minutes.max(1).to_string())
                .env("DIVERGE_FINDINGS", &findings_dir)
                .env("DIVERGE_POOL", &pool)
                .env("DIVERGE_PRESET", preset.name())
                .env("DIVERGE_BLS", bls.name())
                .stdin(Stdio::null())
                .stdout(file.try_clone()?)
                .stderr(file)
                // Its own process group: a terminal's Ctrl-C reaches the farm, which stops it.
                .process_group(0);
            if !args.bind_cores {
                cmd.env("AFL_NO_AFFINITY", "1");
            }
            for (k, v) in plan.env() {
                cmd.env(k, v);
            }
            let child = cmd.spawn().with_context(|| format!("starting {}", afl_fuzz.display()))?;
            eprintln!("farm: {} [{}] {} (pid {}, log {})", t.name(), plan.kind(), plan.describe(), child.id(), log.display());
            planned.push(serde_json::json!({"instance": plan.name, "target": t.name(), "kind": plan.kind(), "command": plan.describe()}));
            instances.push(Instance { plan, child: Some(child), log });
        }
    }
    eprintln!("farm: machine {machine}, {} instance(s) on {} target(s), sync dir {}, findings in {}", instances.len(), targets.len(), dir.display(), findings_dir.display());

    let say = |line: String| eprintln!("{line}");
    let only = format!("{machine}-");
    let metrics = match args.metrics {
        Some(addr) => {
            let m = Metrics::new();
            let server = m.serve(addr)?;
            eprintln!("farm: metrics on http://{}/metrics", server.addr());
            Some((m, server))
        }
        None => None,
    };
    let publish = |found: &[FarmFinding]| {
        let Some((m, _)) = &metrics else { return };
        for f in found {
            m.finding(&f.target, preset.name(), &f.signature, f.known.as_deref());
        }
        let (status, _) = farm::read_status(&dir, Some(&only));
        let now = unix_now();
        for s in &status {
            m.set_afl_fuzzer(&machine, &s.instance, &s.target, afl_stats(s, now));
        }
    };
    let start = Instant::now();
    let deadline = args.duration.map(|d| start + d);
    let (mut last_pass, mut last_status, mut last_metrics) = (Instant::now(), Instant::now(), Instant::now());
    let mut all_exited = false;
    // Instances that exited before the end (name, exit status): listed in the report, so an
    // instance that never ran is not silently missing from it.
    let mut exited: Vec<(String, String)> = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if stop.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        for inst in &mut instances {
            let Some(child) = inst.child.as_mut() else { continue };
            if let Ok(Some(status)) = child.try_wait() {
                let tail = std::fs::read_to_string(&inst.log).map(|t| t.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")).unwrap_or_default();
                eprintln!("farm: instance {} exited ({status}); last lines of {}:\n{tail}", inst.plan.name, inst.log.display());
                exited.push((inst.plan.name.clone(), status.to_string()));
                inst.child = None;
            }
        }
        if instances.iter().all(|i| i.child.is_none()) {
            eprintln!("farm: every instance has exited");
            all_exited = true;
            break;
        }
        if last_pass.elapsed() >= Duration::from_secs(args.crash_interval.max(1)) {
            let found = pass.pass(&dir, Some(&only), &say)?;
            publish(&found);
            last_pass = Instant::now();
        }
        if let Some((m, _)) = &metrics {
            if last_metrics.elapsed() >= Duration::from_secs(5) {
                publish(&[]);
                m.set_campaign(0, u64::try_from(instances.iter().filter(|i| i.child.is_some()).count()).unwrap_or(0), start.elapsed());
                last_metrics = Instant::now();
            }
        }
        if !args.json && last_status.elapsed() >= Duration::from_secs(args.status_interval.max(1)) {
            let (status, _) = farm::read_status(&dir, Some(&only));
            eprint!("farm: [{:.0}s]\n{}", start.elapsed().as_secs_f64(), farm::status_table(&status, unix_now()));
            last_status = Instant::now();
        }
    }
    // Clean stop: SIGINT (AFL++ then writes its stats and exits), a grace period, SIGKILL.
    for inst in &instances {
        if let Some(c) = &inst.child {
            signal(c.id(), libc::SIGINT);
        }
    }
    let grace = Instant::now();
    for inst in &mut instances {
        let Some(child) = inst.child.as_mut() else { continue };
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if grace.elapsed() > Duration::from_secs(15) => {
                    eprintln!("farm: instance {} did not stop within 15 s; killing it", inst.plan.name);
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        inst.child = None;
    }
    let found = pass.pass(&dir, Some(&only), &say)?;
    publish(&found);
    let (status, warnings) = farm::read_status(&dir, Some(&only));
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let code = report(&status, &planned, &exited, &pass, Some(&machine), elapsed, args.json)?;
    if all_exited {
        bail!("every AFL++ instance exited before the end of the campaign (their logs are above)");
    }
    Ok(code)
}

/// One instance's `fuzzer_stats` as the metrics exporter takes them (`now`: Unix seconds).
fn afl_stats(s: &InstanceStatus, now: u64) -> AflFuzzerStats {
    AflFuzzerStats {
        execs: s.execs_done,
        // AFL++ writes 0 for the last minute during its first minute: the run average then.
        execs_per_sec: s.execs_ps_last_min.filter(|v| *v > 0.0).unwrap_or(s.execs_per_sec),
        paths: s.corpus_count,
        crashes: s.saved_crashes,
        seconds_since_last_find: s.last_find.map(|t| now.saturating_sub(t) as f64),
    }
}

/// The final report: per instance status, the plan of `farm afl`'s instances (`planned`: instance,
/// target, kind, command), instances that exited early (`exited`: name and exit status),
/// crash-pass counts and findings; exit code 1 when a new finding was written.
fn report(status: &[InstanceStatus], planned: &[serde_json::Value], exited: &[(String, String)], pass: &CrashPass, machine: Option<&str>, elapsed: f64, json: bool) -> Result<i32> {
    let findings: Vec<&FarmFinding> = pass.findings.values().collect();
    let exited_json: Vec<serde_json::Value> = exited.iter().map(|(name, status)| serde_json::json!({"instance": name, "status": status})).collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "machine": machine, "secs": elapsed, "instances": status, "plan": planned, "exited_early": exited_json, "findings": findings,
                "crashes": {"ran": pass.ran, "duplicates": pass.duplicates, "not_reproduced": pass.not_reproduced, "recorded": pass.ledger.len()},
                "new_findings": pass.new_count(),
            }))?
        );
    } else {
        print!("{}", farm::status_table(status, unix_now()));
        for (name, st) in exited {
            println!("instance {name} exited early ({st}): its log is under the farm directory's .farm/<machine>/logs/");
        }
        println!("crash files: {} run, {} duplicate inputs, {} did not diverge in the runner; {} in the ledger", pass.ran, pass.duplicates, pass.not_reproduced, pass.ledger.len());
        for f in &findings {
            let tag = match (&f.known, f.new) {
                (Some(h), _) => format!("  [known upstream hazard {h}]"),
                (None, true) => "  [new]".into(),
                (None, false) => String::new(),
            };
            println!("  {}  {}{tag}", f.signature, f.path.display());
        }
        println!("{} new finding(s); {:.0} s", pass.new_count(), elapsed);
    }
    Ok(if pass.new_count() > 0 { 1 } else { 0 })
}

fn sync(args: SyncArgs) -> Result<i32> {
    for d in [&args.from, &args.to] {
        if !d.is_dir() {
            bail!("{}: not a directory", d.display());
        }
    }
    let stop = if args.once { Arc::new(AtomicBool::new(false)) } else { stop_flag() };
    let start = Instant::now();
    let mut total = 0usize;
    loop {
        let mut line = Vec::new();
        let s = farm::mirror_queues(&args.from, &args.to, args.all_instances)?;
        total += s.copied;
        line.push(format!("{} -> {}: {} file(s) from {} instance(s)", args.from.display(), args.to.display(), s.copied, s.instances));
        if args.both {
            let s = farm::mirror_queues(&args.to, &args.from, args.all_instances)?;
            total += s.copied;
            line.push(format!("{} -> {}: {} file(s) from {} instance(s)", args.to.display(), args.from.display(), s.copied, s.instances));
        }
        eprintln!("farm sync [{:.0}s]: {}", start.elapsed().as_secs_f64(), line.join("; "));
        if args.once {
            break;
        }
        let next = Instant::now() + Duration::from_secs(args.every.max(1));
        while Instant::now() < next && !stop.load(Ordering::SeqCst) && args.duration.is_none_or(|d| start.elapsed() < d) {
            std::thread::sleep(Duration::from_millis(200));
        }
        if stop.load(Ordering::SeqCst) || args.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
    }
    println!("farm sync: {total} file(s) copied");
    Ok(0)
}

fn status(args: StatusArgs) -> Result<i32> {
    if !args.sync_dir.is_dir() {
        bail!("{}: not a directory", args.sync_dir.display());
    }
    let (status, warnings) = farm::read_status(&args.sync_dir, args.name.as_deref());
    for w in warnings {
        eprintln!("warning: {w}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "instances": status }))?);
    } else {
        print!("{}", farm::status_table(&status, unix_now()));
    }
    Ok(0)
}

fn crashes(args: CrashesArgs) -> Result<i32> {
    if !args.sync_dir.is_dir() {
        bail!("{}: not a directory", args.sync_dir.display());
    }
    let ledger = args.sync_dir.join(".farm").join(args.name.as_deref().map(farm::sanitize_name).unwrap_or_else(|| "all".into())).join("crashes.tsv");
    let mut pass = CrashPass::new(&args.runner, &ledger)?;
    let say = |line: String| eprintln!("{line}");
    let start = Instant::now();
    pass.pass(&args.sync_dir, args.name.as_deref(), &say)?;
    let (status, _) = farm::read_status(&args.sync_dir, args.name.as_deref());
    report(&status, &[], &[], &pass, args.name.as_deref(), start.elapsed().as_secs_f64(), args.json)
}
