//! Epoch processing: `process_epoch`, its helpers, and one file per sub-function.
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#epoch-processing>

pub mod process_effective_balance_updates;
pub mod process_eth1_data_reset;
pub mod process_historical_roots_update;
pub mod process_justification_and_finalization;
pub mod process_participation_record_updates;
pub mod process_randao_mixes_reset;
pub mod process_registry_updates;
pub mod process_rewards_and_penalties;
pub mod process_slashings;
pub mod process_slashings_reset;

pub use process_effective_balance_updates::process_effective_balance_updates;
pub use process_eth1_data_reset::process_eth1_data_reset;
pub use process_historical_roots_update::process_historical_roots_update;
pub use process_justification_and_finalization::process_justification_and_finalization;
pub use process_participation_record_updates::process_participation_record_updates;
pub use process_randao_mixes_reset::process_randao_mixes_reset;
pub use process_registry_updates::process_registry_updates;
pub use process_rewards_and_penalties::process_rewards_and_penalties;
pub use process_slashings::process_slashings;
pub use process_slashings_reset::process_slashings_reset;

use crate::helpers::accessors::{
    get_attesting_indices, get_block_root, get_block_root_at_slot, get_current_epoch, get_previous_epoch,
    get_total_balance,
};
use crate::{validator, Result};
use diverge_types::{BeaconState, EthSpec, PendingAttestation, Reject};
use std::collections::BTreeSet;

/// Every sub-function, in the spec's order.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#epoch-processing>
///
/// # Errors
/// The first failing sub-function's error (only crafted states fail).
pub fn process_epoch<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    process_justification_and_finalization(state)?;
    process_rewards_and_penalties(state)?;
    process_registry_updates(state)?;
    process_slashings(state)?;
    process_eth1_data_reset(state)?;
    process_effective_balance_updates(state)?;
    process_slashings_reset(state)?;
    process_randao_mixes_reset(state)?;
    process_historical_roots_update(state)?;
    process_participation_record_updates(state)?;
    Ok(())
}

/// The pending attestations of `epoch` (current or previous).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helper-functions-1>
///
/// # Errors
/// [`Reject::Internal`] when `epoch` is neither the previous nor the current epoch (the spec's
/// `assert`; every caller passes one of them).
pub fn get_matching_source_attestations<E: EthSpec>(
    state: &BeaconState<E>,
    epoch: u64,
) -> Result<Vec<&PendingAttestation<E>>> {
    let current_epoch = get_current_epoch(state)?;
    // > assert epoch in (get_previous_epoch(state), get_current_epoch(state))
    if epoch != get_previous_epoch(state)? && epoch != current_epoch {
        return Err(Reject::Internal);
    }
    Ok(if epoch == current_epoch {
        state.current_epoch_attestations.iter().collect()
    } else {
        state.previous_epoch_attestations.iter().collect()
    })
}

/// Matching source attestations whose target root is the block root of `epoch`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helper-functions-1>
///
/// `get_block_root(state, epoch)` is evaluated per element, as in the spec's list comprehension,
/// so its assert fires only when there is an attestation to compare.
///
/// # Errors
/// [`Reject::BlockRootSlotOutOfRange`] (crafted states), [`Reject::ArithmeticOverflow`].
pub fn get_matching_target_attestations<E: EthSpec>(
    state: &BeaconState<E>,
    epoch: u64,
) -> Result<Vec<&PendingAttestation<E>>> {
    let mut out = Vec::new();
    for a in get_matching_source_attestations(state, epoch)? {
        if a.data.target.root == get_block_root(state, epoch)? {
            out.push(a);
        }
    }
    Ok(out)
}

/// Matching target attestations whose head vote is the block root at their slot.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helper-functions-1>
///
/// # Errors
/// [`Reject::BlockRootSlotOutOfRange`] (crafted states), [`Reject::ArithmeticOverflow`].
pub fn get_matching_head_attestations<E: EthSpec>(
    state: &BeaconState<E>,
    epoch: u64,
) -> Result<Vec<&PendingAttestation<E>>> {
    let mut out = Vec::new();
    for a in get_matching_target_attestations(state, epoch)? {
        if a.data.beacon_block_root == get_block_root_at_slot(state, a.data.slot)? {
            out.push(a);
        }
    }
    Ok(out)
}

/// The union of the attesters of `attestations`, minus slashed validators.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helper-functions-1>
///
/// # Errors
/// The errors of `get_attesting_indices` (crafted pending attestations).
pub fn get_unslashed_attesting_indices<E: EthSpec>(
    state: &BeaconState<E>,
    attestations: &[&PendingAttestation<E>],
) -> Result<BTreeSet<u64>> {
    let mut output = BTreeSet::new();
    for a in attestations {
        output.extend(get_attesting_indices(state, &a.data, &a.aggregation_bits)?);
    }
    let mut unslashed = BTreeSet::new();
    for index in output {
        if !validator(state, index)?.slashed {
            unslashed.insert(index);
        }
    }
    Ok(unslashed)
}

/// Combined effective balance of the unslashed attesters of `attestations` (at least
/// `EFFECTIVE_BALANCE_INCREMENT`), Gwei.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#helper-functions-1>
///
/// # Errors
/// As [`get_unslashed_attesting_indices`]; [`Reject::ArithmeticOverflow`].
pub fn get_attesting_balance<E: EthSpec>(state: &BeaconState<E>, attestations: &[&PendingAttestation<E>]) -> Result<u64> {
    get_total_balance(state, &get_unslashed_attesting_indices(state, attestations)?)
}
