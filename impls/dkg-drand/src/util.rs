//! Port of `internal/util/participant_utils.go` at f45e7e04: the participant set operations, with
//! their inconsistent notions of equality (full for `Contains`/`Without`, address-only for
//! `ContainsAll`).

use dkg_types::model::{equal_participant, Participant};

/// `util.Contains(haystack, needle)`: full (address, key, PoP) equality; a `None` needle matches
/// an all-empty participant (Go's nil-safe getters).
pub fn contains(haystack: &[Participant], needle: Option<&Participant>) -> bool {
    haystack.iter().any(|v| equal_participant(Some(v), needle))
}

/// `util.ContainsAll(haystack, needles)`: every needle's **address** is some haystack address.
pub fn contains_all(haystack: &[Participant], needles: &[Participant]) -> bool {
    let found: std::collections::BTreeSet<&str> = haystack.iter().map(|p| p.address.as_str()).collect();
    needles.iter().all(|n| found.contains(n.address.as_str()))
}

/// `util.Without(haystack, needle)`: removes every fully-equal entry (nil result when empty).
pub fn without(haystack: &[Participant], needle: Option<&Participant>) -> Vec<Participant> {
    haystack.iter().filter(|v| !equal_participant(Some(v), needle)).cloned().collect()
}

/// `util.Filter(list, util.NonEmpty)`: keeps participants with a non-empty address.
pub fn non_empty(list: &[Participant]) -> Vec<Participant> {
    list.iter().filter(|p| !p.address.is_empty()).cloned().collect()
}

/// `util.Concat(a, b, ...)`.
pub fn concat(lists: &[&[Participant]]) -> Vec<Participant> {
    lists.iter().flat_map(|l| l.iter().cloned()).collect()
}
