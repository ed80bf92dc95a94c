//! BLS for drand's DKG gossip: signatures over `messageForSigning` and the participants' proofs of
//! possession (PoP), through `blst`.
//!
//! Mirrors `crypto/schemes.go` (`SchemeFromName`, the pairing suites and their DSTs) and
//! `common/key/keys.go` (`Identity.Hash`, `Identity.ValidSignature`, `IdentityFromProto`) at
//! f45e7e04:
//! - `pedersen-bls-chained`, `pedersen-bls-unchained`: keys on G1 (48 bytes), signatures on G2
//!   (96 bytes), DST `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_` (blst `min_pk`).
//! - `bls-unchained-g1-rfc9380`: keys on G2, signatures on G1, the G1 DST (blst `min_sig`).
//! - `bls-unchained-on-g1` (deprecated): keys on G2, signatures on G1, but the G2 DST.
//! - `bls-bn254-unchained-on-g1`: a valid scheme name, but BN254 keys are not modelled here: every
//!   key fails to unmarshal (a known limitation of this wrapper).
//!
//! Verified against real drand signatures (tests/drand_beacons.rs: League of Entropy beacons for
//! `pedersen-bls-chained`, `pedersen-bls-unchained` and `bls-unchained-on-g1`).
//!
//! Key unmarshalling uses blst `key_validate` (on curve, in subgroup, not the identity); whether
//! kyber accepts the identity point is UNVERIFIED.
//!
//! [`BlsMode::AssumeValid`] skips only the signature decoding and pairing check; key decoding and
//! every lookup still happen.

use blake2::{Blake2b512, Digest};
use blst::{min_pk, min_sig, BLST_ERROR};
use std::sync::OnceLock;

/// DST of the G2 hash-to-curve (`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`).
pub const DST_G2: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";
/// DST of the G1 hash-to-curve (`BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`).
pub const DST_G1: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";
/// `crypto.DefaultSchemeID`, the scheme every test node runs.
pub const DEFAULT_SCHEME: &str = "pedersen-bls-chained";
/// Every name `crypto.SchemeFromName` accepts.
pub const SCHEME_NAMES: [&str; 5] = [
    "pedersen-bls-chained",
    "pedersen-bls-unchained",
    "bls-unchained-g1-rfc9380",
    "bls-unchained-on-g1",
    "bls-bn254-unchained-on-g1",
];

/// How signatures are checked in one execution (recorded in findings).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum BlsMode {
    /// Real pairing checks.
    Real,
    /// The pairing check passes; key decoding and sender lookup still run.
    AssumeValid,
}

/// A scheme known to `crypto.SchemeFromName`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Scheme {
    /// `pedersen-bls-chained` / `pedersen-bls-unchained`.
    KeysOnG1,
    /// `bls-unchained-g1-rfc9380`.
    SigsOnG1Rfc9380,
    /// `bls-unchained-on-g1` (G2 DST on G1).
    SigsOnG1Swapped,
    /// `bls-bn254-unchained-on-g1` (not modelled: keys never decode).
    Bn254,
}

/// `crypto.SchemeFromName(name)`: `None` for an unknown name, the empty string included.
pub fn scheme_from_name(name: &str) -> Option<Scheme> {
    match name {
        "pedersen-bls-chained" | "pedersen-bls-unchained" => Some(Scheme::KeysOnG1),
        "bls-unchained-g1-rfc9380" => Some(Scheme::SigsOnG1Rfc9380),
        "bls-unchained-on-g1" => Some(Scheme::SigsOnG1Swapped),
        "bls-bn254-unchained-on-g1" => Some(Scheme::Bn254),
        _ => None,
    }
}

/// A decoded public key of some scheme.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// A G1 key.
    G1(min_pk::PublicKey),
    /// A G2 key.
    G2(min_sig::PublicKey),
}

