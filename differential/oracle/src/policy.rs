//! The one verdict-equivalence policy (architecture.md §4.2), used by every target: the phase0
//! runner ([`crate::runner::compare`]) and the DKG comparison ([`crate::dkg::compare`]) both map
//! their verdicts onto a [`Class`] and ask [`judge`] whether two of them agree.
//!
//! The rules, in full:
//! - two acceptances agree when their results (post-state, node state) are equal;
//! - two rejections agree when their reasons are equal, or under `outcome` strictness whatever
//!   the reasons, or when an allowlist entry names exactly this difference;
//! - nothing else ever agrees: a [`Class::Crash`], a [`Class::Timeout`], a [`Class::Internal`]
//!   ("cannot happen" inside an implementation) or a [`Class::Known`] upstream hazard is unequal
//!   to every verdict, itself included. Two implementations that crash on the same input are a
//!   finding whose signature says so ([`signature`]: `attestation: spec+fast: crash/crash`), since
//!   a panic in code both share, or the same panic in both, is still a bug;
//! - an allowlist entry is consulted only for two comparable verdicts (acceptances or named
//!   rejections) that differ, and masks that one difference: never a crash, a timeout, an
//!   internal error or a known hazard.

use crate::target::Strictness;

/// What the policy needs to know of one implementation's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class<'a> {
    /// Accepted; whether two results are equal is the caller's to say.
    Accepted,
    /// Rejected for a named reason (`AttestationTooEarly`, `InvalidEpoch`).
    Rejected(&'a str),
    /// The implementation's own "cannot happen" (`Reject::Internal`): always a finding.
    Internal,
    /// Panicked, or its process died.
    Crash,
    /// Ran past the time budget.
    Timeout,
    /// A hazard of the upstream code that the implementation reproduces on purpose (drand's
    /// `Deadlock`, `NilDereference`): a finding, marked [`KnownHazard`] in `finding.json`.
    Known(&'a str),
}

impl Class<'_> {
    /// Whether a verdict of this class can agree with any other verdict at all.
    pub fn comparable(self) -> bool {
        matches!(self, Class::Accepted | Class::Rejected(_))
    }
}

/// How two verdicts relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement<A> {
    /// They agree.
    Agree,
    /// They differ in the way the allowlist entry `A` explains; only this difference is masked.
    Allowed(A),
    /// They differ: a finding.
    Differ,
}

/// Judges two verdicts. `same_result` is asked only for two acceptances; `allowlist` only for
/// two comparable verdicts that differ.
pub fn judge<A>(a: Class<'_>, b: Class<'_>, strictness: Strictness, same_result: impl FnOnce() -> bool, allowlist: impl FnOnce() -> Option<A>) -> Judgement<A> {
    let agree = match (a, b) {
        (Class::Accepted, Class::Accepted) => same_result(),
        (Class::Rejected(x), Class::Rejected(y)) => strictness == Strictness::Outcome || x == y,
        _ => false,
    };
    if agree {
        return Judgement::Agree;
    }
    if !(a.comparable() && b.comparable()) {
        return Judgement::Differ;
    }
    allowlist().map_or(Judgement::Differ, Judgement::Allowed)
}

/// The stable, number-free signature of a finding between two named sides with their verdict
/// kinds: `<target>: <a>-vs-<b>: <kind a>/<kind b>` when they disagree, and
/// `<target>: <a>+<b>: <kind>/<kind>` when both have the same verdict that can never agree
/// (two crashes, two timeouts, `Internal` on both sides, the same known hazard in both).
pub fn signature(target: &str, a: (&str, Class<'_>, &str), b: (&str, Class<'_>, &str)) -> String {
    let shared = a.1 == b.1 && !a.1.comparable() && a.2 == b.2;
    let join = if shared { "+" } else { "-vs-" };
    strip_numbers(&format!("{target}: {}{join}{}: {}/{}", a.0, b.0, a.2, b.2))
}

/// Removes ASCII digits: `validators[17].slashed` → `validators[].slashed`. Signatures never
/// carry numbers, so one bug gives one signature whatever the input.
pub fn strip_numbers(text: &str) -> String {
    text.chars().filter(|c| !c.is_ascii_digit()).collect()
}

/// An upstream hazard the implementations reproduce on purpose, as recorded in `finding.json`
/// (`known`): the suite shows it, and `diverge triage` counts it apart from new findings.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnownHazard {
    /// The verdict kind that names it (`NilDereference`, `Deadlock`).
    pub hazard: String,
    /// Where upstream has it (repository, commit, file, function).
    pub reference: String,
}

/// The known upstream hazards: verdict kind and upstream reference.
pub const KNOWN_HAZARDS: &[(&str, &str)] = &[
    (
        "NilDereference",
        "drand/drand@f45e7e04 internal/dkg: a nil pointer dereference that gRPC recovery turns into an error (state_machine.go DBState.Proposed/Aborted/Executing read Leader.Address unguarded; validateReshareForRemainers reads FinalGroup.Nodes of a Left state reached from Proposed, dkg.md §4.3; process.go BroadcastDKG reads packet.Dkg.Metadata)",
    ),
    (
        "IdentityKeyAccepted",
        "drand/drand@f45e7e04 go.mod pins drand/kyber-bls12381 v0.3.4 (kilic/bls12-381 v0.1.0): kyber_g1.go UnmarshalBinary -> kilic g1.go FromCompressed decodes 0xc0||0^47 to the identity and accepts it; kyber sign/bls Verify (bls.go) has no identity check and the kilic pairing engine skips zero points, so an identity key verifies the identity signature on every message (state_machine.go validateJoinerSignatures, actions_signing.go verifyMessage). The model rejects the identity (IETF KeyValidate)",
    ),
    (
        "Deadlock",
        "drand/drand@f45e7e04 internal/dkg/process.go: Process.Packet holds d.lock and BroadcastDKG locks it again, so any dkg gossip packet with inner metadata blocks forever (dkg.md §4.3)",
    ),
];

