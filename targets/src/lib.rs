//! One macro turns a target into a binary for the engine chosen by feature: `libfuzzer` (default,
//! for `cargo fuzz`), `afl` (`cargo afl`), `honggfuzz` (`cargo hfuzz`), or none (a replay binary
//! that runs the files and directories given as arguments). No per-engine copies of any target.
//!
//! The libFuzzer build also defines libFuzzer's custom mutator and crossover
//! (`LLVMFuzzerCustomMutator`, `LLVMFuzzerCustomCrossOver` through `libfuzzer_sys::fuzz_mutator!`
//! and `fuzz_crossover!`) over `diverge::harness::mutate_or` / `crossover`: `DIVERGE_MUTATOR`
//! (`mixed` by default) picks the structured mutators of `diverge-mutators` or libFuzzer's own
//! `fuzzer_mutate` per call; `DIVERGE_MUTATOR=libfuzzer` leaves libFuzzer's own mutations alone
//! (the custom crossover then returns 0, which makes libFuzzer pick another mutation). AFL++ gets
//! the same mutators from the `diverge-afl-mutator` library (`AFL_CUSTOM_MUTATOR_LIBRARY`);
//! honggfuzz has no custom mutator API.

#[cfg(any(
    all(feature = "libfuzzer", feature = "afl"),
    all(feature = "libfuzzer", feature = "honggfuzz"),
    all(feature = "afl", feature = "honggfuzz")
))]
compile_error!("enable exactly one engine feature: libfuzzer (default), afl or honggfuzz (use --no-default-features)");

pub use diverge;

/// Replays every file given as an argument (directories: every file inside), for the no-engine
/// build: `target/debug/<target> crash-file corpus-dir`.
#[doc(hidden)]
pub fn replay_args(target: diverge::target::Target) {
    for arg in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(arg);
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            let mut v: Vec<_> = std::fs::read_dir(&path).into_iter().flatten().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
            v.sort();
            v
        } else {
            vec![path]
        };
        for f in files {
            match std::fs::read(&f) {
                Ok(data) => {
                    let keep = diverge::harness::fuzz_one(target, &data);
                    println!("{}: {keep:?} (implementations agree)", f.display());
                }
                Err(e) => eprintln!("{}: cannot read: {e}", f.display()),
            }
        }
    }
}

/// libFuzzer's custom mutator for `target` (`fuzz_mutator!` contract: the input is
/// `data[..size]`, the result at most `max_size`): `diverge::harness::mutate_or` with libFuzzer's
/// own `fuzzer_mutate` as the engine's mutator.
#[cfg(feature = "libfuzzer")]
#[doc(hidden)]
pub fn libfuzzer_mutate(target: diverge::target::Target, data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
    diverge::harness::mutate_or(target, data, size, max_size, u64::from(seed), |d, s, m| Some(libfuzzer_sys::fuzzer_mutate(d, s, m)))
}

/// libFuzzer's custom crossover for `target`: `diverge::harness::crossover`, or 0 (libFuzzer then
/// picks another mutation, its own crossover included) under `DIVERGE_MUTATOR=libfuzzer`.
#[cfg(feature = "libfuzzer")]
#[doc(hidden)]
pub fn libfuzzer_crossover(target: diverge::target::Target, a: &[u8], b: &[u8], out: &mut [u8], seed: u32) -> usize {
    match diverge::harness::mutator_setting() {
        diverge::harness::MutatorSetting::Engine => 0,
        diverge::harness::MutatorSetting::Diverge(_) => diverge::harness::crossover(target, a, b, out, u64::from(seed)),
    }
}

/// Defines the engine entry point of a target.
#[macro_export]
macro_rules! fuzz_main {
    ($target:expr) => {
        #[cfg(feature = "libfuzzer")]
        libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
            $crate::libfuzzer_mutate($target, data, size, max_size, seed)
        });
        #[cfg(feature = "libfuzzer")]
        libfuzzer_sys::fuzz_crossover!(|data1: &[u8], data2: &[u8], out: &mut [u8], seed: u32| {
            $crate::libfuzzer_crossover($target, data1, data2, out, seed)
        });
        #[cfg(feature = "libfuzzer")]
        libfuzzer_sys::fuzz_target!(init: { $crate::diverge::harness::init(); $crate::diverge::harness::init_mutator() }, |data: &[u8]| -> libfuzzer_sys::Corpus {
            match $crate::diverge::harness::fuzz_one($target, data) {
                $crate::diverge::harness::Keep::Yes => libfuzzer_sys::Corpus::Keep,
                $crate::diverge::harness::Keep::Reject => libfuzzer_sys::Corpus::Reject,
            }
        });
        #[cfg(feature = "afl")]
        fn main() {
            $crate::diverge::harness::init();
            // `fuzz_nohook!`: afl.rs's hook would abort on the implementation panics the runner
            // catches (they are verdicts); uncaught panics still abort (afl.rs's catch_unwind).
            afl::fuzz_nohook!(|data: &[u8]| {
                let _ = $crate::diverge::harness::fuzz_one($target, data);
            });
        }
        #[cfg(feature = "honggfuzz")]
        fn main() {
            $crate::diverge::harness::init();
            loop {
                honggfuzz::fuzz!(|data: &[u8]| {
                    $crate::diverge::harness::after_engine_hook();
                    let _ = $crate::diverge::harness::fuzz_one($target, data);
                });
            }
        }
        #[cfg(not(any(feature = "libfuzzer", feature = "afl", feature = "honggfuzz")))]
        fn main() {
            $crate::replay_args($target);
        }
    };
}
