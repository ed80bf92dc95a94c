//! The `deposit` and `block` generators and the crafted pool states on the shipped minimal pool
//! (`corpora/states/minimal`): crafted deposit states commit to the generator's tree, generated
//! deposits and blocks are accepted by the spec implementation at the rates the fuzz campaigns
//! measure, and the threshold states sit one step below and at their thresholds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::panic, reason = "test code")]

use diverge_mutators::deposit::{is_valid_merkle_branch, DepositTree, LeafKind};
use diverge_mutators::generate::{split, Op};
use diverge_mutators::{Config, Kind, PoolView, Structured};
use diverge_spec::SpecImpl;
use diverge_types::{BeaconState, BlsMode, EpochStep, Operation, Phase0Impl, TreeHash};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

mod common;
use common::{pool_with_sources as pool, E};


fn crafted<'a>(pool: &'a [(String, BeaconState<E>)], name: &str) -> &'a BeaconState<E> {
    let prefix = format!("crafted:{name} from ");
    &pool.iter().find(|(s, _)| s.starts_with(&prefix)).unwrap_or_else(|| panic!("{name} is in the pool (diverge corpus build)")).1
}

#[test]
fn spec_test_keys_are_the_pool_registry() {
    let pool = pool();
    let state = crafted(&pool, "deposit-tree-16-at-0");
    for i in [0u64, 1, 7, state.validators.len() as u64 - 1] {
        assert_eq!(diverge_mutators::deposit::spec_pubkey(i).unwrap(), state.validators[i as usize].pubkey, "key {i}");
    }
}

#[test]
fn crafted_deposit_states_commit_to_the_generators_tree() {
    let pool = pool();
    let mut seen = 0;
    for (source, state) in &pool {
        if !source.starts_with("crafted:deposit-tree-") && !source.starts_with("crafted:eth1-votes-") {
            // No other pool state carries the marker.
            assert!(PoolView::new(state).deposit_tree().is_none(), "{source}");
            continue;
        }
        let view = PoolView::new(state);
        let tree = view.deposit_tree().unwrap_or_else(|| panic!("{source}: the generator does not know the tree"));
        assert_eq!(tree.root, state.eth1_data.deposit_root, "{source}");
        assert_eq!(tree.leaves.len() as u64, state.eth1_data.deposit_count, "{source}");
        // Recomputed from the registry alone, and every leaf's proof checks.
        assert_eq!(DepositTree::for_registry::<E>(&state.validators, state.eth1_data.deposit_count).unwrap().root, tree.root);
        for i in 0..state.eth1_data.deposit_count {
            let d = tree.deposit(i).unwrap();
            assert!(is_valid_merkle_branch(&d.data.tree_hash_root(), &d.proof, 33, i, &tree.root), "{source} leaf {i}");
            assert!(!is_valid_merkle_branch(&d.data.tree_hash_root(), &d.proof, 33, i ^ 1, &tree.root), "{source} leaf {i} at {}", i ^ 1);
        }
        seen += 1;
    }
    assert_eq!(seen, 19, "15 deposit-tree states (9 of 16 leaves, 6 longer) and 4 eth1-vote states");
}

/// Applies `input` (a framed input of `kind`) with the spec implementation on its pool state.
fn accepted(kind: Kind, input: &[u8], states: &[BeaconState<E>]) -> (bool, Operation<E>) {
    let (sel, body) = split(input).unwrap();
    let op = match Op::<E>::decode(kind, body).unwrap() {
        Op::Deposit(d) => Operation::Deposit(d),
        Op::Block(b) => Operation::Block { block: b.block, validate_result: b.flags & 1 == 1 },
        _ => panic!("not a deposit or block"),
    };
    let mut state = states[usize::from(sel) % states.len()].clone();
    (SpecImpl.apply(&mut state, &op, BlsMode::AssumeValid).is_ok(), op)
}

/// The pool's states, their views, and a mutator that always generates and never perturbs.
fn always_valid_generator() -> (Vec<BeaconState<E>>, Vec<PoolView<E>>, Structured<E>) {
    let states: Vec<BeaconState<E>> = pool().into_iter().map(|(_, s)| s).collect();
    let views = states.iter().map(PoolView::new).collect();
    (states, views, Structured::<E>::new(Config { generate: 1.0, valid: 1.0, ..Config::default() }))
}

#[test]
fn generated_deposits_are_accepted() {
    let (states, views, m) = always_valid_generator();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut ok, n) = (0, 400);
    for _ in 0..n {
        let input = m.generate(Kind::Deposit, &views, &mut rng).unwrap();
        let (sel, _) = split(&input).unwrap();
        let (acc, _) = accepted(Kind::Deposit, &input, &states);
        let index = states[usize::from(sel) % states.len()].eth1_deposit_index;
        // Only the u64::MAX top-up (an increase_balance overflow) is rejected.
        assert_eq!(acc, diverge_mutators::deposit::leaf_kind(index) != LeafKind::TopUpOverflow, "deposit at {index}");
        ok += usize::from(acc);
    }
    println!("deposit: {ok}/{n} accepted by spec");
    assert!(ok * 100 >= n * 70, "{ok}/{n}");
}

