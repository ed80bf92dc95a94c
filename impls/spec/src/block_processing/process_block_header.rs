//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#block-header>

use crate::helpers::accessors::get_beacon_proposer_index;
use crate::{validator, Result};
use diverge_types::{hash_tree_root, BeaconBlock, BeaconBlockHeader, BeaconState, EthSpec, Reject, Root};

/// Checks the block against the state and caches it as `state.latest_block_header`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#block-header>
///
/// # Errors
/// [`Reject::BlockSlotMismatch`], [`Reject::BlockNotNewerThanLatestHeader`],
/// [`Reject::ProposerIndexMismatch`], [`Reject::ParentRootMismatch`], [`Reject::ProposerSlashed`],
/// and the errors of `get_beacon_proposer_index` (e.g. [`Reject::NoActiveValidators`]).
pub fn process_block_header<E: EthSpec>(state: &mut BeaconState<E>, block: &BeaconBlock<E>) -> Result<()> {
    // Verify that the slots match
    // > assert block.slot == state.slot
    if block.slot != state.slot {
        return Err(Reject::BlockSlotMismatch);
    }
    // Verify that the block is newer than latest block header
    // > assert block.slot > state.latest_block_header.slot
    if block.slot <= state.latest_block_header.slot {
        return Err(Reject::BlockNotNewerThanLatestHeader);
    }
    // Verify that proposer index is the correct index
    // > assert block.proposer_index == get_beacon_proposer_index(state)
    if block.proposer_index != get_beacon_proposer_index(state)? {
        return Err(Reject::ProposerIndexMismatch);
    }
    // Verify that the parent matches
    // > assert block.parent_root == hash_tree_root(state.latest_block_header)
    if block.parent_root != hash_tree_root(&state.latest_block_header) {
        return Err(Reject::ParentRootMismatch);
    }
    // Cache current block as the new latest block
    state.latest_block_header = BeaconBlockHeader {
        slot: block.slot,
        proposer_index: block.proposer_index,
        parent_root: block.parent_root,
        state_root: Root::ZERO, // Overwritten in the next process_slot call
        body_root: hash_tree_root(&block.body),
    };

    // Verify proposer is not slashed
    // > assert not proposer.slashed
    if validator(state, block.proposer_index)?.slashed {
        return Err(Reject::ProposerSlashed);
    }
    Ok(())
}
