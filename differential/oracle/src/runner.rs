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
use crate::voter::{ExternalVoter, Vote};
use diverge_types::bls;
use diverge_types::ssz::Decode;
use diverge_types::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One implementation's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict<E: EthSpec> {
    /// Accepted, with the post-state.
    Valid(Box<BeaconState<E>>),
    /// Accepted, with the post-state known by its `hash_tree_root` only (an external voter,
    /// [`crate::voter::Vote::Valid`]).
    ValidRoot(Root),
    /// Rejected, with the reason.
    Invalid(Reject),
    /// Rejected with a message and no reason of the taxonomy (an external voter whose errors do
    /// not map exactly): agrees with any rejection but `Internal`, whatever the strictness.
    InvalidUntyped(String),
    /// Panicked, with the message.
    Crash(String),
    /// Took longer than the per-case budget.
    Timeout,
    /// Did not vote, with the reason ([`crate::voter::Vote::Abstain`]): left out of the comparison.
    Abstain(String),
}

impl<E: EthSpec> Verdict<E> {
    /// The verdict's kind for signatures: `valid`, the reject name (or `invalid` in outcome mode;
    /// `Internal` in both, since it never agrees), `crash`, `timeout`. Never contains numbers.
    pub fn kind(&self, strictness: Strictness) -> String {
        match self {
            Verdict::Valid(_) | Verdict::ValidRoot(_) => "valid".to_string(),
            Verdict::InvalidUntyped(_) => "invalid".to_string(),
            Verdict::Abstain(_) => "abstain".to_string(),
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
            Verdict::Valid(_) | Verdict::ValidRoot(_) => Class::Accepted,
            Verdict::InvalidUntyped(_) => Class::Rejected("invalid"),
            // Never compared (the runner leaves abstentions out); as a class, it agrees with nothing.
            Verdict::Abstain(_) => Class::Internal,
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
    /// Clones prepared state `id`, applies `blocks` in order ([`Phase0Impl::apply_chain`]), exports
    /// the post-state. A failed `prepare` is block 0's rejection.
    ///
    /// # Errors
    /// The first rejecting block and its reason.
    fn execute_chain(&self, id: usize, blocks: &[SignedBeaconBlock<E>], validate_result: bool, bls: BlsMode) -> Result<BeaconState<E>, ChainRejection>;
}

struct Prepared<E: EthSpec, I: Phase0Impl<E>> {
    implementation: I,
    states: Vec<Result<I::State, Reject>>,
    /// [`RunnerConfig::batch_seed`], set as the thread's batch seed around every `apply`.
    batch_seed: bls::BatchSeed,
    /// [`RunnerConfig::paranoid`].
    paranoid: bool,
    /// [`RunnerConfig::paranoid_one_in`].
    paranoid_one_in: u32,
    /// Executions so far, for the sampled paranoid check.
    executions: std::sync::atomic::AtomicU32,
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
        bls::with_batch_seed(self.batch_seed, || self.implementation.apply(&mut state, op, bls))?;
        self.export(state)
    }
    fn execute_chain(&self, id: usize, blocks: &[SignedBeaconBlock<E>], validate_result: bool, bls: BlsMode) -> Result<BeaconState<E>, ChainRejection> {
        let at_first = |reason| ChainRejection { index: 0, reason };
        let prepared = self.states.get(id).ok_or(at_first(Reject::Internal))?.as_ref().map_err(|r| at_first(*r))?;
        let mut state = prepared.clone();
        bls::with_batch_seed(self.batch_seed, || self.implementation.apply_chain(&mut state, blocks, validate_result, bls))?;
        // A paranoid mismatch is found after the last block: it is charged to that block.
        let last = blocks.len().saturating_sub(1);
        self.export(state).map_err(|reason| ChainRejection { index: last, reason })
    }
}

impl<E: EthSpec, I: Phase0Impl<E>> Prepared<E, I> {
    /// The post-state the runner compares ([`PreparedImpl::execute`]), cross-checked in paranoid mode.
    fn export(&self, state: I::State) -> Result<BeaconState<E>, Reject> {
        let sampled = self.paranoid_one_in > 0 && self.executions.fetch_add(1, std::sync::atomic::Ordering::Relaxed).is_multiple_of(self.paranoid_one_in);
        if !self.paranoid && !sampled {
            return Ok(self.implementation.export_owned(state));
        }
        paranoid_export(&self.implementation, state).map_err(|diff| {
            record_paranoid_mismatch(ParanoidMismatch { implementation: self.name().to_string(), diff });
            Reject::Internal
        })
    }
}

/// A paranoid-mode finding: an implementation's shared export (`export_owned`, what the runner
/// compares) differs from its full copy (`export`) of the same post-state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParanoidMismatch {
    /// The implementation.
    pub implementation: String,
    /// First difference: `left` is the shared export, `right` the full copy.
    pub diff: FieldDiff,
}

