//! Real signatures for generated operations (`--bls real`), and the mutations of a signature.
//!
//! The generator computes domains and signing roots itself from the pool state it targets (its
//! fork and `genesis_validators_root`, through the [`PoolView`]): a generator-side computation, like
//! the view's committees, never compared. It follows consensus-specs v1.1.10
//! `specs/phase0/beacon-chain.md`: `compute_epoch_at_slot` ("Misc"), `compute_fork_data_root`,
//! `compute_domain`, `compute_signing_root` ("Misc"), `get_domain` ("Beacon state accessors"), and
//! what `is_valid_indexed_attestation`, `process_proposer_slashing`, `process_voluntary_exit`,
//! `process_randao`, `verify_block_signature` and `process_deposit` verify. Keys are the spec
//! tests' deterministic ones ([`crate::keys`]), looked up by the validator's public key in the state.
//!
//! Aggregates are signed with the sum of the members' secret scalars (`(Σ skᵢ)·H(m) = Σ skᵢ·H(m)`):
//! one signing instead of one per member, and the same bytes as aggregating the members'
//! signatures (the keys are `1..=8192`, so the sum never reaches the group order; tested in
//! `mutators/tests/signatures.rs`).

use crate::generate::Op;
use crate::keys::{self, KeyMap};
use crate::view::PoolView;
use diverge_types::constants::{DomainType, DOMAIN_BEACON_ATTESTER, DOMAIN_BEACON_PROPOSER, DOMAIN_DEPOSIT, DOMAIN_RANDAO, DOMAIN_VOLUNTARY_EXIT};
use diverge_types::*;
use rand::Rng;

/// `compute_epoch_at_slot(slot)`.
pub fn compute_epoch_at_slot<E: EthSpec>(slot: u64) -> u64 {
    slot.checked_div(E::SLOTS_PER_EPOCH).unwrap_or(0)
}

/// `compute_fork_data_root(current_version, genesis_validators_root)`.
pub fn compute_fork_data_root(current_version: Version, genesis_validators_root: Root) -> Root {
    ForkData { current_version, genesis_validators_root }.tree_hash_root()
}

/// `compute_domain(domain_type, fork_version, genesis_validators_root)`: the domain type followed
/// by the first 28 bytes of the fork data root.
pub fn compute_domain(domain_type: DomainType, fork_version: Version, genesis_validators_root: Root) -> Root {
    let fork_data_root = compute_fork_data_root(fork_version, genesis_validators_root);
    let mut domain = [0u8; 32];
    for (d, b) in domain.iter_mut().zip(domain_type.iter().chain(fork_data_root.as_slice().iter())) {
        *d = *b;
    }
    Root::from(domain)
}

/// `get_domain(state, domain_type, epoch)`: the fork's previous version before `fork.epoch`, its
/// current version from then on, with the state's `genesis_validators_root`.
pub fn get_domain<E: EthSpec>(view: &PoolView<E>, domain_type: DomainType, epoch: u64) -> Root {
    compute_domain(domain_type, fork_version(view, epoch), view.genesis_validators_root)
}

/// The fork version `get_domain` uses at `epoch`.
fn fork_version<E: EthSpec>(view: &PoolView<E>, epoch: u64) -> Version {
    if epoch < view.fork.epoch {
        view.fork.previous_version
    } else {
        view.fork.current_version
    }
}

/// `compute_signing_root(ssz_object, domain)`: `hash_tree_root(SigningData(object_root, domain))`.
pub fn compute_signing_root<T: TreeHash>(object: &T, domain: Root) -> Root {
    SigningData { object_root: object.tree_hash_root(), domain }.tree_hash_root()
}

/// The sum of the secret scalars of `indices` (registry positions of `view`), each looked up by
/// its public key; `None` for an empty list, an index out of range or a key not in `map`.
/// Duplicates count twice, as they do in an aggregate public key.
pub fn aggregate_scalar<E: EthSpec>(view: &PoolView<E>, map: &KeyMap, indices: &[u64]) -> Option<u128> {
    if indices.is_empty() {
        return None;
    }
    indices.iter().try_fold(0u128, |sum, &i| {
        let v = view.validators.get(usize::try_from(i).ok()?)?;
        sum.checked_add(u128::from(map.scalar_of(&v.pubkey)?))
    })
}

/// `scalar·H(message)`: the signature of `message` under the secret key `scalar` (`None` for 0),
/// by [`crate::g2::sign`] (a short-scalar multiplication and a memoised hash; the same bytes as
/// `SecretKey::sign`).
pub fn sign_with_scalar(scalar: u128, message: &Root) -> Option<BlsSignature> {
    crate::g2::sign(scalar, message)
}

