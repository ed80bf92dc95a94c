//! Named inputs built from drand's own scenarios (`internal/dkg/*_test.go`: first epoch, reshare
//! with joiners and leavers, `TestAbortedDKGCanRestart`, leaver execute, duplicates) and from the
//! historical bugs of dkg.md §4. Seeds and regression files are generated from these, never
//! hand-edited. Data only.

use crate::bls::{uncompressed_g2_signature, BlsMode, DEFAULT_SCHEME, G1_COMPRESSED_LEN, G2_COMPRESSED_LEN};
use crate::input::resolve_packet;
use crate::input::{MetaInput, PacketCase, PacketInput, SequenceCase, SigSpec, Step};
use crate::model::{Command, Group, Packet, Participant, ProposalTerms};
use crate::pool::{self, participant, A, B, C, D, E, GENESIS, GENESIS_SEED, INTERIM_TIMEOUT, NOW0};
use crate::time::Timestamp;

fn ps(ix: &[usize]) -> Vec<Participant> {
    ix.iter().map(|i| participant(*i)).collect()
}

/// Reshare terms at `epoch` led by A, threshold `t`, the pool's genesis time and seed.
pub fn reshare_terms(epoch: u32, remaining: &[usize], joining: &[usize], leaving: &[usize], t: u32) -> ProposalTerms {
    ProposalTerms {
        beacon_id: pool::BEACON_ID.into(),
        epoch,
        leader: Some(participant(A)),
        threshold: t,
        timeout: Some(Timestamp { seconds: INTERIM_TIMEOUT, nanos: 0 }),
        catchup_period_seconds: 5,
        beacon_period_seconds: 30,
        scheme_id: DEFAULT_SCHEME.into(),
        genesis_time: Some(Timestamp { seconds: GENESIS, nanos: 0 }),
        genesis_seed: GENESIS_SEED.to_vec(),
        joining: ps(joining),
        remaining: ps(remaining),
        leaving: ps(leaving),
    }
}

/// First-epoch terms led by A: joiners `joining`, threshold `t`, no seed.
pub fn first_epoch_terms(joining: &[usize], t: u32) -> ProposalTerms {
    ProposalTerms { genesis_seed: Vec::new(), ..reshare_terms(1, &[], joining, &[], t) }
}

/// A packet from test participant `from`, signed by its own key.
pub fn signed(from: usize, packet: Packet) -> PacketInput {
    PacketInput {
        metadata: Some(MetaInput {
            beacon_id: pool::BEACON_ID.into(),
            address: participant(from).address,
            sig: SigSpec::SignedBy(u8::try_from(from).unwrap_or(0)),
        }),
        packet: Some(packet),
    }
}

fn pkt(now_offset: i64, p: PacketInput) -> Step {
    Step::Packet { now: NOW0.saturating_add(now_offset), packet: p }
}

fn cmd(now_offset: i64, c: Command) -> Step {
    Step::Command { now: NOW0.saturating_add(now_offset), command: c }
}

fn e2_group(qual: &[usize]) -> Group {
    Group { nodes: ps(qual), genesis_time: GENESIS, genesis_seed: GENESIS_SEED.to_vec(), threshold: 3 }
}

/// A named input with its root-cause note.
#[derive(Clone, Debug)]
pub struct Named<T> {
    /// File name stem.
    pub name: &'static str,
    /// What it exercises and, for regressions, the root cause.
    pub note: &'static str,
    /// The input.
    pub case: T,
}

/// dkg.md §4.1, the February 2024 incident (fixed by PR #1318), seen at B: e1 Complete
/// {A,B,C}; A proposes e2 with joiner D; A aborts; A re-proposes e2 without D.
pub fn abort_restart_4_1() -> SequenceCase {
    SequenceCase {
        pool: 1,
        steps: vec![
            pkt(0, signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[D], &[], 3)))),
            pkt(10, signed(A, Packet::Abort("joiner D offline".into()))),
            pkt(20, signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[], &[], 2)))),
        ],
    }
}

