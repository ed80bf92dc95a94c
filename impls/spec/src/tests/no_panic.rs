//! Crafted-state robustness: vector pre-states with fields set to edge values, run through every
//! operation kind and epoch step. Every outcome is `Ok` or a typed `Err`; the test fails on a panic
//! (the lints rule out most) or a hang.
use super::{read_ssz, vectors_dir};
use crate::SpecImpl;
use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::*;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn edge(&mut self, around: u64) -> u64 {
        match self.below(8) {
            0 => 0,
            1 => 1,
            2 => around,
            3 => around.wrapping_add(1),
            4 => around.wrapping_sub(1),
            5 => FAR_FUTURE_EPOCH,
            6 => FAR_FUTURE_EPOCH - 1,
            _ => self.next(),
        }
    }
}

fn mutate<E: EthSpec>(state: &mut BeaconState<E>, rng: &mut Rng) {
    let epoch = state.slot / E::SLOTS_PER_EPOCH;
    let n = state.validators.len() as u64;
    for _ in 0..1 + rng.below(6) {
        match rng.below(14) {
            0 => {
                let i = rng.below(n) as usize;
                state.validators[i].activation_epoch = rng.edge(epoch);
            }
            1 => {
                let i = rng.below(n) as usize;
                state.validators[i].exit_epoch = rng.edge(epoch);
            }
            2 => {
                let i = rng.below(n) as usize;
                state.validators[i].withdrawable_epoch = rng.edge(epoch + 32);
            }
            3 => {
                let i = rng.below(n) as usize;
                state.validators[i].effective_balance = rng.edge(E::MAX_EFFECTIVE_BALANCE);
            }
            4 => {
                let i = rng.below(n) as usize;
                let v = rng.edge(E::MAX_EFFECTIVE_BALANCE);
                if let Some(b) = state.balances.get_mut(i) {
                    *b = v;
                }
            }
            5 => {
                let i = rng.below(n) as usize;
                state.validators[i].slashed ^= true;
            }
            6 => state.finalized_checkpoint.epoch = rng.edge(epoch),
            7 => {
                let i = rng.below(E::EPOCHS_PER_SLASHINGS_VECTOR) as usize;
                state.slashings[i] = rng.edge(E::MAX_EFFECTIVE_BALANCE);
            }
            8 => state.eth1_deposit_index = rng.edge(state.eth1_data.deposit_count),
            9 => state.slot = rng.edge(state.slot) % (1 << 40),
            10..=12 => {
                let list = if rng.below(2) == 0 {
                    &mut state.previous_epoch_attestations
                } else {
                    &mut state.current_epoch_attestations
                };
                if list.is_empty() {
                    continue;
                }
                let i = rng.below(list.len() as u64) as usize;
                let a = &mut list[i];
                match rng.below(6) {
                    0 => a.data.index = rng.edge(1),
                    1 => a.data.slot = rng.edge(a.data.slot),
                    2 => a.inclusion_delay = rng.edge(1),
                    3 => a.proposer_index = rng.edge(n),
                    4 => {
                        let len = rng.below(8) as usize;
                        a.aggregation_bits = diverge_types::ssz_types::BitList::with_capacity(len).unwrap();
                    }
                    _ => a.data.target.epoch = rng.edge(epoch),
                }
            }
            _ => {
                let truncate = (rng.below(n) as usize).min(state.balances.len());
                state.balances = diverge_types::ssz_types::VariableList::new(state.balances[..truncate].to_vec()).unwrap();
            }
        }
    }
}

fn run<E: EthSpec>(iterations: u64) -> (usize, usize) {
    let Some(dir) = vectors_dir() else { return (0, 0) };
    let base = dir.join(E::PRESET_BASE).join("phase0/sanity/blocks/pyspec_tests");
    let cases = ["attestation", "attester_slashing", "proposer_slashing", "voluntary_exit", "deposit_in_block", "historical_batch"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut err) = (0, 0);
    for case in cases {
        let case = base.join(case);
        let pre: BeaconState<E> = read_ssz(&case.join("pre.ssz_snappy"));
        let block: SignedBeaconBlock<E> = read_ssz(&case.join("blocks_0.ssz_snappy"));
        let mut ops: Vec<Operation<E>> = EpochStep::ALL.iter().map(|s| Operation::Epoch(*s)).collect();
        ops.push(Operation::Slots(1));
        ops.push(Operation::Slots(E::SLOTS_PER_EPOCH));
        ops.push(Operation::Block { block: block.clone(), validate_result: false });
        ops.push(Operation::BlockHeader(block.message.clone()));
        let body = &block.message.body;
        ops.extend(body.attestations.iter().cloned().map(Operation::Attestation));
        ops.extend(body.attester_slashings.iter().cloned().map(Operation::AttesterSlashing));
        ops.extend(body.proposer_slashings.iter().cloned().map(Operation::ProposerSlashing));
        ops.extend(body.deposits.iter().cloned().map(Operation::Deposit));
        ops.extend(body.voluntary_exits.iter().cloned().map(Operation::VoluntaryExit));
        for _ in 0..iterations {
            let mut state = pre.clone();
            mutate(&mut state, &mut rng);
            for op in &ops {
                let mut s = state.clone();
                match Phase0Impl::<E>::apply(&SpecImpl, &mut s, op, BlsMode::AssumeValid) {
                    Ok(()) => ok += 1,
                    Err(_) => err += 1,
                }
            }
            match Phase0Impl::<E>::get_rewards_deltas(&SpecImpl, &state) {
                Ok(_) => ok += 1,
                Err(_) => err += 1,
            }
        }
    }
    (ok, err)
}

#[test]
fn crafted_minimal_states_never_panic() {
    let (ok, err) = run::<MinimalSpec>(40);
    eprintln!("minimal: {ok} accepted, {err} rejected");
}

#[test]
fn crafted_mainnet_states_never_panic() {
    let (ok, err) = run::<MainnetSpec>(3);
    eprintln!("mainnet: {ok} accepted, {err} rejected");
}
