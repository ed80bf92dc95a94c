//! The network targets (issue 15, architecture.md §12): `p2p_announce` (NEAR's account
//! announcements), `p2p_session_cache` (Spacemesh's UDP session cache) and `p2p_stream_setup`
//! (Harmony's stream setup and discovery).
//!
//! An input is a schedule (`p2p_types::schedule`: `[nodes][config][steps]`, every byte string
//! decodes). The runner builds one deterministic [`Sim`] per implementation (`p2p-port`'s
//! [`Port`], `p2p-model`'s [`Model`], through [`P2pImpl`]) and steps them in lockstep. After every
//! step it checks each implementation's [`oracles`] and compares the implementations: the number
//! of messages the step sent, each node's liveness and each node's observation. After the
//! schedule each network is drained (`Properties::drain_budget`) and must go quiet, converge and
//! stay live.
//!
//! What is reported (one finding per input):
//! 1. a `Fault` of either implementation at once (`<target>: <impl>: crash`, also when both
//!    have it: implementations must not crash);
//! 2. else the first oracle violation, in step order, port's before model's
//!    (`<target>: <impl>: <oracle>`, [`oracles::ORACLES`]);
//! 3. else the first disagreement (`<target>: <a>-vs-<b>: <what>`, `what` = `sent`, `live` or
//!    the first differing field of the observation).
//!
//! Oracle violations outrank an earlier disagreement: a storm first shows as a difference in the
//! messages sent, but what it is, is the amplification the oracle names.

pub mod oracles;

use oracles::Violation;
use p2p_model::Model;
use p2p_port::Port;
use p2p_types::schedule::{self, Component, Schedule, Step};
use p2p_types::sim::{Limits, Sim, Stats};
use p2p_types::{announce, session_cache, stream_setup, Millis, Node, NodeId, P2pImpl, Properties};
use std::hash::{Hash, Hasher};

/// What one implementation's network did, recorded in findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImplStats {
    /// Implementation name.
    pub implementation: String,
    /// Messages sent over the run (drain included).
    pub sent: u64,
    /// Messages sent per node, by id.
    pub sent_by: Vec<u64>,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages dropped.
    pub dropped: u64,
    /// External events (commands to live nodes, joins, leaves).
    pub external_events: u64,
    /// Timer firings.
    pub timer_fires: u64,
    /// Virtual time at the end, ms.
    pub virtual_ms: Millis,
}

impl ImplStats {
    fn of(name: &str, stats: &Stats, now: Millis) -> Self {
        ImplStats {
            implementation: name.to_string(),
            sent: stats.sent,
            sent_by: stats.sent_by.clone(),
            delivered: stats.delivered,
            dropped: stats.dropped,
            external_events: stats.external_events,
            timer_fires: stats.timer_fires,
            virtual_ms: now,
        }
    }

    /// One line for people and findings: `sent 12 (per node [4, 4, 4]), delivered ..`.
    pub fn line(&self) -> String {
        format!(
            "sent {} (per node {:?}), delivered {}, dropped {}, external events {}, timer firings {}, virtual time {} ms",
            self.sent, self.sent_by, self.delivered, self.dropped, self.external_events, self.timer_fires, self.virtual_ms
        )
    }
}

/// Where a finding happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// While the network started (every node's `on_start`).
    Start,
    /// At this schedule step (index into the decoded steps).
    Step(usize),
    /// During or after the drain that follows the schedule.
    Drain,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Start => f.write_str("start"),
            At::Step(i) => write!(f, "step {i}"),
            At::Drain => f.write_str("drain"),
        }
    }
}

/// A finding of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct P2pFinding {
    /// The stable signature (no numbers).
    pub signature: String,
    /// The implementation an oracle names, `None` for a disagreement.
    pub implementation: Option<String>,
    /// The oracle's name, or `disagreement`.
    pub oracle: String,
    /// Where.
    pub at: At,
    /// What happened, for people.
    pub detail: String,
}

/// The result of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct P2pReport {
    /// The finding, if any.
    pub finding: Option<P2pFinding>,
    /// Nodes of the decoded schedule.
    pub nodes: u8,
    /// Decoded steps.
    pub steps: usize,
    /// Each implementation's counters at the end, in comparison order.
    pub stats: Vec<ImplStats>,
    /// Behaviour key for the fuzz loop's corpus (a hash of the run's shape, see [`Shape`]).
    pub behaviour: u64,
}

