//! Port of `internal/dkg/state_machine.go` at f45e7e04: `isValidStateChange`, the `DBState`
//! transition methods (`Apply`, `Proposed`, `Proposing`, `ReceivedAcceptance`, ...) and
//! `ValidateProposal` with its helpers, in Go's check order.
//!
//! Go's methods mutate the receiver, which is always a fresh copy read from the store; here they
//! take `&DbState` and return the new state. `time.Now()` is the explicit `now`. A Go nil
//! dereference is returned as [`DkgError::NilDereference`] naming the expression.

use crate::util::{contains, contains_all, non_empty, without};
use dkg_types::bls::{self, BlsMode};
use dkg_types::model::{DbState, Group, GroupFile, Packet, Participant, ProposalTerms, Status};
use dkg_types::{DkgError, GoTime};

/// `isValidStateChange(current, next)`.
pub fn is_valid_state_change(current: Status, next: Status) -> bool {
    use Status::*;
    match current {
        Fresh => next == Proposing || next == Proposed,
        Joined => next == Left || next == Executing || next == Aborted || next == TimedOut,
        Proposing => next == Executing || next == Aborted || next == TimedOut,
        Proposed => {
            next == Accepted || next == Rejected || next == Joined || next == Left || next == Aborted || next == TimedOut
        }
        Accepted => next == Executing || next == Aborted || next == TimedOut,
        Rejected => next == Aborted || next == TimedOut,
        Executing => next == Complete || next == TimedOut || next == Failed,
        Complete => next == Proposing || next == Proposed,
        Left => next == Joined || next == Aborted || next == Proposed,
        Aborted => next == Proposing || next == Proposed,
        TimedOut => next == Proposing || next == Proposed || next == Aborted,
        Failed => next == Proposing || next == Proposed || next == Left || next == Aborted,
    }
}

/// `terminalStates`.
pub const TERMINAL_STATES: [Status; 3] = [Status::Aborted, Status::TimedOut, Status::Failed];

fn check_edge(from: Status, to: Status) -> Result<(), DkgError> {
    if is_valid_state_change(from, to) {
        Ok(())
    } else {
        Err(DkgError::InvalidStateChange(from, to))
    }
}

/// `hasTimedOut(d)`: `Timeout.Before(now) || Timeout.Equal(now)`.
pub fn has_timed_out(d: &DbState, now: GoTime) -> bool {
    d.timeout <= now
}

/// `isProposalPhase(d)`.
pub fn is_proposal_phase(d: &DbState) -> bool {
    matches!(d.state, Status::Proposing | Status::Proposed | Status::Accepted | Status::Rejected | Status::Joined)
}

/// The state `Proposed`/`Proposing` build from the terms (lists filtered by `NonEmpty`, no
/// acceptors, no FinalGroup); `seed` differs: terms' seed for Proposed, base's for Proposing.
fn state_from_terms(d: &DbState, terms: &ProposalTerms, status: Status, seed: Vec<u8>) -> DbState {
    DbState {
        beacon_id: d.beacon_id.clone(),
        epoch: terms.epoch,
        state: status,
        threshold: terms.threshold,
        timeout: GoTime::as_time(terms.timeout.as_ref()),
        scheme_id: terms.scheme_id.clone(),
        genesis_time: GoTime::as_time(terms.genesis_time.as_ref()),
        genesis_seed: seed,
        catchup_period: terms.catchup_period_seconds,
        beacon_period: terms.beacon_period_seconds,
        leader: terms.leader.clone(),
        remaining: non_empty(&terms.remaining),
        joining: non_empty(&terms.joining),
        leaving: non_empty(&terms.leaving),
        acceptors: Vec::new(),
        rejectors: Vec::new(),
        final_group: None,
        key_share: None,
    }
}

/// Context of one application: who I am, the clock and the BLS mode (for joiner PoPs).
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// `identityForBeacon`.
    pub me: &'a Participant,
    /// `time.Now()`.
    pub now: GoTime,
    /// Signature mode.
    pub mode: BlsMode,
}

