//! [`Shared`]: the copy-on-write holder of `BeaconState`'s list and vector fields, with an
//! incremental Merkle tree.
//!
//! Every execution of the differential runner starts from a clone of a prepared pool state, and a
//! mainnet state is ~2.7 MB, most of it in `randao_mixes` (2 MiB), `block_roots` and `state_roots`
//! (256 KiB each), which one operation rarely touches. Holding those fields behind an `Arc` makes a
//! `BeaconState` clone a handful of reference-count increments; the first write copies that one
//! field (`Arc::make_mut`). Two states cloned from the same pool state still share their untouched
//! fields, so comparing post-states is a pointer comparison for them.
//!
//! Merkleization is incremental. A field keeps the internal nodes of its Merkle tree (above
//! groups of [`GROUP_CHUNKS`] leaf chunks for cheap leaves, above every leaf for container
//! elements, whose roots are costly) beside the value, and the writes that go through
//! [`Shared::get_mut`] and [`Shared::push`] mark the one group they touch: the next
//! `hash_tree_root` recomputes those groups and their paths to the root, O(k log n) hashes for k
//! writes instead of n. A copy made on write starts from the original's nodes (shared until the
//! copy's first rehash), so the spec's per-slot `hash_tree_root(state)` after writing one
//! `state_roots` entry rehashes one group and 9 nodes of 8,192 roots on mainnet, not the
//! vector. Every other write ([`DerefMut`], [`Shared::iter_mut`]) marks the whole field, and the
//! next root is computed from scratch, as before. No implementation can write a field without
//! one of these paths, so a tree is never stale (the tests below check every path against the
//! wrapped type's own `tree_hash_root`).
//!
//! SSZ encoding, decoding and the root itself are exactly the wrapped type's
//! (`ssz_types::tree_hash::vec_tree_hash_root`, then `mix_in_length` for a list): the layout is
//! consensus-specs v1.1.10 `ssz/simple-serialize.md#merkleization` (`pack` for basic elements,
//! `hash_tree_root` of each element otherwise, `merkleize` to the limit's depth).

use ssz::{Decode, DecodeError, Encode};
use ssz_types::typenum::Unsigned;
use ssz_types::{FixedVector, VariableList};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tree_hash::{Hash256, PackedEncoding, TreeHash, TreeHashType, BYTES_PER_CHUNK};

/// Leaf chunks below one stored tree node for elements whose chunk is cheap (basic types packed
/// into chunks, and 32-byte roots): a group's root is 15 hashes from the value, and the stored
/// tree is 1/16 of the field's size (256 KiB for mainnet `randao_mixes`, which is 2 MiB).
pub const GROUP_CHUNKS: usize = 16;
const GROUP_HEIGHT: u32 = GROUP_CHUNKS.trailing_zeros();

/// More marked groups than `1/DIRTY_FRACTION` of the tree's width: rebuild it from scratch (as
/// cheap as the path updates by then, and the marks stop growing).
const DIRTY_FRACTION: usize = 8;

/// A list or vector type `Shared` can merkleize incrementally: `ssz_types`' `FixedVector` and
/// `VariableList`, whose roots are `vec_tree_hash_root(items, limit)` (a list mixing in its
/// length).
pub trait Merkleize: TreeHash + Clone {
    /// Element type.
    type Item: TreeHash + Clone;
    /// The elements.
    fn items(&self) -> &[Self::Item];
    /// The elements, for writing (callers mark what they write).
    fn items_mut(&mut self) -> &mut [Self::Item];
    /// `N`: the vector's length or the list's limit, elements.
    fn limit() -> usize;
    /// Whether the root mixes in the length (`List`).
    fn is_list() -> bool;
}

impl<T: TreeHash + Clone, N: Unsigned + Clone> Merkleize for FixedVector<T, N> {
    type Item = T;
    fn items(&self) -> &[T] {
        self
    }
    fn items_mut(&mut self) -> &mut [T] {
        self
    }
    fn limit() -> usize {
        N::to_usize()
    }
    fn is_list() -> bool {
        false
    }
}

impl<T: TreeHash + Clone, N: Unsigned + Clone> Merkleize for VariableList<T, N> {
    type Item = T;
    fn items(&self) -> &[T] {
        self
    }
    fn items_mut(&mut self) -> &mut [T] {
        self
    }
    fn limit() -> usize {
        N::to_usize()
    }
    fn is_list() -> bool {
        true
    }
}

