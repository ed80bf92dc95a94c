//! The structured mutators (`diverge-mutators`) against both implementations on the shipped
//! minimal pool: generated inputs are accepted by spec and fast alike, and the loop's mutator in
//! `structured` mode keeps a useful share of its mutants valid and nearly all decodable.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use diverge::fuzz::mutate::Mutator;
use diverge::fuzz::structured::{MutatorKind, PoolMutator};
use diverge::runner::RunnerConfig;
use diverge::session::{default_pool_dir, Outcome, Session};
use diverge::target::Target;
use diverge_mutators::{Config, Kind, PoolView, Structured};
use diverge_types::{BeaconState, MinimalSpec, Preset};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const TARGETS: &[Target] = &[Target::Attestation, Target::AttesterSlashing, Target::ProposerSlashing, Target::VoluntaryExit, Target::BlockHeader];

/// (valid, undecodable, diverged) counts of `inputs` on `session`.
fn judge(session: &Session, target: Target, inputs: &[Vec<u8>]) -> (usize, usize, usize) {
    let (mut valid, mut undecodable, mut diverged) = (0, 0, 0);
    for input in inputs {
        match session.run(target, input) {
            Outcome::Agreed { verdicts, .. } if verdicts.iter().all(|v| v.kind == "valid") => valid += 1,
            Outcome::Undecodable(_) => undecodable += 1,
            Outcome::Diverged { .. } => diverged += 1,
            _ => {}
        }
    }
    (valid, undecodable, diverged)
}

#[test]
fn generated_and_mutated_inputs_are_valid_for_both_implementations() {
    let pool = default_pool_dir(Preset::Minimal);
    let session = Session::new(Preset::Minimal, &pool, RunnerConfig::default()).unwrap();
    let states = diverge::pool::StatePool::<MinimalSpec>::load(&pool).unwrap();
    let views: Vec<PoolView<MinimalSpec>> = states.states.iter().map(|s| PoolView::new(s.as_ref().unwrap().as_ref().unwrap() as &BeaconState<MinimalSpec>)).collect();
    let generator = Structured::<MinimalSpec>::new(Config::default());
    let mutator = PoolMutator::new(MutatorKind::Structured, Preset::Minimal, &pool).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    const N: usize = 2_000;
    for &target in TARGETS {
        let kind = Kind::from_name(target.name()).unwrap();
        // Valid by construction (assume-valid signatures): every implementation accepts them.
        let generated: Vec<Vec<u8>> = (0..N).map(|_| generator.generate(kind, &views, &mut rng).unwrap()).collect();
        let (valid, undecodable, diverged) = judge(&session, target, &generated);
        println!("{target}: generated {valid}/{N} valid, {undecodable} undecodable, {diverged} diverged");
        assert_eq!(undecodable, 0, "{target}");
        assert!(valid * 100 >= N * 95, "{target}: {valid} of {N} generated inputs valid");
        // The loop's mutator, structured mode, one mutation of a generated input (a corpus of
        // valid inputs, as after the seeds): most mutants decode, a useful share stays valid.
        let mutants: Vec<Vec<u8>> = generated
            .iter()
            .map(|g| {
                let mut m = g.clone();
                mutator.mutate(target, &mut m, &[], &mut rng, 1 << 16);
                m
            })
            .collect();
        let (valid, undecodable, diverged) = judge(&session, target, &mutants);
        println!("{target}: mutants {valid}/{N} valid, {undecodable} undecodable, {diverged} diverged");
        assert!(undecodable * 100 <= N * 12, "{target}: {undecodable} of {N} mutants undecodable");
        assert!(valid * 100 >= N * 20, "{target}: {valid} of {N} mutants valid");
    }
}

