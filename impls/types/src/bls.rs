//! The one BLS wrapper every implementation uses (architecture.md §6): BLS12-381 `min_pk` through
//! `blst`, with the Ethereum proof-of-possession ciphersuite
//! (`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`), as required by
//! `specs/phase0/beacon-chain.md#bls-signatures` at v1.1.10.
//!
//! Two modes, recorded in every finding:
//! - [`BlsMode::Real`]: real verification (`Verify`, `FastAggregateVerify`, batch verification).
//! - [`BlsMode::AssumeValid`]: every verification returns `true` without touching the curve. The
//!   implementations still do everything else the spec does before the call (index range checks,
//!   public-key lookups), so an out-of-range index is still rejected (beacon-fuzz #61, #88).
//!
//! Verification results are memoised per thread ([`memo`]): the implementations of one execution
//! check the same signature sets, so together they pay for one pairing check per distinct set.
//!
//! Deposit signatures are the exception to the mode: [`verify_deposit_signature`] always verifies
//! (a bad one skips the deposit instead of rejecting it, so it decides the post-state, not
//! validity; assuming it valid would leave the skip branch uncompared).
//!
//! Only cryptography lives here, never logic under test.

use crate::{BlsPubkey, BlsSignature, Root};
use blst::min_pk;
use blst::BLST_ERROR;
use rand::{RngCore, SeedableRng};

/// The Ethereum domain separation tag for signatures (proof-of-possession scheme).
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// How signatures are checked during one execution.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum BlsMode {
    /// Real pairing checks.
    Real,
    /// Every check passes; everything around it still runs.
    AssumeValid,
}

impl BlsMode {
    /// `"real"` / `"assume-valid"`, as written in findings and accepted by the CLI.
    pub fn name(self) -> &'static str {
        match self {
            BlsMode::Real => "real",
            BlsMode::AssumeValid => "assume-valid",
        }
    }
}

/// A decompressed public key that passed `KeyValidate` (on the curve, in the subgroup, not the
/// identity), with the 48 bytes it was decoded from (the [`memo`] key, so a check through a cached
/// key and one through the same bytes share an entry). Worth caching per validator: validation
/// costs ~63 µs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: min_pk::PublicKey,
    bytes: BlsPubkey,
}

impl PublicKey {
    /// `KeyValidate(pubkey)`: decompresses and checks the 48-byte key.
    ///
    /// # Errors
    /// [`BlsError::InvalidPublicKey`] when the bytes are not a valid, non-identity subgroup point.
    pub fn from_bytes(bytes: &BlsPubkey) -> Result<Self, BlsError> {
        min_pk::PublicKey::key_validate(bytes.as_slice())
            .map(|key| PublicKey { key, bytes: *bytes })
            .map_err(|_| BlsError::InvalidPublicKey)
    }

    /// The 48 bytes the key was decoded from.
    pub fn bytes(&self) -> &BlsPubkey {
        &self.bytes
    }
}

/// A BLS secret key (a scalar below the group order `r`), for building signed inputs: the fuzz
/// generators sign with the spec tests' deterministic keys (`diverge-mutators` `keys`). Pure
/// cryptography (`blst` `min_pk::SecretKey`); no implementation under test holds one.
#[derive(Clone, Debug)]
pub struct SecretKey(min_pk::SecretKey);

impl SecretKey {
    /// The key of the 32-byte big-endian scalar `bytes` (`blst` `SecretKey::from_bytes`).
    ///
    /// # Errors
    /// [`BlsError::InvalidSecretKey`] for zero or a scalar not below `r`.
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Result<Self, BlsError> {
        min_pk::SecretKey::from_bytes(bytes).map(SecretKey).map_err(|_| BlsError::InvalidSecretKey)
    }

    /// `SkToPk`: the compressed public key (one G1 multiplication, ~50 µs).
    pub fn public_key(&self) -> BlsPubkey {
        BlsPubkey::from(self.0.sk_to_pk().compress())
    }

