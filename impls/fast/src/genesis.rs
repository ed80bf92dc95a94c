//! Genesis (`specs/phase0/beacon-chain.md#genesis`, v1.1.10): `initialize_beacon_state_from_eth1`
//! with an incremental deposit tree (O(depth) per deposit instead of re-merkleizing the whole
//! deposit list), and `is_valid_genesis_state`.

use crate::arith::{u, SafeArith};
use crate::block_processing::process_deposit::process_deposit;
use crate::helpers::{hash_concat, is_active_validator};
use crate::state::{FastState, MState};
use diverge_types::constants::{DEPOSIT_CONTRACT_TREE_DEPTH, GENESIS_EPOCH};
use diverge_types::ssz_types::typenum::U4;
use diverge_types::ssz_types::{BitVector, VariableList};
use diverge_types::*;
use milhouse::{List, Vector};

const DEPTH: usize = DEPOSIT_CONTRACT_TREE_DEPTH as usize;

/// Incremental Merkle tree of `List[DepositData, 2**32]` (the deposit contract's algorithm).
struct DepositTree {
    branch: [[u8; 32]; DEPTH],
    zero: [[u8; 32]; DEPTH],
    count: u64,
}

impl DepositTree {
    fn new() -> Self {
        let mut zero = [[0u8; 32]; DEPTH];
        for i in 1..DEPTH {
            let prev = zero.get(i.saturating_sub(1)).copied().unwrap_or([0u8; 32]);
            if let Some(z) = zero.get_mut(i) {
                *z = hash_concat(&prev, &prev);
            }
        }
        DepositTree { branch: [[0u8; 32]; DEPTH], zero, count: 0 }
    }

    fn push(&mut self, leaf: [u8; 32]) {
        self.count = self.count.saturating_add(1);
        let mut size = self.count;
        let mut node = leaf;
        for h in 0..DEPTH {
            if size & 1 == 1 {
                if let Some(b) = self.branch.get_mut(h) {
                    *b = node;
                }
                return;
            }
            let b = self.branch.get(h).copied().unwrap_or([0u8; 32]);
            node = hash_concat(&b, &node);
            size /= 2;
        }
    }

    fn root(&self) -> Root {
        let mut node = [0u8; 32];
        let mut size = self.count;
        for h in 0..DEPTH {
            let b = self.branch.get(h).copied().unwrap_or([0u8; 32]);
            let z = self.zero.get(h).copied().unwrap_or([0u8; 32]);
            node = if size & 1 == 1 { hash_concat(&b, &node) } else { hash_concat(&node, &z) };
            size /= 2;
        }
        let mut len = [0u8; 32];
        len[..8].copy_from_slice(&self.count.to_le_bytes());
        Root::from(hash_concat(&node, &len))
    }
}

/// `initialize_beacon_state_from_eth1(eth1_block_hash, eth1_timestamp, deposits)`. No BLS mode:
/// deposit signatures are verified under every mode ([`process_deposit`]).
///
/// # Errors
/// [`Reject::DepositInvalidMerkleProof`], overflow.
pub fn initialize_beacon_state_from_eth1<E: EthSpec>(eth1_block_hash: Root, eth1_timestamp: u64, deposits: &[Deposit]) -> Result<BeaconState<E>, Reject> {
    let fork = Fork { previous_version: E::GENESIS_FORK_VERSION, current_version: E::GENESIS_FORK_VERSION, epoch: GENESIS_EPOCH };
    let empty_body = BeaconBlockBody::<E> {
        randao_reveal: BlsSignature::ZERO,
        eth1_data: Eth1Data::default(),
        graffiti: Root::ZERO,
        proposer_slashings: VariableList::empty(),
        attester_slashings: VariableList::empty(),
        attestations: VariableList::empty(),
        deposits: VariableList::empty(),
        voluntary_exits: VariableList::empty(),
    };
    let state = MState::<E> {
        genesis_time: eth1_timestamp.sadd(E::GENESIS_DELAY)?,
        genesis_validators_root: Root::ZERO,
        slot: 0,
        fork,
        latest_block_header: BeaconBlockHeader { body_root: empty_body.tree_hash_root(), ..BeaconBlockHeader::default() },
        block_roots: Vector::default(),
        state_roots: Vector::default(),
        historical_roots: List::empty(),
        eth1_data: Eth1Data { deposit_root: Root::ZERO, deposit_count: u(deposits.len()), block_hash: eth1_block_hash },
        eth1_data_votes: List::empty(),
        eth1_deposit_index: 0,
        validators: List::empty(),
        balances: List::empty(),
        randao_mixes: Vector::from_elem(eth1_block_hash).map_err(|_| Reject::Internal)?,
        slashings: Vector::default(),
        previous_epoch_attestations: List::empty(),
        current_epoch_attestations: List::empty(),
        justification_bits: BitVector::<U4>::new(),
        previous_justified_checkpoint: Checkpoint::default(),
        current_justified_checkpoint: Checkpoint::default(),
        finalized_checkpoint: Checkpoint::default(),
    };
    let caches = crate::caches::Caches::new(&state);
    let mut fs = FastState { state, caches, base: None };
    let mut tree = DepositTree::new();
    for deposit in deposits {
        tree.push(deposit.data.tree_hash_root().0);
        fs.state.eth1_data.deposit_root = tree.root();
        process_deposit(&mut fs, deposit)?;
    }
    let n = fs.state.validators.len();
    for i in 0..n {
        let balance = *fs.state.balances.get(i).ok_or(Reject::IndexOutOfRange)?;
        let v = fs.state.validators.get_mut(i).ok_or(Reject::ValidatorIndexOutOfRange)?;
        v.effective_balance = balance.ssub(balance.srem(E::EFFECTIVE_BALANCE_INCREMENT)?)?.min(E::MAX_EFFECTIVE_BALANCE);
        if v.effective_balance == E::MAX_EFFECTIVE_BALANCE {
            v.activation_eligibility_epoch = GENESIS_EPOCH;
            v.activation_epoch = GENESIS_EPOCH;
        }
    }
    fs.state.apply_updates()?;
    fs.state.genesis_validators_root = tree_hash::TreeHash::tree_hash_root(&fs.state.validators);
    Ok(fs.state.to_plain())
}

/// `is_valid_genesis_state(state)`.
///
/// # Errors
/// None in practice (kept for the trait's shape).
pub fn is_valid_genesis_state<E: EthSpec>(state: &BeaconState<E>) -> Result<bool, Reject> {
    if state.genesis_time < E::MIN_GENESIS_TIME {
        return Ok(false);
    }
    let active = u(state.validators.iter().filter(|v| is_active_validator(v, GENESIS_EPOCH)).count());
    Ok(active >= E::MIN_GENESIS_ACTIVE_VALIDATOR_COUNT)
}
