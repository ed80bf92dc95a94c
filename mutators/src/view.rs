//! [`PoolView`]: a read-only view of one pool state for the generators, with its own committee
//! and proposer computation (consensus-specs v1.1.10 `specs/phase0/beacon-chain.md`,
//! "Misc" and "Beacon state accessors"). This is a third, generator-side computation: it is never
//! compared, only used to build inputs that are valid for the implementations under test. When it
//! cannot answer (an empty registry, an overflow on a crafted state), it answers `None` and the
//! generators fall back to a random value.

use diverge_types::constants::{DOMAIN_BEACON_ATTESTER, DOMAIN_BEACON_PROPOSER, FAR_FUTURE_EPOCH};
use diverge_types::{hash, BeaconBlockHeader, BeaconState, Checkpoint, Eth1Data, EthSpec, Fork, Root, Shared, Validator};
use diverge_types::ssz_types::{FixedVector, VariableList};
use diverge_types::TreeHash;
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// The shuffling of one epoch: the active validator indices and the shuffled positions.
#[derive(Debug, Clone)]
pub struct Shuffling {
    /// `get_active_validator_indices(state, epoch)`, ascending.
    pub active: Vec<u64>,
    /// `shuffled[i] = compute_shuffled_index(i, len(active), seed)` for the attester seed.
    pub shuffled: Vec<usize>,
    /// `get_committee_count_per_slot(state, epoch)`.
    pub committees_per_slot: u64,
}

/// A read-only view of one pool state: the fields the generators use (the large lists are
/// reference-counted clones of the state's, so a view costs a few pointers) plus memoised
/// committees. `Send + Sync`: workers share one view per pool state.
#[derive(Debug)]
pub struct PoolView<E: EthSpec> {
    /// `state.slot`.
    pub slot: u64,
    /// `state.fork`.
    pub fork: Fork,
    /// `state.genesis_validators_root`.
    pub genesis_validators_root: Root,
    /// `state.latest_block_header`.
    pub latest_block_header: BeaconBlockHeader,
    /// `hash_tree_root(state.latest_block_header)`: the `parent_root` a valid block carries.
    pub latest_block_root: Root,
    /// `state.validators`.
    pub validators: Shared<VariableList<Validator, E::ValidatorRegistryLimit>>,
    /// `state.balances`, Gwei.
    pub balances: Shared<VariableList<u64, E::ValidatorRegistryLimit>>,
    /// `state.block_roots`.
    pub block_roots: Shared<FixedVector<Root, E::SlotsPerHistoricalRoot>>,
    /// `state.state_roots`.
    pub state_roots: Shared<FixedVector<Root, E::SlotsPerHistoricalRoot>>,
    /// `state.randao_mixes`.
    randao_mixes: Shared<FixedVector<Root, E::EpochsPerHistoricalVector>>,
    /// `state.previous_justified_checkpoint`.
    pub previous_justified_checkpoint: Checkpoint,
    /// `state.current_justified_checkpoint`.
    pub current_justified_checkpoint: Checkpoint,
    /// `state.eth1_data`.
    pub eth1_data: Eth1Data,
    /// `state.eth1_data_votes`.
    pub eth1_data_votes: Shared<VariableList<Eth1Data, E::SlotsPerEth1VotingPeriod>>,
    /// `state.eth1_deposit_index`.
    pub eth1_deposit_index: u64,
    /// The `parent_root` of a block at a slot after the state's: `hash_tree_root` of
    /// `latest_block_header` once `process_slot` filled a zero `state_root` with
    /// `hash_tree_root(state)`.
    pub parent_root_after_slots: Root,
    /// The deposit tree `eth1_data` commits to, when the generator knows it (memoised).
    deposit_tree: OnceLock<Option<std::sync::Arc<crate::deposit::DepositTree>>>,
    /// Known deposit trees by `deposit_count` (for an eth1 vote that changes `eth1_data`).
    deposit_trees: Mutex<BTreeMap<u64, Option<std::sync::Arc<crate::deposit::DepositTree>>>>,
    /// Proposers by slot (memoised).
    proposers: Mutex<BTreeMap<u64, Option<u64>>>,
    /// Shufflings by epoch (previous and current are the ones asked for).
    shufflings: Mutex<BTreeMap<u64, Option<std::sync::Arc<Shuffling>>>>,
    /// `get_beacon_proposer_index(state)`.
    proposer: OnceLock<Option<u64>>,
    /// Validators a voluntary exit of this state can be valid for.
    exitable: OnceLock<Vec<u64>>,
    /// Validators slashable at the current epoch.
    slashable: OnceLock<Vec<u64>>,
}

