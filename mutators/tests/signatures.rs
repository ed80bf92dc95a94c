//! Real signatures (issue 13 item 3) on the shipped minimal pool, judged by both implementations
//! under `BlsMode::Real`: signed generated inputs are accepted by spec and fast, corrupted or
//! swapped signatures are rejected by both for the same reason, the key map finds the pool's keys,
//! the memo lets both implementations share one pairing check, and a deposit with a bad proof of
//! possession is skipped identically by both under `assume-valid`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::panic, reason = "test code")]

use diverge_fast::FastImpl;
use diverge_mutators::generate::{split, Op};
use diverge_mutators::{keys, sign, Config, Kind, PoolView, Structured};
use diverge_spec::SpecImpl;
use diverge_types::bls::{self, BlsMode};
use diverge_types::{BeaconState, Deposit, Operation, Phase0Impl, Reject};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

mod common;
use common::{pool, read_snappy, E};

/// Both implementations' verdicts (`Ok(post)` or the reject) of `op` on `state`.
fn judge(state: &BeaconState<E>, op: &Operation<E>, mode: BlsMode) -> (Result<BeaconState<E>, Reject>, Result<BeaconState<E>, Reject>) {
    let mut s = Phase0Impl::<E>::prepare(&SpecImpl, state).unwrap();
    let spec = Phase0Impl::<E>::apply(&SpecImpl, &mut s, op, mode).map(|()| Phase0Impl::<E>::export(&SpecImpl, &s));
    let mut f = Phase0Impl::<E>::prepare(&FastImpl, state).unwrap();
    let fast = Phase0Impl::<E>::apply(&FastImpl, &mut f, op, mode).map(|()| Phase0Impl::<E>::export(&FastImpl, &f));
    (spec, fast)
}

fn operation(op: Op<E>) -> Operation<E> {
    match op {
        Op::Attestation(a) => Operation::Attestation(a),
        Op::AttesterSlashing(s) => Operation::AttesterSlashing(s),
        Op::ProposerSlashing(s) => Operation::ProposerSlashing(s),
        Op::VoluntaryExit(e) => Operation::VoluntaryExit(e),
        Op::BlockHeader(b) => Operation::BlockHeader(b),
        #[allow(unreachable_patterns, reason = "kinds added by other slices")]
        _ => panic!("not a kind of this test"),
    }
}

const SIGNED: [Kind; 4] = [Kind::Attestation, Kind::AttesterSlashing, Kind::ProposerSlashing, Kind::VoluntaryExit];

#[test]
fn keys_map_finds_the_pools_keys() {
    let states = pool();
    let map = keys::KeyMap::new(keys::KEY_COUNT);
    // Validator 0 of a pool state has key 0 (scalar 1), and key k's public key is SkToPk(k + 1).
    let v0 = &states[0].validators[0];
    let start = Instant::now();
    assert_eq!(map.key_of(&v0.pubkey), Some(0));
    // Every validator of every pool state has a known key.
    for (id, s) in states.iter().enumerate() {
        for (i, v) in s.validators.iter().enumerate() {
            assert!(map.key_of(&v.pubkey).is_some(), "state {id} validator {i}: unknown key");
        }
    }
    println!("key map: the pool's keys found after {} public keys, {:.0} ms", map.len(), start.elapsed().as_secs_f64() * 1e3);
    // Only as many as the largest registry needs (the map doubles from 64 keys).
    let largest = states.iter().map(|s| s.validators.len()).max().unwrap();
    assert!(map.len() <= largest.next_power_of_two(), "{} public keys computed for a pool of at most {largest} validators", map.len());
    assert_eq!(keys::public_key(0), Some(v0.pubkey));
    assert_eq!(keys::secret_scalar(0)[31], 1);
    assert_eq!(keys::secret_scalar(256)[30..], [1, 1]);
    // A key outside the list: the whole list once, then a plain miss.
    let start = Instant::now();
    assert_eq!(map.key_of(&diverge_types::BlsPubkey::ZERO), None);
    println!("key map: all {} keys in {:.0} ms", map.len(), start.elapsed().as_secs_f64() * 1e3);
    assert_eq!(map.len() as u64, keys::KEY_COUNT);
    assert_eq!(map.key_of(&keys::public_key(keys::KEY_COUNT - 1).unwrap()), Some(keys::KEY_COUNT - 1));
    assert_eq!(map.key_of(&keys::public_key(keys::KEY_COUNT).unwrap()), None);
}

#[test]
fn aggregate_by_summed_scalars_equals_the_aggregate_of_signatures() {
    let message = diverge_types::Root::repeat_byte(3);
    let members = [2u64, 5, 9, 40];
    let sigs: Vec<_> = members.iter().map(|&k| keys::secret_key(k).unwrap().sign(&message)).collect();
    let summed: u128 = members.iter().map(|&k| u128::from(k + 1)).sum();
    assert_eq!(sign::sign_with_scalar(summed, &message), bls::aggregate_signatures(&sigs));
    let pubkeys: Vec<_> = members.iter().map(|&k| keys::public_key(k).unwrap()).collect();
    assert!(bls::fast_aggregate_verify(BlsMode::Real, &pubkeys, &message, &bls::aggregate_signatures(&sigs).unwrap()));
}

