//! The engines' mutation API (issue 13, item 4): what libFuzzer's `fuzz_mutator!` /
//! `fuzz_crossover!` (macro `fuzz_main!` in `targets/src/lib.rs`) and the AFL++ custom mutator
//! library (`mutators/afl/`, `afl_custom_fuzz`) call. Engines hand over a buffer, a size bound and
//! a seed; these functions apply the structured mutators of `diverge-mutators` through the same
//! [`PoolMutator`] as the built-in loop (`diverge fuzz --mutator`), over the pool the harness uses
//! (`DIVERGE_PRESET`, `DIVERGE_POOL`, see [`super::engine_pool_dir`]), loaded once on first use.
//!
//! `DIVERGE_MUTATOR` picks the mutator ([`MutatorSetting`]):
//! - `mixed` (default): on targets with a structured mutator, each call is structured or the
//!   engine's own byte mutator (libFuzzer's `fuzzer_mutate`; the built-in [`Havoc`] where the
//!   engine gives none) with equal odds, decided by the seed; every other target gets the engine's;
//! - `structured`: the structured mutator on every call (inputs that do not decode still get byte
//!   havoc inside it; targets without one get the engine's mutator);
//! - `havoc`: the built-in loop's [`Havoc`] (SSZ-aware byte moves) on every target;
//! - `libfuzzer` (alias `engine`): the engine's own mutator only, as if there were no custom
//!   mutator (the comparison arm of the README's measurement); [`crossover`] callers then defer to
//!   the engine's crossover as well.
//!
//! Every function is deterministic for a given seed (and setting), never writes more than the
//! size bound it is given, and never panics on any input.
//!
//! Crossover ([`crossover`]) is field-level where both parents decode as the target's operation
//! (see [`crossover_vec`] for the exchanges per target); otherwise it is an SSZ-aware splice that
//! keeps the first parent's 2-byte state selector and joins a head of its body to a tail of the
//! second's.

use crate::fuzz::mutate::{Havoc, Mutator};
use crate::fuzz::structured::{MutatorKind, PoolMutator};
use crate::target::Target;
use diverge_mutators::generate::{frame, split, Op};
use diverge_mutators::Kind;
use diverge_types::{EthSpec, MainnetSpec, MinimalSpec, Preset};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The mutator engines use, from `DIVERGE_MUTATOR` (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MutatorSetting {
    /// `libfuzzer` / `engine`: the engine's own mutator only.
    Engine,
    /// `havoc`, `structured` or `mixed`.
    Diverge(MutatorKind),
}

impl MutatorSetting {
    /// Parses a `DIVERGE_MUTATOR` value.
    ///
    /// # Errors
    /// An unknown name, with the accepted ones.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "libfuzzer" | "engine" => Ok(MutatorSetting::Engine),
            other => other.parse().map(MutatorSetting::Diverge).map_err(|_| format!("unknown DIVERGE_MUTATOR {s:?} (libfuzzer, engine, havoc, structured, mixed)")),
        }
    }

    /// The setting's name (`engine` for [`MutatorSetting::Engine`]).
    pub fn name(self) -> &'static str {
        match self {
            MutatorSetting::Engine => "engine",
            MutatorSetting::Diverge(k) => k.name(),
        }
    }
}

/// The process's setting: `DIVERGE_MUTATOR`, read once (unset: `mixed`; an unknown value is
/// reported on standard error and `mixed` is used).
pub fn mutator_setting() -> MutatorSetting {
    static SETTING: OnceLock<MutatorSetting> = OnceLock::new();
    *SETTING.get_or_init(|| match std::env::var("DIVERGE_MUTATOR") {
        Ok(v) if !v.is_empty() => MutatorSetting::parse(&v).unwrap_or_else(|e| {
            eprintln!("diverge harness: {e}; using mixed");
            MutatorSetting::Diverge(MutatorKind::Mixed)
        }),
        _ => MutatorSetting::Diverge(MutatorKind::Mixed),
    })
}

/// The preset engines use: `DIVERGE_PRESET` (default minimal), as the harness.
pub(super) fn env_preset() -> Preset {
    std::env::var("DIVERGE_PRESET").ok().and_then(|p| Preset::from_name(&p)).unwrap_or(Preset::Minimal)
}

