//! The validation rules of dkg.md §2 as ordered lists of named predicates. A rule has a guard
//! (when it applies), a failure predicate and the error it raises; the first failing applicable
//! rule wins, so list order is the documented check order.

use dkg_types::bls::{self, BlsMode};
use dkg_types::model::{DbState, Participant, ProposalTerms};
use dkg_types::{DkgError, GoTime, Status};

/// What a proposal check looks at.
pub struct ProposalCheck {
    /// The base state (dkg.md §3).
    pub base: DbState,
    /// The proposal.
    pub terms: ProposalTerms,
    /// This node.
    pub me: Participant,
    /// `metadata.address` (empty for a local proposal).
    pub sender: String,
    /// The clock.
    pub now: GoTime,
    /// BLS mode for joiner PoPs.
    pub mode: BlsMode,
}

/// One named rule over `C`.
pub struct Rule<C> {
    /// Rule name (for reading and reports).
    pub name: &'static str,
    /// Applies only when this holds.
    pub applies: fn(&C) -> bool,
    /// The rule is violated when this holds.
    pub violated: fn(&C) -> bool,
    /// The error a violation raises.
    pub error: fn(&C) -> DkgError,
}

/// Runs `rules` in order.
///
/// # Errors
/// The error of the first applicable violated rule.
pub fn check<C>(rules: &[Rule<C>], c: &C) -> Result<(), DkgError> {
    for r in rules {
        if (r.applies)(c) && (r.violated)(c) {
            return Err((r.error)(c));
        }
    }
    Ok(())
}

/// Full (address, key, PoP) membership; an absent participant is the all-empty one.
pub fn member(list: &[Participant], p: Option<&Participant>) -> bool {
    let empty = Participant::default();
    let p = p.unwrap_or(&empty);
    list.iter().any(|x| x == p)
}

/// Address-only inclusion: every address of `sub` appears in `sup`.
pub fn addresses_within(sub: &[Participant], sup: &[Participant]) -> bool {
    sub.iter().all(|s| sup.iter().any(|p| p.address == s.address))
}

fn always<C>(_: &C) -> bool {
    true
}
fn first_epoch(c: &ProposalCheck) -> bool {
    c.terms.epoch == 1
}
fn reshare(c: &ProposalCheck) -> bool {
    c.terms.epoch != 1
}
fn remainer_reshare(c: &ProposalCheck) -> bool {
    c.terms.epoch != 1 && c.base.state != Status::Fresh
}
fn as_count(x: u32) -> usize {
    usize::try_from(x).unwrap_or(usize::MAX)
}
fn node_count(c: &ProposalCheck) -> usize {
    // Unfiltered lists, as drand counts them.
    c.terms.joining.len().saturating_add(c.terms.remaining.len())
}
fn proposed_old_nodes(c: &ProposalCheck) -> Vec<Participant> {
    c.terms.remaining.iter().chain(c.terms.leaving.iter()).cloned().collect()
}
fn qual(c: &ProposalCheck) -> &[Participant] {
    c.base.final_group.as_ref().map(|g| g.nodes.as_slice()).unwrap_or_default()
}

