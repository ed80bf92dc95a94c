//! `diverge-fast`: a production-style phase0 state transition (consensus-specs v1.1.10), written
//! independently of the plain spec mirror, in the way Lighthouse and grandine structure theirs:
//!
//! - a prepared state ([`state::FastState`]) in milhouse persistent trees: O(1) clone, and
//!   `hash_tree_root` after a small change rehashes only the changed paths;
//! - caches invalidated exactly when what they summarise changes ([`caches`]): committees per
//!   epoch (the whole active list shuffled once), proposers, public keys, total active balance,
//!   exit-queue churn;
//! - block signatures collected as `SignatureSet`s and verified in one batch, with verdicts equal
//!   to the spec's ([`block_processing::signatures`]);
//! - epoch processing from one participation summary ([`epoch_processing`]);
//! - no panic on any input: checked arithmetic ([`Reject::ArithmeticOverflow`]) and checked
//!   indexing ([`Reject::ValidatorIndexOutOfRange`]).
//!
//! Spec references such as `#block-header` are anchors of
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md>.
//!
//! # Readings where an implementation has a choice
//! - `Operation::Slots(n)`: `state.slot + n` is computed first (overflow:
//!   [`Reject::ArithmeticOverflow`]), then `process_slots` asserts `state.slot < slot`
//!   ([`Reject::SlotNotAfterState`]) and the harness bound ([`Reject::SlotsTooFar`]) before any
//!   work.
//! - Batched signatures: verdicts equal the spec's, including the reason, because sets are
//!   collected at the spec's asserts and re-checked in order on any failure
//!   ([`block_processing::signatures`]). The only gap is probabilistic (a forged batch passing
//!   with probability about 2^-64 per random scalar). Deposit signatures are checked inline: they
//!   decide whether a validator is added, not validity.
//! - Epoch processing reads the pending attestations once ([`epoch_processing::summary`]). On
//!   crafted states where two different lookups would both fail, the summary follows the spec's
//!   order for justification (target roots, then committees) and for rewards (committees, then
//!   target and head roots); the attesting-balance sums are added after every committee and root
//!   lookup, so a sum overflow (effective balances summing past 2^64) together with a lookup
//!   failure reports the lookup failure where the spec may report the overflow.
//! - A state whose `balances` is shorter than `validators` (not reachable from decoded pool
//!   states) fails the fused epoch pass with [`Reject::IndexOutOfRange`] before writing.

mod arith;
pub mod block_processing;
pub mod caches;
pub mod epoch_processing;
pub mod genesis;
pub mod helpers;
pub mod state;
pub mod state_transition;

use block_processing::signatures::SigVerifier;
use diverge_types::*;
use state::FastState;

/// The fast implementation (registered as `"fast"`).
#[derive(Clone, Copy, Debug, Default)]
pub struct FastImpl;

impl<E: EthSpec> Phase0Impl<E> for FastImpl {
    type State = FastState<E>;

    fn name(&self) -> &'static str {
        "fast"
    }

    fn version(&self) -> &'static str {
        concat!("diverge-fast ", env!("CARGO_PKG_VERSION"), " (phase0 v1.1.10)")
    }

    fn prepare(&self, state: &BeaconState<E>) -> Result<FastState<E>, Reject> {
        FastState::new(state)
    }

    fn export(&self, state: &FastState<E>) -> BeaconState<E> {
        state.state.to_plain()
    }

    fn export_owned(&self, state: FastState<E>) -> BeaconState<E> {
        state.into_plain()
    }

    fn apply(&self, fs: &mut FastState<E>, op: &Operation<E>, bls: BlsMode) -> Result<(), Reject> {
        use block_processing::*;
        let mut v = SigVerifier::immediate(bls);
        match op {
            Operation::Attestation(a) => process_attestation::process_attestation(fs, a, &mut v),
            Operation::AttesterSlashing(s) => process_attester_slashing::process_attester_slashing(fs, s, &mut v),
            Operation::ProposerSlashing(s) => process_proposer_slashing::process_proposer_slashing(fs, s, &mut v),
            Operation::Deposit(d) => process_deposit::process_deposit(fs, d),
            Operation::VoluntaryExit(e) => process_voluntary_exit::process_voluntary_exit(fs, e, &mut v),
            Operation::BlockHeader(b) => process_block_header::process_block_header(fs, b),
            Operation::Block { block, validate_result } => state_transition::state_transition(fs, block, *validate_result, bls),
            Operation::Slots(n) => {
                let target = fs.state.slot.checked_add(*n).ok_or(Reject::ArithmeticOverflow)?;
                state_transition::process_slots(fs, target)
            }
            Operation::Epoch(step) => epoch_processing::process_epoch_step(fs, *step),
            Operation::Chain { blocks, validate_result } => Phase0Impl::<E>::apply_chain(self, fs, blocks, *validate_result, bls).map_err(|c| c.reason),
        }
    }

    /// diverge-fast's block pipeline (`state_transition`: slots with the fused epoch pass, batched
    /// signatures) once per block on the same prepared state, so its caches carry across blocks.
    fn apply_chain(&self, fs: &mut FastState<E>, blocks: &[SignedBeaconBlock<E>], validate_result: bool, bls: BlsMode) -> Result<(), ChainRejection> {
        for (index, block) in blocks.iter().enumerate() {
            state_transition::state_transition(fs, block, validate_result, bls).map_err(|reason| ChainRejection { index, reason })?;
        }
        Ok(())
    }

    fn compute_shuffled_index(&self, index: u64, index_count: u64, seed: &Root) -> Result<u64, Reject> {
        caches::shuffling::compute_shuffled_index::<E>(index, index_count, seed)
    }

    fn get_rewards_deltas(&self, state: &FastState<E>) -> Result<RewardsDeltas, Reject> {
        let mut fs = state.clone();
        let s = epoch_processing::summary::build(&mut fs, epoch_processing::summary::Need::Rewards)?;
        epoch_processing::process_rewards_and_penalties::get_attestation_deltas(&fs, &s)
    }

    // Genesis verifies only deposit signatures, which are verified under every mode.
    fn initialize_beacon_state_from_eth1(&self, eth1_block_hash: Root, eth1_timestamp: u64, deposits: &[Deposit]) -> Result<BeaconState<E>, Reject> {
        genesis::initialize_beacon_state_from_eth1::<E>(eth1_block_hash, eth1_timestamp, deposits)
    }

    fn is_valid_genesis_state(&self, state: &BeaconState<E>) -> Result<bool, Reject> {
        genesis::is_valid_genesis_state(state)
    }
}
