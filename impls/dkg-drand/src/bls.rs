//! Key and signature decoding and verification as drand's Go stack does it, pinned by drand's
//! `go.mod` at f45e7e04: `github.com/drand/kyber v1.3.2` (`sign/bls`), `github.com/drand/
//! kyber-bls12381 v0.3.4` (the pairing suite `crypto/schemes.go` builds with
//! `NewBLS12381SuiteWithDST`) and, underneath, `github.com/kilic/bls12-381 v0.1.0`.
//!
//! The decisions, each from the Go source:
//! - **Encoding:** `KyberG1/KyberG2.UnmarshalBinary` (kyber-bls12381 v0.3.4 `kyber_g1.go:125-129`,
//!   `kyber_g2.go:124-128`) call kilic `FromCompressed` only: exactly 48 (G1) / 96 (G2) bytes
//!   (`g1.go:127`, `g2.go:136`), compression flag `0x80` required (`g1.go:132`, `g2.go:141`). The
//!   uncompressed 96/192-byte forms are rejected.
//! - **Infinity:** with the infinity flag `0x40` the encoding must be exactly `0xc0` followed by
//!   zeros (`g1.go:135-143`, `g2.go:144-152`; sign bit set or any other bit is an error) and
//!   decodes to the **identity point, accepted**: nothing in `FromCompressed`,
//!   `IdentityFromProto` (`common/key/keys.go:217-238`), `verifyMessage`
//!   (`internal/dkg/actions_signing.go:65-69`) or kyber `sign/bls` `Verify` (`bls.go:86-100`)
//!   rejects it.
//! - **Field, curve, sign:** x must be below the modulus (`fp.go:8-19`, "must be less than
//!   modulus"), x³+b must be a square ("point is not on curve", `g1.go:155`, `g2.go:164`), the
//!   sign flag picks the lexicographically larger y (`g1.go:158`, `field_element.go:156`).
//! - **Subgroup:** every non-identity point is subgroup-checked at decoding (`g1.go:163`,
//!   `g2.go:172`, `InCorrectSubgroup`), keys and signatures alike.
//! - **Pairing:** `ValidatePairing` (kyber-bls12381 `kyber_group.go:133-144`) adds
//!   `(key, H(m))` and `(-g1, sig)` (keys on G1; mirrored for keys on G2) to a kilic engine that
//!   skips any pair with a zero point (`pairing.go:53-61`) and returns true for an empty engine
//!   (`pairing.go:323-336`). So an identity key verifies exactly the identity signature, on any
//!   message.
//!
//! blst is the curve library underneath (its `uncompress` does the same flag, field and curve
//! checks as kilic's `FromCompressed` for a compressed encoding); the length, flag, identity and
//! subgroup decisions are made here, in kilic's order.

use dkg_types::bls::{scheme_from_name, split_host_port, BlsMode, Scheme, G1_COMPRESSED_LEN, G2_COMPRESSED_LEN};
use blst::{min_pk, min_sig, BLST_ERROR};

/// Why kilic `FromCompressed` rejects an encoding (one variant per Go error string).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DecodeError {
    /// "input string length must be equal to 48 bytes" / "... 96 bytes" (`g1.go:127`, `g2.go:136`).
    Length,
    /// "compression flag must be set" (`g1.go:132`, `g2.go:141`).
    CompressionFlag,
    /// "input string must be zero when infinity flag is set" (`g1.go:138`, `g2.go:147`).
    InfinityNotZero,
    /// "must be less than modulus" (`fp.go:14`): x is not a canonical field element.
    NotAFieldElement,
    /// "point is not on curve" (`g1.go:155`, `g2.go:164`).
    NotOnCurve,
    /// "point is not on correct subgroup" (`g1.go:163`, `g2.go:172`).
    NotInSubgroup,
    /// The scheme's keys are not modelled (BN254).
    Unsupported,
}

