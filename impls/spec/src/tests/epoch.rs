use super::synthetic_state;
use crate::epoch_processing::process_justification_and_finalization::weigh_justification_and_finalization;
use crate::epoch_processing::process_rewards_and_penalties::*;
use crate::epoch_processing::*;
use crate::helpers::mutators::initiate_validator_exit;
use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::*;

const ETH: u64 = 1_000_000_000;

/// 64 validators of 32 ETH: total 2048 ETH, isqrt(2_048_000_000_000) = 1_431_083,
/// base reward = 32e9 * 64 // 1_431_083 // 4 = 357_771, proposer reward = 44_721.
#[test]
fn inactivity_leak_penalties() {
    // Epoch 10, finalized epoch 0: previous epoch 9, finality delay 9 > 4: leaking. Nobody attested.
    let state = synthetic_state(64, 80);
    assert_eq!(get_finality_delay(&state), Ok(9));
    assert_eq!(is_in_inactivity_leak(&state), Ok(true));
    assert_eq!(get_base_reward(&state, 0), Ok(357_771));
    assert_eq!(get_proposer_reward(&state, 0), Ok(44_721));

    for (rewards, penalties) in [get_source_deltas(&state).unwrap(), get_target_deltas(&state).unwrap(), get_head_deltas(&state).unwrap()] {
        assert_eq!(rewards, vec![0; 64]);
        assert_eq!(penalties, vec![357_771; 64]);
    }
    assert_eq!(get_inclusion_delay_deltas(&state).unwrap(), (vec![0; 64], vec![0; 64]));
    // 4 * base - proposer reward, plus effective_balance * finality_delay // INACTIVITY_PENALTY_QUOTIENT
    // = 1_386_363 + 32e9 * 9 // 33_554_432 (= 8_583).
    let (rewards, penalties) = get_inactivity_penalty_deltas(&state).unwrap();
    assert_eq!(rewards, vec![0; 64]);
    assert_eq!(penalties, vec![1_394_946; 64]);

    // Applied: 3 * base + inactivity penalty leaves each balance.
    let mut applied = state.clone();
    process_rewards_and_penalties(&mut applied).unwrap();
    assert!(applied.balances.iter().all(|b| *b == 32 * ETH - 3 * 357_771 - 1_394_946));

    // Finality delay 4 is not a leak: no inactivity penalty at all.
    let mut state = synthetic_state(64, 80);
    state.finalized_checkpoint.epoch = 5;
    assert_eq!(is_in_inactivity_leak(&state), Ok(false));
    assert_eq!(get_inactivity_penalty_deltas(&state).unwrap().1, vec![0; 64]);
    // A finalized epoch after the previous epoch underflows (Python raises).
    state.finalized_checkpoint.epoch = 10;
    assert_eq!(get_inactivity_penalty_deltas(&state), Err(Reject::ArithmeticOverflow));
}

#[test]
fn exit_queue_churn() {
    // 64 active validators: churn limit max(4, 64 // 32) = 4. At epoch 0 the queue starts at 0 + 1 + 4.
    let mut state = synthetic_state(64, 0);
    for index in 0..9 {
        initiate_validator_exit(&mut state, index).unwrap();
    }
    let exits: Vec<u64> = state.validators.iter().take(10).map(|v| v.exit_epoch).collect();
    assert_eq!(exits, vec![5, 5, 5, 5, 6, 6, 6, 6, 7, FAR_FUTURE_EPOCH]);
    assert_eq!(state.validators[8].withdrawable_epoch, 7 + 256);
    // Already exiting: unchanged.
    initiate_validator_exit(&mut state, 0).unwrap();
    assert_eq!(state.validators[0].exit_epoch, 5);
    assert_eq!(initiate_validator_exit(&mut state, 64), Err(Reject::ValidatorIndexOutOfRange));

    // 160 active validators: churn limit 160 // 32 = 5.
    let mut state = synthetic_state(160, 8 * 3);
    for index in 0..6 {
        initiate_validator_exit(&mut state, index).unwrap();
    }
    let exits: Vec<u64> = state.validators.iter().take(6).map(|v| v.exit_epoch).collect();
    assert_eq!(exits, vec![8, 8, 8, 8, 8, 9]);

    // A crafted exit epoch just below FAR_FUTURE_EPOCH: the withdrawable epoch overflows.
    let mut state = synthetic_state(8, 0);
    state.validators[0].exit_epoch = FAR_FUTURE_EPOCH - 1;
    assert_eq!(initiate_validator_exit(&mut state, 1), Err(Reject::ArithmeticOverflow));
}

