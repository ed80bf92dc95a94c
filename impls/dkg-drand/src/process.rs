//! Port of the receive pipeline and the local commands: `Process.Packet` and
//! `applyPacketToState` (`internal/dkg/actions_passive.go`), `verifyMessage`
//! (`actions_signing.go`), `gossip`'s marking of `SeenPackets` (`actions.go`), `Process.Command`
//! with `StartNetwork`/`StartProposal`/`StartJoin`/`StartAccept`/`StartReject`/`StartExecute`/
//! `StartAbort` (`actions_active.go`) and the end of `executeAndFinishDKG` (`execution.go`), at
//! f45e7e04.
//!
//! Not modelled: networking (gossip sends, the v1→v2 key migration in `StartProposal`, which
//! fetches identities over gRPC), `executeDKG` (assumed to succeed), metrics and logs.

use crate::state_machine::{self as sm, Ctx, TERMINAL_STATES};
use crate::util::{concat, non_empty, without};
use crate::bls::{self as kyber_bls, PublicKey};
use dkg_types::bls::{self, BlsMode, Scheme};
use dkg_types::model::*;
use dkg_types::signing::{message_for_signing, terms_from_state};
use dkg_types::{DkgError, GoTime, Timestamp};

/// `ShortSigLength`.
pub const SHORT_SIG_LENGTH: usize = 8;
/// `DefaultDKGKickoffGracePeriod` (internal/core/constants.go), seconds.
pub const KICKOFF_GRACE_PERIOD_SECONDS: i64 = 5;

/// The short-signature check of `Process.Packet` at f45e7e04 (since 2b3b9b31): the length is
/// checked before `packetSig[0:ShortSigLength]` is taken for the log line.
#[cfg(not(feature = "short-signature-slice"))]
fn short_sig(packet_sig: &str) -> Result<&str, DkgError> {
    if packet_sig.len() < SHORT_SIG_LENGTH {
        return Err(DkgError::PacketSignatureTooShort);
    }
    packet_sig.get(..SHORT_SIG_LENGTH).ok_or(DkgError::PacketSignatureTooShort)
}

/// Re-injected historical bug `short-signature-slice` (before 2b3b9b31): the hex signature is
/// sliced `[0:8]` for logging with no length check, so a signature shorter than 4 bytes panics
/// (index out of range). This reproduces the Go panic as a Rust panic on purpose.
#[cfg(feature = "short-signature-slice")]
fn short_sig(packet_sig: &str) -> Result<&str, DkgError> {
    #[allow(clippy::indexing_slicing, reason = "re-injected historical bug short-signature-slice, feature-gated")]
    let short = &packet_sig[0..SHORT_SIG_LENGTH];
    Ok(short)
}

/// `d.store.GetCurrent`: a missing state reads as `NewFreshState`.
fn get_current(node: &NodeState, beacon_id: &str) -> DbState {
    node.current.clone().unwrap_or_else(|| DbState::fresh(beacon_id))
}

/// The base-state swap added by PR #1318: a terminal current state is replaced by the finished
/// state, or Fresh when there is none.
#[cfg(not(feature = "pre1318"))]
fn base_state(node: &NodeState, beacon_id: &str) -> DbState {
    let current = get_current(node, beacon_id);
    if TERMINAL_STATES.contains(&current.state) {
        return node.finished.clone().unwrap_or_else(|| DbState::fresh(beacon_id));
    }
    current
}

/// Re-injected historical bug `pre1318`: packets and commands apply to `GetCurrent()` even when it
/// is Aborted, TimedOut or Failed.
#[cfg(feature = "pre1318")]
fn base_state(node: &NodeState, beacon_id: &str) -> DbState {
    let _ = TERMINAL_STATES;
    get_current(node, beacon_id)
}

/// `StartProposal`'s epoch: `currentState.Epoch + 1` (uint32, wrapping).
#[cfg(not(feature = "pre1318"))]
fn reshare_epoch(base: &DbState) -> u32 {
    base.epoch.wrapping_add(1)
}