/// The prefix checks of kilic `FromCompressed` (`g1.go:127-143`, `g2.go:136-152`) for a point of
/// `len` compressed bytes: `Ok(true)` for the canonical identity encoding, `Ok(false)` when the
/// bytes go on to x decoding.
fn compressed_prefix(bytes: &[u8], len: usize) -> Result<bool, DecodeError> {
    if bytes.len() != len {
        return Err(DecodeError::Length);
    }
    let first = bytes.first().copied().unwrap_or(0);
    if first & 0x80 == 0 {
        return Err(DecodeError::CompressionFlag);
    }
    if first & 0x40 != 0 {
        // g1.go:137-141: in[0] must be exactly 0xc0 and every other byte zero.
        if first == 0xc0 && bytes.iter().skip(1).all(|b| *b == 0) {
            return Ok(true);
        }
        return Err(DecodeError::InfinityNotZero);
    }
    Ok(false)
}

/// blst's `uncompress` errors, named as kilic names the same failure.
fn curve_error(e: BLST_ERROR) -> DecodeError {
    match e {
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => DecodeError::NotOnCurve,
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => DecodeError::NotInSubgroup,
        _ => DecodeError::NotAFieldElement,
    }
}

/// A point of the scheme's key group, decoded as `KeyGroup.Point().UnmarshalBinary` does; may be
/// the identity.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// A G1 key (`pedersen-bls-*`).
    G1 {
        /// The point (blst affine; the identity when `identity`).
        point: min_pk::PublicKey,
        /// Whether the encoding was the point at infinity.
        identity: bool,
    },
    /// A G2 key (`bls-unchained-g1-rfc9380`, `bls-unchained-on-g1`).
    G2 {
        /// The point (blst affine; the identity when `identity`).
        point: min_sig::PublicKey,
        /// Whether the encoding was the point at infinity.
        identity: bool,
    },
}

/// kilic `G1.FromCompressed` (`g1.go:126-167`) for a key.
fn g1_key(bytes: &[u8]) -> Result<(min_pk::PublicKey, bool), DecodeError> {
    let identity = compressed_prefix(bytes, G1_COMPRESSED_LEN)?;
    let point = min_pk::PublicKey::uncompress(bytes).map_err(curve_error)?;
    // g1.go:163: the subgroup check of every non-identity point.
    if !identity && point.validate().is_err() {
        return Err(DecodeError::NotInSubgroup);
    }
    Ok((point, identity))
}

/// kilic `G2.FromCompressed` (`g2.go:135-176`) for a key.
fn g2_key(bytes: &[u8]) -> Result<(min_sig::PublicKey, bool), DecodeError> {
    let identity = compressed_prefix(bytes, G2_COMPRESSED_LEN)?;
    let point = min_sig::PublicKey::uncompress(bytes).map_err(curve_error)?;
    if !identity && point.validate().is_err() {
        return Err(DecodeError::NotInSubgroup);
    }
    Ok((point, identity))
}

/// kilic `G2.FromCompressed` for a signature (keys on G1): the point and whether it is the identity.
fn g2_signature(bytes: &[u8]) -> Result<(min_pk::Signature, bool), DecodeError> {
    let identity = compressed_prefix(bytes, G2_COMPRESSED_LEN)?;
    let sig = min_pk::Signature::uncompress(bytes).map_err(curve_error)?;
    if !identity && !sig.subgroup_check() {
        return Err(DecodeError::NotInSubgroup);
    }
    Ok((sig, identity))
}

/// kilic `G1.FromCompressed` for a signature (keys on G2).
fn g1_signature(bytes: &[u8]) -> Result<(min_sig::Signature, bool), DecodeError> {
    let identity = compressed_prefix(bytes, G1_COMPRESSED_LEN)?;
    let sig = min_sig::Signature::uncompress(bytes).map_err(curve_error)?;
    if !identity && !sig.subgroup_check() {
        return Err(DecodeError::NotInSubgroup);
    }
    Ok((sig, identity))
}

