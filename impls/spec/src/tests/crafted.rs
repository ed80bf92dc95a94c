//! Crafted states and inputs: the spec's helper asserts and Python's exceptions become typed
//! rejections, never panics; and small sub-functions checked at their boundaries.
use super::synthetic_state;
use crate::block_processing::{process_block_header, process_eth1_data};
use crate::epoch_processing::process_rewards_and_penalties::{get_head_deltas, get_source_deltas};
use crate::epoch_processing::*;
use crate::state_transition::process_slots;
use crate::SpecImpl;
use diverge_types::constants::MAX_SLOTS_PER_TRANSITION;
use diverge_types::ssz_types::BitList;
use diverge_types::*;

fn pending(slot: u64, index: u64, bits: usize, target_root: Root) -> PendingAttestation<MinimalSpec> {
    let mut aggregation_bits = BitList::with_capacity(bits).unwrap();
    for i in 0..bits {
        aggregation_bits.set(i, true).unwrap();
    }
    PendingAttestation {
        aggregation_bits,
        data: AttestationData {
            slot,
            index,
            beacon_block_root: Root::ZERO,
            source: Checkpoint::default(),
            target: Checkpoint { epoch: slot / 8, root: target_root },
        },
        inclusion_delay: 1,
        proposer_index: 0,
    }
}

#[test]
fn slots_bounds() {
    let apply = |state: &mut BeaconState<MinimalSpec>, n: u64| {
        Phase0Impl::<MinimalSpec>::apply(&SpecImpl, state, &Operation::Slots(n), BlsMode::AssumeValid)
    };
    let mut state = synthetic_state(16, 3);
    assert_eq!(apply(&mut state, 0), Err(Reject::SlotNotAfterState));
    assert_eq!(apply(&mut state, MAX_SLOTS_PER_TRANSITION + 1), Err(Reject::SlotsTooFar));
    assert_eq!(state.slot, 3, "refused before any work");
    assert_eq!(process_slots(&mut state, 2), Err(Reject::SlotNotAfterState));
    let mut state = synthetic_state(16, u64::MAX - 2);
    assert_eq!(apply(&mut state, 5), Err(Reject::ArithmeticOverflow));
    // Five slots across an epoch boundary: slot 3 -> 8, roots cached, the epoch rotated.
    let mut state = synthetic_state(16, 3);
    apply(&mut state, 5).unwrap();
    assert_eq!(state.slot, 8);
    assert!(state.state_roots[3..8].iter().all(|r| *r != Root::ZERO));
}

#[test]
fn pending_attestation_with_short_bits_is_index_error() {
    // 16 validators, one committee per slot of 2; bits of length 1 < committee: `bits[1]` raises.
    let mut state = synthetic_state(16, 8 * 2 + 7);
    state.previous_epoch_attestations.push(pending(8, 0, 1, Root::repeat_byte(9))).unwrap();
    assert_eq!(get_source_deltas(&state), Err(Reject::IndexOutOfRange));
    // Bits longer than the committee are fine (the extra bits are ignored).
    let mut state = synthetic_state(16, 8 * 2 + 7);
    state.previous_epoch_attestations.push(pending(8, 0, 5, Root::repeat_byte(9))).unwrap();
    let (rewards, _) = get_source_deltas(&state).unwrap();
    assert_eq!(rewards.iter().filter(|r| **r > 0).count(), 2);
}

#[test]
fn pending_attestation_with_committee_index_past_count_fails_the_shuffle_assert() {
    // Slot 15 is the last of its epoch: committee index 1 of 1 starts at len(indices).
    let mut state = synthetic_state(16, 8 * 2 + 7);
    state.previous_epoch_attestations.push(pending(15, 1, 2, Root::repeat_byte(9))).unwrap();
    assert_eq!(get_source_deltas(&state), Err(Reject::ShuffleIndexOutOfRange));
    // A huge index overflows `(slot % SLOTS_PER_EPOCH) * committees_per_slot + index`.
    let mut state = synthetic_state(16, 8 * 2 + 7);
    state.previous_epoch_attestations.push(pending(15, u64::MAX, 2, Root::repeat_byte(9))).unwrap();
    assert_eq!(get_source_deltas(&state), Err(Reject::ArithmeticOverflow));
}

#[test]
fn head_attestation_for_a_future_slot_fails_get_block_root_at_slot() {
    // Previous epoch 2 (state at slot 31); target root matches block_roots[16] = repeat_byte(17);
    // its head slot 40 is not before state.slot.
    let mut state = synthetic_state(16, 8 * 3 + 7);
    let mut a = pending(16, 0, 2, Root::repeat_byte(17));
    a.data.slot = 40;
    a.data.target.epoch = 2;
    state.previous_epoch_attestations.push(a).unwrap();
    assert_eq!(get_head_deltas(&state), Err(Reject::BlockRootSlotOutOfRange));
    // With no attestation, the target block root is never asked for (lazy, as the comprehension).
    let mut state = synthetic_state(16, 3);
    state.slot = 0;
    assert!(get_matching_target_attestations(&state, 0).unwrap().is_empty());
}