impl PublicKey {
    /// `KeyGroup.Point().UnmarshalBinary(bytes)`: `None` when the bytes are not a valid key.
    pub fn decode(scheme: Scheme, bytes: &[u8]) -> Option<PublicKey> {
        match scheme {
            Scheme::KeysOnG1 => min_pk::PublicKey::key_validate(bytes).ok().map(PublicKey::G1),
            Scheme::SigsOnG1Rfc9380 | Scheme::SigsOnG1Swapped => {
                min_sig::PublicKey::key_validate(bytes).ok().map(PublicKey::G2)
            }
            Scheme::Bn254 => None,
        }
    }

    /// `Point.MarshalBinary()`: the compressed encoding.
    pub fn to_compressed(&self) -> Vec<u8> {
        match self {
            PublicKey::G1(k) => k.compress().to_vec(),
            PublicKey::G2(k) => k.compress().to_vec(),
        }
    }
}

/// `AuthScheme.Verify(key, msg, sig)`: `true` when the signature verifies. In AssumeValid mode
/// always `true` (the key is already decoded by the caller).
pub fn verify(mode: BlsMode, scheme: Scheme, key: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    if mode == BlsMode::AssumeValid {
        return true;
    }
    match (scheme, key) {
        (Scheme::KeysOnG1, PublicKey::G1(k)) => match min_pk::Signature::from_bytes(sig) {
            Ok(s) => s.verify(true, msg, DST_G2, &[], k, false) == BLST_ERROR::BLST_SUCCESS,
            Err(_) => false,
        },
        (Scheme::SigsOnG1Rfc9380, PublicKey::G2(k)) | (Scheme::SigsOnG1Swapped, PublicKey::G2(k)) => {
            let dst = if scheme == Scheme::SigsOnG1Rfc9380 { DST_G1 } else { DST_G2 };
            match min_sig::Signature::from_bytes(sig) {
                Ok(s) => s.verify(true, msg, dst, &[], k, false) == BLST_ERROR::BLST_SUCCESS,
                Err(_) => false,
            }
        }
        _ => false,
    }
}

/// The PoP message `schemeName ‖ blake2b256(MarshalBinary(key))` (`Identity.ValidSignature`).
pub fn pop_message(scheme_name: &str, key: &PublicKey) -> Vec<u8> {
    let mut h = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    h.update(key.to_compressed());
    let mut msg = scheme_name.as_bytes().to_vec();
    msg.extend_from_slice(&h.finalize());
    msg
}

/// `IdentityFromProto` + `ValidSignature` for one joiner under the proposal's scheme: the address
/// must split as `host:port` ([`split_host_port`]), the key must decode, and the PoP must verify.
/// `false` maps to `key.ErrInvalidKeyScheme`.
pub fn valid_identity(mode: BlsMode, scheme_name: &str, address: &str, key: &[u8], pop: &[u8]) -> bool {
    if split_host_port(address).is_none() {
        return false;
    }
    let Some(scheme) = scheme_from_name(scheme_name) else { return false };
    let Some(pk) = PublicKey::decode(scheme, key) else { return false };
    verify(mode, scheme, &pk, &pop_message(scheme_name, &pk), pop)
}

/// Go's `net.SplitHostPort`: `Some((host, port))` or `None` on "missing port", "too many colons",
/// "missing ']'" and "unexpected '[' / ']'".
pub fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let i = hostport.rfind(':')?;
    let (host, j, k);
    if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        let after = end.checked_add(1)?;
        // Go: "missing port" when `]` ends the string, "too many colons"/"missing port" when the
        // last colon is not right after `]`.
        if after == hostport.len() || after != i {
            return None;
        }
        host = hostport.get(1..end)?;
        j = 1usize;
        k = after;
    } else {
        host = hostport.get(..i)?;
        if host.contains(':') {
            return None;
        }
        j = 0;
        k = 0;
    }
    if hostport.get(j..)?.contains('[') || hostport.get(k..)?.contains(']') {
        return None;
    }
    let port = hostport.get(i.checked_add(1)?..)?;
    Some((host, port))
}