impl ParanoidMismatch {
    /// Prefix of [`ParanoidMismatch::message`], by which a recorded verdict is recognised.
    pub const PREFIX: &'static str = "paranoid: shared export differs from the full copy at ";

    /// The line recorded as the `Internal` verdict's message in findings and replays.
    pub fn message(&self) -> String {
        format!("{}{}", Self::PREFIX, self.diff)
    }
}

/// The post-state as the runner compares it, cross-checked (paranoid mode): the shared export
/// (`export_owned`, which reuses fields it believes unchanged since `prepare`) must equal the full
/// copy (`export`). A shared field that is stale would otherwise hide a post-state difference.
///
/// # Errors
/// The first differing field (`left` shared, `right` full) when they differ.
pub fn paranoid_export<E: EthSpec, I: Phase0Impl<E>>(implementation: &I, state: I::State) -> Result<BeaconState<E>, FieldDiff> {
    let full = implementation.export(&state);
    let shared = implementation.export_owned(state);
    if shared == full {
        return Ok(shared);
    }
    Err(crate::diff::first_state_difference(&shared, &full)
        .unwrap_or_else(|| FieldDiff { path: "<state>".into(), left: "shared export".into(), right: "full copy".into() }))
}

// Paranoid mismatches of the executions on this thread, one per implementation, until taken: the
// verdict itself is `Invalid(Reject::Internal)` (the runner's verdict type carries no message), and
// the session attaches this detail to the recorded verdict.
thread_local! {
    static PARANOID_MISMATCHES: std::cell::RefCell<Vec<ParanoidMismatch>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn record_paranoid_mismatch(m: ParanoidMismatch) {
    PARANOID_MISMATCHES.with(|all| {
        let mut all = all.borrow_mut();
        all.retain(|x| x.implementation != m.implementation);
        all.push(m);
    });
}

/// The paranoid mismatches recorded on this thread since the last call (at most one per
/// implementation, the latest), clearing them.
pub fn take_paranoid_mismatches() -> Vec<ParanoidMismatch> {
    PARANOID_MISMATCHES.with(|all| std::mem::take(&mut *all.borrow_mut()))
}

/// Paranoid mode's detail in the record: each implementation's `Internal` verdict that came from a
/// shared-export mismatch gets [`ParanoidMismatch::message`] as its message.
pub fn attach_paranoid_messages(recorded: &mut [crate::record::RecordedVerdict], mismatches: &[ParanoidMismatch]) {
    for m in mismatches {
        let internal = Some(Reject::Internal.name());
        if let Some(r) = recorded.iter_mut().find(|r| r.implementation == m.implementation && r.reason.as_deref() == internal) {
            r.message = Some(m.message());
        }
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
    /// The run's secret seed for batch verification's random scalars ([`bls::batch_scalars`]):
    /// every execution's scalars derive from it and the batch, so a replay with the same seed is
    /// exact. Recorded in findings (`batch_seed`). Default: [`bls::process_batch_seed`].
    pub batch_seed: bls::BatchSeed,
    /// Paranoid mode: every execution also exports a full copy of the post-state and compares it
    /// with the shared export; a difference is the verdict `Invalid(Reject::Internal)`, with the
    /// field in the recorded verdict's message ([`ParanoidMismatch`]). Costs a full state copy.
    pub paranoid: bool,
    /// The paranoid check on a sample: every `paranoid_one_in`-th export of each implementation
    /// (0: none; 1: every one, as `paranoid`). Campaigns sample by default
    /// ([`PARANOID_ONE_IN_DEFAULT`]) so a stale cached root in a shared export cannot hide a
    /// difference for a whole run.
    pub paranoid_one_in: u32,
}

/// The campaigns' default share of paranoid exports: one in 64, about 1 % of throughput on block
/// and attestation (README, `diverge fuzz --paranoid-one-in`).
pub const PARANOID_ONE_IN_DEFAULT: u32 = 64;

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            bls: BlsMode::AssumeValid,
            timeout: Duration::from_secs(20),
            strictness: None,
            batch_seed: bls::process_batch_seed(),
            paranoid: false,
            paranoid_one_in: 0,
        }
    }
}