/// The short-scalar signer (`mutators/src/g2.rs`) makes `SecretKey::sign`'s bytes: small and large
/// scalars (up to 2^128 - 1), many roots, each root signed twice (the second time from the memo of
/// `H(message)`), and none for the scalar 0.
#[test]
fn short_scalar_signing_equals_secret_key_sign() {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for i in 0..64u32 {
        let message = diverge_types::Root::from(rng.gen::<[u8; 32]>());
        let scalar: u128 = match i % 4 {
            0 => rng.gen_range(1..=8192),
            1 => rng.gen_range(1..1 << 24),
            2 => rng.gen_range(1..=u128::from(u64::MAX)),
            _ => rng.gen_range(1..=u128::MAX),
        };
        let expected = bls::SecretKey::from_be_bytes(&keys::scalar_bytes(scalar)).unwrap().sign(&message);
        assert_eq!(sign::sign_with_scalar(scalar, &message), Some(expected), "scalar {scalar}");
        assert_eq!(sign::sign_with_scalar(scalar, &message), Some(expected), "scalar {scalar}, memoised hash");
    }
    assert_eq!(sign::sign_with_scalar(0, &diverge_types::Root::repeat_byte(1)), None);
}

/// Signed generated inputs: both implementations accept them under real BLS; unsigned ones (the
/// same generator without `sign`) are rejected by both; every signature move makes both reject,
/// for the same reason.
#[test]
fn signed_inputs_are_valid_for_both_and_corrupted_ones_rejected_by_both() {
    let states = pool();
    let views: Vec<PoolView<E>> = states.iter().map(PoolView::new).collect();
    let signed = Structured::<E>::new(Config { sign: true, ..Config::default() });
    let unsigned = Structured::<E>::new(Config::default());
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    const N: usize = 60;
    for kind in SIGNED {
        let (mut valid, mut unsigned_rejected, mut corrupted_rejected) = (0, 0, 0);
        for _ in 0..N {
            let input = signed.generate(kind, &views, &mut rng).unwrap();
            let (sel, body) = split(&input).unwrap();
            let at = usize::from(sel) % states.len();
            let op = Op::<E>::decode(kind, body).unwrap();
            let (spec, fast) = judge(&states[at], &operation(op.clone()), BlsMode::Real);
            assert_eq!(spec.is_ok(), fast.is_ok(), "{}: spec {:?} fast {:?}", kind.name(), spec.as_ref().err(), fast.as_ref().err());
            if let (Ok(a), Ok(b)) = (&spec, &fast) {
                assert_eq!(a, b, "{}: post-states differ", kind.name());
                valid += 1;
            } else if std::env::var("SIG_DEBUG").is_ok() {
                println!("{}: state {at}: {:?}", kind.name(), spec.as_ref().err());
            }
            // The same operation with its signatures moved: rejected by both, same reason. A move
            // can leave the signatures as they were (a swap of two equal ones): draw again, and
            // count only a real change; an operation no move changes in 16 draws counts as not
            // rejected.
            let mut bad = op.clone();
            for _ in 0..16 {
                if sign::signatures(&bad) != sign::signatures(&op) {
                    break;
                }
                sign::mutate_signature(&views[at], &mut bad, &mut rng);
            }
            if sign::signatures(&bad) != sign::signatures(&op) {
                let (spec, fast) = judge(&states[at], &operation(bad), BlsMode::Real);
                assert_eq!(spec.as_ref().err(), fast.as_ref().err(), "{}: corrupted signature judged differently", kind.name());
                if spec.is_err() {
                    corrupted_rejected += 1;
                }
            }
            // The unsigned generator's operation (random signature bytes).
            let input = unsigned.generate(kind, &views, &mut rng).unwrap();
            let (sel, body) = split(&input).unwrap();
            let op = Op::<E>::decode(kind, body).unwrap();
            let (spec, fast) = judge(&states[usize::from(sel) % states.len()], &operation(op), BlsMode::Real);
            if spec.is_err() && fast.is_err() {
                unsigned_rejected += 1;
            }
        }
        println!("{}: signed {valid}/{N} valid for both; corrupted {corrupted_rejected}/{N} rejected; unsigned {unsigned_rejected}/{N} rejected", kind.name());
        assert!(valid * 100 >= N * 95, "{}: only {valid} of {N} signed inputs valid", kind.name());
        assert_eq!(unsigned_rejected, N, "{}: an input with random signature bytes was accepted", kind.name());
        assert_eq!(corrupted_rejected, N, "{}: only {corrupted_rejected} of {N} signatures changed and rejected", kind.name());
    }
}

