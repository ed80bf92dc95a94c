//! Beacon state accessors (`get_*`).
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#beacon-state-accessors>

use crate::helpers::misc::{
    compute_committee, compute_domain, compute_epoch_at_slot, compute_proposer_index, compute_start_slot_at_epoch,
};
use crate::helpers::memo;
use crate::helpers::predicates::is_active_validator;
use crate::uint64::{add, div, len_u64, mul, rem, sub};
use crate::{validator, vector_index, Result};
use diverge_types::constants::{DomainType, DOMAIN_BEACON_ATTESTER, DOMAIN_BEACON_PROPOSER, GENESIS_EPOCH};
use diverge_types::ssz_types::typenum::Unsigned;
use diverge_types::ssz_types::{BitList, VariableList};
use diverge_types::{hash, Attestation, AttestationData, BeaconState, EthSpec, IndexedAttestation, Reject, Root};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// `compute_epoch_at_slot(state.slot)`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_current_epoch>
///
/// # Errors
/// None in practice; typed for the no-panic policy.
pub fn get_current_epoch<E: EthSpec>(state: &BeaconState<E>) -> Result<u64> {
    compute_epoch_at_slot::<E>(state.slot)
}

/// The previous epoch, or `GENESIS_EPOCH` in the genesis epoch.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_previous_epoch>
///
/// # Errors
/// None in practice; typed for the no-panic policy.
pub fn get_previous_epoch<E: EthSpec>(state: &BeaconState<E>) -> Result<u64> {
    let current_epoch = get_current_epoch(state)?;
    if current_epoch == GENESIS_EPOCH {
        Ok(GENESIS_EPOCH)
    } else {
        sub(current_epoch, 1)
    }
}

/// The block root at the start of a recent `epoch`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_block_root>
///
/// # Errors
/// [`Reject::BlockRootSlotOutOfRange`], [`Reject::ArithmeticOverflow`].
pub fn get_block_root<E: EthSpec>(state: &BeaconState<E>, epoch: u64) -> Result<Root> {
    get_block_root_at_slot(state, compute_start_slot_at_epoch::<E>(epoch)?)
}

/// The block root at a recent `slot`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_block_root_at_slot>
///
/// # Errors
/// [`Reject::BlockRootSlotOutOfRange`] (`assert slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT`);
/// [`Reject::ArithmeticOverflow`] when `slot + SLOTS_PER_HISTORICAL_ROOT` overflows.
pub fn get_block_root_at_slot<E: EthSpec>(state: &BeaconState<E>, slot: u64) -> Result<Root> {
    // > assert slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT
    if !(slot < state.slot && state.slot <= add(slot, E::SLOTS_PER_HISTORICAL_ROOT)?) {
        return Err(Reject::BlockRootSlotOutOfRange);
    }
    state
        .block_roots
        .get(vector_index(slot, E::SLOTS_PER_HISTORICAL_ROOT)?)
        .copied()
        .ok_or(Reject::IndexOutOfRange)
}

/// The randao mix at a recent `epoch`: `state.randao_mixes[epoch % EPOCHS_PER_HISTORICAL_VECTOR]`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_randao_mix>
///
/// # Errors
/// None in practice (the vector has its fixed length).
pub fn get_randao_mix<E: EthSpec>(state: &BeaconState<E>, epoch: u64) -> Result<Root> {
    state
        .randao_mixes
        .get(vector_index(epoch, E::EPOCHS_PER_HISTORICAL_VECTOR)?)
        .copied()
        .ok_or(Reject::IndexOutOfRange)
}

