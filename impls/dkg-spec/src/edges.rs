//! The edge table of dkg.md §2 ("Allowed edges"), as a table. Any edge not listed is
//! `InvalidStateChange(from, to)`.

use dkg_types::Status::{self, *};

/// `(from, allowed targets)`, one row per source status, in dkg.md's grouping.
pub const EDGES: [(Status, &[Status]); 12] = [
    (Fresh, &[Proposing, Proposed]),
    (Complete, &[Proposing, Proposed]),
    (Aborted, &[Proposing, Proposed]),
    (Proposing, &[Executing, Aborted, TimedOut]),
    (Accepted, &[Executing, Aborted, TimedOut]),
    (Proposed, &[Accepted, Rejected, Joined, Left, Aborted, TimedOut]),
    (Rejected, &[Aborted, TimedOut]),
    (Joined, &[Left, Executing, Aborted, TimedOut]),
    (Executing, &[Complete, TimedOut, Failed]),
    (Left, &[Joined, Aborted, Proposed]),
    (TimedOut, &[Proposing, Proposed, Aborted]),
    (Failed, &[Proposing, Proposed, Left, Aborted]),
];

/// Whether `from → to` is a row of [`EDGES`].
pub fn allowed(from: Status, to: Status) -> bool {
    EDGES.iter().any(|(f, tos)| *f == from && tos.contains(&to))
}

/// `Ok` for an allowed edge, else `InvalidStateChange(from, to)`.
///
/// # Errors
/// `InvalidStateChange(from, to)` when the edge is not in the table.
pub fn require(from: Status, to: Status) -> Result<(), dkg_types::DkgError> {
    if allowed(from, to) {
        Ok(())
    } else {
        Err(dkg_types::DkgError::InvalidStateChange(from, to))
    }
}
