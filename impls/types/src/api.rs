//! The interface every phase0 implementation offers (architecture.md §3). The runner and the
//! spec-vector runner talk only to this trait, so implementations stay independent: they share these
//! types, SSZ, hashing and the BLS wrapper, never the logic under test.

use crate::bls::BlsMode;
use crate::containers::*;
use crate::preset::EthSpec;
use crate::reject::Reject;
use crate::Root;

/// One sub-function of `process_epoch`, named as in the spec and in the `epoch_processing` vectors.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum EpochStep {
    /// `process_justification_and_finalization`.
    JustificationAndFinalization,
    /// `process_rewards_and_penalties`.
    RewardsAndPenalties,
    /// `process_registry_updates`.
    RegistryUpdates,
    /// `process_slashings`.
    Slashings,
    /// `process_eth1_data_reset`.
    Eth1DataReset,
    /// `process_effective_balance_updates`.
    EffectiveBalanceUpdates,
    /// `process_slashings_reset`.
    SlashingsReset,
    /// `process_randao_mixes_reset`.
    RandaoMixesReset,
    /// `process_historical_roots_update`.
    HistoricalRootsUpdate,
    /// `process_participation_record_updates`.
    ParticipationRecordUpdates,
    /// The whole `process_epoch`: every step above, in the spec's order
    /// (<https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#epoch-processing>).
    /// Implementations run it as they run it inside `process_slots` (diverge-fast: its fused
    /// one-pass epoch processing, which the per-step vectors never execute).
    ProcessEpoch,
}

impl EpochStep {
    /// Every step, in the order `process_epoch` runs them, then [`EpochStep::ProcessEpoch`]
    /// (appended: an `epoch` input's step byte is its index here, so existing seeds keep theirs).
    pub const ALL: [EpochStep; 11] = [
        EpochStep::JustificationAndFinalization,
        EpochStep::RewardsAndPenalties,
        EpochStep::RegistryUpdates,
        EpochStep::Slashings,
        EpochStep::Eth1DataReset,
        EpochStep::EffectiveBalanceUpdates,
        EpochStep::SlashingsReset,
        EpochStep::RandaoMixesReset,
        EpochStep::HistoricalRootsUpdate,
        EpochStep::ParticipationRecordUpdates,
        EpochStep::ProcessEpoch,
    ];

    /// The ten sub-functions alone (every step but [`EpochStep::ProcessEpoch`]), in the spec's order:
    /// the first ten of [`EpochStep::ALL`].
    pub const SUB_FUNCTIONS: &'static [EpochStep] = EpochStep::ALL.as_slice().split_at(10).0;

    /// The `epoch_processing` handler name (the spec function without `process_`);
    /// `process_epoch` for [`EpochStep::ProcessEpoch`], which has no vectors of its own.
    pub fn handler_name(self) -> &'static str {
        match self {
            EpochStep::JustificationAndFinalization => "justification_and_finalization",
            EpochStep::RewardsAndPenalties => "rewards_and_penalties",
            EpochStep::RegistryUpdates => "registry_updates",
            EpochStep::Slashings => "slashings",
            EpochStep::Eth1DataReset => "eth1_data_reset",
            EpochStep::EffectiveBalanceUpdates => "effective_balance_updates",
            EpochStep::SlashingsReset => "slashings_reset",
            EpochStep::RandaoMixesReset => "randao_mixes_reset",
            EpochStep::HistoricalRootsUpdate => "historical_roots_update",
            EpochStep::ParticipationRecordUpdates => "participation_record_updates",
            EpochStep::ProcessEpoch => "process_epoch",
        }
    }

    /// Inverse of [`EpochStep::handler_name`].
    pub fn from_handler_name(name: &str) -> Option<EpochStep> {
        EpochStep::ALL.into_iter().find(|s| s.handler_name() == name)
    }
}

/// One state-transition input applied to a pre-state.
#[derive(Clone, PartialEq, Debug)]
pub enum Operation<E: EthSpec> {
    /// `process_attestation`.
    Attestation(Attestation<E>),
    /// `process_attester_slashing`.
    AttesterSlashing(AttesterSlashing<E>),
    /// `process_proposer_slashing`.
    ProposerSlashing(ProposerSlashing),
    /// `process_deposit`.
    Deposit(Deposit),
    /// `process_voluntary_exit`.
    VoluntaryExit(SignedVoluntaryExit),
    /// `process_block_header` (the operations-vector `block_header` handler: an unsigned block).
    BlockHeader(BeaconBlock<E>),
    /// `state_transition(state, signed_block, validate_result)`.
    Block {
        /// The signed block.
        block: SignedBeaconBlock<E>,
        /// Check `block.state_root` against the post-state root.
        validate_result: bool,
    },
    /// `process_slots(state, state.slot + n)`.
    Slots(u64),
    /// One sub-function of `process_epoch`, or the whole of it ([`EpochStep::ProcessEpoch`]).
    Epoch(EpochStep),
    /// `state_transition(state, block, validate_result)` for each block in order (the `chain`
    /// target): the first rejection ends the chain. [`Phase0Impl::apply_chain`] also names the
    /// rejecting block; `apply` only gives its reason.
    Chain {
        /// The blocks, 1..=[`MAX_CHAIN_BLOCKS`] of them (the decoder enforces the bound).
        blocks: Vec<SignedBeaconBlock<E>>,
        /// Check each `block.state_root` against its post-state root.
        validate_result: bool,
    },
}

