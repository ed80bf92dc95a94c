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
//! Byte plumbing only: the scheme table, the DSTs, the PoP message layout, the deterministic test
//! keys and their signatures. Decoding and verifying keys and signatures (which encodings, the
//! identity point, subgroup checks) is logic under test and lives in each implementation:
//! `dkg_drand::bls` decodes as kyber-bls12381 v0.3.4 / kilic bls12-381 v0.1.0 (what drand's
//! go.mod pins) do, `dkg_spec::bls` as the model reads dkg.md (IETF `KeyValidate`, compressed
//! only). Sharing a decoder hid two real differences (docs/architecture.md, "DKG: who decodes
//! keys and signatures").
//!
//! [`BlsMode::AssumeValid`] makes each implementation skip only the signature decoding and
//! pairing check; key decoding and every lookup still happen.

use blake2::{Blake2b512, Digest};
use blst::min_pk;
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

/// Length of a compressed G1 point (a `pedersen-bls-*` key, a `*-on-g1` signature), bytes.
pub const G1_COMPRESSED_LEN: usize = 48;
/// Length of a compressed G2 point (a `pedersen-bls-*` signature, a `*-on-g1` key), bytes.
pub const G2_COMPRESSED_LEN: usize = 96;

impl Scheme {
    /// The hash-to-curve DST of the scheme's signatures (`crypto/schemes.go` at f45e7e04:
    /// `NewBLS12381SuiteWithDST` of each constructor): [`DST_G2`] for the keys-on-G1 schemes and
    /// for the deprecated `bls-unchained-on-g1` (which hashes to G1 under the G2 DST),
    /// [`DST_G1`] for `bls-unchained-g1-rfc9380`. `None` for BN254 (not modelled).
    pub fn signature_dst(self) -> Option<&'static [u8]> {
        match self {
            Scheme::KeysOnG1 | Scheme::SigsOnG1Swapped => Some(DST_G2),
            Scheme::SigsOnG1Rfc9380 => Some(DST_G1),
            Scheme::Bn254 => None,
        }
    }
}

/// The PoP message `schemeName ‖ blake2b256(MarshalBinary(key))` (`common/key/keys.go`
/// `Identity.Hash` and `Identity.ValidSignature`, lines 46-59 at f45e7e04). `compressed_key` is
/// the key as the caller's decoder re-encodes it (`Point.MarshalBinary`, compressed); which bytes
/// decode to a key is the caller's decision, never this crate's.
pub fn pop_message(scheme_name: &str, compressed_key: &[u8]) -> Vec<u8> {
    let mut h = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    h.update(compressed_key);
    let mut msg = scheme_name.as_bytes().to_vec();
    msg.extend_from_slice(&h.finalize());
    msg
}

/// Test-input plumbing: the 192-byte uncompressed (ZCash `serialize`) re-encoding of a compressed
/// 96-byte G2 signature, the same point in another encoding. `None` when `sig` is not a
/// decodable compressed G2 point. Used to build inputs that re-encode an already-seen signature;
/// no implementation decodes through it.
pub fn uncompressed_g2_signature(sig: &[u8]) -> Option<Vec<u8>> {
    min_pk::Signature::uncompress(sig).ok().map(|s| s.serialize().to_vec())
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
    let pop = sk.sign(&pop_message(DEFAULT_SCHEME, &pk.compress()), DST_G2, &[]).compress().to_vec();
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
    use blst::BLST_ERROR;

    fn verifies(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
        let pk = min_pk::PublicKey::key_validate(pk).unwrap();
        min_pk::Signature::from_bytes(sig).unwrap().verify(true, msg, DST_G2, &[], &pk, false) == BLST_ERROR::BLST_SUCCESS
    }

    #[test]
    fn test_keys_have_valid_pops_and_sign() {
        assert_eq!(test_keys().len(), TEST_KEYS);
        for k in test_keys() {
            assert_eq!(k.public.len(), G1_COMPRESSED_LEN);
            assert_eq!(k.pop.len(), G2_COMPRESSED_LEN);
            assert!(verifies(&k.public, &pop_message(DEFAULT_SCHEME, &k.public), &k.pop));
            // The PoP is bound to the scheme name.
            assert!(!verifies(&k.public, &pop_message("pedersen-bls-unchained", &k.public), &k.pop));
        }
        let sig = sign(BlsMode::Real, 1, b"hello");
        assert!(verifies(&test_keys()[1].public, b"hello", &sig));
        assert!(!verifies(&test_keys()[1].public, b"hellO", &sig));
        assert_eq!(sign(BlsMode::AssumeValid, 1, b"hello").len(), G2_COMPRESSED_LEN);
    }

    #[test]
    fn uncompressed_reencoding_is_the_same_point() {
        let sig = sign(BlsMode::Real, 2, b"m");
        let long = uncompressed_g2_signature(&sig).unwrap();
        assert_eq!(long.len(), 2 * G2_COMPRESSED_LEN);
        assert_eq!(long[0] & 0x80, 0, "uncompressed form has the compression flag clear");
        assert_eq!(min_pk::Signature::deserialize(&long).unwrap().compress().to_vec(), sig);
        assert_eq!(uncompressed_g2_signature(&long), None);
        assert_eq!(uncompressed_g2_signature(&sig[1..]), None);
    }

    #[test]
    fn dsts_follow_schemes_go() {
        assert_eq!(Scheme::KeysOnG1.signature_dst(), Some(DST_G2));
        assert_eq!(Scheme::SigsOnG1Swapped.signature_dst(), Some(DST_G2));
        assert_eq!(Scheme::SigsOnG1Rfc9380.signature_dst(), Some(DST_G1));
        assert_eq!(Scheme::Bn254.signature_dst(), None);
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