/// Generated blocks (always valid, never perturbed) are accepted by the spec implementation,
/// except where the generator knowingly cannot be exact, each rejection checked against its
/// cause: a block whose required deposits include the tree's `u64::MAX` top-up
/// ([`LeafKind::TopUpOverflow`]: `increase_balance` overflows, `ArithmeticOverflow`), and a block
/// in a later epoch than its state whose proposer the epoch transition moved (`PoolView::proposer_at`
/// is exact only while no effective balance changes: `ProposerIndexMismatch`), and an attestation
/// on a state whose pending-attestation list is full (`ListFull`). Any other
/// rejection is a generator bug and fails the test.
#[test]
fn generated_blocks_with_operations_are_accepted() {
    let (states, views, m) = always_valid_generator();
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (mut ok, mut with_ops, mut with_deposits, mut explained, mut full, n) = (0, 0, 0, 0, 0, 300);
    let spec = SpecImpl;
    for i in 0..n {
        let input = m.generate(Kind::Block, &views, &mut rng).unwrap();
        let (sel, _) = split(&input).unwrap();
        let state = &states[usize::from(sel) % states.len()];
        let (_, op) = accepted(Kind::Block, &input, &states);
        let mut post = state.clone();
        let verdict = spec.apply(&mut post, &op, BlsMode::AssumeValid);
        let Operation::Block { block, .. } = op else { panic!("not a block") };
        let b = &block.message.body;
        match verdict {
            Ok(()) => {
                ok += 1;
                let ops = b.attestations.len() + b.deposits.len() + b.proposer_slashings.len() + b.attester_slashings.len() + b.voluntary_exits.len();
                with_ops += usize::from(ops > 0);
                with_deposits += usize::from(!b.deposits.is_empty());
                // A full block (mutators/src/block.rs FULL_BLOCK): MAX_ATTESTATIONS attestations
                // and MAX_PROPOSER_SLASHINGS proposer slashings, accepted.
                full += usize::from(b.attestations.len() == 128 && b.proposer_slashings.len() == 16);
            }
            Err(diverge_types::Reject::ArithmeticOverflow) if b.deposits.iter().any(|d| d.data.amount == u64::MAX) => explained += 1,
            Err(diverge_types::Reject::ProposerIndexMismatch) if block.message.slot / 8 > state.slot / 8 => explained += 1,
            // The crafted full pending-attestation lists: one more attestation overflows them.
            Err(diverge_types::Reject::ListFull) if state.previous_epoch_attestations.len() == 1024 || state.current_epoch_attestations.len() == 1024 => explained += 1,
            Err(reason) => panic!("draw {i}: a generated block on state {} (slot {}, block slot {}) is rejected: {reason:?}", usize::from(sel) % states.len(), state.slot, block.message.slot),
        }
    }
    println!("block: {ok}/{n} accepted by spec, {with_ops} with at least one operation, {with_deposits} with deposits, {full} full, {explained} rejected for a known cause");
    assert_eq!(ok + explained, n);
    assert!(ok * 100 >= n * 90, "{ok}/{n} accepted");
    assert!(with_ops * 100 >= n * 80, "{with_ops}/{n} accepted with an operation");
    assert!(with_deposits > 0);
    assert!(full > 0, "no accepted block with the maximum of attestations and proposer slashings");
}

#[test]
fn threshold_states_sit_below_and_at_their_thresholds() {
    let pool = pool();
    let spec = SpecImpl;
    // Justification: the previous epoch is justified at 2/3, not one increment below.
    for (name, justified) in [("justification-at-two-thirds", true), ("justification-one-increment-below", false)] {
        let mut s = crafted(&pool, name).clone();
        let previous = s.slot / 8 - 1;
        spec.apply(&mut s, &Operation::Epoch(EpochStep::JustificationAndFinalization), BlsMode::AssumeValid).unwrap();
        assert_eq!(s.current_justified_checkpoint.epoch == previous, justified, "{name}");
    }
    // Exit churn: one short, the next exit takes the queue epoch; full, the one after.
    for (name, delay) in [("exit-churn-one-short", 0u64), ("exit-churn-full", 1)] {
        let state = crafted(&pool, name);
        let view = PoolView::new(state);
        let v = view.exitable()[0];
        let mut s = state.clone();
        let exit = diverge_types::SignedVoluntaryExit { message: diverge_types::VoluntaryExit { epoch: view.current_epoch(), validator_index: v }, signature: Default::default() };
        spec.apply(&mut s, &Operation::VoluntaryExit(exit), BlsMode::AssumeValid).unwrap();
        assert_eq!(s.validators[v as usize].exit_epoch, view.current_epoch() + 5 + delay, "{name}");
    }
    // Slashings: below the cap the penalty is smaller; at and above it is the same (capped).
    let penalty = |name: &str| {
        let mut s = crafted(&pool, name).clone();
        let before: u64 = s.balances.iter().sum();
        spec.apply(&mut s, &Operation::Epoch(EpochStep::Slashings), BlsMode::AssumeValid).unwrap();
        before - s.balances.iter().sum::<u64>()
    };
    let (below, at, above) = (penalty("slashings-below-cap"), penalty("slashings-at-cap"), penalty("slashings-above-cap"));
    assert!(below < at && at == above && below > 0, "penalties {below} {at} {above}");
    // Eth1 votes: one short, a vote for the leading data is a majority (the block must carry
    // the 4 deposits of the new tree); two short, it is not.
    for (name, flips) in [("eth1-votes-one-short", true), ("eth1-votes-two-short", false)] {
        let state = crafted(&pool, name);
        let vote = state.eth1_data_votes[0].clone();
        let period = 32;
        let votes = state.eth1_data_votes.iter().filter(|v| **v == vote).count() as u64;
        assert_eq!((votes + 1) * 2 > period, flips, "{name}");
        let view = PoolView::new(state);
        assert_eq!(view.known_tree(&vote).unwrap().leaves.len(), 4, "{name}");
    }
}
