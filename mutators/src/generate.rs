//! Generators (valid by construction on a [`PoolView`]) and field-level perturbations per
//! target. The validity rules mirror consensus-specs v1.1.10 `specs/phase0/beacon-chain.md`:
//! `process_attestation`, `process_attester_slashing` (`is_slashable_attestation_data`,
//! `is_valid_indexed_attestation`, `is_slashable_validator`), `process_proposer_slashing`,
//! `process_voluntary_exit` and `process_block_header`. Signatures: random bytes under
//! `assume-valid`; with [`Config::sign`] real ones ([`crate::sign`]).

use crate::havoc::{havoc, INTERESTING_U64};
use crate::view::PoolView;
use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::ssz::{Decode, Encode};
use diverge_types::ssz_types::{BitList, VariableList};
use diverge_types::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::marker::PhantomData;

/// The targets this crate mutates structurally (names as in `differential/oracle/src/target.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    /// `attestation`: SSZ `Attestation`.
    Attestation,
    /// `attester_slashing`: SSZ `AttesterSlashing`.
    AttesterSlashing,
    /// `proposer_slashing`: SSZ `ProposerSlashing`.
    ProposerSlashing,
    /// `voluntary_exit`: SSZ `SignedVoluntaryExit`.
    VoluntaryExit,
    /// `block_header`: SSZ `BeaconBlock` (unsigned, as the operations vectors).
    BlockHeader,
    /// `deposit`: SSZ `Deposit` ([`crate::deposit`]).
    Deposit,
    /// `block`: `[flags: u8][SSZ SignedBeaconBlock]` ([`crate::block`]).
    Block,
}

impl Kind {
    /// Every kind.
    pub const ALL: &'static [Kind] = &[Kind::Attestation, Kind::AttesterSlashing, Kind::ProposerSlashing, Kind::VoluntaryExit, Kind::BlockHeader, Kind::Deposit, Kind::Block];

    /// The target name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Attestation => "attestation",
            Kind::AttesterSlashing => "attester_slashing",
            Kind::ProposerSlashing => "proposer_slashing",
            Kind::VoluntaryExit => "voluntary_exit",
            Kind::BlockHeader => "block_header",
            Kind::Deposit => "deposit",
            Kind::Block => "block",
        }
    }

    /// The kind of a target name; `None` for targets without a structured mutator.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// Tunable probabilities (each in `0.0..=1.0`; out-of-range values are clamped).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Chance that a call replaces the input by a freshly generated operation instead of
    /// mutating it.
    pub generate: f64,
    /// Chance that a generated operation is left valid; otherwise one field is perturbed.
    pub valid: f64,
    /// Real signatures (`--bls real`): generated operations are signed with the spec tests' keys
    /// ([`crate::sign`]), a mutation re-signs what it changed with probability [`RESIGN`] or moves
    /// the signature itself (corrupt or swap). Off under `assume-valid`, where it would cost
    /// signing time and test nothing.
    pub sign: bool,
}

/// With [`Config::sign`]: the chance that a mutation moves a signature (corrupt or swap) instead
/// of a field.
pub const SIGNATURE_MOVE: f64 = 0.1;

/// With [`Config::sign`]: the chance that a field move is followed by re-signing, so that the
/// field, not the signature, is what the input tests.
pub const RESIGN: f64 = 0.9;

impl Default for Config {
    /// `generate` 0.25 (doubled for deposit and block, [`Config::generate_for`]), `valid` 0.6. With
    /// them, `diverge fuzz --mutator structured` keeps 22–37 % of its executions valid and at most
    /// 3 % undecodable on the minimal pool, under both BLS modes (README table).
    fn default() -> Self {
        Config { generate: 0.25, valid: 0.6, sign: false }
    }
}

impl Config {
    /// The chance to generate for `kind`: `generate`, doubled (capped at 1) for `deposit` and
    /// `block`, where a field move almost never keeps an input valid (the Merkle proof binds
    /// every field of a deposit; a block binds its slot, proposer, parent and the number of
    /// deposits), so fresh valid inputs come from generation. With the defaults: 0.25, or 0.5.
    pub fn generate_for(&self, kind: Kind) -> f64 {
        let g = self.generate.clamp(0.0, 1.0);
        match kind {
            Kind::Deposit | Kind::Block => (g * 2.0).min(1.0),
            _ => g,
        }
    }
}

