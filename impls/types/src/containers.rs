//! Every phase0 container of consensus-specs v1.1.10, with SSZ encode/decode and `hash_tree_root`.
//!
//! Source: `specs/phase0/beacon-chain.md#containers` and `specs/phase0/validator.md` (Eth1Block,
//! AggregateAndProof, SignedAggregateAndProof) at v1.1.10. Field order and types are the spec's;
//! SSZ and merkleization come from `ethereum_ssz` / `ssz_types` / `tree_hash`.

use crate::preset::EthSpec;
use crate::shared::Shared;
use crate::{BlsPubkey, BlsSignature, Root};
use ssz_derive::{Decode, Encode};
use ssz_types::typenum::{U33, U4};
use ssz_types::{BitList, BitVector, FixedVector, VariableList};
use tree_hash_derive::TreeHash;

/// `Bytes32`.
pub type Bytes32 = Root;
/// `Hash32` (eth1 block hash).
pub type Hash32 = Root;
/// `Version`.
pub type Version = [u8; 4];

/// `Fork`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct Fork {
    /// Version before the fork.
    pub previous_version: Version,
    /// Version after the fork.
    pub current_version: Version,
    /// Epoch of latest fork.
    pub epoch: u64,
}

/// `ForkData`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct ForkData {
    /// Fork version.
    pub current_version: Version,
    /// `hash_tree_root` of the genesis validators.
    pub genesis_validators_root: Root,
}

/// `Checkpoint`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Encode, Decode, TreeHash)]
pub struct Checkpoint {
    /// Epoch.
    pub epoch: u64,
    /// Block root.
    pub root: Root,
}

/// `Validator`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct Validator {
    /// BLS public key (compressed, 48 bytes).
    pub pubkey: BlsPubkey,
    /// Commitment to pubkey for withdrawals.
    pub withdrawal_credentials: Bytes32,
    /// Balance at stake, Gwei.
    pub effective_balance: u64,
    /// Whether the validator was slashed.
    pub slashed: bool,
    /// When criteria for activation were met.
    pub activation_eligibility_epoch: u64,
    /// Activation epoch.
    pub activation_epoch: u64,
    /// Exit epoch.
    pub exit_epoch: u64,
    /// When the validator can withdraw funds.
    pub withdrawable_epoch: u64,
}

/// `AttestationData`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Encode, Decode, TreeHash)]
pub struct AttestationData {
    /// Slot.
    pub slot: u64,
    /// Committee index within the slot.
    pub index: u64,
    /// LMD GHOST vote.
    pub beacon_block_root: Root,
    /// FFG source.
    pub source: Checkpoint,
    /// FFG target.
    pub target: Checkpoint,
}

/// `IndexedAttestation`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct IndexedAttestation<E: EthSpec> {
    /// Validator indices, `List[ValidatorIndex, MAX_VALIDATORS_PER_COMMITTEE]`.
    pub attesting_indices: VariableList<u64, E::MaxValidatorsPerCommittee>,
    /// Attestation data.
    pub data: AttestationData,
    /// Aggregate signature.
    pub signature: BlsSignature,
}

/// `PendingAttestation`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TreeHash)]
pub struct PendingAttestation<E: EthSpec> {
    /// `Bitlist[MAX_VALIDATORS_PER_COMMITTEE]`.
    pub aggregation_bits: BitList<E::MaxValidatorsPerCommittee>,
    /// Attestation data.
    pub data: AttestationData,
    /// Inclusion delay, slots.
    pub inclusion_delay: u64,
    /// Index of the proposer that included it.
    pub proposer_index: u64,
}

/// `Eth1Data`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Encode, Decode, TreeHash)]
pub struct Eth1Data {
    /// Deposit tree root.
    pub deposit_root: Root,
    /// Number of deposits.
    pub deposit_count: u64,
    /// Eth1 block hash.
    pub block_hash: Hash32,
}

/// `HistoricalBatch`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct HistoricalBatch<E: EthSpec> {
    /// `Vector[Root, SLOTS_PER_HISTORICAL_ROOT]`.
    pub block_roots: FixedVector<Root, E::SlotsPerHistoricalRoot>,
    /// `Vector[Root, SLOTS_PER_HISTORICAL_ROOT]`.
    pub state_roots: FixedVector<Root, E::SlotsPerHistoricalRoot>,
}

