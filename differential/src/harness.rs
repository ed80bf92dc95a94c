//! The one harness every engine calls (architecture.md §1.4): libFuzzer, AFL++ and honggfuzz
//! targets in `targets/` are a line each over [`fuzz_one`]; the built-in loop and the regression
//! tests use the same [`Session`].
//!
//! The process-wide session is built on first use from the environment, so one binary serves
//! farms and docker alike:
//! - `DIVERGE_PRESET`: `minimal` (default) or `mainnet`;
//! - `DIVERGE_POOL`: state pool directory (default `corpora/states/<preset>` of the repository, or,
//!   when that does not exist, `diverge-pool/<preset>` beside the executable: how OSS-Fuzz and
//!   ClusterFuzzLite ship it in `$OUT` with no repository, see [`engine_pool_dir`]);
//! - `DIVERGE_BLS`: `assume-valid` (default) or `real`;
//! - `DIVERGE_FINDINGS`: where findings are written before the crash is raised (default `findings`;
//!   if it cannot be written, a warning is printed and the crash is still raised);
//! - `DIVERGE_PRINT_VERDICTS=1`: print every input's verdicts (see [`fuzz_one`]), for replays;
//! - `DIVERGE_BATCH_SEED`: batch-verification seed, 64 hex digits (default: fresh per process;
//!   recorded in findings either way);
//! - `DIVERGE_MUTATOR`: the engines' custom mutator ([`mutate`], [`crossover`]; `mixed` by
//!   default, see [`MutatorSetting`]).

use crate::findings::FindingStore;
use crate::replay::parse_bls;
use crate::runner::RunnerConfig;
use crate::session::{default_pool_dir, Outcome, Session};
use crate::target::Target;
use diverge_types::{BlsMode, Preset};
use std::path::PathBuf;
use std::sync::OnceLock;

mod mutate;
pub use mutate::{crossover, crossover_vec, has_structured, init_mutator, mutate, mutate_or, mutate_or_with, mutate_vec, mutate_vec_with, mutator_setting, MutatorSetting};

struct Harness {
    session: Session,
    store: FindingStore,
    print_verdicts: bool,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // Engines call from one thread. Make it the global rayon pool's only worker, so milhouse's
        // `rayon::join` in state hashing runs inline instead of handing work to other threads on
        // every execution. (Fails harmlessly if a pool already exists.)
        let _ = rayon::ThreadPoolBuilder::new().num_threads(1).use_current_thread().build_global();
        // Only the harness's own `ASSERTION FAILED` panic reaches the engine's log.
        crate::panics::quiet_caught_panics();
        let preset = mutate::env_preset();
        let pool = match engine_pool_dir(preset, std::env::var_os("DIVERGE_POOL").map(PathBuf::from), std::env::current_exe().ok()) {
            Ok(p) => p,
            Err(tried) => {
                eprintln!("diverge harness: no state pool for preset {}: tried {tried} (set DIVERGE_POOL)", preset.name());
                std::process::exit(2)
            }
        };
        eprintln!("diverge harness: state pool {}", pool.display());
        let bls = env_bls();
        let findings = std::env::var_os("DIVERGE_FINDINGS").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("findings"));
        let mut config = RunnerConfig { bls, ..RunnerConfig::default() };
        if let Ok(text) = std::env::var("DIVERGE_BATCH_SEED") {
            match crate::replay::parse_batch_seed(&text) {
                Ok(seed) => config.batch_seed = seed,
                Err(e) => {
                    eprintln!("diverge harness: DIVERGE_BATCH_SEED: {e}");
                    std::process::exit(2)
                }
            }
        }
        let session = match Session::new(preset, &pool, config) {
            Ok(s) => s,
            // Without a pool no input can run: stop the engine at once with the reason.
            Err(e) => {
                eprintln!("diverge harness: {e} (set DIVERGE_POOL)");
                std::process::exit(2)
            }
        };
        let print_verdicts = std::env::var_os("DIVERGE_PRINT_VERDICTS").is_some_and(|v| !v.is_empty() && v != "0");
        Harness { session, store: FindingStore { root: findings }, print_verdicts }
    })
}

