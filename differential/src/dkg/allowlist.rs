//! Intended differences between `dkg-drand` (Go, quirks included) and `dkg-spec` (dkg.md's plain
//! reading). Each entry says why the difference is not a bug in either implementation; anything
//! not matched here is a finding. Like regex's `testdata/`: a readable table, one reason each.

use super::Verdict;
use dkg_types::input::ResolvedStep;
use dkg_types::{Command, DkgError, NodeState};

/// One allowed difference.
pub struct Entry {
    /// Stable name.
    pub name: &'static str,
    /// Why it is intended.
    pub reason: &'static str,
    /// Whether `(step, node before, drand verdict, spec verdict)` is this difference.
    pub matches: fn(&ResolvedStep, &NodeState, &Verdict, &Verdict) -> bool,
}

/// The table.
pub const ALLOWLIST: &[Entry] = &[
    Entry {
        name: "join-group-file-precheck",
        reason: "drand's StartJoin (actions_active.go) rejects a missing group file after epoch 1 with an unnamed error before DBState.Joined runs; the spec applies the state machine's checks in dkg.md order (edge, timeout, role) and names ErrJoiningAfterFirstEpochNeedsGroupFile. Both reject.",
        matches: |step, _, a, b| {
            matches!(step, ResolvedStep::Command(Command::Join(None), _))
                && matches!(a, Verdict::Err(DkgError::GroupFileRequired))
                && matches!(b, Verdict::Err(_))
        },
    },
    Entry {
        name: "reject-role-order",
        reason: "Go's DBState.Rejected checks joining before leaving while Accepted checks leaving first; dkg.md lists Leaving/Joining for both and the spec keeps one order. Differs only for a node listed as both joiner and leaver; both reject.",
        matches: |step, _, a, b| {
            matches!(step, ResolvedStep::Command(Command::Reject, _))
                && matches!(a, Verdict::Err(DkgError::CannotRejectProposalWhereJoining))
                && matches!(b, Verdict::Err(DkgError::CannotRejectProposalWhereLeaving))
        },
    },
    Entry {
        name: "seen-without-recipients",
        reason: "Go's gossip (actions.go) returns before marking SeenPackets when no recipient other than the node itself is left; dkg.md says gossip marks the packet and the spec marks every accepted packet. Same stored state; only the in-memory seen set differs.",
        matches: |_, _, a, b| match (a, b) {
            (Verdict::Ok(x), Verdict::Ok(y)) => {
                x.current == y.current && x.finished == y.finished && x.seen != y.seen && x.seen.is_subset(&y.seen)
            }
            _ => false,
        },
    },
];

/// The entry explaining `(drand verdict, spec verdict)` at this step, if any.
pub fn find(step: &ResolvedStep, before: &NodeState, a: &Verdict, b: &Verdict) -> Option<&'static Entry> {
    ALLOWLIST.iter().find(|e| (e.matches)(step, before, a, b))
}
