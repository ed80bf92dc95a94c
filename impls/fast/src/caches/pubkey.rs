//! Public-key cache: validator index ↔ decompressed, `KeyValidate`d key. Phase0 never changes a
//! validator's key, so entries stay exact; the registry only grows (deposits append).

use crate::arith::u;
use diverge_types::bls::PublicKey;
use diverge_types::{BlsPubkey, Validator};
use std::collections::HashMap;

/// Keys of every validator, by index, plus the reverse map for deposits.
#[derive(Clone, Debug, Default)]
pub struct PubkeyCache {
    /// `None` when the 48 bytes are not a valid key (`bls.Verify` is then `false`).
    keys: Vec<Option<PublicKey>>,
    /// First index holding each key bytes (the spec's `validator_pubkeys.index(pubkey)`).
    index: HashMap<BlsPubkey, u64>,
}

impl PubkeyCache {
    /// Decompresses and validates every key of `validators`.
    pub fn new<'a>(validators: impl Iterator<Item = &'a Validator>) -> Self {
        let mut c = PubkeyCache::default();
        for v in validators {
            c.push(v.pubkey, PublicKey::from_bytes(&v.pubkey).ok());
        }
        c
    }

    /// Records the key of the validator appended at index `len()`.
    pub fn push(&mut self, bytes: BlsPubkey, key: Option<PublicKey>) {
        let i = u(self.keys.len());
        self.index.entry(bytes).or_insert(i);
        self.keys.push(key);
    }

    /// The validated key of validator `i` (`None`: invalid key or unknown index).
    pub fn get(&self, i: u64) -> Option<&PublicKey> {
        self.keys.get(usize::try_from(i).ok()?).and_then(Option::as_ref)
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