    /// `Sign(sk, message)` with the Ethereum PoP DST: the compressed G2 signature of a signing
    /// root.
    pub fn sign(&self, message: &Root) -> BlsSignature {
        BlsSignature::from(self.0.sign(message.as_slice(), DST, &[]).compress())
    }
}

/// `Aggregate(signatures)`: the compressed sum of the signatures (`blst` `AggregateSignature`,
/// each one decompressed and subgroup-checked). `None` for an empty list or a signature that does
/// not decompress.
pub fn aggregate_signatures(signatures: &[BlsSignature]) -> Option<BlsSignature> {
    let sigs: Vec<min_pk::Signature> = signatures.iter().map(|s| signature(s).ok()).collect::<Option<_>>()?;
    let refs: Vec<&min_pk::Signature> = sigs.iter().collect();
    let sum = min_pk::AggregateSignature::aggregate(&refs, true).ok()?;
    Some(BlsSignature::from(sum.to_signature().compress()))
}

/// Errors of the wrapper. Verification functions turn these into `false`, as the spec's
/// `bls.Verify` does.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum BlsError {
    /// The public key does not decompress or fails `KeyValidate`.
    #[error("invalid BLS public key")]
    InvalidPublicKey,
    /// The signature does not decompress.
    #[error("invalid BLS signature encoding")]
    InvalidSignature,
    /// A secret key that is zero or not below the group order.
    #[error("invalid BLS secret key")]
    InvalidSecretKey,
}

fn signature(bytes: &BlsSignature) -> Result<min_pk::Signature, BlsError> {
    min_pk::Signature::from_bytes(bytes.as_slice()).map_err(|_| BlsError::InvalidSignature)
}

/// Spec `bls.Verify(pubkey, message, signature)`: decompresses the key and signature on every call
/// (what the plain implementation does). `false` on any invalid encoding. Memoised ([`memo`]):
/// the same result as `FastAggregateVerify([pubkey], message, signature)`, which it is.
pub fn verify(mode: BlsMode, pubkey: &BlsPubkey, message: &Root, sig: &BlsSignature) -> bool {
    match mode {
        BlsMode::AssumeValid => true,
        BlsMode::Real => memo::check(&[pubkey], message, sig, || match PublicKey::from_bytes(pubkey) {
            Ok(pk) => raw_fast_aggregate_verify(&[&pk], message, sig),
            Err(_) => false,
        }),
    }
}

/// `bls.Verify` with an already validated key (for implementations that cache keys). Memoised.
pub fn verify_with_key(mode: BlsMode, pubkey: &PublicKey, message: &Root, sig: &BlsSignature) -> bool {
    match mode {
        BlsMode::AssumeValid => true,
        BlsMode::Real => memo::check(&[&pubkey.bytes], message, sig, || raw_fast_aggregate_verify(&[pubkey], message, sig)),
    }
}

/// The deposit proof of possession, `bls.Verify(pubkey, signing_root, signature)` in
/// `process_deposit`: **deposit signatures are always verified**, under [`BlsMode::AssumeValid`]
/// too. A bad one makes the spec skip the deposit (no validator added), not reject the input, so
/// it decides the post-state rather than validity; assuming it valid would never compare the skip
/// branch. Every implementation calls this (or [`verify_deposit_signature_with_key`]) for
/// deposits, whatever the mode. Memoised like [`verify`].
pub fn verify_deposit_signature(pubkey: &BlsPubkey, message: &Root, sig: &BlsSignature) -> bool {
    verify(BlsMode::Real, pubkey, message, sig)
}

/// [`verify_deposit_signature`] with an already validated key: always verified, whatever the mode.
pub fn verify_deposit_signature_with_key(pubkey: &PublicKey, message: &Root, sig: &BlsSignature) -> bool {
    verify_with_key(BlsMode::Real, pubkey, message, sig)
}