/// The structured mutator for preset `E`.
#[derive(Clone, Debug, Default)]
pub struct Structured<E: EthSpec> {
    /// Probabilities.
    pub config: Config,
    _preset: PhantomData<E>,
}

/// A decoded operation of one of the [`Kind`]s.
#[derive(Clone, Debug, PartialEq)]
pub enum Op<E: EthSpec> {
    /// `attestation`.
    Attestation(Attestation<E>),
    /// `attester_slashing`.
    AttesterSlashing(AttesterSlashing<E>),
    /// `proposer_slashing`.
    ProposerSlashing(ProposerSlashing),
    /// `voluntary_exit`.
    VoluntaryExit(SignedVoluntaryExit),
    /// `block_header`.
    BlockHeader(BeaconBlock<E>),
    /// `deposit`.
    Deposit(Deposit),
    /// `block`.
    Block(crate::block::BlockInput<E>),
}

impl<E: EthSpec> Op<E> {
    /// Decodes the SSZ body of an input of `kind`.
    pub fn decode(kind: Kind, body: &[u8]) -> Option<Op<E>> {
        match kind {
            Kind::Attestation => Attestation::from_ssz_bytes(body).ok().map(Op::Attestation),
            Kind::AttesterSlashing => AttesterSlashing::from_ssz_bytes(body).ok().map(Op::AttesterSlashing),
            Kind::ProposerSlashing => ProposerSlashing::from_ssz_bytes(body).ok().map(Op::ProposerSlashing),
            Kind::VoluntaryExit => SignedVoluntaryExit::from_ssz_bytes(body).ok().map(Op::VoluntaryExit),
            Kind::BlockHeader => BeaconBlock::from_ssz_bytes(body).ok().map(Op::BlockHeader),
            Kind::Deposit => Deposit::from_ssz_bytes(body).ok().map(Op::Deposit),
            Kind::Block => match body {
                [flags, rest @ ..] => SignedBeaconBlock::from_ssz_bytes(rest).ok().map(|block| Op::Block(crate::block::BlockInput { flags: *flags, block })),
                [] => None,
            },
        }
    }

    /// SSZ bytes of the operation.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Op::Attestation(x) => x.as_ssz_bytes(),
            Op::AttesterSlashing(x) => x.as_ssz_bytes(),
            Op::ProposerSlashing(x) => x.as_ssz_bytes(),
            Op::VoluntaryExit(x) => x.as_ssz_bytes(),
            Op::BlockHeader(x) => x.as_ssz_bytes(),
            Op::Deposit(x) => x.as_ssz_bytes(),
            Op::Block(x) => {
                let mut out = vec![x.flags];
                out.extend(x.block.as_ssz_bytes());
                out
            }
        }
    }
}

/// Splits an input into its selector and body (`None` below 2 bytes).
pub fn split(data: &[u8]) -> Option<(u16, &[u8])> {
    match data {
        [a, b, rest @ ..] => Some((u16::from_le_bytes([*a, *b]), rest)),
        _ => None,
    }
}

/// `[selector u16 LE][body]`.
pub fn frame(selector: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len().saturating_add(2));
    out.extend_from_slice(&selector.to_le_bytes());
    out.extend_from_slice(body);
    out
}

pub(crate) fn pick<T: Copy, R: Rng>(rng: &mut R, items: &[T]) -> Option<T> {
    if items.is_empty() {
        return None;
    }
    items.get(rng.gen_range(0..items.len())).copied()
}

pub(crate) fn root<R: Rng>(rng: &mut R) -> Root {
    Root::from(rng.gen::<[u8; 32]>())
}

pub(crate) fn signature<R: Rng>(rng: &mut R) -> BlsSignature {
    let mut s = [0u8; 96];
    rng.fill(&mut s[..]);
    BlsSignature::from(s)
}