impl PublicKey {
    /// `KeyGroup.Point().UnmarshalBinary(bytes)` of the scheme (`common/key/keys.go:226-229`,
    /// `internal/dkg/actions_signing.go:65-69`).
    ///
    /// # Errors
    /// kilic's reason ([`DecodeError`]); BN254 keys are [`DecodeError::Unsupported`].
    pub fn unmarshal(scheme: Scheme, bytes: &[u8]) -> Result<PublicKey, DecodeError> {
        match scheme {
            Scheme::KeysOnG1 => g1_key(bytes).map(|(point, identity)| PublicKey::G1 { point, identity }),
            Scheme::SigsOnG1Rfc9380 | Scheme::SigsOnG1Swapped => g2_key(bytes).map(|(point, identity)| PublicKey::G2 { point, identity }),
            Scheme::Bn254 => Err(DecodeError::Unsupported),
        }
    }

    /// Whether the key is the identity point (which Go accepts).
    pub fn is_identity(&self) -> bool {
        match self {
            PublicKey::G1 { identity, .. } | PublicKey::G2 { identity, .. } => *identity,
        }
    }

    /// `Point.MarshalBinary()` (kyber-bls12381 `kyber_g1.go:117-122`): the compressed encoding,
    /// `0xc0 00…` for the identity.
    pub fn marshal(&self) -> Vec<u8> {
        match self {
            PublicKey::G1 { point, .. } => point.compress().to_vec(),
            PublicKey::G2 { point, .. } => point.compress().to_vec(),
        }
    }
}

/// kyber `sign/bls` `scheme.Verify(key, msg, sig)` (kyber v1.3.2 `sign/bls/bls.go:86-100`):
/// `sig` unmarshalled as a signature-group point (kilic `FromCompressed`: exact length,
/// compressed, subgroup-checked, identity accepted), then `ValidatePairing`. With an identity
/// key the pairing check reduces to "the signature is the identity" (the kilic engine skips
/// zero pairs, `pairing.go:53-61`, and an empty engine checks true, `pairing.go:323-336`). In
/// AssumeValid mode always `true` (the key is already decoded by the caller).
pub fn verify(mode: BlsMode, scheme: Scheme, key: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    if mode == BlsMode::AssumeValid {
        return true;
    }
    let Some(dst) = scheme.signature_dst() else { return false };
    match (scheme, key) {
        (Scheme::KeysOnG1, PublicKey::G1 { point, identity }) => match g2_signature(sig) {
            Ok((_, sig_identity)) if *identity => sig_identity,
            Ok((s, _)) => s.verify(false, msg, dst, &[], point, false) == BLST_ERROR::BLST_SUCCESS,
            Err(_) => false,
        },
        (Scheme::SigsOnG1Rfc9380 | Scheme::SigsOnG1Swapped, PublicKey::G2 { point, identity }) => match g1_signature(sig) {
            Ok((_, sig_identity)) if *identity => sig_identity,
            Ok((s, _)) => s.verify(false, msg, dst, &[], point, false) == BLST_ERROR::BLST_SUCCESS,
            Err(_) => false,
        },
        _ => false,
    }
}

