//! The prepared state: the `BeaconState` fields held in milhouse persistent trees (O(1) clone,
//! cached subtree roots, so `hash_tree_root` after a small change rehashes only the changed
//! paths), together with the caches that summarise it ([`crate::caches`]).

use crate::caches::Caches;
use diverge_types::ssz_types::typenum::U4;
use diverge_types::ssz_types::{BitVector, FixedVector, VariableList};
use diverge_types::*;
use milhouse::{List, Vector};
use tree_hash::TreeHash;
use tree_hash_derive::TreeHash;

/// `BeaconState` (phase0, v1.1.10 `#beaconstate`) with milhouse lists and vectors. Field order
/// and merkleization equal the spec container's, so `tree_hash_root` is the spec's
/// `hash_tree_root(state)` once pending updates are applied ([`MState::apply_updates`]).
#[derive(Clone, Debug, PartialEq, TreeHash)]
pub struct MState<E: EthSpec> {
    /// Genesis time, seconds.
    pub genesis_time: u64,
    /// Root of the genesis validator registry.
    pub genesis_validators_root: Root,
    /// Current slot.
    pub slot: u64,
    /// Fork.
    pub fork: Fork,
    /// Header of the latest block.
    pub latest_block_header: BeaconBlockHeader,
    /// `Vector[Root, SLOTS_PER_HISTORICAL_ROOT]`.
    pub block_roots: Vector<Root, E::SlotsPerHistoricalRoot>,
    /// `Vector[Root, SLOTS_PER_HISTORICAL_ROOT]`.
    pub state_roots: Vector<Root, E::SlotsPerHistoricalRoot>,
    /// `List[Root, HISTORICAL_ROOTS_LIMIT]`.
    pub historical_roots: List<Root, E::HistoricalRootsLimit>,
    /// Eth1 data.
    pub eth1_data: Eth1Data,
    /// Eth1 votes of the current voting period.
    pub eth1_data_votes: List<Eth1Data, E::SlotsPerEth1VotingPeriod>,
    /// Index of the next deposit to process.
    pub eth1_deposit_index: u64,
    /// Validator registry.
    pub validators: List<Validator, E::ValidatorRegistryLimit>,
    /// Balances, Gwei.
    pub balances: List<u64, E::ValidatorRegistryLimit>,
    /// RANDAO mixes.
    pub randao_mixes: Vector<Root, E::EpochsPerHistoricalVector>,
    /// Per-epoch slashed effective balance sums, Gwei.
    pub slashings: Vector<u64, E::EpochsPerSlashingsVector>,
    /// Pending attestations of the previous epoch.
    pub previous_epoch_attestations: List<PendingAttestation<E>, E::MaxPendingAttestations>,
    /// Pending attestations of the current epoch.
    pub current_epoch_attestations: List<PendingAttestation<E>, E::MaxPendingAttestations>,
    /// Justification bits (bit 0: current epoch).
    pub justification_bits: BitVector<U4>,
    /// Previous justified checkpoint.
    pub previous_justified_checkpoint: Checkpoint,
    /// Current justified checkpoint.
    pub current_justified_checkpoint: Checkpoint,
    /// Finalized checkpoint.
    pub finalized_checkpoint: Checkpoint,
}

fn internal<T>(_: T) -> Reject {
    Reject::Internal
}

impl<E: EthSpec> MState<E> {
    /// Builds the trees from a plain state (the slow step, once per pool state).
    ///
    /// # Errors
    /// [`Reject::Internal`] if milhouse refuses a length (cannot happen for a decoded state).
    pub fn from_plain(s: &BeaconState<E>) -> Result<Self, Reject> {
        Ok(MState {
            genesis_time: s.genesis_time,
            genesis_validators_root: s.genesis_validators_root,
            slot: s.slot,
            fork: s.fork.clone(),
            latest_block_header: s.latest_block_header.clone(),
            block_roots: Vector::new(s.block_roots.to_vec()).map_err(internal)?,
            state_roots: Vector::new(s.state_roots.to_vec()).map_err(internal)?,
            historical_roots: List::new(s.historical_roots.to_vec()).map_err(internal)?,
            eth1_data: s.eth1_data.clone(),
            eth1_data_votes: List::new(s.eth1_data_votes.to_vec()).map_err(internal)?,
            eth1_deposit_index: s.eth1_deposit_index,
            validators: List::new(s.validators.to_vec()).map_err(internal)?,
            balances: List::new(s.balances.to_vec()).map_err(internal)?,
            randao_mixes: Vector::new(s.randao_mixes.to_vec()).map_err(internal)?,
            slashings: Vector::new(s.slashings.to_vec()).map_err(internal)?,
            previous_epoch_attestations: List::new(s.previous_epoch_attestations.to_vec()).map_err(internal)?,
            current_epoch_attestations: List::new(s.current_epoch_attestations.to_vec()).map_err(internal)?,
            justification_bits: s.justification_bits.clone(),
            previous_justified_checkpoint: s.previous_justified_checkpoint,
            current_justified_checkpoint: s.current_justified_checkpoint,
            finalized_checkpoint: s.finalized_checkpoint,
        })
    }