/// §4.1 variant 3a: the re-proposal lists D as a remainer.
pub fn abort_restart_3a() -> SequenceCase {
    let mut c = abort_restart_4_1();
    c.steps.truncate(2);
    c.steps.push(pkt(20, signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C, D], &[], &[], 3)))));
    c
}

/// §4.1 variant 3b: no joiner in step 1, then a re-proposal at e3 (skipping e2).
pub fn abort_restart_3b() -> SequenceCase {
    SequenceCase {
        pool: 1,
        steps: vec![
            pkt(0, signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[], &[], 2)))),
            pkt(10, signed(A, Packet::Abort("retry".into()))),
            pkt(20, signed(A, Packet::Proposal(reshare_terms(3, &[A, B, C], &[], &[], 2)))),
        ],
    }
}

/// cea992fe (PR #1343) follow-up: finished e1 proposed Joining [A,B,C] but QUAL {A,B}; a reshare
/// with remaining [A,B] (`with_c = false`) or [A,B,C] (`with_c = true`).
pub fn followup_1343(with_c: bool) -> PacketCase {
    let rem: &[usize] = if with_c { &[A, B, C] } else { &[A, B] };
    PacketCase { pool: 2, now: NOW0, packet: signed(A, Packet::Proposal(reshare_terms(2, rem, &[], &[], 2))) }
}

/// 2b3b9b31: a 3-byte signature (6 hex characters, shorter than `ShortSigLength`).
pub fn short_signature() -> PacketCase {
    let mut p = signed(A, Packet::Abort("x".into()));
    if let Some(m) = p.metadata.as_mut() {
        m.sig = SigSpec::Raw(vec![0xde, 0xad, 0xbe]);
    }
    PacketCase { pool: 3, now: NOW0, packet: p }
}

/// The compressed encoding of the point at infinity (`0xc0` then zeros) in `len` bytes.
fn infinity(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    if let Some(first) = b.first_mut() {
        *first = 0xc0;
    }
    b
}

/// A participant whose key is the G1 identity (48 bytes `0xc0 00…`) and whose PoP is the G2
/// identity (96 bytes `0xc0 00…`), at an address no test key uses.
pub fn identity_participant() -> Participant {
    Participant { address: "node-i.dkg.test:443".into(), key: infinity(G1_COMPRESSED_LEN), signature: infinity(G2_COMPRESSED_LEN) }
}

/// Fresh B receives A's (validly signed) epoch-1 proposal whose joiners are A, B, C and
/// [`identity_participant`], threshold 3.
pub fn identity_key_joiner() -> PacketCase {
    let mut t = first_epoch_terms(&[A, B, C], 3);
    t.joining.push(identity_participant());
    PacketCase { pool: 0, now: NOW0, packet: signed(A, Packet::Proposal(t)) }
}

/// `p` with its metadata signature replaced by the uncompressed (192-byte) re-encoding of the
/// signature `SignedBy` produces with real BLS (a proposal signs against its own terms, so the
/// context does not matter). Unchanged when `p` is not a signed proposal.
fn reencoded_uncompressed(p: &PacketInput) -> PacketInput {
    let real = resolve_packet(p, &ProposalTerms::default(), BlsMode::Real);
    let long = real.metadata.as_ref().and_then(|m| uncompressed_g2_signature(&m.signature));
    let mut out = p.clone();
    if let (Some(m), Some(long)) = (out.metadata.as_mut(), long) {
        m.sig = SigSpec::Raw(long);
    }
    out
}

/// At B (Complete e1): A's e2 proposal (seen), A's abort, the same proposal with its signature
/// re-encoded uncompressed, then the same proposal byte for byte.
pub fn reencoded_seen_signature() -> SequenceCase {
    let prop = signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[], &[], 2)));
    SequenceCase {
        pool: 1,
        steps: vec![
            pkt(0, prop.clone()),
            pkt(10, signed(A, Packet::Abort("retry".into()))),
            pkt(20, reencoded_uncompressed(&prop)),
            pkt(30, prop),
        ],
    }
}

