//! `process_block_header` (`#block-header`, v1.1.10).

use crate::arith::us;
use crate::caches::get_beacon_proposer_index;
use crate::state::FastState;
use diverge_types::*;

/// `process_block_header(state, block)`.
///
/// # Errors
/// [`Reject::BlockSlotMismatch`], [`Reject::BlockNotNewerThanLatestHeader`],
/// [`Reject::ProposerIndexMismatch`], [`Reject::ParentRootMismatch`], [`Reject::ProposerSlashed`].
pub fn process_block_header<E: EthSpec>(fs: &mut FastState<E>, block: &BeaconBlock<E>) -> Result<(), Reject> {
    if block.slot != fs.state.slot {
        return Err(Reject::BlockSlotMismatch);
    }
    if block.slot <= fs.state.latest_block_header.slot {
        return Err(Reject::BlockNotNewerThanLatestHeader);
    }
    if block.proposer_index != get_beacon_proposer_index(fs)? {
        return Err(Reject::ProposerIndexMismatch);
    }
    if block.parent_root != fs.state.latest_block_header.tree_hash_root() {
        return Err(Reject::ParentRootMismatch);
    }
    fs.state.latest_block_header = BeaconBlockHeader {
        slot: block.slot,
        proposer_index: block.proposer_index,
        parent_root: block.parent_root,
        state_root: Root::ZERO,
        body_root: block.body.tree_hash_root(),
    };
    let proposer = fs.state.validators.get(us(block.proposer_index)).ok_or(Reject::ValidatorIndexOutOfRange)?;
    if proposer.slashed {
        return Err(Reject::ProposerSlashed);
    }
    Ok(())
}
