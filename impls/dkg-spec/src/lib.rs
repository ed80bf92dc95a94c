//! An independent implementation of drand v2's DKG packet rules, written from the Diverge model
//! (dkg.md §2 state machine and receive pipeline, §3 stored state and base-state selection) as
//! data: the edge table is a table ([`edges::EDGES`]), the validation rules are ordered lists of
//! named predicates ([`rules`]), base-state selection is one function ([`base_state`]). It shares
//! only types, signed bytes and BLS plumbing (DSTs, test keys) with `dkg-drand` (through
//! `dkg-types`), never logic: keys and signatures are decoded here ([`bls`]) as the model reads
//! dkg.md, which is silent on encodings and the identity point. The reading taken is IETF BLS as
//! Ethereum uses it (draft-irtf-cfrg-bls-signature-05 `KeyValidate`/`CoreVerify`): compressed
//! 48/96-byte encodings only, the identity key rejected (`ErrInvalidKeyScheme` for a joiner,
//! `InvalidSenderKey` for a sender). drand's Go stack accepts the identity key; the differential
//! reports that (`corpora/regressions/dkg_packet/identity-key-joiner.bin`).
//!
//! Where dkg.md is silent the spec chooses the plain reading and the differential allowlist
//! records the known differences from Go (see `differential/oracle/src/dkg/allowlist.rs`).

pub mod bls;
pub mod edges;
pub mod rules;

use dkg_types::bls::{sign, BlsMode, Scheme};
use crate::bls::{core_verify, PublicKey};
use dkg_types::model::*;
use dkg_types::signing::{message_for_signing, terms_from_state};
use dkg_types::{DkgError, DkgImpl, GoTime, StepResult};
use rules::{check, member, ProposalCheck, VoteCheck};

/// What the base state is selected for (dkg.md §3 "What each check compares against").
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Purpose {
    /// A received packet or a local command: the terminal swap applies.
    PacketOrCommand,
    /// The execution outcome (Complete/Failed): the current state as stored.
    ExecutionOutcome,
}

/// Base-state selection, the one place it is decided: the stored current state (Fresh when
/// absent); for packets and commands, a current state in {Aborted, TimedOut, Failed} is replaced by
/// the last finished state, or Fresh when there is none.
pub fn base_state(node: &NodeState, purpose: Purpose) -> DbState {
    let fresh = || DbState::fresh(&node.beacon_id);
    let current = node.current.clone().unwrap_or_else(fresh);
    let terminal = matches!(current.state, Status::Aborted | Status::TimedOut | Status::Failed);
    if purpose == Purpose::PacketOrCommand && terminal {
        node.finished.clone().unwrap_or_else(fresh)
    } else {
        current
    }
}

/// The state a valid proposal produces: terms copied, lists without empty-address entries, no
/// acceptors, no final group; genesis seed from the terms (received) or the base (local).
fn state_of_proposal(base: &DbState, terms: &ProposalTerms, status: Status, seed: &[u8]) -> DbState {
    let keep = |l: &[Participant]| -> Vec<Participant> { l.iter().filter(|p| !p.address.is_empty()).cloned().collect() };
    DbState {
        beacon_id: base.beacon_id.clone(),
        epoch: terms.epoch,
        state: status,
        threshold: terms.threshold,
        timeout: GoTime::as_time(terms.timeout.as_ref()),
        scheme_id: terms.scheme_id.clone(),
        genesis_time: GoTime::as_time(terms.genesis_time.as_ref()),
        genesis_seed: seed.to_vec(),
        catchup_period: terms.catchup_period_seconds,
        beacon_period: terms.beacon_period_seconds,
        leader: terms.leader.clone(),
        remaining: keep(&terms.remaining),
        joining: keep(&terms.joining),
        leaving: keep(&terms.leaving),
        acceptors: vec![],
        rejectors: vec![],
        final_group: None,
        key_share: None,
    }
}

fn with_status(s: &DbState, status: Status) -> DbState {
    DbState { state: status, ..s.clone() }
}

fn timed_out(s: &DbState, now: GoTime) -> bool {
    s.timeout <= now
}

fn proposal_check(base: &DbState, terms: &ProposalTerms, me: &Participant, sender: &str, now: GoTime, mode: BlsMode) -> ProposalCheck {
    ProposalCheck { base: base.clone(), terms: terms.clone(), me: me.clone(), sender: sender.to_owned(), now, mode }
}

