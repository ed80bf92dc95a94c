//! Engines install a panic hook that aborts on any panic (libfuzzer-sys at initialisation, afl.rs
//! in `fuzz!`, honggfuzz-rs on its first input). The runner catches implementation panics and
//! makes them `Crash` verdicts, so such a hook must never see them: with it, the first
//! implementation panic killed the engine's process before the finding was written. This test
//! stands in for the engine with a hook that counts what it sees (its own process: hooks are
//! process-wide).
#![allow(clippy::unwrap_used, reason = "test code")]

use diverge::panics;
use std::sync::atomic::{AtomicUsize, Ordering};

static ENGINE_SAW: AtomicUsize = AtomicUsize::new(0);

#[test]
fn caught_panics_never_reach_the_engine_hook_and_others_do() {
    // The engine's hook is in place first (libFuzzer's order: its initialize, then our init).
    std::panic::set_hook(Box::new(|_| {
        ENGINE_SAW.fetch_add(1, Ordering::SeqCst);
    }));
    panics::quiet_caught_panics();

    // An implementation panic inside the runner's catch: a verdict, unseen by the engine.
    let r = panics::catch(|| -> u8 { panic!("attempt to multiply with overflow") });
    assert_eq!(panics::message(r.unwrap_err().as_ref()), "attempt to multiply with overflow");
    assert_eq!(ENGINE_SAW.load(Ordering::SeqCst), 0);

    // The harness's own `ASSERTION FAILED` panic is outside any catch: the engine sees it.
    let _ = std::panic::catch_unwind(|| panic!("ASSERTION FAILED: diverge/attestation: spec-vs-fast: a/b"));
    assert_eq!(ENGINE_SAW.load(Ordering::SeqCst), 1);

    // Through the runner: under a re-injected crash bug of diverge-fast (scripts/test.sh runs
    // this test in the build of every bug whose registry signature ends in `/crash`), fast panics
    // on the bug's regression input; the verdict is a crash, the engine hook sees nothing.
    for bug in diverge::bugs::enabled().into_iter().filter(|b| b.krate == diverge::bugs::FAST && b.signature().ends_with("/crash")) {
        let pool = diverge::session::default_pool_dir(diverge_types::Preset::Minimal);
        let config = diverge::runner::RunnerConfig { bls: diverge_types::BlsMode::AssumeValid, ..diverge::runner::RunnerConfig::default() };
        let session = diverge::session::Session::new(diverge_types::Preset::Minimal, &pool, config).unwrap();
        for r in bug.regressions {
            let input = std::fs::read(diverge::vectors::repository_root().join("corpora/regressions").join(r.file)).unwrap();
            let outcome = session.run(bug.target, &input);
            assert_eq!(outcome.signature(), Some(r.signature), "{}", bug.name);
            assert_eq!(ENGINE_SAW.load(Ordering::SeqCst), 1, "{}: the engine hook saw the implementation panic", bug.name);
        }
    }
}