/// A value near `v` or at a boundary: `v ± 1..4`, 0, `u64::MAX`, `2^63`, or an interesting one.
pub(crate) fn boundary<R: Rng>(rng: &mut R, v: u64) -> u64 {
    match rng.gen_range(0..6u8) {
        0 => v.wrapping_add(1),
        1 => v.wrapping_sub(1),
        2 => v.wrapping_add(rng.gen_range(2..=4)),
        3 => v.wrapping_sub(rng.gen_range(2..=4)),
        4 => pick(rng, &[0, u64::MAX, u64::MAX - 1, 1 << 63, FAR_FUTURE_EPOCH]).unwrap_or(0),
        _ => pick(rng, INTERESTING_U64).unwrap_or(0),
    }
}

pub(crate) fn bits_of<E: EthSpec>(set: &[bool]) -> Option<BitList<E::MaxValidatorsPerCommittee>> {
    let mut b = BitList::with_capacity(set.len()).ok()?;
    for (i, v) in set.iter().enumerate() {
        b.set(i, *v).ok()?;
    }
    Some(b)
}

fn bools<E: EthSpec>(b: &BitList<E::MaxValidatorsPerCommittee>) -> Vec<bool> {
    b.iter().collect()
}

/// Picks `k` distinct entries of `items` (or all of them).
fn sample<R: Rng>(rng: &mut R, items: &[u64], k: usize) -> Vec<u64> {
    rand::seq::index::sample(rng, items.len(), k.min(items.len())).into_iter().filter_map(|i| items.get(i).copied()).collect()
}

impl<E: EthSpec> Structured<E> {
    /// A mutator with `config`.
    pub fn new(config: Config) -> Self {
        Structured { config, _preset: PhantomData }
    }

    /// Mutates `data` (an input of `kind`) in place, keeping it at most `max_len` bytes.
    /// `views[i]` is pool state `i` (the pool in manifest order; the selector picks
    /// `selector % views.len()`). With no view, or an input that does not decode, it applies byte
    /// havoc. Deterministic for a given RNG state.
    pub fn mutate<R: Rng>(&self, kind: Kind, data: &mut Vec<u8>, views: &[PoolView<E>], rng: &mut R, max_len: usize) {
        if views.is_empty() {
            return havoc(data, rng, max_len);
        }
        if rng.gen_bool(self.config.generate_for(kind)) {
            if let Some((selector, mut op)) = self.generate_op(kind, views, rng) {
                if !rng.gen_bool(self.config.valid.clamp(0.0, 1.0)) {
                    if let Some(view) = views.get(usize::from(selector).checked_rem(views.len()).unwrap_or(0)) {
                        self.perturb_signed(&mut op, view, views, rng);
                    }
                }
                *data = frame(selector, &op.encode());
                data.truncate(max_len);
                return;
            }
        }
        let Some((selector, body)) = split(data) else { return havoc(data, rng, max_len) };
        let Some(mut op) = Op::<E>::decode(kind, body) else { return havoc(data, rng, max_len) };
        let mut selector = selector;
        let at = usize::from(selector).checked_rem(views.len()).unwrap_or(0);
        let Some(view) = views.get(at) else { return havoc(data, rng, max_len) };
        match rng.gen_range(0..20u8) {
            // Another pool state, same operation (its roots and checkpoints no longer match).
            0 | 1 => {
                selector = u16::try_from(rng.gen_range(0..views.len())).unwrap_or(0);
                if let (true, Some(other)) = (self.config.sign, views.get(usize::from(selector))) {
                    if rng.gen_bool(RESIGN) {
                        let _ = crate::sign::sign_op(other, &mut op);
                    }
                }
            }
            // Byte havoc on a decodable input (malformed SSZ stays reachable), one call in 20: about
            // two thirds of havoc's mutants do not decode, so this keeps the share near 3 %.
            2 => return havoc(data, rng, max_len),
            // One or two field moves.
            _ => {
                self.perturb_signed(&mut op, view, views, rng);
                if rng.gen_bool(0.25) {
                    self.perturb_signed(&mut op, view, views, rng);
                }
            }
        }
        *data = frame(selector, &op.encode());
        data.truncate(max_len);
    }

