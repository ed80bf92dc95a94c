//! The engines' mutation API (`diverge::harness::mutate*`, `crossover*`; what libFuzzer's
//! `fuzz_mutator!`/`fuzz_crossover!` and the AFL++ library call): size bounds, determinism, the
//! havoc fallback for inputs that do not decode, and field-level crossover, on the repository's
//! minimal pool and seeds.

use diverge::fuzz::structured::MutatorKind;
use diverge::harness::{self, MutatorSetting};
use diverge::target::Target;
use diverge_mutators::generate::{split, Op};
use diverge_mutators::Kind;
use diverge_types::MinimalSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SETTINGS: [MutatorSetting; 4] = [
    MutatorSetting::Diverge(MutatorKind::Mixed),
    MutatorSetting::Diverge(MutatorKind::Structured),
    MutatorSetting::Diverge(MutatorKind::Havoc),
    MutatorSetting::Engine,
];

fn seeds(target: Target) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora").join(target.name());
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "bin")).map(|p| std::fs::read(p).unwrap()).collect();
    v.sort();
    assert!(!v.is_empty(), "no seeds in {}", dir.display());
    v
}

fn decodes(kind: Kind, data: &[u8]) -> bool {
    split(data).and_then(|(_, body)| Op::<MinimalSpec>::decode(kind, body)).is_some()
}

/// Random inputs (seeds and random bytes) and bounds, `max_size` below `size` too: the result
/// never exceeds `max_size` or the buffer, for every setting and several targets.
#[test]
fn max_size_is_honoured() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for target in [Target::Attestation, Target::AttesterSlashing, Target::BlockHeader, Target::Block, Target::DkgSequence] {
        let mut inputs = seeds(target);
        for _ in 0..8 {
            let n = rng.gen_range(0..600);
            inputs.push((0..n).map(|_| rng.gen()).collect());
        }
        for setting in SETTINGS {
            for (i, input) in inputs.iter().enumerate() {
                for _ in 0..4 {
                    let max_size = rng.gen_range(0..=input.len().saturating_mul(2).max(4));
                    let cap = input.len().max(max_size);
                    let mut buf = vec![0u8; cap];
                    buf[..input.len()].copy_from_slice(input);
                    let seed: u64 = rng.gen();
                    let n = harness::mutate_or_with(setting, target, &mut buf, input.len(), max_size, seed, |_, _, _| None);
                    assert!(n <= max_size && n <= buf.len(), "{} {setting:?} input {i}: {n} > max_size {max_size}", target.name());
                    // An engine mutator that overshoots is clamped too.
                    let n = harness::mutate_or_with(setting, target, &mut buf, input.len(), max_size, seed, |d, _, _| Some(d.len() + 10));
                    assert!(n <= max_size, "{} {setting:?}: engine result not clamped: {n} > {max_size}", target.name());
                    let mut v = input.clone();
                    harness::mutate_vec_with(setting, target, &mut v, max_size, seed);
                    assert!(v.len() <= max_size);
                }
            }
        }
    }
}

/// The same seed gives the same bytes (libFuzzer's and AFL++'s contract); other seeds do not all
/// give the same.
#[test]
fn same_seed_same_bytes() {
    for target in [Target::Attestation, Target::ProposerSlashing, Target::Block] {
        for setting in SETTINGS {
            let mut outs = std::collections::BTreeSet::new();
            for (i, input) in seeds(target).iter().enumerate().take(6) {
                for seed in 0..20u64 {
                    let run = || {
                        let cap = input.len().max(4096);
                        let mut buf = vec![0u8; cap];
                        buf[..input.len()].copy_from_slice(input);
                        let n = harness::mutate_or_with(setting, target, &mut buf, input.len(), cap, seed, |_, _, _| None);
                        buf.truncate(n);
                        buf
                    };
                    let a = run();
                    assert_eq!(a, run(), "{} {setting:?} input {i} seed {seed}", target.name());
                    outs.insert(a);
                }
            }
            assert!(outs.len() > 20, "{} {setting:?}: only {} distinct outputs from 120 calls", target.name(), outs.len());
        }
    }
}

