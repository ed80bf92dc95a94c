//! Panics the runner catches are verdicts, not errors: an implementation that panics on an input
//! gets `Verdict::Crash(message)` (or a failed vector case), and the message is recorded there.
//! Rust's default hook would still print each one (with a backtrace under `RUST_BACKTRACE`), so a
//! long campaign's log fills with them, and an engine's log would show an implementation's panic
//! before the `ASSERTION FAILED: diverge/<signature>` line that ClusterFuzz should group by.
//!
//! [`catch`] marks the current thread while it runs the closure; the hook installed by
//! [`quiet_caught_panics`] stays silent for marked threads and defers to the previous hook for
//! every other panic.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe, PanicHookInfo};
use std::sync::{Once, OnceLock};

thread_local! {
    static CATCHING: Cell<u32> = const { Cell::new(0) };
}

type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// The hook that was in place when [`quiet_caught_panics`] first ran (std's, or libFuzzer's
/// print-then-abort).
static PREVIOUS: OnceLock<Hook> = OnceLock::new();

fn caught() -> bool {
    CATCHING.with(Cell::get) > 0
}

/// `catch_unwind(f)`, with panics inside `f` kept off stderr once [`quiet_caught_panics`] ran.
///
/// # Errors
/// The panic payload, when `f` panicked.
pub fn catch<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    CATCHING.with(|c| c.set(c.get().saturating_add(1)));
    let result = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(c.get().saturating_sub(1)));
    result
}

/// Installs (once per process) the hook that does not print panics caught by [`catch`]; other
/// panics go to the hook that was in place before.
pub fn quiet_caught_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = PREVIOUS.set(std::panic::take_hook());
        std::panic::set_hook(Box::new(|info| {
            if !caught() {
                if let Some(previous) = PREVIOUS.get() {
                    previous(info);
                }
            }
        }));
    });
}

/// For an engine that replaces the panic hook with its own abort-on-any-panic once its loop has
/// started (honggfuzz-rs does, on its first input): puts the quiet hook back on top, so a panic
/// the runner catches stays a `Crash` verdict instead of aborting the process, and any other
/// panic is printed by the hook [`quiet_caught_panics`] saved, then aborts as the engine's did.
/// Call it after [`quiet_caught_panics`].
pub fn requiet_over_aborting_engine_hook() {
    std::panic::set_hook(Box::new(|info| {
        if !caught() {
            if let Some(previous) = PREVIOUS.get() {
                previous(info);
            }
            std::process::abort();
        }
    }));
}

/// The message of a panic payload (`&str` or `String`), else a placeholder.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caught_panics_are_returned_and_marking_is_scoped() {
        quiet_caught_panics();
        let r = catch(|| -> u8 { panic!("index 17 out of range") });
        assert_eq!(message(r.unwrap_err().as_ref()), "index 17 out of range");
        assert!(!caught(), "the mark is removed after the closure");
        let nested = catch(|| catch(|| 5).unwrap() + 1);
        assert_eq!(nested.unwrap(), 6);
        assert!(!caught());
    }
}