/// Most blocks one `chain` input applies.
pub const MAX_CHAIN_BLOCKS: usize = 8;

/// Why a chain of blocks was refused: the first block whose `state_transition` failed, and why.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ChainRejection {
    /// Index of the rejecting block in the chain (0-based).
    pub index: usize,
    /// The spec assertion that failed.
    pub reason: Reject,
}

/// Rewards and penalties for one component, indexed by validator index (Gwei).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Deltas {
    /// Rewards per validator.
    pub rewards: Vec<u64>,
    /// Penalties per validator.
    pub penalties: Vec<u64>,
}

/// Every `get_*_deltas` of `process_rewards_and_penalties`, as the `rewards` vectors list them.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct RewardsDeltas {
    /// `get_source_deltas`.
    pub source: Deltas,
    /// `get_target_deltas`.
    pub target: Deltas,
    /// `get_head_deltas`.
    pub head: Deltas,
    /// `get_inclusion_delay_deltas`.
    pub inclusion_delay: Deltas,
    /// `get_inactivity_penalty_deltas`.
    pub inactivity_penalty: Deltas,
}

/// A phase0 state-transition implementation for preset `E`.
///
/// `State` is the implementation's prepared form of a `BeaconState` (caches, persistent trees);
/// `prepare` runs once per pool state, `clone` once per execution, so it must be cheap for fast
/// implementations. No method panics on any input: a refused input is a [`Reject`].
pub trait Phase0Impl<E: EthSpec>: Send + Sync {
    /// Prepared state.
    type State: Clone + Send + Sync;

    /// Short, stable name used in verdict tables and divergence signatures (`"spec"`, `"fast"`).
    fn name(&self) -> &'static str;

    /// Version recorded in findings.
    fn version(&self) -> &'static str;

    /// Builds the prepared state from a plain one.
    ///
    /// # Errors
    /// A [`Reject`] when the state cannot be prepared (e.g. a cache cannot be built).
    fn prepare(&self, state: &BeaconState<E>) -> Result<Self::State, Reject>;

    /// The plain `BeaconState` of a prepared one.
    fn export(&self, state: &Self::State) -> BeaconState<E>;

    /// The plain `BeaconState` of a prepared one, consuming it: what the runner compares after
    /// every execution, so it is on the hot path. Implementations move what they can and share
    /// ([`crate::Shared`]) the fields left unchanged since `prepare`. Default: [`Self::export`].
    fn export_owned(&self, state: Self::State) -> BeaconState<E> {
        self.export(&state)
    }

    /// Applies `op` in place. On `Err` the state may be partially modified; callers discard it.
    ///
    /// # Errors
    /// The spec assertion that failed.
    fn apply(&self, state: &mut Self::State, op: &Operation<E>, bls: BlsMode) -> Result<(), Reject>;

    /// `state_transition(state, block, validate_result)` for each of `blocks` in order, stopping at
    /// the first rejection (the `chain` target). On `Err` the state may be partially modified.
    /// Default: [`Self::apply`] of an [`Operation::Block`] per block (a clone of each block);
    /// implementations override it to skip the clones.
    ///
    /// # Errors
    /// The first rejecting block's index and reason.
    fn apply_chain(&self, state: &mut Self::State, blocks: &[SignedBeaconBlock<E>], validate_result: bool, bls: BlsMode) -> Result<(), ChainRejection> {
        for (index, block) in blocks.iter().enumerate() {
            self.apply(state, &Operation::Block { block: block.clone(), validate_result }, bls).map_err(|reason| ChainRejection { index, reason })?;
        }
        Ok(())
    }

    /// `compute_shuffled_index(index, index_count, seed)`.
    ///
    /// # Errors
    /// `assert index < index_count` fails, or arithmetic overflows.
    fn compute_shuffled_index(&self, index: u64, index_count: u64, seed: &Root) -> Result<u64, Reject>;

    /// Every `get_*_deltas` for the state's previous epoch.
    ///
    /// # Errors
    /// Arithmetic overflow or an invalid state.
    fn get_rewards_deltas(&self, state: &Self::State) -> Result<RewardsDeltas, Reject>;

    /// `initialize_beacon_state_from_eth1(eth1_block_hash, eth1_timestamp, deposits)`. No BLS
    /// mode: genesis verifies only deposit signatures, which are verified under every mode
    /// ([`crate::bls::verify_deposit_signature`]).
    ///
    /// # Errors
    /// A deposit's Merkle proof fails, or arithmetic overflows.
    fn initialize_beacon_state_from_eth1(&self, eth1_block_hash: Root, eth1_timestamp: u64, deposits: &[Deposit]) -> Result<BeaconState<E>, Reject>;

    /// `is_valid_genesis_state(state)`.
    ///
    /// # Errors
    /// Arithmetic overflow.
    fn is_valid_genesis_state(&self, state: &BeaconState<E>) -> Result<bool, Reject>;
}