/// Number of participants in the deterministic test key set.
pub const TEST_KEYS: usize = 8;

/// One deterministic test identity (`pedersen-bls-chained`): secret key from
/// `ikm = blake2b512("diverge-dkg-test-key" ‖ index)[..32]`, address `node-<letter>.dkg.test:443`,
/// PoP over `"pedersen-bls-chained" ‖ blake2b256(pk)`. For tests and fuzzing only; no security.
pub struct TestKey {
    sk: min_pk::SecretKey,
    /// `host:port`.
    pub address: String,
    /// Compressed G1 public key (48 bytes).
    pub public: Vec<u8>,
    /// Proof of possession (96 bytes).
    pub pop: Vec<u8>,
}

fn make_key(index: usize) -> Option<TestKey> {
    let mut h = Blake2b512::new();
    h.update(b"diverge-dkg-test-key");
    h.update(index.to_le_bytes());
    let ikm = h.finalize();
    let sk = min_pk::SecretKey::key_gen(&ikm, &[]).ok()?;
    let pk = sk.sk_to_pk();
    let letter = char::from(b'a'.checked_add(u8::try_from(index).ok()?)?);
    let decoded = PublicKey::G1(pk);
    let pop = sk.sign(&pop_message(DEFAULT_SCHEME, &decoded), DST_G2, &[]).compress().to_vec();
    Some(TestKey { sk, address: format!("node-{letter}.dkg.test:443"), public: pk.compress().to_vec(), pop })
}

/// The test key set (computed once).
pub fn test_keys() -> &'static [TestKey] {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    KEYS.get_or_init(|| (0..TEST_KEYS).filter_map(make_key).collect())
}

/// Signs `msg` with test key `index % TEST_KEYS` under the default scheme (G2 signature, 96 bytes).
/// In AssumeValid mode returns a deterministic 96-byte stand-in (blake2b of the key index and the
/// message), so identical packets still get identical signatures for `SeenPackets`.
pub fn sign(mode: BlsMode, index: usize, msg: &[u8]) -> Vec<u8> {
    let idx = index.checked_rem(TEST_KEYS).unwrap_or(0);
    match (mode, test_keys().get(idx)) {
        (BlsMode::Real, Some(k)) => k.sk.sign(msg, DST_G2, &[]).compress().to_vec(),
        _ => {
            let mut out = Vec::with_capacity(128);
            for round in 0u8..2 {
                let mut h = Blake2b512::new();
                h.update(b"diverge-dkg-fake-signature");
                h.update([round]);
                h.update(idx.to_le_bytes());
                h.update(msg);
                out.extend_from_slice(&h.finalize());
            }
            out.truncate(96);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_keys_have_valid_pops_and_sign() {
        assert_eq!(test_keys().len(), TEST_KEYS);
        for k in test_keys() {
            assert!(valid_identity(BlsMode::Real, DEFAULT_SCHEME, &k.address, &k.public, &k.pop));
            // The PoP is bound to the scheme name.
            assert!(!valid_identity(BlsMode::Real, "pedersen-bls-unchained", &k.address, &k.public, &k.pop));
        }
        let sig = sign(BlsMode::Real, 1, b"hello");
        let pk = PublicKey::decode(Scheme::KeysOnG1, &test_keys()[1].public).unwrap();
        assert!(verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"hello", &sig));
        assert!(!verify(BlsMode::Real, Scheme::KeysOnG1, &pk, b"hellO", &sig));
        assert!(verify(BlsMode::AssumeValid, Scheme::KeysOnG1, &pk, b"hellO", &sig));
    }

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("a:1"), Some(("a", "1")));
        assert_eq!(split_host_port(":"), Some(("", "")));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1", "80")));
        assert_eq!(split_host_port("a"), None);
        assert_eq!(split_host_port("a:b:c"), None);
        assert_eq!(split_host_port("[::1]"), None);
        assert_eq!(split_host_port("a]:1"), None);
    }
}