impl P2pReport {
    /// The finding's signature.
    pub fn signature(&self) -> Option<&str> {
        self.finding.as_ref().map(|f| f.signature.as_str())
    }
}

/// The first differing top-level field of two `Debug` renderings of a struct
/// (`Obs { a: .., b: .. }`), else `observation`. Field names carry no numbers, so the result can
/// be part of a signature.
pub fn first_differing_field(left: &str, right: &str) -> String {
    fn fields(s: &str) -> Option<Vec<(String, String)>> {
        let body = s.split_once('{')?.1.trim_end().strip_suffix('}')?;
        let mut out = Vec::new();
        let (mut depth, mut start) = (0i32, 0usize);
        let mut parts = Vec::new();
        for (i, c) in body.char_indices() {
            match c {
                '(' | '[' | '{' => depth = depth.saturating_add(1),
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    parts.push(body.get(start..i)?);
                    start = i.saturating_add(1);
                }
                _ => {}
            }
        }
        parts.push(body.get(start..)?);
        for p in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = p.split_once(':')?;
            out.push((name.trim().to_string(), value.trim().to_string()));
        }
        Some(out)
    }
    if let (Some(l), Some(r)) = (fields(left), fields(right)) {
        for ((ln, lv), (rn, rv)) in l.iter().zip(r.iter()) {
            if ln == rn && lv != rv && !ln.chars().any(|c| c.is_ascii_digit()) && !ln.is_empty() {
                return format!("observation.{ln}");
            }
        }
    }
    "observation".to_string()
}

fn bucket(n: u64) -> u8 {
    u8::try_from(64u32.saturating_sub(n.leading_zeros())).unwrap_or(u8::MAX)
}

/// The shape of a run that the fuzz loop's behaviour key hashes, coarse enough that the corpus
/// does not fill with every new combination: the log₂ buckets of the most messages one step sent,
/// of the longest queue, of the most pending timers and of the most nodes one step changed the
/// observation of; which step kinds changed an observation; and the outcome (signature or agree).
#[derive(Default)]
struct Shape {
    max_sent: u8,
    max_queue: u8,
    max_timers: u8,
    max_changed: u8,
    changing_ops: u16,
}

impl Shape {
    fn add(&mut self, op: u8, sent: u64, queue: usize, changed: usize, timers: usize) {
        let b = |n: usize| bucket(u64::try_from(n).unwrap_or(u64::MAX));
        self.max_sent = self.max_sent.max(bucket(sent));
        self.max_queue = self.max_queue.max(b(queue));
        self.max_timers = self.max_timers.max(b(timers));
        self.max_changed = self.max_changed.max(b(changed));
        if changed > 0 {
            self.changing_ops |= 1u16.checked_shl(u32::from(op)).unwrap_or(0);
        }
    }
    fn key(&self, outcome: &str) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.max_sent, self.max_queue, self.max_timers, self.max_changed, self.changing_ops).hash(&mut h);
        outcome.hash(&mut h);
        h.finish()
    }
}

fn opcode<C>(step: &Step<C>) -> u8 {
    match step {
        Step::Command { .. } => 0,
        Step::Deliver(_) => 1,
        Step::Drop(_) => 2,
        Step::Duplicate(_) => 3,
        Step::Delay(_) => 4,
        Step::Advance(_) => 5,
        Step::Join(_) => 6,
        Step::Leave(_) => 7,
    }
}

/// Builds node `id` of one implementation (shared: the leak oracle builds fresh networks).
pub type Maker<N> = std::sync::Arc<dyn Fn(NodeId) -> N + Send + Sync>;

/// One implementation's network built by `make`.
fn new_sim<N: Node + 'static>(nodes: u8, make: &Maker<N>) -> (Sim<N>, p2p_types::sim::StepReport) {
    let make = std::sync::Arc::clone(make);
    Sim::new(nodes, Limits::default(), Box::new(move |id| make(id)))
}

