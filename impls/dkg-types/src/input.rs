//! The compact binary fuzz-input encoding of the DKG targets, and its resolution into concrete
//! packets (signing included).
//!
//! Decoding never fails and never panics: a short input reads as zeros, counts and lengths are
//! capped. Layout (all integers little-endian):
//! - `dkg_packet`: `[pool selector u8][now: i32 seconds from NOW0][packet]`
//! - `dkg_sequence`: `[pool selector u8][step count u8 (mod 33)]` then per step
//!   `[kind u8: even = packet, odd = command][now i32][packet | command]`
//! - packet: `[flags u8: bit0 metadata][metadata: beacon, address, sig spec][kind u8 mod 7][body]`
//!   with kind 0 unset, 1 proposal, 2 accept, 3 reject, 4 execute, 5 abort, 6 dkg.
//! - participant: tag `< 0x40` test key `tag % 8`; `0x40..0x80` address of key `i`, key and PoP
//!   of key `i+1` (key substitution); `0x80..0xC0` address and key of `i`, empty PoP;
//!   `0xC0..0xFF` explicit `(address, key, PoP)`; `0xFF` (where optional) absent.
//! - timestamp: tag `% 4`: 0 absent, 1 `now + i32`, 2 absolute `(i64, i32)`, 3 `GENESIS + i32`.
//! - sig spec: tag even = sign with test key `u8` over `messageForSigning` against the signing
//!   context ([`SequenceCase::resolve`]); odd = raw bytes.
//!
//! The encoder writes absolute timestamps and test-key tags where a participant is a test key, so
//! `decode(encode(x)) == x`.

use crate::bls::{self, BlsMode, SCHEME_NAMES};
use crate::model::*;
use crate::pool::{self, GENESIS, NOW0};
use crate::signing::{message_for_signing, terms_from_state};
use crate::time::{GoTime, Timestamp};

const MAX_LIST: u8 = 16;
const MAX_STEPS: u8 = 32;

/// How the metadata signature is produced.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum SigSpec {
    /// Sign with test key `i % 8` over `messageForSigning(meta.beaconID, packet, context terms)`.
    SignedBy(u8),
    /// These exact bytes.
    Raw(Vec<u8>),
}

/// Metadata before signing.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct MetaInput {
    /// `GossipMetadata.beaconID`.
    pub beacon_id: String,
    /// Claimed sender.
    pub address: String,
    /// Signature to produce.
    pub sig: SigSpec,
}

/// A gossip packet before signing.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PacketInput {
    /// `None` = nil metadata.
    pub metadata: Option<MetaInput>,
    /// `None` = unset oneof.
    pub packet: Option<Packet>,
}

/// One step of a sequence, with its `now` (Unix seconds).
#[allow(clippy::large_enum_variant, reason = "short-lived decoded input; boxing buys nothing")]
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Step {
    /// A received gossip packet.
    Packet {
        /// Unix seconds.
        now: i64,
        /// The packet.
        packet: PacketInput,
    },
    /// A local command or execution outcome.
    Command {
        /// Unix seconds.
        now: i64,
        /// The command.
        command: Command,
    },
}

/// A `dkg_packet` input.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PacketCase {
    /// Pool selector (`pool::pool_state`).
    pub pool: u8,
    /// Unix seconds.
    pub now: i64,
    /// The packet.
    pub packet: PacketInput,
}

/// A `dkg_sequence` input.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SequenceCase {
    /// Pool selector.
    pub pool: u8,
    /// Steps, at most 32.
    pub steps: Vec<Step>,
}

/// A resolved step: what the implementations receive.
#[allow(clippy::large_enum_variant, reason = "short-lived decoded input; boxing buys nothing")]
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ResolvedStep {
    /// A signed packet and `now`.
    Packet(GossipPacket, GoTime),
    /// A command and `now`.
    Command(Command, GoTime),
}