/// The tree shape of a `Merkleize` type with `len` elements. All quantities are bounded by the
/// limit's chunk count (at most 2^40 here, `VALIDATOR_REGISTRY_LIMIT`), so shifts and products
/// below stay far from `usize::MAX`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Layout {
    /// Elements per chunk (`pack`): the packing factor for basic types, else 1.
    per_chunk: usize,
    /// Height of one stored bottom node above the leaf chunks.
    group_height: u32,
    /// Stored bottom nodes (a power of two): the occupied width.
    width: usize,
    /// Height of the limit's tree (`merkleize(chunks, limit)`).
    depth: u32,
}

impl Layout {
    fn of<M: Merkleize>(len: usize) -> Layout {
        let basic = matches!(M::Item::tree_hash_type(), TreeHashType::Basic);
        let per_chunk = if basic { M::Item::tree_hash_packing_factor().max(1) } else { 1 };
        let limit_chunks = M::limit().div_ceil(per_chunk);
        let depth = limit_chunks.checked_next_power_of_two().unwrap_or(usize::MAX).trailing_zeros();
        // Container elements: the leaves are their roots, costly, so every leaf is stored.
        let cheap = !matches!(M::Item::tree_hash_type(), TreeHashType::Container | TreeHashType::List);
        let group_height = if cheap { GROUP_HEIGHT.min(depth) } else { 0 };
        let chunks = if M::is_list() { len.div_ceil(per_chunk) } else { limit_chunks };
        let groups = chunks.div_ceil(1usize << group_height).max(1);
        let max_width = 1usize << depth.saturating_sub(group_height);
        let width = groups.checked_next_power_of_two().unwrap_or(max_width).min(max_width);
        Layout { per_chunk, group_height, width, depth }
    }

    /// Elements under one bottom node.
    fn items_per_group(&self) -> usize {
        self.per_chunk << self.group_height
    }

    /// The bottom node holding element `index`.
    fn group_of(&self, index: usize) -> usize {
        index.checked_div(self.items_per_group()).unwrap_or(0)
    }
}

/// `hash(a + b)`.
fn hash_pair(a: &Hash256, b: &Hash256) -> Hash256 {
    Hash256::from(ethereum_hashing::hash32_concat(a.as_slice(), b.as_slice()))
}

/// `hash(nodes[2k] + nodes[2k + 1])` in a heap-ordered tree (a missing child reads as zero).
fn children_root(nodes: &[Hash256], k: usize) -> Hash256 {
    let left = k.saturating_mul(2);
    let child = |i: usize| nodes.get(i).copied().unwrap_or_default();
    hash_pair(&child(left), &child(left.saturating_add(1)))
}

/// The root of a tree of `2^height` zero chunks.
fn zero_hash(height: u32) -> Hash256 {
    match ethereum_hashing::ZERO_HASHES.get(height as usize) {
        Some(z) => Hash256::from(*z),
        None => (0..height).fold(Hash256::ZERO, |z, _| hash_pair(&z, &z)),
    }
}

/// The root of bottom node `group`: the merkleization of its `2^group_height` leaf chunks (zero
/// chunks past the elements).
fn group_root<T: TreeHash>(items: &[T], layout: &Layout, group: usize) -> Hash256 {
    let per_group = layout.items_per_group();
    let start = group.saturating_mul(per_group);
    let members = items.get(start..).unwrap_or(&[]);
    let members = members.get(..per_group).unwrap_or(members);
    let mut chunks = [Hash256::ZERO; GROUP_CHUNKS];
    if matches!(T::tree_hash_type(), TreeHashType::Basic) {
        // `pack`: the elements' packed encodings, back to back, zero-padded to whole chunks.
        let mut bytes = [0u8; GROUP_CHUNKS * BYTES_PER_CHUNK];
        let mut at = 0usize;
        for item in members {
            let enc: PackedEncoding = item.tree_hash_packed_encoding();
            let end = at.saturating_add(enc.len());
            if let Some(dst) = bytes.get_mut(at..end) {
                dst.copy_from_slice(&enc);
            }
            at = end;
        }
        for (chunk, src) in chunks.iter_mut().zip(bytes.chunks_exact(BYTES_PER_CHUNK)) {
            *chunk = Hash256::from_slice(src);
        }
    } else {
        for (chunk, item) in chunks.iter_mut().zip(members) {
            *chunk = item.tree_hash_root();
        }
    }
    // Pairwise up to the group's root, in place.
    let mut n = 1usize << layout.group_height;
    while n > 1 {
        n /= 2;
        for k in 0..n {
            let parent = children_root(&chunks, k);
            if let Some(c) = chunks.get_mut(k) {
                *c = parent;
            }
        }
    }
    chunks.first().copied().unwrap_or_default()
}

