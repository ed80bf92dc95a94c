//! Spec helpers of `specs/phase0/beacon-chain.md#helper-functions` (v1.1.10) that need no cache.

use crate::arith::{us, SafeArith};
use crate::state::MState;
use diverge_types::constants::{DomainType, GENESIS_EPOCH};
use diverge_types::*;

/// `compute_epoch_at_slot(slot)`.
pub fn compute_epoch_at_slot<E: EthSpec>(slot: u64) -> u64 {
    slot.checked_div(E::SLOTS_PER_EPOCH).unwrap_or(0)
}

/// `compute_start_slot_at_epoch(epoch)`.
///
/// # Errors
/// Overflow.
pub fn compute_start_slot_at_epoch<E: EthSpec>(epoch: u64) -> Result<u64, Reject> {
    epoch.smul(E::SLOTS_PER_EPOCH)
}

/// `compute_activation_exit_epoch(epoch)`: `epoch + 1 + MAX_SEED_LOOKAHEAD`.
///
/// # Errors
/// Overflow.
pub fn compute_activation_exit_epoch<E: EthSpec>(epoch: u64) -> Result<u64, Reject> {
    epoch.sadd(1)?.sadd(E::MAX_SEED_LOOKAHEAD)
}

/// `get_current_epoch(state)`.
pub fn get_current_epoch<E: EthSpec>(state: &MState<E>) -> u64 {
    compute_epoch_at_slot::<E>(state.slot)
}

/// `get_previous_epoch(state)`.
pub fn get_previous_epoch<E: EthSpec>(state: &MState<E>) -> u64 {
    get_current_epoch(state).checked_sub(1).unwrap_or(GENESIS_EPOCH)
}

/// `is_active_validator(validator, epoch)`.
pub fn is_active_validator(v: &Validator, epoch: u64) -> bool {
    v.activation_epoch <= epoch && epoch < v.exit_epoch
}

/// `is_slashable_validator(validator, epoch)`.
pub fn is_slashable_validator(v: &Validator, epoch: u64) -> bool {
    !v.slashed && v.activation_epoch <= epoch && epoch < v.withdrawable_epoch
}

/// `is_slashable_attestation_data(data_1, data_2)`.
pub fn is_slashable_attestation_data(d1: &AttestationData, d2: &AttestationData) -> bool {
    (d1 != d2 && d1.target.epoch == d2.target.epoch)
        || (d1.source.epoch < d2.source.epoch && d2.target.epoch < d1.target.epoch)
}

/// `integer_squareroot(n)`: Newton's method as the spec writes it, so `n = 2**64 - 1` overflows
/// in `x + 1` exactly as the v1.1.10 Python does.
///
/// # Errors
/// Overflow at `n = 2**64 - 1`.
pub fn integer_squareroot(n: u64) -> Result<u64, Reject> {
    let mut x = n;
    let mut y = x.sadd(1)?.sdiv(2)?;
    while y < x {
        x = y;
        y = x.sadd(n.sdiv(x)?)?.sdiv(2)?;
    }
    Ok(x)
}

/// `is_valid_merkle_branch(leaf, branch, depth, index, root)`.
pub fn is_valid_merkle_branch(leaf: Root, branch: &[Root], depth: u64, index: u64, root: Root) -> bool {
    let mut value = leaf;
    for i in 0..depth {
        let Some(node) = branch.get(us(i)) else { return false };
        let bit = index.checked_shr(u32::try_from(i).unwrap_or(u32::MAX)).unwrap_or(0) & 1;
        let mut buf = [0u8; 64];
        let (left, right) = if bit == 1 { (node, &value) } else { (&value, node) };
        buf[..32].copy_from_slice(left.as_slice());
        buf[32..].copy_from_slice(right.as_slice());
        value = Root::from(hash(&buf));
    }
    value == root
}

/// `compute_fork_data_root(current_version, genesis_validators_root)`.
pub fn compute_fork_data_root(current_version: Version, genesis_validators_root: Root) -> Root {
    ForkData { current_version, genesis_validators_root }.tree_hash_root()
}

/// `compute_domain(domain_type, fork_version, genesis_validators_root)`.
pub fn compute_domain(domain_type: DomainType, fork_version: Version, genesis_validators_root: Root) -> Root {
    let fork_data_root = compute_fork_data_root(fork_version, genesis_validators_root);
    let mut d = [0u8; 32];
    d[..4].copy_from_slice(&domain_type);
    for (dst, src) in d.iter_mut().skip(4).zip(fork_data_root.as_slice().iter()) {
        *dst = *src;
    }
    Root::from(d)
}

