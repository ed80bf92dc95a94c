//! Key and signature decoding and verification as the model reads them.
//!
//! dkg.md fixes the groups, sizes and DST ("Signatures": keys on G1, 48 bytes; signatures on G2,
//! 96 bytes; DST `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`; "PoP is BLS over
//! `schemeName‖blake2b256(pk)`") but says nothing about encodings or the identity point. Where it
//! is silent the model takes the IETF BLS reading as Ethereum uses it
//! (draft-irtf-cfrg-bls-signature-05 §2.5 `KeyValidate`, §2.7 `CoreVerify`; consensus-specs
//! phase0 `BLSPubkey = Bytes48`, `BLSSignature = Bytes96`):
//! - **Encoding:** compressed only, exactly 48 bytes for a G1 point and 96 for a G2 point (the
//!   sizes dkg.md states are the compressed ones); the uncompressed 96/192-byte forms are
//!   rejected, so one point has one signature encoding and `SeenPackets` (keyed by the
//!   signature bytes) cannot be bypassed by re-encoding.
//! - **Keys:** `KeyValidate`: on the curve, in the prime-order subgroup, and **not the
//!   identity** (an identity key would verify the identity signature on every message).
//! - **Signatures:** `signature_to_point` then `signature_subgroup_check`; the identity
//!   signature decodes (CoreVerify has no identity check for signatures) and fails the pairing
//!   against any valid key.
//!
//! The Go stack differs on the identity key (accepted there; see `dkg_drand::bls`); the
//! differential reports that difference.

use blst::{min_pk, min_sig, BLST_ERROR};
use dkg_types::bls::{pop_message, scheme_from_name, split_host_port, BlsMode, Scheme, G1_COMPRESSED_LEN, G2_COMPRESSED_LEN};

/// A key that passed `KeyValidate` (never the identity).
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// A G1 key (keys-on-G1 schemes).
    G1(min_pk::PublicKey),
    /// A G2 key (signatures-on-G1 schemes).
    G2(min_sig::PublicKey),
}

/// Only the compressed form of the expected size (compression flag `0x80` set): the encoding
/// decision of the model, before any curve work.
fn compressed_of_size(bytes: &[u8], len: usize) -> bool {
    bytes.len() == len && bytes.first().is_some_and(|b| b & 0x80 != 0)
}

impl PublicKey {
    /// `KeyValidate(PK)` (draft-irtf-cfrg-bls-signature-05 §2.5) of a compressed key of the
    /// scheme's key group: decodes, is not the identity, is in the subgroup. `None` otherwise
    /// (BN254 keys are not modelled).
    pub fn key_validate(scheme: Scheme, bytes: &[u8]) -> Option<PublicKey> {
        match scheme {
            Scheme::KeysOnG1 if compressed_of_size(bytes, G1_COMPRESSED_LEN) => {
                let pk = min_pk::PublicKey::uncompress(bytes).ok()?;
                pk.validate().ok()?;
                Some(PublicKey::G1(pk))
            }
            Scheme::SigsOnG1Rfc9380 | Scheme::SigsOnG1Swapped if compressed_of_size(bytes, G2_COMPRESSED_LEN) => {
                let pk = min_sig::PublicKey::uncompress(bytes).ok()?;
                pk.validate().ok()?;
                Some(PublicKey::G2(pk))
            }
            _ => None,
        }
    }

    /// The compressed encoding (the bytes the PoP hashes).
    pub fn to_compressed(&self) -> Vec<u8> {
        match self {
            PublicKey::G1(k) => k.compress().to_vec(),
            PublicKey::G2(k) => k.compress().to_vec(),
        }
    }
}

/// `CoreVerify(PK, message, signature)` (draft-irtf-cfrg-bls-signature-05 §2.7) under the scheme's
/// DST: the signature must be the compressed encoding of the signature group, decode, and pass
/// `signature_subgroup_check`; then the pairing check. In AssumeValid mode always `true` (the key
/// is already validated by the caller).
pub fn core_verify(mode: BlsMode, scheme: Scheme, key: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    if mode == BlsMode::AssumeValid {
        return true;
    }
    let Some(dst) = scheme.signature_dst() else { return false };
    match (scheme, key) {
        (Scheme::KeysOnG1, PublicKey::G1(pk)) if compressed_of_size(sig, G2_COMPRESSED_LEN) => {
            min_pk::Signature::uncompress(sig).is_ok_and(|s| s.verify(true, msg, dst, &[], pk, false) == BLST_ERROR::BLST_SUCCESS)
        }
        (Scheme::SigsOnG1Rfc9380 | Scheme::SigsOnG1Swapped, PublicKey::G2(pk)) if compressed_of_size(sig, G1_COMPRESSED_LEN) => {
            min_sig::Signature::uncompress(sig).is_ok_and(|s| s.verify(true, msg, dst, &[], pk, false) == BLST_ERROR::BLST_SUCCESS)
        }
        _ => false,
    }
}

