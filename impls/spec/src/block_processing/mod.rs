//! Block processing: `process_block` and one file per sub-function / operation.
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#block-processing>

pub mod process_attestation;
pub mod process_attester_slashing;
pub mod process_block_header;
pub mod process_deposit;
pub mod process_eth1_data;
pub mod process_operations;
pub mod process_proposer_slashing;
pub mod process_randao;
pub mod process_voluntary_exit;

pub use process_attestation::process_attestation;
pub use process_attester_slashing::process_attester_slashing;
pub use process_block_header::process_block_header;
pub use process_deposit::{get_validator_from_deposit, process_deposit};
pub use process_eth1_data::process_eth1_data;
pub use process_operations::process_operations;
pub use process_proposer_slashing::process_proposer_slashing;
pub use process_randao::process_randao;
pub use process_voluntary_exit::process_voluntary_exit;

use crate::Result;
use diverge_types::{BeaconBlock, BeaconState, BlsMode, EthSpec};

/// `process_block_header`, `process_randao`, `process_eth1_data`, `process_operations`, in order.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#block-processing>
///
/// # Errors
/// The first failing assertion of the sub-functions.
pub fn process_block<E: EthSpec>(state: &mut BeaconState<E>, block: &BeaconBlock<E>, bls: BlsMode) -> Result<()> {
    process_block_header(state, block)?;
    process_randao(state, &block.body, bls)?;
    process_eth1_data(state, &block.body)?;
    process_operations(state, &block.body, bls)?;
    Ok(())
}
