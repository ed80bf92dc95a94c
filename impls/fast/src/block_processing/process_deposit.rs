//! `process_deposit` (`#deposits`, v1.1.10), with the public-key cache for the registry lookup.

use crate::arith::SafeArith;
use crate::helpers::{compute_domain, compute_signing_root, increase_balance, is_valid_merkle_branch};
use crate::state::FastState;
use diverge_types::bls::{self, PublicKey};
use diverge_types::constants::{DEPOSIT_CONTRACT_TREE_DEPTH, DOMAIN_DEPOSIT, FAR_FUTURE_EPOCH};
use diverge_types::*;
use std::sync::Arc;

/// `get_validator_from_deposit(deposit)`.
pub fn get_validator_from_deposit<E: EthSpec>(deposit: &Deposit) -> Validator {
    let amount = deposit.data.amount;
    let effective_balance = amount.saturating_sub(amount.checked_rem(E::EFFECTIVE_BALANCE_INCREMENT).unwrap_or(0)).min(E::MAX_EFFECTIVE_BALANCE);
    Validator {
        pubkey: deposit.data.pubkey,
        withdrawal_credentials: deposit.data.withdrawal_credentials,
        effective_balance,
        slashed: false,
        activation_eligibility_epoch: FAR_FUTURE_EPOCH,
        activation_epoch: FAR_FUTURE_EPOCH,
        exit_epoch: FAR_FUTURE_EPOCH,
        withdrawable_epoch: FAR_FUTURE_EPOCH,
    }
}

/// `process_deposit(state, deposit)`. The proof of possession is checked inline (never batched):
/// its result decides whether a validator is added, not whether the block is valid. It is checked
/// under every BLS mode ([`bls::verify_deposit_signature_with_key`]), so the skip branch is
/// compared under `assume-valid` too.
///
/// # Errors
/// [`Reject::DepositInvalidMerkleProof`], overflow.
pub fn process_deposit<E: EthSpec>(fs: &mut FastState<E>, deposit: &Deposit) -> Result<(), Reject> {
    let leaf = deposit.data.tree_hash_root();
    // Re-injected bug `deposit-merkle-unchecked` (bugs.md A; Nimbus #703): the deposit's Merkle
    // proof against `eth1_data.deposit_root` was not verified, so any deposit data (any amount)
    // was credited: minted ETH.
    #[cfg(not(feature = "bug-deposit-merkle-unchecked"))]
    if !is_valid_merkle_branch(leaf, &deposit.proof, DEPOSIT_CONTRACT_TREE_DEPTH + 1, fs.state.eth1_deposit_index, fs.state.eth1_data.deposit_root) {
        return Err(Reject::DepositInvalidMerkleProof);
    }
    #[cfg(feature = "bug-deposit-merkle-unchecked")]
    let _ = (leaf, is_valid_merkle_branch, DEPOSIT_CONTRACT_TREE_DEPTH);
    fs.state.eth1_deposit_index = fs.state.eth1_deposit_index.sadd(1)?;
    let pubkey = deposit.data.pubkey;
    let amount = deposit.data.amount;
    if let Some(index) = fs.caches.pubkeys.index_of(&pubkey) {
        return increase_balance(&mut fs.state, index, amount);
    }
    let key = PublicKey::from_bytes(&pubkey).ok();
    let message = DepositMessage { pubkey, withdrawal_credentials: deposit.data.withdrawal_credentials, amount };
    let domain = compute_domain(DOMAIN_DEPOSIT, E::GENESIS_FORK_VERSION, Root::ZERO);
    let signing_root = compute_signing_root(message.tree_hash_root(), domain);
    let valid = key.as_ref().is_some_and(|k| bls::verify_deposit_signature_with_key(k, &signing_root, &deposit.data.signature));
    if !valid {
        return Ok(());
    }
    fs.state.validators.push(get_validator_from_deposit::<E>(deposit)).map_err(|_| Reject::ListFull)?;
    fs.state.balances.push(amount).map_err(|_| Reject::ListFull)?;
    Arc::make_mut(&mut fs.caches.pubkeys).push(pubkey, key);
    Ok(())
}
