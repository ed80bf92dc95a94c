//! The DKG differential targets (issue 8): `dkg_packet` (a pool node state, one gossip packet,
//! `now`) and `dkg_sequence` (a pool node state and up to 32 packets and local commands, each with
//! its own `now`). Both run `dkg-drand` (the Go port) and `dkg-spec` (the table-driven model) on
//! the same resolved input and compare Ok/Err, the error variant (strict mode) and the resulting
//! node (current, finished, seen); every step of each implementation is also checked against the
//! dkg.md §5 invariants ([`invariants`]). Known, intended differences are in [`allowlist`].
//!
//! Inputs use the compact encoding of `dkg_types::input`; decoding is total, so every byte string
//! is an input.

pub mod allowlist;
pub mod invariants;
pub mod known;

use dkg_types::input::{decode_packet_case, decode_sequence_case, ResolvedStep};
use dkg_types::{BlsMode, DkgError, DkgImpl, NodeState};
use std::collections::BTreeSet;

/// The two DKG targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DkgTarget {
    /// One packet.
    Packet,
    /// A sequence of packets and commands.
    Sequence,
}

impl DkgTarget {
    /// `dkg_packet` / `dkg_sequence`.
    pub fn name(self) -> &'static str {
        match self {
            DkgTarget::Packet => "dkg_packet",
            DkgTarget::Sequence => "dkg_sequence",
        }
    }
}

/// How one run is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DkgConfig {
    /// BLS mode (signing of `SignedBy` inputs and verification).
    pub mode: BlsMode,
    /// Compare error variants (true) or only Ok/Err (false).
    pub strict: bool,
}

impl Default for DkgConfig {
    /// Real BLS, strict: what regression tests use. Fuzzing uses `AssumeValid` for depth.
    fn default() -> Self {
        DkgConfig { mode: BlsMode::Real, strict: true }
    }
}

/// What one implementation did with one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted; the node after the step.
    Ok(Box<NodeState>),
    /// Rejected.
    Err(DkgError),
    /// Panicked (a finding by itself, even in both: implementations must not panic).
    Crash(String),
}

impl Verdict {
    /// Number-free kind: `Ok`, the error kind, or `Crash`.
    pub fn kind(&self) -> String {
        match self {
            Verdict::Ok(_) => "Ok".into(),
            Verdict::Err(e) => e.kind().into(),
            Verdict::Crash(_) => "Crash".into(),
        }
    }
}

/// A disagreement, an invariant violation or a known hazard, with its stable signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// `<target>: <implA>-vs-<implB>: <kindA>/<kindB>`, `<target>: <implA>+<implB>: <kind>/<kind>`
    /// (both alike, never agreeing: [`crate::policy::signature`]) or
    /// `<target>: <impl>: invariant/<name>`.
    pub signature: String,
    /// Index of the step where it happened.
    pub step: usize,
    /// Each implementation's verdict kind at that step, in comparison order.
    pub kinds: Vec<(String, String)>,
    /// Human detail (verdicts, first differing field).
    pub detail: String,
    /// The upstream hazard both implementations reproduce, when that is what this is.
    pub known: Option<crate::policy::KnownHazard>,
}

/// A step whose difference an allowlist entry masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Masked {
    /// Allowlist entry name.
    pub entry: &'static str,
    /// Step index.
    pub step: usize,
}

/// The result of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DkgOutcome {
    /// Both implementations agreed on every step.
    Agree {
        /// Each step's agreed kind (`Ok` or an error kind).
        kinds: Vec<String>,
    },
    /// They agreed on every step but the masked ones, each an exact allowlisted difference; every
    /// step was compared.
    Allowed {
        /// The masked steps.
        masked: Vec<Masked>,
        /// Each step's kind: the agreed one, or `allowed:<entry>`.
        kinds: Vec<String>,
    },
    /// A finding: the first new divergence, else the first known hazard.
    Diverge(Divergence),
}

impl DkgOutcome {
    /// The divergence signature, if any.
    pub fn signature(&self) -> Option<&str> {
        match self {
            DkgOutcome::Diverge(d) => Some(&d.signature),
            _ => None,
        }
    }
}

impl Verdict {
    /// The verdict as the equivalence policy sees it: `Deadlock` and `NilDereference` are known
    /// upstream hazards ([`crate::policy::KNOWN_HAZARDS`]), never agreement.
    pub fn class(&self) -> crate::policy::Class<'static> {
        use crate::policy::Class;
        match self {
            Verdict::Ok(_) => Class::Accepted,
            Verdict::Err(e) if crate::policy::known_hazard(e.kind()).is_some() => Class::Known(e.kind()),
            Verdict::Err(e) => Class::Rejected(e.kind()),
            Verdict::Crash(_) => Class::Crash,
        }
    }
}