    /// [`perturb`], and with [`Config::sign`]: a signature move instead (probability
    /// [`SIGNATURE_MOVE`]), or after a field move that left the signatures alone, re-signing
    /// (probability [`RESIGN`]).
    fn perturb_signed<R: Rng>(&self, op: &mut Op<E>, view: &PoolView<E>, views: &[PoolView<E>], rng: &mut R) {
        if !self.config.sign {
            return perturb(op, view, views, rng);
        }
        if rng.gen_bool(SIGNATURE_MOVE) {
            return crate::sign::mutate_signature(view, op, rng);
        }
        let before = crate::sign::signatures(op);
        perturb(op, view, views, rng);
        if crate::sign::signatures(op) == before && rng.gen_bool(RESIGN) {
            let _ = crate::sign::sign_op(view, op);
        }
    }

    /// For engines that hand over only a buffer, a size bound and a seed (libFuzzer's
    /// `fuzz_mutator!`, AFL++'s `afl_custom_fuzz`): [`Self::mutate`] with a ChaCha8 RNG seeded
    /// from `seed`, so the same seed gives the same bytes. Returns the new length (≤ `max_len`).
    pub fn mutate_seeded(&self, kind: Kind, data: &mut Vec<u8>, views: &[PoolView<E>], max_len: usize, seed: u64) -> usize {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        self.mutate(kind, data, views, &mut rng, max_len);
        data.len()
    }

    /// A framed input of `kind` that is valid by construction on the pool state it selects
    /// (signatures included with [`Config::sign`]), or `None` when no pool state admits one.
    pub fn generate<R: Rng>(&self, kind: Kind, views: &[PoolView<E>], rng: &mut R) -> Option<Vec<u8>> {
        self.generate_op(kind, views, rng).map(|(s, op)| frame(s, &op.encode()))
    }

    fn generate_op<R: Rng>(&self, kind: Kind, views: &[PoolView<E>], rng: &mut R) -> Option<(u16, Op<E>)> {
        // 16 random states, then every state from a random offset (a kind few states admit,
        // such as voluntary exits before SHARD_COMMITTEE_PERIOD, still finds one).
        let n = views.len();
        let offset = rng.gen_range(0..n.max(1));
        let order: Vec<usize> = (0..16).map(|_| rng.gen_range(0..n.max(1))).chain((0..n).map(|i| i.wrapping_add(offset).checked_rem(n).unwrap_or(0))).collect();
        for at in order {
            let view = views.get(at)?;
            let op = match kind {
                Kind::Attestation => gen_attestation(view, rng).map(Op::Attestation),
                Kind::AttesterSlashing => gen_attester_slashing(view, rng).map(Op::AttesterSlashing),
                Kind::ProposerSlashing => gen_proposer_slashing(view, rng).map(Op::ProposerSlashing),
                Kind::VoluntaryExit => gen_voluntary_exit(view, rng).map(Op::VoluntaryExit),
                Kind::BlockHeader => gen_block_header(view, rng).map(Op::BlockHeader),
                Kind::Deposit => crate::deposit::gen_deposit(view, rng).map(Op::Deposit),
                Kind::Block => crate::block::gen_block(view, rng).map(Op::Block),
            };
            if let (Some(mut op), Ok(selector)) = (op, u16::try_from(at)) {
                if self.config.sign {
                    let _ = crate::sign::sign_op(view, &mut op);
                }
                return Some((selector, op));
            }
        }
        None
    }
}

/// One field of `op` moved toward a boundary of `view` (or of the type).
fn perturb<E: EthSpec, R: Rng>(op: &mut Op<E>, view: &PoolView<E>, views: &[PoolView<E>], rng: &mut R) {
    match op {
        Op::Attestation(a) => perturb_attestation(a, view, rng),
        Op::AttesterSlashing(s) => perturb_attester_slashing(s, view, rng),
        Op::ProposerSlashing(s) => perturb_proposer_slashing(s, view, rng),
        Op::VoluntaryExit(e) => perturb_voluntary_exit(e, view, rng),
        Op::BlockHeader(b) => perturb_block_header(b, view, views, rng),
        Op::Deposit(d) => crate::deposit::perturb_deposit(d, view, rng),
        Op::Block(b) => crate::block::perturb_block(b, view, rng),
    }
}

