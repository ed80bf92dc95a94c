//! The phase0 state transition of consensus-specs v1.1.10, mirroring
//! `specs/phase0/beacon-chain.md` line by line (the executable spec `eth2spec/phase0/*.py`).
//!
//! This is the *plain* implementation (architecture.md §3): no caches beyond the executable spec's
//! own memos (`cache_this` in consensus-specs `setup.py`: `compute_shuffled_index`,
//! `get_active_validator_indices`, `get_beacon_committee`, `get_total_active_balance`, with the
//! spec's keys), no batching, every signature checked one by one through [`diverge_types::bls`],
//! every other helper recomputed where the spec calls it. Function names are the spec's. Python raises on uint64 overflow and on out-of-range list
//! access; here both are typed rejections ([`Reject::ArithmeticOverflow`],
//! [`Reject::ValidatorIndexOutOfRange`], [`Reject::IndexOutOfRange`]), and no function panics.
//!
//! Layout: [`helpers`] (math, predicates, misc, accessors, mutators: the spec's "Helper functions"),
//! [`state_transition`], [`block_processing`] (one file per operation), [`epoch_processing`] (one
//! file per sub-function), [`genesis`].
//!
//! Readings of the spec that another implementation must share to agree on reasons:
//! - Evaluation order is Python's: chained comparisons and `and`/`or` short-circuit, and list
//!   comprehensions evaluate their condition per element (so `get_block_root` in
//!   `get_matching_target_attestations` is only asked for, and only asserts, when an attestation
//!   is there). The first failing assertion names the [`Reject`].
//! - Python uint64 raises on overflow, underflow and division by zero: [`Reject::ArithmeticOverflow`]
//!   (e.g. `integer_squareroot(2**64 - 1)` at v1.1.10, `sum(state.slashings) * MULTIPLIER`,
//!   `inclusion_delay == 0`). `state.validators[i]` / `state.balances[i]` out of range:
//!   [`Reject::ValidatorIndexOutOfRange`]; any other `IndexError` (`bits[i]` past a short bitlist):
//!   [`Reject::IndexOutOfRange`]; an append to a full SSZ list: [`Reject::ListFull`]. Helper asserts:
//!   [`Reject::ShuffleIndexOutOfRange`], [`Reject::NoActiveValidators`],
//!   [`Reject::BlockRootSlotOutOfRange`].
//! - `Operation::Slots(n)` computes `state.slot + n` first (overflow: `ArithmeticOverflow`), then
//!   `process_slots` asserts `state.slot < slot` ([`Reject::SlotNotAfterState`]) and applies the
//!   shared bound [`diverge_types::constants::MAX_SLOTS_PER_TRANSITION`] ([`Reject::SlotsTooFar`])
//!   before any work; a block far ahead gets the same treatment inside `state_transition`.
//! - The only hoisting: `get_inclusion_delay_deltas` computes each attestation's attesting indices
//!   once instead of once per (validator, attestation) pair; same values, same errors.

pub mod block_processing;
pub mod epoch_processing;
pub mod genesis;
pub mod helpers;
pub mod state_transition;
pub mod uint64;

use diverge_types::{
    BeaconState, BlsMode, ChainRejection, Deltas, Deposit, EpochStep, EthSpec, Operation, Phase0Impl, Reject, RewardsDeltas, Root,
    SignedBeaconBlock,
    Validator,
};

/// Result of every fallible spec function: `Err` names the assertion that failed.
pub type Result<T> = core::result::Result<T, Reject>;

/// `state.validators[index]`: [`Reject::ValidatorIndexOutOfRange`] when absent (Python `IndexError`).
pub(crate) fn validator<E: EthSpec>(state: &BeaconState<E>, index: u64) -> Result<&Validator> {
    usize::try_from(index)
        .ok()
        .and_then(|i| state.validators.get(i))
        .ok_or(Reject::ValidatorIndexOutOfRange)
}

/// Mutable `state.validators[index]`.
pub(crate) fn validator_mut<E: EthSpec>(state: &mut BeaconState<E>, index: u64) -> Result<&mut Validator> {
    usize::try_from(index)
        .ok()
        .and_then(|i| state.validators.get_mut(i))
        .ok_or(Reject::ValidatorIndexOutOfRange)
}

/// Mutable `state.balances[index]`.
pub(crate) fn balance_mut<E: EthSpec>(state: &mut BeaconState<E>, index: u64) -> Result<&mut u64> {
    usize::try_from(index)
        .ok()
        .and_then(|i| state.balances.get_mut(i))
        .ok_or(Reject::ValidatorIndexOutOfRange)
}

/// `x % len` as a slice index, for `Vector` fields indexed modulo their length.
pub(crate) fn vector_index(x: u64, len: u64) -> Result<usize> {
    usize::try_from(uint64::rem(x, len)?).map_err(|_| Reject::IndexOutOfRange)
}

