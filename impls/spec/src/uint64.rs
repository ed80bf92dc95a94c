//! `uint64` arithmetic with the spec's semantics: Python's `uint64` raises on overflow, underflow
//! and division by zero, so each of these returns [`Reject::ArithmeticOverflow`] instead.

use crate::Result;
use diverge_types::Reject;

/// `a + b`.
pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or(Reject::ArithmeticOverflow)
}

/// `a - b`.
pub fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b).ok_or(Reject::ArithmeticOverflow)
}

/// `a * b`.
pub fn mul(a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b).ok_or(Reject::ArithmeticOverflow)
}

/// `a // b`.
pub fn div(a: u64, b: u64) -> Result<u64> {
    a.checked_div(b).ok_or(Reject::ArithmeticOverflow)
}

/// `a % b`.
pub fn rem(a: u64, b: u64) -> Result<u64> {
    a.checked_rem(b).ok_or(Reject::ArithmeticOverflow)
}

/// `uint64(len(x))`.
pub fn len_u64(len: usize) -> Result<u64> {
    u64::try_from(len).map_err(|_| Reject::ArithmeticOverflow)
}