// ---- attestation ----

/// `process_attestation`: `data.slot + MIN_ATTESTATION_INCLUSION_DELAY <= state.slot <= data.slot
/// + SLOTS_PER_EPOCH`, target epoch that of `data.slot`, index below the committee count, bits of
/// the committee's length (a non-empty random subset), source the justified checkpoint of the
/// target epoch; roots from `block_roots` (the latest block root for a target epoch that starts at
/// the state's slot). The case `s = state.slot` of [`crate::block::attestation_at`].
pub fn gen_attestation<E: EthSpec, R: Rng>(view: &PoolView<E>, rng: &mut R) -> Option<Attestation<E>> {
    // An attestation includable now is one includable in a block at the state's own slot.
    crate::block::attestation_at(view, view.slot, rng)
}

pub(crate) fn perturb_attestation<E: EthSpec, R: Rng>(a: &mut Attestation<E>, view: &PoolView<E>, rng: &mut R) {
    let d = &mut a.data;
    match rng.gen_range(0..9u8) {
        // Slot at and just outside the inclusion window.
        0 => {
            let lo = view.slot.saturating_sub(E::SLOTS_PER_EPOCH);
            d.slot = pick(rng, &[view.slot, lo.saturating_sub(1), lo, view.slot.saturating_sub(1), view.slot.saturating_add(1)]).unwrap_or(0);
        }
        1 => d.slot = boundary(rng, d.slot),
        // Committee index around the count.
        2 => {
            let count = view.committee_count_per_slot(d.target.epoch).unwrap_or(1);
            d.index = pick(rng, &[count.saturating_sub(1), count, count.saturating_add(1), E::MAX_COMMITTEES_PER_SLOT, u64::MAX]).unwrap_or(0);
        }
        // Aggregation bits: empty, full, one too long or short, one flipped.
        3 => {
            let mut set = bools::<E>(&a.aggregation_bits);
            match rng.gen_range(0..5u8) {
                0 => set.iter_mut().for_each(|b| *b = false),
                1 => set.iter_mut().for_each(|b| *b = true),
                2 => set.push(rng.gen()),
                3 => {
                    set.pop();
                }
                _ => {
                    if !set.is_empty() {
                        let i = rng.gen_range(0..set.len());
                        if let Some(b) = set.get_mut(i) {
                            *b = !*b;
                        }
                    }
                }
            }
            if let Some(bits) = bits_of::<E>(&set) {
                a.aggregation_bits = bits;
            }
        }
        // Source: the other justified checkpoint, or its epoch or root moved.
        4 => match rng.gen_range(0..3u8) {
            0 => {
                d.source = if d.source == view.current_justified_checkpoint { view.previous_justified_checkpoint } else { view.current_justified_checkpoint }
            }
            1 => d.source.epoch = boundary(rng, d.source.epoch),
            _ => d.source.root = root(rng),
        },
        // Target: epoch at the boundary between previous and current, or another root.
        5 => match rng.gen_range(0..3u8) {
            0 => d.target.epoch = pick(rng, &[view.previous_epoch().saturating_sub(1), view.previous_epoch(), view.current_epoch(), view.current_epoch().saturating_add(1)]).unwrap_or(0),
            1 => d.target.epoch = boundary(rng, d.target.epoch),
            _ => d.target.root = root(rng),
        },
        6 => d.beacon_block_root = root(rng),
        7 => a.signature = signature(rng),
        _ => d.index = boundary(rng, d.index),
    }
}

// ---- attester_slashing ----

