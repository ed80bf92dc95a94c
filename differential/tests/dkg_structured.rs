//! Structure-aware smoke run of `dkg_sequence`: random but well-formed sequences from the
//! mutators crate's generator (`diverge_mutators::dkg::gen_sequence`: proposals over subsets of
//! A..E with epochs, thresholds, timeouts and genesis data near the pool's values, votes,
//! executes, aborts and every local command), AssumeValid, strict. Every outcome must be
//! agreement or an allowlisted difference. `DKG_STRUCTURED_N` sets the number of sequences.
//! Default build only (a drand bug build diverges by design); in a DKG bug build, the real-outcome
//! test instead: the structured mutator finds the re-injected bug from a cold start within a
//! bounded number of executions.

use diverge::dkg::{run_dkg_packet_with, run_dkg_sequence_with, DkgConfig, DkgOutcome};
use dkg_types::BlsMode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[cfg(not(any(feature = "pre1318", feature = "pre1343", feature = "short-signature-slice")))]
#[test]
fn structured_sequences_only_agree_or_differ_as_allowlisted() {
    use diverge_mutators::dkg::gen_sequence;
    use dkg_types::input::encode_sequence_case;
    use std::collections::BTreeMap;
    let n: usize = std::env::var("DKG_STRUCTURED_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let config = DkgConfig { mode: BlsMode::AssumeValid, strict: true };
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED);
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    let mut ok_steps = 0usize;
    let mut examples = BTreeMap::new();
    let mut step_kinds: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..n {
        // near = 1/3: one proposal in three near-valid, as the generator had it in this file.
        let case = gen_sequence(&mut rng, 1.0 / 3.0);
        let data = encode_sequence_case(&case);
        let o = run_dkg_sequence_with(&data, &config);
        let key = match &o {
            DkgOutcome::Agree { kinds } => {
                ok_steps += kinds.iter().filter(|k| *k == "Ok").count();
                for k in kinds {
                    *step_kinds.entry(k.clone()).or_insert(0usize) += 1;
                }
                "agree".to_owned()
            }
            DkgOutcome::Allowed { masked, .. } => format!("allowed:{}", masked.iter().map(|m| m.entry).collect::<Vec<_>>().join("+")),
            // Known upstream hazards are findings, counted apart (policy::KNOWN_HAZARDS).
            DkgOutcome::Diverge(d) if d.known.is_some() => format!("known:{}", d.signature),
            DkgOutcome::Diverge(d) => {
                examples.entry(d.signature.clone()).or_insert_with(|| (hex::encode(&data), d.detail.clone()));
                d.signature.clone()
            }
        };
        *found.entry(key).or_default() += 1;
    }
    eprintln!("{found:#?}\naccepted steps: {ok_steps}\nstep kinds: {step_kinds:?}\n{examples:#?}");
    let unexplained: Vec<_> = found.keys().filter(|k| *k != "agree" && !k.starts_with("allowed:") && !k.starts_with("known:")).collect();
    assert!(unexplained.is_empty(), "unexplained divergences: {unexplained:?}");
    assert!(ok_steps > n / 3, "too shallow: {ok_steps} accepted steps");
}

