//! The bytes a gossip packet's signature covers: a port of `messageForSigning` and
//! `termsFromState` (`internal/dkg/actions_signing.go` at f45e7e04).
//!
//! Layout: `"beaconID:"‖id‖"\n"`, a per-packet part, then the terms (see [`message_for_signing`]).
//! No length prefixes; the genesis seed and participant keys are not covered.

use crate::model::{DbState, Packet, ProposalTerms};
use crate::time::GoTime;

/// `termsFromState(state)`: the proposal terms a state carries, as the signature is checked against
/// them (times through `timestamppb.New`, durations back to `uint32` seconds).
pub fn terms_from_state(state: &DbState) -> ProposalTerms {
    ProposalTerms {
        beacon_id: state.beacon_id.clone(),
        epoch: state.epoch,
        leader: state.leader.clone(),
        threshold: state.threshold,
        timeout: Some(state.timeout.to_timestamp()),
        catchup_period_seconds: state.catchup_period,
        beacon_period_seconds: state.beacon_period,
        scheme_id: state.scheme_id.clone(),
        genesis_time: Some(state.genesis_time.to_timestamp()),
        genesis_seed: state.genesis_seed.clone(),
        joining: state.joining.clone(),
        remaining: state.remaining.clone(),
        leaving: state.leaving.clone(),
    }
}

