//! [`Shared`]: the copy-on-write holder of `BeaconState`'s list and vector fields.
//!
//! Every execution of the differential runner starts from a clone of a prepared pool state, and a
//! mainnet state is ~2.7 MB, most of it in `randao_mixes` (2 MiB), `block_roots` and `state_roots`
//! (256 KiB each), which one operation rarely touches. Holding those fields behind an `Arc` makes a
//! `BeaconState` clone a handful of reference-count increments; the first write through
//! [`DerefMut`] copies that one field (`Arc::make_mut`). Two states cloned from the same pool state
//! still share their untouched fields, so comparing post-states is a pointer comparison for them.
//!
//! The field's `hash_tree_root` is memoised in the same allocation and dropped on that first
//! write, so hashing a state (which the spec does every slot) rehashes only the fields written
//! since the state was hashed. This is a property of the shared container type, like milhouse's
//! cached subtree roots: no implementation can write a field without passing through
//! [`DerefMut`], so a memoised root is never stale.
//!
//! SSZ encoding, decoding and merkleization are exactly the wrapped type's.

use ssz::{Decode, DecodeError, Encode};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};
use tree_hash::{Hash256, PackedEncoding, TreeHash, TreeHashType};

/// A copy-on-write value with a memoised `hash_tree_root`: `Clone` is O(1), reads go through
/// [`Deref`], writes through [`DerefMut`] (which copies the value if it is shared, and forgets the
/// memoised root). Equality compares pointers first, then values.
pub struct Shared<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    value: T,
    root: OnceLock<Hash256>,
}

impl<T: Clone> Clone for Inner<T> {
    fn clone(&self) -> Self {
        // The copy is about to be written (`Arc::make_mut`): its root is recomputed on demand.
        Inner { value: self.value.clone(), root: OnceLock::new() }
    }
}

impl<T> Shared<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Shared { inner: Arc::new(Inner { value, root: OnceLock::new() }) }
    }

    /// Whether `a` and `b` hold the same allocation (so are equal without looking at the values).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
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

impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        let inner = Arc::make_mut(&mut self.inner);
        inner.root.take();
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
    fn eq(&self, other: &Self) -> bool {
        Shared::ptr_eq(self, other) || self.inner.value == other.inner.value
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

impl<T: TreeHash> TreeHash for Shared<T> {
    fn tree_hash_type() -> TreeHashType {
        T::tree_hash_type()
    }
    fn tree_hash_packed_encoding(&self) -> PackedEncoding {
        self.inner.value.tree_hash_packed_encoding()
    }
    fn tree_hash_packing_factor() -> usize {
        T::tree_hash_packing_factor()
    }
    /// The wrapped value's root, computed once per write generation.
    fn tree_hash_root(&self) -> Hash256 {
        *self.inner.root.get_or_init(|| self.inner.value.tree_hash_root())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssz_types::typenum::U8;
    use ssz_types::{FixedVector, VariableList};

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
        b[3] = 4;
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
    }
}
