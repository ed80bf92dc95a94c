//! Checked uint64 arithmetic with the spec's semantics: Python's `uint64` raises on overflow,
//! underflow and division by zero, which is [`Reject::ArithmeticOverflow`] here.

use diverge_types::Reject;

/// Checked `u64` operations returning [`Reject::ArithmeticOverflow`].
pub(crate) trait SafeArith: Sized {
    /// `self + rhs`.
    fn sadd(self, rhs: u64) -> Result<u64, Reject>;
    /// `self - rhs`.
    fn ssub(self, rhs: u64) -> Result<u64, Reject>;
    /// `self * rhs`.
    fn smul(self, rhs: u64) -> Result<u64, Reject>;
    /// `self // rhs`.
    fn sdiv(self, rhs: u64) -> Result<u64, Reject>;
    /// `self % rhs`.
    fn srem(self, rhs: u64) -> Result<u64, Reject>;
}

impl SafeArith for u64 {
    fn sadd(self, rhs: u64) -> Result<u64, Reject> {
        self.checked_add(rhs).ok_or(Reject::ArithmeticOverflow)
    }
    fn ssub(self, rhs: u64) -> Result<u64, Reject> {
        self.checked_sub(rhs).ok_or(Reject::ArithmeticOverflow)
    }
    fn smul(self, rhs: u64) -> Result<u64, Reject> {
        self.checked_mul(rhs).ok_or(Reject::ArithmeticOverflow)
    }
    fn sdiv(self, rhs: u64) -> Result<u64, Reject> {
        self.checked_div(rhs).ok_or(Reject::ArithmeticOverflow)
    }
    fn srem(self, rhs: u64) -> Result<u64, Reject> {
        self.checked_rem(rhs).ok_or(Reject::ArithmeticOverflow)
    }
}

/// A `u64` index as `usize` (saturating, so an impossible index stays out of range on lookup).
pub(crate) fn us(x: u64) -> usize {
    usize::try_from(x).unwrap_or(usize::MAX)
}

/// A `usize` length as `u64`.
pub(crate) fn u(x: usize) -> u64 {
    u64::try_from(x).unwrap_or(u64::MAX)
}
