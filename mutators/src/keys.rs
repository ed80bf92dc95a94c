//! The secret keys of the pool's validators: the consensus-spec-tests' deterministic keys.
//!
//! The pool states come from the spec vectors (and states derived from them), whose validators
//! were made by the test helpers of consensus-specs (`tests/core/pyspec/eth2spec/test/helpers/keys.py`:
//! `privkeys = [i + 1 for i in range(SLOTS_PER_EPOCH * 256)]`, written `32 * 256` in later
//! versions, `pubkeys = [bls.SkToPk(privkey) for privkey in privkeys]`; genesis takes `pubkeys[i]`
//! for validator `i`). So key `k` of that list is the scalar `k + 1`. Validators are
//! looked up by their public key in the pool state, never by index alone: deposits in some vectors
//! add validators from the same list out of order.
//!
//! The public-key map is built once per process, lazily and incrementally ([`KeyMap`]): only a
//! campaign that signs pays for it, and only for the keys its pool uses (timed in
//! `keys_map_finds_the_pools_keys` of `mutators/tests/signatures.rs`).

use diverge_types::bls::SecretKey;
use diverge_types::BlsPubkey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// How many keys the map covers: the spec tests' longest list, `32 * 256` (mainnet's
/// `SLOTS_PER_EPOCH * 256`; minimal's 2,048 are its first quarter, so one map serves both presets).
pub const KEY_COUNT: u64 = 32 * 256;

/// The 32-byte big-endian scalar of key `k` (`k + 1`).
pub fn secret_scalar(k: u64) -> [u8; 32] {
    scalar_bytes(u128::from(k).saturating_add(1))
}

/// A scalar below 2^128 as the 32-byte big-endian encoding `blst` reads.
pub fn scalar_bytes(x: u128) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, b) in out.iter_mut().rev().zip(x.to_le_bytes()) {
        *o = b;
    }
    out
}

/// The secret key of key `k` (scalar `k + 1`; `None` only past 2^64 - 1, which has no key).
pub fn secret_key(k: u64) -> Option<SecretKey> {
    SecretKey::from_be_bytes(&secret_scalar(k)).ok()
}

/// The public key of key `k` (`SkToPk`, ~50 µs).
pub fn public_key(k: u64) -> Option<BlsPubkey> {
    secret_key(k).map(|sk| sk.public_key())
}

/// Public key → key number over the first [`KeyMap::limit`] keys, built incrementally: a lookup
/// that misses extends the map (doubling, from 64 keys) until it finds the key or covers the limit.
/// The pool's validators are the list's first keys (64 minimal, 256 mainnet), so a campaign
/// computes a few hundred public keys, not 8,192; only a public key outside the list costs the
/// whole list (once: afterwards a miss is a hash lookup).
#[derive(Debug)]
pub struct KeyMap {
    limit: u64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_pubkey: HashMap<BlsPubkey, u64>,
    built: u64,
}

impl KeyMap {
    /// An empty map over keys `0..limit`.
    pub fn new(limit: u64) -> KeyMap {
        KeyMap { limit, inner: Mutex::new(Inner::default()) }
    }

    /// The number of keys the map can cover.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Computes every public key up to the limit now (`limit` multiplications).
    pub fn build_all(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Self::extend(&mut inner, self.limit);
    }

    fn extend(inner: &mut Inner, to: u64) {
        for k in inner.built..to {
            if let Some(pk) = public_key(k) {
                inner.by_pubkey.insert(pk, k);
            }
        }
        inner.built = inner.built.max(to);
    }

    /// The key number of `pubkey`, if it is one of the map's keys.
    pub fn key_of(&self, pubkey: &BlsPubkey) -> Option<u64> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(k) = inner.by_pubkey.get(pubkey) {
                return Some(*k);
            }
            if inner.built >= self.limit {
                return None;
            }
            let to = inner.built.saturating_mul(2).max(64).min(self.limit);
            Self::extend(&mut inner, to);
        }
    }

    /// The secret scalar of `pubkey` as a number (`key + 1`), for aggregation by summing.
    pub fn scalar_of(&self, pubkey: &BlsPubkey) -> Option<u64> {
        self.key_of(pubkey).and_then(|k| k.checked_add(1))
    }

    /// Number of public keys computed so far.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).by_pubkey.len()
    }

    /// Whether no public key was computed yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The process's map over the spec tests' [`KEY_COUNT`] keys (shared by every thread; filled as
/// lookups need).
pub fn spec_test_keys() -> Arc<KeyMap> {
    static MAP: OnceLock<Arc<KeyMap>> = OnceLock::new();
    MAP.get_or_init(|| Arc::new(KeyMap::new(KEY_COUNT))).clone()
}
