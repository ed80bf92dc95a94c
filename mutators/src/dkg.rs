//! Structure-aware mutators for the drand DKG targets `dkg_packet` and `dkg_sequence` (issue 13,
//! item 2), over the input encoding of `dkg_types::input`:
//! - generators of well-formed packets and sequences (proposals over subsets of the test
//!   participants A..E with epochs, thresholds, timeouts and genesis data near the pool's values,
//!   votes, executes, aborts and every local command), moved here from
//!   `differential/tests/dkg_structured.rs`;
//! - boundaries: `now` and every timestamp set to a deadline of the node's state or of the last
//!   proposal (its timeout, the genesis time) minus one, equal or plus one (second or nanosecond),
//!   thresholds at `n/2` and `n/2+1` of the proposal's node count;
//! - `dkg_sequence` trace mutations in the tlspuffin style: insert, delete, duplicate, reorder and
//!   replay steps, change the sender or the leader, epoch ±1, time jumps around the deadlines, and
//!   re-signing with the claimed sender's key;
//! - `dkg_packet` field mutations: decode, change one field, re-encode.
//!
//! Signatures: a packet's `SigSpec::SignedBy(i)` is resolved at replay time
//! (`dkg_types::input::resolve_packet`) with deterministic test key `i` over `messageForSigning`
//! against the signing context; "re-sign with the sender's key" sets `i` to the index of the test
//! participant whose address the metadata claims, so the packet verifies even with `--bls real`.
//!
//! Decoding the DKG encoding is total (any bytes are an input), so "undecodable" here means *not
//! canonical*: re-encoding the decoded case does not give the same bytes back (truncated fields
//! read as zeros, trailing bytes ignored, out-of-range counts folded). A non-canonical input gets
//! byte havoc ([`crate::havoc::havoc`]) unless the call generates a fresh case; never a panic.

