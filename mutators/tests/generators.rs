//! The mutators on the shipped minimal pool (`corpora/states/minimal`): the same seed gives the
//! same bytes, undecodable inputs get havoc without panicking, and the
//! view's committees and proposers equal the spec implementation's. That generated inputs decode
//! is checked through the harness's own decoder, in `differential/tests/generated_inputs.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::panic, reason = "test code")]

use diverge_mutators::generate::{split, Op};
use diverge_mutators::{havoc, Config, Kind, PoolView, Structured};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

mod common;
use common::{pool, E};

fn views() -> Vec<PoolView<E>> {
    pool().iter().map(PoolView::new).collect()
}

#[test]
fn mutants_mostly_decode_and_havoc_never_panics() {
    let views = views();
    let m = Structured::<E>::new(Config::default());
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for &kind in Kind::ALL {
        let mut input = m.generate(kind, &views, &mut rng).unwrap();
        let mut decodes = 0;
        for _ in 0..10_000 {
            m.mutate(kind, &mut input, &views, &mut rng, 4096);
            assert!(input.len() <= 4096);
            if split(&input).and_then(|(_, b)| Op::<E>::decode(kind, b)).is_some() {
                decodes += 1;
            } else {
                // Keep walking from a decodable input half of the time, as a corpus would.
                input = m.generate(kind, &views, &mut rng).unwrap();
            }
        }
        assert!(decodes >= 8_000, "{}: {decodes} of 10000 mutants decode", kind.name());
    }
}

#[test]
fn same_seed_same_bytes() {
    let views = views();
    let m = Structured::<E>::new(Config::default());
    for &kind in Kind::ALL {
        let base = m.generate(kind, &views, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        for seed in 0..200u64 {
            let (mut a, mut b) = (base.clone(), base.clone());
            let la = m.mutate_seeded(kind, &mut a, &views, 1 << 16, seed);
            let lb = m.mutate_seeded(kind, &mut b, &views, 1 << 16, seed);
            assert_eq!((la, &a), (lb, &b), "{} seed {seed}", kind.name());
        }
        // And different seeds do not all give the same bytes.
        let outs: std::collections::BTreeSet<Vec<u8>> = (0..50u64)
            .map(|s| {
                let mut x = base.clone();
                m.mutate_seeded(kind, &mut x, &views, 1 << 16, s);
                x
            })
            .collect();
        assert!(outs.len() > 25, "{}: {} distinct mutants of 50 seeds", kind.name(), outs.len());
    }
}

#[test]
fn undecodable_input_gets_havoc() {
    let views = views();
    // Never generate: every call goes through decode, so an undecodable input must get havoc.
    let m = Structured::<E>::new(Config { generate: 0.0, valid: 0.5, ..Config::default() });
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for &kind in Kind::ALL {
        for len in [0usize, 1, 2, 3, 7, 100, 300] {
            for s in 0..50u64 {
                let input: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(s as u8)).collect();
                if split(&input).and_then(|(_, b)| Op::<E>::decode(kind, b)).is_some() {
                    continue;
                }
                let (mut a, mut b) = (input.clone(), input.clone());
                let mut r1 = ChaCha8Rng::seed_from_u64(s);
                let mut r2 = r1.clone();
                m.mutate(kind, &mut a, &views, &mut r1, 512);
                // The same draws as the plain byte havoc (the generate coin first).
                let _ = rand::Rng::gen_bool(&mut r2, 0.0);
                havoc::havoc(&mut b, &mut r2, 512);
                assert_eq!(a, b, "{} len {len} seed {s}", kind.name());
            }
        }
        // No views at all: havoc too, never a panic.
        let mut x = vec![1u8, 0, 5];
        m.mutate(kind, &mut x, &[], &mut rng, 16);
        assert!(x.len() <= 16);
    }
}

#[test]
fn committees_and_proposers_match_the_spec_implementation() {
    use diverge_spec::helpers::accessors as spec;
    let states = pool();
    let (mut committees, mut proposers) = (0usize, 0usize);
    for (id, state) in states.iter().enumerate() {
        let view = PoolView::new(state);
        for epoch in [view.previous_epoch(), view.current_epoch()] {
            let count = spec::get_committee_count_per_slot(state, epoch).ok();
            assert_eq!(view.committee_count_per_slot(epoch), count, "state {id} epoch {epoch}");
            let Some(count) = count else { continue };
            // Two slots per epoch keep the spec's per-index shuffling within seconds.
            for slot in [epoch * 8, epoch * 8 + 5] {
                for index in 0..count {
                    let expected = spec::get_beacon_committee(state, slot, index).ok();
                    assert_eq!(view.beacon_committee(slot, index), expected, "state {id} slot {slot} index {index}");
                    committees += 1;
                }
            }
        }
        let expected = spec::get_beacon_proposer_index(state).ok();
        assert_eq!(view.proposer_index(), expected, "state {id} proposer");
        proposers += usize::from(expected.is_some());
    }
    assert!(committees > 500 && proposers > 100, "{committees} committees, {proposers} proposers compared");
}