/// The Left transition (dkg.md: leaver branch of Execute, `StartExecuting`): edge, timeout, me a
/// leaver or joiner.
fn leave(base: &DbState, me: &Participant, now: GoTime) -> Result<DbState, DkgError> {
    edges::require(base.state, Status::Left)?;
    if timed_out(base, now) {
        return Err(DkgError::TimeoutReached);
    }
    if !member(&base.leaving, Some(me)) && !member(&base.joining, Some(me)) {
        return Err(DkgError::CannotLeaveIfNotALeaver);
    }
    Ok(with_status(base, Status::Left))
}

/// dkg.md §2 "Transitions on received packets".
fn transition(base: &DbState, me: &Participant, packet: &Packet, sender: &str, now: GoTime, mode: BlsMode) -> Result<DbState, DkgError> {
    match packet {
        Packet::Proposal(terms) => {
            let c = proposal_check(base, terms, me, sender, now, mode);
            check(rules::RECEIVED_PROPOSAL_PRE, &c)?;
            check(rules::VALIDATE_PROPOSAL, &c)?;
            check(rules::RECEIVED_PROPOSAL_POST, &c)?;
            Ok(state_of_proposal(base, terms, Status::Proposed, &terms.genesis_seed))
        }
        Packet::Accept(voter) | Packet::Reject(RejectProposal { rejector: voter, .. }) => {
            let accept = matches!(packet, Packet::Accept(_));
            let c = VoteCheck { base: base.clone(), voter: voter.clone(), sender: sender.to_owned() };
            check(if accept { rules::RECEIVED_ACCEPT } else { rules::RECEIVED_REJECT }, &c)?;
            let v = voter.clone().unwrap_or_default();
            let mut next = base.clone();
            if accept {
                next.acceptors.push(v.clone());
                next.rejectors.retain(|p| *p != v);
            } else {
                next.acceptors.retain(|p| *p != v);
                next.rejectors.push(v);
            }
            Ok(next)
        }
        Packet::Execute(_) => {
            if timed_out(base, now) {
                return Err(DkgError::TimeoutReached);
            }
            // Leavers leave, whoever sent the Execute (dkg.md: no leader check on this branch).
            if member(&base.leaving, Some(me)) && edges::allowed(base.state, Status::Left) {
                return leave(base, me, now);
            }
            edges::require(base.state, Status::Executing)?;
            if !member(&base.remaining, Some(me)) && !member(&base.joining, Some(me)) {
                return Err(DkgError::CannotExecuteIfNotJoinerOrRemainer);
            }
            let leader = base.leader.as_ref().ok_or(DkgError::NilDereference("d.Leader.Address"))?;
            if leader.address != sender {
                return Err(DkgError::OnlyLeaderCanTriggerExecute);
            }
            Ok(with_status(base, Status::Executing))
        }
        Packet::Abort(_) => {
            edges::require(base.state, Status::Aborted)?;
            let leader = base.leader.as_ref().ok_or(DkgError::NilDereference("d.Leader.Address"))?;
            if leader.address != sender {
                return Err(DkgError::OnlyLeaderCanRemoteAbort);
            }
            Ok(with_status(base, Status::Aborted))
        }
        Packet::Dkg(_) => Err(DkgError::InvalidGossipPacket),
    }
}

/// dkg.md §2 step 5: the sender is looked up by address in the next state's Remaining ∪ Joining
/// and the signature checked with the key listed there (the node's scheme: keys on G1).
fn signature_ok(meta: &GossipMetadata, packet: &Packet, next: &DbState, mode: BlsMode) -> Result<(), DkgError> {
    let signer = next.remaining.iter().chain(next.joining.iter()).find(|p| p.address == meta.address).ok_or(DkgError::NoSuchParticipant)?;
    // KeyValidate and CoreVerify as the model reads them (crate::bls: compressed only, no identity key).
    let key = PublicKey::key_validate(Scheme::KeysOnG1, &signer.key).ok_or(DkgError::InvalidSenderKey)?;
    let msg = message_for_signing(&meta.beacon_id, Some(packet), &terms_from_state(next));
    if core_verify(mode, Scheme::KeysOnG1, &key, &msg, &meta.signature) {
        Ok(())
    } else {
        Err(DkgError::BadSignature)
    }
}