/// The leak oracle's measurement for one implementation: the schedule's first
/// [`oracles::LEAK_SEGMENT_STEPS`] steps repeated `k` times ([`oracles::LEAK_REPEATS`]) on a fresh
/// network, then the drain; each node's retained bytes once quiet, per `k`. `None` when a run
/// did not go quiet, stopped or faulted (that is the other oracles' business, not a leak).
fn retained_per_repeat<C, N>(schedule: &Schedule<C>, make: &Maker<N>) -> Option<Vec<Vec<usize>>>
where
    C: Properties,
    N: Node<Command = C::Command> + 'static,
{
    let segment = schedule.steps.get(..oracles::LEAK_SEGMENT_STEPS.min(schedule.steps.len()))?;
    let budget = C::drain_budget(schedule.nodes, &schedule.config);
    let mut out = Vec::new();
    for k in oracles::LEAK_REPEATS {
        let (mut sim, start) = new_sim(schedule.nodes, make);
        if !start.faults.is_empty() {
            return None;
        }
        for step in std::iter::repeat_n(segment, k).flatten() {
            if !sim.step(step).faults.is_empty() {
                return None;
            }
        }
        let (report, quiet) = sim.drain(budget.0, budget.1);
        if !quiet || !report.faults.is_empty() || sim.stopped().is_some() {
            return None;
        }
        let mut per_node = vec![0usize; usize::from(schedule.nodes)];
        for (id, r) in sim.resources() {
            if let Some(slot) = per_node.get_mut(usize::from(id)) {
                *slot = r.retained_bytes;
            }
        }
        out.push(per_node);
    }
    Some(out)
}