/// Spec `bls.FastAggregateVerify(pubkeys, message, signature)`: `false` for an empty key list or
/// any invalid key or signature encoding. Decompresses every key (the plain implementation's way)
/// unless the memo knows the answer.
pub fn fast_aggregate_verify(mode: BlsMode, pubkeys: &[BlsPubkey], message: &Root, sig: &BlsSignature) -> bool {
    match mode {
        BlsMode::AssumeValid => true,
        BlsMode::Real => {
            if pubkeys.is_empty() {
                return false;
            }
            let bytes: Vec<&BlsPubkey> = pubkeys.iter().collect();
            memo::check(&bytes, message, sig, || {
                let keys: Result<Vec<PublicKey>, _> = pubkeys.iter().map(PublicKey::from_bytes).collect();
                match keys {
                    Ok(keys) => {
                        let refs: Vec<&PublicKey> = keys.iter().collect();
                        raw_fast_aggregate_verify(&refs, message, sig)
                    }
                    Err(_) => false,
                }
            })
        }
    }
}

/// `FastAggregateVerify` over already validated keys. `false` for an empty key list. Memoised.
pub fn fast_aggregate_verify_with_keys(mode: BlsMode, pubkeys: &[&PublicKey], message: &Root, sig: &BlsSignature) -> bool {
    match mode {
        BlsMode::AssumeValid => true,
        BlsMode::Real => {
            if pubkeys.is_empty() {
                return false;
            }
            let bytes: Vec<&BlsPubkey> = pubkeys.iter().map(|k| &k.bytes).collect();
            memo::check(&bytes, message, sig, || raw_fast_aggregate_verify(pubkeys, message, sig))
        }
    }
}

/// The pairing check itself, never memoised: `false` for an empty key list or a signature that
/// does not decompress or is not in the subgroup.
fn raw_fast_aggregate_verify(pubkeys: &[&PublicKey], message: &Root, sig: &BlsSignature) -> bool {
    if pubkeys.is_empty() {
        return false;
    }
    let Ok(s) = signature(sig) else { return false };
    let raw: Vec<&min_pk::PublicKey> = pubkeys.iter().map(|k| &k.key).collect();
    s.fast_aggregate_verify(true, message.as_slice(), DST, &raw) == BLST_ERROR::BLST_SUCCESS
}

/// The memo of signature checks (architecture.md §6): per thread, a direct-mapped table of
/// [`memo::SLOTS`] entries, each the full 256-bit key `sha256(key count ‖ compressed keys ‖ message
/// ‖ signature)` and the result of `FastAggregateVerify` (= `Verify` for one key). An entry is used
/// only when the whole digest matches, so a hit returns what the check would (up to a SHA-256
/// collision); a new key evicts the one in its slot. The implementations of one execution run on
/// one thread and check the same sets, so together they pay for one pairing per distinct set; a
/// batch ([`verify_signature_sets`]) whose every set is already known valid passes without one.
/// Bounded: about 160 KiB per thread that checks real signatures (allocated on first use). Set
/// `DIVERGE_BLS_MEMO=off` to disable it (measurements).
pub mod memo {
    use super::{BlsPubkey, BlsSignature, Root};
    use std::cell::RefCell;

    /// Entries per thread (a power of two).
    pub const SLOTS: usize = 4096;

    struct Table {
        entries: Vec<Option<([u8; 32], bool)>>,
        hits: u64,
        misses: u64,
    }

    thread_local! {
        static TABLE: RefCell<Table> = const { RefCell::new(Table { entries: Vec::new(), hits: 0, misses: 0 }) };
    }

    /// Whether the memo is on: unless `DIVERGE_BLS_MEMO` is `off` or `0` (read once per process).
    pub fn enabled() -> bool {
        static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *ON.get_or_init(|| !matches!(std::env::var("DIVERGE_BLS_MEMO").as_deref(), Ok("off" | "0")))
    }