/// `process_attester_slashing`: two attestation data that are a double vote (same target epoch,
/// different data) or a surround vote, with sorted, unique attesting indices overlapping in 1–4
/// validators slashable at the current epoch.
pub fn gen_attester_slashing<E: EthSpec, R: Rng>(view: &PoolView<E>, rng: &mut R) -> Option<AttesterSlashing<E>> {
    let slashable = view.slashable();
    let k = rng.gen_range(1..=4);
    let common = sample(rng, slashable, k);
    if common.is_empty() {
        return None;
    }
    let count = view.validator_count();
    let extra = |rng: &mut R| -> Vec<u64> { (0..rng.gen_range(0..=2)).map(|_| rng.gen_range(0..count.max(1))).collect() };
    let mut i1: Vec<u64> = common.iter().copied().chain(extra(rng)).collect();
    let mut i2: Vec<u64> = common.iter().copied().chain(extra(rng)).collect();
    for v in [&mut i1, &mut i2] {
        v.sort_unstable();
        v.dedup();
    }
    let epoch = view.current_epoch();
    let base = |rng: &mut R, target: u64, source: u64| AttestationData {
        slot: target.saturating_mul(E::SLOTS_PER_EPOCH).saturating_add(rng.gen_range(0..E::SLOTS_PER_EPOCH)),
        index: rng.gen_range(0..E::MAX_COMMITTEES_PER_SLOT),
        beacon_block_root: root(rng),
        source: Checkpoint { epoch: source, root: root(rng) },
        target: Checkpoint { epoch: target, root: root(rng) },
    };
    let (d1, d2) = if rng.gen() {
        // Double vote: same target epoch, different data.
        let t = rng.gen_range(0..=epoch.saturating_add(1));
        let d1 = base(rng, t, t.saturating_sub(1));
        let mut d2 = d1.clone();
        d2.beacon_block_root = root(rng);
        (d1, d2)
    } else {
        // Surround vote: s1 < s2 <= t2 < t1.
        let s1 = rng.gen_range(0..=epoch);
        let s2 = s1.checked_add(rng.gen_range(1..=2))?;
        let t2 = s2.checked_add(rng.gen_range(0..=1))?;
        let t1 = t2.checked_add(rng.gen_range(1..=2))?;
        (base(rng, t1, s1), base(rng, t2, s2))
    };
    Some(AttesterSlashing {
        attestation_1: IndexedAttestation { attesting_indices: VariableList::new(i1).ok()?, data: d1, signature: signature(rng) },
        attestation_2: IndexedAttestation { attesting_indices: VariableList::new(i2).ok()?, data: d2, signature: signature(rng) },
    })
}

fn perturb_indices<E: EthSpec, R: Rng>(list: &mut VariableList<u64, E::MaxValidatorsPerCommittee>, view: &PoolView<E>, rng: &mut R) {
    let mut v: Vec<u64> = list.iter().copied().collect();
    let count = view.validator_count();
    match rng.gen_range(0..6u8) {
        // Unsorted.
        0 if v.len() >= 2 => v.reverse(),
        // Duplicated.
        1 if !v.is_empty() => {
            let i = rng.gen_range(0..v.len());
            if let Some(x) = v.get(i).copied() {
                v.insert(i, x);
            }
        }
        // Out of range.
        2 => {
            v.push(pick(rng, &[count, count.saturating_add(1), u64::MAX]).unwrap_or(u64::MAX));
        }
        // Empty.
        3 => v.clear(),
        // An unslashable validator (slashed, exited or not yet active) in place of one.
        4 => {
            let slashable = view.slashable();
            let other: Vec<u64> = (0..count).filter(|i| slashable.binary_search(i).is_err()).take(64).collect();
            if let (Some(x), false) = (pick(rng, &other), v.is_empty()) {
                let i = rng.gen_range(0..v.len());
                if let Some(slot) = v.get_mut(i) {
                    *slot = x;
                }
                v.sort_unstable();
                v.dedup();
            }
        }
        _ => {
            if !v.is_empty() {
                let i = rng.gen_range(0..v.len());
                if let Some(x) = v.get_mut(i) {
                    *x = boundary(rng, *x);
                }
            }
        }
    }
    if let Ok(l) = VariableList::new(v) {
        *list = l;
    }
}