/// `messageForSigning(beaconID, packet, proposal)`: `beacon_id` is the metadata's beacon id,
/// `packet` the oneof (`None` = unset: Go appends 16 random bytes so verification fails; here a
/// fixed marker that no signer ever signs), `proposal` the terms of the *next* state.
///
/// Per packet: Proposal `"Proposal:"‖beaconID‖"\n"‖LE32(epoch)‖"\nLeader:"‖addr‖"\n"‖leaderPoP`;
/// Accept `"Accepted:"‖addr‖"\n"`; Reject `"Rejected:"‖addr‖"\n"`; Abort `"Aborted:"‖reason‖"\n"`;
/// Execute `"Execute:"‖MarshalBinary(time)`; Dkg `"Gossip packet"`. Then the terms:
/// `"Proposal:\n"‖beaconID‖"\n"‖LE32(epoch)‖"\nLeader:"‖addr‖"\n"‖PoP‖LE32(threshold)‖
/// MarshalBinary(timeout)‖LE32(catchup)‖LE32(period)‖"\nScheme: "‖scheme‖"\n"‖MarshalBinary(genesis)`
/// and each joiner, remainer, leaver as `"\nJoiner:|Remainer:|Leaver:"‖addr‖"\nSig:"‖PoP`.
pub fn message_for_signing(beacon_id: &str, packet: Option<&Packet>, proposal: &ProposalTerms) -> Vec<u8> {
    let mut ret: Vec<u8> = Vec::with_capacity(512);
    ret.extend_from_slice(b"beaconID:");
    ret.extend_from_slice(beacon_id.as_bytes());
    ret.push(b'\n');
    match packet {
        Some(Packet::Proposal(t)) => {
            ret.extend_from_slice(b"Proposal:");
            ret.extend_from_slice(t.beacon_id.as_bytes());
            ret.push(b'\n');
            ret.extend_from_slice(&t.epoch.to_le_bytes());
            ret.extend_from_slice(b"\nLeader:");
            ret.extend_from_slice(t.leader.as_ref().map(|l| l.address.as_bytes()).unwrap_or_default());
            ret.push(b'\n');
            ret.extend_from_slice(t.leader.as_ref().map(|l| l.signature.as_slice()).unwrap_or_default());
        }
        Some(Packet::Accept(a)) => {
            ret.extend_from_slice(b"Accepted:");
            ret.extend_from_slice(a.as_ref().map(|p| p.address.as_bytes()).unwrap_or_default());
            ret.push(b'\n');
        }
        Some(Packet::Reject(r)) => {
            ret.extend_from_slice(b"Rejected:");
            ret.extend_from_slice(r.rejector.as_ref().map(|p| p.address.as_bytes()).unwrap_or_default());
            ret.push(b'\n');
        }
        Some(Packet::Abort(reason)) => {
            ret.extend_from_slice(b"Aborted:");
            ret.extend_from_slice(reason.as_bytes());
            ret.push(b'\n');
        }
        Some(Packet::Execute(time)) => {
            ret.extend_from_slice(b"Execute:");
            ret.extend_from_slice(&GoTime::as_time(time.as_ref()).marshal_binary());
        }
        Some(Packet::Dkg(_)) => ret.extend_from_slice(b"Gossip packet"),
        None => ret.extend_from_slice(b"\x00unset-oneof: never verifies\x00"),
    }
    ret.extend_from_slice(b"Proposal:\n");
    ret.extend_from_slice(proposal.beacon_id.as_bytes());
    ret.push(b'\n');
    ret.extend_from_slice(&proposal.epoch.to_le_bytes());
    ret.extend_from_slice(b"\nLeader:");
    ret.extend_from_slice(proposal.leader.as_ref().map(|l| l.address.as_bytes()).unwrap_or_default());
    ret.push(b'\n');
    ret.extend_from_slice(proposal.leader.as_ref().map(|l| l.signature.as_slice()).unwrap_or_default());
    ret.extend_from_slice(&proposal.threshold.to_le_bytes());
    ret.extend_from_slice(&GoTime::as_time(proposal.timeout.as_ref()).marshal_binary());
    ret.extend_from_slice(&proposal.catchup_period_seconds.to_le_bytes());
    ret.extend_from_slice(&proposal.beacon_period_seconds.to_le_bytes());
    ret.extend_from_slice(b"\nScheme: ");
    ret.extend_from_slice(proposal.scheme_id.as_bytes());
    ret.push(b'\n');
    ret.extend_from_slice(&GoTime::as_time(proposal.genesis_time.as_ref()).marshal_binary());
    for (label, list) in [
        (&b"\nJoiner:"[..], &proposal.joining),
        (&b"\nRemainer:"[..], &proposal.remaining),
        (&b"\nLeaver:"[..], &proposal.leaving),
    ] {
        for p in list {
            ret.extend_from_slice(label);
            ret.extend_from_slice(p.address.as_bytes());
            ret.extend_from_slice(b"\nSig:");
            ret.extend_from_slice(&p.signature);
        }
    }
    ret
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Participant;
    use crate::time::Timestamp;

    #[test]
    fn accept_bytes_are_exact() {
        let terms = ProposalTerms {
            beacon_id: "default".into(),
            epoch: 2,
            leader: Some(Participant { address: "a:1".into(), key: vec![9], signature: vec![0xAA] }),
            threshold: 3,
            timeout: Some(Timestamp { seconds: 0, nanos: 0 }),
            catchup_period_seconds: 5,
            beacon_period_seconds: 6,
            scheme_id: "pedersen-bls-chained".into(),
            genesis_time: None,
            genesis_seed: vec![1, 2, 3],
            joining: vec![],
            remaining: vec![Participant { address: "b:2".into(), key: vec![7], signature: vec![0xBB] }],
            leaving: vec![],
        };
        let acceptor = Participant { address: "b:2".into(), ..Participant::default() };
        let got = message_for_signing("default", Some(&Packet::Accept(Some(acceptor))), &terms);
        let mut want = b"beaconID:default\nAccepted:b:2\nProposal:\ndefault\n".to_vec();
        want.extend_from_slice(&[2, 0, 0, 0]);
        want.extend_from_slice(b"\nLeader:a:1\n\xAA");
        want.extend_from_slice(&[3, 0, 0, 0]);
        want.extend_from_slice(&hex::decode("010000000e7791f70000000000ffff").unwrap());
        want.extend_from_slice(&[5, 0, 0, 0, 6, 0, 0, 0]);
        want.extend_from_slice(b"\nScheme: pedersen-bls-chained\n");
        want.extend_from_slice(&hex::decode("010000000e7791f70000000000ffff").unwrap());
        want.extend_from_slice(b"\nRemainer:b:2\nSig:\xBB");
        assert_eq!(got, want);
    }
}