fn run_step(imp: &dyn DkgImpl, node: &NodeState, step: &ResolvedStep, mode: BlsMode) -> Verdict {
    crate::hooks::enter(imp.name());
    let r = crate::panics::catch(|| match step {
        ResolvedStep::Packet(p, now) => imp.packet(node, p, *now, mode),
        ResolvedStep::Command(c, now) => imp.command(node, c, *now, mode),
    });
    crate::hooks::leave();
    match r {
        Ok(Ok(n)) => Verdict::Ok(Box::new(n)),
        Ok(Err(e)) => Verdict::Err(e),
        Err(payload) => Verdict::Crash(crate::panics::message(payload.as_ref())),
    }
}

/// The first differing field of two nodes, as a path (`current.acceptors`), or `None` if equal.
pub fn first_difference(a: &NodeState, b: &NodeState) -> Option<&'static str> {
    if a.seen != b.seen {
        return Some("seen");
    }
    for (name, x, y) in [("current", &a.current, &b.current), ("finished", &a.finished, &b.finished)] {
        match (x, y) {
            (Some(x), Some(y)) => {
                let fields: [(&'static str, bool); 13] = [
                    ("state", x.state == y.state),
                    ("epoch", x.epoch == y.epoch),
                    ("threshold", x.threshold == y.threshold),
                    ("timeout", x.timeout == y.timeout),
                    ("genesis_time", x.genesis_time == y.genesis_time),
                    ("genesis_seed", x.genesis_seed == y.genesis_seed),
                    ("leader", x.leader == y.leader),
                    ("remaining", x.remaining == y.remaining),
                    ("joining", x.joining == y.joining),
                    ("leaving", x.leaving == y.leaving),
                    ("acceptors", x.acceptors == y.acceptors),
                    ("rejectors", x.rejectors == y.rejectors),
                    ("final_group", x.final_group == y.final_group),
                ];
                if let Some((f, _)) = fields.iter().find(|(_, same)| !same) {
                    return Some(match (name, *f) {
                        ("current", "state") => "current.state",
                        ("current", "epoch") => "current.epoch",
                        ("current", "acceptors") => "current.acceptors",
                        ("current", "rejectors") => "current.rejectors",
                        ("current", _) => "current.other",
                        (_, "epoch") => "finished.epoch",
                        _ => "finished.other",
                    });
                }
                if x != y {
                    return Some(if name == "current" { "current.other" } else { "finished.other" });
                }
            }
            (None, None) => {}
            _ => return Some(if name == "current" { "current.presence" } else { "finished.presence" }),
        }
    }
    if a != b {
        return Some("node.other");
    }
    None
}

/// Whether two nodes are equal once the seen-set entries in `unmarked` (packets one side did not
/// mark seen at an allowlisted step) are ignored.
fn same_node(x: &NodeState, y: &NodeState, unmarked: &BTreeSet<String>) -> bool {
    if unmarked.is_empty() || x.seen.len().abs_diff(y.seen.len()) > unmarked.len() {
        return x == y;
    }
    let (mut x, mut y) = (x.clone(), y.clone());
    x.seen.extend(unmarked.iter().cloned());
    y.seen.extend(unmarked.iter().cloned());
    x == y
}