/// `DBState.Apply(me, packet)`; `sender` is `packet.Metadata.Address`.
pub fn apply(d: &DbState, ctx: Ctx<'_>, packet: Option<&Packet>, sender: &str) -> Result<DbState, DkgError> {
    match packet {
        Some(Packet::Proposal(terms)) => proposed(d, ctx, terms, sender),
        Some(Packet::Accept(a)) => received_acceptance(d, a.as_ref(), sender),
        Some(Packet::Reject(r)) => received_rejection(d, r.rejector.as_ref(), sender),
        Some(Packet::Execute(_)) => executing(d, ctx, sender),
        Some(Packet::Abort(_)) => aborted(d, sender),
        // "gossip packets should be handled above": Process.Packet routes them before Apply.
        Some(Packet::Dkg(_)) | None => Err(DkgError::InvalidGossipPacket),
    }
}

/// `DBState.Joined(me, previousGroup)`.
pub fn joined(d: &DbState, ctx: Ctx<'_>, previous_group: Option<&GroupFile>) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Joined)?;
    if has_timed_out(d, ctx.now) {
        return Err(DkgError::TimeoutReached);
    }
    if !contains(&d.joining, Some(ctx.me)) {
        return Err(DkgError::CannotJoinIfNotInJoining);
    }
    validate_previous_group_for_joiners(d, previous_group)?;
    let mut n = d.clone();
    n.state = Status::Joined;
    n.final_group = previous_group.cloned();
    Ok(n)
}

/// `DBState.Proposing(me, terms)`. Go's `terms.Leader != me` is a pointer comparison that the
/// callers (`StartNetwork`, `StartProposal`, both setting `Leader: me`) always pass.
pub fn proposing(d: &DbState, ctx: Ctx<'_>, terms: &ProposalTerms) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Proposing)?;
    validate_proposal(d, terms, ctx.now, ctx.mode)?;
    if d.state == Status::Fresh && terms.epoch > 1 {
        return Err(DkgError::InvalidEpoch);
    }
    Ok(state_from_terms(d, terms, Status::Proposing, d.genesis_seed.clone()))
}

/// `DBState.Proposed(me, terms, metadata)`.
pub fn proposed(d: &DbState, ctx: Ctx<'_>, terms: &ProposalTerms, sender: &str) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Proposed)?;
    let leader = terms.leader.as_ref().ok_or(DkgError::NilDereference("terms.Leader.Address in DBState.Proposed"))?;
    if leader.address != sender {
        return Err(DkgError::CannotProposeAsNonLeader);
    }
    validate_proposal(d, terms, ctx.now, ctx.mode)?;
    let me = Some(ctx.me);
    if !contains(&terms.joining, me) && !contains(&terms.remaining, me) && !contains(&terms.leaving, me) {
        return Err(DkgError::SelfMissingFromProposal);
    }
    Ok(state_from_terms(d, terms, Status::Proposed, terms.genesis_seed.clone()))
}

/// `DBState.TimedOut()` (test-only in drand).
pub fn timed_out(d: &DbState) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::TimedOut)?;
    Ok(DbState { state: Status::TimedOut, ..d.clone() })
}

/// `DBState.StartAbort()`.
pub fn start_abort(d: &DbState) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Aborted)?;
    Ok(DbState { state: Status::Aborted, ..d.clone() })
}

/// `DBState.Aborted(metadata)`.
pub fn aborted(d: &DbState, sender: &str) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Aborted)?;
    let leader = d.leader.as_ref().ok_or(DkgError::NilDereference("d.Leader.Address in DBState.Aborted"))?;
    if leader.address != sender {
        return Err(DkgError::OnlyLeaderCanRemoteAbort);
    }
    Ok(DbState { state: Status::Aborted, ..d.clone() })
}

/// `DBState.Accepted(me)`.
pub fn accepted(d: &DbState, ctx: Ctx<'_>) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Accepted)?;
    if has_timed_out(d, ctx.now) {
        return Err(DkgError::TimeoutReached);
    }
    if contains(&d.leaving, Some(ctx.me)) {
        return Err(DkgError::CannotAcceptProposalWhereLeaving);
    }
    if contains(&d.joining, Some(ctx.me)) {
        return Err(DkgError::CannotAcceptProposalWhereJoining);
    }
    let mut n = d.clone();
    n.acceptors.push(ctx.me.clone());
    n.rejectors = without(&n.rejectors, Some(ctx.me));
    n.state = Status::Accepted;
    Ok(n)
}