/// `ValidateProposal(base, terms)`: validateForAllDKGs, then validateFirstEpoch (epoch 1) or
/// validateReshareTerms and, unless the base is Fresh, validateReshareForRemainers.
pub const VALIDATE_PROPOSAL: &[Rule<ProposalCheck>] = &[
    Rule { name: "beacon id matches", applies: always, violated: |c| c.base.beacon_id != c.terms.beacon_id, error: |_| DkgError::InvalidBeaconID },
    Rule { name: "scheme exists", applies: always, violated: |c| bls::scheme_from_name(&c.terms.scheme_id).is_none(), error: |_| DkgError::InvalidScheme },
    Rule {
        name: "every joiner has a valid identity and PoP",
        applies: always,
        violated: |c| !c.terms.joining.iter().all(|p| crate::bls::valid_identity(c.mode, &c.terms.scheme_id, &p.address, &p.key, &p.signature)),
        error: |_| DkgError::InvalidKeyScheme,
    },
    Rule { name: "timeout not before now", applies: always, violated: |c| GoTime::as_time(c.terms.timeout.as_ref()) < c.now, error: |_| DkgError::TimeoutReached },
    Rule { name: "threshold <= joining+remaining", applies: always, violated: |c| as_count(c.terms.threshold) > node_count(c), error: |_| DkgError::ThresholdHigherThanNodeCount },
    Rule { name: "threshold >= n/2+1", applies: always, violated: |c| as_count(c.terms.threshold) < (node_count(c) / 2).saturating_add(1), error: |_| DkgError::ThresholdTooLow },
    Rule { name: "epoch not below base", applies: always, violated: |c| c.terms.epoch < c.base.epoch, error: |_| DkgError::InvalidEpoch },
    Rule {
        name: "same epoch only after abort/timeout/failure",
        applies: always,
        violated: |c| c.terms.epoch == c.base.epoch && !matches!(c.base.state, Status::Aborted | Status::TimedOut | Status::Failed),
        error: |_| DkgError::InvalidEpoch,
    },
    Rule {
        name: "epoch jump only from Left or Fresh",
        applies: always,
        violated: |c| c.terms.epoch > c.base.epoch.wrapping_add(1) && !matches!(c.base.state, Status::Left | Status::Fresh),
        error: |_| DkgError::InvalidEpoch,
    },
    Rule { name: "first epoch: no genesis seed", applies: first_epoch, violated: |c| !c.terms.genesis_seed.is_empty(), error: |_| DkgError::NoGenesisSeedForFirstEpoch },
    Rule { name: "first epoch: joiners only", applies: first_epoch, violated: |c| !c.terms.remaining.is_empty() || !c.terms.leaving.is_empty(), error: |_| DkgError::OnlyJoinersAllowedForFirstEpoch },
    Rule { name: "first epoch: leader joins", applies: first_epoch, violated: |c| !member(&c.terms.joining, c.terms.leader.as_ref()), error: |_| DkgError::LeaderNotJoining },
    Rule { name: "first epoch: |joining| >= threshold", applies: first_epoch, violated: |c| c.terms.joining.len() < as_count(c.terms.threshold), error: |_| DkgError::ThresholdHigherThanNodeCount },
    Rule { name: "reshare: someone remains", applies: reshare, violated: |c| c.terms.remaining.is_empty(), error: |_| DkgError::NoNodesRemaining },
    Rule { name: "reshare: leader not joining", applies: reshare, violated: |c| member(&c.terms.joining, c.terms.leader.as_ref()), error: |_| DkgError::LeaderCantJoinAfterFirstEpoch },
    Rule {
        name: "reshare: leader remains",
        applies: reshare,
        violated: |c| member(&c.terms.leaving, c.terms.leader.as_ref()) || !member(&c.terms.remaining, c.terms.leader.as_ref()),
        error: |_| DkgError::LeaderNotRemaining,
    },
    Rule { name: "reshare: |remaining| >= old threshold", applies: reshare, violated: |c| c.terms.remaining.len() < as_count(c.base.threshold), error: |_| DkgError::NodeCountTooLow },
    Rule {
        name: "remainers: genesis time unchanged (Unix seconds)",
        applies: remainer_reshare,
        violated: |c| GoTime::as_time(c.terms.genesis_time.as_ref()).unix_seconds() != c.base.genesis_time.unix_seconds(),
        error: |_| DkgError::GenesisTimeNotEqual,
    },
    Rule { name: "remainers: genesis seed unchanged", applies: remainer_reshare, violated: |c| c.terms.genesis_seed != c.base.genesis_seed, error: |_| DkgError::GenesisSeedCannotChange },
    Rule {
        name: "remainers: base has a final group (Go reads FinalGroup.Nodes unguarded)",
        applies: remainer_reshare,
        violated: |c| c.base.final_group.is_none(),
        error: |_| DkgError::NilDereference("FinalGroup.Nodes"),
    },
    Rule {
        name: "remainers: remaining+leaving within the final group (addresses)",
        applies: remainer_reshare,
        violated: |c| !addresses_within(&proposed_old_nodes(c), qual(c)),
        error: |_| DkgError::RemainingAndLeavingNodesMustExistInCurrentEpoch,
    },
    Rule {
        name: "remainers: the final group within remaining+leaving (addresses)",
        applies: remainer_reshare,
        violated: |c| !addresses_within(qual(c), &proposed_old_nodes(c)),
        error: |_| DkgError::MissingNodesInProposal,
    },
    Rule { name: "remainers: |remaining| >= old threshold", applies: remainer_reshare, violated: |c| c.terms.remaining.len() < as_count(c.base.threshold), error: |_| DkgError::NodeCountTooLow },
];

