//! AFL++ custom mutator library for diverge's targets (issue 13, item 4).
//!
//! ```text
//! cargo build --release -p diverge-afl-mutator
//! AFL_CUSTOM_MUTATOR_LIBRARY=$PWD/target/release/libdiverge_afl_mutator.so \
//!   cargo afl fuzz -i corpora/attestation -o /tmp/afl-out -V 60 targets/target/afl/release/attestation
//! ```
//!
//! It exports the C ABI of AFL++'s `docs/custom_mutators.md` (AFL++ 4.40c, vendored by
//! cargo-afl-common 0.18.2): `afl_custom_init`, `afl_custom_fuzz`, `afl_custom_describe` and
//! `afl_custom_deinit`. AFL++ runs the custom stage before its own havoc stage (all of AFL++'s
//! stages stay on unless `AFL_CUSTOM_MUTATOR_ONLY=1`). Each `afl_custom_fuzz` call mutates the
//! queue entry with `diverge::harness::mutate_vec` (`DIVERGE_MUTATOR`, default `mixed`: the
//! structured mutator or the built-in havoc with equal odds on targets that have one, havoc
//! elsewhere) or, one call in four when AFL++ passes another queue entry, crosses the two over
//! with `diverge::harness::crossover_vec`. The seeds of the calls come from one ChaCha8 stream
//! seeded by AFL++'s `seed`, so a run is reproducible given AFL++'s seed (`-s`).
//!
//! The target is `DIVERGE_TARGET` when set, else the last afl-fuzz argument whose file name is
//! a target's name (`…/afl/release/attestation`); the pool is the harness's (`DIVERGE_PRESET`,
//! `DIVERGE_POOL`), loaded once in `afl_custom_init`. No panic crosses the C ABI: every call runs
//! under `catch_unwind`, and a panicking call returns 0 ("skip this mutation" to AFL++). The
//! library logs one line to standard error at init and one at deinit (calls, crossovers, failed
//! calls), which `ci/engines-smoke.sh` checks.

use diverge::harness;
use diverge::target::Target;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The target a library instance mutates for: `env` (`DIVERGE_TARGET`) when set, else the last
/// of `args` (afl-fuzz's command line) whose file name is a target name (the target binary comes
/// after the options, and `-i corpora/<target>` may name another).
///
/// # Errors
/// `env` names no target, or no argument does: the message lists the targets.
pub fn target_from(env: Option<&str>, args: impl IntoIterator<Item = String>) -> Result<Target, String> {
    let names = || Target::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
    if let Some(name) = env.filter(|n| !n.is_empty()) {
        return Target::from_name(name).ok_or_else(|| format!("DIVERGE_TARGET={name:?} is not a target ({})", names()));
    }
    args.into_iter()
        .filter_map(|a| std::path::Path::new(&a).file_name().and_then(|f| f.to_str()).and_then(Target::from_name))
        .last()
        .ok_or_else(|| format!("no target binary among afl-fuzz's arguments; set DIVERGE_TARGET ({})", names()))
}

/// What the last call did (for `afl_custom_describe`, which names new queue entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Last {
    /// `mutate_vec`.
    Mutate,
    /// `crossover_vec` with AFL++'s other queue entry.
    Crossover,
}

/// The state behind AFL++'s `void *data`: the target, the seed stream, and the output buffer
/// whose pointer `afl_custom_fuzz` hands out (valid until the next call or deinit).
#[derive(Debug)]
pub struct Mutator {
    target: Target,
    rng: ChaCha8Rng,
    out: Vec<u8>,
    /// `afl_custom_fuzz` calls.
    pub calls: u64,
    /// Of them, crossovers.
    pub crossovers: u64,
    /// Calls that panicked (returned 0 to AFL++).
    pub failed: u64,
    /// What the last call did.
    pub last: Last,
}

impl Mutator {
    /// A mutator for `target`, its call seeds drawn from a stream seeded with `seed`. Loads the
    /// pool for the structured mutators now.
    pub fn new(target: Target, seed: u64) -> Self {
        harness::init_mutator();
        Mutator { target, rng: ChaCha8Rng::seed_from_u64(seed), out: Vec::new(), calls: 0, crossovers: 0, failed: 0, last: Last::Mutate }
    }

    /// The target.
    pub fn target(&self) -> Target {
        self.target
    }

    /// One mutation of `buf` (with `add`, another queue entry, for a crossover one call in
    /// four), at most `max_size` bytes; the result lives in the mutator until the next call.
    pub fn fuzz(&mut self, buf: &[u8], add: Option<&[u8]>, max_size: usize) -> &[u8] {
        self.calls = self.calls.saturating_add(1);
        let seed = self.rng.next_u64();
        match add.filter(|a| !a.is_empty()) {
            Some(add) if seed.is_multiple_of(4) => {
                self.crossovers = self.crossovers.saturating_add(1);
                self.last = Last::Crossover;
                self.out = harness::crossover_vec(self.target, buf, add, max_size, seed);
            }
            _ => {
                self.last = Last::Mutate;
                self.out.clear();
                self.out.extend_from_slice(buf);
                harness::mutate_vec(self.target, &mut self.out, max_size, seed);
            }
        }
        self.out.truncate(max_size);
        // AFL++ 4.40c's FrameShift (`fs_sanitize` in `common_fuzz_stuff`, unless
        // `AFL_FRAMESHIFT_DISABLE=1`) writes the parent entry's length fields into the buffer we
        // return, at offsets below the parent's length: keep that much room, or those writes land
        // past a shorter output (heap corruption, seen as afl-fuzz segfaults).
        self.out.reserve(buf.len().saturating_add(16).saturating_sub(self.out.len()));
        &self.out
    }

