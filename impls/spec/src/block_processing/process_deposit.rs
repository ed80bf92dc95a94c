//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#deposits>

use crate::helpers::misc::{compute_domain, compute_signing_root};
use crate::helpers::mutators::increase_balance;
use crate::helpers::predicates::is_valid_merkle_branch;
use crate::uint64::{add, len_u64, rem, sub};
use crate::Result;
use diverge_types::constants::{DEPOSIT_CONTRACT_TREE_DEPTH, DOMAIN_DEPOSIT, FAR_FUTURE_EPOCH};
use diverge_types::{bls, hash_tree_root, BeaconState, Deposit, DepositMessage, EthSpec, Reject, Validator};

/// The new registry entry of a deposit (effective balance rounded down to the increment, capped).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#deposits>
///
/// # Errors
/// None in practice; typed for the no-panic policy.
pub fn get_validator_from_deposit<E: EthSpec>(deposit: &Deposit) -> Result<Validator> {
    let amount = deposit.data.amount;
    let effective_balance = sub(amount, rem(amount, E::EFFECTIVE_BALANCE_INCREMENT)?)?.min(E::MAX_EFFECTIVE_BALANCE);

    Ok(Validator {
        pubkey: deposit.data.pubkey,
        withdrawal_credentials: deposit.data.withdrawal_credentials,
        activation_eligibility_epoch: FAR_FUTURE_EPOCH,
        activation_epoch: FAR_FUTURE_EPOCH,
        exit_epoch: FAR_FUTURE_EPOCH,
        withdrawable_epoch: FAR_FUTURE_EPOCH,
        effective_balance,
        slashed: false,
    })
}

/// Verifies the deposit's Merkle branch against `state.eth1_data.deposit_root`, then adds a
/// validator (if the proof of possession verifies; otherwise the deposit is skipped, not rejected)
/// or tops up an existing one. No BLS mode: the proof of possession is always verified
/// ([`bls::verify_deposit_signature`]), since it decides the post-state, not validity.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#deposits>
///
/// # Errors
/// [`Reject::DepositInvalidMerkleProof`], [`Reject::ArithmeticOverflow`] (deposit index or top-up),
/// [`Reject::ListFull`] (registry limit).
pub fn process_deposit<E: EthSpec>(state: &mut BeaconState<E>, deposit: &Deposit) -> Result<()> {
    // Verify the Merkle branch
    // > assert is_valid_merkle_branch(leaf=hash_tree_root(deposit.data), branch=deposit.proof,
    // >     depth=DEPOSIT_CONTRACT_TREE_DEPTH + 1, index=state.eth1_deposit_index, root=state.eth1_data.deposit_root)
    if !is_valid_merkle_branch(
        &hash_tree_root(&deposit.data),
        &deposit.proof,
        add(DEPOSIT_CONTRACT_TREE_DEPTH, 1)?, // Add 1 for the List length mix-in
        state.eth1_deposit_index,
        &state.eth1_data.deposit_root,
    )? {
        return Err(Reject::DepositInvalidMerkleProof);
    }

    // Deposits must be processed in order
    state.eth1_deposit_index = add(state.eth1_deposit_index, 1)?;

    let pubkey = deposit.data.pubkey;
    let amount = deposit.data.amount;
    match state.validators.iter().position(|v| v.pubkey == pubkey) {
        None => {
            // Verify the deposit signature (proof of possession) which is not checked by the deposit contract
            let deposit_message = DepositMessage {
                pubkey: deposit.data.pubkey,
                withdrawal_credentials: deposit.data.withdrawal_credentials,
                amount: deposit.data.amount,
            };
            // Fork-agnostic domain since deposits are valid across forks
            let domain = compute_domain::<E>(DOMAIN_DEPOSIT, None, None);
            let signing_root = compute_signing_root(&deposit_message, &domain);
            // (Always verified, whatever the run's BLS mode: the skip branch is compared too.)
            if !bls::verify_deposit_signature(&pubkey, &signing_root, &deposit.data.signature) {
                return Ok(());
            }

            // Add validator and balance entries
            state.validators.push(get_validator_from_deposit::<E>(deposit)?).map_err(|_| Reject::ListFull)?;
            state.balances.push(amount).map_err(|_| Reject::ListFull)?;
        }
        Some(index) => {
            // Increase balance by deposit amount
            increase_balance(state, len_u64(index)?, amount)?;
        }
    }
    Ok(())
}