    /// The 256-bit memo key of `FastAggregateVerify(pubkeys, message, signature)`.
    pub fn digest(pubkeys: &[&BlsPubkey], message: &Root, sig: &BlsSignature) -> [u8; 32] {
        let mut material = Vec::with_capacity(pubkeys.len().saturating_mul(48).saturating_add(136));
        material.extend_from_slice(&(pubkeys.len() as u64).to_le_bytes());
        for k in pubkeys {
            material.extend_from_slice(k.as_slice());
        }
        material.extend_from_slice(message.as_slice());
        material.extend_from_slice(sig.as_slice());
        crate::hash(&material)
    }

    fn slot(digest: &[u8; 32]) -> usize {
        let [a, b, ..] = *digest;
        usize::from(u16::from_le_bytes([a, b])) & SLOTS.wrapping_sub(1)
    }

    /// The memoised result for `digest`, if known on this thread.
    pub fn lookup(digest: &[u8; 32]) -> Option<bool> {
        if !enabled() {
            return None;
        }
        TABLE.with(|t| {
            let mut t = t.try_borrow_mut().ok()?;
            let found = match t.entries.get(slot(digest)) {
                Some(Some((d, result))) if d == digest => Some(*result),
                _ => None,
            };
            if found.is_some() {
                t.hits = t.hits.saturating_add(1);
            }
            found
        })
    }

    fn insert(digest: [u8; 32], result: bool) {
        TABLE.with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                if t.entries.is_empty() {
                    t.entries = vec![None; SLOTS];
                }
                t.misses = t.misses.saturating_add(1);
                if let Some(e) = t.entries.get_mut(slot(&digest)) {
                    *e = Some((digest, result));
                }
            }
        });
    }

    /// The memoised result of the check of `(pubkeys, message, sig)`, or `compute()`'s (then
    /// remembered).
    pub fn check(pubkeys: &[&BlsPubkey], message: &Root, sig: &BlsSignature, compute: impl FnOnce() -> bool) -> bool {
        if !enabled() {
            return compute();
        }
        let d = digest(pubkeys, message, sig);
        if let Some(result) = lookup(&d) {
            return result;
        }
        let result = compute();
        insert(d, result);
        result
    }

    /// This thread's (hits, misses) since it started: a miss is a check that ran.
    pub fn counts() -> (u64, u64) {
        TABLE.with(|t| t.try_borrow().map(|t| (t.hits, t.misses)).unwrap_or((0, 0)))
    }
}

/// One signature to check: `FastAggregateVerify(pubkeys, message, signature)` (a single key for
/// `Verify`). Collected by the fast implementation and checked in one batch.
#[derive(Clone, Debug)]
pub struct SignatureSet {
    /// Validated public keys; aggregated before the batch check. Never empty for a valid set.
    pub pubkeys: Vec<PublicKey>,
    /// The signing root.
    pub message: Root,
    /// The compressed signature.
    pub signature: BlsSignature,
}

/// The secret from which every batch's random scalars derive (32 bytes). One per run: drawn from
/// the OS at process start ([`process_batch_seed`]) or given (`--batch-seed`), recorded in every
/// finding so that a replay draws the same scalars.
pub type BatchSeed = [u8; 32];

/// The process's default [`BatchSeed`]: 32 bytes from the operating system's RNG, drawn once on
/// first use. Should the OS RNG fail, the seed is SHA-256 of the clock, the process id and a stack
/// address (unpredictable enough to whoever writes the inputs, never a panic).
pub fn process_batch_seed() -> BatchSeed {
    static SEED: std::sync::OnceLock<BatchSeed> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        let mut seed = [0u8; 32];
        if rand::rngs::OsRng.try_fill_bytes(&mut seed).is_err() {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
            let mut material = nanos.to_le_bytes().to_vec();
            material.extend_from_slice(&std::process::id().to_le_bytes());
            material.extend_from_slice(&(std::ptr::addr_of!(seed) as usize).to_le_bytes());
            seed = crate::hash(&material);
        }
        seed
    })
}

