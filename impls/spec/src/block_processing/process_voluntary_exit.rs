//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#voluntary-exits>

use crate::helpers::accessors::{get_current_epoch, get_domain};
use crate::helpers::misc::compute_signing_root;
use crate::helpers::mutators::initiate_validator_exit;
use crate::helpers::predicates::is_active_validator;
use crate::uint64::add;
use crate::{validator, Result};
use diverge_types::constants::{DOMAIN_VOLUNTARY_EXIT, FAR_FUTURE_EPOCH};
use diverge_types::{bls, BeaconState, BlsMode, EthSpec, Reject, SignedVoluntaryExit};

/// Checks a signed voluntary exit and initiates the validator's exit.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#voluntary-exits>
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`], [`Reject::ExitValidatorNotActive`],
/// [`Reject::ExitAlreadyInitiated`], [`Reject::ExitEpochInFuture`], [`Reject::ExitValidatorTooYoung`],
/// [`Reject::InvalidVoluntaryExitSignature`], and the errors of `initiate_validator_exit`.
pub fn process_voluntary_exit<E: EthSpec>(
    state: &mut BeaconState<E>,
    signed_voluntary_exit: &SignedVoluntaryExit,
    bls: BlsMode,
) -> Result<()> {
    let voluntary_exit = &signed_voluntary_exit.message;
    let validator = validator(state, voluntary_exit.validator_index)?;
    let current_epoch = get_current_epoch(state)?;
    // Verify the validator is active
    // > assert is_active_validator(validator, get_current_epoch(state))
    if !is_active_validator(validator, current_epoch) {
        return Err(Reject::ExitValidatorNotActive);
    }
    // Verify exit has not been initiated
    // > assert validator.exit_epoch == FAR_FUTURE_EPOCH
    if validator.exit_epoch != FAR_FUTURE_EPOCH {
        return Err(Reject::ExitAlreadyInitiated);
    }
    // Exits must specify an epoch when they become valid; they are not valid before then
    // > assert get_current_epoch(state) >= voluntary_exit.epoch
    if current_epoch < voluntary_exit.epoch {
        return Err(Reject::ExitEpochInFuture);
    }
    // Verify the validator has been active long enough
    // > assert get_current_epoch(state) >= validator.activation_epoch + config.SHARD_COMMITTEE_PERIOD
    if current_epoch < add(validator.activation_epoch, E::SHARD_COMMITTEE_PERIOD)? {
        return Err(Reject::ExitValidatorTooYoung);
    }
    // Verify signature
    let domain = get_domain(state, DOMAIN_VOLUNTARY_EXIT, Some(voluntary_exit.epoch))?;
    let signing_root = compute_signing_root(voluntary_exit, &domain);
    // > assert bls.Verify(validator.pubkey, signing_root, signed_voluntary_exit.signature)
    if !bls::verify(bls, &validator.pubkey, &signing_root, &signed_voluntary_exit.signature) {
        return Err(Reject::InvalidVoluntaryExitSignature);
    }
    // Initiate exit
    initiate_validator_exit(state, voluntary_exit.validator_index)
}