/// The memo: spec and fast check the same set, so one execution of both costs one pairing check;
/// the second execution of the same input costs none.
#[test]
fn both_implementations_share_one_check() {
    let states = pool();
    let views: Vec<PoolView<E>> = states.iter().map(PoolView::new).collect();
    let signed = Structured::<E>::new(Config { sign: true, ..Config::default() });
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for kind in [Kind::Attestation, Kind::VoluntaryExit] {
        let input = signed.generate(kind, &views, &mut rng).unwrap();
        let (sel, body) = split(&input).unwrap();
        let state = &states[usize::from(sel) % states.len()];
        let op = operation(Op::<E>::decode(kind, body).unwrap());
        let (_, before) = bls::memo::counts();
        let (spec, fast) = judge(state, &op, BlsMode::Real);
        assert!(spec.is_ok() && fast.is_ok(), "{}", kind.name());
        let (hits, after) = bls::memo::counts();
        assert_eq!(after - before, 1, "{}: {} checks ran for one signature set", kind.name(), after - before);
        assert!(hits >= 1);
        let _ = judge(state, &op, BlsMode::Real);
        assert_eq!(bls::memo::counts().1, after, "{}: a repeated input ran a check again", kind.name());
    }
}

/// The deposit root of a tree in which `leaf` sits at `index` with the sibling `branch` (depth 32
/// plus the length mix-in): what `is_valid_merkle_branch` recomputes.
fn root_of_branch(leaf: diverge_types::Root, branch: &[diverge_types::Root], index: u64) -> diverge_types::Root {
    let mut node = leaf;
    for (i, sibling) in branch.iter().enumerate() {
        let mut pair = Vec::with_capacity(64);
        if (index >> i) & 1 == 1 {
            pair.extend_from_slice(sibling.as_slice());
            pair.extend_from_slice(node.as_slice());
        } else {
            pair.extend_from_slice(node.as_slice());
            pair.extend_from_slice(sibling.as_slice());
        }
        node = diverge_types::Root::from(diverge_types::hash(&pair));
    }
    node
}

/// Deposit signatures are verified under `assume-valid` too, in both implementations: a vector's
/// new-validator deposit with its signature corrupted (and the pre-state's deposit root moved so
/// the proof still holds) is skipped (index advanced, no validator added) identically by both;
/// with its own signature it adds the validator in both; the vector whose deposit carries a bad
/// signature is skipped as its expected post-state says.
#[test]
fn deposit_with_a_bad_signature_is_skipped_by_both_under_assume_valid() {
    use diverge_types::TreeHash;
    let dir = diverge_test_vectors::require().join("minimal/phase0/operations/deposit/pyspec_tests");
    let case = dir.join("new_deposit_under_max");
    let pre: BeaconState<E> = read_snappy(&case.join("pre.ssz_snappy"));
    let deposit: Deposit = read_snappy(&case.join("deposit.ssz_snappy"));
    let n = pre.validators.len();
    assert_eq!(root_of_branch(deposit.data.tree_hash_root(), &deposit.proof, pre.eth1_deposit_index), pre.eth1_data.deposit_root);
    for mode in [BlsMode::AssumeValid, BlsMode::Real] {
        let (spec, fast) = judge(&pre, &Operation::Deposit(deposit.clone()), mode);
        let (spec, fast) = (spec.unwrap(), fast.unwrap());
        assert_eq!(spec, fast);
        assert_eq!(spec.validators.len(), n + 1, "{mode:?}: the good deposit adds a validator");
        let flipped = {
            let mut b = deposit.data.signature.0;
            b[40] ^= 0x10;
            diverge_types::BlsSignature::from(b)
        };
        let other_key = keys::secret_key(3).unwrap().sign(&diverge_types::Root::repeat_byte(1));
        for (what, sig) in [("bit flip", flipped), ("infinity", sign::infinity()), ("other key", other_key)] {
            let mut bad = deposit.clone();
            bad.data.signature = sig;
            let mut state = pre.clone();
            state.eth1_data.deposit_root = root_of_branch(bad.data.tree_hash_root(), &bad.proof, pre.eth1_deposit_index);
            let (spec, fast) = judge(&state, &Operation::Deposit(bad), mode);
            let (spec, fast) = (spec.unwrap(), fast.unwrap());
            assert_eq!(spec, fast, "{mode:?} {what}");
            assert_eq!(spec.validators.len(), n, "{mode:?} {what}: the deposit was not skipped");
            assert_eq!(spec.eth1_deposit_index, pre.eth1_deposit_index + 1, "{mode:?} {what}");
        }
        // The vector with a bad signature: skipped, the expected post-state, under either mode.
        let case = dir.join("invalid_sig_new_deposit");
        let pre: BeaconState<E> = read_snappy(&case.join("pre.ssz_snappy"));
        let post: BeaconState<E> = read_snappy(&case.join("post.ssz_snappy"));
        let deposit: Deposit = read_snappy(&case.join("deposit.ssz_snappy"));
        let (spec, fast) = judge(&pre, &Operation::Deposit(deposit), mode);
        assert_eq!(spec.unwrap(), post, "{mode:?}: spec");
        assert_eq!(fast.unwrap(), post, "{mode:?}: fast");
    }
    // The generator-side deposit signature equals the vector's (same key, domain and message).
    assert_eq!(sign::deposit_signature::<E>(&deposit.data), Some(deposit.data.signature));
}
