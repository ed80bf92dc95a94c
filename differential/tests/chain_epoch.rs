//! The whole-`process_epoch` step of `epoch` and the `chain` target (issue 13):
//! - spec's `ProcessEpoch` equals its ten sub-functions applied one by one, and diverge-fast's
//!   fused pass gives the same result, on every minimal pool state;
//! - every `chain` seed agrees, its verdict is the spec's loop of `state_transition` (the
//!   rejecting block's index included), and `diverge replay` in a fresh process gives the same
//!   verdicts as an in-process run;
//! - a chain broken at block k is rejected at block k by both implementations.

use diverge::pool::StatePool;
use diverge::session::{default_corpus_dir, default_pool_dir, Outcome, Session};
use diverge::target::{decode, encode, Target};
use diverge_fast::FastImpl;
use diverge_spec::SpecImpl;
use diverge_types::*;

type E = MinimalSpec;

fn pool() -> StatePool<E> {
    StatePool::<E>::load(&default_pool_dir(Preset::Minimal)).expect("minimal pool")
}

#[test]
fn process_epoch_is_the_steps_in_order_and_fast_fused_pass_agrees_on_every_pool_state() {
    let pool = pool();
    let (mut checked, mut accepted, mut changed) = (0, 0, 0);
    for (id, state) in pool.states.iter().enumerate() {
        let state = state.as_ref().expect("pool state loads").as_ref().expect("pool state present");
        // spec: the whole function ...
        let mut whole = state.clone();
        let whole_result = SpecImpl.apply(&mut whole, &Operation::Epoch(EpochStep::ProcessEpoch), BlsMode::AssumeValid);
        // ... equals the sub-functions one by one, stopping at the first failure.
        let mut steps = state.clone();
        let steps_result = EpochStep::SUB_FUNCTIONS.iter().try_for_each(|s| SpecImpl.apply(&mut steps, &Operation::Epoch(*s), BlsMode::AssumeValid));
        assert_eq!(whole_result, steps_result, "state {id}: verdicts");
        // fast: its fused one-pass epoch processing.
        let mut fs = Phase0Impl::<E>::prepare(&FastImpl, state).expect("fast prepares every pool state");
        let fast_result = FastImpl.apply(&mut fs, &Operation::Epoch(EpochStep::ProcessEpoch), BlsMode::AssumeValid);
        assert_eq!(fast_result, whole_result, "state {id}: fast's verdict");
        if whole_result.is_ok() {
            assert!(whole == steps, "state {id}: process_epoch differs from its steps in order");
            let fast_post = FastImpl.export_owned(fs);
            if let Some(d) = diverge::diff::first_state_difference(&fast_post, &whole) {
                panic!("state {id}: fast's fused pass differs from the spec at {d}");
            }
            changed += usize::from(whole != *state);
            accepted += 1;
        }
        checked += 1;
    }
    assert_eq!(checked, pool.len());
    assert!(accepted * 10 >= checked * 9, "most pool states accept process_epoch: {accepted}/{checked}");
    // Genesis-like states (epoch 0, no attestations) may come out unchanged; most do not.
    assert!(changed * 2 >= accepted, "process_epoch changes most states: {changed}/{accepted}");
    eprintln!("{checked} pool states: {accepted} accepted ({changed} changed), the rest rejected alike");
}

