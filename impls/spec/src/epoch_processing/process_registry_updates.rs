//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#registry-updates>

use crate::helpers::accessors::{get_current_epoch, get_validator_churn_limit};
use crate::helpers::misc::compute_activation_exit_epoch;
use crate::helpers::mutators::initiate_validator_exit;
use crate::helpers::predicates::{is_active_validator, is_eligible_for_activation, is_eligible_for_activation_queue};
use crate::uint64::add;
use crate::{validator, validator_mut, Result};
use diverge_types::{BeaconState, EthSpec, Reject};

/// Activation eligibility, ejections (effective balance at or below `EJECTION_BALANCE`), then
/// activations from the queue up to the churn limit.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#registry-updates>
///
/// # Errors
/// Only on crafted states: [`Reject::ArithmeticOverflow`] and the errors of
/// `initiate_validator_exit`.
pub fn process_registry_updates<E: EthSpec>(state: &mut BeaconState<E>) -> Result<()> {
    // Process activation eligibility and ejections
    for index in 0..state.validators.len() {
        let index = u64::try_from(index).map_err(|_| Reject::ArithmeticOverflow)?;
        if is_eligible_for_activation_queue::<E>(validator(state, index)?) {
            let epoch = add(get_current_epoch(state)?, 1)?;
            validator_mut(state, index)?.activation_eligibility_epoch = epoch;
        }

        let v = validator(state, index)?;
        if is_active_validator(v, get_current_epoch(state)?) && v.effective_balance <= E::EJECTION_BALANCE {
            initiate_validator_exit(state, index)?;
        }
    }

    // Queue validators eligible for activation and not yet dequeued for activation
    let mut activation_queue: Vec<(u64, u64)> = state
        .validators
        .iter()
        .zip(0u64..)
        .filter(|(v, _)| is_eligible_for_activation(state, v))
        .map(|(v, index)| (v.activation_eligibility_epoch, index))
        .collect();
    // Order by the sequence of activation_eligibility_epoch setting and then index
    activation_queue.sort_unstable();
    // Dequeued validators for activation up to churn limit
    let churn_limit = usize::try_from(get_validator_churn_limit(state)?).unwrap_or(usize::MAX);
    for (_, index) in activation_queue.into_iter().take(churn_limit) {
        let epoch = compute_activation_exit_epoch::<E>(get_current_epoch(state)?)?;
        validator_mut(state, index)?.activation_epoch = epoch;
    }
    Ok(())
}