/// The DKG columns of `diverge fuzz`'s closing table do not apply as-is (DKG decoding is total
/// and its verdicts carry no phase0 `Reject` reason), so this measures them on the DKG terms, in
/// a loop shaped like the built-in one (seeds of `corpora/<target>`, pick an entry, mutate, run,
/// keep inputs with a new behaviour = pool state and per-step kinds or divergence signature):
/// non-canonical share (the DKG "undecodable": re-encoding the decoded case changes the bytes),
/// valid share (both implementations accepted every step), distinct error kinds reached,
/// behaviours. `DKG_MEASURE_N` executions per target and mutator (default 20000).
/// Run: `cargo test --release -p diverge --test dkg_structured -- --ignored --nocapture`.
#[cfg(not(any(feature = "pre1318", feature = "pre1343", feature = "short-signature-slice")))]
#[test]
#[ignore = "measurement, prints a table"]
fn measure_havoc_vs_structured() {
    use diverge::fuzz::mutate::{Havoc, Mutator};
    use diverge::fuzz::structured::{MutatorKind, PoolMutator};
    use diverge::target::Target;
    use diverge_mutators::dkg::{canonical, DkgKind};
    use rand::Rng;
    use std::collections::BTreeSet;
    let n: usize = std::env::var("DKG_MEASURE_N").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let config = DkgConfig { mode: BlsMode::AssumeValid, strict: true };
    println!("| target | mutator | execs | non-canonical % | valid % | error kinds | behaviours | findings |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (target, kind) in [(Target::DkgPacket, DkgKind::Packet), (Target::DkgSequence, DkgKind::Sequence)] {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpora").join(target.name());
        let (seeds, _) = diverge::fuzz::load_seeds(&dir);
        for mk in [MutatorKind::Havoc, MutatorKind::Structured] {
            let m = PoolMutator::without_pool(mk);
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut corpus = seeds.clone();
            let (mut noncanon, mut valid) = (0usize, 0usize);
            let mut errors = BTreeSet::new();
            let mut behaviours = BTreeSet::new();
            let mut findings = BTreeSet::new();
            for _ in 0..n {
                let mut input = corpus.get(rng.gen_range(0..corpus.len().max(1))).cloned().unwrap_or_default();
                if mk == MutatorKind::Havoc {
                    Havoc.mutate(target, &mut input, &corpus, &mut rng, 4096);
                } else {
                    m.mutate(target, &mut input, &corpus, &mut rng, 4096);
                }
                noncanon += usize::from(!canonical(kind, &input));
                let o = if kind == DkgKind::Packet { run_dkg_packet_with(&input, &config) } else { run_dkg_sequence_with(&input, &config) };
                let pool = if kind == DkgKind::Packet { dkg_types::input::decode_packet_case(&input).pool } else { dkg_types::input::decode_sequence_case(&input).pool };
                let key = match &o {
                    DkgOutcome::Agree { kinds } | DkgOutcome::Allowed { kinds, .. } => {
                        valid += usize::from(!kinds.is_empty() && kinds.iter().all(|k| k == "Ok"));
                        errors.extend(kinds.iter().filter(|k| *k != "Ok").cloned());
                        format!("{}:{}", pool % 16, kinds.join(","))
                    }
                    DkgOutcome::Diverge(d) => {
                        findings.insert(d.signature.clone());
                        format!("{}:{}", pool % 16, d.signature)
                    }
                };
                if behaviours.insert(key) {
                    corpus.push(input);
                }
            }
            let pct = |x: usize| 100.0 * x as f64 / n as f64;
            println!("| {} | {} | {n} | {:.1} | {:.1} | {} | {} | {} |", target.name(), mk.name(), pct(noncanon), pct(valid), errors.len(), behaviours.len(), findings.len());
            eprintln!("{} {}: error kinds {errors:?}\nfindings {findings:?}", target.name(), mk.name());
        }
    }
}

/// From a cold start (no seeds: the first input is empty), a loop shaped like the built-in one
/// with only the structured DKG mutator runs `kind` until a `drand-vs-spec` divergence whose
/// signature contains `pattern`; returns the executions it took, or `None` within `limit`.
#[cfg(any(feature = "pre1318", feature = "pre1343", feature = "short-signature-slice"))]
fn structured_cold_start(kind: diverge_mutators::dkg::DkgKind, pattern: &str, limit: usize) -> Option<usize> {
    use diverge_mutators::dkg::{DkgKind, DkgMutator};
    use rand::Rng;
    let config = DkgConfig { mode: BlsMode::AssumeValid, strict: true };
    let m = DkgMutator::default();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut corpus: Vec<Vec<u8>> = vec![Vec::new()];
    let mut behaviours = std::collections::BTreeSet::new();
    for exec in 1..=limit {
        let mut input = corpus.get(rng.gen_range(0..corpus.len())).cloned().unwrap_or_default();
        m.mutate(kind, &mut input, &mut rng, 4096);
        let o = if kind == DkgKind::Packet { run_dkg_packet_with(&input, &config) } else { run_dkg_sequence_with(&input, &config) };
        let key = match &o {
            DkgOutcome::Diverge(d) if d.known.is_none() && d.signature.contains("drand-vs-spec") && d.signature.contains(pattern) => return Some(exec),
            DkgOutcome::Diverge(d) => d.signature.clone(),
            DkgOutcome::Agree { kinds } | DkgOutcome::Allowed { kinds, .. } => kinds.join(","),
        };
        if behaviours.insert(key) {
            corpus.push(input);
        }
    }
    None
}

/// [`structured_cold_start`] finds `bug`'s divergence within `limit` executions.
#[cfg(any(feature = "pre1318", feature = "pre1343", feature = "short-signature-slice"))]
fn assert_found_from_a_cold_start(bug: &str, kind: diverge_mutators::dkg::DkgKind, pattern: &str, limit: usize) {
    let n = structured_cold_start(kind, pattern, limit);
    eprintln!("{bug}: {n:?} executions");
    assert!(n.is_some(), "{bug}: not found within {limit} executions");
}

#[cfg(feature = "short-signature-slice")]
#[test]
fn structured_finds_short_signature_slice_from_a_cold_start() {
    assert_found_from_a_cold_start("short-signature-slice", diverge_mutators::dkg::DkgKind::Packet, "Crash/PacketSignatureTooShort", 20_000);
}

#[cfg(all(feature = "pre1343", not(feature = "pre1318")))]
#[test]
fn structured_finds_pre1343_from_a_cold_start() {
    assert_found_from_a_cold_start("pre1343", diverge_mutators::dkg::DkgKind::Packet, "Nodes", 20_000);
}

#[cfg(feature = "pre1318")]
#[test]
fn structured_finds_pre1318_from_a_cold_start() {
    assert_found_from_a_cold_start("pre1318", diverge_mutators::dkg::DkgKind::Sequence, "", 50_000);
}
