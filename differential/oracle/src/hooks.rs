//! Execution hooks: what an engine needs to know while the oracle runs an input ("implementation X
//! is running now"), so that a worker that dies mid-input can name the implementation it died in.
//!
//! The oracle calls [`enter`] and [`leave`] around every implementation call; an engine installs
//! its [`ExecutionHooks`] once per process ([`install`]). With none installed (library use, tests,
//! the vectors runner) each hook is one atomic load and a branch. This keeps the oracle free of
//! process and shared-memory code: the engine depends on the oracle, never the other way round.

use std::sync::OnceLock;

/// What an engine records while the oracle executes an input.
pub trait ExecutionHooks: Send + Sync {
    /// Implementation `name` starts executing.
    fn enter(&self, name: &str);
    /// The executing implementation returned (or panicked and was caught).
    fn leave(&self);
}

static HOOKS: OnceLock<&'static dyn ExecutionHooks> = OnceLock::new();

/// Makes `hooks` this process's hooks. `false` if some were installed already (they stay).
pub fn install(hooks: &'static dyn ExecutionHooks) -> bool {
    HOOKS.set(hooks).is_ok()
}

/// Hook: implementation `name` starts executing.
#[inline]
pub fn enter(name: &str) {
    if let Some(h) = HOOKS.get() {
        h.enter(name);
    }
}

/// Hook: the executing implementation returned.
#[inline]
pub fn leave() {
    if let Some(h) = HOOKS.get() {
        h.leave();
    }
}
