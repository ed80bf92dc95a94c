//! The differential runner (architecture.md §3–§4): one input → every registered implementation →
//! a verdict each → N-way comparison without a privileged implementation.
//!
//! The pool is prepared once per process per implementation; an execution clones a prepared state,
//! applies one operation and exports the post-state for structural comparison. `hash_tree_root`
//! is computed only for reports.

use crate::allowlist;
use crate::diff::{state_differences, FieldDiff};
use crate::policy::{self, Class, Judgement};
use crate::pool::StatePool;
use crate::registry::{visit_implementations, Visitor};
use crate::target::{self, DecodeError, Strictness, Target};
use diverge_types::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One implementation's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict<E: EthSpec> {
    /// Accepted, with the post-state.
    Valid(Box<BeaconState<E>>),
    /// Rejected, with the reason.
    Invalid(Reject),
    /// Panicked, with the message.
    Crash(String),
    /// Took longer than the per-case budget.
    Timeout,
}

impl<E: EthSpec> Verdict<E> {
    /// The verdict's kind for signatures: `valid`, the reject name (or `invalid` in outcome mode;
    /// `Internal` in both, since it never agrees), `crash`, `timeout`. Never contains numbers.
    pub fn kind(&self, strictness: Strictness) -> String {
        match self {
            Verdict::Valid(_) => "valid".to_string(),
            Verdict::Invalid(Reject::Internal) => Reject::Internal.name().to_string(),
            Verdict::Invalid(r) => match strictness {
                Strictness::Reason => r.name().to_string(),
                Strictness::Outcome => "invalid".to_string(),
            },
            Verdict::Crash(_) => "crash".to_string(),
            Verdict::Timeout => "timeout".to_string(),
        }
    }

    /// The verdict as the equivalence policy sees it ([`policy::Class`]).
    pub fn class(&self) -> Class<'static> {
        match self {
            Verdict::Valid(_) => Class::Accepted,
            Verdict::Invalid(Reject::Internal) => Class::Internal,
            Verdict::Invalid(r) => Class::Rejected(r.name()),
            Verdict::Crash(_) => Class::Crash,
            Verdict::Timeout => Class::Timeout,
        }
    }
}

/// A prepared implementation: its pool states built once, executions clone them.
pub trait PreparedImpl<E: EthSpec>: Send + Sync {
    /// Implementation name.
    fn name(&self) -> &'static str;
    /// Implementation version.
    fn version(&self) -> &'static str;
    /// Clones prepared state `id`, applies `op`, exports the post-state. `Err` is the rejection,
    /// including a failed `prepare` of that state.
    ///
    /// # Errors
    /// The rejection.
    fn execute(&self, id: usize, op: &Operation<E>, bls: BlsMode) -> Result<BeaconState<E>, Reject>;
}

struct Prepared<E: EthSpec, I: Phase0Impl<E>> {
    implementation: I,
    states: Vec<Result<I::State, Reject>>,
}

impl<E: EthSpec, I: Phase0Impl<E>> PreparedImpl<E> for Prepared<E, I> {
    fn name(&self) -> &'static str {
        self.implementation.name()
    }
    fn version(&self) -> &'static str {
        self.implementation.version()
    }
    fn execute(&self, id: usize, op: &Operation<E>, bls: BlsMode) -> Result<BeaconState<E>, Reject> {
        let prepared = self.states.get(id).ok_or(Reject::Internal)?.as_ref().map_err(|r| *r)?;
        let mut state = prepared.clone();
        self.implementation.apply(&mut state, op, bls)?;
        Ok(self.implementation.export_owned(state))
    }
}

/// Runner settings.
#[derive(Clone, Copy, Debug)]
pub struct RunnerConfig {
    /// BLS mode for every execution.
    pub bls: BlsMode,
    /// Per-implementation, per-execution time budget; a slower execution is a `Timeout`.
    pub timeout: Duration,
    /// Override of the target's default strictness.
    pub strictness: Option<Strictness>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig { bls: BlsMode::AssumeValid, timeout: Duration::from_secs(20), strictness: None }
    }
}

/// Every implementation with the prepared pool, for preset `E`.
pub struct Runner<E: EthSpec> {
    /// The pool.
    pub pool: Arc<StatePool<E>>,
    /// Prepared implementations, in registry order.
    pub implementations: Vec<Box<dyn PreparedImpl<E>>>,
    /// Settings.
    pub config: RunnerConfig,
}

/// One implementation's verdict in an execution.
#[derive(Clone, Debug)]
pub struct ImplVerdict<E: EthSpec> {
    /// Implementation name.
    pub name: &'static str,
    /// Implementation version.
    pub version: &'static str,
    /// The verdict.
    pub verdict: Verdict<E>,
}