/// `DBState.Rejected(me)`: note the joining check comes before the leaving check here.
pub fn rejected(d: &DbState, ctx: Ctx<'_>) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Rejected)?;
    if has_timed_out(d, ctx.now) {
        return Err(DkgError::TimeoutReached);
    }
    if contains(&d.joining, Some(ctx.me)) {
        return Err(DkgError::CannotRejectProposalWhereJoining);
    }
    if contains(&d.leaving, Some(ctx.me)) {
        return Err(DkgError::CannotRejectProposalWhereLeaving);
    }
    let mut n = d.clone();
    n.rejectors.push(ctx.me.clone());
    n.acceptors = without(&n.acceptors, Some(ctx.me));
    n.state = Status::Rejected;
    Ok(n)
}

/// `DBState.Left(me)`.
pub fn left(d: &DbState, ctx: Ctx<'_>) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Left)?;
    if has_timed_out(d, ctx.now) {
        return Err(DkgError::TimeoutReached);
    }
    if !contains(&d.leaving, Some(ctx.me)) && !contains(&d.joining, Some(ctx.me)) {
        return Err(DkgError::CannotLeaveIfNotALeaver);
    }
    Ok(DbState { state: Status::Left, ..d.clone() })
}

/// `DBState.StartExecuting(me)`: timeout first, a leaver leaves, then edge, then leader equality.
pub fn start_executing(d: &DbState, ctx: Ctx<'_>) -> Result<DbState, DkgError> {
    if has_timed_out(d, ctx.now) {
        return Err(DkgError::TimeoutReached);
    }
    if contains(&d.leaving, Some(ctx.me)) {
        return left(d, ctx);
    }
    check_edge(d.state, Status::Executing)?;
    if !dkg_types::model::equal_participant(d.leader.as_ref(), Some(ctx.me)) {
        return Err(DkgError::OnlyLeaderCanTriggerExecute);
    }
    Ok(DbState { state: Status::Executing, ..d.clone() })
}

/// `DBState.Executing(me, metadata)`: the leaver branch does not check the sender.
pub fn executing(d: &DbState, ctx: Ctx<'_>, sender: &str) -> Result<DbState, DkgError> {
    if has_timed_out(d, ctx.now) {
        return Err(DkgError::TimeoutReached);
    }
    if contains(&d.leaving, Some(ctx.me)) && is_valid_state_change(d.state, Status::Left) {
        return left(d, ctx);
    }
    check_edge(d.state, Status::Executing)?;
    if !contains(&d.remaining, Some(ctx.me)) && !contains(&d.joining, Some(ctx.me)) {
        return Err(DkgError::CannotExecuteIfNotJoinerOrRemainer);
    }
    let leader = d.leader.as_ref().ok_or(DkgError::NilDereference("d.Leader.Address in DBState.Executing"))?;
    if sender != leader.address {
        return Err(DkgError::OnlyLeaderCanTriggerExecute);
    }
    Ok(DbState { state: Status::Executing, ..d.clone() })
}

/// `DBState.Complete(finalGroup, share)`: the genesis seed becomes the group's.
pub fn complete(d: &DbState, now: GoTime, final_group: Option<&Group>, share: Option<&Vec<u8>>) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Complete)?;
    if has_timed_out(d, now) {
        return Err(DkgError::TimeoutReached);
    }
    let group = final_group.ok_or(DkgError::FinalGroupCannotBeEmpty)?;
    let share = share.ok_or(DkgError::KeyShareCannotBeEmpty)?;
    let mut n = d.clone();
    n.state = Status::Complete;
    n.final_group = Some(group.clone());
    n.key_share = Some(share.clone());
    n.genesis_seed = group.genesis_seed.clone();
    Ok(n)
}