fn perturb_attester_slashing<E: EthSpec, R: Rng>(s: &mut AttesterSlashing<E>, view: &PoolView<E>, rng: &mut R) {
    let first = rng.gen_bool(0.5);
    match rng.gen_range(0..8u8) {
        0 | 1 => {
            let a = if first { &mut s.attestation_1 } else { &mut s.attestation_2 };
            perturb_indices(&mut a.attesting_indices, view, rng);
        }
        // No overlap: the second attestation's indices become the first's complement sample.
        2 => {
            let one: Vec<u64> = s.attestation_1.attesting_indices.iter().copied().collect();
            let mut rest: Vec<u64> = (0..view.validator_count()).filter(|i| one.binary_search(i).is_err()).take(8).collect();
            rest.sort_unstable();
            if let Ok(l) = VariableList::new(rest) {
                s.attestation_2.attesting_indices = l;
            }
        }
        // Identical data (not slashable).
        3 => s.attestation_2.data = s.attestation_1.data.clone(),
        // Target or source epoch one off (a double vote stops being one; a surround becomes a
        // near miss).
        4 => {
            let a = if first { &mut s.attestation_1 } else { &mut s.attestation_2 };
            a.data.target.epoch = boundary(rng, a.data.target.epoch);
        }
        5 => {
            let a = if first { &mut s.attestation_1 } else { &mut s.attestation_2 };
            a.data.source.epoch = boundary(rng, a.data.source.epoch);
        }
        6 => std::mem::swap(&mut s.attestation_1, &mut s.attestation_2),
        _ => {
            let a = if first { &mut s.attestation_1 } else { &mut s.attestation_2 };
            a.signature = signature(rng);
        }
    }
}

// ---- proposer_slashing ----

/// `process_proposer_slashing`: two headers of the same slot and proposer (slashable at the
/// current epoch) with different bodies.
pub fn gen_proposer_slashing<E: EthSpec, R: Rng>(view: &PoolView<E>, rng: &mut R) -> Option<ProposerSlashing> {
    let proposer = pick(rng, view.slashable())?;
    let h1 = BeaconBlockHeader {
        slot: rng.gen_range(0..=view.slot.saturating_add(E::SLOTS_PER_EPOCH)),
        proposer_index: proposer,
        parent_root: root(rng),
        state_root: root(rng),
        body_root: root(rng),
    };
    let mut h2 = h1.clone();
    match rng.gen_range(0..3u8) {
        0 => h2.body_root = root(rng),
        1 => h2.state_root = root(rng),
        _ => h2.parent_root = root(rng),
    }
    Some(ProposerSlashing {
        signed_header_1: SignedBeaconBlockHeader { message: h1, signature: signature(rng) },
        signed_header_2: SignedBeaconBlockHeader { message: h2, signature: signature(rng) },
    })
}

fn perturb_proposer_slashing<E: EthSpec, R: Rng>(s: &mut ProposerSlashing, view: &PoolView<E>, rng: &mut R) {
    let count = view.validator_count();
    let h2 = &mut s.signed_header_2.message;
    match rng.gen_range(0..7u8) {
        0 => h2.slot = boundary(rng, h2.slot),
        1 => h2.proposer_index = boundary(rng, h2.proposer_index),
        // Identical headers (only the signatures may differ).
        2 => *h2 = s.signed_header_1.message.clone(),
        // Both headers of another proposer: unslashable or out of range.
        3 => {
            let slashable = view.slashable();
            let other: Vec<u64> = (0..count).filter(|i| slashable.binary_search(i).is_err()).take(64).collect();
            let p = pick(rng, &other).unwrap_or(count);
            let p = if rng.gen_bool(0.3) { pick(rng, &[count, u64::MAX]).unwrap_or(count) } else { p };
            s.signed_header_1.message.proposer_index = p;
            s.signed_header_2.message.proposer_index = p;
        }
        4 => {
            let v = boundary(rng, s.signed_header_1.message.slot);
            s.signed_header_1.message.slot = v;
            s.signed_header_2.message.slot = v;
        }
        5 => s.signed_header_1.signature = signature(rng),
        _ => h2.body_root = s.signed_header_1.message.body_root,
    }
}

// ---- voluntary_exit ----

