//! Generator-side signing at the cost of a short scalar: `scalar·H(message)` in G2, compressed,
//! the same bytes as `blst`'s `SecretKey::sign` (`min_pk`, the Ethereum PoP DST of
//! [`diverge_types::bls::DST`]; tested equal in `mutators/tests/signatures.rs`).
//!
//! `SecretKey::sign` hashes to G2 (~200 µs) and multiplies by the key in constant time over all
//! 255 bits (~200 µs). The generators' keys are small (the spec tests' keys are `1..=8192`, an
//! aggregate's scalar their sum, below 2^24 for any committee), and nothing here is secret, so
//! this module multiplies by the scalar's own bit length (`blst_p2_mult`, windowed, variable
//! time: ~35 µs for 21 bits, compression included) and memoises `H(message)` per thread for the
//! last [`HASH_MEMO`] signing roots (an attestation's data is signed again whenever its bits or
//! its participants change). Measured: `diverge bench --target attestation --bls real --mutator
//! structured` (README, "Structured mutators").
//!
//! `blst`'s safe API offers neither a bare hash to G2 nor a variable-length multiplication, so
//! this is the crate's one use of `blst`'s C bindings: three calls, each with its safety argument.

use diverge_types::bls::DST;
use diverge_types::{BlsSignature, Root};
use std::cell::RefCell;
use std::collections::HashMap;

/// How many `H(message)` points a thread keeps (288 bytes each); the memo is emptied when full.
pub const HASH_MEMO: usize = 4096;

thread_local! {
    static HASHED: RefCell<HashMap<Root, blst::blst_p2>> = RefCell::new(HashMap::new());
}

/// `hash_to_G2(message)` with the Ethereum DST (RFC 9380 `hash_to_curve`, as `Sign` computes it).
fn hash_to_g2(message: &Root) -> blst::blst_p2 {
    if let Some(p) = HASHED.with(|m| m.borrow().get(message).copied()) {
        return p;
    }
    let mut p = blst::blst_p2::default();
    let msg = message.as_slice();
    // SAFETY: `p` is a valid, writable `blst_p2`; `msg` and `DST` are valid for the lengths passed;
    // a null augmentation with length 0 is what `blst`'s own `sign` passes for an empty `aug`.
    #[allow(unsafe_code, reason = "blst's C binding: its safe API has no bare hash to G2 (module docs)")]
    unsafe {
        blst::blst_hash_to_g2(&mut p, msg.as_ptr(), msg.len(), DST.as_ptr(), DST.len(), std::ptr::null(), 0);
    }
    HASHED.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= HASH_MEMO {
            m.clear();
        }
        m.insert(*message, p);
    });
    p
}

/// `scalar·H(message)`, compressed: the signature of `message` under the secret key `scalar`
/// (`None` for 0, which is no key).
pub fn sign(scalar: u128, message: &Root) -> Option<BlsSignature> {
    if scalar == 0 {
        return None;
    }
    let h = hash_to_g2(message);
    let le = scalar.to_le_bytes();
    let nbits = usize::try_from(u128::BITS.saturating_sub(scalar.leading_zeros())).ok()?;
    let mut point = blst::blst_p2::default();
    let mut out = [0u8; 96];
    // SAFETY: `point` and `h` are valid `blst_p2`s; `blst_p2_mult` reads `ceil(nbits / 8)` bytes of
    // the little-endian scalar, at most the 16 of `le` (nbits <= 128); `blst_p2_compress` writes
    // exactly 96 bytes into `out`.
    #[allow(unsafe_code, reason = "blst's C binding: its safe API multiplies by a full-length scalar only (module docs)")]
    unsafe {
        blst::blst_p2_mult(&mut point, &h, le.as_ptr(), nbits);
        blst::blst_p2_compress(out.as_mut_ptr(), &point);
    }
    Some(BlsSignature::from(out))
}