/// `DBState.ReceivedAcceptance(them, metadata)`.
pub fn received_acceptance(d: &DbState, them: Option<&Participant>, sender: &str) -> Result<DbState, DkgError> {
    if !is_proposal_phase(d) {
        return Err(DkgError::ReceivedAcceptance);
    }
    if !contains(&d.remaining, them) {
        return Err(DkgError::UnknownAcceptor);
    }
    if contains(&d.acceptors, them) {
        return Err(DkgError::DuplicateAcceptance);
    }
    let them = them.ok_or(DkgError::NilDereference("them.Address in DBState.ReceivedAcceptance"))?;
    if sender != them.address {
        return Err(DkgError::InvalidAcceptor);
    }
    let mut n = d.clone();
    n.acceptors.push(them.clone());
    n.rejectors = without(&n.rejectors, Some(them));
    Ok(n)
}

/// `DBState.ReceivedRejection(them, metadata)`.
pub fn received_rejection(d: &DbState, them: Option<&Participant>, sender: &str) -> Result<DbState, DkgError> {
    if !is_proposal_phase(d) {
        return Err(DkgError::ReceivedRejection);
    }
    if !contains(&d.remaining, them) {
        return Err(DkgError::UnknownRejector);
    }
    if contains(&d.rejectors, them) {
        return Err(DkgError::DuplicateRejection);
    }
    let them = them.ok_or(DkgError::NilDereference("them.Address in DBState.ReceivedRejection"))?;
    if sender != them.address {
        return Err(DkgError::InvalidRejector);
    }
    let mut n = d.clone();
    n.acceptors = without(&n.acceptors, Some(them));
    n.rejectors.push(them.clone());
    Ok(n)
}

/// `DBState.Failed()`.
pub fn failed(d: &DbState) -> Result<DbState, DkgError> {
    check_edge(d.state, Status::Failed)?;
    Ok(DbState { state: Status::Failed, ..d.clone() })
}

/// kyber `dkg.MinimumT(n)`: `n/2 + 1`.
fn minimum_t(n: usize) -> usize {
    (n >> 1).saturating_add(1)
}

/// `ValidateProposal(currentState, terms)`.
pub fn validate_proposal(current: &DbState, terms: &ProposalTerms, now: GoTime, mode: BlsMode) -> Result<(), DkgError> {
    validate_for_all_dkgs(current, terms, now, mode)?;
    if terms.epoch == 1 {
        return validate_first_epoch(terms);
    }
    validate_reshare_terms(current, terms)?;
    if current.state != Status::Fresh {
        return validate_reshare_for_remainers(current, terms);
    }
    Ok(())
}

fn validate_for_all_dkgs(current: &DbState, terms: &ProposalTerms, now: GoTime, mode: BlsMode) -> Result<(), DkgError> {
    // `terms == nil` (ErrMissingTerms) cannot happen: a set oneof always carries terms here.
    if current.beacon_id != terms.beacon_id {
        return Err(DkgError::InvalidBeaconID);
    }
    if bls::scheme_from_name(&terms.scheme_id).is_none() {
        return Err(DkgError::InvalidScheme);
    }
    for p in &terms.joining {
        if !crate::bls::valid_identity(mode, &terms.scheme_id, &p.address, &p.key, &p.signature) {
            return Err(DkgError::InvalidKeyScheme);
        }
    }
    if GoTime::as_time(terms.timeout.as_ref()).before(&now) {
        return Err(DkgError::TimeoutReached);
    }
    let node_count = terms.joining.len().saturating_add(terms.remaining.len());
    let threshold = usize::try_from(terms.threshold).unwrap_or(usize::MAX);
    if threshold > node_count {
        return Err(DkgError::ThresholdHigherThanNodeCount);
    }
    if threshold < minimum_t(node_count) {
        return Err(DkgError::ThresholdTooLow);
    }
    validate_epoch(current, terms)
}

fn validate_epoch(current: &DbState, terms: &ProposalTerms) -> Result<(), DkgError> {
    if terms.epoch < current.epoch {
        return Err(DkgError::InvalidEpoch);
    }
    if terms.epoch == current.epoch
        && current.state != Status::Aborted
        && current.state != Status::TimedOut
        && current.state != Status::Failed
    {
        return Err(DkgError::InvalidEpoch);
    }
    // Go: `terms.Epoch > currentState.Epoch+1` in uint32, so +1 wraps at u32::MAX.
    if terms.epoch > current.epoch.wrapping_add(1) && current.state != Status::Left && current.state != Status::Fresh {
        return Err(DkgError::InvalidEpoch);
    }
    Ok(())
}