/// A disagreement.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Divergence {
    /// `<target>: <implA>-vs-<implB>: <kindA>/<kindB>` ([`policy::signature`]).
    pub signature: String,
    /// Implementations in the largest agreeing group, when it is a strict majority of the groups.
    pub majority: Vec<String>,
    /// Every group of agreeing implementations.
    pub groups: Vec<Vec<String>>,
    /// The differing field the signature names, between two valid post-states: the first one that
    /// is not derived from others ([`crate::diff::cause`]).
    pub diff: Option<FieldDiff>,
    /// Every differing field of the two post-states (the first difference within each field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<FieldDiff>,
    /// The known upstream hazard this is ([`policy::KNOWN_HAZARDS`]), counted apart by triage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<Box<policy::KnownHazard>>,
}

/// The outcome of one input.
#[derive(Clone, Debug)]
pub enum Execution<E: EthSpec> {
    /// The input does not decode (rejected from the corpus).
    Undecodable(DecodeError),
    /// The selected pool state is unavailable (corrupt or missing file).
    StateUnavailable {
        /// The state id.
        id: usize,
        /// Why.
        reason: String,
    },
    /// Every implementation ran.
    Ran {
        /// Selected pool state id.
        state_id: usize,
        /// The verdicts, in registry order.
        verdicts: Vec<ImplVerdict<E>>,
        /// `None` when they agree.
        divergence: Option<Divergence>,
    },
}

impl<E: EthSpec> Runner<E> {
    /// Prepares every registered implementation over `pool` (once per process), then releases the
    /// pool's plain states.
    pub fn new(mut pool: StatePool<E>, config: RunnerConfig) -> Self {
        struct Prep<'a, E: EthSpec> {
            pool: &'a StatePool<E>,
            out: Vec<Box<dyn PreparedImpl<E>>>,
        }
        impl<E: EthSpec> Visitor<E> for Prep<'_, E> {
            fn visit<I: Phase0Impl<E> + 'static>(&mut self, implementation: I) {
                let states = self
                    .pool
                    .states
                    .iter()
                    .map(|s| match s {
                        Ok(Some(state)) => crate::panics::catch(|| implementation.prepare(state)).unwrap_or(Err(Reject::Internal)),
                        Ok(None) | Err(_) => Err(Reject::Internal),
                    })
                    .collect();
                self.out.push(Box::new(Prepared { implementation, states }));
            }
        }
        let mut prep = Prep { pool: &pool, out: Vec::new() };
        visit_implementations(&mut prep);
        let implementations = prep.out;
        pool.release();
        Runner { pool: Arc::new(pool), implementations, config }
    }

    /// Runs `data` as an input of `target` through every implementation and compares.
    pub fn run(&self, target: Target, data: &[u8]) -> Execution<E> {
        let decoded = match target::decode::<E>(target, data) {
            Ok(d) => d,
            Err(e) => return Execution::Undecodable(e),
        };
        let id = self.pool.select(decoded.selector);
        if let Err(reason) = self.pool.available(id) {
            return Execution::StateUnavailable { id, reason };
        }
        let verdicts: Vec<ImplVerdict<E>> = self
            .implementations
            .iter()
            .map(|imp| {
                let start = Instant::now();
                crate::supervisor::enter(imp.name());
                let result = crate::panics::catch(|| imp.execute(id, &decoded.operation, self.config.bls));
                crate::supervisor::leave();
                let verdict = match result {
                    _ if start.elapsed() > self.config.timeout => Verdict::Timeout,
                    Ok(Ok(post)) => Verdict::Valid(Box::new(post)),
                    Ok(Err(reason)) => Verdict::Invalid(reason),
                    Err(payload) => Verdict::Crash(crate::panics::message(payload.as_ref())),
                };
                ImplVerdict { name: imp.name(), version: imp.version(), verdict }
            })
            .collect();
        let strictness = self.config.strictness.unwrap_or(target.strictness());
        let divergence = compare(target, strictness, &verdicts);
        Execution::Ran { state_id: id, verdicts, divergence }
    }
}

/// Whether two verdicts agree under the one policy ([`policy::judge`]); the phase0 allowlist is
/// consulted for two differing rejections only.
fn equivalent<E: EthSpec>(target: Target, strictness: Strictness, a: &ImplVerdict<E>, b: &ImplVerdict<E>) -> bool {
    let same_result = || match (&a.verdict, &b.verdict) {
        (Verdict::Valid(x), Verdict::Valid(y)) => x == y,
        _ => false,
    };
    let allowed = || match (&a.verdict, &b.verdict) {
        (Verdict::Invalid(x), Verdict::Invalid(y)) => allowlist::allowed(target, (a.name, *x), (b.name, *y)),
        _ => None,
    };
    !matches!(policy::judge(a.verdict.class(), b.verdict.class(), strictness, same_result, allowed), Judgement::Differ)
}