/// Every implementation with the prepared pool, for preset `E`.
pub struct Runner<E: EthSpec> {
    /// The pool.
    pub pool: Arc<StatePool<E>>,
    /// Prepared implementations, in registry order.
    pub implementations: Vec<Box<dyn PreparedImpl<E>>>,
    /// External voters ([`crate::voter`]), asked after the in-process ones, in this order.
    pub external: Vec<Box<dyn ExternalVoter>>,
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
    /// `chain`: the index of the block that was rejected (with `Invalid`); `None` otherwise. Two
    /// rejections of a chain agree only at the same block.
    pub rejected_block: Option<usize>,
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
            config: RunnerConfig,
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
                let (batch_seed, paranoid, paranoid_one_in) = (self.config.batch_seed, self.config.paranoid, self.config.paranoid_one_in);
                self.out.push(Box::new(Prepared { implementation, states, batch_seed, paranoid, paranoid_one_in, executions: std::sync::atomic::AtomicU32::new(0) }));
            }
        }
        let mut prep = Prep { pool: &pool, config, out: Vec::new() };
        visit_implementations(&mut prep);
        let implementations = prep.out;
        pool.release();
        Runner { pool: Arc::new(pool), implementations, external: Vec::new(), config }
    }

    /// Adds external voters ([`crate::voter`]), asked after the in-process implementations.
    #[must_use]
    pub fn with_external(mut self, voters: Vec<Box<dyn ExternalVoter>>) -> Self {
        self.external = voters;
        self
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
        let mut verdicts: Vec<ImplVerdict<E>> = self
            .implementations
            .iter()
            .map(|imp| {
                let start = Instant::now();
                crate::hooks::enter(imp.name());
                let result = crate::panics::catch(|| match &decoded.operation {
                    Operation::Chain { blocks, validate_result } => {
                        imp.execute_chain(id, blocks, *validate_result, self.config.bls).map_err(|c| (c.reason, Some(c.index)))
                    }
                    op => imp.execute(id, op, self.config.bls).map_err(|r| (r, None)),
                });
                crate::hooks::leave();
                let (verdict, rejected_block) = match result {
                    _ if start.elapsed() > self.config.timeout => (Verdict::Timeout, None),
                    Ok(Ok(post)) => (Verdict::Valid(Box::new(post)), None),
                    Ok(Err((reason, block))) => (Verdict::Invalid(reason), block),
                    Err(payload) => (Verdict::Crash(crate::panics::message(payload.as_ref())), None),
                };
                ImplVerdict { name: imp.name(), version: imp.version(), verdict, rejected_block }
            })
            .collect();
        for voter in &self.external {
            crate::hooks::enter(voter.name());
            let vote = crate::panics::catch(|| voter.vote(target, id, data, self.config.bls));
            crate::hooks::leave();
            let verdict = match vote {
                Ok(Vote::Valid { root }) => {
                    // A root that differs from a typed post-state's: ask for the bytes, so the
                    // comparison names the field (a root that agrees never costs the transfer).
                    let typed = verdicts.iter().find_map(|v| match &v.verdict {
                        Verdict::Valid(post) => Some(post.tree_hash_root()),
                        _ => None,
                    });
                    match typed {
                        Some(r) if r != root => match voter.post_state().and_then(|b| BeaconState::<E>::from_ssz_bytes(&b).ok()) {
                            Some(post) if post.tree_hash_root() == root => Verdict::Valid(Box::new(post)),
                            _ => Verdict::ValidRoot(root),
                        },
                        _ => Verdict::ValidRoot(root),
                    }
                }
                Ok(Vote::Invalid { reason: Some(r), .. }) => Verdict::Invalid(r),
                Ok(Vote::Invalid { reason: None, message }) => Verdict::InvalidUntyped(message),
                Ok(Vote::Crash(m)) => Verdict::Crash(m),
                Ok(Vote::Timeout) => Verdict::Timeout,
                Ok(Vote::Abstain(why)) => Verdict::Abstain(why),
                Err(payload) => Verdict::Crash(crate::panics::message(payload.as_ref())),
            };
            verdicts.push(ImplVerdict { name: voter.name(), version: voter.version(), verdict, rejected_block: None });
        }
        let strictness = self.config.strictness.unwrap_or(target.strictness());
        let divergence = compare(target, strictness, &verdicts);
        Execution::Ran { state_id: id, verdicts, divergence }
    }
}