#[test]
fn registry_updates_eject_through_the_queue_and_activate_up_to_churn() {
    let mut state = synthetic_state(64, 8 * 2);
    // Five validators at the ejection balance (16 ETH, inclusive) and one just above.
    for index in 0..5 {
        state.validators[index].effective_balance = 16 * ETH;
    }
    state.validators[5].effective_balance = 17 * ETH;
    // Six pending validators, eligible since epochs 1, 1, 0, 0, 0, 0; finalized epoch 1.
    for (k, index) in (58..64).enumerate() {
        let v = &mut state.validators[index];
        v.activation_epoch = FAR_FUTURE_EPOCH;
        v.activation_eligibility_epoch = if k < 2 { 1 } else { 0 };
    }
    // One new deposit waiting for eligibility.
    state.validators[57].activation_epoch = FAR_FUTURE_EPOCH;
    state.validators[57].activation_eligibility_epoch = FAR_FUTURE_EPOCH;
    state.finalized_checkpoint.epoch = 1;
    process_registry_updates(&mut state).unwrap();

    // 57 active at epoch 2: churn limit 4. Ejections: exit epoch 2 + 1 + 4 = 7, the fifth at 8.
    let exits: Vec<u64> = state.validators.iter().take(6).map(|v| v.exit_epoch).collect();
    assert_eq!(exits, vec![7, 7, 7, 7, 8, FAR_FUTURE_EPOCH]);
    // Newly eligible at current epoch + 1.
    assert_eq!(state.validators[57].activation_eligibility_epoch, 3);
    assert_eq!(state.validators[57].activation_epoch, FAR_FUTURE_EPOCH);
    // Queue order (eligibility epoch, index): 60, 61, 62, 63, then 58, 59; four are dequeued at 7.
    let activations: Vec<u64> = state.validators.iter().skip(58).map(|v| v.activation_epoch).collect();
    assert_eq!(activations, vec![FAR_FUTURE_EPOCH, FAR_FUTURE_EPOCH, 7, 7, 7, 7]);
}

#[test]
fn slashing_penalty_rounding() {
    // Epoch 3; a slashed validator whose withdrawable epoch is 3 + 64 // 2 is penalized now.
    let make = |slashed_sum: u64| {
        let mut state = synthetic_state(64, 8 * 3);
        state.validators[0].slashed = true;
        state.validators[0].effective_balance = 31 * ETH;
        state.validators[0].withdrawable_epoch = 3 + 32;
        state.validators[1].slashed = true;
        state.validators[1].withdrawable_epoch = 3 + 33; // not yet
        state.slashings[0] = slashed_sum;
        state
    };
    // total 63 * 32 + 31 = 2047 ETH; 31 * min(2 * 3 ETH, total) // 2047 ETH = 0: the increment factoring rounds to 0.
    let mut state = make(3 * ETH);
    process_slashings(&mut state).unwrap();
    assert_eq!(state.balances[0], 32 * ETH);
    // 31 * 80 ETH // 2047 ETH = 1 increment.
    let mut state = make(40 * ETH);
    process_slashings(&mut state).unwrap();
    assert_eq!(state.balances[0], 31 * ETH);
    assert_eq!(state.balances[1], 32 * ETH);
    // Adjusted total capped at the total balance: 31 * 2047 // 2047 = 31 increments.
    let mut state = make(2000 * ETH);
    process_slashings(&mut state).unwrap();
    assert_eq!(state.balances[0], ETH);
    // The sum of slashings times the multiplier overflowing uint64 raises.
    let mut state = make(u64::MAX / 2 + 1);
    assert_eq!(process_slashings(&mut state), Err(Reject::ArithmeticOverflow));
}

#[test]
fn effective_balance_hysteresis_edges() {
    let mut state = synthetic_state(4, 0);
    // Downward threshold 0.25 ETH: 31.75 ETH stays, 31.75 ETH - 1 Gwei drops to 31 ETH.
    state.balances[0] = 31_750_000_000;
    state.balances[1] = 31_749_999_999;
    // Upward threshold 1.25 ETH from 30 ETH: 31.25 ETH stays, one Gwei more rises to 31 ETH.
    state.validators[2].effective_balance = 30 * ETH;
    state.balances[2] = 31_250_000_000;
    state.validators[3].effective_balance = 30 * ETH;
    state.balances[3] = 31_250_000_001;
    process_effective_balance_updates(&mut state).unwrap();
    let ebs: Vec<u64> = state.validators.iter().map(|v| v.effective_balance).collect();
    assert_eq!(ebs, vec![32 * ETH, 31 * ETH, 30 * ETH, 31 * ETH]);
    // Capped at MAX_EFFECTIVE_BALANCE.
    state.balances[3] = 1000 * ETH;
    process_effective_balance_updates(&mut state).unwrap();
    assert_eq!(state.validators[3].effective_balance, 32 * ETH);
    // Balances shorter than validators: IndexError.
    let mut state = synthetic_state(4, 0);
    state.balances = VariableListExt::truncated(&*state.balances, 3).into();
    assert_eq!(process_effective_balance_updates(&mut state), Err(Reject::ValidatorIndexOutOfRange));
}

