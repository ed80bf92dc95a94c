//! The `diverge` subcommands.

mod bench;
mod corpus;
mod farm;
mod findings;
mod fuzz;
mod isolated;
mod vectors;
mod worker;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use diverge::registry::implementation_names;
use diverge::target::{Strictness, Target};
use diverge::vectors::SUPPORTED_RUNNERS;
use diverge_types::{BlsMode, Preset};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "diverge", version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("DIVERGE_GIT_COMMIT"), ")"), about = "Differential fuzzing of consensus-critical code: every input through every implementation, every disagreement reported.")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PresetArg {
    Minimal,
    Mainnet,
    All,
}

impl PresetArg {
    pub fn presets(self) -> Vec<Preset> {
        match self {
            PresetArg::Minimal => vec![Preset::Minimal],
            PresetArg::Mainnet => vec![Preset::Mainnet],
            PresetArg::All => Preset::ALL.to_vec(),
        }
    }
}

/// One preset.
#[derive(Clone, Copy, ValueEnum)]
pub enum OnePreset {
    Minimal,
    Mainnet,
}

impl From<OnePreset> for Preset {
    fn from(p: OnePreset) -> Preset {
        match p {
            OnePreset::Minimal => Preset::Minimal,
            OnePreset::Mainnet => Preset::Mainnet,
        }
    }
}

/// BLS mode.
#[derive(Clone, Copy, ValueEnum)]
pub enum BlsArg {
    /// Real pairing checks.
    Real,
    /// Every signature check passes; lookups and index checks still run.
    AssumeValid,
}

impl From<BlsArg> for BlsMode {
    fn from(b: BlsArg) -> BlsMode {
        match b {
            BlsArg::Real => BlsMode::Real,
            BlsArg::AssumeValid => BlsMode::AssumeValid,
        }
    }
}

/// Reason strictness.
#[derive(Clone, Copy, ValueEnum)]
pub enum StrictnessArg {
    /// Invalid vs invalid agrees whatever the reasons.
    Outcome,
    /// Invalid vs invalid agrees only with the same reason.
    Reason,
}

impl From<StrictnessArg> for Strictness {
    fn from(s: StrictnessArg) -> Strictness {
        match s {
            StrictnessArg::Outcome => Strictness::Outcome,
            StrictnessArg::Reason => Strictness::Reason,
        }
    }
}

pub fn parse_target(name: &str) -> Result<Target, String> {
    Target::from_name(name).ok_or_else(|| {
        format!("unknown target {name:?}; targets: {}", Target::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", "))
    })
}