/// Whether two verdicts agree under the one policy ([`policy::judge`]); the phase0 allowlist is
/// consulted for two differing rejections only.
fn equivalent<E: EthSpec>(target: Target, strictness: Strictness, a: &ImplVerdict<E>, b: &ImplVerdict<E>) -> bool {
    if a.rejected_block != b.rejected_block {
        // `chain`: a rejection at another block is another verdict, whatever the strictness.
        return false;
    }
    let same_result = || match (&a.verdict, &b.verdict) {
        (Verdict::Valid(x), Verdict::Valid(y)) => x == y,
        (Verdict::Valid(x), Verdict::ValidRoot(r)) | (Verdict::ValidRoot(r), Verdict::Valid(x)) => x.tree_hash_root() == *r,
        (Verdict::ValidRoot(x), Verdict::ValidRoot(y)) => x == y,
        _ => false,
    };
    // A rejection without a reason of the taxonomy compares at outcome level.
    let untyped = matches!(a.verdict, Verdict::InvalidUntyped(_)) || matches!(b.verdict, Verdict::InvalidUntyped(_));
    let strictness = if untyped { Strictness::Outcome } else { strictness };
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
    // Abstentions are recorded, never compared.
    for (i, v) in verdicts.iter().enumerate().filter(|(_, v)| !matches!(v.verdict, Verdict::Abstain(_))) {
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
        (Verdict::Valid(_) | Verdict::ValidRoot(_), Verdict::Valid(_) | Verdict::ValidRoot(_)) => {
            let root = |v: &Verdict<E>| match v {
                Verdict::Valid(post) => format!("{:#x}", post.tree_hash_root()),
                Verdict::ValidRoot(r) => format!("{r:#x}"),
                _ => String::new(),
            };
            vec![FieldDiff { path: POST_STATE_ROOT.to_string(), left: root(&a.verdict), right: root(&b.verdict) }]
        }
        (Verdict::Invalid(_), Verdict::Invalid(_)) if a.rejected_block != b.rejected_block => vec![FieldDiff {
            path: REJECTED_BLOCK.to_string(),
            left: format!("{:?}", a.rejected_block),
            right: format!("{:?}", b.rejected_block),
        }],
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

/// The "field" a divergence names when a voter gave only its post-state root and the roots differ
/// (the voter could not give the post-state bytes that would name the field).
pub const POST_STATE_ROOT: &str = "post_state_root";

/// The "field" a `chain` divergence names when both implementations reject the chain at different
/// blocks: `chain: spec-vs-fast: invalid/invalid@rejected_block`.
pub const REJECTED_BLOCK: &str = "rejected_block";

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &'static str, verdict: Verdict<MinimalSpec>) -> ImplVerdict<MinimalSpec> {
        ImplVerdict { name, version: "0", verdict, rejected_block: None }
    }

    #[test]
    fn chain_rejections_agree_only_at_the_same_block() {
        let at = |name, r, block| ImplVerdict::<MinimalSpec> { name, version: "0", verdict: Verdict::Invalid(r), rejected_block: Some(block) };
        let same = [at("spec", Reject::StateRootMismatch, 2), at("fast", Reject::InvalidBlockSignature, 2)];
        assert_eq!(compare(Target::Chain, Strictness::Outcome, &same), None, "outcome strictness, same block");
        let other = [at("spec", Reject::StateRootMismatch, 1), at("fast", Reject::StateRootMismatch, 2)];
        let d = compare(Target::Chain, Strictness::Outcome, &other).unwrap();
        assert_eq!(d.signature, "chain: spec-vs-fast: invalid/invalid@rejected_block");
        assert_eq!(d.diff.as_ref().map(|f| (f.left.as_str(), f.right.as_str())), Some(("Some(1)", "Some(2)")));
        let d = compare(Target::Chain, Strictness::Reason, &other).unwrap();
        assert_eq!(d.signature, "chain: spec-vs-fast: StateRootMismatch/StateRootMismatch@rejected_block");
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

/// The paranoid check inside [`Prepared::execute`] (kept apart from the comparison tests above).
#[cfg(test)]
mod paranoid_tests {
    use super::*;
    use diverge_fast::state::FastState;
    use diverge_fast::FastImpl;

    type E = MinimalSpec;

    /// diverge-fast with a bug injected into its shared export only: `corrupt` edits what
    /// `export_owned` returns (the full copy, `export`, stays right), as a stale cached root would.
    struct CorruptExport {
        name: &'static str,
        corrupt: fn(&FastState<E>, &mut BeaconState<E>),
    }

    /// `balances` always taken from the prepared base, as if its cached root still equalled the base's.
    const STALE_BALANCES: CorruptExport = CorruptExport {
        name: "stale",
        corrupt: |state, out| {
            if let Some(base) = &state.base {
                out.balances = base.balances.clone();
            }
        },
    };

    /// Off by one slot on every execution.
    const WRONG_SLOT: CorruptExport = CorruptExport { name: "wrong-slot", corrupt: |_, out| out.slot = out.slot.wrapping_add(1) };

    impl Phase0Impl<E> for CorruptExport {
        type State = FastState<E>;
        fn name(&self) -> &'static str {
            self.name
        }
        fn version(&self) -> &'static str {
            "test"
        }
        fn prepare(&self, state: &BeaconState<E>) -> Result<FastState<E>, Reject> {
            FastImpl.prepare(state)
        }
        fn export(&self, state: &FastState<E>) -> BeaconState<E> {
            Phase0Impl::<E>::export(&FastImpl, state)
        }
        fn export_owned(&self, state: FastState<E>) -> BeaconState<E> {
            let before = state.clone();
            let mut out = FastImpl.export_owned(state);
            (self.corrupt)(&before, &mut out);
            out
        }
        fn apply(&self, state: &mut FastState<E>, op: &Operation<E>, bls: BlsMode) -> Result<(), Reject> {
            FastImpl.apply(state, op, bls)
        }
        fn compute_shuffled_index(&self, index: u64, index_count: u64, seed: &Root) -> Result<u64, Reject> {
            Phase0Impl::<E>::compute_shuffled_index(&FastImpl, index, index_count, seed)
        }
        fn get_rewards_deltas(&self, state: &FastState<E>) -> Result<RewardsDeltas, Reject> {
            FastImpl.get_rewards_deltas(state)
        }
        fn initialize_beacon_state_from_eth1(&self, h: Root, t: u64, d: &[Deposit]) -> Result<BeaconState<E>, Reject> {
            FastImpl.initialize_beacon_state_from_eth1(h, t, d)
        }
        fn is_valid_genesis_state(&self, state: &BeaconState<E>) -> Result<bool, Reject> {
            Phase0Impl::<E>::is_valid_genesis_state(&FastImpl, state)
        }
    }

    fn prepared<I: Phase0Impl<E>>(implementation: I, pre: &BeaconState<E>, paranoid: bool) -> Prepared<E, I> {
        sampled(implementation, pre, paranoid, 0)
    }

    fn sampled<I: Phase0Impl<E>>(implementation: I, pre: &BeaconState<E>, paranoid: bool, paranoid_one_in: u32) -> Prepared<E, I> {
        let states = vec![implementation.prepare(pre)];
        Prepared { implementation, states, batch_seed: [7; 32], paranoid, paranoid_one_in, executions: std::sync::atomic::AtomicU32::new(0) }
    }

    /// Issue 21 item 6: with the sampled check, one execution in `paranoid_one_in` is cross-checked,
    /// so a stale shared field is caught in a campaign that never asked for `--paranoid`.
    #[test]
    fn the_sampled_paranoid_check_catches_a_stale_field_one_execution_in_n() {
        let case = diverge_test_vectors::require().join("minimal/phase0/sanity/blocks/pyspec_tests/attestation/pre.ssz_snappy");
        let pre = crate::files::read_ssz::<BeaconState<E>>(&case).unwrap();
        let op = Operation::Slots(2 * <E as EthSpec>::SLOTS_PER_EPOCH);
        let _ = take_paranoid_mismatches();
        let stale = sampled(WRONG_SLOT, &pre, false, 3);
        let results: Vec<_> = (0..7).map(|_| stale.execute(0, &op, BlsMode::AssumeValid).map(|s| s.slot)).collect();
        let internal: Vec<_> = results.iter().filter(|r| **r == Err(Reject::Internal)).collect();
        assert_eq!(internal.len(), 3, "executions 0, 3 and 6 of 7 are checked");
        assert_eq!(take_paranoid_mismatches().len(), 1, "one mismatch kept per implementation, the latest");
        // A correct implementation passes every sampled check.
        let fast = sampled(FastImpl, &pre, false, 1);
        assert!((0..3).all(|_| fast.execute(0, &op, BlsMode::AssumeValid).is_ok()));
        assert!(take_paranoid_mismatches().is_empty());
    }

    #[test]
    fn paranoid_execute_reports_a_stale_shared_field_as_internal_and_names_it() {
        let case = diverge_test_vectors::require().join("minimal/phase0/sanity/blocks/pyspec_tests/attestation/pre.ssz_snappy");
        let pre = crate::files::read_ssz::<BeaconState<E>>(&case).unwrap();
        // Two epochs of slots: the second epoch transition applies penalties, so balances change.
        let op = Operation::Slots(2 * <E as EthSpec>::SLOTS_PER_EPOCH);
        let truth = prepared(FastImpl, &pre, false).execute(0, &op, BlsMode::AssumeValid).unwrap();
        assert_ne!(*truth.balances, *pre.balances, "the operation must change balances");
        let _ = take_paranoid_mismatches();

        // Without the check the stale field passes as a valid post-state with the old balances.
        let hidden = prepared(STALE_BALANCES, &pre, false).execute(0, &op, BlsMode::AssumeValid).unwrap();
        assert_eq!(*hidden.balances, *pre.balances);
        assert!(take_paranoid_mismatches().is_empty());

        // With it: `Internal`, and the mismatch names the field.
        assert_eq!(prepared(STALE_BALANCES, &pre, true).execute(0, &op, BlsMode::AssumeValid), Err(Reject::Internal));
        let found = take_paranoid_mismatches();
        assert_eq!(found.len(), 1, "{found:?}");
        let m = found.first().unwrap();
        assert_eq!(m.implementation, "stale");
        assert!(m.diff.path.starts_with("balances"), "{}", m.diff);
        assert!(m.message().starts_with(ParanoidMismatch::PREFIX) && m.message().contains("balances"), "{}", m.message());
        assert!(take_paranoid_mismatches().is_empty(), "taking clears them");

        // Recorded (finding.json, replay): the `Internal` verdict carries the field.
        let live = [
            ImplVerdict::<E> { name: "fast", version: "0", verdict: Verdict::Valid(Box::new(truth.clone())), rejected_block: None },
            ImplVerdict::<E> { name: "stale", version: "0", verdict: Verdict::Invalid(Reject::Internal), rejected_block: None },
        ];
        let mut recorded: Vec<_> = live.iter().map(|v| crate::record::RecordedVerdict::record(v, false)).collect();
        attach_paranoid_messages(&mut recorded, &found);
        assert_eq!(recorded.first().unwrap().message, None);
        assert_eq!(recorded.get(1).unwrap().message.as_deref(), Some(m.message().as_str()));

        // The real implementation passes the same check with the same post-state.
        assert_eq!(prepared(FastImpl, &pre, true).execute(0, &op, BlsMode::AssumeValid).unwrap(), truth);
        assert!(take_paranoid_mismatches().is_empty());
    }
}
