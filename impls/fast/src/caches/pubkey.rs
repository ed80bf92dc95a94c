//! Public-key cache: validator index ↔ decompressed, `KeyValidate`d key. Phase0 never changes a
//! validator's key, so entries stay exact; the registry only grows (deposits append).
//!
//! Keys are decompressed on first use and kept in the cache every clone of a prepared state
//! shares: decompressing all of a pool's keys up front (158 minimal states of 64 validators) was
//! 80% of a process's start-up, long enough for honggfuzz's one-second timeout to kill it before
//! its first input.

use crate::arith::u;
use diverge_types::bls::PublicKey;
use diverge_types::{BlsPubkey, Validator};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Keys of every validator, by index, plus the reverse map for deposits.
#[derive(Clone, Debug, Default)]
pub struct PubkeyCache {
    /// The 48 bytes of each key, and once asked for, the key: `None` when the bytes are not a
    /// valid key (`bls.Verify` is then `false`).
    keys: Vec<(BlsPubkey, OnceLock<Option<PublicKey>>)>,
    /// First index holding each key bytes (the spec's `validator_pubkeys.index(pubkey)`).
    index: HashMap<BlsPubkey, u64>,
}

impl PubkeyCache {
    /// The keys of `validators` (decompressed and validated when first asked for).
    pub fn new<'a>(validators: impl Iterator<Item = &'a Validator>) -> Self {
        let mut c = PubkeyCache::default();
        for v in validators {
            c.push_bytes(v.pubkey);
        }
        c
    }

    /// Records the key of the validator appended at index `len()`, already decompressed.
    pub fn push(&mut self, bytes: BlsPubkey, key: Option<PublicKey>) {
        self.push_bytes(bytes);
        if let Some((_, slot)) = self.keys.last() {
            let _ = slot.set(key);
        }
    }

    fn push_bytes(&mut self, bytes: BlsPubkey) {
        let i = u(self.keys.len());
        self.index.entry(bytes).or_insert(i);
        self.keys.push((bytes, OnceLock::new()));
    }

    /// The validated key of validator `i` (`None`: invalid key or unknown index).
    pub fn get(&self, i: u64) -> Option<&PublicKey> {
        let (bytes, key) = self.keys.get(usize::try_from(i).ok()?)?;
        key.get_or_init(|| PublicKey::from_bytes(bytes).ok()).as_ref()
    }

    /// The first validator index with these key bytes.
    pub fn index_of(&self, bytes: &BlsPubkey) -> Option<u64> {
        self.index.get(bytes).copied()
    }

    /// Number of validators covered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no validator is covered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