/// `DepositMessage`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct DepositMessage {
    /// Public key.
    pub pubkey: BlsPubkey,
    /// Withdrawal credentials.
    pub withdrawal_credentials: Bytes32,
    /// Amount, Gwei.
    pub amount: u64,
}

/// `DepositData`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct DepositData {
    /// Public key.
    pub pubkey: BlsPubkey,
    /// Withdrawal credentials.
    pub withdrawal_credentials: Bytes32,
    /// Amount, Gwei.
    pub amount: u64,
    /// Signature over the `DepositMessage` (proof of possession).
    pub signature: BlsSignature,
}

/// `BeaconBlockHeader`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct BeaconBlockHeader {
    /// Slot.
    pub slot: u64,
    /// Proposer index.
    pub proposer_index: u64,
    /// Parent block root.
    pub parent_root: Root,
    /// Post-state root.
    pub state_root: Root,
    /// Body root.
    pub body_root: Root,
}

/// `SigningData`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct SigningData {
    /// Root of the signed object.
    pub object_root: Root,
    /// Domain.
    pub domain: Root,
}

/// `ProposerSlashing`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct ProposerSlashing {
    /// First signed header.
    pub signed_header_1: SignedBeaconBlockHeader,
    /// Second signed header.
    pub signed_header_2: SignedBeaconBlockHeader,
}

/// `AttesterSlashing`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct AttesterSlashing<E: EthSpec> {
    /// First attestation.
    pub attestation_1: IndexedAttestation<E>,
    /// Second attestation.
    pub attestation_2: IndexedAttestation<E>,
}

/// `Attestation`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TreeHash)]
pub struct Attestation<E: EthSpec> {
    /// `Bitlist[MAX_VALIDATORS_PER_COMMITTEE]`.
    pub aggregation_bits: BitList<E::MaxValidatorsPerCommittee>,
    /// Attestation data.
    pub data: AttestationData,
    /// Aggregate signature.
    pub signature: BlsSignature,
}

/// `Deposit`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct Deposit {
    /// Merkle path to the deposit root, `Vector[Bytes32, DEPOSIT_CONTRACT_TREE_DEPTH + 1]`.
    pub proof: FixedVector<Bytes32, U33>,
    /// Deposit data.
    pub data: DepositData,
}

/// `VoluntaryExit`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct VoluntaryExit {
    /// Earliest epoch when the exit can be processed.
    pub epoch: u64,
    /// Exiting validator.
    pub validator_index: u64,
}

/// `SignedVoluntaryExit`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct SignedVoluntaryExit {
    /// The exit.
    pub message: VoluntaryExit,
    /// Validator signature.
    pub signature: BlsSignature,
}

/// `BeaconBlockBody`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TreeHash)]
pub struct BeaconBlockBody<E: EthSpec> {
    /// RANDAO reveal.
    pub randao_reveal: BlsSignature,
    /// Eth1 data vote.
    pub eth1_data: Eth1Data,
    /// Arbitrary data.
    pub graffiti: Bytes32,
    /// `List[ProposerSlashing, MAX_PROPOSER_SLASHINGS]`.
    pub proposer_slashings: VariableList<ProposerSlashing, E::MaxProposerSlashings>,
    /// `List[AttesterSlashing, MAX_ATTESTER_SLASHINGS]`.
    pub attester_slashings: VariableList<AttesterSlashing<E>, E::MaxAttesterSlashings>,
    /// `List[Attestation, MAX_ATTESTATIONS]`.
    pub attestations: VariableList<Attestation<E>, E::MaxAttestations>,
    /// `List[Deposit, MAX_DEPOSITS]`.
    pub deposits: VariableList<Deposit, E::MaxDeposits>,
    /// `List[SignedVoluntaryExit, MAX_VOLUNTARY_EXITS]`.
    pub voluntary_exits: VariableList<SignedVoluntaryExit, E::MaxVoluntaryExits>,
}

/// `BeaconBlock`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TreeHash)]
pub struct BeaconBlock<E: EthSpec> {
    /// Slot.
    pub slot: u64,
    /// Proposer index.
    pub proposer_index: u64,
    /// Parent block root.
    pub parent_root: Root,
    /// Post-state root.
    pub state_root: Root,
    /// Body.
    pub body: BeaconBlockBody<E>,
}

/// `SignedBeaconBlock`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TreeHash)]
pub struct SignedBeaconBlock<E: EthSpec> {
    /// The block.
    pub message: BeaconBlock<E>,
    /// Proposer signature.
    pub signature: BlsSignature,
}

