//! The executable spec's own memoisation, mirrored: consensus-specs v1.1.10 `setup.py`
//! (`Phase0SpecBuilder.sundry_functions`) wraps `compute_shuffled_index`,
//! `get_active_validator_indices` and `get_beacon_committee` (among others) in
//! `cache_this(key_fn, value_fn, lru_size)`, a dictionary from `key_fn(args)` to the value. The
//! wrapped functions here keep the spec's bodies and add the same keys (with the preset, since one
//! thread runs both presets) and the same sizes. A computation that fails is not stored (in Python
//! the exception escapes before the store). A full table is emptied instead of evicting its least
//! recently used entry: a memo never changes a result, only how often it is computed.
//!
//! Keys use `hash_tree_root(state.validators)` and `hash_tree_root(state.randao_mixes)`, as the
//! spec's do; the shared state type keeps those roots incrementally, so a key costs a handful of
//! hashes after a write and nothing otherwise.

use crate::Result;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::thread::LocalKey;

/// One `cache_this` table, per thread.
pub(crate) type Table<K, V> = RefCell<HashMap<K, V>>;

/// `cache_this`: the value for `key` from `table`, else `compute()` (stored when `Ok`, in a
/// table of at most `lru_size` entries).
///
/// # Errors
/// `compute`'s error, unstored.
pub(crate) fn cache_this<K: Eq + Hash, V: Clone>(
    table: &'static LocalKey<Table<K, V>>,
    key: K,
    lru_size: usize,
    compute: impl FnOnce() -> Result<V>,
) -> Result<V> {
    if let Some(v) = table.with(|t| t.borrow().get(&key).cloned()) {
        return Ok(v);
    }
    // Not borrowed while computing: the value function may use other tables.
    let value = compute()?;
    table.with(|t| {
        let mut t = t.borrow_mut();
        if t.len() >= lru_size {
            t.clear();
        }
        t.insert(key, value.clone());
    });
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diverge_types::Reject;

    thread_local! {
        static T: Table<u64, u64> = RefCell::new(HashMap::new());
    }

    #[test]
    fn stores_successes_only_and_stays_bounded() {
        let mut calls = 0;
        assert_eq!(cache_this(&T, 1, 2, || { calls += 1; Ok(10) }), Ok(10));
        assert_eq!(cache_this(&T, 1, 2, || { calls += 1; Ok(99) }), Ok(10), "memoised");
        assert_eq!(calls, 1);
        assert_eq!(cache_this(&T, 2, 2, || Err(Reject::Internal)), Err(Reject::Internal));
        assert_eq!(cache_this(&T, 2, 2, || Ok(20)), Ok(20), "a failure is not stored");
        assert_eq!(cache_this(&T, 3, 2, || Ok(30)), Ok(30));
        assert!(T.with(|t| t.borrow().len()) <= 2);
    }
}