/// The structured setting on a decodable attestation keeps most outputs decodable (the
/// structured path is taken), and an input that does not decode falls back to havoc: no panic,
/// and the output differs from the input.
#[test]
fn structured_path_and_havoc_fallback() {
    let structured = MutatorSetting::Diverge(MutatorKind::Structured);
    let input = seeds(Target::Attestation).into_iter().find(|s| decodes(Kind::Attestation, s)).unwrap();
    let kept = (0..200u64)
        .filter(|seed| {
            let mut v = input.clone();
            harness::mutate_vec_with(structured, Target::Attestation, &mut v, 4096, *seed);
            decodes(Kind::Attestation, &v)
        })
        .count();
    assert!(kept >= 150, "structured kept only {kept}/200 attestations decodable");

    // A truncated attestation, a body of garbage, and an input too short for a selector.
    let undecodable: Vec<Vec<u8>> = vec![input[..input.len() / 2].to_vec(), vec![1, 0, 0xde, 0xad, 0xbe, 0xef, 7], vec![5]];
    for bad in &undecodable {
        assert!(!decodes(Kind::Attestation, bad));
        let mut differ = 0;
        for seed in 0..100u64 {
            let mut v = bad.clone();
            harness::mutate_vec_with(structured, Target::Attestation, &mut v, 4096, seed);
            if v != *bad {
                differ += 1;
            }
        }
        assert!(differ >= 95, "undecodable input {bad:02x?}: only {differ}/100 mutations changed it");
    }
}

/// Crossover stays within `out`, is deterministic, and is field-level where both parents
/// decode: the child of two attestations (or two attester slashings) decodes and differs from
/// the first parent in most draws; undecodable parents get a splice that keeps `a`'s selector.
#[test]
fn crossover_bounds_and_fields() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (target, kind) in [(Target::Attestation, Kind::Attestation), (Target::AttesterSlashing, Kind::AttesterSlashing), (Target::VoluntaryExit, Kind::VoluntaryExit)] {
        let parents: Vec<Vec<u8>> = seeds(target).into_iter().filter(|s| decodes(kind, s)).collect();
        assert!(parents.len() >= 2, "{}: fewer than 2 decodable seeds", target.name());
        let (mut decoded, mut changed, mut draws) = (0, 0, 0);
        for i in 0..parents.len() {
            for j in 0..parents.len() {
                if i == j || parents[i] == parents[j] {
                    continue;
                }
                let seed: u64 = rng.gen();
                let child = harness::crossover_vec(target, &parents[i], &parents[j], 1 << 20, seed);
                assert_eq!(child, harness::crossover_vec(target, &parents[i], &parents[j], 1 << 20, seed));
                draws += 1;
                decoded += usize::from(decodes(kind, &child));
                changed += usize::from(child != parents[i]);
                // Bounded by `out`, whatever its size.
                for max in [0, 1, 2, 7, parents[i].len() / 2] {
                    let mut out = vec![0u8; max];
                    let n = harness::crossover(target, &parents[i], &parents[j], &mut out, seed);
                    assert!(n <= max);
                }
            }
        }
        assert_eq!(decoded, draws, "{}: field-level crossover must keep children decodable", target.name());
        assert!(changed * 2 > draws, "{}: only {changed}/{draws} children differ from the first parent", target.name());
    }
    // Undecodable parents: a splice that starts with `a`'s selector.
    let a = vec![3u8, 0, 1, 2, 3, 4, 5];
    let b = vec![9u8, 9, 6, 7, 8];
    for seed in 0..50u64 {
        let child = harness::crossover_vec(Target::Attestation, &a, &b, 64, seed);
        assert_eq!(&child[..2], &a[..2]);
        assert_ne!(child, a);
        assert!(harness::crossover_vec(Target::Attestation, &a, &b, 3, seed).len() <= 3);
    }
}