/// The structured mutator over the harness's pool, loaded on first use. Without a usable pool it
/// is plain havoc (the reason is printed once on standard error): mutation must go on even when
/// the pool cannot be read, and the harness itself stops the engine with the reason then.
fn pool_mutator() -> &'static PoolMutator {
    static MUTATOR: OnceLock<PoolMutator> = OnceLock::new();
    MUTATOR.get_or_init(|| {
        if matches!(mutator_setting(), MutatorSetting::Engine | MutatorSetting::Diverge(MutatorKind::Havoc)) {
            return PoolMutator::havoc();
        }
        let preset = env_preset();
        let pool = match super::engine_pool_dir(preset, std::env::var_os("DIVERGE_POOL").map(PathBuf::from), std::env::current_exe().ok()) {
            Ok(p) => p,
            Err(tried) => {
                eprintln!("diverge mutator: no state pool for preset {}: tried {tried}; using havoc (set DIVERGE_POOL)", preset.name());
                return PoolMutator::havoc();
            }
        };
        match PoolMutator::new(MutatorKind::Structured, preset, &pool) {
            // Signed for real when the harness verifies for real (`DIVERGE_BLS=real`).
            Ok(m) => m.with_bls(super::env_bls()),
            Err(e) => {
                eprintln!("diverge mutator: state pool {}: {e}; using havoc", pool.display());
                PoolMutator::havoc()
            }
        }
    })
}

/// Loads the pool for the structured mutators now (engines call it before fuzzing, so the first
/// mutation is not charged the load). Idempotent.
pub fn init_mutator() {
    let _ = pool_mutator();
}

/// Whether `target` has a structured mutator (`diverge-mutators`' phase0 [`Kind`]s, `chain` and the DKG kinds).
pub fn has_structured(target: Target) -> bool {
    PoolMutator::needs_pool(target) || diverge_mutators::dkg::DkgKind::from_name(target.name()).is_some()
}

/// What one call does, decided from the setting, the target and the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    Structured,
    Havoc,
    Engine,
}

fn plan(setting: MutatorSetting, target: Target, seed: u64) -> Plan {
    match setting {
        MutatorSetting::Engine => Plan::Engine,
        MutatorSetting::Diverge(MutatorKind::Havoc) => Plan::Havoc,
        MutatorSetting::Diverge(_) if !has_structured(target) => Plan::Engine,
        MutatorSetting::Diverge(MutatorKind::Structured) => Plan::Structured,
        // The low bit of a mixed seed; the mutation itself uses the whole seed.
        MutatorSetting::Diverge(MutatorKind::Mixed) => {
            if ChaCha8Rng::seed_from_u64(seed).gen_bool(0.5) {
                Plan::Structured
            } else {
                Plan::Engine
            }
        }
    }
}

fn rng_for(seed: u64) -> ChaCha8Rng {
    // Distinct from the stream `plan` draws its coin from.
    ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15)
}

/// Mutates `data` (an input of `target`) in place with the process's [`mutator_setting`] and the
/// built-in [`Havoc`] standing in for the engine's mutator, keeping it at most `max_size` bytes.
/// The same `seed` gives the same bytes.
pub fn mutate_vec(target: Target, data: &mut Vec<u8>, max_size: usize, seed: u64) {
    mutate_vec_with(mutator_setting(), target, data, max_size, seed);
}

/// [`mutate_vec`] with an explicit setting (tests; engines use the process's).
pub fn mutate_vec_with(setting: MutatorSetting, target: Target, data: &mut Vec<u8>, max_size: usize, seed: u64) {
    let mut rng = rng_for(seed);
    match plan(setting, target, seed) {
        Plan::Structured => pool_mutator().mutate(target, data, &[], &mut rng, max_size),
        Plan::Havoc | Plan::Engine => Havoc.mutate(target, data, &[], &mut rng, max_size),
    }
    data.truncate(max_size);
}

/// libFuzzer's contract (`fuzz_mutator!`): the input is `data[..size]`; mutates it in place and
/// returns the new size, at most `max_size` (which may be below `size` while libFuzzer shrinks)
/// and at most `data.len()`. Uses the built-in [`Havoc`] where the setting asks for the engine's
/// mutator; see [`mutate_or`] to pass the engine's own.
pub fn mutate(target: Target, data: &mut [u8], size: usize, max_size: usize, seed: u64) -> usize {
    mutate_or(target, data, size, max_size, seed, |_, _, _| None)
}

