//! dkg.md §5 invariants, checked on every step of every implementation:
//! - no panic: a step never panics (a panic is the `Crash` verdict, always reported as a
//!   divergence `Crash/<other>` by the comparison, even when both crash);
//! - `edge-in-table`: a status change of the stored current state is an edge of dkg.md §2's table
//!   (this module's own copy, independent of both implementations);
//! - `finished-monotone`: the finished epoch never decreases and the finished state changes only
//!   through the `Complete` execution outcome;
//! - `duplicate-unchanged`: a packet whose signature was already seen leaves the node identical.
//!
//! "A rejected packet leaves the node byte-identical" holds by construction: implementations get
//! `&NodeState` and return a new node only on `Ok`; the runner keeps the old node on `Err`.

use super::Verdict;
use dkg_types::input::ResolvedStep;
use dkg_types::{Command, NodeState, Status};

fn edge(from: Status, to: Status) -> bool {
    use Status::*;
    let allowed: &[Status] = match from {
        Fresh | Complete | Aborted => &[Proposing, Proposed],
        Proposing | Accepted => &[Executing, Aborted, TimedOut],
        Proposed => &[Accepted, Rejected, Joined, Left, Aborted, TimedOut],
        Rejected => &[Aborted, TimedOut],
        Joined => &[Left, Executing, Aborted, TimedOut],
        Executing => &[Complete, TimedOut, Failed],
        Left => &[Joined, Aborted, Proposed],
        TimedOut => &[Proposing, Proposed, Aborted],
        Failed => &[Proposing, Proposed, Left, Aborted],
    };
    allowed.contains(&to)
}

fn status(n: &NodeState) -> Status {
    n.current.as_ref().map(|c| c.state).unwrap_or(Status::Fresh)
}

/// Checks one step of one implementation.
///
/// # Errors
/// The name of the violated invariant.
pub fn check(before: &NodeState, step: &ResolvedStep, verdict: &Verdict) -> Result<(), &'static str> {
    let after = match verdict {
        Verdict::Crash(_) | Verdict::Err(_) => return Ok(()),
        Verdict::Ok(n) => n,
    };
    let (from, to) = (status(before), status(after));
    if from != to && !edge(from, to) {
        return Err("edge-in-table");
    }
    if before.finished != after.finished {
        let is_complete = matches!(step, ResolvedStep::Command(Command::Complete { .. }, _));
        let e0 = before.finished.as_ref().map(|f| f.epoch).unwrap_or(0);
        let e1 = after.finished.as_ref().map(|f| f.epoch).unwrap_or(0);
        if !is_complete || e1 < e0 || after.finished.is_none() {
            return Err("finished-monotone");
        }
    }
    if let ResolvedStep::Packet(p, _) = step {
        let sig = p.metadata.as_ref().map(|m| hex::encode(&m.signature));
        if sig.is_some_and(|s| before.seen.contains(&s)) && **after != *before {
            return Err("duplicate-unchanged");
        }
    }
    Ok(())
}
