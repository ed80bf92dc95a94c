//! The structured mutators (`diverge-mutators`) against both implementations on the shipped
//! minimal pool: generated inputs are accepted by spec and fast alike, and the loop's mutator in
//! `structured` mode keeps a useful share of its mutants valid and nearly all decodable.
#![allow(clippy::unwrap_used, reason = "test code")]

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
