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
    // Re-injected bug `voluntary-exit-nocheck` (bugs.md A; Prysm, fixed in PR 6986 "Fix
    // Validator Exits"): the block path `ProcessVoluntaryExitsNoVerifySignature` skipped
    // `VerifyExitAndSignature` and with it the spec's pre-conditions (validator active, exit not
    // yet initiated, exit epoch reached, active for SHARD_COMMITTEE_PERIOD); the signature was
    // checked in the batch and the exit initiated.
    #[cfg(not(feature = "bug-voluntary-exit-nocheck"))]
    exit_preconditions::<E>(v, exit, current)?;
    #[cfg(feature = "bug-voluntary-exit-nocheck")]
    let _ = (v, current, exit_preconditions::<E>);
    if verifier.checks() {
        let domain = get_domain(&fs.state, DOMAIN_VOLUNTARY_EXIT, exit.epoch);
        let signing_root = compute_signing_root(exit.tree_hash_root(), domain);
        verifier.add(validator_key(fs, index)?, signing_root, signed.signature, Reject::InvalidVoluntaryExitSignature)?;
    }
    initiate_validator_exit(fs, index)
}

/// The asserts of `process_voluntary_exit` before its signature check.
///
/// # Errors
/// [`Reject::ExitValidatorNotActive`], [`Reject::ExitAlreadyInitiated`],
/// [`Reject::ExitEpochInFuture`], [`Reject::ExitValidatorTooYoung`], overflow.
fn exit_preconditions<E: EthSpec>(v: &Validator, exit: &VoluntaryExit, current: u64) -> Result<(), Reject> {
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
    Ok(())
}
