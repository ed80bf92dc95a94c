//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#randao>

use crate::helpers::accessors::{get_beacon_proposer_index, get_current_epoch, get_domain, get_randao_mix};
use crate::helpers::math::xor;
use crate::helpers::misc::compute_signing_root;
use crate::{validator, vector_index, Result};
use diverge_types::constants::DOMAIN_RANDAO;
use diverge_types::{bls, hash, BeaconBlockBody, BeaconState, BlsMode, EthSpec, Reject, Root};

/// Verifies the RANDAO reveal (a signature of the epoch) and mixes its hash into the current mix.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#randao>
///
/// # Errors
/// [`Reject::InvalidRandaoReveal`]; errors of `get_beacon_proposer_index`.
pub fn process_randao<E: EthSpec>(state: &mut BeaconState<E>, body: &BeaconBlockBody<E>, bls: BlsMode) -> Result<()> {
    let epoch = get_current_epoch(state)?;
    // Verify RANDAO reveal
    let proposer = validator(state, get_beacon_proposer_index(state)?)?;
    let signing_root = compute_signing_root(&epoch, &get_domain(state, DOMAIN_RANDAO, None)?);
    // > assert bls.Verify(proposer.pubkey, signing_root, body.randao_reveal)
    if !bls::verify(bls, &proposer.pubkey, &signing_root, &body.randao_reveal) {
        return Err(Reject::InvalidRandaoReveal);
    }
    // Mix in RANDAO reveal
    let mix = xor(&get_randao_mix(state, epoch)?, &Root::from(hash(body.randao_reveal.as_slice())));
    let slot = state
        .randao_mixes
        .get_mut(vector_index(epoch, E::EPOCHS_PER_HISTORICAL_VECTOR)?)
        .ok_or(Reject::IndexOutOfRange)?;
    *slot = mix;
    Ok(())
}
