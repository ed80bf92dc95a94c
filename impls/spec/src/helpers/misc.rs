//! Misc helpers (`compute_*`).
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#misc-1>

use crate::helpers::math::bytes_to_uint64;
use crate::helpers::memo;
use crate::uint64::{add, div, len_u64, mul, rem, sub};
use crate::{validator, Result};
use diverge_types::constants::DomainType;
use diverge_types::preset::Version;
use diverge_types::{hash, hash_tree_root, BeaconState, EthSpec, ForkData, Reject, Root, SigningData, TreeHash};
use std::cell::RefCell;
use std::collections::HashMap;

/// The shuffled position of `index` among `index_count` for `seed` ("swap or not", `SHUFFLE_ROUND_COUNT`
/// rounds).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_shuffled_index>
///
/// # Errors
/// [`Reject::ShuffleIndexOutOfRange`] (`assert index < index_count`);
/// [`Reject::ArithmeticOverflow`] when `pivot + index_count` overflows or `position // 256` does not
/// fit the spec's `uint32` (index counts above 2**40), as Python raises there.
///
/// Memoised as the executable spec memoises it ([`crate::helpers::memo`]): key
/// `(index, index_count, seed)`, `lru_size=SLOTS_PER_EPOCH * 3`.
pub fn compute_shuffled_index<E: EthSpec>(index: u64, index_count: u64, seed: &Root) -> Result<u64> {
    type Key = (&'static str, u64, u64, Root);
    thread_local! {
        static MEMO: memo::Table<Key, u64> = RefCell::new(HashMap::new());
    }
    let lru_size = usize::try_from(mul(E::SLOTS_PER_EPOCH, 3)?).unwrap_or(usize::MAX);
    memo::cache_this(&MEMO, (E::PRESET_BASE, index, index_count, *seed), lru_size, || compute_shuffled_index_body::<E>(index, index_count, seed))
}

/// The body of [`compute_shuffled_index`] (the spec's function before `cache_this` wraps it).
fn compute_shuffled_index_body<E: EthSpec>(index: u64, index_count: u64, seed: &Root) -> Result<u64> {
    // > assert index < index_count
    if index >= index_count {
        return Err(Reject::ShuffleIndexOutOfRange);
    }
    let mut index = index;
    // Swap or not (https://link.springer.com/content/pdf/10.1007%2F978-3-642-32009-5_1.pdf)
    // See the 'generalized domain' algorithm on page 3
    for current_round in 0..E::SHUFFLE_ROUND_COUNT {
        let round = u8::try_from(current_round).map_err(|_| Reject::ArithmeticOverflow)?;
        let pivot_hash = hash(&[seed.as_slice(), &[round]].concat());
        let pivot_bytes = pivot_hash.first_chunk::<8>().ok_or(Reject::Internal)?;
        let pivot = rem(bytes_to_uint64(pivot_bytes), index_count)?;
        let flip = rem(sub(add(pivot, index_count)?, index)?, index_count)?;
        let position = index.max(flip);
        let position_div = u32::try_from(div(position, 256)?).map_err(|_| Reject::ArithmeticOverflow)?;
        let source = hash(&[seed.as_slice(), &[round], &position_div.to_le_bytes()].concat());
        let byte_index = usize::try_from(div(rem(position, 256)?, 8)?).map_err(|_| Reject::Internal)?;
        let byte = *source.get(byte_index).ok_or(Reject::Internal)?;
        let shift = u32::try_from(rem(position, 8)?).map_err(|_| Reject::Internal)?;
        let bit = byte.checked_shr(shift).ok_or(Reject::Internal)? & 1;
        index = if bit != 0 { flip } else { index };
    }
    Ok(index)
}

/// From `indices`, a random index sampled by effective balance.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_proposer_index>
///
/// # Errors
/// [`Reject::NoActiveValidators`] (`assert len(indices) > 0`); [`Reject::ArithmeticOverflow`] when
/// `effective_balance * MAX_RANDOM_BYTE` overflows (a crafted effective balance);
/// [`Reject::ValidatorIndexOutOfRange`] for a candidate not in the registry.
pub fn compute_proposer_index<E: EthSpec>(state: &BeaconState<E>, indices: &[u64], seed: &Root) -> Result<u64> {
    // > assert len(indices) > 0
    if indices.is_empty() {
        return Err(Reject::NoActiveValidators);
    }
    const MAX_RANDOM_BYTE: u64 = 255; // 2**8 - 1
    let mut i: u64 = 0;
    let total = len_u64(indices.len())?;
    loop {
        let shuffled = compute_shuffled_index::<E>(rem(i, total)?, total, seed)?;
        let candidate_index = *usize::try_from(shuffled)
            .ok()
            .and_then(|s| indices.get(s))
            .ok_or(Reject::IndexOutOfRange)?;
        let random_hash = hash(&[seed.as_slice(), &div(i, 32)?.to_le_bytes()].concat());
        let random_byte = *usize::try_from(rem(i, 32)?)
            .ok()
            .and_then(|r| random_hash.get(r))
            .ok_or(Reject::Internal)?;
        let effective_balance = validator(state, candidate_index)?.effective_balance;
        if mul(effective_balance, MAX_RANDOM_BYTE)? >= mul(E::MAX_EFFECTIVE_BALANCE, u64::from(random_byte))? {
            return Ok(candidate_index);
        }
        i = add(i, 1)?;
    }
}

/// The committee `index` of `count` over `indices` shuffled by `seed`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_committee>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] (including `count == 0`); [`Reject::ShuffleIndexOutOfRange`] when
/// `index >= count` makes the range run past `len(indices)`.
pub fn compute_committee<E: EthSpec>(indices: &[u64], seed: &Root, index: u64, count: u64) -> Result<Vec<u64>> {
    let len = len_u64(indices.len())?;
    let start = div(mul(len, index)?, count)?;
    let end = div(mul(len, add(index, 1)?)?, count)?;
    (start..end)
        .map(|i| {
            let shuffled = compute_shuffled_index::<E>(i, len, seed)?;
            usize::try_from(shuffled)
                .ok()
                .and_then(|s| indices.get(s))
                .copied()
                .ok_or(Reject::IndexOutOfRange)
        })
        .collect()
}

/// `Epoch(slot // SLOTS_PER_EPOCH)`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_epoch_at_slot>
///
/// # Errors
/// None in practice (`SLOTS_PER_EPOCH > 0`); typed for the no-panic policy.
pub fn compute_epoch_at_slot<E: EthSpec>(slot: u64) -> Result<u64> {
    div(slot, E::SLOTS_PER_EPOCH)
}

/// `Slot(epoch * SLOTS_PER_EPOCH)`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_start_slot_at_epoch>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] for epochs past `2**64 / SLOTS_PER_EPOCH`.
pub fn compute_start_slot_at_epoch<E: EthSpec>(epoch: u64) -> Result<u64> {
    mul(epoch, E::SLOTS_PER_EPOCH)
}

/// `Epoch(epoch + 1 + MAX_SEED_LOOKAHEAD)`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_activation_exit_epoch>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`].
pub fn compute_activation_exit_epoch<E: EthSpec>(epoch: u64) -> Result<u64> {
    add(add(epoch, 1)?, E::MAX_SEED_LOOKAHEAD)
}

/// `hash_tree_root(ForkData(current_version, genesis_validators_root))`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_fork_data_root>
pub fn compute_fork_data_root(current_version: Version, genesis_validators_root: &Root) -> Root {
    hash_tree_root(&ForkData { current_version, genesis_validators_root: *genesis_validators_root })
}

/// First 4 bytes of [`compute_fork_data_root`].
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_fork_digest>
pub fn compute_fork_digest(current_version: Version, genesis_validators_root: &Root) -> [u8; 4] {
    let root = compute_fork_data_root(current_version, genesis_validators_root);
    let mut digest = [0u8; 4];
    for (d, r) in digest.iter_mut().zip(root.iter()) {
        *d = *r;
    }
    digest
}

/// `Domain(domain_type + fork_data_root[:28])`; `None` arguments take the spec's defaults
/// (`GENESIS_FORK_VERSION`, the zero root).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_domain>
pub fn compute_domain<E: EthSpec>(
    domain_type: DomainType,
    fork_version: Option<Version>,
    genesis_validators_root: Option<Root>,
) -> Root {
    let fork_version = fork_version.unwrap_or(E::GENESIS_FORK_VERSION);
    let genesis_validators_root = genesis_validators_root.unwrap_or_default(); // all bytes zero by default
    let fork_data_root = compute_fork_data_root(fork_version, &genesis_validators_root);
    let mut domain = [0u8; 32];
    for (d, s) in domain.iter_mut().zip(domain_type.iter().chain(fork_data_root.iter().take(28))) {
        *d = *s;
    }
    Root::from(domain)
}

/// `hash_tree_root(SigningData(object_root=hash_tree_root(ssz_object), domain=domain))`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#compute_signing_root>
pub fn compute_signing_root<T: TreeHash>(ssz_object: &T, domain: &Root) -> Root {
    hash_tree_root(&SigningData { object_root: hash_tree_root(ssz_object), domain: *domain })
}