/// Runs both implementations over resolved steps from `start` and compares every step under the
/// one policy ([`crate::policy`]): an allowlisted difference masks that step only and comparison
/// goes on; a known hazard reproduced by both is remembered and comparison goes on (a later new
/// divergence takes precedence, so a known hazard never hides a new bug); anything else is the
/// finding.
pub fn compare(target: DkgTarget, start: &NodeState, steps: &[ResolvedStep], config: &DkgConfig, a: &dyn DkgImpl, b: &dyn DkgImpl) -> DkgOutcome {
    use crate::policy::{self, Judgement};
    let strictness = if config.strict { crate::target::Strictness::Reason } else { crate::target::Strictness::Outcome };
    let mut na = start.clone();
    let mut nb = start.clone();
    let mut kinds = Vec::with_capacity(steps.len());
    let mut masked = Vec::new();
    let mut unmarked = BTreeSet::new();
    let mut first_known: Option<Divergence> = None;
    for (i, step) in steps.iter().enumerate() {
        let va = run_step(a, &na, step, config.mode);
        let vb = run_step(b, &nb, step, config.mode);
        for (imp, before, v) in [(a, &na, &va), (b, &nb, &vb)] {
            if let Err(name) = invariants::check(before, step, v) {
                return DkgOutcome::Diverge(Divergence {
                    signature: format!("{}: {}: invariant/{}", target.name(), imp.name(), name),
                    step: i,
                    kinds: vec![(imp.name().to_string(), v.kind())],
                    detail: format!("{v:?}"),
                    known: None,
                });
            }
        }
        let (ca, cb) = (va.class(), vb.class());
        let same = || matches!((&va, &vb), (Verdict::Ok(x), Verdict::Ok(y)) if same_node(x, y, &unmarked));
        let (judgement, remember) = {
            let ctx = allowlist::Context { step, drand_before: &na, spec_before: &nb, drand: &va, spec: &vb, unmarked: &unmarked };
            let judgement = policy::judge(ca, cb, strictness, same, || allowlist::find(&ctx));
            let mut remember = BTreeSet::new();
            if let Judgement::Allowed(entry) = judgement {
                (entry.after)(&ctx, &mut remember);
            }
            (judgement, remember)
        };
        match judgement {
            Judgement::Agree => kinds.push(va.kind()),
            Judgement::Allowed(entry) => {
                unmarked.extend(remember);
                masked.push(Masked { entry: entry.name, step: i });
                kinds.push(format!("allowed:{}", entry.name));
            }
            Judgement::Differ => {
                let (ka, kb) = match (&va, &vb) {
                    (Verdict::Ok(x), Verdict::Ok(y)) => {
                        let f = first_difference(x, y).unwrap_or("node.other");
                        (format!("Ok({f})"), format!("Ok({f})"))
                    }
                    _ => (va.kind(), vb.kind()),
                };
                // Known: the same hazard in both (the nodes stay as they were and the comparison
                // goes on), or a known upstream divergence (the nodes now differ: it ends here).
                let (known, goes_on) = match (ca, cb) {
                    (policy::Class::Known(x), policy::Class::Known(y)) if x == y => (policy::known_hazard(x), true),
                    _ => (known::find(step, &va, &vb).and_then(|e| policy::known_hazard(e.hazard)), false),
                };
                let divergence = Divergence {
                    signature: policy::signature(target.name(), (a.name(), ca, &ka), (b.name(), cb, &kb)),
                    step: i,
                    kinds: vec![(a.name().to_string(), ka), (b.name().to_string(), kb)],
                    detail: format!("step {i}: {}={va:?}\n{}={vb:?}", a.name(), b.name()),
                    known,
                };
                if divergence.known.is_none() {
                    return DkgOutcome::Diverge(divergence);
                }
                if !goes_on {
                    return DkgOutcome::Diverge(first_known.unwrap_or(divergence));
                }
                // Both reproduce the hazard as an error: the nodes stay as they were and the
                // remaining steps are still compared.
                kinds.push(va.kind());
                first_known.get_or_insert(divergence);
            }
        }
        if let Verdict::Ok(n) = va {
            na = *n;
        }
        if let Verdict::Ok(n) = vb {
            nb = *n;
        }
    }
    match first_known {
        Some(d) => DkgOutcome::Diverge(d),
        None if masked.is_empty() => DkgOutcome::Agree { kinds },
        None => DkgOutcome::Allowed { masked, kinds },
    }
}

/// `dkg_packet` on `data` with `config`.
pub fn run_dkg_packet_with(data: &[u8], config: &DkgConfig) -> DkgOutcome {
    let case = decode_packet_case(data);
    let (node, packet, now) = case.resolve(config.mode);
    compare(DkgTarget::Packet, &node, &[ResolvedStep::Packet(packet, now)], config, &dkg_drand::Drand, &dkg_spec::Spec)
}

/// `dkg_sequence` on `data` with `config`.
pub fn run_dkg_sequence_with(data: &[u8], config: &DkgConfig) -> DkgOutcome {
    let case = decode_sequence_case(data);
    let (node, steps) = case.resolve(config.mode);
    compare(DkgTarget::Sequence, &node, &steps, config, &dkg_drand::Drand, &dkg_spec::Spec)
}

/// `dkg_packet` with the default config (Real BLS, strict).
pub fn run_dkg_packet(data: &[u8]) -> DkgOutcome {
    run_dkg_packet_with(data, &DkgConfig::default())
}

/// `dkg_sequence` with the default config (Real BLS, strict).
pub fn run_dkg_sequence(data: &[u8]) -> DkgOutcome {
    run_dkg_sequence_with(data, &DkgConfig::default())
}

/// The build of `dkg-drand` under test (`""` = default, else the bug features), for reports.
pub fn drand_build() -> &'static str {
    dkg_drand::build_features()
}