impl<E: EthSpec> PoolView<E> {
    /// A view of `state` (clones reference counts, computes one header root, and
    /// `hash_tree_root(state)` when the header's state root is not filled yet).
    pub fn new(state: &BeaconState<E>) -> Self {
        Self::with_state_root(state, || state.tree_hash_root())
    }

    /// [`Self::new`] for a caller that already knows `hash_tree_root(state)` (or computes it
    /// once for both): `state_root` is called only when the header's state root is zero, as
    /// `process_slot` would fill it.
    pub fn with_state_root(state: &BeaconState<E>, state_root: impl FnOnce() -> Root) -> Self {
        PoolView {
            slot: state.slot,
            fork: state.fork.clone(),
            genesis_validators_root: state.genesis_validators_root,
            latest_block_header: state.latest_block_header.clone(),
            latest_block_root: state.latest_block_header.tree_hash_root(),
            validators: state.validators.clone(),
            balances: state.balances.clone(),
            block_roots: state.block_roots.clone(),
            state_roots: state.state_roots.clone(),
            randao_mixes: state.randao_mixes.clone(),
            previous_justified_checkpoint: state.previous_justified_checkpoint,
            current_justified_checkpoint: state.current_justified_checkpoint,
            eth1_data: state.eth1_data.clone(),
            eth1_data_votes: state.eth1_data_votes.clone(),
            eth1_deposit_index: state.eth1_deposit_index,
            parent_root_after_slots: {
                let mut header = state.latest_block_header.clone();
                if header.state_root == Root::ZERO {
                    header.state_root = state_root();
                }
                header.tree_hash_root()
            },
            deposit_tree: OnceLock::new(),
            deposit_trees: Mutex::new(BTreeMap::new()),
            proposers: Mutex::new(BTreeMap::new()),
            shufflings: Mutex::new(BTreeMap::new()),
            proposer: OnceLock::new(),
            exitable: OnceLock::new(),
            slashable: OnceLock::new(),
        }
    }

    /// `get_current_epoch(state)`.
    pub fn current_epoch(&self) -> u64 {
        self.slot.checked_div(E::SLOTS_PER_EPOCH).unwrap_or(0)
    }

    /// `get_previous_epoch(state)` (the current epoch at genesis).
    pub fn previous_epoch(&self) -> u64 {
        self.current_epoch().saturating_sub(1)
    }

    /// Number of validators in the registry.
    pub fn validator_count(&self) -> u64 {
        self.validators.len() as u64
    }

    /// `get_block_root_at_slot(state, slot)`: `None` unless `slot < state.slot <= slot + SLOTS_PER_HISTORICAL_ROOT`.
    pub fn block_root_at_slot(&self, slot: u64) -> Option<Root> {
        if slot >= self.slot || self.slot > slot.saturating_add(E::SLOTS_PER_HISTORICAL_ROOT) {
            return None;
        }
        let i = usize::try_from(slot.checked_rem(E::SLOTS_PER_HISTORICAL_ROOT)?).ok()?;
        self.block_roots.get(i).copied()
    }

    /// `get_block_root(state, epoch)`: the root at the epoch's first slot, when it is in range.
    pub fn block_root(&self, epoch: u64) -> Option<Root> {
        self.block_root_at_slot(epoch.checked_mul(E::SLOTS_PER_EPOCH)?)
    }

