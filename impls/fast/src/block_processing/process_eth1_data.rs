//! `process_eth1_data` (`#eth1-data`, v1.1.10).

use crate::arith::u;
use crate::state::FastState;
use typenum::Unsigned;
use diverge_types::*;

/// `process_eth1_data(state, body)`: records the vote; adopts it on a strict majority of the period.
///
/// # Errors
/// [`Reject::ListFull`] when the vote list is already full (crafted states).
pub fn process_eth1_data<E: EthSpec>(fs: &mut FastState<E>, body: &BeaconBlockBody<E>) -> Result<(), Reject> {
    let votes = &mut fs.state.eth1_data_votes;
    if votes.len() >= E::SlotsPerEth1VotingPeriod::to_usize() {
        return Err(Reject::ListFull);
    }
    votes.push(body.eth1_data.clone()).map_err(|_| Reject::ListFull)?;
    let count = u(votes.iter().filter(|v| **v == body.eth1_data).count());
    if count.saturating_mul(2) > E::EPOCHS_PER_ETH1_VOTING_PERIOD.saturating_mul(E::SLOTS_PER_EPOCH) {
        fs.state.eth1_data = body.eth1_data.clone();
    }
    Ok(())
}