/// Bytes to a string, one byte per character: non-ASCII bytes become `?`, so the length is kept
/// and `decode(encode(x)) == x` holds (Go protobuf strings are UTF-8; the fuzzer needs no more).
fn ascii(b: &[u8]) -> String {
    b.iter().map(|c| if c.is_ascii() { char::from(*c) } else { '?' }).collect()
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            *b = self.u8();
        }
        out
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }
    fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.array())
    }
    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.array())
    }
    fn bytes(&mut self) -> Vec<u8> {
        let n = self.u8();
        (0..n).map(|_| self.u8()).collect()
    }
    fn string(&mut self) -> String {
        ascii(&self.bytes())
    }
    fn beacon(&mut self) -> String {
        match self.u8() {
            0 => pool::BEACON_ID.to_owned(),
            n => {
                let len = n.saturating_sub(1);
                ascii(&(0..len).map(|_| self.u8()).collect::<Vec<_>>())
            }
        }
    }
    fn participant_tag(&mut self, tag: u8) -> Participant {
        let i = usize::from(tag & 7);
        match tag {
            0..=0x3F => pool::participant(i),
            0x40..=0x7F => {
                let other = pool::participant(i.saturating_add(1));
                Participant { address: pool::participant(i).address, key: other.key, signature: other.signature }
            }
            0x80..=0xBF => Participant { signature: Vec::new(), ..pool::participant(i) },
            _ => Participant { address: self.string(), key: self.bytes(), signature: self.bytes() },
        }
    }
    fn participant(&mut self) -> Participant {
        let tag = self.u8();
        self.participant_tag(tag)
    }
    fn opt_participant(&mut self) -> Option<Participant> {
        match self.u8() {
            0xFF => None,
            tag => Some(self.participant_tag(tag)),
        }
    }
    fn list(&mut self) -> Vec<Participant> {
        let n = self.u8().checked_rem(MAX_LIST.saturating_add(1)).unwrap_or(0);
        (0..n).map(|_| self.participant()).collect()
    }
    fn timestamp(&mut self, now: i64) -> Option<Timestamp> {
        match self.u8() & 3 {
            0 => None,
            1 => Some(Timestamp { seconds: now.wrapping_add(i64::from(self.i32())), nanos: 0 }),
            2 => Some(Timestamp { seconds: self.i64(), nanos: self.i32() }),
            _ => Some(Timestamp { seconds: GENESIS.wrapping_add(i64::from(self.i32())), nanos: 0 }),
        }
    }
    fn scheme(&mut self) -> String {
        let tag = self.u8();
        match SCHEME_NAMES.get(usize::from(tag)) {
            Some(name) => (*name).to_owned(),
            None if tag == 5 => String::new(),
            None => self.string(),
        }
    }
    fn address(&mut self) -> String {
        match self.u8() {
            t @ 0..=0x7F => pool::participant(usize::from(t & 7)).address,
            _ => self.string(),
        }
    }
    fn now(&mut self) -> i64 {
        NOW0.wrapping_add(i64::from(self.i32()))
    }
    fn terms(&mut self, now: i64) -> ProposalTerms {
        ProposalTerms {
            beacon_id: self.beacon(),
            epoch: self.u32(),
            leader: self.opt_participant(),
            threshold: self.u32(),
            timeout: self.timestamp(now),
            catchup_period_seconds: self.u32(),
            beacon_period_seconds: self.u32(),
            scheme_id: self.scheme(),
            genesis_time: self.timestamp(now),
            genesis_seed: self.bytes(),
            joining: self.list(),
            remaining: self.list(),
            leaving: self.list(),
        }
    }
    fn packet(&mut self, now: i64) -> PacketInput {
        let flags = self.u8();
        let metadata = (flags & 1 == 1).then(|| MetaInput {
            beacon_id: self.beacon(),
            address: self.address(),
            sig: if self.u8() & 1 == 0 { SigSpec::SignedBy(self.u8()) } else { SigSpec::Raw(self.bytes()) },
        });
        let packet = match self.u8().checked_rem(7).unwrap_or(0) {
            1 => Some(Packet::Proposal(self.terms(now))),
            2 => Some(Packet::Accept(self.opt_participant())),
            3 => Some(Packet::Reject(RejectProposal { rejector: self.opt_participant(), reason: self.string() })),
            4 => Some(Packet::Execute(self.timestamp(now))),
            5 => Some(Packet::Abort(self.string())),
            6 => {
                let f = self.u8();
                let beacon = self.beacon();
                let bundle = self.bytes();
                Some(Packet::Dkg(DkgPacket {
                    dkg: (f & 1 == 1).then(|| DkgInner { metadata_beacon_id: (f & 2 == 2).then_some(beacon), bundle }),
                }))
            }
            _ => None,
        };
        PacketInput { metadata, packet }
    }
    fn group(&mut self) -> Group {
        Group { nodes: self.list(), genesis_time: self.i64(), genesis_seed: self.bytes(), threshold: self.u32() }
    }
    fn command(&mut self, now: i64) -> Command {
        match self.u8().checked_rem(9).unwrap_or(0) {
            0 => Command::Initial(FirstProposalOptions {
                threshold: self.u32(),
                timeout: self.timestamp(now),
                scheme: self.scheme(),
                catchup_period_seconds: self.u32(),
                period_seconds: self.u32(),
                genesis_time: self.timestamp(now),
                joining: self.list(),
            }),
            1 => Command::Resharing(ProposalOptions {
                threshold: self.u32(),
                timeout: self.timestamp(now),
                catchup_period_seconds: self.u32(),
                joining: self.list(),
                remaining: self.list(),
                leaving: self.list(),
            }),
            2 => Command::Join((self.u8() & 1 == 1).then(|| self.group())),
            3 => Command::Accept,
            4 => Command::Reject,
            5 => Command::Execute,
            6 => Command::Abort,
            7 => {
                let f = self.u8();
                let g = self.group();
                let s = self.bytes();
                Command::Complete { final_group: (f & 1 == 1).then_some(g), share: (f & 2 == 2).then_some(s) }
            }
            _ => Command::Failed,
        }
    }
}

