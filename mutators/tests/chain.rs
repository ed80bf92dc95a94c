//! The `chain` generator on the shipped minimal pool: generated chains decode, have several blocks,
//! and are accepted by both implementations (`apply_chain`, under both `validate_result` settings
//! the generator picks), including under real BLS when signed; the same seed gives the same bytes;
//! an undecodable input gets byte havoc; and a mutation stays within `max_len`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::panic, reason = "test code")]

use diverge_fast::FastImpl;
use diverge_mutators::chain::{gen_chain, mutate_chain, ChainInput, ChainPool, StateTransition};
use diverge_mutators::generate::{frame, split};
use diverge_mutators::{Config, PoolView};
use diverge_spec::SpecImpl;
use diverge_types::{BeaconState, BlsMode, Operation, Phase0Impl, SignedBeaconBlock};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::{pool, E};

/// The executor the fuzz loop uses (`differential/src/fuzz/structured.rs`): spec's
/// `state_transition`, `validate_result` off, BLS assumed valid.
struct Spec;

impl StateTransition<E> for Spec {
    fn state_transition(&self, state: &BeaconState<E>, block: &SignedBeaconBlock<E>) -> Option<BeaconState<E>> {
        let mut s = state.clone();
        SpecImpl.apply(&mut s, &Operation::Block { block: block.clone(), validate_result: false }, BlsMode::AssumeValid).ok()?;
        Some(s)
    }
}

/// Whether `imp` accepts every block of `chain` on pool state `at` (`Err` with the rejecting
/// block's index and reason otherwise).
fn accepts<I: Phase0Impl<E>>(imp: &I, states: &[BeaconState<E>], at: usize, chain: &ChainInput<E>, bls: BlsMode) -> Result<(), String> {
    let mut s = imp.prepare(&states[at]).unwrap();
    imp.apply_chain(&mut s, &chain.blocks, chain.flags & 1 == 1, bls).map_err(|r| format!("block {} of {}: {:?}", r.index, chain.blocks.len(), r.reason))
}

fn check(sign: bool, n: usize, seed: u64) -> (usize, usize, usize) {
    let states = pool();
    let views: Vec<PoolView<E>> = states.iter().map(PoolView::new).collect();
    let pool = ChainPool { states: &states, views: &views, executor: &Spec };
    let config = Config { generate: 1.0, valid: 1.0, sign };
    let bls = if sign { BlsMode::Real } else { BlsMode::AssumeValid };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut made, mut valid, mut long) = (0, 0, 0);
    for _ in 0..n {
        let at = rng.gen_range(0..states.len());
        let Some(chain) = gen_chain(&config, &pool, at, &mut rng) else { continue };
        made += 1;
        // Round trip through the target's framing.
        let bytes = frame(at as u16, &chain.encode());
        assert_eq!(ChainInput::<E>::decode(split(&bytes).unwrap().1).as_ref(), Some(&chain));
        let spec = accepts(&SpecImpl, &states, at, &chain, bls);
        let fast = accepts(&FastImpl, &states, at, &chain, bls);
        assert_eq!(spec.is_ok(), fast.is_ok(), "state {at}: spec {spec:?}, fast {fast:?}");
        if spec.is_ok() {
            valid += 1;
            long += usize::from(chain.blocks.len() >= 2);
        }
    }
    println!("chain (sign {sign}): {made}/{n} generated, {valid} accepted by both, {long} accepted with 2 or more blocks");
    (made, valid, long)
}

#[test]
fn generated_chains_are_accepted_by_both_implementations() {
    let (made, valid, long) = check(false, 120, 1);
    assert!(made * 10 >= 120 * 8, "{made}/120 generated");
    assert!(valid * 100 >= made * 60, "{valid}/{made} accepted");
    assert!(long * 100 >= made * 40, "{long}/{made} accepted with several blocks");
}

#[test]
fn signed_chains_are_accepted_under_real_bls() {
    let (made, valid, long) = check(true, 20, 2);
    assert!(valid * 100 >= made * 60, "{valid}/{made} accepted");
    assert!(long > 0);
}

#[test]
fn mutation_is_deterministic_bounded_and_total() {
    let states = pool();
    let views: Vec<PoolView<E>> = states.iter().map(PoolView::new).collect();
    let pool = ChainPool { states: &states, views: &views, executor: &Spec };
    let config = Config::default();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut input = frame(0, &gen_chain(&config, &pool, 0, &mut rng).unwrap().encode());
    let (mut decoded, n) = (0usize, 300u64);
    for i in 0..n {
        let max_len = if i % 10 == 0 { 100 } else { 1 << 16 };
        let (mut a, mut b) = (input.clone(), input.clone());
        mutate_chain(&config, &pool, &mut a, &mut ChaCha8Rng::seed_from_u64(i), max_len);
        mutate_chain(&config, &pool, &mut b, &mut ChaCha8Rng::seed_from_u64(i), max_len);
        assert_eq!(a, b, "seed {i}");
        assert!(a.len() <= max_len);
        let ok = split(&a).and_then(|(_, body)| ChainInput::<E>::decode(body)).is_some();
        decoded += usize::from(ok);
        if ok {
            input = a;
        }
    }
    println!("chain mutants: {decoded}/{n} decode");
    assert!(decoded as u64 * 100 >= n * 80, "{decoded}/{n}");
    // Not a chain: havoc, never a panic, bytes changed.
    let junk = vec![7u8; 40];
    let mut out = junk.clone();
    mutate_chain(&Config { generate: 0.0, ..config }, &pool, &mut out, &mut ChaCha8Rng::seed_from_u64(9), 64);
    assert_ne!(out, junk);
    assert!(out.len() <= 64);
}