/// Runs `schedule` on one network per implementation `(name, maker)`, in lockstep, with the
/// oracles and the comparison described in the module documentation. `target` names the
/// signatures. Generic over the component, so the toy protocol of `p2p_types::testing` tests it.
pub fn execute<C, N>(target: &str, schedule: &Schedule<C>, imps: Vec<(&str, Maker<N>)>) -> P2pReport
where
    C: Properties,
    N: Node<Command = C::Command, Obs = <C as Properties>::Obs> + 'static,
{
    let nodes = schedule.nodes;
    let config = &schedule.config;
    let retained = C::retained_bound(nodes, config);
    let mut sims: Vec<(&str, Sim<N>)> = Vec::new();
    let mut finding: Option<P2pFinding> = None;
    let mut disagreement: Option<P2pFinding> = None;
    let mut shape = Shape::default();
    let oracle_finding = |name: &str, at: At, violation: Violation| P2pFinding {
        signature: format!("{target}: {name}: {}", violation.oracle),
        implementation: Some(name.to_string()),
        oracle: violation.oracle.to_string(),
        at,
        detail: violation.detail,
    };

    // Per-step check of every implementation; returns a finding that ends the run.
    let check = |sims: &[(&str, Sim<N>)], reports: &[p2p_types::sim::StepReport], at: At| -> Option<P2pFinding> {
        for ((name, sim), report) in sims.iter().zip(reports) {
            let violation = oracles::fault(report)
                .or_else(|| oracles::stopped(sim.stopped()))
                .or_else(|| oracles::amplification(sim.stats(), C::budget(nodes, config, sim.stats(), sim.now())))
                .or_else(|| oracles::resources(&sim.resources(), retained));
            if let Some(v) = violation {
                return Some(oracle_finding(name, at, v));
            }
        }
        None
    };
    let compare = |sims: &[(&str, Sim<N>)], reports: &[p2p_types::sim::StepReport], obs: &[Vec<Option<N::Obs>>], at: At| -> Option<P2pFinding> {
        let ((a, _), ra, oa) = (sims.first()?, reports.first()?, obs.first()?);
        for (((b, _), rb), ob) in sims.iter().zip(reports).zip(obs).skip(1) {
            let sig = |what: &str| format!("{target}: {a}-vs-{b}: {what}");
            if ra.sent != rb.sent {
                return Some(P2pFinding { signature: sig("sent"), implementation: None, oracle: "disagreement".into(), at, detail: format!("messages sent in the step: {a} {}, {b} {}", ra.sent, rb.sent) });
            }
            for (id, (x, y)) in (0u8..).zip(oa.iter().zip(ob)) {
                match (x, y) {
                    (Some(x), Some(y)) => {
                        let Some(what) = C::disagreement(x, y) else { continue };
                        let (l, r) = (format!("{x:?}"), format!("{y:?}"));
                        let what = if what.is_empty() { first_differing_field(&l, &r) } else { format!("observation.{what}") };
                        return Some(P2pFinding { signature: sig(&what), implementation: None, oracle: "disagreement".into(), at, detail: format!("node {id}: {a} {l}, {b} {r}") });
                    }
                    (Some(_), None) | (None, Some(_)) => {
                        return Some(P2pFinding { signature: sig("live"), implementation: None, oracle: "disagreement".into(), at, detail: format!("node {id}: live in {}, not in {}", if x.is_some() { a } else { b }, if x.is_some() { b } else { a }) });
                    }
                    _ => {}
                }
            }
        }
        None
    };

    let mut reports = Vec::new();
    for (name, make) in &imps {
        let (sim, report) = new_sim(nodes, make);
        sims.push((name, sim));
        reports.push(report);
    }
    let mut prev: Vec<Vec<Option<N::Obs>>> = sims.iter().map(|(_, s)| s.observe()).collect();
    if let Some(f) = check(&sims, &reports, At::Start) {
        finding = Some(f);
    } else {
        disagreement = compare(&sims, &reports, &prev, At::Start);
    }

    if finding.is_none() {
        for (i, step) in schedule.steps.iter().enumerate() {
            let reports: Vec<_> = sims.iter_mut().map(|(_, s)| s.step(step)).collect();
            let obs: Vec<Vec<Option<N::Obs>>> = sims.iter().map(|(_, s)| s.observe()).collect();
            if let (Some((_, s)), Some(r), Some(o), Some(p)) = (sims.first(), reports.first(), obs.first(), prev.first()) {
                let changed = o.iter().zip(p).filter(|(x, y)| x != y).count();
                shape.add(opcode(step), r.sent, s.in_flight().len(), changed, s.pending_timers());
            }
            if let Some(f) = check(&sims, &reports, At::Step(i)) {
                finding = Some(f);
                break;
            }
            if disagreement.is_none() {
                disagreement = compare(&sims, &reports, &obs, At::Step(i));
            }
            prev = obs;
        }
    }

    if finding.is_none() {
        let budget = C::drain_budget(nodes, &schedule.config);
        let drained: Vec<_> = sims.iter_mut().map(|(_, s)| s.drain(budget.0, budget.1)).collect();
        let reports: Vec<_> = drained.iter().map(|(r, _)| r.clone()).collect();
        finding = check(&sims, &reports, At::Drain);
        if finding.is_none() {
            for ((name, sim), (_, quiet)) in sims.iter().zip(&drained) {
                let obs = sim.observe();
                let violation = oracles::quiescence(*quiet, sim.in_flight().len(), sim.pending_timers(), budget)
                    .or_else(|| oracles::convergence::<C>(&schedule.config, &obs))
                    .or_else(|| oracles::liveness::<C>(&schedule.config, &obs, sim.stats(), sim.now()));
                if let Some(v) = violation {
                    finding = Some(oracle_finding(name, At::Drain, v));
                    break;
                }
            }
        }
        if finding.is_none() && disagreement.is_none() {
            let obs: Vec<_> = sims.iter().map(|(_, s)| s.observe()).collect();
            disagreement = compare(&sims, &reports, &obs, At::Drain);
        }
        if let Some((_, s)) = sims.first() {
            shape.add(8, drained.first().map_or(0, |(r, _)| r.sent), s.in_flight().len(), 0, s.pending_timers());
        }
    }

    // The leak oracle, on a run nothing else objected to (port first).
    if finding.is_none() && disagreement.is_none() {
        for (name, make) in &imps {
            if let Some(v) = retained_per_repeat(schedule, make).and_then(|r| oracles::leak(&r, C::quiet_bound(nodes, config))) {
                finding = Some(oracle_finding(name, At::Drain, v));
                break;
            }
        }
    }

    let finding = finding.or(disagreement);
    let stats: Vec<ImplStats> = sims.iter().map(|(name, s)| ImplStats::of(name, s.stats(), s.now())).collect();
    let behaviour = shape.key(finding.as_ref().map_or("agree", |f| f.signature.as_str()));
    P2pReport { finding, nodes, steps: schedule.steps.len(), stats, behaviour }
}

/// The implementations compared, in comparison order.
pub fn implementations() -> Vec<&'static dyn P2pImpl> {
    vec![&Port, &Model]
}

