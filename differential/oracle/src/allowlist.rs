//! Intended reason differences (architecture.md §4): pairs of rejection reasons that two
//! implementations may legitimately give for the same input, each with its explanation. Like
//! regex's `testdata/`, the table is meant to be read: an entry without a convincing explanation is
//! a bug being hidden.
//!
//! The runner consults it only under `reason` strictness, and only when both sides reject.

use crate::target::Target;
use diverge_types::Reject;

/// One allowed difference. Symmetric in the two reasons.
#[derive(Debug)]
pub struct Allowed {
    /// The target it applies to; `None` for every target.
    pub target: Option<Target>,
    /// The implementation allowed to give `its_reason` (e.g. `"fast"`).
    pub implementation: &'static str,
    /// What that implementation reports.
    pub its_reason: Reject,
    /// What the others report for the same input.
    pub others_reason: Reject,
    /// Why this is intended and not a bug.
    pub why: &'static str,
}

/// The table. Empty while every implementation reports the spec's first failing assertion.
pub const ALLOWLIST: &[Allowed] = &[];

/// The entry that allows implementation `a` to reject with one reason where `b` rejects with
/// another, if any.
pub fn allowed(target: Target, a: (&str, Reject), b: (&str, Reject)) -> Option<&'static Allowed> {
    allowed_in(ALLOWLIST, target, a, b)
}

/// [`allowed`] over any table: an entry matches its exact target, implementation and pair of
/// reasons, in either order of the two sides.
pub fn allowed_in<'t>(table: &'t [Allowed], target: Target, a: (&str, Reject), b: (&str, Reject)) -> Option<&'t Allowed> {
    table.iter().find(|e| {
        e.target.is_none_or(|t| t == target)
            && ((e.implementation == a.0 && e.its_reason == a.1 && e.others_reason == b.1)
                || (e.implementation == b.0 && e.its_reason == b.1 && e.others_reason == a.1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Allowed] = &[Allowed {
        target: Some(Target::Attestation),
        implementation: "fast",
        its_reason: Reject::AttestationTooEarly,
        others_reason: Reject::AttestationTooLate,
        why: "test entry",
    }];

    #[test]
    fn an_entry_matches_its_exact_case_and_no_near_miss() {
        let hit = allowed_in(TABLE, Target::Attestation, ("spec", Reject::AttestationTooLate), ("fast", Reject::AttestationTooEarly));
        assert!(hit.is_some());
        // Near misses: other target, other implementation, reasons swapped between the sides,
        // another reason.
        assert!(allowed_in(TABLE, Target::Block, ("spec", Reject::AttestationTooLate), ("fast", Reject::AttestationTooEarly)).is_none());
        assert!(allowed_in(TABLE, Target::Attestation, ("fast", Reject::AttestationTooLate), ("spec", Reject::AttestationTooEarly)).is_none());
        assert!(allowed_in(TABLE, Target::Attestation, ("spec", Reject::AttestationTooEarly), ("fast", Reject::AttestationTooLate)).is_none());
        assert!(allowed_in(TABLE, Target::Attestation, ("spec", Reject::Internal), ("fast", Reject::AttestationTooEarly)).is_none());
    }
}