/// Regression inputs of the `dkg_sequence` target.
pub fn sequence_regressions() -> Vec<Named<SequenceCase>> {
    vec![
        Named {
            name: "pr1318-abort-restart-4.1",
            note: "dkg.md 4.1 (Feb 2024 testnet outage, PR #1318): before the fix a proposal after an abort was validated against the aborted interim state (D from the aborted proposal), giving ErrMissingNodesInProposal; fixed: validated against the finished e1 state, Proposed e2.",
            case: abort_restart_4_1(),
        },
        Named {
            name: "pr1318-abort-restart-3a",
            note: "dkg.md 4.1 variant 3a: D listed as remainer after the abort. Buggy base (interim) accepts D as a remainer without a share; fixed returns ErrRemainingAndLeavingNodesMustExistInCurrentEpoch.",
            case: abort_restart_3a(),
        },
        Named {
            name: "pr1318-abort-restart-3b",
            note: "dkg.md 4.1 variant 3b: after an aborted e2, a proposal at e3. Buggy base (Aborted e2) accepts and skips epoch 2; fixed (base Complete e1) returns ErrInvalidEpoch.",
            case: abort_restart_3b(),
        },
        Named {
            name: "uncompressed-reencoded-seen-signature",
            note: "issue 12 item 3 (decoding blind spot): A's e2 proposal is accepted and its signature marked seen, A aborts, then the same proposal arrives with the same signature point re-encoded uncompressed (192 bytes). SeenPackets is keyed by the signature bytes, so the copy is not recognised; Go decodes signatures with kilic FromCompressed (exactly 96 bytes) and the model accepts compressed only, so both reject it as a bad signature (the former shared blst from_bytes decoder accepted it in both, re-applying the proposal after the abort). The byte-identical copy that follows is ignored as seen.",
            case: reencoded_seen_signature(),
        },
    ]
}

/// Regression inputs of the `dkg_packet` target.
pub fn packet_regressions() -> Vec<Named<PacketCase>> {
    vec![
        Named {
            name: "pr1343-qual-without-c",
            note: "cea992fe (PR #1343): reshare compared against the last proposal's Remaining+Joining [A,B,C] instead of the QUAL set {A,B}: ErrMissingNodesInProposal before the fix, Proposed after.",
            case: followup_1343(false),
        },
        Named {
            name: "pr1343-qual-with-c",
            note: "cea992fe (PR #1343), reversed: C is not in QUAL, so listing it as remainer is ErrRemainingAndLeavingNodesMustExistInCurrentEpoch after the fix and accepted before it.",
            case: followup_1343(true),
        },
        Named {
            name: "2b3b9b31-short-signature",
            note: "2b3b9b31 'fixed panic identified in fuzzing': the hex signature was sliced [0:8] for logging before any length check, so a signature under 4 bytes panicked; fixed: 'packet signature is too short'.",
            case: short_signature(),
        },
        Named {
            name: "identity-key-joiner",
            note: "issue 12 item 3 (decoding blind spot): an epoch-1 proposal at fresh B lists a joiner whose key is the compressed G1 identity (0xc0 00..) with the G2 identity as PoP. drand's stack (kilic FromCompressed, kyber sign/bls Verify at the pinned versions) decodes the identity and the pairing check of identity key and identity PoP holds, so the proposal is accepted; the model (IETF KeyValidate) rejects the key: ErrInvalidKeyScheme. The former shared decoder (blst key_validate) rejected it in both.",
            case: identity_key_joiner(),
        },
    ]
}

