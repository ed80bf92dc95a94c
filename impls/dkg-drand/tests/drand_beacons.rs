//! Interop check of the drand port's kyber/kilic decoder and verifier (`dkg_drand::bls`) against
//! real drand signatures: public League of Entropy
//! beacons (the vectors drand's own `crypto/schemes_test.go` `TestVerifyBeacon` checks at
//! f45e7e04). They are threshold signatures, but drand's `ThresholdScheme` and `AuthScheme` share
//! the pairing suite and its DSTs, so verifying them shows our groups, DSTs and encodings match
//! drand's: keys on G1 with the G2 DST (`pedersen-bls-*`), and the deprecated `bls-unchained-on-g1`
//! (keys on G2, signatures on G1, hashed with the G2 DST).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, reason = "test helpers outside #[test] fns: a failing test is the point")]

use dkg_drand::bls::{verify, PublicKey};
use dkg_types::bls::{BlsMode, Scheme};
use sha2::{Digest, Sha256};

fn digest(prev: &str, round: u64) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(hex::decode(prev).unwrap());
    h.update(round.to_be_bytes());
    h.finalize().to_vec()
}

fn check(scheme: Scheme, pk: &str, sig: &str, prev: &str, round: u64) {
    let key = PublicKey::unmarshal(scheme, &hex::decode(pk).unwrap()).expect("key decodes");
    let sig = hex::decode(sig).unwrap();
    let msg = digest(prev, round);
    assert!(verify(BlsMode::Real, scheme, &key, &msg, &sig), "round {round}");
    let mut wrong = msg.clone();
    wrong[0] ^= 1;
    assert!(!verify(BlsMode::Real, scheme, &key, &wrong, &sig), "round {round} must not verify a tampered digest");
}

#[test]
fn pedersen_bls_chained_mainnet_beacon_verifies() {
    check(
        Scheme::KeysOnG1,
        "868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a569937c529eeda66c7293784a9402801af31",
        "814778ed1e480406beb43b74af71ce2f0373e0ea1bfdfea8f9ed62c876c20fcbc7f0163860e3da42ed2148756015f4551451898ffe06d384b4d002245025571b6b7a752f7158b40ad92b13b6d703ad31922a617f2c7f6d960b84d56cf1d79eef",
        "8bd96294383b4d1e04e736360bd7a487f9f409f1e7bd800b720656a310d577b3bdb1e1631af6c5782a1d8979c502f395036181eff4058960fc40bb7034cdae1991d3eda518ab204a077d2f7e724974cf87b407e549bd815cf0b8e5a3832f675d",
        2_634_945,
    );
}

#[test]
fn pedersen_bls_unchained_beacon_verifies() {
    check(
        Scheme::KeysOnG1,
        "8200fc249deb0148eb918d6e213980c5d01acd7fc251900d9260136da3b54836ce125172399ddc69c4e3e11429b62c11",
        "af7eac5897b72401c0f248a26b612c5ef68e0ff830b4d78927988c89b5db3e997bfcdb7c24cb19f549830cd02cb854a1143fd53a1d4e0713ded471260869439060d170a77187eb6371742840e43eccfa225657c4cc2d9619f7c3d680470c9743",
        "",
        7_601_003,
    );
}

#[test]
fn bls_unchained_on_g1_beacon_verifies_with_the_g2_dst() {
    check(
        Scheme::SigsOnG1Swapped,
        "876f6fa8073736e22f6ff4badaab35c637503718f7a452d178ce69c45d2d8129a54ad2f988ab10c9666f87ab603c59bf013409a5b500555da31720f8eec294d9809b8796f40d5372c71a44ca61226f1eb978310392f98074a608747f77e66c5a",
        "ac7c3ca14bc88bd014260f22dc016b4fe586f9313c3a549c83d195811a99a5d2d4999d4df6daec73ff51fafadd6d5bb5",
        "",
        3,
    );
}