/// Which bottom nodes changed since the stored tree was right.
#[derive(Clone, Debug)]
enum Dirty {
    /// These (unsorted, possibly repeated).
    Few(Vec<usize>),
    /// Unknown: rebuild.
    All,
}

/// The memoised root and the stored tree of one value.
#[derive(Clone, Debug)]
struct Cache {
    /// The value's root, when no write happened since it was computed.
    root: Option<Hash256>,
    /// Heap-ordered nodes (`nodes[1]` the occupied subtree's root, `nodes[width + j]` bottom node
    /// `j`), right for the value except at `dirty`; shared with the value this one was copied
    /// from until the first rehash.
    tree: Option<(Layout, Arc<Vec<Hash256>>)>,
    dirty: Dirty,
}

impl Cache {
    fn empty() -> Cache {
        Cache { root: None, tree: None, dirty: Dirty::All }
    }

    /// Element `index` (of `len` after the write) is about to change.
    fn mark<M: Merkleize>(&mut self, index: usize, len: usize) {
        self.root = None;
        let layout = Layout::of::<M>(len);
        let limit = (layout.width / DIRTY_FRACTION).saturating_add(16);
        if let Dirty::Few(groups) = &mut self.dirty {
            if groups.len() >= limit {
                self.dirty = Dirty::All;
            } else {
                groups.push(layout.group_of(index));
            }
        }
    }

    fn mark_all(&mut self) {
        self.root = None;
        self.dirty = Dirty::All;
    }

    /// The value's root, updating the tree.
    fn root<M: Merkleize>(&mut self, value: &M) -> Hash256 {
        if let Some(root) = self.root {
            return root;
        }
        let items = value.items();
        let layout = Layout::of::<M>(items.len());
        let subtree = self.update_tree(items, layout);
        // Up from the occupied subtree to the limit's depth, over zero subtrees.
        let occupied_height = layout.group_height.saturating_add(layout.width.trailing_zeros());
        let root = (occupied_height..layout.depth).fold(subtree, |node, h| hash_pair(&node, &zero_hash(h)));
        let root = if M::is_list() { tree_hash::mix_in_length(&root, items.len()) } else { root };
        self.root = Some(root);
        root
    }

    /// Brings the tree up to date with `items` and returns the occupied subtree's root.
    fn update_tree<T: TreeHash>(&mut self, items: &[T], layout: Layout) -> Hash256 {
        let dirty = std::mem::replace(&mut self.dirty, Dirty::Few(Vec::new()));
        let w = layout.width;
        let reusable = match (&self.tree, &dirty) {
            (Some((l, _)), Dirty::Few(_)) => *l == layout,
            _ => false,
        };
        if !reusable {
            let mut nodes = vec![Hash256::ZERO; w.saturating_mul(2)];
            for (j, node) in nodes.iter_mut().skip(w).enumerate() {
                *node = group_root(items, &layout, j);
            }
            for k in (1..w).rev() {
                let parent = children_root(&nodes, k);
                if let Some(n) = nodes.get_mut(k) {
                    *n = parent;
                }
            }
            let top = nodes.get(1).copied().unwrap_or_default();
            self.tree = Some((layout, Arc::new(nodes)));
            return top;
        }
        let Some((_, nodes)) = self.tree.as_mut() else { return Hash256::ZERO };
        let mut level: Vec<usize> = match dirty {
            Dirty::Few(g) => g.into_iter().filter(|j| *j < w).map(|j| w.saturating_add(j)).collect(),
            Dirty::All => Vec::new(),
        };
        if !level.is_empty() {
            let nodes = Arc::make_mut(nodes);
            level.sort_unstable();
            level.dedup();
            for &k in &level {
                let root = group_root(items, &layout, k.saturating_sub(w));
                if let Some(n) = nodes.get_mut(k) {
                    *n = root;
                }
            }
            while level.first().is_some_and(|&k| k > 1) {
                for k in level.iter_mut() {
                    *k /= 2;
                }
                level.dedup();
                for &k in &level {
                    let parent = children_root(nodes, k);
                    if let Some(n) = nodes.get_mut(k) {
                        *n = parent;
                    }
                }
            }
        }
        nodes.get(1).copied().unwrap_or_default()
    }
}

