//! The prepared state: the `BeaconState` fields held in milhouse persistent trees (O(1) clone,
//! cached subtree roots, so `hash_tree_root` after a small change rehashes only the changed
//! paths), together with the caches that summarise it ([`crate::caches`]).

use crate::caches::Caches;
use crate::arith::us;
use diverge_types::ssz_types::typenum::{Unsigned, U4};
use diverge_types::ssz_types::{BitVector, FixedVector, VariableList};
use diverge_types::*;
use milhouse::{List, Vector};
use std::sync::Arc;
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
            block_roots: FixedVector::new(self.block_roots.to_vec()).unwrap_or_default().into(),
            state_roots: FixedVector::new(self.state_roots.to_vec()).unwrap_or_default().into(),
            historical_roots: VariableList::new(self.historical_roots.to_vec()).unwrap_or_default().into(),
            eth1_data: self.eth1_data.clone(),
            eth1_data_votes: VariableList::new(self.eth1_data_votes.to_vec()).unwrap_or_default().into(),
            eth1_deposit_index: self.eth1_deposit_index,
            validators: VariableList::new(self.validators.to_vec()).unwrap_or_default().into(),
            balances: VariableList::new(self.balances.to_vec()).unwrap_or_default().into(),
            randao_mixes: FixedVector::new(self.randao_mixes.to_vec()).unwrap_or_default().into(),
            slashings: FixedVector::new(self.slashings.to_vec()).unwrap_or_default().into(),
            previous_epoch_attestations: VariableList::new(self.previous_epoch_attestations.to_vec()).unwrap_or_default().into(),
            current_epoch_attestations: VariableList::new(self.current_epoch_attestations.to_vec()).unwrap_or_default().into(),
            justification_bits: self.justification_bits.clone(),
            previous_justified_checkpoint: self.previous_justified_checkpoint,
            current_justified_checkpoint: self.current_justified_checkpoint,
            finalized_checkpoint: self.finalized_checkpoint,
        }
    }

    /// The plain state of an execution's post-state, sharing every list and vector field whose
    /// root equals `base`'s (the plain state this one was prepared from): an O(1) reference
    /// count instead of a copy, and the runner then compares that field by pointer. Fields that
    /// changed are copied out of the trees. Roots are cached in both, so an untouched field costs
    /// two cached-root reads; equal roots mean equal values (SHA-256 collision resistance).
    pub fn into_plain_over(mut self, base: &BeaconState<E>) -> BeaconState<E> {
        if self.apply_updates().is_err() {
            return self.to_plain();
        }
        // `fresh` fails only if milhouse held a wrong length (it cannot): the empty default then
        // shows as a difference, never as the base's values.
        fn keep<F: diverge_types::shared::Merkleize + Default>(root: Root, base: &Shared<F>, fresh: impl FnOnce() -> Option<F>) -> Shared<F> {
            if root == base.tree_hash_root() {
                return base.clone();
            }
            fresh().unwrap_or_default().into()
        }
        // A big vector: unchanged, or `base` with the entries at `candidates` rewritten when that
        // reproduces the tree's root, or (a write elsewhere) a full copy.
        fn keep_vector<T: milhouse::Value + Default, N: Unsigned + Clone>(
            root: Root,
            base: &Shared<FixedVector<T, N>>,
            tree: &Vector<T, N>,
            (count, candidates): (u64, impl Iterator<Item = usize>),
        ) -> Shared<FixedVector<T, N>> {
            if root == base.tree_hash_root() {
                return base.clone();
            }
            if us(count) <= N::to_usize() / 8 {
                if let Some(out) = patched(root, base, tree, candidates) {
                    return out;
                }
            }
            FixedVector::new(tree.to_vec()).unwrap_or_default().into()
        }
        let s = &self;
        // The entries the slot machinery can have written since `base` (`process_slot` writes
        // `state_roots` and `block_roots` at `slot % SLOTS_PER_HISTORICAL_ROOT` for every slot
        // crossed; `process_randao` and the epoch's mix reset write `randao_mixes` at the current
        // and next epochs): a changed vector is `base` with those rewritten ([`patched`]).
        let epoch_of = |slot: u64| slot.checked_div(E::SLOTS_PER_EPOCH).unwrap_or(0);
        let slots = base.slot..s.slot;
        let epochs = epoch_of(base.slot)..epoch_of(s.slot).saturating_add(2);
        let roots_at = || (slots.end.saturating_sub(slots.start), slots.clone().map(|x| us(x.checked_rem(E::SLOTS_PER_HISTORICAL_ROOT).unwrap_or(0))));
        let mixes_at = || (epochs.end.saturating_sub(epochs.start), epochs.clone().map(|x| us(x.checked_rem(E::EPOCHS_PER_HISTORICAL_VECTOR).unwrap_or(0))));
        BeaconState {
            genesis_time: s.genesis_time,
            genesis_validators_root: s.genesis_validators_root,
            slot: s.slot,
            fork: s.fork.clone(),
            latest_block_header: s.latest_block_header.clone(),
            block_roots: keep_vector(s.block_roots.tree_hash_root(), &base.block_roots, &s.block_roots, roots_at()),
            state_roots: keep_vector(s.state_roots.tree_hash_root(), &base.state_roots, &s.state_roots, roots_at()),
            historical_roots: keep(s.historical_roots.tree_hash_root(), &base.historical_roots, || VariableList::new(s.historical_roots.to_vec()).ok()),
            eth1_data: s.eth1_data.clone(),
            eth1_data_votes: keep(s.eth1_data_votes.tree_hash_root(), &base.eth1_data_votes, || VariableList::new(s.eth1_data_votes.to_vec()).ok()),
            eth1_deposit_index: s.eth1_deposit_index,
            validators: keep(s.validators.tree_hash_root(), &base.validators, || VariableList::new(s.validators.to_vec()).ok()),
            balances: keep(s.balances.tree_hash_root(), &base.balances, || VariableList::new(s.balances.to_vec()).ok()),
            randao_mixes: keep_vector(s.randao_mixes.tree_hash_root(), &base.randao_mixes, &s.randao_mixes, mixes_at()),
            slashings: keep(s.slashings.tree_hash_root(), &base.slashings, || FixedVector::new(s.slashings.to_vec()).ok()),
            previous_epoch_attestations: keep(s.previous_epoch_attestations.tree_hash_root(), &base.previous_epoch_attestations, || {
                VariableList::new(s.previous_epoch_attestations.to_vec()).ok()
            }),
            current_epoch_attestations: keep(s.current_epoch_attestations.tree_hash_root(), &base.current_epoch_attestations, || {
                VariableList::new(s.current_epoch_attestations.to_vec()).ok()
            }),
            justification_bits: s.justification_bits.clone(),
            previous_justified_checkpoint: s.previous_justified_checkpoint,
            current_justified_checkpoint: s.current_justified_checkpoint,
            finalized_checkpoint: s.finalized_checkpoint,
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

    /// Shares identical subtrees within each list and vector (milhouse `intra_rebase`). Pool
    /// states are mostly repeated values (a genesis `randao_mixes` is one mix 65536 times, the
    /// early `block_roots` and `state_roots` are zero): with it, a mainnet fuzz process over the
    /// 9-state vector pool peaks at 50 MB instead of 186 MB. Requires a hashed state
    /// ([`Self::hash_tree_root`]).
    ///
    /// # Errors
    /// [`Reject::Internal`] on a milhouse error.
    pub fn intra_rebase(&mut self) -> Result<(), Reject> {
        self.block_roots.intra_rebase().map_err(internal)?;
        self.state_roots.intra_rebase().map_err(internal)?;
        self.historical_roots.intra_rebase().map_err(internal)?;
        self.eth1_data_votes.intra_rebase().map_err(internal)?;
        self.validators.intra_rebase().map_err(internal)?;
        self.balances.intra_rebase().map_err(internal)?;
        self.randao_mixes.intra_rebase().map_err(internal)?;
        self.slashings.intra_rebase().map_err(internal)?;
        self.previous_epoch_attestations.intra_rebase().map_err(internal)?;
        self.current_epoch_attestations.intra_rebase().map_err(internal)?;
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

/// `base` with the entries at `candidates` set to `tree`'s, if its root is then `root` (the
/// tree's): the copy shares `base`'s Merkle tree and rehashes the rewritten groups only, so a
/// post-state that wrote one `randao_mixes` entry costs one copy of the vector, not a walk of the
/// tree, a fresh allocation and a full rehash. `None` when a write happened elsewhere.
pub fn patched<T: milhouse::Value, N: Unsigned + Clone>(
    root: Root,
    base: &Shared<FixedVector<T, N>>,
    tree: &Vector<T, N>,
    candidates: impl Iterator<Item = usize>,
) -> Option<Shared<FixedVector<T, N>>> {
    let mut out = base.clone();
    for i in candidates {
        let new = tree.get(i)?;
        if base.get(i)? != new {
            *out.get_mut(i)? = new.clone();
        }
    }
    (out.tree_hash_root() == root).then_some(out)
}

/// The prepared state of [`crate::FastImpl`]: the persistent state plus its caches. `clone` is
/// O(1) (`Arc`s and persistent trees).
#[derive(Clone, Debug)]
pub struct FastState<E: EthSpec> {
    /// The state.
    pub state: MState<E>,
    /// Caches summarising `state`.
    pub caches: Caches,
    /// The plain state this one was prepared from (`None` for a state built here, as at
    /// genesis): unchanged fields of the exported post-state share it
    /// ([`MState::into_plain_over`]).
    pub base: Option<Arc<BeaconState<E>>>,
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
        // cached (milhouse shares the cached roots between clones); the same for the plain base.
        state.hash_tree_root()?;
        state.intra_rebase()?;
        let base = plain.clone();
        base.tree_hash_root();
        let caches = Caches::new(&state);
        let mut fs = FastState { state, caches, base: Some(Arc::new(base)) };
        fs.warm_caches();
        Ok(fs)
    }

    /// Fills the epoch-keyed caches an execution starts from (committees of the previous,
    /// current and next epoch, the current total active balance, the current slot's proposer), so clones share them instead
    /// of each rebuilding them. A cache that cannot be built is left empty: the execution that
    /// needs it gets the same error when it builds it.
    pub fn warm_caches(&mut self) {
        let current = crate::helpers::get_current_epoch(&self.state);
        let previous = crate::helpers::get_previous_epoch(&self.state);
        for epoch in [Some(previous), Some(current), current.checked_add(1)].into_iter().flatten() {
            let _ = crate::caches::committee_cache(self, epoch);
        }
        let _ = crate::caches::get_total_active_balance(self);
        // The proposer of the prepared slot: every operation at that slot (attestations record
        // it in their pending attestation) reads it. Not under the re-injected bug
        // `proposer-index-overflow`: its panic belongs to the execution that computes the proposer
        // (where Lighthouse's fuzzing builds hit it), not to preparing the pool, where the runner
        // could only record the state as unusable (`Internal` on every input that selects it).
        #[cfg(not(feature = "bug-proposer-index-overflow"))]
        let _ = crate::caches::get_beacon_proposer_index(self);
    }

    /// The plain post-state (consumes the state; see [`MState::into_plain_over`]).
    pub fn into_plain(self) -> BeaconState<E> {
        match self.base {
            Some(base) => self.state.into_plain_over(&base),
            None => self.state.to_plain(),
        }
    }
}