/// Re-injected `pre1318`: an Aborted/TimedOut/Failed current state re-uses its own epoch.
#[cfg(feature = "pre1318")]
fn reshare_epoch(base: &DbState) -> u32 {
    if TERMINAL_STATES.contains(&base.state) {
        base.epoch
    } else {
        base.epoch.wrapping_add(1)
    }
}

/// `verifyMessage(packet, termsFromState(next))`: sender looked up by address in
/// `Remaining ∪ Joining` of the next state (first match), key unmarshalled with the node's own
/// scheme (`pedersen-bls-chained`), BLS check over `messageForSigning`.
fn verify_message(meta: &GossipMetadata, packet: Option<&Packet>, terms: &ProposalTerms, mode: BlsMode) -> Result<(), DkgError> {
    let participants = concat(&[&terms.remaining, &terms.joining]);
    let p = participants.iter().find(|p| p.address == meta.address).ok_or(DkgError::NoSuchParticipant)?;
    // actions_signing.go:65-69: `KeyGroup.Point().UnmarshalBinary(p.Key)` (kilic: identity
    // accepted, exact length), then kyber `Verify` (crate::bls).
    let key = PublicKey::unmarshal(Scheme::KeysOnG1, &p.key).map_err(|_| DkgError::InvalidSenderKey)?;
    let msg = message_for_signing(&meta.beacon_id, packet, terms);
    if kyber_bls::verify(mode, Scheme::KeysOnG1, &key, &msg, &meta.signature) {
        Ok(())
    } else {
        Err(DkgError::BadSignature)
    }
}

/// `gossip`'s side effect on `SeenPackets`: recipients are filtered (non-nil, non-empty address),
/// `me` removed (full equality); with none left it returns before marking the packet seen.
fn mark_seen_by_gossip(node: &mut NodeState, recipients: &[Participant], signature: &[u8]) {
    let r = without(&non_empty(recipients), Some(&node.me));
    if !r.is_empty() {
        node.seen.insert(hex::encode(signature));
    }
}

/// `Process.Packet(packet)` at `now`.
///
/// # Errors
/// The first failing check in Go's order (metadata, beacon, short signature, DKG bundle routing,
/// `DBState.Apply`, signature); a seen signature returns `Ok` unchanged.
pub fn packet(node: &NodeState, packet: &GossipPacket, now: GoTime, mode: BlsMode) -> Result<NodeState, DkgError> {
    // Daemon proxy (drand_daemon_dkg_proxy.go) and the nil checks of Process.Packet.
    let meta = packet.metadata.as_ref().ok_or(DkgError::PacketMissingMetadata)?;
    if meta.beacon_id != node.beacon_id {
        return Err(DkgError::UnknownBeaconID);
    }
    let packet_sig = hex::encode(&meta.signature);
    let _short = short_sig(&packet_sig)?;
    if node.seen.contains(&packet_sig) {
        return Ok(node.clone());
    }
    if let Some(Packet::Dkg(d)) = &packet.packet {
        // Process.BroadcastDKG: `packet.Dkg.Metadata.BeaconID`, then `d.lock.Lock()` while
        // Process.Packet already holds it.
        let inner = d.dkg.as_ref().ok_or(DkgError::NilDereference("packet.Dkg.Metadata in Process.BroadcastDKG"))?;
        inner.metadata_beacon_id.as_ref().ok_or(DkgError::NilDereference("packet.Dkg.Metadata.BeaconID in Process.BroadcastDKG"))?;
        return Err(DkgError::Deadlock);
    }
    let base = base_state(node, &meta.beacon_id);
    let ctx = Ctx { me: &node.me, now, mode };
    let next = sm::apply(&base, ctx, packet.packet.as_ref(), &meta.address)?;
    verify_message(meta, packet.packet.as_ref(), &terms_from_state(&next), mode)?;
    let mut out = node.clone();
    let recipients = concat(&[&next.joining, &next.remaining, &next.leaving]);
    out.current = Some(next);
    mark_seen_by_gossip(&mut out, &recipients, &meta.signature);
    Ok(out)
}

