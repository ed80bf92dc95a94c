//! Genesis.
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#genesis>

use crate::block_processing::process_deposit;
use crate::helpers::accessors::get_active_validator_indices;
use crate::uint64::{add, len_u64, rem, sub};
use crate::Result;
use diverge_types::constants::GENESIS_EPOCH;
use diverge_types::ssz_types::typenum::U4294967296;
use diverge_types::ssz_types::{BitVector, FixedVector, VariableList};
use diverge_types::{
    hash_tree_root, BeaconBlockBody, BeaconBlockHeader, BeaconState, Checkpoint, Deposit, DepositData,
    EthSpec, Eth1Data, Fork, Reject, Root,
};

/// `BeaconBlockBody()`: every field at its default.
fn empty_block_body<E: EthSpec>() -> BeaconBlockBody<E> {
    BeaconBlockBody {
        randao_reveal: Default::default(),
        eth1_data: Eth1Data::default(),
        graffiti: Root::ZERO,
        proposer_slashings: VariableList::empty(),
        attester_slashings: VariableList::empty(),
        attestations: VariableList::empty(),
        deposits: VariableList::empty(),
        voluntary_exits: VariableList::empty(),
    }
}

/// The genesis state from an eth1 block and its deposits.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#genesis-state>
///
/// Each deposit is checked against the deposit root of the deposit list up to and including it,
/// as in the spec; deposits with an invalid proof of possession are skipped (always verified:
/// no BLS mode, see [`process_deposit`]).
///
/// # Errors
/// [`Reject::DepositInvalidMerkleProof`], [`Reject::ArithmeticOverflow`]
/// (`eth1_timestamp + GENESIS_DELAY`), [`Reject::ListFull`].
pub fn initialize_beacon_state_from_eth1<E: EthSpec>(
    eth1_block_hash: Root,
    eth1_timestamp: u64,
    deposits: &[Deposit],
) -> Result<BeaconState<E>> {
    let fork = Fork {
        previous_version: E::GENESIS_FORK_VERSION,
        current_version: E::GENESIS_FORK_VERSION,
        epoch: GENESIS_EPOCH,
    };
    let mut state = BeaconState::<E> {
        genesis_time: add(eth1_timestamp, E::GENESIS_DELAY)?,
        genesis_validators_root: Root::ZERO,
        slot: 0,
        fork,
        latest_block_header: BeaconBlockHeader {
            body_root: hash_tree_root(&empty_block_body::<E>()),
            ..BeaconBlockHeader::default()
        },
        block_roots: FixedVector::default().into(),
        state_roots: FixedVector::default().into(),
        historical_roots: VariableList::empty().into(),
        eth1_data: Eth1Data { deposit_root: Root::ZERO, deposit_count: len_u64(deposits.len())?, block_hash: eth1_block_hash },
        eth1_data_votes: VariableList::empty().into(),
        eth1_deposit_index: 0,
        validators: VariableList::empty().into(),
        balances: VariableList::empty().into(),
        randao_mixes: FixedVector::from_elem(eth1_block_hash).into(), // Seed RANDAO with Eth1 entropy
        slashings: FixedVector::default().into(),
        previous_epoch_attestations: VariableList::empty().into(),
        current_epoch_attestations: VariableList::empty().into(),
        justification_bits: BitVector::new(),
        previous_justified_checkpoint: Checkpoint::default(),
        current_justified_checkpoint: Checkpoint::default(),
        finalized_checkpoint: Checkpoint::default(),
    };

    // Process deposits
    let mut leaves: VariableList<DepositData, U4294967296> = VariableList::empty();
    for deposit in deposits {
        // > deposit_data_list = List[DepositData, 2**DEPOSIT_CONTRACT_TREE_DEPTH](*leaves[:index + 1])
        leaves.push(deposit.data.clone()).map_err(|_| Reject::ListFull)?;
        state.eth1_data.deposit_root = hash_tree_root(&leaves);
        process_deposit(&mut state, deposit)?;
    }

    // Process activations
    for (validator, balance) in state.validators.iter_mut().zip(state.balances.iter()) {
        validator.effective_balance =
            sub(*balance, rem(*balance, E::EFFECTIVE_BALANCE_INCREMENT)?)?.min(E::MAX_EFFECTIVE_BALANCE);
        if validator.effective_balance == E::MAX_EFFECTIVE_BALANCE {
            validator.activation_eligibility_epoch = GENESIS_EPOCH;
            validator.activation_epoch = GENESIS_EPOCH;
        }
    }
    if state.balances.len() < state.validators.len() {
        // `state.balances[index]` would raise.
        return Err(Reject::ValidatorIndexOutOfRange);
    }

    // Set genesis validators root for domain separation and chain versioning
    state.genesis_validators_root = hash_tree_root(&state.validators);

    Ok(state)
}

/// Enough time and enough active validators.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#genesis-state>
///
/// # Errors
/// None in practice; typed for the no-panic policy.
pub fn is_valid_genesis_state<E: EthSpec>(state: &BeaconState<E>) -> Result<bool> {
    if state.genesis_time < E::MIN_GENESIS_TIME {
        return Ok(false);
    }
    if len_u64(get_active_validator_indices(state, GENESIS_EPOCH).len())? < E::MIN_GENESIS_ACTIVE_VALIDATOR_COUNT {
        return Ok(false);
    }
    Ok(true)
}
