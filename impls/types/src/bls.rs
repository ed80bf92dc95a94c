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
/// identity). Worth caching per validator: validation costs ~63 µs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(min_pk::PublicKey);

impl PublicKey {
    /// `KeyValidate(pubkey)`: decompresses and checks the 48-byte key.
    ///
    /// # Errors
    /// [`BlsError::InvalidPublicKey`] when the bytes are not a valid, non-identity subgroup point.
    pub fn from_bytes(bytes: &BlsPubkey) -> Result<Self, BlsError> {
        min_pk::PublicKey::key_validate(bytes.as_slice())
            .map(PublicKey)
            .map_err(|_| BlsError::InvalidPublicKey)
    }
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
}

fn signature(bytes: &BlsSignature) -> Result<min_pk::Signature, BlsError> {
    min_pk::Signature::from_bytes(bytes.as_slice()).map_err(|_| BlsError::InvalidSignature)
}

/// Spec `bls.Verify(pubkey, message, signature)`: decompresses the key and signature on every call
/// (what the plain implementation does). `false` on any invalid encoding.
pub fn verify(mode: BlsMode, pubkey: &BlsPubkey, message: &Root, sig: &BlsSignature) -> bool {
    match mode {
        BlsMode::AssumeValid => true,
        BlsMode::Real => match PublicKey::from_bytes(pubkey) {
            Ok(pk) => verify_with_key(mode, &pk, message, sig),
            Err(_) => false,
        },
    }
}

/// `bls.Verify` with an already validated key (for implementations that cache keys).
pub fn verify_with_key(mode: BlsMode, pubkey: &PublicKey, message: &Root, sig: &BlsSignature) -> bool {
    match mode {
        BlsMode::AssumeValid => true,
        BlsMode::Real => match signature(sig) {
            Ok(s) => s.verify(true, message.as_slice(), DST, &[], &pubkey.0, false) == BLST_ERROR::BLST_SUCCESS,
            Err(_) => false,
        },
    }
}

/// Spec `bls.FastAggregateVerify(pubkeys, message, signature)`: `false` for an empty key list or
/// any invalid key or signature encoding. Decompresses every key (the plain implementation's way).
pub fn fast_aggregate_verify(mode: BlsMode, pubkeys: &[BlsPubkey], message: &Root, sig: &BlsSignature) -> bool {
    match mode {
        BlsMode::AssumeValid => true,
        BlsMode::Real => {
            let keys: Result<Vec<PublicKey>, _> = pubkeys.iter().map(PublicKey::from_bytes).collect();
            match keys {
                Ok(keys) => {
                    let refs: Vec<&PublicKey> = keys.iter().collect();
                    fast_aggregate_verify_with_keys(mode, &refs, message, sig)
                }
                Err(_) => false,
            }
        }
    }
}

/// `FastAggregateVerify` over already validated keys. `false` for an empty key list.
pub fn fast_aggregate_verify_with_keys(mode: BlsMode, pubkeys: &[&PublicKey], message: &Root, sig: &BlsSignature) -> bool {
    match mode {
        BlsMode::AssumeValid => true,
        BlsMode::Real => {
            if pubkeys.is_empty() {
                return false;
            }
            let Ok(s) = signature(sig) else { return false };
            let raw: Vec<&min_pk::PublicKey> = pubkeys.iter().map(|k| &k.0).collect();
            s.fast_aggregate_verify(true, message.as_slice(), DST, &raw) == BLST_ERROR::BLST_SUCCESS
        }
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

/// Checks every set at once with random linear combinations (`blst`
/// `verify_multiple_aggregate_signatures`, 64-bit scalars from a ChaCha RNG seeded with `seed`, so
/// a run is reproducible). `true` for an empty slice. Equivalent, with overwhelming probability, to
/// every set passing `FastAggregateVerify`; use [`verify_signature_set`] to name the failing one.
pub fn verify_signature_sets(mode: BlsMode, sets: &[SignatureSet], seed: u64) -> bool {
    if mode == BlsMode::AssumeValid || sets.is_empty() {
        return true;
    }
    let mut aggregated = Vec::with_capacity(sets.len());
    let mut sigs = Vec::with_capacity(sets.len());
    for set in sets {
        let raw: Vec<&min_pk::PublicKey> = set.pubkeys.iter().map(|k| &k.0).collect();
        if raw.is_empty() {
            return false;
        }
        let Ok(agg) = min_pk::AggregatePublicKey::aggregate(&raw, false) else { return false };
        aggregated.push(agg.to_public_key());
        let Ok(sig) = signature(&set.signature) else { return false };
        sigs.push(sig);
    }
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
    let rands: Vec<blst::blst_scalar> = sets
        .iter()
        .map(|_| {
            let mut scalar = blst::blst_scalar::default();
            let mut bytes = [0u8; 32];
            // A zero scalar would drop its set from the check.
            while bytes[..8].iter().all(|b| *b == 0) {
                rng.fill_bytes(&mut bytes[..8]);
            }
            scalar.b = bytes;
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
        assert!(verify_signature_sets(BlsMode::Real, &sets, 1));
        sets[2].message = Root::repeat_byte(2);
        assert!(!verify_signature_sets(BlsMode::Real, &sets, 1));
        assert!(!verify_signature_set(BlsMode::Real, &sets[2]));
        assert!(verify_signature_set(BlsMode::Real, &sets[1]));
        assert!(!fast_aggregate_verify(BlsMode::Real, &[], &msg, &sets[0].signature));
    }
}