/// The plain implementation, named `"spec"`. Its prepared state is the plain `BeaconState`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpecImpl;

impl<E: EthSpec> Phase0Impl<E> for SpecImpl {
    type State = BeaconState<E>;

    fn name(&self) -> &'static str {
        "spec"
    }

    fn version(&self) -> &'static str {
        concat!("diverge-spec ", env!("CARGO_PKG_VERSION"), " (consensus-specs v1.1.10)")
    }

    fn prepare(&self, state: &BeaconState<E>) -> Result<BeaconState<E>> {
        Ok(state.clone())
    }

    fn export(&self, state: &BeaconState<E>) -> BeaconState<E> {
        state.clone()
    }

    fn export_owned(&self, state: BeaconState<E>) -> BeaconState<E> {
        state
    }

    fn apply(&self, state: &mut BeaconState<E>, op: &Operation<E>, bls: BlsMode) -> Result<()> {
        use block_processing::*;
        use epoch_processing::*;
        match op {
            Operation::Attestation(a) => process_attestation(state, a, bls),
            Operation::AttesterSlashing(s) => process_attester_slashing(state, s, bls),
            Operation::ProposerSlashing(s) => process_proposer_slashing(state, s, bls),
            Operation::Deposit(d) => process_deposit(state, d),
            Operation::VoluntaryExit(e) => process_voluntary_exit(state, e, bls),
            Operation::BlockHeader(b) => process_block_header(state, b),
            Operation::Block { block, validate_result } => {
                state_transition::state_transition(state, block, *validate_result, bls)
            }
            Operation::Slots(n) => {
                // The harness computes `state.slot + n` (Python raises on overflow), then calls
                // `process_slots`, which applies the spec assert and the shared slot bound.
                let target = uint64::add(state.slot, *n)?;
                state_transition::process_slots(state, target)
            }
            Operation::Epoch(step) => match step {
                EpochStep::JustificationAndFinalization => process_justification_and_finalization(state),
                EpochStep::RewardsAndPenalties => process_rewards_and_penalties(state),
                EpochStep::RegistryUpdates => process_registry_updates(state),
                EpochStep::Slashings => process_slashings(state),
                EpochStep::Eth1DataReset => process_eth1_data_reset(state),
                EpochStep::EffectiveBalanceUpdates => process_effective_balance_updates(state),
                EpochStep::SlashingsReset => process_slashings_reset(state),
                EpochStep::RandaoMixesReset => process_randao_mixes_reset(state),
                EpochStep::HistoricalRootsUpdate => process_historical_roots_update(state),
                EpochStep::ParticipationRecordUpdates => process_participation_record_updates(state),
                EpochStep::ProcessEpoch => process_epoch(state),
            },
            Operation::Chain { blocks, validate_result } => {
                Phase0Impl::<E>::apply_chain(self, state, blocks, *validate_result, bls).map_err(|c| c.reason)
            }
        }
    }

    /// A loop of the spec's `state_transition`, one call per block, stopping at the first rejection.
    fn apply_chain(&self, state: &mut BeaconState<E>, blocks: &[SignedBeaconBlock<E>], validate_result: bool, bls: BlsMode) -> std::result::Result<(), ChainRejection> {
        for (index, block) in blocks.iter().enumerate() {
            state_transition::state_transition(state, block, validate_result, bls).map_err(|reason| ChainRejection { index, reason })?;
        }
        Ok(())
    }

    fn compute_shuffled_index(&self, index: u64, index_count: u64, seed: &Root) -> Result<u64> {
        helpers::misc::compute_shuffled_index::<E>(index, index_count, seed)
    }

    fn get_rewards_deltas(&self, state: &BeaconState<E>) -> Result<RewardsDeltas> {
        use epoch_processing::process_rewards_and_penalties::*;
        let deltas = |(rewards, penalties): (Vec<u64>, Vec<u64>)| Deltas { rewards, penalties };
        Ok(RewardsDeltas {
            source: deltas(get_source_deltas(state)?),
            target: deltas(get_target_deltas(state)?),
            head: deltas(get_head_deltas(state)?),
            inclusion_delay: deltas(get_inclusion_delay_deltas(state)?),
            inactivity_penalty: deltas(get_inactivity_penalty_deltas(state)?),
        })
    }

    fn initialize_beacon_state_from_eth1(&self, eth1_block_hash: Root, eth1_timestamp: u64, deposits: &[Deposit]) -> Result<BeaconState<E>> {
        genesis::initialize_beacon_state_from_eth1(eth1_block_hash, eth1_timestamp, deposits)
    }

    fn is_valid_genesis_state(&self, state: &BeaconState<E>) -> Result<bool> {
        genesis::is_valid_genesis_state(state)
    }
}

#[cfg(test)]
mod tests;