#[derive(Subcommand)]
enum Command {
    /// Run the official consensus-spec-tests (phase0) through every implementation and print a
    /// pass/fail table per preset, runner, handler and implementation. Exits 1 when any case fails.
    #[command(long_about = "Run the official consensus-spec-tests (phase0, v1.1.10 layout \
        <preset>/phase0/<runner>/<handler>/<suite>/<case>/) through every implementation.\n\n\
        A corrupt, truncated or missing case file fails that case with its path and the reason; \
        the rest still runs. Signatures are verified for real unless a case's meta.yaml has \
        bls_setting 2. ssz_static results are reported under the implementation `ssz` (SSZ and \
        merkleization are shared by all implementations).\n\nExit status: 0 when every case passed, \
        1 when any failed, 2 on a usage or setup error (e.g. vectors not found).")]
    Vectors {
        /// The `tests` directory of consensus-spec-tests. Default: $DIVERGE_SPEC_TESTS, else
        /// ../shared/consensus-spec-tests/tests beside the repository, else spec-tests/tests.
        #[arg(long, value_name = "DIR")]
        tests: Option<PathBuf>,
        /// Preset(s) to run.
        #[arg(long, value_enum, default_value = "all")]
        preset: PresetArg,
        /// Runner(s) to run (default: every runner found). Unknown runners found on disk are listed as skipped.
        #[arg(long = "runner", value_name = "RUNNER", num_args = 1..)]
        runners: Vec<String>,
        /// Implementation(s) to run (default: all registered; see `diverge list`).
        #[arg(long = "impl", value_name = "NAME", num_args = 1..)]
        implementations: Vec<String>,
        /// Print one JSON document instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Build the state pool and the seed corpora from the spec vectors.
    Corpus {
        #[command(subcommand)]
        command: corpus::CorpusCommand,
    },
    /// Run input files (or directories of them) through every implementation once; write a finding
    /// for each new divergence signature before reporting it.
    Run(findings::RunArgs),
    /// Reproduce a finding (its directory or finding.json), or run one raw input file, in a
    /// worker process (a crash, hang or memory blow-up is then the verdict): prints every verdict
    /// and the divergence. Exit 1 when the input diverges.
    Replay(findings::ReplayArgs),
    /// Fuzz targets with the built-in multi-core loop: mutate the seed corpora, run every input
    /// through every implementation, write each new divergence before reporting it, keep going.
    /// Exit 1 when something was found.
    Fuzz(fuzz::FuzzArgs),
    /// AFL++ fuzz farm: diversified instances per machine sharing a sync directory across
    /// machines, AFL++ crashes turned into findings, status (`farm afl`, `sync`, `status`,
    /// `crashes`).
    Farm {
        #[command(subcommand)]
        command: farm::FarmCommand,
    },
    /// Measure exec/s per target (built-in loop, one core) and the harness overhead over the spec
    /// implementation alone.
    Bench(bench::BenchArgs),
    /// Shrink a finding's input while keeping its signature; writes minimized.bin beside it.
    Minimize(findings::MinimizeArgs),
    /// Group the findings below a directory by signature: counts and one example each.
    Triage(findings::TriageArgs),
    /// List the registered implementations, targets (strictness, seeds), supported spec-test
    /// runners and re-injected bugs (the registry of differential/oracle/src/bugs.rs).
    List {
        /// Print everything as one JSON document.
        #[arg(long, conflicts_with_all = ["bugs", "bug_builds"])]
        json: bool,
        /// Print only the bugs, one per line, tab-separated, for scripts:
        /// `name feature crate target signature`.
        #[arg(long, conflicts_with = "bug_builds")]
        bugs: bool,
        /// Print the builds that test every bug (no two bugs of a build touch one target), one
        /// per line, tab-separated, for scripts: `features crates` (each comma-separated).
        #[arg(long)]
        bug_builds: bool,
    },
    /// Print every Prometheus series name `--metrics` exposes, with its type, one per line
    /// (`name<TAB>type`; for ci/monitoring/check-dashboard.sh).
    #[command(name = "metric-names", hide = true)]
    MetricNames,
    /// A worker process of `fuzz`, `run` and `replay` (internal: started by them).
    #[command(name = "__worker", hide = true)]
    Worker {
        /// The worker spec, JSON.
        spec: String,
    },
}

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Vectors { tests, preset, runners, implementations, json } => {
            vectors::run_vectors(tests, preset, runners, implementations, json)
        }
        Command::Corpus { command } => corpus::run(command),
        Command::Run(args) => findings::run(args),
        Command::Fuzz(args) => fuzz::run(args),
        Command::Farm { command } => farm::run(command),
        Command::Bench(args) => bench::run(args),
        Command::Replay(args) => findings::replay(args),
        Command::Minimize(args) => findings::minimize(args),
        Command::Triage(args) => findings::triage(args),
        Command::Worker { spec } => Ok(worker::run(&spec)),
        Command::MetricNames => {
            for (name, kind) in diverge::metrics::Metrics::names() {
                println!("{name}\t{kind}");
            }
            Ok(0)
        }
        Command::List { json, bugs, bug_builds } => {
            list(json, bugs, bug_builds);
            Ok(0)
        }
    }
}

/// `diverge list`.
fn list(json: bool, bugs_only: bool, bug_builds: bool) {
    use diverge::bugs::{builds, targets, BUGS};
    if bug_builds {
        for b in builds() {
            println!("{}\t{}", b.features(), b.crates());
        }
        return;
    }
    if bugs_only {
        for b in BUGS {
            println!("{}\t{}\t{}\t{}\t{}", b.name, b.feature, b.krate, b.target.name(), b.signature());
        }
        return;
    }
    let impls = implementation_names();
    if json {
        println!("{}", serde_json::json!({"implementations": impls, "targets": targets(), "runners": SUPPORTED_RUNNERS, "bugs": BUGS}));
        return;
    }
    println!("implementations: {}", impls.join(", "));
    println!("spec-test runners: {}", SUPPORTED_RUNNERS.join(", "));
    println!("targets (name, reason strictness, seeds):");
    for t in targets() {
        println!("  {:<18} {:<8} {}", t.name, format!("{:?}", t.strictness).to_lowercase(), t.seed_dir);
    }
    println!("re-injected bugs (cargo test/build -p diverge --features FEATURE):");
    for b in BUGS {
        println!("  {}: {}", b.name, b.summary);
        println!("      upstream: {}; feature {}{} in {}; target {}", b.upstream, b.feature, implied(b.implies), b.krate, b.target.name());
        for r in b.regressions {
            println!("      corpora/regressions/{} -> {}", r.file, r.signature);
        }
    }
}

fn implied(features: &[&str]) -> String {
    if features.is_empty() { String::new() } else { format!(", implies {}", features.join(", ")) }
}