/// A network component as the runner sees it: its schedule type, and how an implementation
/// builds its nodes.
pub trait P2pComponent: Properties + Component<Config: Send + Sync + 'static> + Sized + 'static {
    /// The boxed node type of the component.
    type BoxedNode: Node<Command = Self::Command, Obs = <Self as Properties>::Obs> + 'static;
    /// Node `id` of `nodes` built by `imp`.
    fn node(imp: &dyn P2pImpl, id: NodeId, nodes: u8, config: &Self::Config) -> Self::BoxedNode;
    /// The incident's schedule (the component's `incident()`), written as the regression.
    fn incident() -> Schedule<Self>;
    /// The configuration's timeouts and cooldowns, ms, for the schedule mutations' time jumps
    /// (read from the component's public configuration fields).
    fn timeouts(config: &Self::Config) -> Vec<Millis>;
}

impl P2pComponent for announce::Announce {
    type BoxedNode = p2p_types::AnnounceNode;
    fn node(imp: &dyn P2pImpl, id: NodeId, nodes: u8, config: &announce::Config) -> Self::BoxedNode {
        imp.announce_node(id, nodes, config)
    }
    fn incident() -> Schedule<Self> {
        announce::incident()
    }
    /// No timers: announcements are event-driven.
    fn timeouts(_config: &announce::Config) -> Vec<Millis> {
        Vec::new()
    }
}

impl P2pComponent for session_cache::SessionCache {
    type BoxedNode = p2p_types::SessionCacheNode;
    fn node(imp: &dyn P2pImpl, id: NodeId, nodes: u8, config: &session_cache::Config) -> Self::BoxedNode {
        imp.session_cache_node(id, nodes, config)
    }
    fn incident() -> Schedule<Self> {
        session_cache::incident()
    }
    /// The incoming connection's lifetime (`maxUDPLife`).
    fn timeouts(config: &session_cache::Config) -> Vec<Millis> {
        vec![config.life_ms]
    }
}

impl P2pComponent for stream_setup::StreamSetup {
    type BoxedNode = p2p_types::StreamSetupNode;
    fn node(imp: &dyn P2pImpl, id: NodeId, nodes: u8, config: &stream_setup::Config) -> Self::BoxedNode {
        imp.stream_setup_node(id, nodes, config)
    }
    fn incident() -> Schedule<Self> {
        stream_setup::incident()
    }
    /// The discovery and stream-manager cooldown (`coolDownPeriod`).
    fn timeouts(config: &stream_setup::Config) -> Vec<Millis> {
        vec![config.cooldown_ms]
    }
}

/// Runs a decoded schedule of component `C` through every implementation.
pub fn run_schedule<C: P2pComponent>(schedule: &Schedule<C>) -> P2pReport {
    let imps = implementations()
        .into_iter()
        .map(|imp| {
            let config = schedule.config.clone();
            let nodes = schedule.nodes;
            let make: Maker<C::BoxedNode> = std::sync::Arc::new(move |id| C::node(imp, id, nodes, &config));
            (imp.name(), make)
        })
        .collect();
    execute(C::NAME, schedule, imps)
}

/// Decodes `data` as a schedule of `C` and runs it.
pub fn run_component<C: P2pComponent>(data: &[u8]) -> P2pReport {
    run_schedule(&schedule::decode::<C>(data))
}

/// The network targets, by name, and what is generic over them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum P2pTarget {
    /// `p2p_announce`.
    Announce,
    /// `p2p_session_cache`.
    SessionCache,
    /// `p2p_stream_setup`.
    StreamSetup,
}

impl P2pTarget {
    /// Every network target.
    pub const ALL: [P2pTarget; 3] = [P2pTarget::Announce, P2pTarget::SessionCache, P2pTarget::StreamSetup];