/// Seed inputs of the `dkg_sequence` target (drand's scenarios).
pub fn sequence_seeds() -> Vec<Named<SequenceCase>> {
    let complete_e1 = Group { nodes: ps(&[A, B, C]), genesis_time: GENESIS, genesis_seed: GENESIS_SEED.to_vec(), threshold: 2 };
    vec![
        Named {
            name: "first-epoch",
            note: "Fresh B receives A's epoch-1 proposal (joiners A,B,C), joins, receives Execute, completes.",
            case: SequenceCase {
                pool: 0,
                steps: vec![
                    pkt(0, signed(A, Packet::Proposal(first_epoch_terms(&[A, B, C], 2)))),
                    cmd(5, Command::Join(None)),
                    pkt(60, signed(A, Packet::Execute(Some(Timestamp { seconds: NOW0 + 65, nanos: 0 })))),
                    cmd(120, Command::Complete { final_group: Some(complete_e1), share: Some(b"share-b".to_vec()) }),
                ],
            },
        },
        Named {
            name: "reshare-joiners-leavers",
            note: "e1 Complete at B; A proposes e2 remaining [A,B], leaving [C], joining [D,E]; B accepts; A's acceptance arrives; Execute; Complete.",
            case: SequenceCase {
                pool: 1,
                steps: vec![
                    pkt(0, signed(A, Packet::Proposal(reshare_terms(2, &[A, B], &[D, E], &[C], 3)))),
                    cmd(5, Command::Accept),
                    pkt(6, signed(A, Packet::Accept(Some(participant(A))))),
                    pkt(60, signed(A, Packet::Execute(Some(Timestamp { seconds: NOW0 + 65, nanos: 0 })))),
                    cmd(120, Command::Complete { final_group: Some(e2_group(&[A, B, D, E])), share: Some(b"share-b-2".to_vec()) }),
                ],
            },
        },
        Named {
            name: "abort-then-restart",
            note: "TestAbortedDKGCanRestart: proposal with joiner D, abort, re-proposal without D, accept, execute.",
            case: {
                let mut c = abort_restart_4_1();
                c.steps.push(cmd(25, Command::Accept));
                c.steps.push(pkt(60, signed(A, Packet::Execute(None))));
                c
            },
        },
        Named {
            name: "leaver-execute",
            note: "C is a leaver of e2 (Proposed): an Execute signed by remainer B (not the leader) takes it to Left: the leaver branch has no leader check.",
            case: SequenceCase { pool: 13, steps: vec![pkt(60, signed(B, Packet::Execute(None)))] },
        },
        Named {
            name: "duplicate-packets",
            note: "The same signed proposal and acceptance delivered twice: the second copies are ignored through SeenPackets.",
            case: {
                let prop = signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[], &[], 2)));
                let acc = signed(C, Packet::Accept(Some(participant(C))));
                SequenceCase { pool: 1, steps: vec![pkt(0, prop.clone()), pkt(1, prop), pkt(2, acc.clone()), pkt(3, acc)] }
            },
        },
        Named {
            name: "failed-then-repropose",
            note: "Executing e2 fails; A re-proposes e2 (base swaps to finished e1).",
            case: SequenceCase {
                pool: 6,
                steps: vec![
                    cmd(0, Command::Failed),
                    pkt(10, signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[], &[], 2)))),
                ],
            },
        },
        Named {
            name: "joiner-after-first-epoch",
            note: "D (fresh) receives a reshare proposal with itself as joiner, joins with the e1 group file, executes.",
            case: SequenceCase {
                pool: 9,
                steps: vec![
                    pkt(0, signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[D], &[], 3)))),
                    cmd(5, Command::Join(Some(Group { nodes: ps(&[A, B, C]), genesis_time: GENESIS, genesis_seed: GENESIS_SEED.to_vec(), threshold: 2 }))),
                    pkt(60, signed(A, Packet::Execute(None))),
                ],
            },
        },
        Named {
            name: "leader-commands",
            note: "B leads: Resharing from e1 (epoch = finished + 1), then Execute locally; no acceptance is required (StartExecuting does not count them). Peer packets here would be signed against the pool state, not B's proposal, so none follow.",
            case: SequenceCase {
                pool: 1,
                steps: vec![
                    cmd(0, Command::Resharing(crate::model::ProposalOptions {
                        threshold: 2,
                        timeout: Some(Timestamp { seconds: INTERIM_TIMEOUT, nanos: 0 }),
                        catchup_period_seconds: 5,
                        joining: vec![],
                        remaining: ps(&[A, B, C]),
                        leaving: vec![],
                    })),
                    cmd(10, Command::Execute),
                ],
            },
        },
    ]
}