use crate::generate::Config;
use crate::havoc::havoc;
use dkg_types::input::{decode_packet_case, decode_sequence_case, encode_packet_case, encode_sequence_case, MetaInput, PacketCase, PacketInput, SequenceCase, SigSpec, Step};
use dkg_types::pool::{self, participant, GENESIS, GENESIS_SEED, INTERIM_TIMEOUT, NOW0, POOL_SIZE};
use dkg_types::{Command, DkgInner, DkgPacket, FirstProposalOptions, Group, Packet, Participant, ProposalOptions, ProposalTerms, RejectProposal, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The two DKG targets (names as in `differential/oracle/src/target.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DkgKind {
    /// `dkg_packet`: `[pool u8][now i32][packet]`.
    Packet,
    /// `dkg_sequence`: `[pool u8][steps u8][step]*`.
    Sequence,
}

impl DkgKind {
    /// Both kinds.
    pub const ALL: &'static [DkgKind] = &[DkgKind::Packet, DkgKind::Sequence];

    /// The target name.
    pub fn name(self) -> &'static str {
        match self {
            DkgKind::Packet => "dkg_packet",
            DkgKind::Sequence => "dkg_sequence",
        }
    }

    /// The kind of a target name; `None` for the other targets.
    pub fn from_name(name: &str) -> Option<DkgKind> {
        DkgKind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// Whether `data` is a canonical input of `kind`: decoding then re-encoding gives `data` back.
pub fn canonical(kind: DkgKind, data: &[u8]) -> bool {
    match kind {
        DkgKind::Packet => encode_packet_case(&decode_packet_case(data)) == data,
        DkgKind::Sequence => encode_sequence_case(&decode_sequence_case(data)) == data,
    }
}

/// The DKG mutator. `config.generate` is the chance that a call replaces the input by a freshly
/// generated case; `config.valid` the chance that a generated proposal is near-valid (leader A,
/// the pool's genesis, remaining mostly A,B,C) rather than drawn at random.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DkgMutator {
    /// Probabilities.
    pub config: Config,
}

impl Default for DkgMutator {
    /// `generate` 0.1, `valid` 0.5.
    fn default() -> Self {
        DkgMutator { config: Config { generate: 0.1, valid: 0.5, ..Config::default() } }
    }
}

impl DkgMutator {
    /// Mutates `data` (an input of `kind`) in place, keeping it at most `max_len` bytes:
    /// generate a fresh case (chance `config.generate`), else a structured mutation of the decoded
    /// case (trace mutations for sequences, field mutations for packets), re-encoded; a
    /// non-canonical input ([`canonical`]) gets byte havoc instead. Deterministic for a given RNG
    /// state.
    pub fn mutate<R: Rng>(&self, kind: DkgKind, data: &mut Vec<u8>, rng: &mut R, max_len: usize) {
        if rng.gen_bool(self.config.generate.clamp(0.0, 1.0)) {
            *data = self.generate(kind, rng);
        } else if !canonical(kind, data) {
            havoc(data, rng, max_len);
            return;
        } else {
            let near = self.config.valid.clamp(0.0, 1.0);
            match kind {
                DkgKind::Packet => {
                    let mut c = decode_packet_case(data);
                    mutate_packet_case(&mut c, rng, near);
                    *data = encode_packet_case(&c);
                }
                DkgKind::Sequence => {
                    let mut c = decode_sequence_case(data);
                    for _ in 0..(1usize << rng.gen_range(0..3)) {
                        mutate_sequence(&mut c, rng, near);
                    }
                    *data = encode_sequence_case(&c);
                }
            }
        }
        data.truncate(max_len);
    }

    /// [`DkgMutator::mutate`] with a ChaCha8 RNG seeded from `seed` (what libFuzzer's
    /// `fuzz_mutator!` and AFL++'s custom mutator give); returns the new length.
    pub fn mutate_seeded(&self, kind: DkgKind, data: &mut Vec<u8>, max_len: usize, seed: u64) -> usize {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        self.mutate(kind, data, &mut rng, max_len);
        data.len()
    }

    /// A freshly generated canonical input of `kind`.
    pub fn generate<R: Rng>(&self, kind: DkgKind, rng: &mut R) -> Vec<u8> {
        let near = self.config.valid.clamp(0.0, 1.0);
        match kind {
            DkgKind::Packet => encode_packet_case(&gen_packet_case(rng, near)),
            DkgKind::Sequence => encode_sequence_case(&gen_sequence(rng, near)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generators (moved from differential/tests/dkg_structured.rs).

fn chance<R: Rng>(rng: &mut R, percent: u32) -> bool {
    rng.gen_range(0..100u32) < percent
}

fn who<R: Rng>(rng: &mut R) -> usize {
    rng.gen_range(0..5usize)
}

/// A random subset of A..E (each with chance 45 %).
fn subset<R: Rng>(rng: &mut R) -> Vec<Participant> {
    (0..5).filter(|_| chance(rng, 45)).map(participant).collect()
}

fn ts_at(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

/// A timestamp: absent, `now`, one nanosecond before `now`, or the pool's interim timeout.
fn ts<R: Rng>(rng: &mut R, now: i64) -> Option<Timestamp> {
    match rng.gen_range(0..8u8) {
        0 => None,
        1 => ts_at(now),
        2 => Some(Timestamp { seconds: now.wrapping_sub(1), nanos: 999_999_999 }),
        _ => ts_at(INTERIM_TIMEOUT),
    }
}

/// Random proposal terms over A..E (any leader, epoch 0..4, threshold 0..5, sometimes a foreign
/// beacon id, an unknown scheme, another genesis time or no seed).
pub fn gen_terms<R: Rng>(rng: &mut R, now: i64) -> ProposalTerms {
    let leader = if chance(rng, 3) { None } else { Some(participant(who(rng))) };
    let mut remaining = subset(rng);
    if let Some(l) = &leader {
        if chance(rng, 80) && !remaining.contains(l) {
            remaining.push(l.clone());
        }
    }
    ProposalTerms {
        beacon_id: if chance(rng, 3) { "other".into() } else { pool::BEACON_ID.into() },
        epoch: rng.gen_range(0..5u32),
        leader,
        threshold: rng.gen_range(0..6u32),
        timeout: ts(rng, now),
        catchup_period_seconds: 5,
        beacon_period_seconds: 30,
        scheme_id: ["pedersen-bls-chained", "pedersen-bls-unchained", "", "bogus"].get(rng.gen_range(0..4usize)).copied().unwrap_or_default().into(),
        genesis_time: ts_at(if chance(rng, 85) { GENESIS } else { GENESIS.wrapping_add(1) }),
        genesis_seed: if chance(rng, 60) { GENESIS_SEED.to_vec() } else { vec![] },
        joining: subset(rng),
        remaining,
        leaving: if chance(rng, 30) { subset(rng) } else { vec![] },
    }
}

/// Near-valid terms from leader A: epoch 1..3, remaining mostly [A,B,C], joiners from {D,E},
/// threshold 2 or 3, the pool's timeout, genesis time and seed (epoch 1: joiners A,B,C only).
pub fn gen_near_valid_terms<R: Rng>(rng: &mut R, now: i64) -> ProposalTerms {
    let mut t = gen_terms(rng, now);
    t.beacon_id = pool::BEACON_ID.into();
    t.scheme_id = "pedersen-bls-chained".into();
    t.epoch = rng.gen_range(1..4u32);
    t.leader = Some(participant(pool::A));
    t.remaining = [0usize, 1, 2].iter().filter(|i| **i == 0 || chance(rng, 90)).map(|i| participant(*i)).collect();
    t.joining = [3usize, 4].iter().filter(|_| chance(rng, 40)).map(|i| participant(*i)).collect();
    t.leaving = if t.remaining.len() < 3 && chance(rng, 50) { vec![participant(pool::C)] } else { vec![] };
    t.threshold = rng.gen_range(2..4u32);
    t.timeout = ts_at(INTERIM_TIMEOUT);
    t.genesis_time = ts_at(GENESIS);
    t.genesis_seed = GENESIS_SEED.to_vec();
    if t.epoch == 1 {
        t.genesis_seed = vec![];
        t.joining = vec![participant(pool::A), participant(pool::B), participant(pool::C)];
        t.remaining = vec![];
        t.leaving = vec![];
    }
    t
}

/// A packet, mostly from A (the pool's leader), signed by its claimed sender (3 % a raw 3-byte
/// signature). `near` is the share of proposals drawn near-valid.
pub fn gen_packet<R: Rng>(rng: &mut R, now: i64, near: f64) -> PacketInput {
    let from = if chance(rng, 60) { 0 } else { who(rng) };
    let body = match rng.gen_range(0..7u8) {
        0 | 1 | 5 if rng.gen_bool(near.clamp(0.0, 1.0)) => Packet::Proposal(gen_near_valid_terms(rng, now)),
        0 | 1 | 5 => {
            let mut t = gen_terms(rng, now);
            if chance(rng, 85) {
                t.leader = Some(participant(from));
            }
            Packet::Proposal(t)
        }
        2 => Packet::Accept(Some(participant(if chance(rng, 85) { from } else { who(rng) }))),
        3 => Packet::Reject(RejectProposal { rejector: Some(participant(if chance(rng, 85) { from } else { who(rng) })), reason: String::new() }),
        4 => Packet::Execute(ts(rng, now)),
        _ => Packet::Abort(String::new()),
    };
    let sig = if chance(rng, 3) { SigSpec::Raw(vec![1, 2, 3]) } else { SigSpec::SignedBy(u8::try_from(from).unwrap_or(0)) };
    PacketInput { metadata: Some(MetaInput { beacon_id: pool::BEACON_ID.into(), address: participant(from).address, sig }), packet: Some(body) }
}

fn gen_group<R: Rng>(rng: &mut R) -> Group {
    Group { nodes: subset(rng), genesis_time: if chance(rng, 85) { GENESIS } else { GENESIS.wrapping_add(1) }, genesis_seed: GENESIS_SEED.to_vec(), threshold: 2 }
}

/// A local command (every kind).
pub fn gen_command<R: Rng>(rng: &mut R, now: i64) -> Command {
    match rng.gen_range(0..9u8) {
        0 => Command::Accept,
        1 => Command::Reject,
        2 => Command::Execute,
        3 => Command::Abort,
        4 => Command::Join(if chance(rng, 70) { Some(gen_group(rng)) } else { None }),
        5 => Command::Complete {
            final_group: if chance(rng, 90) { Some(gen_group(rng)) } else { None },
            share: if chance(rng, 90) { Some(vec![7]) } else { None },
        },
        6 => Command::Failed,
        7 => Command::Resharing(ProposalOptions {
            threshold: rng.gen_range(0..5u32),
            timeout: ts(rng, now),
            catchup_period_seconds: 5,
            joining: subset(rng),
            remaining: subset(rng),
            leaving: subset(rng),
        }),
        _ => Command::Initial(FirstProposalOptions {
            threshold: rng.gen_range(0..5u32),
            timeout: ts(rng, now),
            scheme: "pedersen-bls-chained".into(),
            catchup_period_seconds: 5,
            period_seconds: 30,
            genesis_time: None,
            joining: subset(rng),
        }),
    }
}

/// A sequence of 1..8 steps on a random pool state: time advances 0..19 s per step (5 %: one
/// hour), 65 % packets, 10 % a replay of the previous packet, the rest local commands.
pub fn gen_sequence<R: Rng>(rng: &mut R, near: f64) -> SequenceCase {
    let mut now = NOW0;
    let n = rng.gen_range(1..9u8);
    let mut steps = Vec::new();
    let mut last: Option<PacketInput> = None;
    for _ in 0..n {
        now = now.wrapping_add(if chance(rng, 5) { 3600 } else { rng.gen_range(0..20i64) });
        match last.clone() {
            Some(p) if chance(rng, 10) => steps.push(Step::Packet { now, packet: p }),
            _ if chance(rng, 65) => {
                let p = gen_packet(rng, now, near);
                last = Some(p.clone());
                steps.push(Step::Packet { now, packet: p });
            }
            _ => steps.push(Step::Command { now, command: gen_command(rng, now) }),
        }
    }
    SequenceCase { pool: pool_selector(rng), steps }
}

/// A `dkg_packet` case: a random pool state, `now` near [`NOW0`] or at a deadline boundary of
/// that state, one generated packet.
pub fn gen_packet_case<R: Rng>(rng: &mut R, near: f64) -> PacketCase {
    let pool = pool_selector(rng);
    let mut now = NOW0.wrapping_add(rng.gen_range(0..20i64));
    if chance(rng, 20) {
        now = boundary_time(rng, &deadlines(pool, None)).seconds;
    }
    PacketCase { pool, now, packet: gen_packet(rng, now, near) }
}

fn pool_selector<R: Rng>(rng: &mut R) -> u8 {
    rng.gen_range(0..u8::try_from(POOL_SIZE).unwrap_or(u8::MAX))
}

// ---------------------------------------------------------------------------------------------
// Boundaries.

/// The deadlines an input can sit at: the pool state's current and finished timeouts and
/// genesis time, the last proposal's timeout and genesis time (if any), [`NOW0`] and
/// [`INTERIM_TIMEOUT`]; Unix seconds.
pub fn deadlines(pool_selector: u8, last_proposal: Option<&ProposalTerms>) -> Vec<i64> {
    let node = pool::pool_state(pool_selector);
    let mut out = vec![NOW0, INTERIM_TIMEOUT, GENESIS];
    for s in [node.current.as_ref(), node.finished.as_ref()].into_iter().flatten() {
        out.push(s.timeout.unix_seconds());
        out.push(s.genesis_time.unix_seconds());
    }
    if let Some(t) = last_proposal {
        for x in [t.timeout.as_ref(), t.genesis_time.as_ref()].into_iter().flatten() {
            out.push(x.seconds);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A deadline of `deadlines` minus one, equal or plus one: a second either side, or one
/// nanosecond before (`seconds - 1`, `999_999_999` nanos).
pub fn boundary_time<R: Rng>(rng: &mut R, deadlines: &[i64]) -> Timestamp {
    let d = deadlines.get(rng.gen_range(0..deadlines.len().max(1))).copied().unwrap_or(NOW0);
    match rng.gen_range(0..4u8) {
        0 => Timestamp { seconds: d.wrapping_sub(1), nanos: 0 },
        1 => Timestamp { seconds: d, nanos: 0 },
        2 => Timestamp { seconds: d.wrapping_add(1), nanos: 0 },
        _ => Timestamp { seconds: d.wrapping_sub(1), nanos: 999_999_999 },
    }
}

/// A threshold at the boundaries of `n` nodes: `n/2`, `n/2+1` (kyber's `MinimumT`), `n`, `n+1`.
pub fn boundary_threshold<R: Rng>(rng: &mut R, n: usize) -> u32 {
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    let half = n.checked_div(2).unwrap_or(0);
    match rng.gen_range(0..4u8) {
        0 => half,
        1 => half.saturating_add(1),
        2 => n,
        _ => n.saturating_add(1),
    }
}

// ---------------------------------------------------------------------------------------------
// Field-level mutations of one packet (dkg_packet, and one step of a sequence).

/// A participant variant: a test key (A..H), the address of one with the next one's key and PoP
/// (key substitution), a test key with an empty PoP, or an explicit odd one (empty address, short
/// key).
fn participant_variant<R: Rng>(rng: &mut R) -> Participant {
    let i = rng.gen_range(0..8usize);
    match rng.gen_range(0..10u8) {
        0..=5 => participant(i),
        6 => {
            let other = participant(i.wrapping_add(1));
            Participant { address: participant(i).address, key: other.key, signature: other.signature }
        }
        7 => Participant { signature: Vec::new(), ..participant(i) },
        8 => Participant { address: String::new(), ..participant(i) },
        _ => Participant { address: "127.0.0.1:1".into(), key: vec![0; 3], signature: vec![] },
    }
}

fn mutate_list<R: Rng>(l: &mut Vec<Participant>, rng: &mut R) {
    match rng.gen_range(0..6u8) {
        0 if !l.is_empty() => {
            l.remove(rng.gen_range(0..l.len()));
        }
        1 if !l.is_empty() => {
            // Duplicate entry (nothing rejects duplicates: inflates counts).
            let i = rng.gen_range(0..l.len());
            if let Some(p) = l.get(i).cloned() {
                l.insert(i, p);
            }
        }
        2 if !l.is_empty() => {
            let i = rng.gen_range(0..l.len());
            if let Some(p) = l.get_mut(i) {
                *p = participant_variant(rng);
            }
        }
        3 => l.clear(),
        _ => l.push(participant(rng.gen_range(0..5usize))),
    }
}

fn sender_index(address: &str) -> Option<u8> {
    (0..8u8).find(|i| participant(usize::from(*i)).address == address)
}

/// Sign the packet with its claimed sender's test key (no-op for a foreign address).
fn resign(p: &mut PacketInput) {
    if let Some(m) = p.metadata.as_mut() {
        if let Some(i) = sender_index(&m.address) {
            m.sig = SigSpec::SignedBy(i);
        }
    }
}

fn mutate_terms<R: Rng>(t: &mut ProposalTerms, rng: &mut R, deadlines: &[i64]) {
    match rng.gen_range(0..16u8) {
        0 => t.epoch = if rng.gen() { t.epoch.wrapping_add(1) } else { t.epoch.wrapping_sub(1) },
        1 => t.epoch = [0, 1, 2, 3, u32::MAX].get(rng.gen_range(0..5usize)).copied().unwrap_or(0),
        2 | 3 => {
            let n = t.joining.len().saturating_add(t.remaining.len());
            t.threshold = boundary_threshold(rng, n);
        }
        4 | 5 => t.timeout = Some(boundary_time(rng, deadlines)),
        6 => t.genesis_time = Some(boundary_time(rng, deadlines)),
        7 => t.leader = if chance(rng, 10) { None } else { Some(participant_variant(rng)) },
        8 => mutate_list(&mut t.joining, rng),
        9 => mutate_list(&mut t.remaining, rng),
        10 => mutate_list(&mut t.leaving, rng),
        11 => {
            t.scheme_id = ["pedersen-bls-chained", "pedersen-bls-unchained", "bls-unchained-g1-rfc9380", "bls-unchained-on-g1", "bls-bn254-unchained-on-g1", "", "bogus"]
                .get(rng.gen_range(0..7usize))
                .copied()
                .unwrap_or_default()
                .into();
        }
        12 => t.genesis_seed = if t.genesis_seed.is_empty() { GENESIS_SEED.to_vec() } else if rng.gen() { vec![] } else { b"other-seed".to_vec() },
        13 => t.beacon_id = if t.beacon_id == pool::BEACON_ID { "other".into() } else { pool::BEACON_ID.into() },
        14 => {
            // Move a participant between lists (remainer becomes leaver or joiner).
            if let Some(p) = t.remaining.pop() {
                if rng.gen() {
                    t.leaving.push(p);
                } else {
                    t.joining.push(p);
                }
            } else if let Some(p) = t.joining.pop() {
                t.remaining.push(p);
            }
        }
        _ => {
            t.catchup_period_seconds = [0, 1, 5, u32::MAX].get(rng.gen_range(0..4usize)).copied().unwrap_or(0);
            t.beacon_period_seconds = [0, 1, 30, u32::MAX].get(rng.gen_range(0..4usize)).copied().unwrap_or(0);
        }
    }
}

/// Changes one field of `p`. `deadlines` are the times worth sitting at (see [`deadlines`]).
/// Packets signed by their sender stay signed by the sender unless the mutation is on the
/// signature itself.
pub fn mutate_packet<R: Rng>(p: &mut PacketInput, rng: &mut R, deadlines: &[i64], now: i64) {
    match rng.gen_range(0..12u8) {
        // Metadata: sender, beacon id, signature.
        0 => {
            if let Some(m) = p.metadata.as_mut() {
                let i = rng.gen_range(0..8u8);
                m.address = participant(usize::from(i)).address;
                if rng.gen_bool(0.7) {
                    m.sig = SigSpec::SignedBy(i);
                }
            }
        }
        1 => {
            if let Some(m) = p.metadata.as_mut() {
                m.sig = match rng.gen_range(0..5u8) {
                    0 => SigSpec::Raw(vec![]),
                    1 => SigSpec::Raw(vec![0xAB; rng.gen_range(1..8usize)]),
                    2 => SigSpec::Raw(vec![0; 96]),
                    3 => SigSpec::SignedBy(rng.gen_range(0..8u8)),
                    _ => SigSpec::Raw((0..rng.gen_range(0..100usize)).map(|_| rng.gen()).collect()),
                };
            }
        }
        2 => {
            if let Some(m) = p.metadata.as_mut() {
                m.beacon_id = if m.beacon_id == pool::BEACON_ID { "other".into() } else { pool::BEACON_ID.into() };
            } else {
                p.metadata = Some(MetaInput { beacon_id: pool::BEACON_ID.into(), address: participant(0).address, sig: SigSpec::SignedBy(0) });
            }
        }
        3 if chance(rng, 20) => p.metadata = None,
        3 => resign(p),
        // The oneof: another kind of packet.
        4 if chance(rng, 5) => p.packet = None,
        4 => {
            let mut fresh = gen_packet(rng, now, 0.5);
            fresh.metadata.clone_from(&p.metadata);
            p.packet = fresh.packet;
        }
        // A field of the body.
        _ => match p.packet.as_mut() {
            Some(Packet::Proposal(t)) => {
                mutate_terms(t, rng, deadlines);
                if chance(rng, 30) {
                    // Keep leader and sender together.
                    if let (Some(l), Some(m)) = (t.leader.as_ref(), p.metadata.as_mut()) {
                        m.address.clone_from(&l.address);
                    }
                    resign(p);
                }
            }
            Some(Packet::Accept(a)) => *a = if chance(rng, 10) { None } else { Some(participant_variant(rng)) },
            Some(Packet::Reject(r)) => {
                if rng.gen() {
                    r.rejector = if chance(rng, 10) { None } else { Some(participant_variant(rng)) };
                } else {
                    r.reason = "\nRemainer:".into();
                }
            }
            Some(Packet::Execute(t)) => *t = if chance(rng, 10) { None } else { Some(boundary_time(rng, deadlines)) },
            Some(Packet::Abort(reason)) => *reason = if reason.is_empty() { "timeout".into() } else { String::new() },
            Some(Packet::Dkg(d)) => {
                d.dkg = match rng.gen_range(0..3u8) {
                    0 => None,
                    1 => Some(DkgInner { metadata_beacon_id: None, bundle: vec![] }),
                    _ => Some(DkgInner { metadata_beacon_id: Some(pool::BEACON_ID.into()), bundle: (0..rng.gen_range(0..64usize)).map(|_| rng.gen()).collect() }),
                }
            }
            None => p.packet = Some(Packet::Dkg(DkgPacket::default())),
        },
    }
}

/// One field-level mutation of a `dkg_packet` case: the pool state, `now` at a deadline boundary,
/// or a field of the packet.
pub fn mutate_packet_case<R: Rng>(c: &mut PacketCase, rng: &mut R, near: f64) {
    let last = match &c.packet.packet {
        Some(Packet::Proposal(t)) => Some(t.clone()),
        _ => None,
    };
    let dl = deadlines(c.pool, last.as_ref());
    match rng.gen_range(0..10u8) {
        0 => c.pool = pool_selector(rng),
        1 | 2 => c.now = boundary_time(rng, &dl).seconds,
        3 if chance(rng, 30) => c.packet = gen_packet(rng, c.now, near),
        _ => mutate_packet(&mut c.packet, rng, &dl, c.now),
    }
}

// ---------------------------------------------------------------------------------------------
// Trace mutations (dkg_sequence).

fn step_now(s: &Step) -> i64 {
    match s {
        Step::Packet { now, .. } | Step::Command { now, .. } => *now,
    }
}

fn set_now(s: &mut Step, t: i64) {
    match s {
        Step::Packet { now, .. } | Step::Command { now, .. } => *now = t,
    }
}

/// The last proposal in `steps` before index `i`.
fn last_proposal(steps: &[Step], i: usize) -> Option<ProposalTerms> {
    steps.iter().take(i).rev().find_map(|s| match s {
        Step::Packet { packet: PacketInput { packet: Some(Packet::Proposal(t)), .. }, .. } => Some(t.clone()),
        _ => None,
    })
}

fn pick_index<R: Rng>(rng: &mut R, len: usize) -> Option<usize> {
    (len > 0).then(|| rng.gen_range(0..len))
}

fn packet_indices(steps: &[Step]) -> Vec<usize> {
    steps.iter().enumerate().filter(|(_, s)| matches!(s, Step::Packet { .. })).map(|(i, _)| i).collect()
}

const MAX_STEPS: usize = 32;

/// One trace mutation of a sequence: insert, delete, duplicate, reorder or replay steps; change
/// a packet's sender or a proposal's leader; epoch ±1; a time jump to a deadline boundary (later
/// steps keep their spacing); re-sign with the sender's key; one field of one packet or command;
/// another pool state. The sequence stays at most 32 steps.
pub fn mutate_sequence<R: Rng>(c: &mut SequenceCase, rng: &mut R, near: f64) {
    let len = c.steps.len();
    match rng.gen_range(0..14u8) {
        // Insert a generated step (a packet at the same time as its neighbour, or a command).
        0 | 1 if len < MAX_STEPS => {
            let at = rng.gen_range(0..=len);
            let now = c.steps.get(at.saturating_sub(1)).map(step_now).unwrap_or(NOW0);
            let step = if chance(rng, 70) { Step::Packet { now, packet: gen_packet(rng, now, near) } } else { Step::Command { now, command: gen_command(rng, now) } };
            c.steps.insert(at, step);
        }
        // Delete a step.
        2 if len > 1 => {
            if let Some(i) = pick_index(rng, len) {
                c.steps.remove(i);
            }
        }
        // Duplicate a step in place (same time: the copy is a SeenPackets replay).
        3 if len < MAX_STEPS => {
            if let Some(s) = pick_index(rng, len).and_then(|i| c.steps.get(i).cloned().map(|s| (i, s))) {
                c.steps.insert(s.0, s.1);
            }
        }
        // Reorder: swap two steps' bodies, keeping the times in place (time stays monotonic).
        4 if len > 1 => {
            let (i, j) = (rng.gen_range(0..len), rng.gen_range(0..len));
            let (ti, tj) = (c.steps.get(i).map(step_now), c.steps.get(j).map(step_now));
            c.steps.swap(i, j);
            if let (Some(ti), Some(tj), true) = (ti, tj, rng.gen_bool(0.8)) {
                if let Some(s) = c.steps.get_mut(i) {
                    set_now(s, ti);
                }
                if let Some(s) = c.steps.get_mut(j) {
                    set_now(s, tj);
                }
            }
        }
        // Replay an earlier packet later (after a possible abort, at a later time).
        5 if len < MAX_STEPS => {
            let packets = packet_indices(&c.steps);
            if let Some(src) = pick_index(rng, packets.len()).and_then(|k| packets.get(k).copied()) {
                if let Some(s) = c.steps.get(src).cloned() {
                    let at = rng.gen_range(src.saturating_add(1)..=len);
                    let mut s = s;
                    let now = c.steps.get(at.saturating_sub(1)).map(step_now).unwrap_or(NOW0);
                    set_now(&mut s, now.wrapping_add(rng.gen_range(0..3i64)));
                    c.steps.insert(at, s);
                }
            }
        }
        // Change the sender of a packet (re-signed by the new sender, or not).
        6 => {
            let packets = packet_indices(&c.steps);
            if let Some(Step::Packet { packet, .. }) = pick_index(rng, packets.len()).and_then(|k| packets.get(k).copied()).and_then(|i| c.steps.get_mut(i)) {
                let who = rng.gen_range(0..5u8);
                if let Some(m) = packet.metadata.as_mut() {
                    m.address = participant(usize::from(who)).address;
                    m.sig = if chance(rng, 80) { SigSpec::SignedBy(who) } else { m.sig.clone() };
                }
            }
        }
        // Change a proposal's leader (sender follows, re-signed).
        7 => {
            let props: Vec<usize> = c
                .steps
                .iter()
                .enumerate()
                .filter(|(_, s)| matches!(s, Step::Packet { packet: PacketInput { packet: Some(Packet::Proposal(_)), .. }, .. }))
                .map(|(i, _)| i)
                .collect();
            if let Some(Step::Packet { packet, .. }) = pick_index(rng, props.len()).and_then(|k| props.get(k).copied()).and_then(|i| c.steps.get_mut(i)) {
                let who = rng.gen_range(0..5usize);
                if let Some(Packet::Proposal(t)) = packet.packet.as_mut() {
                    t.leader = Some(participant(who));
                }
                if chance(rng, 80) {
                    if let Some(m) = packet.metadata.as_mut() {
                        m.address = participant(who).address;
                    }
                    resign(packet);
                }
            }
        }
        // Epoch ±1 of a proposal.
        8 => {
            for s in c.steps.iter_mut() {
                if let Step::Packet { packet: PacketInput { packet: Some(Packet::Proposal(t)), .. }, .. } = s {
                    if rng.gen_bool(0.5) {
                        t.epoch = if rng.gen() { t.epoch.wrapping_add(1) } else { t.epoch.wrapping_sub(1) };
                        break;
                    }
                }
            }
        }
        // Time jump: a step's now to a deadline boundary; the later steps move with it.
        9 | 10 if len > 0 => {
            let i = rng.gen_range(0..len);
            let dl = deadlines(c.pool, last_proposal(&c.steps, i).as_ref());
            let old = c.steps.get(i).map(step_now).unwrap_or(NOW0);
            let new = boundary_time(rng, &dl).seconds;
            let shift = new.wrapping_sub(old);
            let all_later = rng.gen_bool(0.7);
            for (k, s) in c.steps.iter_mut().enumerate().skip(i) {
                if k == i || all_later {
                    set_now(s, step_now(s).wrapping_add(shift));
                }
            }
        }
        // Re-sign every packet with its claimed sender's key.
        11 => {
            for s in c.steps.iter_mut() {
                if let Step::Packet { packet, .. } = s {
                    resign(packet);
                }
            }
        }
        // Another pool state.
        12 if chance(rng, 50) => c.pool = pool_selector(rng),
        // One field of one step.
        _ if len > 0 => {
            let i = rng.gen_range(0..len);
            let dl = deadlines(c.pool, last_proposal(&c.steps, i).as_ref());
            match c.steps.get_mut(i) {
                Some(Step::Packet { now, packet }) => mutate_packet(packet, rng, &dl, *now),
                Some(Step::Command { now, command }) => mutate_command(command, rng, &dl, *now),
                None => {}
            }
        }
        _ => c.steps.push(Step::Packet { now: NOW0, packet: gen_packet(rng, NOW0, near) }),
    }
}

/// One field of a local command (timeouts at deadline boundaries, thresholds at `n/2`,
/// `n/2+1`), or another command.
fn mutate_command<R: Rng>(c: &mut Command, rng: &mut R, deadlines: &[i64], now: i64) {
    match c {
        Command::Resharing(o) if rng.gen_bool(0.7) => {
            if rng.gen() {
                o.timeout = Some(boundary_time(rng, deadlines));
            } else {
                let n = o.joining.len().saturating_add(o.remaining.len());
                o.threshold = boundary_threshold(rng, n);
            }
        }
        Command::Initial(o) if rng.gen_bool(0.7) => {
            if rng.gen() {
                o.timeout = Some(boundary_time(rng, deadlines));
            } else {
                o.threshold = boundary_threshold(rng, o.joining.len());
            }
        }
        Command::Join(Some(g)) | Command::Complete { final_group: Some(g), .. } if rng.gen_bool(0.5) => {
            if rng.gen() {
                mutate_list(&mut g.nodes, rng);
            } else {
                g.genesis_time = g.genesis_time.wrapping_add(if rng.gen() { 1 } else { -1 });
            }
        }
        _ => *c = gen_command(rng, now),
    }
}
