//! `process_randao` (`#randao`, v1.1.10).

use super::signatures::SigVerifier;
use super::validator_key;
use crate::arith::{us, SafeArith};
use crate::caches::get_beacon_proposer_index;
use crate::helpers::{compute_signing_root, get_current_epoch, get_domain, get_randao_mix};
use crate::state::FastState;
use diverge_types::constants::DOMAIN_RANDAO;
use diverge_types::*;

/// `process_randao(state, body)`: checks the reveal (through `verifier`), mixes it in.
///
/// # Errors
/// [`Reject::InvalidRandaoReveal`].
pub fn process_randao<E: EthSpec>(fs: &mut FastState<E>, body: &BeaconBlockBody<E>, verifier: &mut SigVerifier) -> Result<(), Reject> {
    let epoch = get_current_epoch(&fs.state);
    let proposer_index = get_beacon_proposer_index(fs)?;
    let key = validator_key(fs, proposer_index)?;
    if verifier.checks() {
        let signing_root = compute_signing_root(epoch.tree_hash_root(), get_domain(&fs.state, DOMAIN_RANDAO, epoch));
        verifier.add(key, signing_root, body.randao_reveal, Reject::InvalidRandaoReveal)?;
    }
    let old = get_randao_mix(&fs.state, epoch)?;
    let reveal_hash = hash(body.randao_reveal.as_slice());
    let mut mix = [0u8; 32];
    for (m, (a, b)) in mix.iter_mut().zip(old.as_slice().iter().zip(reveal_hash.iter())) {
        *m = a ^ b;
    }
    let slot = fs.state.randao_mixes.get_mut(us(epoch.srem(E::EPOCHS_PER_HISTORICAL_VECTOR)?)).ok_or(Reject::Internal)?;
    *slot = Root::from(mix);
    Ok(())
}
