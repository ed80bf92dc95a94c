//! Presets and configurations of consensus-specs v1.1.10 phase0.
//!
//! Source: `presets/{minimal,mainnet}/phase0.yaml` and `configs/{minimal,mainnet}.yaml` at v1.1.10
//! (cross-checked against PyPI `eth2spec==1.1.10`, `eth2spec/phase0/{minimal,mainnet}.py`).
//! List and vector lengths are typenum types so that SSZ types carry them; every other value is an
//! associated constant.

use core::fmt::Debug;
use typenum::{Unsigned, U1024, U1099511627776, U128, U16, U16777216, U2, U2048, U32, U4096, U64,
              U65536, U8192};

/// `Version`: 4 bytes (spec "Custom types").
pub type Version = [u8; 4];

/// A preset together with its default configuration. Implemented by [`MinimalSpec`] and
/// [`MainnetSpec`]; every container generic over `E: EthSpec` takes its lengths from here.
pub trait EthSpec: 'static + Clone + Copy + Default + PartialEq + Eq + Debug + Send + Sync {
    /// `SLOTS_PER_HISTORICAL_ROOT` (64 | 8192).
    type SlotsPerHistoricalRoot: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `EPOCHS_PER_HISTORICAL_VECTOR` (64 | 65536).
    type EpochsPerHistoricalVector: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `EPOCHS_PER_SLASHINGS_VECTOR` (64 | 8192).
    type EpochsPerSlashingsVector: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `HISTORICAL_ROOTS_LIMIT` (2^24).
    type HistoricalRootsLimit: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `VALIDATOR_REGISTRY_LIMIT` (2^40).
    type ValidatorRegistryLimit: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `MAX_VALIDATORS_PER_COMMITTEE` (2048).
    type MaxValidatorsPerCommittee: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH` (32 | 2048).
    type SlotsPerEth1VotingPeriod: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `MAX_ATTESTATIONS * SLOTS_PER_EPOCH` (1024 | 4096).
    type MaxPendingAttestations: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `MAX_PROPOSER_SLASHINGS` (16).
    type MaxProposerSlashings: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `MAX_ATTESTER_SLASHINGS` (2).
    type MaxAttesterSlashings: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `MAX_ATTESTATIONS` (128).
    type MaxAttestations: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `MAX_DEPOSITS` (16).
    type MaxDeposits: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;
    /// `MAX_VOLUNTARY_EXITS` (16).
    type MaxVoluntaryExits: Unsigned + Clone + PartialEq + Eq + Debug + Send + Sync;

    /// Preset name as used in the test-vector layout: `"minimal"` or `"mainnet"`.
    const PRESET_BASE: &'static str;

    // ---- preset: misc ----
    /// `MAX_COMMITTEES_PER_SLOT`.
    const MAX_COMMITTEES_PER_SLOT: u64;
    /// `TARGET_COMMITTEE_SIZE`.
    const TARGET_COMMITTEE_SIZE: u64;
    /// `MAX_VALIDATORS_PER_COMMITTEE`.
    const MAX_VALIDATORS_PER_COMMITTEE: u64 = 2048;
    /// `SHUFFLE_ROUND_COUNT`.
    const SHUFFLE_ROUND_COUNT: u64;
    /// `HYSTERESIS_QUOTIENT`.
    const HYSTERESIS_QUOTIENT: u64 = 4;
    /// `HYSTERESIS_DOWNWARD_MULTIPLIER`.
    const HYSTERESIS_DOWNWARD_MULTIPLIER: u64 = 1;
    /// `HYSTERESIS_UPWARD_MULTIPLIER`.
    const HYSTERESIS_UPWARD_MULTIPLIER: u64 = 5;
    /// `SAFE_SLOTS_TO_UPDATE_JUSTIFIED` (fork choice; kept for completeness).
    const SAFE_SLOTS_TO_UPDATE_JUSTIFIED: u64;
    // ---- preset: gwei values ----
    /// `MIN_DEPOSIT_AMOUNT`, Gwei.
    const MIN_DEPOSIT_AMOUNT: u64 = 1_000_000_000;
    /// `MAX_EFFECTIVE_BALANCE`, Gwei.
    const MAX_EFFECTIVE_BALANCE: u64 = 32_000_000_000;
    /// `EFFECTIVE_BALANCE_INCREMENT`, Gwei.
    const EFFECTIVE_BALANCE_INCREMENT: u64 = 1_000_000_000;
    // ---- preset: time parameters ----
    /// `MIN_ATTESTATION_INCLUSION_DELAY`, slots.
    const MIN_ATTESTATION_INCLUSION_DELAY: u64 = 1;
    /// `SLOTS_PER_EPOCH`.
    const SLOTS_PER_EPOCH: u64;
    /// `MIN_SEED_LOOKAHEAD`, epochs.
    const MIN_SEED_LOOKAHEAD: u64 = 1;
    /// `MAX_SEED_LOOKAHEAD`, epochs.
    const MAX_SEED_LOOKAHEAD: u64 = 4;
    /// `EPOCHS_PER_ETH1_VOTING_PERIOD`.
    const EPOCHS_PER_ETH1_VOTING_PERIOD: u64;
    /// `SLOTS_PER_HISTORICAL_ROOT`.
    const SLOTS_PER_HISTORICAL_ROOT: u64;
    /// `MIN_EPOCHS_TO_INACTIVITY_PENALTY`.
    const MIN_EPOCHS_TO_INACTIVITY_PENALTY: u64 = 4;
    // ---- preset: state list lengths ----
    /// `EPOCHS_PER_HISTORICAL_VECTOR`.
    const EPOCHS_PER_HISTORICAL_VECTOR: u64;
    /// `EPOCHS_PER_SLASHINGS_VECTOR`.
    const EPOCHS_PER_SLASHINGS_VECTOR: u64;
    /// `HISTORICAL_ROOTS_LIMIT`.
    const HISTORICAL_ROOTS_LIMIT: u64 = 16_777_216;
    /// `VALIDATOR_REGISTRY_LIMIT`.
    const VALIDATOR_REGISTRY_LIMIT: u64 = 1_099_511_627_776;
    // ---- preset: rewards and penalties ----
    /// `BASE_REWARD_FACTOR`.
    const BASE_REWARD_FACTOR: u64 = 64;
    /// `WHISTLEBLOWER_REWARD_QUOTIENT`.
    const WHISTLEBLOWER_REWARD_QUOTIENT: u64 = 512;
    /// `PROPOSER_REWARD_QUOTIENT`.
    const PROPOSER_REWARD_QUOTIENT: u64 = 8;
    /// `INACTIVITY_PENALTY_QUOTIENT`.
    const INACTIVITY_PENALTY_QUOTIENT: u64;
    /// `MIN_SLASHING_PENALTY_QUOTIENT`.
    const MIN_SLASHING_PENALTY_QUOTIENT: u64;
    /// `PROPORTIONAL_SLASHING_MULTIPLIER`.
    const PROPORTIONAL_SLASHING_MULTIPLIER: u64;
    // ---- preset: max operations per block ----
    /// `MAX_PROPOSER_SLASHINGS`.
    const MAX_PROPOSER_SLASHINGS: u64 = 16;
    /// `MAX_ATTESTER_SLASHINGS`.
    const MAX_ATTESTER_SLASHINGS: u64 = 2;
    /// `MAX_ATTESTATIONS`.
    const MAX_ATTESTATIONS: u64 = 128;
    /// `MAX_DEPOSITS`.
    const MAX_DEPOSITS: u64 = 16;
    /// `MAX_VOLUNTARY_EXITS`.
    const MAX_VOLUNTARY_EXITS: u64 = 16;

    // ---- configuration (configs/<preset>.yaml) ----
    /// `MIN_GENESIS_ACTIVE_VALIDATOR_COUNT`.
    const MIN_GENESIS_ACTIVE_VALIDATOR_COUNT: u64;
    /// `MIN_GENESIS_TIME`, seconds since the Unix epoch.
    const MIN_GENESIS_TIME: u64;
    /// `GENESIS_FORK_VERSION`.
    const GENESIS_FORK_VERSION: Version;
    /// `GENESIS_DELAY`, seconds.
    const GENESIS_DELAY: u64;
    /// `SECONDS_PER_SLOT`.
    const SECONDS_PER_SLOT: u64;
    /// `SECONDS_PER_ETH1_BLOCK`.
    const SECONDS_PER_ETH1_BLOCK: u64 = 14;
    /// `MIN_VALIDATOR_WITHDRAWABILITY_DELAY`, epochs.
    const MIN_VALIDATOR_WITHDRAWABILITY_DELAY: u64 = 256;
    /// `SHARD_COMMITTEE_PERIOD`, epochs.
    const SHARD_COMMITTEE_PERIOD: u64;
    /// `ETH1_FOLLOW_DISTANCE`, eth1 blocks.
    const ETH1_FOLLOW_DISTANCE: u64;
    /// `EJECTION_BALANCE`, Gwei.
    const EJECTION_BALANCE: u64 = 16_000_000_000;
    /// `MIN_PER_EPOCH_CHURN_LIMIT`.
    const MIN_PER_EPOCH_CHURN_LIMIT: u64 = 4;
    /// `CHURN_LIMIT_QUOTIENT`.
    const CHURN_LIMIT_QUOTIENT: u64;
}

/// The `minimal` preset with `configs/minimal.yaml`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct MinimalSpec;

/// The `mainnet` preset with `configs/mainnet.yaml`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct MainnetSpec;

impl EthSpec for MinimalSpec {
    type SlotsPerHistoricalRoot = U64;
    type EpochsPerHistoricalVector = U64;
    type EpochsPerSlashingsVector = U64;
    type HistoricalRootsLimit = U16777216;
    type ValidatorRegistryLimit = U1099511627776;
    type MaxValidatorsPerCommittee = U2048;
    type SlotsPerEth1VotingPeriod = U32;
    type MaxPendingAttestations = U1024;
    type MaxProposerSlashings = U16;
    type MaxAttesterSlashings = U2;
    type MaxAttestations = U128;
    type MaxDeposits = U16;
    type MaxVoluntaryExits = U16;

    const PRESET_BASE: &'static str = "minimal";
    const MAX_COMMITTEES_PER_SLOT: u64 = 4;
    const TARGET_COMMITTEE_SIZE: u64 = 4;
    const SHUFFLE_ROUND_COUNT: u64 = 10;
    const SAFE_SLOTS_TO_UPDATE_JUSTIFIED: u64 = 2;
    const SLOTS_PER_EPOCH: u64 = 8;
    const EPOCHS_PER_ETH1_VOTING_PERIOD: u64 = 4;
    const SLOTS_PER_HISTORICAL_ROOT: u64 = 64;
    const EPOCHS_PER_HISTORICAL_VECTOR: u64 = 64;
    const EPOCHS_PER_SLASHINGS_VECTOR: u64 = 64;
    const INACTIVITY_PENALTY_QUOTIENT: u64 = 33_554_432;
    const MIN_SLASHING_PENALTY_QUOTIENT: u64 = 64;
    const PROPORTIONAL_SLASHING_MULTIPLIER: u64 = 2;

    const MIN_GENESIS_ACTIVE_VALIDATOR_COUNT: u64 = 64;
    const MIN_GENESIS_TIME: u64 = 1_578_009_600;
    const GENESIS_FORK_VERSION: Version = [0, 0, 0, 1];
    const GENESIS_DELAY: u64 = 300;
    const SECONDS_PER_SLOT: u64 = 6;
    const SHARD_COMMITTEE_PERIOD: u64 = 64;
    const ETH1_FOLLOW_DISTANCE: u64 = 16;
    const CHURN_LIMIT_QUOTIENT: u64 = 32;
}

impl EthSpec for MainnetSpec {
    type SlotsPerHistoricalRoot = U8192;
    type EpochsPerHistoricalVector = U65536;
    type EpochsPerSlashingsVector = U8192;
    type HistoricalRootsLimit = U16777216;
    type ValidatorRegistryLimit = U1099511627776;
    type MaxValidatorsPerCommittee = U2048;
    type SlotsPerEth1VotingPeriod = U2048;
    type MaxPendingAttestations = U4096;
    type MaxProposerSlashings = U16;
    type MaxAttesterSlashings = U2;
    type MaxAttestations = U128;
    type MaxDeposits = U16;
    type MaxVoluntaryExits = U16;

    const PRESET_BASE: &'static str = "mainnet";
    const MAX_COMMITTEES_PER_SLOT: u64 = 64;
    const TARGET_COMMITTEE_SIZE: u64 = 128;
    const SHUFFLE_ROUND_COUNT: u64 = 90;
    const SAFE_SLOTS_TO_UPDATE_JUSTIFIED: u64 = 8;
    const SLOTS_PER_EPOCH: u64 = 32;
    const EPOCHS_PER_ETH1_VOTING_PERIOD: u64 = 64;
    const SLOTS_PER_HISTORICAL_ROOT: u64 = 8192;
    const EPOCHS_PER_HISTORICAL_VECTOR: u64 = 65536;
    const EPOCHS_PER_SLASHINGS_VECTOR: u64 = 8192;
    const INACTIVITY_PENALTY_QUOTIENT: u64 = 67_108_864;
    const MIN_SLASHING_PENALTY_QUOTIENT: u64 = 128;
    const PROPORTIONAL_SLASHING_MULTIPLIER: u64 = 1;

    const MIN_GENESIS_ACTIVE_VALIDATOR_COUNT: u64 = 16384;
    const MIN_GENESIS_TIME: u64 = 1_606_824_000;
    const GENESIS_FORK_VERSION: Version = [0, 0, 0, 0];
    const GENESIS_DELAY: u64 = 604_800;
    const SECONDS_PER_SLOT: u64 = 12;
    const SHARD_COMMITTEE_PERIOD: u64 = 256;
    const ETH1_FOLLOW_DISTANCE: u64 = 2048;
    const CHURN_LIMIT_QUOTIENT: u64 = 65536;
}

/// A preset chosen at run time (CLI flags, finding files). Maps to [`MinimalSpec`] / [`MainnetSpec`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Preset {
    /// `minimal`.
    Minimal,
    /// `mainnet`.
    Mainnet,
}

impl Preset {
    /// Both presets, minimal first.
    pub const ALL: [Preset; 2] = [Preset::Minimal, Preset::Mainnet];

    /// The directory name used by consensus-spec-tests.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Minimal => MinimalSpec::PRESET_BASE,
            Preset::Mainnet => MainnetSpec::PRESET_BASE,
        }
    }

    /// Parses `"minimal"` / `"mainnet"`.
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl core::fmt::Display for Preset {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