/// [`mutate`], calling `engine(data, size, max_size)` (libFuzzer's `fuzzer_mutate`) where the
/// setting asks for the engine's mutator; an `engine` that returns `None` means the built-in
/// [`Havoc`]. The result is clamped to `max_size` and `data.len()` whatever `engine` returns.
pub fn mutate_or(target: Target, data: &mut [u8], size: usize, max_size: usize, seed: u64, engine: impl FnOnce(&mut [u8], usize, usize) -> Option<usize>) -> usize {
    mutate_or_with(mutator_setting(), target, data, size, max_size, seed, engine)
}

/// [`mutate_or`] with an explicit setting (tests; engines use the process's).
pub fn mutate_or_with(setting: MutatorSetting, target: Target, data: &mut [u8], size: usize, max_size: usize, seed: u64, engine: impl FnOnce(&mut [u8], usize, usize) -> Option<usize>) -> usize {
    let cap = data.len();
    let max = max_size.min(cap);
    let size = size.min(cap);
    if plan(setting, target, seed) == Plan::Engine {
        if let Some(n) = engine(data, size, max) {
            return n.min(max);
        }
    }
    let mut v = data.get(..size).unwrap_or_default().to_vec();
    let setting = if plan(setting, target, seed) == Plan::Engine { MutatorSetting::Diverge(MutatorKind::Havoc) } else { setting };
    mutate_vec_with(setting, target, &mut v, max, seed);
    let n = v.len().min(max);
    if let (Some(dst), Some(src)) = (data.get_mut(..n), v.get(..n)) {
        dst.copy_from_slice(src);
    }
    n
}

/// libFuzzer's `fuzz_crossover!` contract: combines `a` and `b` (inputs of `target`) into `out`,
/// returning the length written (at most `out.len()`). Deterministic for a given seed.
pub fn crossover(target: Target, a: &[u8], b: &[u8], out: &mut [u8], seed: u64) -> usize {
    let v = crossover_vec(target, a, b, out.len(), seed);
    let n = v.len().min(out.len());
    if let (Some(dst), Some(src)) = (out.get_mut(..n), v.get(..n)) {
        dst.copy_from_slice(src);
    }
    n
}

/// A child of `a` and `b`, at most `max_size` bytes. When both decode as `target`'s operation
/// (the targets with a structured mutator; the preset is `DIVERGE_PRESET`'s), the child is one of
/// them with fields of the other, under the state selector of either:
/// - `attestation`: the other's aggregation bits (a committee's length and subset), or its source
///   and target checkpoints, or its block root and signature;
/// - `attester_slashing`: one of the other's indexed attestations as the second (new double and
///   surround vote pairs), or the other's attesting indices in the first;
/// - `proposer_slashing`: one of the other's signed headers as the second;
/// - `voluntary_exit`: the other's validator index, or its epoch;
/// - `block_header`: the other's body, or its parent and state roots.
///
/// Otherwise an SSZ-aware splice: the first 2 bytes (the selector) and a head of `a`'s body, then
/// a tail of `b`'s body. Never panics; the same seed gives the same bytes.
pub fn crossover_vec(target: Target, a: &[u8], b: &[u8], max_size: usize, seed: u64) -> Vec<u8> {
    let mut rng = rng_for(seed);
    let fields = Kind::from_name(target.name()).and_then(|kind| match env_preset() {
        Preset::Minimal => cross_fields::<MinimalSpec>(kind, a, b, &mut rng),
        Preset::Mainnet => cross_fields::<MainnetSpec>(kind, a, b, &mut rng),
    });
    let mut out = fields.unwrap_or_else(|| splice(a, b, &mut rng));
    out.truncate(max_size);
    out
}