    /// `state.state_roots[slot % SLOTS_PER_HISTORICAL_ROOT]` under the same range rule as
    /// [`Self::block_root_at_slot`].
    pub fn state_root_at_slot(&self, slot: u64) -> Option<Root> {
        if slot >= self.slot || self.slot > slot.saturating_add(E::SLOTS_PER_HISTORICAL_ROOT) {
            return None;
        }
        let i = usize::try_from(slot.checked_rem(E::SLOTS_PER_HISTORICAL_ROOT)?).ok()?;
        self.state_roots.get(i).copied()
    }

    /// `get_seed(state, epoch, domain_type)`.
    pub fn seed(&self, epoch: u64, domain: [u8; 4]) -> Option<[u8; 32]> {
        let at = epoch
            .checked_add(E::EPOCHS_PER_HISTORICAL_VECTOR)?
            .checked_sub(E::MIN_SEED_LOOKAHEAD)?
            .checked_sub(1)?
            .checked_rem(E::EPOCHS_PER_HISTORICAL_VECTOR)?;
        let mix = self.randao_mixes.get(usize::try_from(at).ok()?)?;
        let mut pre = Vec::with_capacity(44);
        pre.extend_from_slice(&domain);
        pre.extend_from_slice(&epoch.to_le_bytes());
        pre.extend_from_slice(mix.as_slice());
        Some(hash(&pre))
    }

    /// `get_active_validator_indices(state, epoch)`.
    pub fn active_indices(&self, epoch: u64) -> Vec<u64> {
        (0u64..).zip(self.validators.iter()).filter(|(_, v)| v.activation_epoch <= epoch && epoch < v.exit_epoch).map(|(i, _)| i).collect()
    }

    /// The memoised shuffling of `epoch` (attester seed), or `None` with no active validator.
    pub fn shuffling(&self, epoch: u64) -> Option<std::sync::Arc<Shuffling>> {
        let mut map = self.shufflings.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = map.get(&epoch) {
            return s.clone();
        }
        let computed = self.compute_shuffling(epoch).map(std::sync::Arc::new);
        map.insert(epoch, computed.clone());
        computed
    }

    fn compute_shuffling(&self, epoch: u64) -> Option<Shuffling> {
        let active = self.active_indices(epoch);
        let seed = self.seed(epoch, DOMAIN_BEACON_ATTESTER)?;
        let shuffled = shuffle_list::<E>(active.len(), &seed)?;
        let per_slot = (active.len() as u64).checked_div(E::SLOTS_PER_EPOCH)?.checked_div(E::TARGET_COMMITTEE_SIZE)?;
        Some(Shuffling { active, shuffled, committees_per_slot: per_slot.min(E::MAX_COMMITTEES_PER_SLOT).max(1) })
    }

    /// `get_committee_count_per_slot(state, epoch)`.
    pub fn committee_count_per_slot(&self, epoch: u64) -> Option<u64> {
        self.shuffling(epoch).map(|s| s.committees_per_slot)
    }

    /// `get_beacon_committee(state, slot, index)`; `None` for an index at or past the count.
    pub fn beacon_committee(&self, slot: u64, index: u64) -> Option<Vec<u64>> {
        let epoch = slot.checked_div(E::SLOTS_PER_EPOCH)?;
        let s = self.shuffling(epoch)?;
        let cps = s.committees_per_slot;
        if index >= cps {
            return None;
        }
        let which = slot.checked_rem(E::SLOTS_PER_EPOCH)?.checked_mul(cps)?.checked_add(index)?;
        let count = cps.checked_mul(E::SLOTS_PER_EPOCH)?;
        let n = s.active.len() as u64;
        // compute_committee: start = len * index // count, end = len * (index + 1) // count.
        let start = usize::try_from(n.checked_mul(which)?.checked_div(count)?).ok()?;
        let end = usize::try_from(n.checked_mul(which.checked_add(1)?)?.checked_div(count)?).ok()?;
        (start..end).map(|i| s.shuffled.get(i).and_then(|&p| s.active.get(p)).copied()).collect()
    }