fn sign_and_mark(out: &mut NodeState, after: &DbState, pkt: Packet, mode: BlsMode) {
    let msg = message_for_signing(&out.beacon_id, Some(&pkt), &terms_from_state(after));
    let sig = bls::sign(mode, usize::from(out.me_key), &msg);
    let recipients = concat(&[&after.joining, &after.remaining]);
    mark_seen_by_gossip(out, &recipients, &sig);
    mark_seen_by_gossip(out, &after.leaving, &sig);
}

/// `Process.Command(command)` at `now` (and, for `Complete`/`Failed`, the end of
/// `executeAndFinishDKG`, which reads `GetCurrent` without the terminal swap).
///
/// # Errors
/// The command's first failing check; the node is then unchanged.
pub fn command(node: &NodeState, command: &Command, now: GoTime, mode: BlsMode) -> Result<NodeState, DkgError> {
    let beacon_id = node.beacon_id.clone();
    let me = node.me.clone();
    let ctx = Ctx { me: &me, now, mode };
    let mut out = node.clone();
    match command {
        Command::Complete { final_group, share } => {
            let current = get_current(node, &beacon_id);
            let fin = sm::complete(&current, now, final_group.as_ref(), share.as_ref())?;
            // SaveFinished writes both buckets.
            out.current = Some(fin.clone());
            out.finished = Some(fin);
            return Ok(out);
        }
        Command::Failed => {
            let current = get_current(node, &beacon_id);
            out.current = Some(sm::failed(&current)?);
            return Ok(out);
        }
        _ => {}
    }
    let base = base_state(node, &beacon_id);
    let (after, pkt) = match command {
        Command::Initial(o) => {
            let terms = ProposalTerms {
                beacon_id: beacon_id.clone(),
                epoch: 1,
                leader: Some(me.clone()),
                threshold: o.threshold,
                timeout: o.timeout,
                catchup_period_seconds: o.catchup_period_seconds,
                beacon_period_seconds: o.period_seconds,
                scheme_id: o.scheme.clone(),
                genesis_time: Some(o.genesis_time.unwrap_or_else(|| now.to_timestamp())),
                genesis_seed: Vec::new(),
                joining: non_empty(&o.joining),
                remaining: Vec::new(),
                leaving: Vec::new(),
            };
            (sm::proposing(&base, ctx, &terms)?, Some(Packet::Proposal(terms)))
        }
        Command::Resharing(o) => {
            let terms = ProposalTerms {
                beacon_id: beacon_id.clone(),
                epoch: reshare_epoch(&base),
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
            (sm::proposing(&base, ctx, &terms)?, Some(Packet::Proposal(terms)))
        }
        Command::Join(group) => {
            let previous = if base.epoch > 1 { Some(group.as_ref().ok_or(DkgError::GroupFileRequired)?) } else { None };
            (sm::joined(&base, ctx, previous)?, None)
        }
        Command::Accept => (sm::accepted(&base, ctx)?, Some(Packet::Accept(Some(me.clone())))),
        Command::Reject => (
            sm::rejected(&base, ctx)?,
            Some(Packet::Reject(RejectProposal { rejector: Some(me.clone()), reason: String::new() })),
        ),
        Command::Execute => {
            let kickoff: Timestamp = now.add_seconds(KICKOFF_GRACE_PERIOD_SECONDS).to_timestamp();
            (sm::start_executing(&base, ctx)?, Some(Packet::Execute(Some(kickoff))))
        }
        Command::Abort => (sm::start_abort(&base)?, Some(Packet::Abort("none".to_owned()))),
        Command::Complete { .. } | Command::Failed => return Ok(out),
    };
    out.current = Some(after.clone());
    if let Some(p) = pkt {
        sign_and_mark(&mut out, &after, p, mode);
    }
    Ok(out)
}
