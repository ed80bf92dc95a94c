//! Math helpers.
//! <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#math>

use crate::uint64::{add, div};
use crate::Result;
use diverge_types::Root;

/// Largest `x` with `x**2 <= n`.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#integer_squareroot>
///
/// # Errors
/// [`diverge_types::Reject::ArithmeticOverflow`] for `n == 2**64 - 1`: at v1.1.10 the spec's first
/// step `x + 1` overflows uint64 there and Python raises.
pub fn integer_squareroot(n: u64) -> Result<u64> {
    let mut x = n;
    let mut y = div(add(x, 1)?, 2)?;
    while y < x {
        x = y;
        y = div(add(x, div(n, x)?)?, 2)?;
    }
    Ok(x)
}

/// Exclusive-or of two 32-byte strings.
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#xor>
pub fn xor(bytes_1: &Root, bytes_2: &Root) -> Root {
    let mut out = [0u8; 32];
    for ((o, a), b) in out.iter_mut().zip(bytes_1.iter()).zip(bytes_2.iter()) {
        *o = a ^ b;
    }
    Root::from(out)
}

/// Little-endian integer of 8 bytes (`ENDIANNESS = 'little'`).
/// <https://github.com/ethereum/consensus-specs/blob/v1.1.10/specs/phase0/beacon-chain.md#bytes_to_uint64>
pub fn bytes_to_uint64(data: &[u8; 8]) -> u64 {
    u64::from_le_bytes(*data)
}
