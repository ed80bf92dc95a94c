//! The DKG mutators: every generated input is canonical (decodes and re-encodes to the same
//! bytes), the same seed gives the same bytes, trace and field mutations keep inputs canonical,
//! a non-canonical input gets byte havoc, and the boundary helpers hit the deadlines exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::panic, reason = "test code")]

use diverge_mutators::dkg::{boundary_threshold, boundary_time, canonical, deadlines, gen_sequence, mutate_sequence, DkgKind, DkgMutator};
use dkg_types::input::{decode_packet_case, decode_sequence_case, encode_sequence_case, Step};
use dkg_types::pool::{INTERIM_TIMEOUT, NOW0};
use dkg_types::Packet;
use diverge_mutators::havoc::havoc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

#[test]
fn ten_thousand_draws_of_each_generator_decode() {
    let m = DkgMutator::default();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for &kind in DkgKind::ALL {
        let mut pools = BTreeSet::new();
        let mut packet_kinds = BTreeSet::new();
        for i in 0..10_000 {
            let input = m.generate(kind, &mut rng);
            assert!(canonical(kind, &input), "{}: draw {i} is not canonical: {input:02x?}", kind.name());
            match kind {
                DkgKind::Packet => {
                    let c = decode_packet_case(&input);
                    pools.insert(c.pool);
                    packet_kinds.insert(c.packet.packet.as_ref().map(Packet::name));
                }
                DkgKind::Sequence => {
                    let c = decode_sequence_case(&input);
                    assert!((1..=8).contains(&c.steps.len()), "draw {i}: {} steps", c.steps.len());
                    pools.insert(c.pool);
                    for s in &c.steps {
                        if let Step::Packet { packet, .. } = s {
                            packet_kinds.insert(packet.packet.as_ref().map(Packet::name));
                        }
                    }
                }
            }
        }
        assert_eq!(pools.len(), dkg_types::pool::POOL_SIZE, "{}: pool states drawn {pools:?}", kind.name());
        // Proposal, Accept, Reject, Execute, Abort.
        assert!(packet_kinds.len() >= 5, "{}: packet kinds {packet_kinds:?}", kind.name());
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let m = DkgMutator::default();
    for &kind in DkgKind::ALL {
        let seed_input = m.generate(kind, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(seed_input, m.generate(kind, &mut ChaCha8Rng::seed_from_u64(7)));
        let mut distinct = BTreeSet::new();
        for seed in 0..200u64 {
            let mut a = seed_input.clone();
            let mut b = seed_input.clone();
            m.mutate_seeded(kind, &mut a, 4096, seed);
            m.mutate_seeded(kind, &mut b, 4096, seed);
            assert_eq!(a, b, "{}: seed {seed}", kind.name());
            distinct.insert(a);
        }
        // One field per packet mutation: many seeds pick the same boundary value.
        assert!(distinct.len() > 80, "{}: only {} distinct mutants of 200 seeds", kind.name(), distinct.len());
    }
}

#[test]
fn mutations_keep_inputs_canonical_and_honour_max_len() {
    let m = DkgMutator::default();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for &kind in DkgKind::ALL {
        let mut input = m.generate(kind, &mut rng);
        let mut changed = 0;
        for i in 0..10_000 {
            let before = input.clone();
            m.mutate(kind, &mut input, &mut rng, 4096);
            assert!(canonical(kind, &input), "{}: mutation {i} of {before:02x?} gave non-canonical {input:02x?}", kind.name());
            assert!(input.len() <= 4096);
            changed += usize::from(before != input);
            if i % 50 == 0 {
                input = m.generate(kind, &mut rng);
            }
        }
        assert!(changed > 9_000, "{}: only {changed} of 10000 mutations changed the input", kind.name());
        // max_len is honoured even when it cuts an input.
        let mut big = m.generate(kind, &mut rng);
        m.mutate(kind, &mut big, &mut rng, 3);
        assert!(big.len() <= 3);
    }
}

#[test]
fn trace_mutations_insert_delete_reorder_and_move_time_to_deadlines() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (mut grew, mut shrank, mut reordered, mut at_deadline) = (0, 0, 0, 0);
    let base = gen_sequence(&mut rng, 0.5);
    for _ in 0..5_000 {
        let mut c = base.clone();
        mutate_sequence(&mut c, &mut rng, 0.5);
        assert_eq!(decode_sequence_case(&encode_sequence_case(&c)), c);
        assert!(c.steps.len() <= 32);
        grew += usize::from(c.steps.len() > base.steps.len());
        shrank += usize::from(c.steps.len() < base.steps.len());
        reordered += usize::from(c.steps.len() == base.steps.len() && c.steps != base.steps);
        let dl = deadlines(c.pool, None);
        at_deadline += usize::from(c.steps.iter().any(|s| {
            let now = match s {
                Step::Packet { now, .. } | Step::Command { now, .. } => *now,
            };
            dl.iter().any(|d| (now - d).abs() <= 1)
        }));
    }
    assert!(grew > 500 && shrank > 100 && reordered > 1000, "grew {grew} shrank {shrank} changed in place {reordered}");
    assert!(at_deadline > 500, "steps at a deadline boundary in {at_deadline} of 5000");
}

#[test]
fn boundaries_sit_at_the_deadlines_and_thresholds() {
    let dl = deadlines(5, None); // accepted-e2-B: interim timeout and genesis.
    assert!(dl.contains(&INTERIM_TIMEOUT) && dl.contains(&NOW0), "{dl:?}");
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut seen = BTreeSet::new();
    for _ in 0..1000 {
        let t = boundary_time(&mut rng, &[INTERIM_TIMEOUT]);
        seen.insert((t.seconds - INTERIM_TIMEOUT, t.nanos));
    }
    assert_eq!(seen, BTreeSet::from([(-1, 0), (0, 0), (1, 0), (-1, 999_999_999)]));
    let th: BTreeSet<u32> = (0..1000).map(|_| boundary_threshold(&mut rng, 5)).collect();
    assert_eq!(th, BTreeSet::from([2, 3, 5, 6]));
}

#[test]
fn non_canonical_inputs_get_havoc_without_panicking() {
    let m = DkgMutator { config: diverge_mutators::Config { generate: 0.0, valid: 0.5, ..Default::default() } };
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for &kind in DkgKind::ALL {
        // A canonical input with a trailing byte is not canonical: the mutator must give exactly
        // what byte havoc gives from the same RNG state (after the generate coin), not a
        // re-encoding of the decoded case.
        for i in 0..1000 {
            let mut input = m.generate(kind, &mut rng);
            input.push(0xEE);
            assert!(!canonical(kind, &input));
            let mut expected = input.clone();
            let mut twin = rng.clone();
            let _: bool = twin.gen_bool(0.0);
            havoc(&mut expected, &mut twin, 4096);
            m.mutate(kind, &mut input, &mut rng, 4096);
            assert_eq!(input, expected, "{}: non-canonical input {i} did not get havoc", kind.name());
        }
        for len in 0..64usize {
            let mut junk: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(151)).collect();
            m.mutate(kind, &mut junk, &mut rng, 4096);
            m.mutate_seeded(kind, &mut junk, 4096, len as u64);
        }
    }
}