    /// The target's name.
    pub fn name(self) -> &'static str {
        match self {
            P2pTarget::Announce => announce::Announce::NAME,
            P2pTarget::SessionCache => session_cache::SessionCache::NAME,
            P2pTarget::StreamSetup => stream_setup::StreamSetup::NAME,
        }
    }

    /// By name.
    pub fn from_name(name: &str) -> Option<P2pTarget> {
        P2pTarget::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Runs one input.
    pub fn run(self, data: &[u8]) -> P2pReport {
        match self {
            P2pTarget::Announce => run_component::<announce::Announce>(data),
            P2pTarget::SessionCache => run_component::<session_cache::SessionCache>(data),
            P2pTarget::StreamSetup => run_component::<stream_setup::StreamSetup>(data),
        }
    }

    /// The shipped seeds (`Properties::seeds`), encoded: `(file name, bytes)`.
    pub fn seeds(self) -> Vec<(String, Vec<u8>)> {
        fn enc<C: P2pComponent>() -> Vec<(String, Vec<u8>)> {
            C::seeds().into_iter().map(|(n, s)| (format!("{n}.bin"), schedule::encode(&s))).collect()
        }
        match self {
            P2pTarget::Announce => enc::<announce::Announce>(),
            P2pTarget::SessionCache => enc::<session_cache::SessionCache>(),
            P2pTarget::StreamSetup => enc::<stream_setup::StreamSetup>(),
        }
    }

    /// The incident's schedule, encoded (the regression input).
    pub fn incident(self) -> Vec<u8> {
        match self {
            P2pTarget::Announce => schedule::encode(&announce::incident()),
            P2pTarget::SessionCache => schedule::encode(&session_cache::incident()),
            P2pTarget::StreamSetup => schedule::encode(&stream_setup::incident()),
        }
    }

    /// The regression input of the bug `feature` of this target: its own schedule where the
    /// component has one for it (the leak: `announce::leak_incident`), else the incident's.
    pub fn regression(self, feature: &str) -> Vec<u8> {
        match (self, feature) {
            (P2pTarget::Announce, "near-announce-cache-unpruned") => schedule::encode(&announce::leak_incident()),
            _ => self.incident(),
        }
    }

    /// The component's regression directory name under `corpora/regressions/` (the target's).
    pub fn regression_dir(self) -> &'static str {
        self.name()
    }
}

/// The "state" a network input records in findings and reports: id = the schedule's node count,
/// source = its shape, root = the run's behaviour key (what the fuzz loop's corpus keys on).
pub fn recorded_state_of(report: &P2pReport) -> crate::record::RecordedState {
    crate::record::RecordedState {
        id: usize::from(report.nodes),
        root: format!("behaviour {:016x}", report.behaviour),
        source: format!("p2p schedule: {} nodes, {} steps", report.nodes, report.steps),
    }
}

/// The state the supervisor records for an input that killed its worker: decoded only, never
/// run (the input may hang or abort whoever runs it), so `root` is empty.
pub fn recorded_state(target: P2pTarget, data: &[u8]) -> crate::record::RecordedState {
    fn shape<C: Component>(data: &[u8]) -> (u8, usize) {
        let s = schedule::decode::<C>(data);
        (s.nodes, s.steps.len())
    }
    let (nodes, steps) = match target {
        P2pTarget::Announce => shape::<announce::Announce>(data),
        P2pTarget::SessionCache => shape::<session_cache::SessionCache>(data),
        P2pTarget::StreamSetup => shape::<stream_setup::StreamSetup>(data),
    };
    crate::record::RecordedState { id: usize::from(nodes), root: String::new(), source: format!("p2p schedule: {nodes} nodes, {steps} steps") }
}

/// Compares [`corpus_files`] with the files under `corpora` (the repository's `corpora/`): one
/// line per file that is missing or differs, and per `.bin` file in a `p2p_*` seed or
/// regression directory that the code does not generate.
pub fn check_corpus(corpora: &std::path::Path) -> Vec<String> {
    let files = corpus_files();
    let mut problems = Vec::new();
    for (rel, bytes) in &files {
        match std::fs::read(corpora.join(rel)) {
            Ok(b) if b == *bytes => {}
            Ok(_) => problems.push(format!("corpora/{rel}: differs from what the code generates (run `diverge corpus p2p`)")),
            Err(e) => problems.push(format!("corpora/{rel}: {e} (run `diverge corpus p2p`)")),
        }
    }
    for t in P2pTarget::ALL {
        for dir in [corpora.join(t.name()), corpora.join("regressions").join(t.name())] {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().filter_map(Result::ok) {
                let rel = entry.path().strip_prefix(corpora).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
                if !files.iter().any(|(f, _)| *f == rel) {
                    problems.push(format!("corpora/{rel}: not generated by the code (a stale seed or regression)"));
                }
            }
        }
    }
    problems
}