/// N-way comparison: groups agreeing implementations; `None` when there is one group. A verdict
/// that never agrees (crash, timeout, `Internal`) is a group of its own, so one such verdict
/// anywhere is a divergence even when every implementation has it.
pub fn compare<E: EthSpec>(target: Target, strictness: Strictness, verdicts: &[ImplVerdict<E>]) -> Option<Divergence> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, v) in verdicts.iter().enumerate() {
        match groups.iter_mut().find(|g| g.first().and_then(|&r| verdicts.get(r)).is_some_and(|rep| equivalent(target, strictness, rep, v))) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    if groups.len() <= 1 {
        return None;
    }
    let largest = groups.iter().map(Vec::len).max().unwrap_or(0);
    let majority_group = (groups.iter().filter(|g| g.len() == largest).count() == 1).then(|| groups.iter().find(|g| g.len() == largest)).flatten();
    // The pair named in the signature: the majority (or first) group against the first other group,
    // each side by its first member in registry order.
    let first = majority_group.or(groups.first())?;
    let other = groups.iter().find(|g| !std::ptr::eq(*g, first))?;
    let (ia, ib) = {
        let (x, y) = (*first.first()?, *other.first()?);
        (x.min(y), x.max(y))
    };
    let (a, b) = (verdicts.get(ia)?, verdicts.get(ib)?);
    let diffs = match (&a.verdict, &b.verdict) {
        (Verdict::Valid(x), Verdict::Valid(y)) => state_differences(x, y),
        _ => Vec::new(),
    };
    let diff = crate::diff::cause(&diffs).cloned();
    let (ka, kb) = (a.verdict.kind(strictness), b.verdict.kind(strictness));
    let mut signature = policy::signature(target.name(), (a.name, a.verdict.class(), &ka), (b.name, b.verdict.class(), &kb));
    if let Some(d) = &diff {
        signature.push('@');
        signature.push_str(&strip_numbers(&d.path));
    }
    let names = |g: &Vec<usize>| g.iter().filter_map(|&i| verdicts.get(i)).map(|v| v.name.to_string()).collect::<Vec<_>>();
    Some(Divergence { signature, majority: majority_group.map(names).unwrap_or_default(), groups: groups.iter().map(names).collect(), diff, diffs, known: None })
}

pub use crate::policy::strip_numbers;

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &'static str, verdict: Verdict<MinimalSpec>) -> ImplVerdict<MinimalSpec> {
        ImplVerdict { name, version: "0", verdict }
    }

    #[test]
    fn agreement_and_reason_strictness() {
        let same = [v("spec", Verdict::Invalid(Reject::AttestationTooEarly)), v("fast", Verdict::Invalid(Reject::AttestationTooEarly))];
        assert_eq!(compare(Target::Attestation, Strictness::Reason, &same), None);
        let differ = [v("spec", Verdict::Invalid(Reject::AttestationTooEarly)), v("fast", Verdict::Invalid(Reject::CommitteeIndexOutOfRange))];
        let d = compare(Target::Attestation, Strictness::Reason, &differ).unwrap();
        assert_eq!(d.signature, "attestation: spec-vs-fast: AttestationTooEarly/CommitteeIndexOutOfRange");
        assert!(d.majority.is_empty());
        assert_eq!(compare(Target::Block, Strictness::Outcome, &differ), None);
    }

    #[test]
    fn alike_failures_are_findings_named_as_such() {
        let both = |x: Verdict<MinimalSpec>| [v("spec", x.clone()), v("fast", x)];
        for strictness in [Strictness::Reason, Strictness::Outcome] {
            let d = compare(Target::Attestation, strictness, &both(Verdict::Crash("attempt to subtract with overflow".into()))).unwrap();
            assert_eq!(d.signature, "attestation: spec+fast: crash/crash");
            assert!(d.majority.is_empty());
            let d = compare(Target::Block, strictness, &both(Verdict::Timeout)).unwrap();
            assert_eq!(d.signature, "block: spec+fast: timeout/timeout");
            let d = compare(Target::Deposit, strictness, &both(Verdict::Invalid(Reject::Internal))).unwrap();
            assert_eq!(d.signature, "deposit: spec+fast: Internal/Internal");
            // Internal against an ordinary rejection is a disagreement even under outcome strictness.
            let mixed = [v("spec", Verdict::Invalid(Reject::Internal)), v("fast", Verdict::Invalid(Reject::AttestationTooEarly))];
            let d = compare(Target::Block, strictness, &mixed).unwrap();
            assert!(d.signature.starts_with("block: spec-vs-fast: Internal/"), "{}", d.signature);
        }
        // Two ordinary rejections still agree under outcome strictness.
        let plain = [v("spec", Verdict::Invalid(Reject::AttestationTooEarly)), v("fast", Verdict::Invalid(Reject::CommitteeIndexOutOfRange))];
        assert_eq!(compare(Target::Block, Strictness::Outcome, &plain), None);
    }

    #[test]
    fn majority_is_named_and_signature_has_no_numbers() {
        let verdicts = [v("a", Verdict::Crash("index 17 out of range".into())), v("b", Verdict::Invalid(Reject::IndexedAttestationEmpty)), v("c", Verdict::Invalid(Reject::IndexedAttestationEmpty))];
        let d = compare(Target::AttesterSlashing, Strictness::Reason, &verdicts).unwrap();
        assert_eq!(d.majority, vec!["b", "c"]);
        assert_eq!(d.signature, "attester_slashing: a-vs-b: crash/IndexedAttestationEmpty");
        assert_eq!(d.groups.len(), 2);
        assert_eq!(strip_numbers("validators[17].slashed"), "validators[].slashed");
    }
}