/// `Sign` by the validators `indices` of `view` (an aggregate for several), or `None` when one's
/// key is unknown.
pub fn sign_by<E: EthSpec>(view: &PoolView<E>, indices: &[u64], message: &Root) -> Option<BlsSignature> {
    sign_with_scalar(aggregate_scalar(view, &keys::spec_test_keys(), indices)?, message)
}

/// `get_attesting_indices(state, data, bits)` over the view's committee: `None` when the committee
/// does not exist or the bits do not have its length (the spec rejects before the signature).
pub fn attesting_indices<E: EthSpec>(view: &PoolView<E>, a: &Attestation<E>) -> Option<Vec<u64>> {
    let committee = view.beacon_committee(a.data.slot, a.data.index)?;
    if committee.len() != a.aggregation_bits.len() {
        return None;
    }
    let mut out: Vec<u64> = committee.iter().zip(a.aggregation_bits.iter()).filter(|(_, bit)| *bit).map(|(i, _)| *i).collect();
    out.sort_unstable();
    Some(out)
}

/// The signing root of attestation data: `DOMAIN_BEACON_ATTESTER` at `data.target.epoch`.
pub fn attestation_root<E: EthSpec>(view: &PoolView<E>, data: &AttestationData) -> Root {
    compute_signing_root(data, get_domain(view, DOMAIN_BEACON_ATTESTER, data.target.epoch))
}

/// The signing root of a block header or block: `DOMAIN_BEACON_PROPOSER` at the epoch of its slot.
pub fn proposer_root<E: EthSpec, T: TreeHash>(view: &PoolView<E>, slot: u64, message: &T) -> Root {
    compute_signing_root(message, get_domain(view, DOMAIN_BEACON_PROPOSER, compute_epoch_at_slot::<E>(slot)))
}

/// The signing root of a voluntary exit: `DOMAIN_VOLUNTARY_EXIT` at `exit.epoch`.
pub fn exit_root<E: EthSpec>(view: &PoolView<E>, exit: &VoluntaryExit) -> Root {
    compute_signing_root(exit, get_domain(view, DOMAIN_VOLUNTARY_EXIT, exit.epoch))
}

/// The aggregate signature of the attestation's participants (`is_valid_indexed_attestation` of
/// `get_indexed_attestation`); `None` (signature unchanged) when it has none or a key is unknown.
pub fn sign_attestation<E: EthSpec>(view: &PoolView<E>, a: &mut Attestation<E>) -> Option<()> {
    let indices = attesting_indices(view, a)?;
    a.signature = sign_by(view, &indices, &attestation_root(view, &a.data))?;
    Some(())
}

/// The aggregate signature of an indexed attestation's attesting indices.
pub fn sign_indexed<E: EthSpec>(view: &PoolView<E>, a: &mut IndexedAttestation<E>) -> Option<()> {
    let indices: Vec<u64> = a.attesting_indices.iter().copied().collect();
    a.signature = sign_by(view, &indices, &attestation_root(view, &a.data))?;
    Some(())
}

/// Both headers signed by the key `process_proposer_slashing` verifies them with (the validator
/// `header_1.proposer_index`).
pub fn sign_proposer_slashing<E: EthSpec>(view: &PoolView<E>, s: &mut ProposerSlashing) -> Option<()> {
    let proposer = [s.signed_header_1.message.proposer_index];
    for h in [&mut s.signed_header_1, &mut s.signed_header_2] {
        h.signature = sign_by(view, &proposer, &proposer_root(view, h.message.slot, &h.message))?;
    }
    Some(())
}

/// The exiting validator's signature.
pub fn sign_voluntary_exit<E: EthSpec>(view: &PoolView<E>, e: &mut SignedVoluntaryExit) -> Option<()> {
    e.signature = sign_by(view, &[e.message.validator_index], &exit_root(view, &e.message))?;
    Some(())
}

/// The proposer's block signature (`verify_block_signature`), by `block.proposer_index`.
pub fn block_signature<E: EthSpec>(view: &PoolView<E>, block: &BeaconBlock<E>) -> Option<BlsSignature> {
    sign_by(view, &[block.proposer_index], &proposer_root(view, block.slot, block))
}

/// `process_randao`'s reveal: the proposer's signature of the epoch, `DOMAIN_RANDAO`.
pub fn randao_reveal<E: EthSpec>(view: &PoolView<E>, proposer_index: u64, epoch: u64) -> Option<BlsSignature> {
    sign_by(view, &[proposer_index], &compute_signing_root(&epoch, get_domain(view, DOMAIN_RANDAO, epoch)))
}

