//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#operations>

use crate::block_processing::{
    process_attestation, process_attester_slashing, process_deposit, process_proposer_slashing, process_voluntary_exit,
};
use crate::uint64::{len_u64, sub};
use crate::Result;
use diverge_types::{BeaconBlockBody, BeaconState, BlsMode, EthSpec, Reject};

/// Checks the deposit count, then applies every operation of the body, kind by kind, in order.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#operations>
///
/// # Errors
/// [`Reject::DepositCountMismatch`]; [`Reject::ArithmeticOverflow`] when
/// `state.eth1_deposit_index > state.eth1_data.deposit_count`; the first failing operation.
pub fn process_operations<E: EthSpec>(state: &mut BeaconState<E>, body: &BeaconBlockBody<E>, bls: BlsMode) -> Result<()> {
    // Verify that outstanding deposits are processed up to the maximum number of deposits
    // > assert len(body.deposits) == min(MAX_DEPOSITS, state.eth1_data.deposit_count - state.eth1_deposit_index)
    let outstanding = sub(state.eth1_data.deposit_count, state.eth1_deposit_index)?;
    if len_u64(body.deposits.len())? != E::MAX_DEPOSITS.min(outstanding) {
        return Err(Reject::DepositCountMismatch);
    }

    for operation in body.proposer_slashings.iter() {
        process_proposer_slashing(state, operation, bls)?;
    }
    for operation in body.attester_slashings.iter() {
        process_attester_slashing(state, operation, bls)?;
    }
    for operation in body.attestations.iter() {
        process_attestation(state, operation, bls)?;
    }
    for operation in body.deposits.iter() {
        process_deposit(state, operation)?;
    }
    for operation in body.voluntary_exits.iter() {
        process_voluntary_exit(state, operation, bls)?;
    }
    Ok(())
}
