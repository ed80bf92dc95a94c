//! `process_operations` (`#operations`, v1.1.10).

use super::signatures::SigVerifier;
use super::{process_attestation, process_attester_slashing, process_deposit, process_proposer_slashing, process_voluntary_exit};
use crate::arith::{u, SafeArith};
use crate::state::FastState;
use diverge_types::*;

/// `process_operations(state, body)`: the deposit-count assert, then every operation in order.
///
/// # Errors
/// [`Reject::DepositCountMismatch`], overflow of `deposit_count - eth1_deposit_index`, or the
/// first failing operation.
pub fn process_operations<E: EthSpec>(fs: &mut FastState<E>, body: &BeaconBlockBody<E>, verifier: &mut SigVerifier) -> Result<(), Reject> {
    let outstanding = fs.state.eth1_data.deposit_count.ssub(fs.state.eth1_deposit_index)?;
    if u(body.deposits.len()) != E::MAX_DEPOSITS.min(outstanding) {
        return Err(Reject::DepositCountMismatch);
    }
    for op in body.proposer_slashings.iter() {
        process_proposer_slashing::process_proposer_slashing(fs, op, verifier)?;
    }
    for op in body.attester_slashings.iter() {
        process_attester_slashing::process_attester_slashing(fs, op, verifier)?;
    }
    for op in body.attestations.iter() {
        process_attestation::process_attestation(fs, op, verifier)?;
    }
    for op in body.deposits.iter() {
        process_deposit::process_deposit(fs, op)?;
    }
    for op in body.voluntary_exits.iter() {
        process_voluntary_exit::process_voluntary_exit(fs, op, verifier)?;
    }
    Ok(())
}