    /// The output buffer's capacity: at least the last input's length plus 16 (see
    /// [`Mutator::fuzz`]).
    pub fn capacity(&self) -> usize {
        self.out.capacity()
    }

    /// The pointer AFL++ gets in `*out_buf`.
    fn out_ptr(&mut self) -> *mut u8 {
        self.out.as_mut_ptr()
    }
}

/// The C ABI (AFL++ `docs/custom_mutators.md`, section 2).
#[allow(unsafe_code, reason = "the C ABI of AFL++'s custom mutators: exported symbols and raw pointers from afl-fuzz")]
pub mod ffi {
    use super::{target_from, Last, Mutator};
    use std::ffi::{c_char, c_uint, c_void, CStr};
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// `void *afl_custom_init(afl_state_t *afl, unsigned int seed)`: picks the target (see
    /// [`target_from`]), loads the pool, and returns the state. Without a target it prints the
    /// reason and exits afl-fuzz with status 1 (AFL++ does not check for a null state).
    ///
    /// # Safety
    /// `afl` is not read.
    #[no_mangle]
    pub unsafe extern "C" fn afl_custom_init(_afl: *mut c_void, seed: c_uint) -> *mut c_void {
        let made = catch_unwind(|| {
            let target = target_from(std::env::var("DIVERGE_TARGET").ok().as_deref(), std::env::args())?;
            let m = Mutator::new(target, u64::from(seed));
            eprintln!(
                "diverge AFL++ mutator: target {}, DIVERGE_MUTATOR {}, structured mutator: {}, seed {seed}",
                target.name(),
                diverge::harness::mutator_setting().name(),
                if diverge::harness::has_structured(target) { "yes" } else { "none for this target (havoc)" }
            );
            Ok::<_, String>(Box::into_raw(Box::new(m)).cast::<c_void>())
        });
        match made {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                eprintln!("diverge AFL++ mutator: {e}");
                std::process::exit(1)
            }
            Err(_) => {
                eprintln!("diverge AFL++ mutator: initialisation panicked");
                std::process::exit(1)
            }
        }
    }

    /// `size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
    /// uint8_t *add_buf, size_t add_buf_size, size_t max_size)`: mutates `buf` into memory the
    /// state owns, sets `*out_buf` to it and returns its length (0: skip, also after a panic).
    ///
    /// # Safety
    /// `data` comes from [`afl_custom_init`]; `buf` holds `buf_size` bytes and `add_buf`
    /// `add_buf_size` (or is null); `out_buf` is writable. Null pointers give 0.
    #[no_mangle]
    pub unsafe extern "C" fn afl_custom_fuzz(data: *mut c_void, buf: *mut u8, buf_size: usize, out_buf: *mut *mut u8, add_buf: *mut u8, add_buf_size: usize, max_size: usize) -> usize {
        if data.is_null() || out_buf.is_null() || (buf.is_null() && buf_size > 0) {
            return 0;
        }
        // SAFETY: `data` is the Box made by `afl_custom_init` (AFL++ passes it back unchanged).
        let m = unsafe { &mut *data.cast::<Mutator>() };
        // SAFETY: AFL++ passes `buf_size` readable bytes at `buf` (and likewise `add_buf`).
        let input: &[u8] = if buf_size == 0 { &[] } else { unsafe { std::slice::from_raw_parts(buf, buf_size) } };
        let add: Option<&[u8]> = if add_buf.is_null() || add_buf_size == 0 { None } else { Some(unsafe { std::slice::from_raw_parts(add_buf, add_buf_size) }) };
        let len = catch_unwind(AssertUnwindSafe(|| m.fuzz(input, add, max_size).len()));
        match len {
            Ok(n) => {
                // SAFETY: `out_buf` is non-null and points to AFL++'s `u8 *mutated_buf`.
                unsafe { *out_buf = m.out_ptr() };
                n
            }
            Err(_) => {
                m.failed = m.failed.saturating_add(1);
                0
            }
        }
    }

    /// `const char *afl_custom_describe(void *data, size_t max_description_len)`: what made
    /// the last output (`diverge-<setting>` or `diverge-crossover`), which AFL++ puts in new
    /// queue entries' names. A static string; null when it would not fit.
    ///
    /// # Safety
    /// `data` comes from [`afl_custom_init`] (or is null).
    #[no_mangle]
    pub unsafe extern "C" fn afl_custom_describe(data: *mut c_void, max_description_len: usize) -> *const c_char {
        if data.is_null() {
            return std::ptr::null();
        }
        // SAFETY: as in `afl_custom_fuzz`; only read.
        let m = unsafe { &*data.cast::<Mutator>() };
        let s: &'static CStr = match (m.last, diverge::harness::mutator_setting().name()) {
            (Last::Crossover, _) => c"diverge-crossover",
            (Last::Mutate, "mixed") => c"diverge-mixed",
            (Last::Mutate, "structured") => c"diverge-structured",
            (Last::Mutate, _) => c"diverge-havoc",
        };
        if s.to_bytes().len() > max_description_len {
            return std::ptr::null();
        }
        s.as_ptr()
    }

    /// `void afl_custom_deinit(void *data)`: logs the call counts and frees the state.
    ///
    /// # Safety
    /// `data` comes from [`afl_custom_init`] and is not used afterwards.
    #[no_mangle]
    pub unsafe extern "C" fn afl_custom_deinit(data: *mut c_void) {
        if data.is_null() {
            return;
        }
        // SAFETY: the Box made by `afl_custom_init`, freed once.
        let m = unsafe { Box::from_raw(data.cast::<Mutator>()) };
        eprintln!("diverge AFL++ mutator: {}: {} calls, {} crossovers, {} failed", m.target().name(), m.calls, m.crossovers, m.failed);
    }
}