/// Every file the p2p corpora hold, generated from the code: `(path relative to corpora/, bytes)`
/// — the seeds `corpora/<target>/<seed>.bin` and the regressions
/// `corpora/regressions/<target>/<bug feature>.bin` of the bug registry's p2p entries.
/// `diverge corpus p2p` writes them; a test checks the files on disk are exactly these.
pub fn corpus_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for t in P2pTarget::ALL {
        let provenance = format!(
            "Generated by `diverge corpus p2p` from `Properties::seeds()` of the {} component (impls/p2p-types/src/): schedules of the protocol's normal behaviour (p2p_types::schedule encoding). Do not edit: differential/tests/p2p_regressions.rs checks these files equal what the code generates.\n",
            t.name()
        );
        out.push((format!("{}/PROVENANCE", t.name()), provenance.into_bytes()));
        for (name, bytes) in t.seeds() {
            out.push((format!("{}/{name}", t.name()), bytes));
        }
    }
    for bug in crate::bugs::BUGS.iter().filter(|b| b.krate == crate::bugs::P2P) {
        if let Some(t) = P2pTarget::from_name(bug.target.name()) {
            for r in bug.regressions {
                out.push((format!("regressions/{}", r.file), t.regression(bug.feature)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! Every oracle and the comparison on the toy protocol of `p2p_types::testing` (independent
    //! of the real components): an input that trips each, and a near miss that does not.
    use super::*;
    use p2p_types::testing::{self as toy, Quirk, Toy, ToyNode};

    fn set(node: NodeId, v: u8) -> Step<toy::Command> {
        Step::Command { node, command: toy::Command::Set(v) }
    }

    fn run_with(nodes: u8, flags: u8, capacity: u8, period: u16, steps: Vec<Step<toy::Command>>, port: Quirk, model: Quirk) -> P2pReport {
        let config = toy::Config { flags, capacity, period };
        let sched = Schedule::<Toy> { nodes, config: config.clone(), steps };
        let maker = |q: Quirk| -> Maker<ToyNode> {
            let c = config.clone();
            std::sync::Arc::new(move |id| ToyNode::new(id, &c, q))
        };
        execute("p2p_toy", &sched, vec![("port", maker(port)), ("model", maker(model))])
    }

    fn run(nodes: u8, flags: u8, capacity: u8, period: u16, steps: Vec<Step<toy::Command>>) -> Option<String> {
        run_with(nodes, flags, capacity, period, steps, Quirk::None, Quirk::None).finding.map(|f| f.signature)
    }

    fn sig(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn seeds_agree() {
        for (name, s) in Toy::seeds() {
            let r = run_with(s.nodes, 0, 0, 0, s.steps, Quirk::None, Quirk::None);
            assert_eq!(r.finding, None, "{name}");
            assert!(r.stats.iter().all(|s| s.sent > 0), "{name}: {:?}", r.stats);
        }
    }

    #[test]
    fn crash() {
        assert_eq!(run(3, toy::CRASH, 0, 0, vec![set(0, 1), set(1, toy::CRASH_VALUE)]), sig("p2p_toy: port: crash"));
        assert_eq!(run(3, toy::CRASH, 0, 0, vec![set(0, 1), set(1, toy::CRASH_VALUE - 1)]), None);
    }

    #[test]
    fn amplification() {
        // Every receipt rebroadcast: the flood never ends.
        let storm = run_with(4, toy::STORM, 0, 0, vec![set(0, 5), Step::Deliver(0), Step::Deliver(0), Step::Deliver(0)], Quirk::None, Quirk::None);
        let f = storm.finding.unwrap();
        assert_eq!(f.signature, "p2p_toy: port: amplification");
        // Near miss: a flood of four values through four nodes adopts each value once.
        let steps = vec![set(0, 1), set(1, 2), set(2, 3), set(3, 4), Step::Deliver(0), Step::Deliver(3), Step::Delay(1), Step::Deliver(2)];
        assert_eq!(run(4, 0, 0, 0, steps), None);
    }

    #[test]
    fn timer_storm() {
        assert_eq!(run(2, toy::TIMER_LOOP, 0, 0, vec![set(0, 1), Step::Advance(1)]), sig("p2p_toy: port: timer-storm"));
        // Near miss: a bounded burst of timers (and no loop).
        assert_eq!(run(2, toy::BURST, 50, 0, vec![set(0, 1), Step::Advance(1_000)]), None);
    }

    #[test]
    fn quiescence() {
        // A timer every millisecond keeps the network busy beyond the drain's event budget.
        assert_eq!(run(2, toy::PERIODIC, 0, 1, vec![set(0, 1)]), sig("p2p_toy: port: quiescence"));
        // Near miss: every 200 ms is 100 firings within the horizon, within the budget.
        assert_eq!(run(2, toy::PERIODIC, 0, 200, vec![set(0, 1)]), None);
        // Near miss: the next tick is beyond the drain's horizon.
        assert_eq!(run(2, toy::PERIODIC, 0, 20_000, vec![set(0, 1)]), None);
    }

    #[test]
    fn resources() {
        let steps = || vec![set(0, 1), Step::Deliver(0), Step::Deliver(0), set(0, 2), Step::Deliver(0), Step::Deliver(0), set(0, 3), Step::Deliver(0)];
        assert_eq!(run(3, toy::LEAK, 2, 0, steps()), sig("p2p_toy: port: resources"));
        // Within its capacity the never-pruned `seen` table is no resources finding; it grows
        // with every repetition of the schedule, so the leak oracle names it.
        assert_eq!(run(3, toy::LEAK, 10, 0, steps()), sig("p2p_toy: port: leak"));
        assert_eq!(run(3, 0, 10, 0, steps()), None);
    }

    #[test]
    fn convergence() {
        assert_eq!(run(3, toy::STUBBORN, 0, 0, vec![set(1, 5)]), sig("p2p_toy: port: convergence"));
        // Near miss: the stubborn node holds the largest value itself.
        assert_eq!(run(3, toy::STUBBORN, 0, 0, vec![set(1, 5), set(0, 9)]), None);
    }

    #[test]
    fn liveness() {
        // 200 timer firings within a minute of two nodes: the bound is 120.
        assert_eq!(run(2, toy::BURST, 200, 0, vec![set(0, 1)]), sig("p2p_toy: port: liveness"));
        assert_eq!(run(2, toy::BURST, 100, 0, vec![set(0, 1)]), None);
    }

    #[test]
    fn disagreement_in_messages_sent_and_in_observations() {
        let r = run_with(3, 0, 0, 0, vec![set(0, 5), Step::Deliver(0)], Quirk::None, Quirk::Quiet);
        let f = r.finding.unwrap();
        assert_eq!((f.signature.as_str(), f.at), ("p2p_toy: port-vs-model: sent", At::Step(1)));
        // Near miss: with two nodes there is nobody to pass the value on to.
        assert_eq!(run_with(2, 0, 0, 0, vec![set(0, 5), Step::Deliver(0)], Quirk::None, Quirk::Quiet).finding, None);
        let r = run_with(3, 0, 0, 0, vec![set(0, 150)], Quirk::None, Quirk::OffByOne);
        let f = r.finding.unwrap();
        assert_eq!(f.signature, "p2p_toy: port-vs-model: observation.value");
        assert!(f.detail.starts_with("node 0:"), "{}", f.detail);
        assert_eq!(run_with(3, 0, 0, 0, vec![set(0, 100)], Quirk::None, Quirk::OffByOne).finding, None);
    }

    #[test]
    fn an_oracle_outranks_an_earlier_disagreement() {
        let r = run_with(3, toy::CRASH, 0, 0, vec![set(0, 150), set(1, toy::CRASH_VALUE)], Quirk::None, Quirk::OffByOne);
        assert_eq!(r.finding.map(|f| f.signature), sig("p2p_toy: port: crash"));
    }

    #[test]
    fn same_bytes_same_report_and_behaviour_tells_runs_apart() {
        let a = run_with(3, 0, 0, 0, vec![set(0, 5), Step::Deliver(0)], Quirk::None, Quirk::None);
        let b = run_with(3, 0, 0, 0, vec![set(0, 5), Step::Deliver(0)], Quirk::None, Quirk::None);
        assert_eq!(a, b);
        let c = run_with(3, 0, 0, 0, vec![set(0, 5), Step::Drop(0), Step::Leave(2)], Quirk::None, Quirk::None);
        assert_ne!(a.behaviour, c.behaviour);
    }

    #[test]
    fn first_differing_field_names_fields_only() {
        assert_eq!(first_differing_field("Obs { a: [1, 2], b: 3 }", "Obs { a: [1, 2], b: 4 }"), "observation.b");
        assert_eq!(first_differing_field("Obs { a: Foo { x: 1, y: 2 }, b: 3 }", "Obs { a: Foo { x: 1, y: 5 }, b: 3 }"), "observation.a");
        assert_eq!(first_differing_field("[1]", "[2]"), "observation");
    }
}