/// A copy-on-write value with an incrementally maintained `hash_tree_root`: `Clone` is O(1),
/// reads go through [`Deref`], writes through [`Shared::get_mut`] / [`Shared::push`] (which mark
/// what they touch) or [`DerefMut`] (which marks everything); a shared value is copied on its
/// first write. Equality compares pointers, then memoised roots, then values.
pub struct Shared<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    value: T,
    cache: Mutex<Cache>,
}

impl<T> Inner<T> {
    fn cache(&self) -> MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves at worst a cache marked dirty: still right.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cache_mut(&mut self) -> &mut Cache {
        self.cache.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Merkleize> Clone for Inner<T> {
    /// The copy a write makes of a shared value: it starts from the original's tree (built now
    /// if the original has none, once: the original is typically a prepared pool state, cloned
    /// by every execution).
    fn clone(&self) -> Self {
        let mut cache = self.cache();
        if cache.tree.is_none() {
            cache.root(&self.value);
        }
        Inner { value: self.value.clone(), cache: Mutex::new(cache.clone()) }
    }
}

impl<T> Shared<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Shared { inner: Arc::new(Inner { value, cache: Mutex::new(Cache::empty()) }) }
    }

    /// Whether `a` and `b` hold the same allocation (so are equal without looking at the values).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The memoised root, if no write happened since it was computed.
    fn memoised_root(&self) -> Option<Hash256> {
        self.inner.cache().root
    }
}

impl<T: Merkleize> Shared<T> {
    /// `value[index]` for writing, marking its group; `None` (and nothing copied) past the end.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T::Item> {
        let len = self.inner.value.items().len();
        if index >= len {
            return None;
        }
        let inner = Arc::make_mut(&mut self.inner);
        inner.cache_mut().mark::<T>(index, len);
        inner.value.items_mut().get_mut(index)
    }

    /// Every element for writing: marks the whole value.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T::Item> {
        let inner = Arc::make_mut(&mut self.inner);
        inner.cache_mut().mark_all();
        inner.value.items_mut().iter_mut()
    }
}

impl<T: TreeHash + Clone, N: Unsigned + Clone> Shared<VariableList<T, N>> {
    /// `VariableList::push`, marking the new element's group.
    ///
    /// # Errors
    /// `ssz_types::Error::OutOfBounds` when the list is full (nothing changes).
    pub fn push(&mut self, item: T) -> Result<(), ssz_types::Error> {
        let len = self.inner.value.len();
        if len >= N::to_usize() {
            return Err(ssz_types::Error::OutOfBounds { i: len.saturating_add(1), len: N::to_usize() });
        }
        let inner = Arc::make_mut(&mut self.inner);
        inner.cache_mut().mark::<VariableList<T, N>>(len, len.saturating_add(1));
        inner.value.push(item)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared { inner: Arc::clone(&self.inner) }
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner.value
    }
}

impl<T: Merkleize> DerefMut for Shared<T> {
    /// Untracked write access: the next root is computed from scratch.
    fn deref_mut(&mut self) -> &mut T {
        let inner = Arc::make_mut(&mut self.inner);
        inner.cache_mut().mark_all();
        &mut inner.value
    }
}

impl<T: Default> Default for Shared<T> {
    fn default() -> Self {
        Shared::new(T::default())
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    /// Same allocation: equal. Both roots memoised: equal exactly when the roots are (SHA-256
    /// collision resistance, as every consensus client's state comparison assumes). Otherwise
    /// the values.
    fn eq(&self, other: &Self) -> bool {
        if Shared::ptr_eq(self, other) {
            return true;
        }
        if let (Some(a), Some(b)) = (self.memoised_root(), other.memoised_root()) {
            return a == b;
        }
        self.inner.value == other.inner.value
    }
}

impl<T: Eq> Eq for Shared<T> {}

impl<T: std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.value.fmt(f)
    }
}

impl<T: Encode> Encode for Shared<T> {
    fn is_ssz_fixed_len() -> bool {
        T::is_ssz_fixed_len()
    }
    fn ssz_fixed_len() -> usize {
        T::ssz_fixed_len()
    }
    fn ssz_append(&self, buf: &mut Vec<u8>) {
        self.inner.value.ssz_append(buf)
    }
    fn ssz_bytes_len(&self) -> usize {
        self.inner.value.ssz_bytes_len()
    }
}