/// The state pool directory an engine binary uses: `DIVERGE_POOL` when set; else
/// `diverge-pool/<preset>` in the directory of `exe` when it exists (OSS-Fuzz runs binaries from
/// `$OUT` with no repository beside them; `ci/oss-fuzz/build.sh` copies the pool there, and a
/// binary shipped with its pool uses that one); else the repository's `corpora/states/<preset>`
/// ([`default_pool_dir`]) when it exists.
///
/// # Errors
/// No candidate exists: every path tried, for the message.
pub fn engine_pool_dir(preset: Preset, env: Option<PathBuf>, exe: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = env {
        return Ok(p);
    }
    let mut tried = Vec::new();
    if let Some(dir) = exe.as_deref().and_then(std::path::Path::parent) {
        tried.push(dir.join("diverge-pool").join(preset.name()));
    }
    tried.push(default_pool_dir(preset));
    match tried.iter().find(|p| p.is_dir()) {
        Some(p) => Ok(p.clone()),
        None => Err(tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// Loads the pool and prepares every implementation now rather than on the first input: engine
/// mains call it before their loop, so start-up is not charged to the first execution's timeout
/// (AFL++ calibration, honggfuzz `--timeout`, libFuzzer `-timeout`). Idempotent.
pub fn init() {
    let _ = harness();
}

/// For engines whose loop replaces the panic hook with an abort on any panic (honggfuzz-rs, on
/// its first input): call at the start of every input; the first call puts back the hook that
/// keeps caught implementation panics as verdicts ([`crate::panics`]). Without it, the first
/// implementation panic would abort the process before the runner records it, with no finding
/// and no signature.
pub fn after_engine_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(crate::panics::requiet_over_aborting_engine_hook);
}

/// What an engine should do with an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Worth keeping in the corpus.
    Yes,
    /// Does not decode, or selects an unusable state: keep it out of the corpus (`Corpus::Reject`).
    Reject,
}

/// Runs one engine input of `target`. On a divergence the finding is written, then the process
/// panics with `ASSERTION FAILED: diverge/<signature>`, which every engine records as a crash and
/// ClusterFuzz groups by. A known upstream hazard is written (marked `known`) without a crash. With `DIVERGE_PRINT_VERDICTS=1` it first prints the input's verdicts
/// (a `DIVERGE-VERDICT` line, see `print_verdicts`).
pub fn fuzz_one(target: Target, data: &[u8]) -> Keep {
    let h = harness();
    if h.print_verdicts {
        print_verdicts(h, target, data);
    }
    let (outcome, written) = match h.session.run_and_record(target, data, &h.store, engine_name()) {
        Ok(r) => r,
        // A read-only working directory (ClusterFuzz bots) must not hide the divergence: warn,
        // and still raise the crash below, whose input the engine saves itself.
        Err(e) => {
            eprintln!("diverge harness: warning: cannot write a finding under {}: {e}", h.store.root.display());
            (h.session.run(target, data), None)
        }
    };
    match outcome {
        Outcome::Undecodable(_) | Outcome::StateUnavailable(_) => Keep::Reject,
        Outcome::Agreed { .. } => Keep::Yes,
        Outcome::Diverged { divergence, .. } if divergence.known.is_some() => {
            // A known upstream hazard (policy::KNOWN_HAZARDS) is on disk, marked `known`, for
            // triage to count apart; crashing the engine on it would stop every campaign at the
            // seeds that show it (e.g. corpora/dkg_packet/proposal-at-left.bin).
            if let Some((path, true)) = written {
                eprintln!("diverge: known upstream hazard {} written to {}", divergence.signature, path.display());
            }
            Keep::Yes
        }
        Outcome::Diverged { divergence, .. } => {
            if let Some((path, _)) = written {
                eprintln!("diverge: finding written to {}", path.display());
            }
            panic!("ASSERTION FAILED: diverge/{}", divergence.signature)
        }
    }
}

/// `DIVERGE_PRINT_VERDICTS=1`: one line per input on stdout, `DIVERGE-VERDICT {"input":<sha256
/// hex>,"report":<the ReplayReport that `diverge replay --json` prints>}`, with post-state roots,
/// so the same bytes can be checked to give the same verdicts under every engine's binary.
fn print_verdicts(h: &Harness, target: Target, data: &[u8]) {
    let report = crate::replay::ReplayReport::of(target, &h.session, h.session.run(target, data));
    let line = serde_json::json!({ "input": hex::encode(diverge_types::hash(data)), "report": report });
    println!("DIVERGE-VERDICT {line}");
}

fn engine_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| std::env::var("DIVERGE_ENGINE").unwrap_or_else(|_| "engine".to_string()))
}

/// `DIVERGE_BLS` (`real` or `assume-valid`, the default; an unknown value is the default).
pub(crate) fn env_bls() -> BlsMode {
    std::env::var("DIVERGE_BLS").ok().and_then(|b| parse_bls(&b)).unwrap_or(BlsMode::AssumeValid)
}

#[cfg(test)]
mod tests {
    use super::{default_pool_dir, engine_pool_dir};
    use diverge_types::Preset;
    use std::path::PathBuf;

    #[test]
    fn pool_beside_the_executable_then_the_repository() {
        let out = std::env::temp_dir().join(format!("diverge-pool-test-{}", std::process::id()));
        let exe = out.join("attestation");
        // `DIVERGE_POOL` wins even when it does not exist (Session::new names it in its error).
        let given = PathBuf::from("/nonexistent/pool");
        assert_eq!(engine_pool_dir(Preset::Minimal, Some(given.clone()), Some(exe.clone())), Ok(given));
        // Nothing beside the executable: the repository's pool (this checkout has minimal's).
        assert_eq!(engine_pool_dir(Preset::Minimal, None, Some(exe.clone())), Ok(default_pool_dir(Preset::Minimal)));
        // `$OUT/diverge-pool/minimal` beside the executable is preferred.
        std::fs::create_dir_all(out.join("diverge-pool").join("minimal")).unwrap();
        assert_eq!(engine_pool_dir(Preset::Minimal, None, Some(exe.clone())), Ok(out.join("diverge-pool").join("minimal")));
        // Neither exists (mainnet, unless generated here): the error names every path tried.
        if !default_pool_dir(Preset::Mainnet).is_dir() {
            let err = engine_pool_dir(Preset::Mainnet, None, Some(exe)).unwrap_err();
            assert!(err.contains("diverge-pool/mainnet") && err.contains("corpora/states/mainnet"), "{err}");
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}