/// `[selector of a][a's body up to a cut][b's body from a cut]`; shorter inputs are joined whole.
fn splice(a: &[u8], b: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let head = a.len().min(2);
    let cut = rng.gen_range(head..=a.len().max(head));
    let from = if b.len() > 2 { rng.gen_range(2..=b.len()) } else { b.len() };
    let mut out = a.get(..cut).unwrap_or(a).to_vec();
    out.extend_from_slice(b.get(from..).unwrap_or_default());
    if out.len() == a.len() && out == a {
        // The cut kept all of `a`: append the other body whole so the child differs.
        out.extend_from_slice(b.get(head.min(b.len())..).unwrap_or_default());
    }
    out
}

fn cross_fields<E: EthSpec>(kind: Kind, a: &[u8], b: &[u8], rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let (sa, ba) = split(a)?;
    let (sb, bb) = split(b)?;
    let x = Op::<E>::decode(kind, ba)?;
    let y = Op::<E>::decode(kind, bb)?;
    let selector = if rng.gen_bool(0.5) { sa } else { sb };
    let op = match (x, y) {
        (Op::Attestation(mut x), Op::Attestation(y)) => {
            match rng.gen_range(0..3u8) {
                0 => x.aggregation_bits = y.aggregation_bits,
                1 => {
                    x.data.source = y.data.source;
                    x.data.target = y.data.target;
                }
                _ => {
                    x.data.beacon_block_root = y.data.beacon_block_root;
                    x.signature = y.signature;
                }
            }
            Op::Attestation(x)
        }
        (Op::AttesterSlashing(mut x), Op::AttesterSlashing(y)) => {
            match rng.gen_range(0..3u8) {
                0 => x.attestation_2 = y.attestation_1,
                1 => x.attestation_2 = y.attestation_2,
                _ => x.attestation_1.attesting_indices = y.attestation_1.attesting_indices,
            }
            Op::AttesterSlashing(x)
        }
        (Op::ProposerSlashing(mut x), Op::ProposerSlashing(y)) => {
            x.signed_header_2 = if rng.gen_bool(0.5) { y.signed_header_1 } else { y.signed_header_2 };
            Op::ProposerSlashing(x)
        }
        (Op::VoluntaryExit(mut x), Op::VoluntaryExit(y)) => {
            if rng.gen_bool(0.5) {
                x.message.validator_index = y.message.validator_index;
            } else {
                x.message.epoch = y.message.epoch;
            }
            Op::VoluntaryExit(x)
        }
        (Op::BlockHeader(mut x), Op::BlockHeader(y)) => {
            if rng.gen_bool(0.5) {
                x.body = y.body;
            } else {
                x.parent_root = y.parent_root;
                x.state_root = y.state_root;
            }
            Op::BlockHeader(x)
        }
        // Same kind on both sides: unreachable, but no panic.
        (x, _) => x,
    };
    Some(frame(selector, &op.encode()))
}

#[cfg(test)]
mod tests {
    use super::{plan, MutatorSetting, Plan};
    use crate::fuzz::structured::MutatorKind;
    use crate::target::Target;

    #[test]
    fn settings_parse_and_plan() {
        assert_eq!(MutatorSetting::parse("libfuzzer"), Ok(MutatorSetting::Engine));
        assert_eq!(MutatorSetting::parse("mixed"), Ok(MutatorSetting::Diverge(MutatorKind::Mixed)));
        assert!(MutatorSetting::parse("afl").unwrap_err().contains("libfuzzer, engine, havoc, structured, mixed"));
        // No structured mutator for `slots`: the engine's mutator under mixed and structured.
        for seed in 0..64 {
            assert_eq!(plan(MutatorSetting::Diverge(MutatorKind::Mixed), Target::Slots, seed), Plan::Engine);
            assert_eq!(plan(MutatorSetting::Diverge(MutatorKind::Structured), Target::Slots, seed), Plan::Engine);
            for t in [Target::Attestation, Target::Block, Target::Deposit, Target::DkgSequence, Target::DkgPacket] {
                assert_eq!(plan(MutatorSetting::Diverge(MutatorKind::Structured), t, seed), Plan::Structured, "{}", t.name());
            }
        }
        // Mixed splits attestation's calls between both, by seed.
        let structured = (0..1000).filter(|s| plan(MutatorSetting::Diverge(MutatorKind::Mixed), Target::Attestation, *s) == Plan::Structured).count();
        assert!((350..650).contains(&structured), "{structured}");
    }
}
