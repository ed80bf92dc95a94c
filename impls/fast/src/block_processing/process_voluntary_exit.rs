//! `process_voluntary_exit` (`#voluntary-exits`, v1.1.10).

use super::signatures::SigVerifier;
use super::validator_key;
use crate::arith::{us, SafeArith};
use crate::caches::initiate_validator_exit;
use crate::helpers::{compute_signing_root, get_current_epoch, get_domain, is_active_validator};
use crate::state::FastState;
use diverge_types::constants::{DOMAIN_VOLUNTARY_EXIT, FAR_FUTURE_EPOCH};
use diverge_types::*;

/// `process_voluntary_exit(state, signed_voluntary_exit)`.
///
/// # Errors
/// [`Reject::ValidatorIndexOutOfRange`], [`Reject::ExitValidatorNotActive`],
/// [`Reject::ExitAlreadyInitiated`], [`Reject::ExitEpochInFuture`],
/// [`Reject::ExitValidatorTooYoung`], [`Reject::InvalidVoluntaryExitSignature`].
pub fn process_voluntary_exit<E: EthSpec>(fs: &mut FastState<E>, signed: &SignedVoluntaryExit, verifier: &mut SigVerifier) -> Result<(), Reject> {
    let exit = &signed.message;
    let index = exit.validator_index;
    let current = get_current_epoch(&fs.state);
    let v = fs.state.validators.get(us(index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    if !is_active_validator(v, current) {
        return Err(Reject::ExitValidatorNotActive);
    }
    if v.exit_epoch != FAR_FUTURE_EPOCH {
        return Err(Reject::ExitAlreadyInitiated);
    }
    if current < exit.epoch {
        return Err(Reject::ExitEpochInFuture);
    }
    if current < v.activation_epoch.sadd(E::SHARD_COMMITTEE_PERIOD)? {
        return Err(Reject::ExitValidatorTooYoung);
    }
    if verifier.checks() {
        let domain = get_domain(&fs.state, DOMAIN_VOLUNTARY_EXIT, exit.epoch);
        let signing_root = compute_signing_root(exit.tree_hash_root(), domain);
        verifier.add(validator_key(fs, index)?, signing_root, signed.signature, Reject::InvalidVoluntaryExitSignature)?;
    }
    initiate_validator_exit(fs, index)
}