/// Decodes a `dkg_packet` input. Total: never fails, never panics.
pub fn decode_packet_case(data: &[u8]) -> PacketCase {
    let mut r = Reader { data, pos: 0 };
    let pool = r.u8();
    let now = r.now();
    let packet = r.packet(now);
    PacketCase { pool, now, packet }
}

/// Decodes a `dkg_sequence` input. Total: never fails, never panics.
pub fn decode_sequence_case(data: &[u8]) -> SequenceCase {
    let mut r = Reader { data, pos: 0 };
    let pool = r.u8();
    let n = r.u8().checked_rem(MAX_STEPS.saturating_add(1)).unwrap_or(0);
    let mut steps = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let kind = r.u8();
        let now = r.now();
        if kind & 1 == 0 {
            steps.push(Step::Packet { now, packet: r.packet(now) });
        } else {
            steps.push(Step::Command { now, command: r.command(now) });
        }
    }
    SequenceCase { pool, steps }
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

fn clamp_len(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

impl Writer {
    fn u8(&mut self, b: u8) {
        self.out.push(b);
    }
    fn bytes(&mut self, b: &[u8]) {
        let n = clamp_len(b.len());
        self.u8(n);
        self.out.extend(b.iter().take(usize::from(n)));
    }
    fn string(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn beacon(&mut self, s: &str) {
        if s == pool::BEACON_ID {
            self.u8(0);
        } else {
            let b = s.as_bytes();
            let n = clamp_len(b.len()).min(254);
            self.u8(n.saturating_add(1));
            self.out.extend(b.iter().take(usize::from(n)));
        }
    }
    fn participant(&mut self, p: &Participant) {
        for i in 0..8u8 {
            if *p == pool::participant(usize::from(i)) {
                self.u8(i);
                return;
            }
        }
        self.u8(0xC0);
        self.string(&p.address);
        self.bytes(&p.key);
        self.bytes(&p.signature);
    }
    fn opt_participant(&mut self, p: Option<&Participant>) {
        match p {
            Some(p) => self.participant(p),
            None => self.u8(0xFF),
        }
    }
    fn list(&mut self, l: &[Participant]) {
        let n = clamp_len(l.len()).min(MAX_LIST);
        self.u8(n);
        for p in l.iter().take(usize::from(n)) {
            self.participant(p);
        }
    }
    fn timestamp(&mut self, t: Option<&Timestamp>) {
        match t {
            None => self.u8(0),
            Some(t) => {
                self.u8(2);
                self.out.extend(t.seconds.to_le_bytes());
                self.out.extend(t.nanos.to_le_bytes());
            }
        }
    }
    fn scheme(&mut self, s: &str) {
        match SCHEME_NAMES.iter().position(|n| *n == s) {
            Some(i) => self.u8(clamp_len(i)),
            None if s.is_empty() => self.u8(5),
            None => {
                self.u8(6);
                self.string(s);
            }
        }
    }
    fn now(&mut self, now: i64) {
        let d = i32::try_from(now.wrapping_sub(NOW0)).unwrap_or(0);
        self.out.extend(d.to_le_bytes());
    }
    fn terms(&mut self, t: &ProposalTerms) {
        self.beacon(&t.beacon_id);
        self.out.extend(t.epoch.to_le_bytes());
        self.opt_participant(t.leader.as_ref());
        self.out.extend(t.threshold.to_le_bytes());
        self.timestamp(t.timeout.as_ref());
        self.out.extend(t.catchup_period_seconds.to_le_bytes());
        self.out.extend(t.beacon_period_seconds.to_le_bytes());
        self.scheme(&t.scheme_id);
        self.timestamp(t.genesis_time.as_ref());
        self.bytes(&t.genesis_seed);
        self.list(&t.joining);
        self.list(&t.remaining);
        self.list(&t.leaving);
    }
    fn packet(&mut self, p: &PacketInput) {
        self.u8(u8::from(p.metadata.is_some()));
        if let Some(m) = &p.metadata {
            self.beacon(&m.beacon_id);
            match (0..8u8).find(|i| pool::participant(usize::from(*i)).address == m.address) {
                Some(i) => self.u8(i),
                None => {
                    self.u8(0x80);
                    self.string(&m.address);
                }
            }
            match &m.sig {
                SigSpec::SignedBy(i) => {
                    self.u8(0);
                    self.u8(*i);
                }
                SigSpec::Raw(b) => {
                    self.u8(1);
                    self.bytes(b);
                }
            }
        }
        match &p.packet {
            None => self.u8(0),
            Some(Packet::Proposal(t)) => {
                self.u8(1);
                self.terms(t);
            }
            Some(Packet::Accept(a)) => {
                self.u8(2);
                self.opt_participant(a.as_ref());
            }
            Some(Packet::Reject(r)) => {
                self.u8(3);
                self.opt_participant(r.rejector.as_ref());
                self.string(&r.reason);
            }
            Some(Packet::Execute(t)) => {
                self.u8(4);
                self.timestamp(t.as_ref());
            }
            Some(Packet::Abort(reason)) => {
                self.u8(5);
                self.string(reason);
            }
            Some(Packet::Dkg(d)) => {
                self.u8(6);
                let inner = d.dkg.as_ref();
                let meta = inner.and_then(|i| i.metadata_beacon_id.as_ref());
                self.u8(u8::from(inner.is_some()) | (u8::from(meta.is_some()) << 1));
                self.beacon(meta.map(String::as_str).unwrap_or(pool::BEACON_ID));
                self.bytes(inner.map(|i| i.bundle.as_slice()).unwrap_or_default());
            }
        }
    }
    fn group(&mut self, g: &Group) {
        self.list(&g.nodes);
        self.out.extend(g.genesis_time.to_le_bytes());
        self.bytes(&g.genesis_seed);
        self.out.extend(g.threshold.to_le_bytes());
    }
    fn command(&mut self, c: &Command) {
        match c {
            Command::Initial(o) => {
                self.u8(0);
                self.out.extend(o.threshold.to_le_bytes());
                self.timestamp(o.timeout.as_ref());
                self.scheme(&o.scheme);
                self.out.extend(o.catchup_period_seconds.to_le_bytes());
                self.out.extend(o.period_seconds.to_le_bytes());
                self.timestamp(o.genesis_time.as_ref());
                self.list(&o.joining);
            }
            Command::Resharing(o) => {
                self.u8(1);
                self.out.extend(o.threshold.to_le_bytes());
                self.timestamp(o.timeout.as_ref());
                self.out.extend(o.catchup_period_seconds.to_le_bytes());
                self.list(&o.joining);
                self.list(&o.remaining);
                self.list(&o.leaving);
            }
            Command::Join(g) => {
                self.u8(2);
                self.u8(u8::from(g.is_some()));
                if let Some(g) = g {
                    self.group(g);
                }
            }
            Command::Accept => self.u8(3),
            Command::Reject => self.u8(4),
            Command::Execute => self.u8(5),
            Command::Abort => self.u8(6),
            Command::Complete { final_group, share } => {
                self.u8(7);
                self.u8(u8::from(final_group.is_some()) | (u8::from(share.is_some()) << 1));
                self.group(final_group.as_ref().unwrap_or(&Group::default()));
                self.bytes(share.as_deref().unwrap_or_default());
            }
            Command::Failed => self.u8(8),
        }
    }
}

/// Encodes a `dkg_packet` input.
pub fn encode_packet_case(c: &PacketCase) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(c.pool);
    w.now(c.now);
    w.packet(&c.packet);
    w.out
}

/// Encodes a `dkg_sequence` input (at most 32 steps).
pub fn encode_sequence_case(c: &SequenceCase) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(c.pool);
    let n = clamp_len(c.steps.len()).min(MAX_STEPS);
    w.u8(n);
    for s in c.steps.iter().take(usize::from(n)) {
        match s {
            Step::Packet { now, packet } => {
                w.u8(0);
                w.now(*now);
                w.packet(packet);
            }
            Step::Command { now, command } => {
                w.u8(1);
                w.now(*now);
                w.command(command);
            }
        }
    }
    w.out
}