fn chain_seeds() -> Vec<(String, Vec<u8>)> {
    let dir = default_corpus_dir(Preset::Minimal, Target::Chain);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// The spec's loop of `state_transition` over the chain, by hand: (index, reason) of the first
/// rejection, or the post-state.
fn spec_loop(state: &BeaconState<E>, blocks: &[SignedBeaconBlock<E>], validate_result: bool) -> Result<BeaconState<E>, (usize, Reject)> {
    let mut s = state.clone();
    for (i, block) in blocks.iter().enumerate() {
        SpecImpl.apply(&mut s, &Operation::Block { block: block.clone(), validate_result }, BlsMode::AssumeValid).map_err(|r| (i, r))?;
    }
    Ok(s)
}

#[test]
fn chain_seeds_agree_and_are_the_spec_loop_and_replay_identically() {
    let seeds = chain_seeds();
    assert!(seeds.len() >= 40, "one seed per sanity/blocks case: {}", seeds.len());
    let pool = pool();
    let session = Session::new(Preset::Minimal, &default_pool_dir(Preset::Minimal), Default::default()).unwrap();
    let (mut multi, mut rejected) = (0, 0);
    for (name, bytes) in &seeds {
        let d = decode::<E>(Target::Chain, bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let Operation::Chain { blocks, validate_result } = &d.operation else { panic!("{name}: not a chain") };
        multi += usize::from(blocks.len() > 1);
        let state = pool.states.get(pool.select(d.selector)).unwrap().as_ref().unwrap().as_ref().unwrap();
        let expected = spec_loop(state, blocks, *validate_result);
        let Outcome::Agreed { verdicts, .. } = session.run(Target::Chain, bytes) else { panic!("{name}: the implementations disagree") };
        for v in &verdicts {
            match &expected {
                Ok(post) => {
                    assert_eq!(v.kind, "valid", "{name}: {}", v.implementation);
                    assert_eq!(v.post_root.as_deref(), Some(format!("{:#x}", post.tree_hash_root()).as_str()), "{name}");
                }
                Err((i, r)) => {
                    assert_eq!((v.kind.as_str(), v.rejected_block, v.reason.as_deref()), ("invalid", Some(*i), Some(r.name())), "{name}: {}", v.implementation);
                }
            }
        }
        rejected += usize::from(expected.is_err());
        // A fresh process gives the same verdicts.
        let path = default_corpus_dir(Preset::Minimal, Target::Chain).join(name);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_diverge"))
            .args(["replay", path.to_str().unwrap(), "--target", "chain", "--json"])
            .output()
            .expect("run diverge replay");
        let replayed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name}: {e}; {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(replayed["verdicts"], serde_json::to_value(&verdicts).unwrap(), "{name}: replay");
    }
    assert!(multi >= 6, "the multi-block cases are in: {multi}");
    assert!(rejected >= 1, "some case's chain is refused (parent_from_same_slot)");
}

#[test]
fn a_chain_broken_at_block_k_is_rejected_at_block_k() {
    let (_, bytes) = chain_seeds().into_iter().find(|(n, _)| n == "eth1_data_votes_consensus.bin").expect("an 8-block seed");
    let d = decode::<E>(Target::Chain, &bytes).unwrap();
    let Operation::Chain { blocks, .. } = d.operation else { panic!() };
    assert_eq!(blocks.len(), MAX_CHAIN_BLOCKS);
    let session = Session::new(Preset::Minimal, &default_pool_dir(Preset::Minimal), Default::default()).unwrap();
    for k in [0, 3, 7] {
        let mut broken = blocks.clone();
        broken[k].message.state_root = Root::repeat_byte(0x42);
        let (_, input) = encode(d.selector, &Operation::Chain { blocks: broken.clone(), validate_result: true });
        let Outcome::Agreed { verdicts, .. } = session.run(Target::Chain, &input) else { panic!("block {k}: disagreement") };
        for v in verdicts {
            assert_eq!((v.kind.as_str(), v.rejected_block, v.reason.as_deref()), ("invalid", Some(k), Some("StateRootMismatch")), "block {k}");
        }
        // Without validate_result the state root is not checked: the chain is accepted.
        let (_, input) = encode(d.selector, &Operation::Chain { blocks: broken, validate_result: false });
        let Outcome::Agreed { verdicts, .. } = session.run(Target::Chain, &input) else { panic!("block {k}: disagreement") };
        assert!(verdicts.iter().all(|v| v.kind == "valid"), "block {k}: {verdicts:?}");
    }
}
