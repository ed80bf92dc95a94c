//! Batched signature verification keeps the spec's verdicts: a bad signature that the spec checks
//! before a later structural failure wins, and the fallback names which signature failed. Built
//! from the minimal `sanity/blocks/attestation` vector (block 0 carries an attestation), with
//! `validate_result = false` so that the block signature and state root do not interfere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects, reason = "test code")]

use diverge_fast::FastImpl;
use diverge_types::ssz::Decode;
use diverge_types::*;
use std::path::{Path, PathBuf};

type E = MinimalSpec;

fn case() -> PathBuf {
    diverge_test_vectors::require().join("minimal/phase0/sanity/blocks/pyspec_tests/attestation")
}

fn read<T: Decode>(path: &Path) -> T {
    let bytes = std::fs::read(path).unwrap();
    T::from_ssz_bytes(&snap::raw::Decoder::new().decompress_vec(&bytes).unwrap()).unwrap()
}

/// The pre-state and block 0 (which carries the attestation).
fn setup(dir: &Path) -> (<FastImpl as Phase0Impl<E>>::State, SignedBeaconBlock<E>) {
    let pre: BeaconState<E> = read(&dir.join("pre.ssz_snappy"));
    (Phase0Impl::<E>::prepare(&FastImpl, &pre).unwrap(), read(&dir.join("blocks_0.ssz_snappy")))
}

fn run(state: &<FastImpl as Phase0Impl<E>>::State, block: SignedBeaconBlock<E>, validate_result: bool) -> Result<(), Reject> {
    let mut s = state.clone();
    FastImpl.apply(&mut s, &Operation::Block { block, validate_result }, BlsMode::Real)
}

#[test]
fn batched_verdicts_follow_spec_order() {
    let dir = case();
    let (state, block) = setup(&dir);
    assert!(!block.message.body.attestations.is_empty());
    assert_eq!(run(&state, block.clone(), true), Ok(()));

    // A wrong (but well-formed) signature in each place, alone: the fallback names it.
    let other_sig = block.signature;
    let mut bad_randao = block.clone();
    bad_randao.message.body.randao_reveal = other_sig;
    assert_eq!(run(&state, bad_randao.clone(), false), Err(Reject::InvalidRandaoReveal));

    let mut bad_att = block.clone();
    bad_att.message.body.attestations[0].signature = other_sig;
    assert_eq!(run(&state, bad_att.clone(), false), Err(Reject::InvalidIndexedAttestationSignature));

    // Both bad: the RANDAO reveal comes first in spec order.
    let mut both = bad_att.clone();
    both.message.body.randao_reveal = other_sig;
    assert_eq!(run(&state, both, false), Err(Reject::InvalidRandaoReveal));

    // A bad attestation signature, then a structural failure later in the block (an exit of a
    // validator that does not exist): the spec fails on the signature first.
    let exit = SignedVoluntaryExit { message: VoluntaryExit { epoch: 0, validator_index: 1 << 40 }, signature: other_sig };
    let mut sig_then_structural = bad_att.clone();
    sig_then_structural.message.body.voluntary_exits.push(exit.clone()).unwrap();
    assert_eq!(run(&state, sig_then_structural, false), Err(Reject::InvalidIndexedAttestationSignature));

    // Good signatures, same structural failure: the structural reason.
    let mut structural = block.clone();
    structural.message.body.voluntary_exits.push(exit).unwrap();
    assert_eq!(run(&state, structural, false), Err(Reject::ValidatorIndexOutOfRange));

    // A structural failure before the attestation's signature check (its target epoch) wins over
    // that signature, but not over the RANDAO reveal checked earlier.
    let mut early = bad_att.clone();
    early.message.body.attestations[0].data.target.epoch += 10;
    assert_eq!(run(&state, early.clone(), false), Err(Reject::AttestationTargetEpochOutOfRange));
    early.message.body.randao_reveal = other_sig;
    assert_eq!(run(&state, early, false), Err(Reject::InvalidRandaoReveal));

    // The block signature is checked before everything else when validate_result is set.
    assert_eq!(run(&state, bad_randao, true), Err(Reject::InvalidBlockSignature));
}


/// The block with its RANDAO reveal and first attestation signature replaced by a pair that cancels
/// in a batch weighted by `(r1, r2)` (both signatures wrong on their own).
fn forge(block: &SignedBeaconBlock<E>, r1: u64, r2: u64) -> SignedBeaconBlock<E> {
    let mut forged = block.clone();
    let body = &mut forged.message.body;
    let (randao, att) =
        bls::testing::cancelling_pair(&body.randao_reveal, &body.attestations[0].signature, r1, r2, &Root::repeat_byte(0x5a)).unwrap();
    body.randao_reveal = randao;
    body.attestations[0].signature = att;
    forged
}

#[test]
fn signatures_forged_to_cancel_under_predictable_scalars_are_rejected_under_every_seed() {
    let dir = case();
    let (state, block) = setup(&dir);
    // validate_result = false: the batch is [RANDAO reveal, attestations...] in spec order.
    let n = 1 + block.message.body.attestations.len();
    let seed_of = |b: &SignedBeaconBlock<E>| u64::from_le_bytes(hash(b.signature.as_slice())[..8].try_into().unwrap());
    let known = bls::testing::predictable_scalars(seed_of(&block), n);
    let forged = forge(&block, known[0], known[1]);
    assert_eq!(seed_of(&forged), seed_of(&block), "the forgery leaves the block signature, hence the old seed, alone");
    // A later structural failure sends the pending sets through `resolve`, which used seed 0.
    let exit = SignedVoluntaryExit { message: VoluntaryExit { epoch: 0, validator_index: 1 << 40 }, signature: block.signature };
    let zero = bls::testing::predictable_scalars(0, n);
    let mut forged_then_structural = forge(&block, zero[0], zero[1]);
    forged_then_structural.message.body.voluntary_exits.push(exit).unwrap();
    for i in 0..6u8 {
        let seed = [i.wrapping_mul(71).wrapping_add(1); 32];
        let verdict = |b: &SignedBeaconBlock<E>| bls::with_batch_seed(seed, || run(&state, b.clone(), false));
        assert_eq!(verdict(&block), Ok(()), "valid block, seed {i}");
        assert_eq!(verdict(&forged), Err(Reject::InvalidRandaoReveal), "forged pair, seed {i}");
        assert_eq!(verdict(&forged_then_structural), Err(Reject::InvalidRandaoReveal), "forged pair then exit, seed {i}");
    }
    // And under this process's own seed (what `diverge` uses when none is given).
    assert_eq!(run(&state, forged, false), Err(Reject::InvalidRandaoReveal));
}