/// dkg.md §2 "for each joiner only: `IdentityFromProto` (address must split as host:port, key
/// must decode) and a valid PoP": the address splits, the key passes [`PublicKey::key_validate`]
/// under the proposal's scheme, and the PoP passes [`core_verify`] over
/// `schemeName ‖ blake2b256(compressed key)`. `false` maps to `key.ErrInvalidKeyScheme`.
pub fn valid_identity(mode: BlsMode, scheme_name: &str, address: &str, key: &[u8], pop: &[u8]) -> bool {
    if split_host_port(address).is_none() {
        return false;
    }
    let Some(scheme) = scheme_from_name(scheme_name) else { return false };
    let Some(pk) = PublicKey::key_validate(scheme, key) else { return false };
    core_verify(mode, scheme, &pk, &pop_message(scheme_name, &pk.to_compressed()), pop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dkg_types::bls::{sign, test_keys, uncompressed_g2_signature, DEFAULT_SCHEME};

    fn inf(len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len];
        b[0] = 0xc0;
        b
    }

    fn g1_key(b: &[u8]) -> Option<PublicKey> {
        PublicKey::key_validate(Scheme::KeysOnG1, b)
    }

    #[test]
    fn identity_key_is_rejected_identity_signature_never_verifies() {
        assert!(g1_key(&inf(48)).is_none());
        assert!(PublicKey::key_validate(Scheme::SigsOnG1Rfc9380, &inf(96)).is_none());
        assert!(!valid_identity(BlsMode::Real, DEFAULT_SCHEME, "x.test:1", &inf(48), &inf(96)));
        assert!(!valid_identity(BlsMode::AssumeValid, DEFAULT_SCHEME, "x.test:1", &inf(48), &inf(96)));
        // The identity signature decodes but fails the pairing against a real key.
        let pk = g1_key(&test_keys()[0].public).unwrap();
        assert!(!core_verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"m", &inf(96)));
    }

    #[test]
    fn test_keys_verify_and_the_pop_is_scheme_bound() {
        for k in test_keys() {
            assert!(valid_identity(BlsMode::Real, DEFAULT_SCHEME, &k.address, &k.public, &k.pop));
            assert!(!valid_identity(BlsMode::Real, "pedersen-bls-unchained", &k.address, &k.public, &k.pop));
            assert!(!valid_identity(BlsMode::Real, DEFAULT_SCHEME, "no-port", &k.public, &k.pop));
        }
        let pk = g1_key(&test_keys()[1].public).unwrap();
        let sig = sign(BlsMode::Real, 1, b"hello");
        assert!(core_verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"hello", &sig));
        assert!(!core_verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"hellO", &sig));
        assert!(core_verify(BlsMode::AssumeValid, Scheme::KeysOnG1, &pk, b"hellO", &sig));
        assert!(PublicKey::key_validate(Scheme::Bn254, &test_keys()[1].public).is_none());
    }

    #[test]
    fn compressed_exact_lengths_only() {
        let k = &test_keys()[0].public;
        assert!(g1_key(&k[..47]).is_none());
        let mut long = k.clone();
        long.push(0);
        assert!(g1_key(&long).is_none());
        assert!(g1_key(&[]).is_none());
        // The uncompressed key (96 bytes, flag clear), which blst's key_validate would accept.
        let un = min_pk::PublicKey::uncompress(k).unwrap().serialize();
        assert!(min_pk::PublicKey::key_validate(&un).is_ok());
        assert!(g1_key(&un).is_none());
        // The uncompressed re-encoding of a valid signature does not verify.
        let pk = g1_key(k).unwrap();
        let sig = sign(BlsMode::Real, 0, b"m");
        let long_sig = uncompressed_g2_signature(&sig).unwrap();
        assert!(core_verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"m", &sig));
        assert!(!core_verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"m", &long_sig));
        assert!(!core_verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"m", &sig[..95]));
    }

    #[test]
    fn bad_flags_are_rejected() {
        let mut k = test_keys()[0].public.clone();
        k[0] &= 0x7f;
        assert!(g1_key(&k).is_none(), "compression flag cleared");
        let mut e0 = inf(48);
        e0[0] = 0xe0;
        assert!(g1_key(&e0).is_none(), "infinity with the sign bit");
        let mut tail = inf(48);
        tail[47] = 1;
        assert!(g1_key(&tail).is_none(), "infinity with a non-zero byte");
        let mut big = vec![0xffu8; 48];
        big[0] = 0x9f;
        assert!(g1_key(&big).is_none(), "x above the modulus");
        let pk = g1_key(&test_keys()[0].public).unwrap();
        let mut sig = sign(BlsMode::Real, 0, b"m");
        sig[0] ^= 0x20;
        assert!(!core_verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"m", &sig), "negated signature");
    }

    #[test]
    fn not_on_curve_and_not_in_subgroup() {
        let candidates: Vec<Vec<u8>> = (1u8..=255)
            .map(|x| {
                let mut b = vec![0u8; 48];
                b[0] = 0x80;
                b[47] = x;
                b
            })
            .collect();
        let off = candidates.iter().find(|b| min_pk::PublicKey::uncompress(b) == Err(BLST_ERROR::BLST_POINT_NOT_ON_CURVE)).unwrap();
        assert!(g1_key(off).is_none());
        let outside = candidates
            .iter()
            .find(|b| min_pk::PublicKey::uncompress(b).is_ok_and(|p| p.validate() == Err(BLST_ERROR::BLST_POINT_NOT_IN_GROUP)))
            .unwrap();
        assert!(g1_key(outside).is_none());
        // A G2 signature on the curve but outside the subgroup fails signature_subgroup_check.
        let pk = g1_key(&test_keys()[0].public).unwrap();
        let outside_sig = (1u8..=255)
            .map(|x| {
                let mut b = vec![0u8; 96];
                b[0] = 0x80;
                b[95] = x;
                b
            })
            .find(|b| min_pk::Signature::uncompress(b).is_ok_and(|s| !s.subgroup_check()))
            .unwrap();
        assert!(!core_verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"m", &outside_sig));
    }
}