/// The proof of possession of a deposit (`process_deposit`: `DepositMessage` under
/// `compute_domain(DOMAIN_DEPOSIT)`, the genesis fork version and a zero root, valid across forks),
/// by the key of `data.pubkey`; `None` when that key is not one of the spec tests' keys.
pub fn deposit_signature<E: EthSpec>(data: &DepositData) -> Option<BlsSignature> {
    let scalar = keys::spec_test_keys().scalar_of(&data.pubkey)?;
    sign_with_scalar(u128::from(scalar), &crate::deposit::deposit_signing_root::<E>(data))
}

/// Signs every signature of `op` for the pool state of `view`, as an honest signer would. `None`
/// when some signature could not be made (unknown committee or key, no participant): those keep
/// their bytes. `block_header` carries no signature (an unsigned `BeaconBlock`).
pub fn sign_op<E: EthSpec>(view: &PoolView<E>, op: &mut Op<E>) -> Option<()> {
    match op {
        Op::Attestation(a) => sign_attestation(view, a),
        Op::AttesterSlashing(s) => {
            let one = sign_indexed(view, &mut s.attestation_1);
            let two = sign_indexed(view, &mut s.attestation_2);
            one.and(two)
        }
        Op::ProposerSlashing(s) => sign_proposer_slashing(view, s),
        Op::VoluntaryExit(e) => sign_voluntary_exit(view, e),
        Op::Block(b) => sign_block(view, &mut b.block),
        // Unsigned (block_header), or a kind this module does not sign (deposits: their leaves are
        // signed when the crafted tree is built, since the tree's root fixes them).
        _ => Some(()),
    }
}

/// Signs a generated block as its proposer would: every operation inside (for the state after
/// `process_slots`, whose fork and `genesis_validators_root` are the view's: phase0 has no fork
/// upgrade), the RANDAO reveal of the block's epoch, and the block itself (checked only with the
/// `validate_result` flag). `None` when some signature could not be made; the others are made.
pub fn sign_block<E: EthSpec>(view: &PoolView<E>, signed: &mut SignedBeaconBlock<E>) -> Option<()> {
    let mut all = Some(());
    let body = &mut signed.message.body;
    for a in body.attestations.iter_mut() {
        all = all.and(sign_attestation(view, a));
    }
    for s in body.attester_slashings.iter_mut() {
        all = all.and(sign_indexed(view, &mut s.attestation_1)).and(sign_indexed(view, &mut s.attestation_2));
    }
    for s in body.proposer_slashings.iter_mut() {
        all = all.and(sign_proposer_slashing(view, s));
    }
    for e in body.voluntary_exits.iter_mut() {
        all = all.and(sign_voluntary_exit(view, e));
    }
    let epoch = compute_epoch_at_slot::<E>(signed.message.slot);
    match randao_reveal(view, signed.message.proposer_index, epoch) {
        Some(r) => signed.message.body.randao_reveal = r,
        None => all = None,
    }
    match block_signature(view, &signed.message) {
        Some(s) => signed.signature = s,
        None => all = None,
    }
    all
}

/// The signatures `op` carries, in order.
pub fn signatures<E: EthSpec>(op: &Op<E>) -> Vec<BlsSignature> {
    match op {
        Op::Attestation(a) => vec![a.signature],
        Op::AttesterSlashing(s) => vec![s.attestation_1.signature, s.attestation_2.signature],
        Op::ProposerSlashing(s) => vec![s.signed_header_1.signature, s.signed_header_2.signature],
        Op::VoluntaryExit(e) => vec![e.signature],
        Op::Block(b) => vec![b.block.signature, b.block.message.body.randao_reveal],
        _ => Vec::new(),
    }
}

/// The compressed point at infinity (`0xc0` then zeros): a valid encoding that is no valid
/// signature of any message under a valid key.
pub fn infinity() -> BlsSignature {
    let mut s = [0u8; 96];
    if let Some(b) = s.first_mut() {
        *b = 0xc0;
    }
    BlsSignature::from(s)
}

