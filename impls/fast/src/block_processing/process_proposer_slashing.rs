//! `process_proposer_slashing` (`#proposer-slashings`, v1.1.10).

use super::signatures::SigVerifier;
use super::{slash_validator, validator_key};
use crate::arith::us;
use crate::helpers::{compute_epoch_at_slot, compute_signing_root, get_current_epoch, get_domain, is_slashable_validator};
use crate::state::FastState;
use diverge_types::constants::DOMAIN_BEACON_PROPOSER;
use diverge_types::*;

/// `process_proposer_slashing(state, proposer_slashing)`.
///
/// # Errors
/// [`Reject::ProposerSlashingSlotMismatch`], [`Reject::ProposerSlashingProposerMismatch`],
/// [`Reject::ProposerSlashingHeadersEqual`], [`Reject::ValidatorIndexOutOfRange`],
/// [`Reject::ProposerNotSlashable`], [`Reject::InvalidProposerSlashingSignature`].
pub fn process_proposer_slashing<E: EthSpec>(fs: &mut FastState<E>, ps: &ProposerSlashing, verifier: &mut SigVerifier) -> Result<(), Reject> {
    let h1 = &ps.signed_header_1.message;
    let h2 = &ps.signed_header_2.message;
    // Re-injected bug `proposer-slashing-overflow` (bugs.md A; Nimbus #1323, fixed in
    // nimbus-eth2 PR 1325 "fix over/underflow in proposerslashing processing"): the first,
    // not-from-spec check was `header_1.proposer_index.int >= state.validators.len`, a uint64 ->
    // int conversion that raises on values above `high(int)` (a Defect: the node crashed).
    // Rust's `i64::try_from(..).expect(..)` is the same checked conversion.
    #[cfg(feature = "bug-proposer-slashing-overflow")]
    #[allow(clippy::expect_used, reason = "re-injected historical bug proposer-slashing-overflow, feature-gated")]
    let _as_int: i64 = i64::try_from(h1.proposer_index).expect("value out of range: proposer_index.int overflows");
    if h1.slot != h2.slot {
        return Err(Reject::ProposerSlashingSlotMismatch);
    }
    if h1.proposer_index != h2.proposer_index {
        return Err(Reject::ProposerSlashingProposerMismatch);
    }
    #[cfg(not(feature = "bug-proposer-slashing-signed-header-compare"))]
    if h1 == h2 {
        return Err(Reject::ProposerSlashingHeadersEqual);
    }
    // Re-injected bug `proposer-slashing-signed-header-compare` (bugs.md A; Prysm PR 7252, Teku
    // PR 3151): `assert header_1 != header_2` compared the *signed* headers, so two equal headers
    // with different signatures counted as different and the proposer was slashed.
    #[cfg(feature = "bug-proposer-slashing-signed-header-compare")]
    if ps.signed_header_1 == ps.signed_header_2 {
        return Err(Reject::ProposerSlashingHeadersEqual);
    }
    let index = h1.proposer_index;
    let proposer = fs.state.validators.get(us(index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    #[cfg(not(feature = "bug-proposer-slashing-epoch"))]
    let epoch = get_current_epoch(&fs.state);
    // Re-injected bug `proposer-slashing-epoch` (bugs.md A; Prysm PR 7725): slashability was
    // checked at the epoch of the slashing's headers, not at the state's current epoch.
    #[cfg(feature = "bug-proposer-slashing-epoch")]
    let (_current, epoch) = (get_current_epoch(&fs.state), compute_epoch_at_slot::<E>(h1.slot));
    if !is_slashable_validator(proposer, epoch) {
        return Err(Reject::ProposerNotSlashable);
    }
    if verifier.checks() {
        for signed in [&ps.signed_header_1, &ps.signed_header_2] {
            let domain = get_domain(&fs.state, DOMAIN_BEACON_PROPOSER, compute_epoch_at_slot::<E>(signed.message.slot));
            let signing_root = compute_signing_root(signed.message.tree_hash_root(), domain);
            verifier.add(validator_key(fs, index)?, signing_root, signed.signature, Reject::InvalidProposerSlashingSignature)?;
        }
    }
    slash_validator(fs, index, None)
}