/// Seed inputs of the `dkg_packet` target: one packet per pool state and packet kind.
pub fn packet_seeds() -> Vec<Named<PacketCase>> {
    let mut v = vec![
        Named { name: "proposal-e2-joinerD-at-complete", note: "Reshare proposal at a Complete e1 node.", case: PacketCase { pool: 1, now: NOW0, packet: signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[D], &[], 3))) } },
        Named { name: "proposal-e1-at-fresh", note: "First-epoch proposal at a Fresh node.", case: PacketCase { pool: 0, now: NOW0, packet: signed(A, Packet::Proposal(first_epoch_terms(&[A, B, C], 2))) } },
        Named { name: "accept-at-proposed", note: "C's acceptance at B (Proposed e2).", case: PacketCase { pool: 3, now: NOW0, packet: signed(C, Packet::Accept(Some(participant(C)))) } },
        Named { name: "reject-at-accepted", note: "C's rejection at B (Accepted e2).", case: PacketCase { pool: 5, now: NOW0, packet: signed(C, Packet::Reject(crate::model::RejectProposal { rejector: Some(participant(C)), reason: "no".into() })) } },
        Named { name: "execute-at-accepted", note: "Leader's Execute at B (Accepted e2).", case: PacketCase { pool: 5, now: NOW0, packet: signed(A, Packet::Execute(None)) } },
        Named { name: "abort-at-proposed", note: "Leader's Abort at B (Proposed e2).", case: PacketCase { pool: 3, now: NOW0, packet: signed(A, Packet::Abort("x".into())) } },
        Named { name: "execute-at-leaver", note: "Execute signed by remainer B at leaver C: goes Left, no leader check.", case: PacketCase { pool: 13, now: NOW0, packet: signed(B, Packet::Execute(None)) } },
        Named { name: "proposal-at-left", note: "Reshare proposal at an ex-leaver whose Left state has no FinalGroup (dkg.md 4.3 nil dereference).", case: PacketCase { pool: 8, now: NOW0, packet: signed(A, Packet::Proposal(reshare_terms(3, &[A, B], &[C], &[], 2))) } },
        Named { name: "proposal-at-aborted", note: "Re-proposal at an Aborted e2 node (base swap to finished e1).", case: PacketCase { pool: 4, now: NOW0, packet: signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[], &[], 2))) } },
        Named { name: "dkg-bundle", note: "An execution-phase bundle through the gossip endpoint (dkg.md 4.3 deadlock).", case: PacketCase { pool: 6, now: NOW0, packet: signed(A, Packet::Dkg(crate::model::DkgPacket { dkg: Some(crate::model::DkgInner { metadata_beacon_id: Some(pool::BEACON_ID.into()), bundle: vec![1, 2, 3] }) })) } },
        Named { name: "timeout-boundary", note: "Execute exactly at the proposal timeout (hasTimedOut uses <=).", case: PacketCase { pool: 5, now: INTERIM_TIMEOUT, packet: signed(A, Packet::Execute(None)) } },
        Named { name: "proposal-at-timeout", note: "Proposal whose timeout equals now (validation uses <, so accepted).", case: PacketCase { pool: 1, now: INTERIM_TIMEOUT, packet: signed(A, Packet::Proposal(reshare_terms(2, &[A, B, C], &[], &[], 2))) } },
    ];
    v.push(Named { name: "swapped-leader-key", note: "Proposal whose leader entry carries E's key under A's address, signed by E (dkg.md 4.3 key binding).", case: {
        let mut t = reshare_terms(2, &[A, B, C], &[], &[], 2);
        let swapped = Participant { address: participant(A).address, key: participant(E).key, signature: participant(E).signature };
        t.leader = Some(swapped.clone());
        if let Some(first) = t.remaining.first_mut() { *first = swapped; }
        let mut p = signed(A, Packet::Proposal(t));
        if let Some(m) = p.metadata.as_mut() { m.sig = SigSpec::SignedBy(u8::try_from(E).unwrap_or(0)); }
        PacketCase { pool: 1, now: NOW0, packet: p }
    } });
    v
}

/// The pool's participants, re-exported for tests (A..E).
pub const NAMED: [usize; 5] = [A, B, C, D, E];