/// dkg.md §2 "Receive pipeline".
///
/// # Errors
/// The first failing step; a seen signature is `Ok` with no change.
pub fn receive(node: &NodeState, packet: &GossipPacket, now: GoTime, mode: BlsMode) -> StepResult {
    let meta = packet.metadata.as_ref().ok_or(DkgError::PacketMissingMetadata)?;
    if meta.beacon_id != node.beacon_id {
        return Err(DkgError::UnknownBeaconID);
    }
    let sig_hex = hex::encode(&meta.signature);
    if sig_hex.len() < 8 {
        return Err(DkgError::PacketSignatureTooShort);
    }
    if node.seen.contains(&sig_hex) {
        return Ok(node.clone());
    }
    let body = packet.packet.as_ref().ok_or(DkgError::InvalidGossipPacket)?;
    if let Packet::Dkg(d) = body {
        // dkg.md §4.3: BroadcastDKG dereferences packet.Dkg.Metadata, then re-locks d.lock.
        let inner = d.dkg.as_ref().ok_or(DkgError::NilDereference("packet.Dkg"))?;
        if inner.metadata_beacon_id.is_none() {
            return Err(DkgError::NilDereference("packet.Dkg.Metadata"));
        }
        return Err(DkgError::Deadlock);
    }
    let base = base_state(node, Purpose::PacketOrCommand);
    let next = transition(&base, &node.me, body, &meta.address, now, mode)?;
    signature_ok(meta, body, &next, mode)?;
    let mut out = node.clone();
    out.current = Some(next);
    out.seen.insert(sig_hex);
    Ok(out)
}

/// `DefaultDKGKickoffGracePeriod` (drand internal/core/constants.go): the Execute packet a leader
/// sends carries now + 5 s.
const KICKOFF_SECONDS: i64 = 5;

fn gossip_own(out: &mut NodeState, after: &DbState, packet: Packet, mode: BlsMode) {
    let msg = message_for_signing(&out.beacon_id, Some(&packet), &terms_from_state(after));
    out.seen.insert(hex::encode(sign(mode, usize::from(out.me_key), &msg)));
}

fn local_proposal(base: &DbState, me: &Participant, terms: &ProposalTerms, now: GoTime, mode: BlsMode) -> Result<DbState, DkgError> {
    let c = proposal_check(base, terms, me, "", now, mode);
    check(rules::LOCAL_PROPOSAL_PRE, &c)?;
    check(rules::VALIDATE_PROPOSAL, &c)?;
    check(rules::LOCAL_PROPOSAL_POST, &c)?;
    Ok(state_of_proposal(base, terms, Status::Proposing, &base.genesis_seed))
}