/// The [`KnownHazard`] a verdict kind names, if any.
pub fn known_hazard(kind: &str) -> Option<KnownHazard> {
    KNOWN_HAZARDS.iter().find(|(k, _)| *k == kind).map(|(k, r)| KnownHazard { hazard: (*k).to_string(), reference: (*r).to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Class::*;

    fn j(a: Class<'_>, b: Class<'_>, strictness: Strictness, same: bool) -> Judgement<&'static str> {
        judge(a, b, strictness, || same, || None)
    }

    #[test]
    fn acceptances_agree_only_on_equal_results() {
        assert_eq!(j(Accepted, Accepted, Strictness::Reason, true), Judgement::Agree);
        assert_eq!(j(Accepted, Accepted, Strictness::Reason, false), Judgement::Differ);
        assert_eq!(j(Accepted, Accepted, Strictness::Outcome, false), Judgement::Differ);
    }

    #[test]
    fn rejections_agree_on_reason_or_under_outcome() {
        assert_eq!(j(Rejected("A"), Rejected("A"), Strictness::Reason, false), Judgement::Agree);
        assert_eq!(j(Rejected("A"), Rejected("B"), Strictness::Reason, false), Judgement::Differ);
        assert_eq!(j(Rejected("A"), Rejected("B"), Strictness::Outcome, false), Judgement::Agree);
        assert_eq!(j(Accepted, Rejected("A"), Strictness::Outcome, true), Judgement::Differ);
    }

    #[test]
    fn crash_timeout_internal_known_never_agree_even_with_themselves() {
        for strictness in [Strictness::Reason, Strictness::Outcome] {
            for x in [Crash, Timeout, Internal, Known("Deadlock")] {
                assert_eq!(j(x, x, strictness, true), Judgement::Differ, "{x:?}/{x:?}");
                for y in [Accepted, Rejected("A"), Crash, Timeout, Internal, Known("NilDereference")] {
                    assert_eq!(j(x, y, strictness, true), Judgement::Differ, "{x:?}/{y:?}");
                    assert_eq!(j(y, x, strictness, true), Judgement::Differ, "{y:?}/{x:?}");
                }
            }
        }
    }

    #[test]
    fn allowlist_masks_only_comparable_differences() {
        let allow = || Some("entry");
        assert_eq!(judge(Rejected("A"), Rejected("B"), Strictness::Reason, || true, allow), Judgement::Allowed("entry"));
        assert_eq!(judge(Accepted, Accepted, Strictness::Reason, || false, allow), Judgement::Allowed("entry"));
        assert_eq!(judge(Accepted, Rejected("B"), Strictness::Reason, || false, allow), Judgement::Allowed("entry"));
        for x in [Crash, Timeout, Internal, Known("Deadlock")] {
            assert_eq!(judge(x, Rejected("B"), Strictness::Reason, || true, allow), Judgement::Differ);
            assert_eq!(judge(x, x, Strictness::Reason, || true, allow), Judgement::Differ);
        }
        // Agreement never consults the allowlist.
        assert_eq!(judge(Rejected("A"), Rejected("A"), Strictness::Reason, || true, || -> Option<&str> { panic!("consulted") }), Judgement::Agree);
    }

    #[test]
    fn signatures_say_when_every_side_failed_alike() {
        assert_eq!(signature("attestation", ("spec", Crash, "crash"), ("fast", Crash, "crash")), "attestation: spec+fast: crash/crash");
        assert_eq!(signature("block", ("spec", Timeout, "timeout"), ("fast", Timeout, "timeout")), "block: spec+fast: timeout/timeout");
        assert_eq!(signature("deposit", ("spec", Internal, "Internal"), ("fast", Internal, "Internal")), "deposit: spec+fast: Internal/Internal");
        assert_eq!(signature("attestation", ("spec", Crash, "crash"), ("fast", Accepted, "valid")), "attestation: spec-vs-fast: crash/valid");
        assert_eq!(
            signature("dkg_packet", ("drand", Known("NilDereference"), "NilDereference"), ("spec", Known("Deadlock"), "Deadlock")),
            "dkg_packet: drand-vs-spec: NilDereference/Deadlock"
        );
        assert_eq!(signature("attestation", ("spec", Rejected("A"), "A"), ("fast", Rejected("B"), "B")), "attestation: spec-vs-fast: A/B");
    }

    #[test]
    fn known_hazards_have_references() {
        assert_eq!(known_hazard("Deadlock").map(|k| k.hazard), Some("Deadlock".to_string()));
        assert!(known_hazard("NilDereference").is_some_and(|k| k.reference.contains("f45e7e04")));
        assert_eq!(known_hazard("InvalidEpoch"), None);
    }
}
