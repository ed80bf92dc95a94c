//! No panic on crafted states: vector pre-states with edge values (u64::MAX effective balances,
//! slot and epochs at the top of the range, unsatisfiable finality, pending attestations with
//! huge or empty fields, no active validator, mismatched balances, full lists) through every
//! epoch step, slot processing and the vectors' own operations, both presets. Any typed verdict
//! is fine; a panic fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects, reason = "test code")]

use diverge_fast::FastImpl;
use diverge_types::ssz_types::{BitList, VariableList};
use diverge_types::*;
use std::path::Path;

mod common;
use common::{read, tests_dir};

type Mutation<E> = fn(&mut BeaconState<E>);

fn mutations<E: EthSpec>() -> Vec<(&'static str, Mutation<E>)> {
    vec![
        ("max effective balances", |s| s.validators.iter_mut().for_each(|v| v.effective_balance = u64::MAX)),
        ("max balances", |s| s.balances.iter_mut().for_each(|b| *b = u64::MAX)),
        ("slot near max", |s| s.slot = u64::MAX - 2),
        ("finalized in the future", |s| s.finalized_checkpoint.epoch = u64::MAX),
        ("no active validator", |s| s.validators.iter_mut().for_each(|v| v.exit_epoch = 0)),
        ("activation at max", |s| s.validators.iter_mut().for_each(|v| { v.activation_epoch = u64::MAX; v.activation_eligibility_epoch = 0; })),
        ("withdrawable at max, slashed", |s| s.validators.iter_mut().for_each(|v| { v.slashed = true; v.withdrawable_epoch = u64::MAX; })),
        ("exit epochs at max-1", |s| s.validators.iter_mut().for_each(|v| v.exit_epoch = u64::MAX - 1)),
        ("balances shorter", |s| { let mut b = s.balances.to_vec(); b.truncate(b.len() / 2); s.balances = VariableList::new(b).unwrap().into(); }),
        ("slashings max", |s| s.slashings.iter_mut().for_each(|x| *x = u64::MAX)),
        ("pending: huge fields", |s| {
            let mut v = s.previous_epoch_attestations.to_vec();
            v.extend(s.current_epoch_attestations.iter().cloned());
            for a in &mut v {
                a.data.index = u64::MAX;
                a.data.slot = u64::MAX;
                a.inclusion_delay = 0;
                a.proposer_index = u64::MAX;
            }
            s.previous_epoch_attestations = VariableList::new(v.clone()).unwrap_or_default().into();
            s.current_epoch_attestations = VariableList::new(v).unwrap_or_default().into();
        }),
        ("pending: empty bits, zero delay", |s| {
            let mut v = s.previous_epoch_attestations.to_vec();
            for a in &mut v {
                a.aggregation_bits = BitList::with_capacity(0).unwrap();
                a.inclusion_delay = 0;
            }
            s.previous_epoch_attestations = VariableList::new(v).unwrap().into();
        }),
        ("pending: out-of-range proposer", |s| {
            let mut v = s.previous_epoch_attestations.to_vec();
            for a in &mut v {
                a.proposer_index = 1 << 40;
            }
            s.previous_epoch_attestations = VariableList::new(v).unwrap().into();
        }),
        ("full eth1 votes", |s| {
            let n = E::EPOCHS_PER_ETH1_VOTING_PERIOD * E::SLOTS_PER_EPOCH;
            s.eth1_data_votes = VariableList::new(vec![Eth1Data::default(); n as usize]).unwrap().into();
        }),
        ("deposit count below index", |s| { s.eth1_deposit_index = u64::MAX; s.eth1_data.deposit_count = 0; }),
        ("latest header slot max", |s| s.latest_block_header.slot = u64::MAX),
    ]
}

fn ops_of<E: EthSpec>(dir: &Path) -> Vec<Operation<E>> {
    let mut ops: Vec<Operation<E>> = EpochStep::ALL.iter().map(|s| Operation::Epoch(*s)).collect();
    ops.extend([Operation::Slots(1), Operation::Slots(E::SLOTS_PER_EPOCH), Operation::Slots(0), Operation::Slots(10_000)]);
    for i in 0..4 {
        if let Some(block) = read::<SignedBeaconBlock<E>>(&dir.join(format!("blocks_{i}.ssz_snappy"))) {
            ops.push(Operation::BlockHeader(block.message.clone()));
            ops.push(Operation::Block { block, validate_result: true });
        }
    }
    if let Some(a) = read(&dir.join("attestation.ssz_snappy")) {
        ops.push(Operation::Attestation(a));
    }
    if let Some(a) = read(&dir.join("attester_slashing.ssz_snappy")) {
        ops.push(Operation::AttesterSlashing(a));
    }
    if let Some(a) = read(&dir.join("proposer_slashing.ssz_snappy")) {
        ops.push(Operation::ProposerSlashing(a));
    }
    if let Some(a) = read(&dir.join("deposit.ssz_snappy")) {
        ops.push(Operation::Deposit(a));
    }
    if let Some(a) = read(&dir.join("voluntary_exit.ssz_snappy")) {
        ops.push(Operation::VoluntaryExit(a));
    }
    ops
}

fn run<E: EthSpec>(root: &Path) -> usize {
    let imp = FastImpl;
    let base = root.join(E::PRESET_BASE).join("phase0");
    let cases = [
        "sanity/blocks/pyspec_tests/full_random_operations_0",
        "sanity/blocks/pyspec_tests/attester_slashing",
        "sanity/blocks/pyspec_tests/deposit_in_block",
        "operations/attestation/pyspec_tests/success_previous_epoch",
        "operations/attester_slashing/pyspec_tests/success_surround",
        "operations/proposer_slashing/pyspec_tests/success",
        "operations/deposit/pyspec_tests/new_deposit_max",
        "operations/voluntary_exit/pyspec_tests/success",
        "epoch_processing/rewards_and_penalties/pyspec_tests/full_attestations_random_incorrect_fields",
        "epoch_processing/justification_and_finalization/pyspec_tests/123_ok_support",
    ];
    // Real BLS on the minimal preset only (keeps the test short); mainnet runs assume-valid.
    let modes: &[BlsMode] = if E::PRESET_BASE == "minimal" { &[BlsMode::AssumeValid, BlsMode::Real] } else { &[BlsMode::AssumeValid] };
    let mut runs = 0;
    for case in cases {
        let dir = base.join(case);
        let Some(pre) = read::<BeaconState<E>>(&dir.join("pre.ssz_snappy")) else { continue };
        let ops = ops_of::<E>(&dir);
        for (name, m) in mutations::<E>() {
            let mut crafted = pre.clone();
            m(&mut crafted);
            let Ok(prepared) = Phase0Impl::<E>::prepare(&imp, &crafted) else { continue };
            let _ = Phase0Impl::<E>::get_rewards_deltas(&imp, &prepared);
            for op in &ops {
                for &bls in modes {
                    let mut s = prepared.clone();
                    let r = imp.apply(&mut s, op, bls);
                    let _ = (name, r);
                    let _ = Phase0Impl::<E>::export(&imp, &s);
                    runs += 1;
                }
            }
        }
    }
    runs
}

#[test]
fn crafted_states_never_panic() {
    let root = tests_dir();
    assert!(run::<MinimalSpec>(&root) > 1000);
    assert!(run::<MainnetSpec>(&root) > 500);
}