/// The loop itself with each mutator from a cold start (no seeds, the pool only) on
/// `attestation`: structured reaches valid executions and more reject reasons than havoc, and the
/// report carries both figures.
#[test]
fn loop_reports_valid_share_and_reject_reasons_per_mutator() {
    use diverge::fuzz::{self, FuzzConfig, TargetState};
    let pool = default_pool_dir(Preset::Minimal);
    let session = Session::new(Preset::Minimal, &pool, RunnerConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for kind in [MutatorKind::Havoc, MutatorKind::Structured, MutatorKind::Mixed] {
        let mutator = PoolMutator::new(kind, Preset::Minimal, &pool).unwrap();
        let config = FuzzConfig {
            targets: vec![],
            duration: None,
            max_execs: Some(20_000),
            jobs: 1,
            seed: 3,
            store: diverge::findings::FindingStore { root: dir.path().to_path_buf() },
            save_corpus: None,
            engine: "test".into(),
        };
        let states = vec![TargetState::new(Target::Attestation, Vec::new())];
        let elapsed = fuzz::fuzz(&config, &session, &mutator, &states, &std::sync::atomic::AtomicBool::new(false), &|_| {}).unwrap();
        let r = states[0].report("minimal", elapsed);
        println!("{}: {} execs, {} valid, {} undecodable, reasons {:?}", kind.name(), r.execs, r.valid, r.undecodable, r.reject_reasons);
        assert_eq!(r.execs, 20_000);
        assert_eq!(r.reject_reasons.len(), diverge::registry::implementation_names().len());
        results.push(r);
    }
    let (havoc, structured) = (&results[0], &results[1]);
    assert!(structured.valid * 5 >= structured.execs, "structured: {} of {} valid", structured.valid, structured.execs);
    assert!(structured.valid > havoc.valid);
    let reasons = |r: &diverge::fuzz::TargetReport| r.reject_reasons.values().copied().min().unwrap_or(0);
    assert!(reasons(structured) > reasons(havoc), "reasons: structured {:?}, havoc {:?}", structured.reject_reasons, havoc.reject_reasons);
}

/// The DKG targets report like the phase0 ones (issue 13 item 6): the valid share (every step of
/// both implementations `Ok`) and the distinct drand error kinds reached per implementation
/// (`drand`, `spec`), from the structured DKG mutator on a cold start; every name reported is one
/// of `DkgError::KINDS` or `Crash`.
#[test]
fn loop_reports_dkg_valid_share_and_error_kinds() {
    use diverge::fuzz::{self, FuzzConfig, TargetState};
    let pool = default_pool_dir(Preset::Minimal);
    let session = Session::new(Preset::Minimal, &pool, RunnerConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mutator = PoolMutator::without_pool(MutatorKind::Structured);
    for target in [Target::DkgPacket, Target::DkgSequence] {
        let config = FuzzConfig {
            targets: vec![],
            duration: None,
            max_execs: Some(5_000),
            jobs: 1,
            seed: 3,
            store: diverge::findings::FindingStore { root: dir.path().to_path_buf() },
            save_corpus: None,
            engine: "test".into(),
        };
        let states = vec![TargetState::new(target, Vec::new())];
        let elapsed = fuzz::fuzz(&config, &session, &mutator, &states, &std::sync::atomic::AtomicBool::new(false), &|_| {}).unwrap();
        let r = states[0].report("minimal", elapsed);
        println!("{target}: {} execs, {} valid, reasons {:?}", r.execs, r.valid, r.reject_reasons_reached);
        assert_eq!(r.reject_reasons.keys().map(String::as_str).collect::<Vec<_>>(), ["drand", "spec"], "{target}");
        assert!(r.valid > 0, "{target}: no valid execution in {}", r.execs);
        for (imp, reached) in &r.reject_reasons_reached {
            assert!(reached.len() >= 5, "{target}: {imp} reached {reached:?}");
            assert!(reached.iter().all(|k| k == "Crash" || dkg_types::error::DkgError::KINDS.contains(&k.as_str())), "{reached:?}");
        }
    }
}

/// `deposit` and `block` (issue 13 item 2): generated inputs on the minimal pool, judged by spec
/// and fast. Deposits: every leaf kind but the `u64::MAX` top-up (an `increase_balance`
/// overflow both reject) is accepted; blocks: generated chain extensions, most with operations.
#[test]
fn generated_deposits_and_blocks_are_valid_for_both_implementations() {
    let pool = default_pool_dir(Preset::Minimal);
    let session = Session::new(Preset::Minimal, &pool, RunnerConfig::default()).unwrap();
    let states = diverge::pool::StatePool::<MinimalSpec>::load(&pool).unwrap();
    let views: Vec<PoolView<MinimalSpec>> = states.states.iter().map(|s| PoolView::new(s.as_ref().unwrap().as_ref().unwrap() as &BeaconState<MinimalSpec>)).collect();
    let generator = Structured::<MinimalSpec>::new(Config::default());
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    const N: usize = 1_000;
    for target in [Target::Deposit, Target::Block] {
        let kind = Kind::from_name(target.name()).unwrap();
        let generated: Vec<Vec<u8>> = (0..N).map(|_| generator.generate(kind, &views, &mut rng).unwrap()).collect();
        let (valid, undecodable, diverged) = judge(&session, target, &generated);
        println!("{target}: generated {valid}/{N} valid, {undecodable} undecodable, {diverged} diverged");
        assert_eq!((undecodable, diverged), (0, 0), "{target}");
        assert!(valid * 100 >= N * 80, "{target}: {valid} of {N} generated inputs valid");
    }
}