/// Indices of the validators active at `epoch`, ascending.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_active_validator_indices>
///
/// Memoised as the executable spec memoises it ([`crate::helpers::memo`]): key
/// `(state.validators.hash_tree_root(), epoch)`, `lru_size=3`.
pub fn get_active_validator_indices<E: EthSpec>(state: &BeaconState<E>, epoch: u64) -> Vec<u64> {
    type Key = (&'static str, Root, u64);
    thread_local! {
        static MEMO: memo::Table<Key, Vec<u64>> = RefCell::new(HashMap::new());
    }
    let key = (E::PRESET_BASE, diverge_types::hash_tree_root(&state.validators), epoch);
    let indices = memo::cache_this(&MEMO, key, 3, || {
        Ok(state
            .validators
            .iter()
            .zip(0u64..)
            .filter(|(v, _)| is_active_validator(v, epoch))
            .map(|(_, i)| i)
            .collect())
    });
    indices.unwrap_or_default()
}

/// `max(MIN_PER_EPOCH_CHURN_LIMIT, len(active) // CHURN_LIMIT_QUOTIENT)` for the current epoch.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_validator_churn_limit>
///
/// # Errors
/// None in practice; typed for the no-panic policy.
pub fn get_validator_churn_limit<E: EthSpec>(state: &BeaconState<E>) -> Result<u64> {
    let active_validator_indices = get_active_validator_indices(state, get_current_epoch(state)?);
    Ok(E::MIN_PER_EPOCH_CHURN_LIMIT.max(div(len_u64(active_validator_indices.len())?, E::CHURN_LIMIT_QUOTIENT)?))
}

/// `hash(domain_type + uint_to_bytes(epoch) + mix)` with the mix of
/// `epoch + EPOCHS_PER_HISTORICAL_VECTOR - MIN_SEED_LOOKAHEAD - 1`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_seed>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] for epochs near `2**64`.
pub fn get_seed<E: EthSpec>(state: &BeaconState<E>, epoch: u64, domain_type: DomainType) -> Result<Root> {
    let mix_epoch = sub(sub(add(epoch, E::EPOCHS_PER_HISTORICAL_VECTOR)?, E::MIN_SEED_LOOKAHEAD)?, 1)?; // Avoid underflow
    let mix = get_randao_mix(state, mix_epoch)?;
    Ok(Root::from(hash(&[domain_type.as_slice(), &epoch.to_le_bytes(), mix.as_slice()].concat())))
}

/// `max(1, min(MAX_COMMITTEES_PER_SLOT, len(active) // SLOTS_PER_EPOCH // TARGET_COMMITTEE_SIZE))`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_committee_count_per_slot>
///
/// # Errors
/// None in practice; typed for the no-panic policy.
pub fn get_committee_count_per_slot<E: EthSpec>(state: &BeaconState<E>, epoch: u64) -> Result<u64> {
    let active = len_u64(get_active_validator_indices(state, epoch).len())?;
    Ok(1u64.max(E::MAX_COMMITTEES_PER_SLOT.min(div(div(active, E::SLOTS_PER_EPOCH)?, E::TARGET_COMMITTEE_SIZE)?)))
}

/// The beacon committee at `slot` for committee `index`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_beacon_committee>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] (a huge `index`), [`Reject::ShuffleIndexOutOfRange`] (an `index`
/// beyond the committee count, reachable only through pending attestations of a crafted state).
///
/// Memoised as the executable spec memoises it ([`crate::helpers::memo`]): key
/// `(state.validators.hash_tree_root(), state.randao_mixes.hash_tree_root(), slot, index)`,
/// `lru_size=SLOTS_PER_EPOCH * MAX_COMMITTEES_PER_SLOT * 3`.
pub fn get_beacon_committee<E: EthSpec>(state: &BeaconState<E>, slot: u64, index: u64) -> Result<Vec<u64>> {
    type Key = (&'static str, Root, Root, u64, u64);
    thread_local! {
        static MEMO: memo::Table<Key, Vec<u64>> = RefCell::new(HashMap::new());
    }
    let key = (
        E::PRESET_BASE,
        diverge_types::hash_tree_root(&state.validators),
        diverge_types::hash_tree_root(&state.randao_mixes),
        slot,
        index,
    );
    let lru_size = usize::try_from(mul(mul(E::SLOTS_PER_EPOCH, E::MAX_COMMITTEES_PER_SLOT)?, 3)?).unwrap_or(usize::MAX);
    memo::cache_this(&MEMO, key, lru_size, || {
        let epoch = compute_epoch_at_slot::<E>(slot)?;
        let committees_per_slot = get_committee_count_per_slot(state, epoch)?;
        compute_committee::<E>(
            &get_active_validator_indices(state, epoch),
            &get_seed(state, epoch, DOMAIN_BEACON_ATTESTER)?,
            add(mul(rem(slot, E::SLOTS_PER_EPOCH)?, committees_per_slot)?, index)?,
            mul(committees_per_slot, E::SLOTS_PER_EPOCH)?,
        )
    })
}

/// The beacon proposer index at the current slot.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_beacon_proposer_index>
///
/// # Errors
/// [`Reject::NoActiveValidators`], [`Reject::ArithmeticOverflow`] (see [`compute_proposer_index`]).
pub fn get_beacon_proposer_index<E: EthSpec>(state: &BeaconState<E>) -> Result<u64> {
    let epoch = get_current_epoch(state)?;
    let seed = Root::from(hash(
        &[get_seed(state, epoch, DOMAIN_BEACON_PROPOSER)?.as_slice(), &state.slot.to_le_bytes()].concat(),
    ));
    let indices = get_active_validator_indices(state, epoch);
    compute_proposer_index(state, &indices, &seed)
}

/// `max(EFFECTIVE_BALANCE_INCREMENT, sum(effective balances of indices))`, Gwei.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_total_balance>
///
/// # Errors
/// [`Reject::ArithmeticOverflow`] (the sum overflows uint64: "Math safe up to ~10B ETH"),
/// [`Reject::ValidatorIndexOutOfRange`].
pub fn get_total_balance<E: EthSpec>(state: &BeaconState<E>, indices: &BTreeSet<u64>) -> Result<u64> {
    let mut sum: u64 = 0;
    for index in indices {
        sum = add(sum, validator(state, *index)?.effective_balance)?;
    }
    Ok(E::EFFECTIVE_BALANCE_INCREMENT.max(sum))
}

/// Total effective balance of the validators active in the current epoch, Gwei.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_total_active_balance>
///
/// Memoised as the executable spec memoises it (v1.1.10 `setup.py`, phase0 sundry functions:
/// `get_total_active_balance = cache_this(lambda state: (state.validators.hash_tree_root(),
/// compute_epoch_at_slot(state.slot)), ...)`), with the same key: the value depends only on the
/// registry and the current epoch. `get_base_reward` calls it once per validator, so without the
/// memo rewards and penalties are quadratic in the registry size. The registry root is memoised
/// by the shared state type, so the key costs nothing while `validators` is unchanged. A failed
/// computation is not memoised.
///
/// # Errors
/// [`Reject::ArithmeticOverflow`].
pub fn get_total_active_balance<E: EthSpec>(state: &BeaconState<E>) -> Result<u64> {
    type Key = (&'static str, Root, u64);
    thread_local! {
        static MEMO: std::cell::Cell<Option<(Key, u64)>> = const { std::cell::Cell::new(None) };
    }
    let key: Key = (E::PRESET_BASE, diverge_types::hash_tree_root(&state.validators), get_current_epoch(state)?);
    if let Some((k, total)) = MEMO.with(std::cell::Cell::get) {
        if k == key {
            return Ok(total);
        }
    }
    let indices: BTreeSet<u64> = get_active_validator_indices(state, key.2).into_iter().collect();
    let total = get_total_balance(state, &indices)?;
    MEMO.with(|m| m.set(Some((key, total))));
    Ok(total)
}

/// `compute_domain(domain_type, fork_version, state.genesis_validators_root)`, with the fork's
/// previous version before `state.fork.epoch`; `epoch` defaults to the current epoch.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_domain>
///
/// # Errors
/// None in practice; typed for the no-panic policy.
pub fn get_domain<E: EthSpec>(state: &BeaconState<E>, domain_type: DomainType, epoch: Option<u64>) -> Result<Root> {
    let epoch = match epoch {
        None => get_current_epoch(state)?,
        Some(epoch) => epoch,
    };
    let fork_version =
        if epoch < state.fork.epoch { state.fork.previous_version } else { state.fork.current_version };
    Ok(compute_domain::<E>(domain_type, Some(fork_version), Some(state.genesis_validators_root)))
}

/// The indexed attestation (sorted attesting indices) of `attestation`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_indexed_attestation>
///
/// # Errors
/// As [`get_attesting_indices`]; [`Reject::ListFull`] beyond `MAX_VALIDATORS_PER_COMMITTEE` indices.
pub fn get_indexed_attestation<E: EthSpec>(
    state: &BeaconState<E>,
    attestation: &Attestation<E>,
) -> Result<IndexedAttestation<E>> {
    let attesting_indices = get_attesting_indices(state, &attestation.data, &attestation.aggregation_bits)?;
    Ok(IndexedAttestation {
        // A BTreeSet iterates in ascending order: `sorted(attesting_indices)`.
        attesting_indices: VariableList::new(attesting_indices.into_iter().collect()).map_err(|_| Reject::ListFull)?,
        data: attestation.data.clone(),
        signature: attestation.signature,
    })
}

/// The set of attesting indices of `data` and `bits`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#get_attesting_indices>
///
/// # Errors
/// As [`get_beacon_committee`]; [`Reject::IndexOutOfRange`] when `bits` is shorter than the
/// committee (`bits[i]` raises; only pending attestations of a crafted state).
pub fn get_attesting_indices<E: EthSpec>(
    state: &BeaconState<E>,
    data: &AttestationData,
    bits: &BitList<E::MaxValidatorsPerCommittee>,
) -> Result<BTreeSet<u64>>
where
    E::MaxValidatorsPerCommittee: Unsigned,
{
    let committee = get_beacon_committee(state, data.slot, data.index)?;
    let mut out = BTreeSet::new();
    for (i, index) in committee.into_iter().enumerate() {
        if bits.get(i).map_err(|_| Reject::IndexOutOfRange)? {
            out.insert(index);
        }
    }
    Ok(out)
}