/// A received Proposal: edge, leader is the sender, `ValidateProposal`, self included.
pub const RECEIVED_PROPOSAL_PRE: &[Rule<ProposalCheck>] = &[
    Rule {
        name: "edge to Proposed",
        applies: always,
        violated: |c| !crate::edges::allowed(c.base.state, Status::Proposed),
        error: |c| DkgError::InvalidStateChange(c.base.state, Status::Proposed),
    },
    Rule { name: "proposal names a leader (Go reads Leader.Address unguarded)", applies: always, violated: |c| c.terms.leader.is_none(), error: |_| DkgError::NilDereference("terms.Leader.Address") },
    Rule {
        name: "sender is the leader",
        applies: always,
        violated: |c| c.terms.leader.as_ref().map(|l| l.address.as_str()) != Some(c.sender.as_str()),
        error: |_| DkgError::CannotProposeAsNonLeader,
    },
];

/// After validation of a received proposal.
pub const RECEIVED_PROPOSAL_POST: &[Rule<ProposalCheck>] = &[Rule {
    name: "I am in the proposal",
    applies: always,
    violated: |c| {
        let me = Some(&c.me);
        !member(&c.terms.joining, me) && !member(&c.terms.remaining, me) && !member(&c.terms.leaving, me)
    },
    error: |_| DkgError::SelfMissingFromProposal,
}];

/// A local proposal (`Proposing`): the edge, then `ValidateProposal`, then the Fresh-leader rule.
pub const LOCAL_PROPOSAL_PRE: &[Rule<ProposalCheck>] = &[Rule {
    name: "edge to Proposing",
    applies: always,
    violated: |c| !crate::edges::allowed(c.base.state, Status::Proposing),
    error: |c| DkgError::InvalidStateChange(c.base.state, Status::Proposing),
}];

/// After validation of a local proposal.
pub const LOCAL_PROPOSAL_POST: &[Rule<ProposalCheck>] = &[Rule {
    name: "a Fresh node leads only epoch 1",
    applies: always,
    violated: |c| c.base.state == Status::Fresh && c.terms.epoch > 1,
    error: |_| DkgError::InvalidEpoch,
}];

/// What an Accept/Reject check looks at.
pub struct VoteCheck {
    /// Base (current interim) state.
    pub base: DbState,
    /// The acceptor/rejector named in the packet.
    pub voter: Option<Participant>,
    /// `metadata.address`.
    pub sender: String,
}

fn in_proposal_phase(s: Status) -> bool {
    matches!(s, Status::Proposing | Status::Proposed | Status::Accepted | Status::Rejected | Status::Joined)
}

/// A received Accept.
pub const RECEIVED_ACCEPT: &[Rule<VoteCheck>] = &[
    Rule { name: "proposal phase", applies: always, violated: |c| !in_proposal_phase(c.base.state), error: |_| DkgError::ReceivedAcceptance },
    Rule { name: "acceptor remains", applies: always, violated: |c| !member(&c.base.remaining, c.voter.as_ref()), error: |_| DkgError::UnknownAcceptor },
    Rule { name: "not accepted yet", applies: always, violated: |c| member(&c.base.acceptors, c.voter.as_ref()), error: |_| DkgError::DuplicateAcceptance },
    Rule {
        name: "sender is the acceptor",
        applies: always,
        violated: |c| c.voter.as_ref().map(|v| v.address.as_str()).unwrap_or_default() != c.sender,
        error: |_| DkgError::InvalidAcceptor,
    },
];

/// A received Reject (mirror of Accept).
pub const RECEIVED_REJECT: &[Rule<VoteCheck>] = &[
    Rule { name: "proposal phase", applies: always, violated: |c| !in_proposal_phase(c.base.state), error: |_| DkgError::ReceivedRejection },
    Rule { name: "rejector remains", applies: always, violated: |c| !member(&c.base.remaining, c.voter.as_ref()), error: |_| DkgError::UnknownRejector },
    Rule { name: "not rejected yet", applies: always, violated: |c| member(&c.base.rejectors, c.voter.as_ref()), error: |_| DkgError::DuplicateRejection },
    Rule {
        name: "sender is the rejector",
        applies: always,
        violated: |c| c.voter.as_ref().map(|v| v.address.as_str()).unwrap_or_default() != c.sender,
        error: |_| DkgError::InvalidRejector,
    },
];