/// The terms a leader signs a proposal against (`termsFromState` of the state `Proposing`/`Proposed`
/// builds): lists filtered by `util.NonEmpty`, times through `AsTime`/`timestamppb.New`.
pub fn proposal_signing_terms(t: &ProposalTerms) -> ProposalTerms {
    let keep = |l: &Vec<Participant>| l.iter().filter(|p| !p.address.is_empty()).cloned().collect();
    ProposalTerms {
        timeout: Some(GoTime::as_time(t.timeout.as_ref()).to_timestamp()),
        genesis_time: Some(GoTime::as_time(t.genesis_time.as_ref()).to_timestamp()),
        joining: keep(&t.joining),
        remaining: keep(&t.remaining),
        leaving: keep(&t.leaving),
        ..t.clone()
    }
}

/// Produces the signed packet: `SignedBy(i)` signs `messageForSigning(meta.beaconID, packet, ctx)`
/// where `ctx` is the proposal's own signing terms for a Proposal and `context` otherwise.
pub fn resolve_packet(p: &PacketInput, context: &ProposalTerms, mode: BlsMode) -> GossipPacket {
    let metadata = p.metadata.as_ref().map(|m| {
        let signature = match &m.sig {
            SigSpec::Raw(b) => b.clone(),
            SigSpec::SignedBy(i) => {
                let ctx = match &p.packet {
                    Some(Packet::Proposal(t)) => proposal_signing_terms(t),
                    _ => context.clone(),
                };
                bls::sign(mode, usize::from(*i), &message_for_signing(&m.beacon_id, p.packet.as_ref(), &ctx))
            }
        };
        GossipMetadata { beacon_id: m.beacon_id.clone(), address: m.address.clone(), signature }
    });
    GossipPacket { metadata, packet: p.packet.clone() }
}