impl<T: Decode> Decode for Shared<T> {
    fn is_ssz_fixed_len() -> bool {
        T::is_ssz_fixed_len()
    }
    fn ssz_fixed_len() -> usize {
        T::ssz_fixed_len()
    }
    fn from_ssz_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        T::from_ssz_bytes(bytes).map(Shared::new)
    }
}

impl<T: Merkleize> TreeHash for Shared<T> {
    fn tree_hash_type() -> TreeHashType {
        T::tree_hash_type()
    }
    fn tree_hash_packed_encoding(&self) -> PackedEncoding {
        self.inner.value.tree_hash_packed_encoding()
    }
    fn tree_hash_packing_factor() -> usize {
        T::tree_hash_packing_factor()
    }
    /// The wrapped value's root, rehashing only the groups written since the last root.
    fn tree_hash_root(&self) -> Hash256 {
        self.inner.cache().root(&self.inner.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Eth1Data, PendingAttestation, Root, Validator};
    use rand::{Rng, SeedableRng};
    use ssz_types::typenum::{U1024, U1099511627776, U16, U2048, U65536, U8, U8192};
    use ssz_types::BitList;

    type Roots = FixedVector<u64, U8>;

    #[test]
    fn clone_shares_until_written_and_root_follows_writes() {
        let a: Shared<Roots> = Shared::new(FixedVector::new(vec![1, 2, 3, 4, 5, 6, 7, 8]).unwrap());
        let root_a = a.tree_hash_root();
        assert_eq!(root_a, a.inner.value.tree_hash_root());
        let mut b = a.clone();
        assert!(Shared::ptr_eq(&a, &b));
        assert_eq!(b.tree_hash_root(), root_a);
        b[3] = 40;
        assert!(!Shared::ptr_eq(&a, &b), "a write copies the shared value");
        assert_eq!(a[3], 4, "the original is untouched");
        assert_ne!(a, b);
        let expected: Roots = FixedVector::new(vec![1, 2, 3, 40, 5, 6, 7, 8]).unwrap();
        assert_eq!(b.tree_hash_root(), expected.tree_hash_root(), "the memoised root is dropped on write");
        assert_eq!(a.tree_hash_root(), root_a);
        // A unique value is written in place, and its root still follows.
        let before = b.tree_hash_root();
        *b.get_mut(3).unwrap() = 4;
        assert_ne!(b.tree_hash_root(), before);
        assert_eq!(b.tree_hash_root(), root_a);
        assert_eq!(a, b, "equal values in different allocations are equal");
    }

    #[test]
    fn ssz_and_merkleization_are_the_wrapped_types() {
        let list: VariableList<u64, U8> = VariableList::new(vec![7, 8, 9]).unwrap();
        let shared = Shared::new(list.clone());
        assert_eq!(shared.as_ssz_bytes(), list.as_ssz_bytes());
        assert_eq!(Shared::<VariableList<u64, U8>>::from_ssz_bytes(&list.as_ssz_bytes()).unwrap(), shared);
        assert_eq!(shared.tree_hash_root(), list.tree_hash_root());
        assert_eq!(<Shared<VariableList<u64, U8>> as Encode>::is_ssz_fixed_len(), <VariableList<u64, U8> as Encode>::is_ssz_fixed_len());
        let mut pushed = shared.clone();
        pushed.push(10).unwrap();
        assert_eq!(pushed.len(), 4);
        assert_eq!(shared.len(), 3);
        assert_eq!(pushed.tree_hash_root(), pushed.inner.value.tree_hash_root());
    }

    /// One random write through one of the write paths, the same on the plain value.
    trait Writes: Merkleize + PartialEq + std::fmt::Debug {
        fn random_item(rng: &mut impl Rng) -> Self::Item;
        fn can_push() -> bool {
            false
        }
        fn push_plain(&mut self, _item: Self::Item) -> bool {
            false
        }
    }

    fn exercise<M: Writes + 'static>(start: M, steps: usize, seed: u64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut plain = start.clone();
        let mut shared = Shared::new(start);
        let mut older: Vec<(Shared<M>, Hash256)> = Vec::new();
        for step in 0..steps {
            let len = plain.items().len();
            match rng.gen_range(0..10) {
                0..=5 if len > 0 => {
                    let i = rng.gen_range(0..len);
                    let v = M::random_item(&mut rng);
                    *shared.get_mut(i).unwrap() = v.clone();
                    *plain.items_mut().get_mut(i).unwrap() = v;
                }
                6 if M::can_push() => {
                    let v = M::random_item(&mut rng);
                    let pushed = plain.push_plain(v.clone());
                    let ok = push_shared(&mut shared, v);
                    assert_eq!(pushed, ok, "push agrees with the plain value at step {step}");
                }
                7 if len > 0 => {
                    // Untracked write.
                    let i = rng.gen_range(0..len);
                    let v = M::random_item(&mut rng);
                    *(*shared).items_mut().get_mut(i).unwrap() = v.clone();
                    *plain.items_mut().get_mut(i).unwrap() = v;
                }
                8 => {
                    // Keep a copy: the next write copies the value, starting from its tree.
                    older.push((shared.clone(), plain.tree_hash_root()));
                }
                _ => {
                    let v = M::random_item(&mut rng);
                    if let Some(x) = shared.iter_mut().next() {
                        *x = v.clone();
                    }
                    if let Some(x) = plain.items_mut().iter_mut().next() {
                        *x = v;
                    }
                }
            }
            if rng.gen_bool(0.5) {
                assert_eq!(shared.tree_hash_root(), plain.tree_hash_root(), "root after step {step} (seed {seed})");
            }
            assert_eq!(&*shared, &plain);
        }
        assert_eq!(shared.tree_hash_root(), plain.tree_hash_root());
        for (copy, root) in older {
            assert_eq!(copy.tree_hash_root(), root, "a kept copy is unaffected by later writes");
        }
    }