/// `get_domain(state, domain_type, epoch)`.
pub fn get_domain<E: EthSpec>(state: &MState<E>, domain_type: DomainType, epoch: u64) -> Root {
    let version = if epoch < state.fork.epoch { state.fork.previous_version } else { state.fork.current_version };
    compute_domain(domain_type, version, state.genesis_validators_root)
}

/// `compute_signing_root(object, domain)` for an object given by its `hash_tree_root`.
pub fn compute_signing_root(object_root: Root, domain: Root) -> Root {
    SigningData { object_root, domain }.tree_hash_root()
}

/// `get_randao_mix(state, epoch)`.
///
/// # Errors
/// [`Reject::Internal`] if the vector is short (cannot happen).
pub fn get_randao_mix<E: EthSpec>(state: &MState<E>, epoch: u64) -> Result<Root, Reject> {
    let i = epoch.srem(E::EPOCHS_PER_HISTORICAL_VECTOR)?;
    state.randao_mixes.get(us(i)).copied().ok_or(Reject::Internal)
}

/// `get_seed(state, epoch, domain_type)`.
///
/// # Errors
/// Overflow of `epoch + EPOCHS_PER_HISTORICAL_VECTOR - MIN_SEED_LOOKAHEAD - 1`.
pub fn get_seed<E: EthSpec>(state: &MState<E>, epoch: u64, domain_type: DomainType) -> Result<Root, Reject> {
    let mix_epoch = epoch.sadd(E::EPOCHS_PER_HISTORICAL_VECTOR)?.ssub(E::MIN_SEED_LOOKAHEAD)?.ssub(1)?;
    let mix = get_randao_mix(state, mix_epoch)?;
    let mut buf = [0u8; 44];
    buf[..4].copy_from_slice(&domain_type);
    buf[4..12].copy_from_slice(&epoch.to_le_bytes());
    buf[12..].copy_from_slice(mix.as_slice());
    Ok(Root::from(hash(&buf)))
}

/// `get_block_root_at_slot(state, slot)`.
///
/// # Errors
/// [`Reject::BlockRootSlotOutOfRange`] when `not slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT`.
pub fn get_block_root_at_slot<E: EthSpec>(state: &MState<E>, slot: u64) -> Result<Root, Reject> {
    if slot >= state.slot {
        return Err(Reject::BlockRootSlotOutOfRange);
    }
    if state.slot > slot.sadd(E::SLOTS_PER_HISTORICAL_ROOT)? {
        return Err(Reject::BlockRootSlotOutOfRange);
    }
    let i = slot.srem(E::SLOTS_PER_HISTORICAL_ROOT)?;
    state.block_roots.get(us(i)).copied().ok_or(Reject::Internal)
}

/// `get_block_root(state, epoch)`.
///
/// # Errors
/// As [`get_block_root_at_slot`].
pub fn get_block_root<E: EthSpec>(state: &MState<E>, epoch: u64) -> Result<Root, Reject> {
    get_block_root_at_slot(state, compute_start_slot_at_epoch::<E>(epoch)?)
}

/// `increase_balance(state, index, delta)`.
///
/// # Errors
/// Index out of range, overflow.
pub fn increase_balance<E: EthSpec>(state: &mut MState<E>, index: u64, delta: u64) -> Result<(), Reject> {
    let b = state.balances.get_mut(us(index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    *b = b.sadd(delta)?;
    Ok(())
}

/// `decrease_balance(state, index, delta)` (saturates at 0).
///
/// # Errors
/// Index out of range.
pub fn decrease_balance<E: EthSpec>(state: &mut MState<E>, index: u64, delta: u64) -> Result<(), Reject> {
    let b = state.balances.get_mut(us(index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    *b = b.saturating_sub(delta);
    Ok(())
}

/// `hash(a + b)` of two 32-byte values.
pub fn hash_concat(a: &[u8], b: &[u8]) -> [u8; 32] {
    let mut v = Vec::with_capacity(a.len().saturating_add(b.len()));
    v.extend_from_slice(a);
    v.extend_from_slice(b);
    hash(&v)
}