    /// `get_beacon_proposer_index(state)` at the view's slot; `None` on an empty registry or the
    /// `effective_balance * MAX_RANDOM_BYTE` overflow of a crafted state.
    pub fn proposer_index(&self) -> Option<u64> {
        *self.proposer.get_or_init(|| self.compute_proposer(self.slot))
    }

    /// `get_beacon_proposer_index` of the state after `process_slots(state, slot)`, computed from
    /// this state's registry: exact within the current epoch; in the next epoch, exact unless
    /// the epoch transition changes an effective balance (`process_effective_balance_updates`)
    /// the sampling reads (the active set and the seed's RANDAO mix do not change).
    pub fn proposer_at(&self, slot: u64) -> Option<u64> {
        if slot == self.slot {
            return self.proposer_index();
        }
        let mut map = self.proposers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get(&slot) {
            return *p;
        }
        let p = self.compute_proposer(slot);
        map.insert(slot, p);
        p
    }

    /// The [`crate::deposit::DepositTree`] that `eth1_data` commits to, when `eth1_data` carries
    /// the crafted states' marker and the recomputed root matches.
    pub fn deposit_tree(&self) -> Option<std::sync::Arc<crate::deposit::DepositTree>> {
        self.deposit_tree.get_or_init(|| self.known_tree(&self.eth1_data)).clone()
    }

    /// The known deposit tree `data` commits to (an eth1 vote's), memoised by deposit count.
    pub fn known_tree(&self, data: &Eth1Data) -> Option<std::sync::Arc<crate::deposit::DepositTree>> {
        if data.block_hash != crate::deposit::tree_marker() || data.deposit_count > 4096 {
            return None;
        }
        let tree = {
            let mut map = self.deposit_trees.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(data.deposit_count)
                .or_insert_with(|| crate::deposit::DepositTree::for_registry::<E>(&self.validators, data.deposit_count).map(std::sync::Arc::new))
                .clone()
        };
        tree.filter(|t| t.root == data.deposit_root)
    }

    fn compute_proposer(&self, slot: u64) -> Option<u64> {
        let epoch = slot.checked_div(E::SLOTS_PER_EPOCH)?;
        let mut pre = self.seed(epoch, DOMAIN_BEACON_PROPOSER)?.to_vec();
        pre.extend_from_slice(&slot.to_le_bytes());
        let seed = hash(&pre);
        let indices = self.active_indices(epoch);
        let total = indices.len() as u64;
        // compute_proposer_index; bounded (the spec's loop ends with probability 1).
        for i in 0u64..100_000 {
            let pos = compute_shuffled_index::<E>(i.checked_rem(total)?, total, &seed)?;
            let candidate = *indices.get(usize::try_from(pos).ok()?)?;
            let mut h = seed.to_vec();
            h.extend_from_slice(&i.checked_div(32)?.to_le_bytes());
            let random_byte = u64::from(*hash(&h).get(usize::try_from(i.checked_rem(32)?).ok()?)?);
            let eb = self.validators.get(usize::try_from(candidate).ok()?)?.effective_balance;
            if eb.checked_mul(255)? >= E::MAX_EFFECTIVE_BALANCE.checked_mul(random_byte)? {
                return Some(candidate);
            }
        }
        None
    }

    /// Validators a voluntary exit is valid for at the current epoch: active, not exiting, and
    /// active for `SHARD_COMMITTEE_PERIOD` epochs (`process_voluntary_exit`).
    pub fn exitable(&self) -> &[u64] {
        self.exitable.get_or_init(|| {
            let epoch = self.current_epoch();
            (0u64..)
                .zip(self.validators.iter())
                .filter(|(_, v)| {
                    v.activation_epoch <= epoch
                        && epoch < v.exit_epoch
                        && v.exit_epoch == FAR_FUTURE_EPOCH
                        && v.activation_epoch.checked_add(E::SHARD_COMMITTEE_PERIOD).is_some_and(|e| epoch >= e)
                })
                .map(|(i, _)| i)
                .collect()
        })
    }

