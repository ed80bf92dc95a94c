//! Known upstream hazards that show as a *disagreement*: drand's pinned stack does something the
//! model refuses on purpose, and the port reproduces it. Each entry matches one exact condition
//! (the step and both verdicts) and turns the divergence into a finding marked known
//! ([`crate::policy::KnownHazard`]) instead of a new one. Unlike an allowlist entry it masks
//! nothing: the finding is written and reported; triage counts it apart.

use super::Verdict;
use dkg_types::input::ResolvedStep;
use dkg_types::{Command, DkgError, Packet, Participant};

/// One known divergence.
pub struct Entry {
    /// The [`crate::policy::KNOWN_HAZARDS`] name it is.
    pub hazard: &'static str,
    /// Whether `(step, drand verdict, spec verdict)` is this hazard.
    pub matches: fn(&ResolvedStep, &Verdict, &Verdict) -> bool,
}

/// The compressed G1 point at infinity: `0xc0` then 47 zero bytes.
pub fn is_identity_key(p: &Participant) -> bool {
    p.key.len() == 48 && p.key.first() == Some(&0xc0) && p.key.iter().skip(1).all(|b| *b == 0)
}

/// Whether the step itself lists a participant whose key is the identity (a proposal packet's
/// leader, joiners, remainers or leavers; a local proposal command's participants).
fn step_lists_identity_key(step: &ResolvedStep) -> bool {
    match step {
        ResolvedStep::Packet(p, _) => match &p.packet {
            Some(Packet::Proposal(t)) => t.leader.iter().chain(&t.joining).chain(&t.remaining).chain(&t.leaving).any(is_identity_key),
            _ => false,
        },
        ResolvedStep::Command(Command::Initial(o), _) => o.joining.iter().any(is_identity_key),
        ResolvedStep::Command(Command::Resharing(o), _) => o.joining.iter().chain(&o.remaining).chain(&o.leaving).any(is_identity_key),
        ResolvedStep::Command(..) => false,
    }
}

/// The table.
pub const KNOWN: &[Entry] = &[Entry {
    hazard: "IdentityKeyAccepted",
    matches: |step, drand, spec| {
        matches!(spec, Verdict::Err(DkgError::InvalidKeyScheme | DkgError::InvalidSenderKey))
            && !matches!(drand, Verdict::Err(DkgError::InvalidKeyScheme | DkgError::InvalidSenderKey) | Verdict::Crash(_))
            && step_lists_identity_key(step)
    },
}];

/// The known hazard this divergence is, if any.
pub fn find(step: &ResolvedStep, drand: &Verdict, spec: &Verdict) -> Option<&'static Entry> {
    KNOWN.iter().find(|e| (e.matches)(step, drand, spec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dkg_types::pool::{pool_state, NOW0};
    use dkg_types::{BlsMode, GoTime};

    #[test]
    fn identity_key_acceptance_matches_exactly() {
        let case = dkg_types::scenarios::identity_key_joiner();
        let (node, packet, now) = case.resolve(BlsMode::AssumeValid);
        let step = ResolvedStep::Packet(packet, now);
        let ok = Verdict::Ok(Box::new(node.clone()));
        let key = Verdict::Err(DkgError::InvalidKeyScheme);
        assert_eq!(find(&step, &ok, &key).map(|e| e.hazard), Some("IdentityKeyAccepted"));
        assert_eq!(find(&step, &Verdict::Err(DkgError::SelfMissingFromProposal), &key).map(|e| e.hazard), Some("IdentityKeyAccepted"));
        // Near misses: both reject the key; the spec rejects for another reason; drand crashes;
        // no identity key in the step.
        assert!(find(&step, &key, &key).is_none());
        assert!(find(&step, &ok, &Verdict::Err(DkgError::BadSignature)).is_none());
        assert!(find(&step, &Verdict::Crash("x".into()), &key).is_none());
        let plain = dkg_types::scenarios::packet_seeds().into_iter().find(|s| s.name != "identity-key-joiner").map(|s| s.case.resolve(BlsMode::AssumeValid)).unwrap();
        assert!(find(&ResolvedStep::Packet(plain.1, plain.2), &ok, &key).is_none());
        let abort = ResolvedStep::Command(Command::Abort, GoTime::unix(NOW0, 0));
        assert!(find(&abort, &Verdict::Ok(Box::new(pool_state(3))), &key).is_none());
    }
}
