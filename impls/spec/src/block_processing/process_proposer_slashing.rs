//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#proposer-slashings>

use crate::helpers::accessors::{get_current_epoch, get_domain};
use crate::helpers::misc::{compute_epoch_at_slot, compute_signing_root};
use crate::helpers::mutators::slash_validator;
use crate::helpers::predicates::is_slashable_validator;
use crate::{validator, Result};
use diverge_types::constants::DOMAIN_BEACON_PROPOSER;
use diverge_types::{bls, BeaconState, BlsMode, EthSpec, ProposerSlashing, Reject};

/// Slashes a proposer that signed two different headers for the same slot.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#proposer-slashings>
///
/// # Errors
/// [`Reject::ProposerSlashingSlotMismatch`], [`Reject::ProposerSlashingProposerMismatch`],
/// [`Reject::ProposerSlashingHeadersEqual`], [`Reject::ValidatorIndexOutOfRange`],
/// [`Reject::ProposerNotSlashable`], [`Reject::InvalidProposerSlashingSignature`], and the errors of
/// `slash_validator`.
pub fn process_proposer_slashing<E: EthSpec>(
    state: &mut BeaconState<E>,
    proposer_slashing: &ProposerSlashing,
    bls: BlsMode,
) -> Result<()> {
    let header_1 = &proposer_slashing.signed_header_1.message;
    let header_2 = &proposer_slashing.signed_header_2.message;

    // Verify header slots match
    // > assert header_1.slot == header_2.slot
    if header_1.slot != header_2.slot {
        return Err(Reject::ProposerSlashingSlotMismatch);
    }
    // Verify header proposer indices match
    // > assert header_1.proposer_index == header_2.proposer_index
    if header_1.proposer_index != header_2.proposer_index {
        return Err(Reject::ProposerSlashingProposerMismatch);
    }
    // Verify the headers are different (the messages, not the signed headers)
    // > assert header_1 != header_2
    if header_1 == header_2 {
        return Err(Reject::ProposerSlashingHeadersEqual);
    }
    // Verify the proposer is slashable
    let proposer = validator(state, header_1.proposer_index)?;
    // > assert is_slashable_validator(proposer, get_current_epoch(state))
    if !is_slashable_validator(proposer, get_current_epoch(state)?) {
        return Err(Reject::ProposerNotSlashable);
    }
    // Verify signatures
    for signed_header in [&proposer_slashing.signed_header_1, &proposer_slashing.signed_header_2] {
        let domain = get_domain(
            state,
            DOMAIN_BEACON_PROPOSER,
            Some(compute_epoch_at_slot::<E>(signed_header.message.slot)?),
        )?;
        let signing_root = compute_signing_root(&signed_header.message, &domain);
        // > assert bls.Verify(proposer.pubkey, signing_root, signed_header.signature)
        if !bls::verify(bls, &proposer.pubkey, &signing_root, &signed_header.signature) {
            return Err(Reject::InvalidProposerSlashingSignature);
        }
    }

    slash_validator(state, header_1.proposer_index, None)
}