/// `validateJoinerSignatures` for one joiner (`internal/dkg/state_machine.go:768-779`):
/// `IdentityFromProto` (`common/key/keys.go:217-238`: `net.SplitHostPort`, then the key through
/// the proposal scheme's `KeyGroup.Point().UnmarshalBinary`) and `Identity.ValidSignature`
/// (`keys.go:54-59`: the PoP over `schemeName ‖ blake2b256(MarshalBinary(key))`). `false` maps
/// to `key.ErrInvalidKeyScheme`. An identity key with the identity PoP passes.
pub fn valid_identity(mode: BlsMode, scheme_name: &str, address: &str, key: &[u8], pop: &[u8]) -> bool {
    if split_host_port(address).is_none() {
        return false;
    }
    let Some(scheme) = scheme_from_name(scheme_name) else { return false };
    let Ok(pk) = PublicKey::unmarshal(scheme, key) else { return false };
    verify(mode, scheme, &pk, &dkg_types::bls::pop_message(scheme_name, &pk.marshal()), pop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dkg_types::bls::{sign, test_keys, uncompressed_g2_signature, DEFAULT_SCHEME};

    const INF_G1: [u8; 48] = {
        let mut b = [0u8; 48];
        b[0] = 0xc0;
        b
    };
    const INF_G2: [u8; 96] = {
        let mut b = [0u8; 96];
        b[0] = 0xc0;
        b
    };

    /// The first compressed G1 encoding `0x80 ‖ 0…0 ‖ x` (x = 1, 2, …) whose decoding fails
    /// with `want` (found by search, so the property does not rest on a hard-coded constant).
    fn g1_with(want: DecodeError) -> Vec<u8> {
        (1u8..=255)
            .map(|x| {
                let mut b = vec![0u8; 48];
                b[0] = 0x80;
                b[47] = x;
                b
            })
            .find(|b| g1_key(b).err() == Some(want))
            .unwrap()
    }

    #[test]
    fn identity_key_and_signature_are_accepted_like_kilic() {
        let pk = PublicKey::unmarshal(Scheme::KeysOnG1, &INF_G1).unwrap();
        assert!(pk.is_identity());
        assert_eq!(pk.marshal(), INF_G1.to_vec());
        // The identity key verifies the identity signature on any message, and nothing else.
        assert!(verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"anything", &INF_G2));
        assert!(verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"something else", &INF_G2));
        assert!(!verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"m", &sign(BlsMode::Real, 0, b"m")));
        // ... so an identity joiner with the identity PoP passes validateJoinerSignatures.
        assert!(valid_identity(BlsMode::Real, DEFAULT_SCHEME, "x.test:1", &INF_G1, &INF_G2));
        // A real key does not verify the identity signature.
        let real = PublicKey::unmarshal(Scheme::KeysOnG1, &test_keys()[0].public).unwrap();
        assert!(!real.is_identity());
        assert!(!verify(BlsMode::Real, Scheme::KeysOnG1, &real, b"m", &INF_G2));
        // Keys on G2: the 96-byte identity key with the 48-byte identity PoP.
        assert!(valid_identity(BlsMode::Real, "bls-unchained-g1-rfc9380", "x.test:1", &INF_G2, &INF_G1));
        assert!(PublicKey::unmarshal(Scheme::SigsOnG1Rfc9380, &INF_G2).unwrap().is_identity());
    }

    #[test]
    fn test_keys_verify_and_the_pop_is_scheme_bound() {
        for k in test_keys() {
            assert!(valid_identity(BlsMode::Real, DEFAULT_SCHEME, &k.address, &k.public, &k.pop));
            assert!(!valid_identity(BlsMode::Real, "pedersen-bls-unchained", &k.address, &k.public, &k.pop));
            assert!(!valid_identity(BlsMode::Real, DEFAULT_SCHEME, "no-port", &k.public, &k.pop));
        }
        let pk = PublicKey::unmarshal(Scheme::KeysOnG1, &test_keys()[1].public).unwrap();
        let sig = sign(BlsMode::Real, 1, b"hello");
        assert!(verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"hello", &sig));
        assert!(!verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"hellO", &sig));
        assert!(verify(BlsMode::AssumeValid, Scheme::KeysOnG1, &pk, b"hellO", &sig));
        // BN254 keys are not modelled.
        assert_eq!(PublicKey::unmarshal(Scheme::Bn254, &test_keys()[1].public).err(), Some(DecodeError::Unsupported));
    }

    #[test]
    fn exact_lengths_only() {
        let k = &test_keys()[0].public;
        assert_eq!(g1_key(&k[..47]).err(), Some(DecodeError::Length));
        let mut long = k.clone();
        long.push(0);
        assert_eq!(g1_key(&long).err(), Some(DecodeError::Length));
        assert_eq!(g1_key(&[]).err(), Some(DecodeError::Length));
        assert_eq!(g1_key(&INF_G1[..47]).err(), Some(DecodeError::Length));
        let sig = sign(BlsMode::Real, 0, b"m");
        assert_eq!(g2_signature(&sig[..95]).err(), Some(DecodeError::Length));
        assert_eq!(g2_signature(&INF_G1).err(), Some(DecodeError::Length));
        assert_eq!(g1_signature(&INF_G2).err(), Some(DecodeError::Length));
    }

    #[test]
    fn uncompressed_forms_are_rejected() {
        // A G1 key re-encoded uncompressed (96 bytes): wrong length for FromCompressed.
        let pk = min_pk::PublicKey::uncompress(&test_keys()[0].public).unwrap();
        assert_eq!(g1_key(&pk.serialize()).err(), Some(DecodeError::Length));
        // The uncompressed identity (0x40 ‖ 0…, 96 bytes) too.
        let mut inf_uncompressed = vec![0u8; 96];
        inf_uncompressed[0] = 0x40;
        assert_eq!(g1_key(&inf_uncompressed).err(), Some(DecodeError::Length));
        // A valid signature re-encoded uncompressed (192 bytes) does not verify.
        let key = PublicKey::unmarshal(Scheme::KeysOnG1, &test_keys()[0].public).unwrap();
        let sig = sign(BlsMode::Real, 0, b"m");
        let long = uncompressed_g2_signature(&sig).unwrap();
        assert_eq!(g2_signature(&long).err(), Some(DecodeError::Length));
        assert!(verify(BlsMode::Real, Scheme::KeysOnG1, &key, b"m", &sig));
        assert!(!verify(BlsMode::Real, Scheme::KeysOnG1, &key, b"m", &long));
        // G1 signatures (keys on G2): the 96-byte uncompressed form of a 48-byte point.
        assert_eq!(g1_signature(&pk.serialize()).err(), Some(DecodeError::Length));
    }

    #[test]
    fn flag_bits_follow_kilic() {
        let mut k = test_keys()[0].public.clone();
        // Compression flag cleared on a 48-byte string.
        k[0] &= 0x7f;
        assert_eq!(g1_key(&k).err(), Some(DecodeError::CompressionFlag));
        assert_eq!(g1_key(&[0u8; 48]).err(), Some(DecodeError::CompressionFlag));
        // Infinity with the sign bit, or with any non-zero byte, is rejected.
        let mut inf = INF_G1;
        inf[0] = 0xe0;
        assert_eq!(g1_key(&inf).err(), Some(DecodeError::InfinityNotZero));
        let mut inf = INF_G1;
        inf[0] = 0xc1;
        assert_eq!(g1_key(&inf).err(), Some(DecodeError::InfinityNotZero));
        let mut inf = INF_G2;
        inf[95] = 1;
        assert_eq!(g2_signature(&inf).err(), Some(DecodeError::InfinityNotZero));
        // Flipping the sign flag of a real key gives its negation: decodes, but a different key.
        let mut neg = test_keys()[0].public.clone();
        neg[0] ^= 0x20;
        let (p, identity) = g1_key(&neg).unwrap();
        assert!(!identity);
        assert_ne!(p.compress().to_vec(), test_keys()[0].public);
        // x >= p ("must be less than modulus"): 0x9f ff … ff.
        let mut big = vec![0xffu8; 48];
        big[0] = 0x9f;
        assert_eq!(g1_key(&big).err(), Some(DecodeError::NotAFieldElement));
    }

    #[test]
    fn not_on_curve_and_not_in_subgroup() {
        let off = g1_with(DecodeError::NotOnCurve);
        assert!(PublicKey::unmarshal(Scheme::KeysOnG1, &off).is_err());
        // On the curve, outside G1: blst's uncompress accepts it, the subgroup check does not.
        let outside = g1_with(DecodeError::NotInSubgroup);
        assert!(min_pk::PublicKey::uncompress(&outside).is_ok());
        assert!(!valid_identity(BlsMode::Real, DEFAULT_SCHEME, "x.test:1", &outside, &INF_G2));
        // The same for a signature: a G2 point off the curve is rejected before any pairing.
        let mut sig = vec![0u8; 96];
        sig[0] = 0x80;
        let found = (1u8..=255).any(|x| {
            sig[95] = x;
            g2_signature(&sig).err() == Some(DecodeError::NotOnCurve)
        });
        assert!(found);
        let found = (1u8..=255).any(|x| {
            sig[95] = x;
            g2_signature(&sig).err() == Some(DecodeError::NotInSubgroup)
        });
        assert!(found);
    }
}