#[test]
fn no_active_validator_fails_the_proposer_assert() {
    let mut state = synthetic_state(4, 9);
    for v in state.validators.iter_mut() {
        v.exit_epoch = 1;
    }
    let block = BeaconBlock::<MinimalSpec> {
        slot: 9,
        proposer_index: 0,
        parent_root: hash_tree_root(&state.latest_block_header),
        state_root: Root::ZERO,
        body: BeaconBlockBody {
            randao_reveal: Default::default(),
            eth1_data: Eth1Data::default(),
            graffiti: Root::ZERO,
            proposer_slashings: Default::default(),
            attester_slashings: Default::default(),
            attestations: Default::default(),
            deposits: Default::default(),
            voluntary_exits: Default::default(),
        },
    };
    assert_eq!(process_block_header(&mut state, &block), Err(Reject::NoActiveValidators));
}

#[test]
fn eth1_vote_needs_a_strict_majority_and_the_list_has_a_limit() {
    // Minimal voting period: 4 epochs * 8 slots = 32 votes; adoption needs count * 2 > 32.
    let mut state = synthetic_state(4, 1);
    let vote = Eth1Data { deposit_root: Root::repeat_byte(1), deposit_count: 7, block_hash: Root::repeat_byte(2) };
    let mut body = BeaconBlockBody::<MinimalSpec> {
        randao_reveal: Default::default(),
        eth1_data: vote.clone(),
        graffiti: Root::ZERO,
        proposer_slashings: Default::default(),
        attester_slashings: Default::default(),
        attestations: Default::default(),
        deposits: Default::default(),
        voluntary_exits: Default::default(),
    };
    for _ in 0..16 {
        process_eth1_data(&mut state, &body).unwrap();
    }
    assert_eq!(state.eth1_data, Eth1Data::default(), "16 of 32 is not a majority");
    process_eth1_data(&mut state, &body).unwrap();
    assert_eq!(state.eth1_data, vote, "17 of 32 is");
    body.eth1_data = Eth1Data::default();
    for _ in 17..32 {
        process_eth1_data(&mut state, &body).unwrap();
    }
    assert_eq!(process_eth1_data(&mut state, &body), Err(Reject::ListFull));
}

#[test]
fn resets_at_their_period_boundaries() {
    // Epoch 3 is the last of a minimal eth1 voting period (4 epochs): votes are cleared.
    let mut state = synthetic_state(4, 8 * 3 + 7);
    state.eth1_data_votes.push(Eth1Data::default()).unwrap();
    let mut at_2 = state.clone();
    at_2.slot = 8 * 2 + 7;
    process_eth1_data_reset(&mut at_2).unwrap();
    assert_eq!(at_2.eth1_data_votes.len(), 1);
    process_eth1_data_reset(&mut state).unwrap();
    assert_eq!(state.eth1_data_votes.len(), 0);

    // Slashings slot of the next epoch (65 % 64 = 1) is zeroed; the current one kept.
    let mut state = synthetic_state(4, 8 * 64 + 7);
    state.slashings[0] = 5;
    state.slashings[1] = 6;
    process_slashings_reset(&mut state).unwrap();
    assert_eq!((state.slashings[0], state.slashings[1]), (5, 0));

    // Randao mix of epoch 64 (index 0) is carried to epoch 65 (index 1).
    state.randao_mixes[0] = Root::repeat_byte(0xab);
    process_randao_mixes_reset(&mut state).unwrap();
    assert_eq!(state.randao_mixes[1], Root::repeat_byte(0xab));

    // Historical roots: every 64 / 8 = 8 epochs, at the end of epoch 7, 15, ...
    let mut state = synthetic_state(4, 8 * 6 + 7);
    process_historical_roots_update(&mut state).unwrap();
    assert!(state.historical_roots.is_empty());
    state.slot = 8 * 7 + 7;
    process_historical_roots_update(&mut state).unwrap();
    let batch = HistoricalBatch::<MinimalSpec> { block_roots: (*state.block_roots).clone(), state_roots: (*state.state_roots).clone() };
    assert_eq!(state.historical_roots.to_vec(), vec![hash_tree_root(&batch)]);

    // Participation records rotate.
    let mut state = synthetic_state(4, 8 * 3 + 7);
    state.current_epoch_attestations.push(pending(24, 0, 1, Root::ZERO)).unwrap();
    process_participation_record_updates(&mut state).unwrap();
    assert_eq!((state.previous_epoch_attestations.len(), state.current_epoch_attestations.len()), (1, 0));
}