fn validate_first_epoch(terms: &ProposalTerms) -> Result<(), DkgError> {
    if !terms.genesis_seed.is_empty() {
        return Err(DkgError::NoGenesisSeedForFirstEpoch);
    }
    if !terms.remaining.is_empty() || !terms.leaving.is_empty() {
        return Err(DkgError::OnlyJoinersAllowedForFirstEpoch);
    }
    if !contains(&terms.joining, terms.leader.as_ref()) {
        return Err(DkgError::LeaderNotJoining);
    }
    if terms.joining.len() < usize::try_from(terms.threshold).unwrap_or(usize::MAX) {
        return Err(DkgError::ThresholdHigherThanNodeCount);
    }
    Ok(())
}

fn validate_reshare_terms(current: &DbState, terms: &ProposalTerms) -> Result<(), DkgError> {
    if terms.remaining.is_empty() {
        return Err(DkgError::NoNodesRemaining);
    }
    if contains(&terms.joining, terms.leader.as_ref()) {
        return Err(DkgError::LeaderCantJoinAfterFirstEpoch);
    }
    if contains(&terms.leaving, terms.leader.as_ref()) || !contains(&terms.remaining, terms.leader.as_ref()) {
        return Err(DkgError::LeaderNotRemaining);
    }
    if terms.remaining.len() < usize::try_from(current.threshold).unwrap_or(usize::MAX) {
        return Err(DkgError::NodeCountTooLow);
    }
    Ok(())
}

/// The participants of the last epoch that reshare proposals are checked against.
/// At f45e7e04 (since cea992fe, PR #1343): `currentState.FinalGroup.Nodes`, a nil FinalGroup
/// being a nil dereference.
#[cfg(not(feature = "pre1343"))]
fn last_epoch_participants(current: &DbState) -> Result<Vec<Participant>, DkgError> {
    current
        .final_group
        .as_ref()
        .map(|g| g.nodes.clone())
        .ok_or(DkgError::NilDereference("currentState.FinalGroup.Nodes in validateReshareForRemainers"))
}

/// Re-injected historical bug `pre1343` (before cea992fe): the last *proposal's*
/// `Remaining ∪ Joining`, not the QUAL set.
#[cfg(feature = "pre1343")]
fn last_epoch_participants(current: &DbState) -> Result<Vec<Participant>, DkgError> {
    Ok(crate::util::concat(&[&current.remaining, &current.joining]))
}

fn validate_reshare_for_remainers(current: &DbState, terms: &ProposalTerms) -> Result<(), DkgError> {
    if GoTime::as_time(terms.genesis_time.as_ref()).unix_seconds() != current.genesis_time.unix_seconds() {
        return Err(DkgError::GenesisTimeNotEqual);
    }
    if terms.genesis_seed != current.genesis_seed {
        return Err(DkgError::GenesisSeedCannotChange);
    }
    let last = last_epoch_participants(current)?;
    let proposed = crate::util::concat(&[&terms.remaining, &terms.leaving]);
    if !contains_all(&last, &proposed) {
        return Err(DkgError::RemainingAndLeavingNodesMustExistInCurrentEpoch);
    }
    if !contains_all(&proposed, &last) {
        return Err(DkgError::MissingNodesInProposal);
    }
    if terms.remaining.len() < usize::try_from(current.threshold).unwrap_or(usize::MAX) {
        return Err(DkgError::NodeCountTooLow);
    }
    Ok(())
}

fn validate_previous_group_for_joiners(d: &DbState, previous: Option<&GroupFile>) -> Result<(), DkgError> {
    let Some(g) = previous else {
        if d.epoch == 1 {
            return Ok(());
        }
        return Err(DkgError::JoiningAfterFirstEpochNeedsGroupFile);
    };
    if g.genesis_time != d.genesis_time.unix_seconds() {
        return Err(DkgError::GenesisTimeNotConsistentWithProposal);
    }
    if g.genesis_seed != d.genesis_seed {
        return Err(DkgError::GenesisSeedCannotChange);
    }
    Ok(())
}