fn initial_context(node: &NodeState) -> ProposalTerms {
    match &node.current {
        Some(s) => terms_from_state(s),
        None => terms_from_state(&DbState::fresh(&node.beacon_id)),
    }
}

impl PacketCase {
    /// The pool state and the signed packet. The signing context of a non-proposal packet is
    /// `termsFromState` of the pool node's current state.
    pub fn resolve(&self, mode: BlsMode) -> (NodeState, GossipPacket, GoTime) {
        let node = pool::pool_state(self.pool);
        let ctx = initial_context(&node);
        let packet = resolve_packet(&self.packet, &ctx, mode);
        (node, packet, GoTime::unix(self.now, 0))
    }
}

impl SequenceCase {
    /// The pool state and the resolved steps. Signing context of a non-proposal packet: the
    /// signing terms of the latest proposal packet before it in the sequence, else `termsFromState`
    /// of the pool node's current state. Resolution depends on the input only, never on an
    /// implementation.
    pub fn resolve(&self, mode: BlsMode) -> (NodeState, Vec<ResolvedStep>) {
        let node = pool::pool_state(self.pool);
        let mut ctx = initial_context(&node);
        let mut out = Vec::with_capacity(self.steps.len());
        for s in &self.steps {
            match s {
                Step::Packet { now, packet } => {
                    if let Some(Packet::Proposal(t)) = &packet.packet {
                        ctx = proposal_signing_terms(t);
                    }
                    out.push(ResolvedStep::Packet(resolve_packet(packet, &ctx, mode), GoTime::unix(*now, 0)));
                }
                Step::Command { now, command } => out.push(ResolvedStep::Command(command.clone(), GoTime::unix(*now, 0))),
            }
        }
        (node, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_is_total_and_roundtrips() {
        for len in 0..200usize {
            let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(37).wrapping_add(len as u8)).collect();
            let p = decode_packet_case(&data);
            assert_eq!(decode_packet_case(&encode_packet_case(&p)), p);
            let s = decode_sequence_case(&data);
            assert_eq!(decode_sequence_case(&encode_sequence_case(&s)), s);
        }
        assert_eq!(decode_sequence_case(&[]).steps.len(), 0);
    }
}