/// `SignedBeaconBlockHeader`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct SignedBeaconBlockHeader {
    /// The header.
    pub message: BeaconBlockHeader,
    /// Proposer signature.
    pub signature: BlsSignature,
}

/// `BeaconState`. Its list and vector fields are [`Shared`] (copy-on-write, memoised roots): a
/// clone costs reference counts, and SSZ and `hash_tree_root` are the spec's.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TreeHash)]
pub struct BeaconState<E: EthSpec> {
    // Versioning
    /// Genesis time, seconds.
    pub genesis_time: u64,
    /// Root of the genesis validator registry.
    pub genesis_validators_root: Root,
    /// Current slot.
    pub slot: u64,
    /// Fork.
    pub fork: Fork,
    // History
    /// Header of the latest block.
    pub latest_block_header: BeaconBlockHeader,
    /// `Vector[Root, SLOTS_PER_HISTORICAL_ROOT]`.
    pub block_roots: Shared<FixedVector<Root, E::SlotsPerHistoricalRoot>>,
    /// `Vector[Root, SLOTS_PER_HISTORICAL_ROOT]`.
    pub state_roots: Shared<FixedVector<Root, E::SlotsPerHistoricalRoot>>,
    /// `List[Root, HISTORICAL_ROOTS_LIMIT]`.
    pub historical_roots: Shared<VariableList<Root, E::HistoricalRootsLimit>>,
    // Eth1
    /// Eth1 data.
    pub eth1_data: Eth1Data,
    /// `List[Eth1Data, EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH]`.
    pub eth1_data_votes: Shared<VariableList<Eth1Data, E::SlotsPerEth1VotingPeriod>>,
    /// Index of the next deposit to process.
    pub eth1_deposit_index: u64,
    // Registry
    /// `List[Validator, VALIDATOR_REGISTRY_LIMIT]`.
    pub validators: Shared<VariableList<Validator, E::ValidatorRegistryLimit>>,
    /// `List[Gwei, VALIDATOR_REGISTRY_LIMIT]`.
    pub balances: Shared<VariableList<u64, E::ValidatorRegistryLimit>>,
    // Randomness
    /// `Vector[Bytes32, EPOCHS_PER_HISTORICAL_VECTOR]`.
    pub randao_mixes: Shared<FixedVector<Bytes32, E::EpochsPerHistoricalVector>>,
    // Slashings
    /// Per-epoch sums of slashed effective balances, `Vector[Gwei, EPOCHS_PER_SLASHINGS_VECTOR]`.
    pub slashings: Shared<FixedVector<u64, E::EpochsPerSlashingsVector>>,
    // Attestations
    /// `List[PendingAttestation, MAX_ATTESTATIONS * SLOTS_PER_EPOCH]`.
    pub previous_epoch_attestations: Shared<VariableList<PendingAttestation<E>, E::MaxPendingAttestations>>,
    /// `List[PendingAttestation, MAX_ATTESTATIONS * SLOTS_PER_EPOCH]`.
    pub current_epoch_attestations: Shared<VariableList<PendingAttestation<E>, E::MaxPendingAttestations>>,
    // Finality
    /// `Bitvector[JUSTIFICATION_BITS_LENGTH]`: bit 0 is the current epoch.
    pub justification_bits: BitVector<U4>,
    /// Previous justified checkpoint.
    pub previous_justified_checkpoint: Checkpoint,
    /// Current justified checkpoint.
    pub current_justified_checkpoint: Checkpoint,
    /// Finalized checkpoint.
    pub finalized_checkpoint: Checkpoint,
}

/// `Eth1Block` (validator guide).
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TreeHash)]
pub struct Eth1Block {
    /// Timestamp, seconds.
    pub timestamp: u64,
    /// Deposit root.
    pub deposit_root: Root,
    /// Deposit count.
    pub deposit_count: u64,
}

/// `AggregateAndProof` (validator guide).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TreeHash)]
pub struct AggregateAndProof<E: EthSpec> {
    /// Aggregator.
    pub aggregator_index: u64,
    /// The aggregate.
    pub aggregate: Attestation<E>,
    /// Selection proof.
    pub selection_proof: BlsSignature,
}

/// `SignedAggregateAndProof` (validator guide).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TreeHash)]
pub struct SignedAggregateAndProof<E: EthSpec> {
    /// The message.
    pub message: AggregateAndProof<E>,
    /// Aggregator signature.
    pub signature: BlsSignature,
}