    fn push_shared<M: Writes + 'static>(shared: &mut Shared<M>, item: M::Item) -> bool {
        // Only lists push; the concrete list types below route through `Shared::push`.
        let any: &mut dyn std::any::Any = shared;
        if let Some(l) = any.downcast_mut::<Shared<VariableList<u64, U1099511627776>>>() {
            return l.push(*(&item as &dyn std::any::Any).downcast_ref::<u64>().unwrap()).is_ok();
        }
        if let Some(l) = any.downcast_mut::<Shared<VariableList<u64, U16>>>() {
            return l.push(*(&item as &dyn std::any::Any).downcast_ref::<u64>().unwrap()).is_ok();
        }
        if let Some(l) = any.downcast_mut::<Shared<VariableList<Validator, U1099511627776>>>() {
            return l.push((&item as &dyn std::any::Any).downcast_ref::<Validator>().unwrap().clone()).is_ok();
        }
        if let Some(l) = any.downcast_mut::<Shared<VariableList<Root, U1024>>>() {
            return l.push(*(&item as &dyn std::any::Any).downcast_ref::<Root>().unwrap()).is_ok();
        }
        if let Some(l) = any.downcast_mut::<Shared<VariableList<Eth1Data, U2048>>>() {
            return l.push((&item as &dyn std::any::Any).downcast_ref::<Eth1Data>().unwrap().clone()).is_ok();
        }
        if let Some(l) = any.downcast_mut::<Shared<VariableList<PendingAttestation<crate::MinimalSpec>, U16>>>() {
            return l.push((&item as &dyn std::any::Any).downcast_ref::<PendingAttestation<crate::MinimalSpec>>().unwrap().clone()).is_ok();
        }
        panic!("no push for this type");
    }

    fn random_root(rng: &mut impl Rng) -> Root {
        Root::from(rng.gen::<[u8; 32]>())
    }

    impl<N: Unsigned + Clone + 'static> Writes for FixedVector<Root, N> {
        fn random_item(rng: &mut impl Rng) -> Root {
            random_root(rng)
        }
    }
    impl<N: Unsigned + Clone + 'static> Writes for FixedVector<u64, N> {
        fn random_item(rng: &mut impl Rng) -> u64 {
            rng.gen()
        }
    }
    macro_rules! list_writes {
        ($t:ty, $n:ty, $gen:expr) => {
            impl Writes for VariableList<$t, $n> {
                fn random_item(rng: &mut impl Rng) -> $t {
                    ($gen)(rng)
                }
                fn can_push() -> bool {
                    true
                }
                fn push_plain(&mut self, item: $t) -> bool {
                    self.push(item).is_ok()
                }
            }
        };
    }
    list_writes!(u64, U1099511627776, |rng: &mut dyn rand::RngCore| rng.next_u64());
    list_writes!(u64, U16, |rng: &mut dyn rand::RngCore| rng.next_u64());
    list_writes!(Root, U1024, |rng: &mut dyn rand::RngCore| { let mut b = [0u8; 32]; rng.fill_bytes(&mut b); Root::from(b) });
    list_writes!(Validator, U1099511627776, |rng: &mut dyn rand::RngCore| Validator { effective_balance: rng.next_u64(), exit_epoch: rng.next_u64(), slashed: rng.next_u64().is_multiple_of(2), ..Validator::default() });
    list_writes!(Eth1Data, U2048, |rng: &mut dyn rand::RngCore| Eth1Data { deposit_count: rng.next_u64(), ..Eth1Data::default() });
    list_writes!(PendingAttestation<crate::MinimalSpec>, U16, |rng: &mut dyn rand::RngCore| PendingAttestation {
        aggregation_bits: BitList::with_capacity((rng.next_u64() % 8) as usize).unwrap(),
        data: Default::default(),
        inclusion_delay: rng.next_u64(),
        proposer_index: 3,
    });

    #[test]
    fn incremental_roots_equal_the_wrapped_types_under_random_writes() {
        for seed in 0..4 {
            exercise(FixedVector::<Root, U8>::from_elem(Root::repeat_byte(1)), 200, seed);
            exercise(FixedVector::<Root, U8192>::from_elem(Root::repeat_byte(2)), 300, seed);
            exercise(FixedVector::<Root, U65536>::default(), 100, seed);
            exercise(FixedVector::<u64, U8192>::default(), 300, seed);
            exercise(FixedVector::<u64, U8>::default(), 100, seed);
            exercise(VariableList::<u64, U1099511627776>::new((0..1000).collect()).unwrap(), 400, seed);
            exercise(VariableList::<u64, U1099511627776>::empty(), 400, seed);
            exercise(VariableList::<u64, U16>::empty(), 100, seed);
            exercise(VariableList::<Root, U1024>::empty(), 400, seed);
            exercise(VariableList::<Validator, U1099511627776>::new(vec![Validator::default(); 70]).unwrap(), 300, seed);
            exercise(VariableList::<Eth1Data, U2048>::empty(), 300, seed);
            exercise(VariableList::<PendingAttestation<crate::MinimalSpec>, U16>::empty(), 100, seed);
        }
    }

    #[test]
    fn a_copy_rehashes_only_its_writes_and_leaves_the_original_tree() {
        let base: Shared<FixedVector<Root, U65536>> = Shared::new(FixedVector::from_elem(Root::repeat_byte(7)));
        let root = base.tree_hash_root();
        let mut copy = base.clone();
        *copy.get_mut(1234).unwrap() = Root::repeat_byte(9);
        let (_, base_nodes) = base.inner.cache().tree.clone().unwrap();
        let (_, copy_nodes) = copy.inner.cache().tree.clone().unwrap();
        assert!(Arc::ptr_eq(&base_nodes, &copy_nodes), "the copy starts from the original's tree");
        let mut plain = (*base).clone();
        plain[1234] = Root::repeat_byte(9);
        assert_eq!(copy.tree_hash_root(), plain.tree_hash_root());
        let (_, copy_nodes) = copy.inner.cache().tree.clone().unwrap();
        assert!(!Arc::ptr_eq(&base_nodes, &copy_nodes));
        let changed = base_nodes.iter().zip(copy_nodes.iter()).filter(|(a, b)| a != b).count();
        assert_eq!(changed, 13, "one bottom node and its 12 ancestors (4096 groups of 16)");
        assert_eq!(base.tree_hash_root(), root);
    }

    #[test]
    fn equality_uses_memoised_roots_only_when_both_are_fresh() {
        let a: Shared<FixedVector<u64, U8>> = Shared::new(FixedVector::from_elem(1));
        let mut b = a.clone();
        *b.get_mut(0).unwrap() = 2;
        assert_ne!(a, b, "values differ, no root memoised on b");
        *b.get_mut(0).unwrap() = 1;
        assert_eq!(a, b);
        a.tree_hash_root();
        b.tree_hash_root();
        assert_eq!(a, b, "equal roots");
        *b.get_mut(0).unwrap() = 3;
        assert!(b.memoised_root().is_none(), "a write forgets the root");
        assert_ne!(a, b);
    }
}