/// `process_voluntary_exit`: an active, not exiting validator active for at least
/// `SHARD_COMMITTEE_PERIOD` epochs, exit epoch at or before the current one.
pub fn gen_voluntary_exit<E: EthSpec, R: Rng>(view: &PoolView<E>, rng: &mut R) -> Option<SignedVoluntaryExit> {
    let validator_index = pick(rng, view.exitable())?;
    let epoch = view.current_epoch();
    let epoch = if rng.gen() { epoch } else { rng.gen_range(0..=epoch) };
    Some(SignedVoluntaryExit { message: VoluntaryExit { epoch, validator_index }, signature: signature(rng) })
}

fn perturb_voluntary_exit<E: EthSpec, R: Rng>(e: &mut SignedVoluntaryExit, view: &PoolView<E>, rng: &mut R) {
    let count = view.validator_count();
    let m = &mut e.message;
    match rng.gen_range(0..6u8) {
        0 => m.epoch = pick(rng, &[view.current_epoch().saturating_add(1), view.current_epoch(), u64::MAX]).unwrap_or(0),
        1 => m.epoch = boundary(rng, m.epoch),
        2 => m.validator_index = pick(rng, &[count, count.saturating_sub(1), u64::MAX]).unwrap_or(0),
        // Any validator: exited, slashed, too young or not yet active ones included.
        3 => m.validator_index = rng.gen_range(0..count.max(1)),
        4 => m.validator_index = boundary(rng, m.validator_index),
        _ => e.signature = signature(rng),
    }
}

// ---- block_header ----

fn empty_body<E: EthSpec, R: Rng>(rng: &mut R) -> BeaconBlockBody<E> {
    BeaconBlockBody {
        randao_reveal: signature(rng),
        eth1_data: Eth1Data::default(),
        graffiti: root(rng),
        proposer_slashings: VariableList::empty(),
        attester_slashings: VariableList::empty(),
        attestations: VariableList::empty(),
        deposits: VariableList::empty(),
        voluntary_exits: VariableList::empty(),
    }
}

/// `process_block_header`: `block.slot == state.slot > latest_block_header.slot`, the proposer of
/// the slot (not slashed), `parent_root == hash_tree_root(latest_block_header)`; an empty body.
pub fn gen_block_header<E: EthSpec, R: Rng>(view: &PoolView<E>, rng: &mut R) -> Option<BeaconBlock<E>> {
    if view.slot <= view.latest_block_header.slot {
        return None;
    }
    let proposer_index = view.proposer_index()?;
    if view.validators.get(usize::try_from(proposer_index).ok()?)?.slashed {
        return None;
    }
    Some(BeaconBlock { slot: view.slot, proposer_index, parent_root: view.latest_block_root, state_root: root(rng), body: empty_body(rng) })
}

fn perturb_block_header<E: EthSpec, R: Rng>(b: &mut BeaconBlock<E>, view: &PoolView<E>, views: &[PoolView<E>], rng: &mut R) {
    match rng.gen_range(0..7u8) {
        0 => b.slot = pick(rng, &[view.latest_block_header.slot, view.slot.saturating_add(1), view.slot.saturating_sub(1)]).unwrap_or(0),
        1 => b.slot = boundary(rng, b.slot),
        2 => b.proposer_index = boundary(rng, b.proposer_index),
        // The proposer of another state's slot.
        3 => {
            if let Some(p) = views.get(rng.gen_range(0..views.len().max(1))).and_then(PoolView::proposer_index) {
                b.proposer_index = p;
            }
        }
        4 => b.parent_root = if rng.gen() { root(rng) } else { view.latest_block_header.parent_root },
        // The header root with the state root process_slot would fill (differs when the
        // state's header still has a zero state_root), or a slashed proposer.
        5 => match rng.gen_range(0..2u8) {
            0 => b.parent_root = view.parent_root_after_slots,
            _ => {
                if let Some(p) = (0u64..).zip(view.validators.iter()).find(|(_, v)| v.slashed).map(|(i, _)| i) {
                    b.proposer_index = p;
                }
            }
        },
        _ => b.body.graffiti = root(rng),
    }
}
