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
    if h1.slot != h2.slot {
        return Err(Reject::ProposerSlashingSlotMismatch);
    }
    if h1.proposer_index != h2.proposer_index {
        return Err(Reject::ProposerSlashingProposerMismatch);
    }
    if h1 == h2 {
        return Err(Reject::ProposerSlashingHeadersEqual);
    }
    let index = h1.proposer_index;
    let proposer = fs.state.validators.get(us(index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    if !is_slashable_validator(proposer, get_current_epoch(&fs.state)) {
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
