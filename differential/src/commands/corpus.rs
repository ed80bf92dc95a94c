//! `diverge corpus build`.

use super::OnePreset;
use anyhow::{Context, Result};
use clap::Subcommand;
use diverge::session::default_pool_dir;
use diverge_types::{MainnetSpec, MinimalSpec, Preset};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CorpusCommand {
    /// Extract the pre-state pool (corpora/states/<preset>/, deduplicated, with manifest.json) and
    /// the seed corpora (corpora/<target>/ for minimal, corpora/mainnet/<target>/ for mainnet, each
    /// with PROVENANCE) from the spec vectors.
    Build {
        /// The `tests` directory of consensus-spec-tests (default as for `diverge vectors`).
        #[arg(long, value_name = "DIR")]
        tests: Option<PathBuf>,
        /// Preset.
        #[arg(long, value_enum, default_value = "minimal")]
        preset: OnePreset,
        /// Pool directory (default corpora/states/<preset>).
        #[arg(long, value_name = "DIR")]
        pool: Option<PathBuf>,
        /// Directory receiving one seed directory per target (default corpora, or corpora/mainnet).
        #[arg(long, value_name = "DIR")]
        seeds: Option<PathBuf>,
        /// At most this many pool states, taken round-robin over the vector handlers (default: all for
        /// minimal, 8 for mainnet, where each prepared state costs tens of MB per implementation).
        #[arg(long, value_name = "N")]
        max_states: Option<usize>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: CorpusCommand) -> Result<i32> {
    match command {
        CorpusCommand::Build { tests, preset, pool, seeds, max_states, json } => {
            let preset: Preset = preset.into();
            let tests = match tests {
                Some(dir) => dir,
                None => diverge::vectors::default_tests_dir()?,
            };
            let pool = pool.unwrap_or_else(|| default_pool_dir(preset));
            let root = diverge::vectors::repository_root().join("corpora");
            let seeds = seeds.unwrap_or_else(|| match preset {
                Preset::Minimal => root.clone(),
                Preset::Mainnet => root.join("mainnet"),
            });
            let max_states = max_states.or(match preset {
                Preset::Minimal => None,
                Preset::Mainnet => Some(8),
            });
            let report = match preset {
                Preset::Minimal => diverge::corpus::build::<MinimalSpec>(&tests, &pool, &seeds, max_states),
                Preset::Mainnet => diverge::corpus::build::<MainnetSpec>(&tests, &pool, &seeds, max_states),
            }
            .with_context(|| format!("building the {preset} corpus from {}", tests.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("pool: {} distinct states in {}", report.states, report.pool_dir.display());
                for (target, n) in &report.seeds {
                    println!("seeds: {n:>4} in {}", seeds.join(target).display());
                }
                let skipped = report.warnings.iter().filter(|w| w.contains("not in the pool")).count();
                if skipped > 0 {
                    println!("{skipped} vector inputs skipped: their pre-state is not in the (limited) pool");
                }
                for w in report.warnings.iter().filter(|w| !w.contains("not in the pool")) {
                    println!("warning: {w}");
                }
            }
            Ok(0)
        }
    }
}