/// dkg.md §2 "Local commands" and the execution outcome.
///
/// # Errors
/// The first failing check.
pub fn command(node: &NodeState, cmd: &Command, now: GoTime, mode: BlsMode) -> StepResult {
    let me = &node.me;
    let mut out = node.clone();
    if let Command::Complete { final_group, share } = cmd {
        let base = base_state(node, Purpose::ExecutionOutcome);
        edges::require(base.state, Status::Complete)?;
        if timed_out(&base, now) {
            return Err(DkgError::TimeoutReached);
        }
        let group = final_group.clone().ok_or(DkgError::FinalGroupCannotBeEmpty)?;
        let share = share.clone().ok_or(DkgError::KeyShareCannotBeEmpty)?;
        let done = DbState { state: Status::Complete, genesis_seed: group.genesis_seed.clone(), final_group: Some(group), key_share: Some(share), ..base };
        out.current = Some(done.clone());
        out.finished = Some(done);
        return Ok(out);
    }
    if let Command::Failed = cmd {
        let base = base_state(node, Purpose::ExecutionOutcome);
        edges::require(base.state, Status::Failed)?;
        out.current = Some(with_status(&base, Status::Failed));
        return Ok(out);
    }
    let base = base_state(node, Purpose::PacketOrCommand);
    let (after, gossip) = match cmd {
        Command::Initial(o) => {
            let terms = ProposalTerms {
                beacon_id: node.beacon_id.clone(),
                epoch: 1,
                leader: Some(me.clone()),
                threshold: o.threshold,
                timeout: o.timeout,
                catchup_period_seconds: o.catchup_period_seconds,
                beacon_period_seconds: o.period_seconds,
                scheme_id: o.scheme.clone(),
                genesis_time: Some(o.genesis_time.unwrap_or_else(|| now.to_timestamp())),
                genesis_seed: vec![],
                joining: o.joining.iter().filter(|p| !p.address.is_empty()).cloned().collect(),
                remaining: vec![],
                leaving: vec![],
            };
            (local_proposal(&base, me, &terms, now, mode)?, Some(Packet::Proposal(terms)))
        }
        Command::Resharing(o) => {
            let terms = ProposalTerms {
                beacon_id: node.beacon_id.clone(),
                epoch: base.epoch.wrapping_add(1),
                leader: Some(me.clone()),
                threshold: o.threshold,
                timeout: o.timeout,
                catchup_period_seconds: o.catchup_period_seconds,
                beacon_period_seconds: base.beacon_period,
                scheme_id: base.scheme_id.clone(),
                genesis_time: Some(base.genesis_time.to_timestamp()),
                genesis_seed: base.genesis_seed.clone(),
                joining: o.joining.clone(),
                remaining: o.remaining.clone(),
                leaving: o.leaving.clone(),
            };
            (local_proposal(&base, me, &terms, now, mode)?, Some(Packet::Proposal(terms)))
        }
        Command::Join(group) => {
            edges::require(base.state, Status::Joined)?;
            if timed_out(&base, now) {
                return Err(DkgError::TimeoutReached);
            }
            if !member(&base.joining, Some(me)) {
                return Err(DkgError::CannotJoinIfNotInJoining);
            }
            // dkg.md: the group file is needed after epoch 1 and checked for genesis time and seed.
            let group = if base.epoch > 1 { Some(group.clone().ok_or(DkgError::JoiningAfterFirstEpochNeedsGroupFile)?) } else { None };
            if let Some(g) = &group {
                if g.genesis_time != base.genesis_time.unix_seconds() {
                    return Err(DkgError::GenesisTimeNotConsistentWithProposal);
                }
                if g.genesis_seed != base.genesis_seed {
                    return Err(DkgError::GenesisSeedCannotChange);
                }
            }
            (DbState { state: Status::Joined, final_group: group, ..base }, None)
        }
        Command::Accept | Command::Reject => {
            let accept = matches!(cmd, Command::Accept);
            let to = if accept { Status::Accepted } else { Status::Rejected };
            edges::require(base.state, to)?;
            if timed_out(&base, now) {
                return Err(DkgError::TimeoutReached);
            }
            // dkg.md lists the Leaving error before the Joining one.
            if member(&base.leaving, Some(me)) {
                return Err(if accept { DkgError::CannotAcceptProposalWhereLeaving } else { DkgError::CannotRejectProposalWhereLeaving });
            }
            if member(&base.joining, Some(me)) {
                return Err(if accept { DkgError::CannotAcceptProposalWhereJoining } else { DkgError::CannotRejectProposalWhereJoining });
            }
            let mut next = with_status(&base, to);
            if accept {
                next.acceptors.push(me.clone());
                next.rejectors.retain(|p| p != me);
                (next, Some(Packet::Accept(Some(me.clone()))))
            } else {
                next.rejectors.push(me.clone());
                next.acceptors.retain(|p| p != me);
                (next, Some(Packet::Reject(RejectProposal { rejector: Some(me.clone()), reason: String::new() })))
            }
        }
        Command::Execute => {
            if timed_out(&base, now) {
                return Err(DkgError::TimeoutReached);
            }
            let next = if member(&base.leaving, Some(me)) {
                leave(&base, me, now)?
            } else {
                edges::require(base.state, Status::Executing)?;
                if base.leader.as_ref() != Some(me) {
                    return Err(DkgError::OnlyLeaderCanTriggerExecute);
                }
                with_status(&base, Status::Executing)
            };
            (next, Some(Packet::Execute(Some(now.add_seconds(KICKOFF_SECONDS).to_timestamp()))))
        }
        Command::Abort => {
            edges::require(base.state, Status::Aborted)?;
            (with_status(&base, Status::Aborted), Some(Packet::Abort("none".to_owned())))
        }
        Command::Complete { .. } | Command::Failed => return Ok(out),
    };
    out.current = Some(after.clone());
    if let Some(p) = gossip {
        gossip_own(&mut out, &after, p, mode);
    }
    Ok(out)
}

/// The spec implementation as a [`DkgImpl`] named `spec`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spec;

impl DkgImpl for Spec {
    fn name(&self) -> &'static str {
        "spec"
    }
    fn packet(&self, node: &NodeState, packet: &GossipPacket, now: GoTime, mode: BlsMode) -> StepResult {
        receive(node, packet, now, mode)
    }
    fn command(&self, node: &NodeState, command: &Command, now: GoTime, mode: BlsMode) -> StepResult {
        self::command(node, command, now, mode)
    }
}