    /// Validators for which `is_slashable_validator(validator, current_epoch)` holds.
    pub fn slashable(&self) -> &[u64] {
        self.slashable.get_or_init(|| {
            let epoch = self.current_epoch();
            (0u64..)
                .zip(self.validators.iter())
                .filter(|(_, v)| !v.slashed && v.activation_epoch <= epoch && epoch < v.withdrawable_epoch)
                .map(|(i, _)| i)
                .collect()
        })
    }
}

fn round_hash(seed: &[u8; 32], round: u8, position_chunk: Option<u32>) -> [u8; 32] {
    let mut pre = Vec::with_capacity(37);
    pre.extend_from_slice(seed);
    pre.push(round);
    if let Some(c) = position_chunk {
        pre.extend_from_slice(&c.to_le_bytes());
    }
    hash(&pre)
}

/// `compute_shuffled_index(index, index_count, seed)` (swap-or-not, `SHUFFLE_ROUND_COUNT` rounds).
/// `None` for `index >= index_count`.
pub fn compute_shuffled_index<E: EthSpec>(index: u64, index_count: u64, seed: &[u8; 32]) -> Option<u64> {
    if index >= index_count {
        return None;
    }
    let mut index = index;
    for round in 0..u8::try_from(E::SHUFFLE_ROUND_COUNT).ok()? {
        let pivot = pivot(seed, round, index_count)?;
        let flip = pivot.checked_add(index_count)?.checked_sub(index)?.checked_rem(index_count)?;
        let position = index.max(flip);
        let source = round_hash(seed, round, Some(u32::try_from(position.checked_div(256)?).ok()?));
        if bit_at(&source, position)? {
            index = flip;
        }
    }
    Some(index)
}

fn pivot(seed: &[u8; 32], round: u8, index_count: u64) -> Option<u64> {
    let h = round_hash(seed, round, None);
    let mut b = [0u8; 8];
    b.copy_from_slice(h.get(..8)?);
    u64::from_le_bytes(b).checked_rem(index_count)
}

fn bit_at(source: &[u8; 32], position: u64) -> Option<bool> {
    let byte = *source.get(usize::try_from(position.checked_rem(256)?.checked_div(8)?).ok()?)?;
    Some((byte >> position.checked_rem(8)?) & 1 == 1)
}

/// `[compute_shuffled_index(i, n, seed) for i in range(n)]`, with each round's pivot and source
/// hashes computed once (`n / 256 + 1` hashes a round instead of two per index).
pub fn shuffle_list<E: EthSpec>(n: usize, seed: &[u8; 32]) -> Option<Vec<usize>> {
    let count = n as u64;
    if count == 0 {
        return Some(Vec::new());
    }
    let rounds = u8::try_from(E::SHUFFLE_ROUND_COUNT).ok()?;
    let chunks = u32::try_from(count.checked_div(256)?).ok()?;
    let mut tables = Vec::with_capacity(usize::from(rounds));
    for round in 0..rounds {
        let p = pivot(seed, round, count)?;
        let sources: Vec<[u8; 32]> = (0..=chunks).map(|c| round_hash(seed, round, Some(c))).collect();
        tables.push((p, sources));
    }
    (0..count)
        .map(|i| {
            let mut index = i;
            for (p, sources) in &tables {
                let flip = p.checked_add(count)?.checked_sub(index)?.checked_rem(count)?;
                let position = index.max(flip);
                let source = sources.get(usize::try_from(position.checked_div(256)?).ok()?)?;
                if bit_at(source, position)? {
                    index = flip;
                }
            }
            usize::try_from(index).ok()
        })
        .collect()
}