// Where the seed lives: a thread-local set by the runner around each execution
// ([`with_batch_seed`]), falling back to the process seed. It is plumbing, not logic under test, so
// it stays out of the `Phase0Impl` interface (the spec mirror verifies one by one and never reads
// it) and out of `BlsMode` (compared and matched on everywhere). Thread-local rather than global:
// fuzz workers and tests run executions on several threads of one process, each with its own
// runner and possibly its own seed, and an execution runs on the thread that called it.
thread_local! {
    static BATCH_SEED: std::cell::Cell<Option<BatchSeed>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with `seed` as this thread's [`BatchSeed`] (restored afterwards, also on a panic).
pub fn with_batch_seed<R>(seed: BatchSeed, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<BatchSeed>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BATCH_SEED.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(BATCH_SEED.with(|s| s.replace(Some(seed))));
    f()
}

/// This thread's [`BatchSeed`]: the one set by [`with_batch_seed`], else [`process_batch_seed`].
pub fn current_batch_seed() -> BatchSeed {
    BATCH_SEED.with(std::cell::Cell::get).unwrap_or_else(process_batch_seed)
}

/// The random scalars of one batch, as production clients draw them (Lighthouse
/// `crypto/bls/src/impls/blst.rs` `verify_signature_sets`: a nonzero 64-bit scalar per set, from a
/// CSPRNG): a `ChaCha20Rng` seeded with `sha256(seed ‖ len ‖ (message ‖ signature ‖ key count)*)`.
/// Unpredictable to whoever chooses the signatures (they do not know `seed`), yet a pure function
/// of `(seed, batch)`: a replay with the same seed draws the same scalars however many executions
/// ran before. Each scalar is little-endian in the low 8 bytes of a `blst_scalar`, never zero (a
/// zero scalar would drop its set from the check).
pub fn batch_scalars(seed: &BatchSeed, sets: &[SignatureSet]) -> Vec<u64> {
    let mut material = Vec::with_capacity(seed.len().saturating_add(sets.len().saturating_mul(136)).saturating_add(8));
    material.extend_from_slice(seed);
    material.extend_from_slice(&(sets.len() as u64).to_le_bytes());
    for set in sets {
        material.extend_from_slice(set.message.as_slice());
        material.extend_from_slice(set.signature.as_slice());
        material.extend_from_slice(&(set.pubkeys.len() as u64).to_le_bytes());
    }
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(crate::hash(&material));
    sets.iter()
        .map(|_| loop {
            let r = rng.next_u64();
            if r != 0 {
                break r;
            }
        })
        .collect()
}

/// Checks every set at once with random linear combinations (`blst`
/// `verify_multiple_aggregate_signatures`, 64-bit scalars from [`batch_scalars`] under this
/// thread's [`current_batch_seed`]). `true` for an empty slice. Equivalent, except with
/// probability about 2^-64, to every set passing `FastAggregateVerify`; use
/// [`verify_signature_set`] to name the failing one.
///
/// When the memo already knows every set valid (the spec implementation checked them one by one
/// in the same execution), the batch passes without a pairing: a batch of valid sets passes under
/// any scalars, so this is the batch's own answer. Otherwise the batch runs (and is not memoised:
/// its answer may differ from the sets' for forged signatures).
pub fn verify_signature_sets(mode: BlsMode, sets: &[SignatureSet]) -> bool {
    if mode == BlsMode::AssumeValid || sets.is_empty() {
        return true;
    }
    if memo::enabled()
        && sets.iter().all(|set| {
            let keys: Vec<&BlsPubkey> = set.pubkeys.iter().map(|k| &k.bytes).collect();
            !keys.is_empty() && memo::lookup(&memo::digest(&keys, &set.message, &set.signature)) == Some(true)
        })
    {
        return true;
    }
    verify_signature_sets_with_scalars(mode, sets, &batch_scalars(&current_batch_seed(), sets))
}

/// [`verify_signature_sets`] with the given scalars (one per set, each used as a 64-bit scalar),
/// for tests that fix them. `false` when the counts differ.
pub fn verify_signature_sets_with_scalars(mode: BlsMode, sets: &[SignatureSet], scalars: &[u64]) -> bool {
    if mode == BlsMode::AssumeValid || sets.is_empty() {
        return true;
    }
    if scalars.len() != sets.len() {
        return false;
    }
    let mut aggregated = Vec::with_capacity(sets.len());
    let mut sigs = Vec::with_capacity(sets.len());
    for set in sets {
        let raw: Vec<&min_pk::PublicKey> = set.pubkeys.iter().map(|k| &k.key).collect();
        if raw.is_empty() {
            return false;
        }
        let Ok(agg) = min_pk::AggregatePublicKey::aggregate(&raw, false) else { return false };
        aggregated.push(agg.to_public_key());
        let Ok(sig) = signature(&set.signature) else { return false };
        sigs.push(sig);
    }
    let rands: Vec<blst::blst_scalar> = scalars
        .iter()
        .map(|r| {
            let mut scalar = blst::blst_scalar::default();
            for (b, v) in scalar.b.iter_mut().zip(r.to_le_bytes()) {
                *b = v;
            }
            scalar
        })
        .collect();
    let msgs: Vec<&[u8]> = sets.iter().map(|s| s.message.as_slice()).collect();
    let pk_refs: Vec<&min_pk::PublicKey> = aggregated.iter().collect();
    let sig_refs: Vec<&min_pk::Signature> = sigs.iter().collect();
    min_pk::Signature::verify_multiple_aggregate_signatures(&msgs, DST, &pk_refs, false, &sig_refs, true, &rands, 64)
        == BLST_ERROR::BLST_SUCCESS
}

/// Checks one set on its own (the fallback that names which set of a failed batch is bad).
pub fn verify_signature_set(mode: BlsMode, set: &SignatureSet) -> bool {
    let refs: Vec<&PublicKey> = set.pubkeys.iter().collect();
    fast_aggregate_verify_with_keys(mode, &refs, &set.message, &set.signature)
}

/// Deterministic test keys: secret key `i` derived from `ikm = sha256(seed ‖ i)`. For tests and
/// corpus generation only; no security.
pub mod testing {
    use super::*;

    /// A secret key and its compressed public key.
    pub struct Keypair {
        sk: min_pk::SecretKey,
        /// Compressed public key.
        pub pubkey: BlsPubkey,
    }

    /// The scalars diverge-fast's batch drew before the per-run secret seed:
    /// `ChaCha12Rng::seed_from_u64(seed)`, 8 nonzero bytes per set (`seed` was the first 8 bytes of
    /// `sha256(block signature)` in `finish`, 0 in `resolve`), all known to whoever writes the
    /// block. Tests use them to forge signatures that cancel under predictable scalars.
    pub fn predictable_scalars(seed: u64, n: usize) -> Vec<u64> {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let mut bytes = [0u8; 8];
                while bytes.iter().all(|b| *b == 0) {
                    rng.fill_bytes(&mut bytes);
                }
                u64::from_le_bytes(bytes)
            })
            .collect()
    }

    impl Keypair {
        /// Key `index` of the deterministic set named by `seed`.
        pub fn deterministic(seed: &[u8], index: u64) -> Option<Keypair> {
            let mut ikm = seed.to_vec();
            ikm.extend_from_slice(&index.to_le_bytes());
            let ikm = crate::hash(&ikm);
            let sk = min_pk::SecretKey::key_gen(&ikm, &[]).ok()?;
            let pubkey = BlsPubkey::from(sk.sk_to_pk().compress());
            Some(Keypair { sk, pubkey })
        }

        /// Signs a signing root.
        pub fn sign(&self, message: &Root) -> BlsSignature {
            BlsSignature::from(self.sk.sign(message.as_slice(), DST, &[]).compress())
        }
    }

    /// The order `r` of the BLS12-381 groups, big-endian.
    const CURVE_ORDER: [u8; 32] = [
        0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05, 0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe,
        0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
    ];

    /// `k·H(message)` in G2, compressed, for `k = scalar`, or `k = r - scalar` (that is, `-scalar`)
    /// when `negate`: the signature of `message` under secret key `k`. `None` for `scalar == 0`.
    pub fn scaled_message_point(message: &Root, scalar: u64, negate: bool) -> Option<BlsSignature> {
        let mut k = [0u8; 32];
        for (b, v) in k.iter_mut().rev().zip(scalar.to_le_bytes()) {
            *b = v;
        }
        if negate {
            let mut out = CURVE_ORDER;
            let mut borrow = false;
            for (o, s) in out.iter_mut().rev().zip(k.iter().rev()) {
                let (d1, b1) = o.overflowing_sub(*s);
                let (d2, b2) = d1.overflowing_sub(u8::from(borrow));
                *o = d2;
                borrow = b1 || b2;
            }
            k = out;
        }
        let sk = min_pk::SecretKey::from_bytes(&k).ok()?;
        Some(BlsSignature::from(sk.sign(message.as_slice(), DST, &[]).compress()))
    }

    /// `a + b` in G2 (signature aggregation). `None` when either does not decompress.
    pub fn add_signatures(a: &BlsSignature, b: &BlsSignature) -> Option<BlsSignature> {
        let (a, b) = (signature(a).ok()?, signature(b).ok()?);
        let sum = min_pk::AggregateSignature::aggregate(&[&a, &b], false).ok()?;
        Some(BlsSignature::from(sum.to_signature().compress()))
    }

    /// Two signatures forged to cancel in a batch whose scalars are `(r1, r2)`: `(s1 + r2·D,
    /// s2 - r1·D)` with `D = H(anchor)`. Each fails alone (when `s1`, `s2` were valid), yet
    /// `r1·(s1 + r2·D) + r2·(s2 - r1·D) = r1·s1 + r2·s2`, so a batch check with those scalars
    /// passes: why the scalars must be unknown to whoever chooses the signatures.
    pub fn cancelling_pair(s1: &BlsSignature, s2: &BlsSignature, r1: u64, r2: u64, anchor: &Root) -> Option<(BlsSignature, BlsSignature)> {
        let plus = scaled_message_point(anchor, r2, false)?;
        let minus = scaled_message_point(anchor, r1, true)?;
        Some((add_signatures(s1, &plus)?, add_signatures(s2, &minus)?))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Keypair;
    use super::*;

    #[test]
    fn verify_accepts_own_signature_and_rejects_other_message() {
        let kp = Keypair::deterministic(b"t", 1).unwrap();
        let msg = Root::repeat_byte(7);
        let sig = kp.sign(&msg);
        assert!(verify(BlsMode::Real, &kp.pubkey, &msg, &sig));
        assert!(!verify(BlsMode::Real, &kp.pubkey, &Root::repeat_byte(8), &sig));
        assert!(verify(BlsMode::AssumeValid, &kp.pubkey, &Root::repeat_byte(8), &sig));
        assert!(!verify(BlsMode::Real, &BlsPubkey::ZERO, &msg, &sig));
    }

    #[test]
    fn batch_matches_individual_checks() {
        let msg = Root::repeat_byte(1);
        let mut sets: Vec<SignatureSet> = (0..4)
            .map(|i| {
                let kp = Keypair::deterministic(b"b", i).unwrap();
                SignatureSet { pubkeys: vec![PublicKey::from_bytes(&kp.pubkey).unwrap()], message: msg, signature: kp.sign(&msg) }
            })
            .collect();
        assert!(verify_signature_sets(BlsMode::Real, &sets));
        sets[2].message = Root::repeat_byte(2);
        assert!(!verify_signature_sets(BlsMode::Real, &sets));
        assert!(!verify_signature_set(BlsMode::Real, &sets[2]));
        assert!(verify_signature_set(BlsMode::Real, &sets[1]));
        assert!(!fast_aggregate_verify(BlsMode::Real, &[], &msg, &sets[0].signature));
    }

    fn signed_sets(n: u64) -> Vec<SignatureSet> {
        (0..n)
            .map(|i| {
                let kp = Keypair::deterministic(b"forge", i).unwrap();
                let msg = Root::repeat_byte(u8::try_from(i).unwrap().wrapping_add(1));
                SignatureSet { pubkeys: vec![PublicKey::from_bytes(&kp.pubkey).unwrap()], message: msg, signature: kp.sign(&msg) }
            })
            .collect()
    }

    #[test]
    fn forged_pair_cancels_under_known_scalars_but_not_under_a_secret_seed() {
        let mut sets = signed_sets(2);
        let known = testing::predictable_scalars(0, 2);
        let (s0, s1) = testing::cancelling_pair(&sets[0].signature, &sets[1].signature, known[0], known[1], &Root::repeat_byte(0xaa)).unwrap();
        sets[0].signature = s0;
        sets[1].signature = s1;
        // Both signatures are wrong ...
        assert!(!verify_signature_set(BlsMode::Real, &sets[0]));
        assert!(!verify_signature_set(BlsMode::Real, &sets[1]));
        // ... yet a batch with the scalars the forger knew passes (the old `resolve`) ...
        assert!(verify_signature_sets_with_scalars(BlsMode::Real, &sets, &known));
        // ... while the seeded batch rejects it under every seed tried.
        for i in 0..8u8 {
            assert!(!with_batch_seed([i; 32], || verify_signature_sets(BlsMode::Real, &sets)), "seed {i}");
        }
        assert!(!verify_signature_sets(BlsMode::Real, &sets));
    }

    #[test]
    fn seeded_batches_agree_with_single_checks_under_every_seed() {
        let good = signed_sets(5);
        let mut bad = good.clone();
        bad[3].signature = good[2].signature;
        for i in 0..8u8 {
            let seed = [i.wrapping_mul(37); 32];
            assert!(with_batch_seed(seed, || verify_signature_sets(BlsMode::Real, &good)), "seed {i}");
            assert!(!with_batch_seed(seed, || verify_signature_sets(BlsMode::Real, &bad)), "seed {i}");
        }
    }

    #[test]
    fn scalars_are_a_function_of_seed_and_batch() {
        let sets = signed_sets(4);
        let a = batch_scalars(&[1; 32], &sets);
        assert_eq!(a.len(), 4);
        assert!(a.iter().all(|r| *r != 0));
        // Same seed, same batch: same scalars (replay is exact) whatever ran in between.
        let _ = batch_scalars(&[1; 32], &sets[..2]);
        assert_eq!(batch_scalars(&[1; 32], &sets), a);
        // Another seed, or another batch: other scalars.
        assert_ne!(batch_scalars(&[2; 32], &sets), a);
        let mut other = sets.clone();
        other[0].signature = sets[1].signature;
        assert_ne!(batch_scalars(&[1; 32], &other), a);
        // The thread's seed is the one set around the call, and is restored afterwards.
        let outer = current_batch_seed();
        assert_eq!(outer, process_batch_seed());
        with_batch_seed([9; 32], || {
            assert_eq!(current_batch_seed(), [9; 32]);
            with_batch_seed([8; 32], || assert_eq!(current_batch_seed(), [8; 32]));
            assert_eq!(current_batch_seed(), [9; 32]);
        });
        assert_eq!(current_batch_seed(), outer);
        // A wrong scalar count is a failed check, never a panic.
        assert!(!verify_signature_sets_with_scalars(BlsMode::Real, &sets, &a[..3]));
    }
}