/// A wrong signature of the same message: a one-bit flip, random bytes, the point at infinity,
/// zeros, or a real signature under the wrong key (one more or one less participant) or of the
/// wrong message (another domain type, a zero `genesis_validators_root`, no domain at all).
fn corrupt<E: EthSpec, R: Rng>(view: &PoolView<E>, sig: &mut BlsSignature, signers: Option<&[u64]>, object_root: Root, (domain_type, epoch): (DomainType, u64), rng: &mut R) {
    let message = SigningData { object_root, domain: get_domain(view, domain_type, epoch) }.tree_hash_root();
    let message = &message;
    let signers = signers.unwrap_or(&[]);
    let wrong = match rng.gen_range(0..8u8) {
        0 => {
            let bit = rng.gen_range(0..96usize.saturating_mul(8));
            let mut bytes = sig.0;
            if let Some(b) = bytes.get_mut(bit.checked_div(8).unwrap_or(0)) {
                *b ^= 1u8 << (bit & 7);
            }
            Some(BlsSignature::from(bytes))
        }
        1 => {
            let mut bytes = [0u8; 96];
            rng.fill(&mut bytes[..]);
            Some(BlsSignature::from(bytes))
        }
        2 => Some(infinity()),
        3 => Some(BlsSignature::ZERO),
        // One participant more (another validator's key added) or, for several, one fewer.
        4 => {
            let mut who = signers.to_vec();
            if who.len() >= 2 && rng.gen() {
                who.remove(rng.gen_range(0..who.len()));
            } else {
                who.push(rng.gen_range(0..view.validator_count().max(1)));
            }
            sign_by(view, &who, message)
        }
        // Another validator alone.
        5 => {
            let other = signers.first().map_or(0, |s| s.wrapping_add(rng.gen_range(1..4))).checked_rem(view.validator_count().max(1)).unwrap_or(0);
            sign_by(view, &[other], message)
        }
        // The right key, the wrong domain: another domain type, or a zero genesis validators root.
        6 => {
            let domain = if rng.gen() {
                let types: Vec<DomainType> = [DOMAIN_BEACON_PROPOSER, DOMAIN_BEACON_ATTESTER, DOMAIN_RANDAO, DOMAIN_DEPOSIT, DOMAIN_VOLUNTARY_EXIT].into_iter().filter(|t| *t != domain_type).collect();
                let t = types.get(rng.gen_range(0..types.len().max(1))).copied().unwrap_or(DOMAIN_RANDAO);
                get_domain(view, t, epoch)
            } else {
                compute_domain(domain_type, fork_version(view, epoch), Root::ZERO)
            };
            sign_by(view, signers, &SigningData { object_root, domain }.tree_hash_root())
        }
        // The right key over the object root itself (no domain).
        _ => sign_by(view, signers, &object_root),
    };
    // A real signature that could not be made (a key not in the map): the point at infinity.
    *sig = wrong.unwrap_or_else(infinity);
}

/// A signature move on `op` (one signature of it): corrupt it ([`corrupt`]'s moves) or swap it
/// with the other one of the operation (the other indexed attestation's, the other header's).
pub fn mutate_signature<E: EthSpec, R: Rng>(view: &PoolView<E>, op: &mut Op<E>, rng: &mut R) {
    match op {
        Op::Attestation(a) => {
            let signers = attesting_indices(view, a);
            corrupt(view, &mut a.signature, signers.as_deref(), a.data.tree_hash_root(), (DOMAIN_BEACON_ATTESTER, a.data.target.epoch), rng);
        }
        Op::AttesterSlashing(s) => {
            if rng.gen_bool(0.25) {
                std::mem::swap(&mut s.attestation_1.signature, &mut s.attestation_2.signature);
                return;
            }
            let a = if rng.gen() { &mut s.attestation_1 } else { &mut s.attestation_2 };
            let signers: Vec<u64> = a.attesting_indices.iter().copied().collect();
            corrupt(view, &mut a.signature, Some(&signers), a.data.tree_hash_root(), (DOMAIN_BEACON_ATTESTER, a.data.target.epoch), rng);
        }
        Op::ProposerSlashing(s) => {
            if rng.gen_bool(0.25) {
                std::mem::swap(&mut s.signed_header_1.signature, &mut s.signed_header_2.signature);
                return;
            }
            let proposer = [s.signed_header_1.message.proposer_index];
            let h = if rng.gen() { &mut s.signed_header_1 } else { &mut s.signed_header_2 };
            let epoch = compute_epoch_at_slot::<E>(h.message.slot);
            corrupt(view, &mut h.signature, Some(&proposer), h.message.tree_hash_root(), (DOMAIN_BEACON_PROPOSER, epoch), rng);
        }
        Op::VoluntaryExit(e) => {
            corrupt(view, &mut e.signature, Some(&[e.message.validator_index]), e.message.tree_hash_root(), (DOMAIN_VOLUNTARY_EXIT, e.message.epoch), rng);
        }
        // The block signature (checked with `validate_result`) or the RANDAO reveal (always).
        Op::Block(b) => {
            let m = &mut b.block.message;
            let proposer = [m.proposer_index];
            let epoch = compute_epoch_at_slot::<E>(m.slot);
            if rng.gen() {
                let root = m.tree_hash_root();
                corrupt(view, &mut b.block.signature, Some(&proposer), root, (DOMAIN_BEACON_PROPOSER, epoch), rng);
            } else {
                corrupt(view, &mut m.body.randao_reveal, Some(&proposer), epoch.tree_hash_root(), (DOMAIN_RANDAO, epoch), rng);
            }
        }
        _ => {}
    }
}