    /// The plain state (pending updates are read through, nothing is lost).
    pub fn to_plain(&self) -> BeaconState<E> {
        BeaconState {
            genesis_time: self.genesis_time,
            genesis_validators_root: self.genesis_validators_root,
            slot: self.slot,
            fork: self.fork.clone(),
            latest_block_header: self.latest_block_header.clone(),
            block_roots: FixedVector::new(self.block_roots.to_vec()).unwrap_or_default(),
            state_roots: FixedVector::new(self.state_roots.to_vec()).unwrap_or_default(),
            historical_roots: VariableList::new(self.historical_roots.to_vec()).unwrap_or_default(),
            eth1_data: self.eth1_data.clone(),
            eth1_data_votes: VariableList::new(self.eth1_data_votes.to_vec()).unwrap_or_default(),
            eth1_deposit_index: self.eth1_deposit_index,
            validators: VariableList::new(self.validators.to_vec()).unwrap_or_default(),
            balances: VariableList::new(self.balances.to_vec()).unwrap_or_default(),
            randao_mixes: FixedVector::new(self.randao_mixes.to_vec()).unwrap_or_default(),
            slashings: FixedVector::new(self.slashings.to_vec()).unwrap_or_default(),
            previous_epoch_attestations: VariableList::new(self.previous_epoch_attestations.to_vec()).unwrap_or_default(),
            current_epoch_attestations: VariableList::new(self.current_epoch_attestations.to_vec()).unwrap_or_default(),
            justification_bits: self.justification_bits.clone(),
            previous_justified_checkpoint: self.previous_justified_checkpoint,
            current_justified_checkpoint: self.current_justified_checkpoint,
            finalized_checkpoint: self.finalized_checkpoint,
        }
    }

    /// Folds every pending `get_mut`/`push` into the trees (required before hashing: milhouse
    /// asserts it).
    ///
    /// # Errors
    /// [`Reject::Internal`] on a milhouse error.
    pub fn apply_updates(&mut self) -> Result<(), Reject> {
        self.block_roots.apply_updates().map_err(internal)?;
        self.state_roots.apply_updates().map_err(internal)?;
        self.historical_roots.apply_updates().map_err(internal)?;
        self.eth1_data_votes.apply_updates().map_err(internal)?;
        self.validators.apply_updates().map_err(internal)?;
        self.balances.apply_updates().map_err(internal)?;
        self.randao_mixes.apply_updates().map_err(internal)?;
        self.slashings.apply_updates().map_err(internal)?;
        self.previous_epoch_attestations.apply_updates().map_err(internal)?;
        self.current_epoch_attestations.apply_updates().map_err(internal)?;
        Ok(())
    }

    /// `hash_tree_root(state)`: applies pending updates, then reuses every cached subtree root.
    ///
    /// # Errors
    /// [`Reject::Internal`] on a milhouse error.
    pub fn hash_tree_root(&mut self) -> Result<Root, Reject> {
        self.apply_updates()?;
        Ok(TreeHash::tree_hash_root(&*self))
    }
}

/// The prepared state of [`crate::FastImpl`]: the persistent state plus its caches. `clone` is
/// O(1) (`Arc`s and persistent trees).
#[derive(Clone, Debug)]
pub struct FastState<E: EthSpec> {
    /// The state.
    pub state: MState<E>,
    /// Caches summarising `state`.
    pub caches: Caches,
}

impl<E: EthSpec> FastState<E> {
    /// Prepares a plain state: builds the trees and the caches that never depend on the epoch
    /// (public keys, exit queue). Epoch-keyed caches fill lazily.
    ///
    /// # Errors
    /// [`Reject::Internal`] on a milhouse error.
    pub fn new(plain: &BeaconState<E>) -> Result<Self, Reject> {
        let mut state = MState::from_plain(plain)?;
        // Hash once here, so every clone of the prepared state starts with all subtree roots
        // cached (milhouse shares the cached roots between clones).
        state.hash_tree_root()?;
        let caches = Caches::new(&state);
        Ok(FastState { state, caches })
    }
}