trait VariableListExt: Sized {
    fn truncated(&self, n: usize) -> Self;
}

impl<N: diverge_types::ssz_types::typenum::Unsigned> VariableListExt for diverge_types::ssz_types::VariableList<u64, N> {
    fn truncated(&self, n: usize) -> Self {
        Self::new(self[..n].to_vec()).unwrap()
    }
}

#[test]
fn justification_two_thirds_boundary_and_finalization() {
    // Epoch 5 (last slot), epoch 4 justified last epoch (bit 0 set then).
    let mut state = synthetic_state(8, 8 * 5 + 7);
    state.current_justified_checkpoint = Checkpoint { epoch: 4, root: Root::repeat_byte(0x44) };
    state.previous_justified_checkpoint = Checkpoint { epoch: 3, root: Root::repeat_byte(0x33) };
    state.justification_bits.set(0, true).unwrap();
    // Exactly two thirds justifies both epochs: 200 * 3 >= 300 * 2.
    weigh_justification_and_finalization(&mut state, 300, 200, 200).unwrap();
    let bits: Vec<bool> = (0..4).map(|i| state.justification_bits.get(i).unwrap()).collect();
    assert_eq!(bits, vec![true, true, false, false]);
    // get_block_root(5) = block_roots[40 % 64] = repeat_byte(41).
    assert_eq!(state.current_justified_checkpoint, Checkpoint { epoch: 5, root: Root::repeat_byte(41) });
    assert_eq!(state.previous_justified_checkpoint, Checkpoint { epoch: 4, root: Root::repeat_byte(0x44) });
    // Rule 4: bits 0 and 1, old current justified epoch 4 + 1 == 5.
    assert_eq!(state.finalized_checkpoint, Checkpoint { epoch: 4, root: Root::repeat_byte(0x44) });

    // One Gwei short of two thirds justifies nothing; nothing finalizes.
    let mut state = synthetic_state(8, 8 * 5 + 7);
    state.current_justified_checkpoint = Checkpoint { epoch: 4, root: Root::repeat_byte(0x44) };
    weigh_justification_and_finalization(&mut state, 300, 199, 199).unwrap();
    let bits: Vec<bool> = (0..4).map(|i| state.justification_bits.get(i).unwrap()).collect();
    assert_eq!(bits, vec![false; 4]);
    assert_eq!(state.finalized_checkpoint, Checkpoint::default());

    // Epochs 0 and 1 are skipped entirely.
    let mut state = synthetic_state(8, 8 + 7);
    let before = state.clone();
    process_justification_and_finalization(&mut state).unwrap();
    assert_eq!(state, before);
}

/// An ejection followed, later in the same loop, by an activation-queue eligibility. The executable
/// spec (remerkleable 0.1.24) loses the ejection: setting `validator.activation_eligibility_epoch`
/// through the `enumerate(state.validators)` view writes back the list captured at loop start
/// (consensus-specs issue #3925). The markdown spec and the clients keep both writes, as here; found
/// by judging crafted states with `tools/judge_crafted.py`.
#[test]
fn registry_updates_keep_an_ejection_made_before_a_later_eligibility() {
    let mut state = synthetic_state(64, 8 * 2 + 7);
    state.validators[3].effective_balance = ETH;
    let v = &mut state.validators[40];
    v.activation_eligibility_epoch = FAR_FUTURE_EPOCH;
    v.activation_epoch = FAR_FUTURE_EPOCH;
    process_registry_updates(&mut state).unwrap();
    assert_eq!(state.validators[3].exit_epoch, 2 + 1 + 4);
    assert_eq!(state.validators[3].withdrawable_epoch, 2 + 1 + 4 + 256);
    assert_eq!(state.validators[40].activation_eligibility_epoch, 3);
}

#[test]
fn get_total_active_balance_memo_follows_the_registry_and_the_epoch() {
    use crate::helpers::accessors::get_total_active_balance;
    let mut state = synthetic_state(8, 0);
    assert_eq!(get_total_active_balance(&state), Ok(8 * 32_000_000_000));
    // A validator's effective balance changes: the registry root changes, the memo is not used.
    state.validators[2].effective_balance = 1_000_000_000;
    assert_eq!(get_total_active_balance(&state), Ok(7 * 32_000_000_000 + 1_000_000_000));
    // Same registry, a later epoch in which validator 5 has exited.
    state.validators[5].exit_epoch = 3;
    let at_epoch_2 = get_total_active_balance(&state);
    state.slot = 3 * 8;
    assert_eq!(at_epoch_2, Ok(7 * 32_000_000_000 + 1_000_000_000));
    assert_eq!(get_total_active_balance(&state), Ok(6 * 32_000_000_000 + 1_000_000_000));
    // A clone shares the registry (and its root); the memo gives the same answer.
    let clone = state.clone();
    assert_eq!(get_total_active_balance(&clone), get_total_active_balance(&state));
}
