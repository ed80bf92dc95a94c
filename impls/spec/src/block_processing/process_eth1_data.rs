//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#eth1-data>

use crate::uint64::{len_u64, mul};
use crate::Result;
use diverge_types::{BeaconBlockBody, BeaconState, EthSpec, Reject};

/// Records the block's eth1 vote and adopts it on a strict majority of the voting period.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#eth1-data>
///
/// # Errors
/// [`Reject::ListFull`] when `state.eth1_data_votes` is already at its limit (remerkleable raises).
pub fn process_eth1_data<E: EthSpec>(state: &mut BeaconState<E>, body: &BeaconBlockBody<E>) -> Result<()> {
    state.eth1_data_votes.push(body.eth1_data.clone()).map_err(|_| Reject::ListFull)?;
    let count = len_u64(state.eth1_data_votes.iter().filter(|v| **v == body.eth1_data).count())?;
    if mul(count, 2)? > mul(E::EPOCHS_PER_ETH1_VOTING_PERIOD, E::SLOTS_PER_EPOCH)? {
        state.eth1_data = body.eth1_data.clone();
    }
    Ok(())
}
