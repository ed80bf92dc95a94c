//! Swap-or-not shuffling (`specs/phase0/beacon-chain.md#compute_shuffled_index`, v1.1.10), per
//! index as the spec writes it, and for a whole list at once ("shuffle list", as Lighthouse and
//! grandine do): `SHUFFLE_ROUND_COUNT` passes of pairwise swaps, hashing each 256-position block
//! of a round once instead of once per index.

use crate::arith::{u, us, SafeArith};
use diverge_types::{hash, EthSpec, Reject, Root};

fn pivot(seed: &Root, round: u8, index_count: u64) -> Result<u64, Reject> {
    let mut buf = [0u8; 33];
    buf[..32].copy_from_slice(seed.as_slice());
    buf[32] = round;
    let h = hash(&buf);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    u64::from_le_bytes(b).srem(index_count)
}

fn source(seed: &Root, round: u8, block: u64) -> Result<[u8; 32], Reject> {
    let block = u32::try_from(block).map_err(|_| Reject::ArithmeticOverflow)?;
    let mut buf = [0u8; 37];
    buf[..32].copy_from_slice(seed.as_slice());
    buf[32] = round;
    buf[33..].copy_from_slice(&block.to_le_bytes());
    Ok(hash(&buf))
}

fn bit_at(src: &[u8; 32], position: u64) -> bool {
    let byte = src.get(us((position % 256) / 8)).copied().unwrap_or(0);
    (byte >> (position % 8)) & 1 == 1
}

/// `compute_shuffled_index(index, index_count, seed)`.
///
/// # Errors
/// [`Reject::ShuffleIndexOutOfRange`] when `index >= index_count`; overflow.
pub fn compute_shuffled_index<E: EthSpec>(index: u64, index_count: u64, seed: &Root) -> Result<u64, Reject> {
    if index >= index_count {
        return Err(Reject::ShuffleIndexOutOfRange);
    }
    let mut index = index;
    for round in 0..E::SHUFFLE_ROUND_COUNT {
        let round = u8::try_from(round).map_err(|_| Reject::ArithmeticOverflow)?;
        let pivot = pivot(seed, round, index_count)?;
        let flip = pivot.sadd(index_count)?.ssub(index)?.srem(index_count)?;
        let position = index.max(flip);
        let src = source(seed, round, position / 256)?;
        if bit_at(&src, position) {
            index = flip;
        }
    }
    Ok(index)
}

/// The whole committee ordering of an epoch: `out[i] == input[compute_shuffled_index(i, n, seed)]`
/// for every `i`. Rounds are applied from last to first as pairwise swaps (each round of
/// swap-or-not is an involution pairing `x` with `pivot - x mod n`).
///
/// # Errors
/// Overflow (lists beyond 2^40 entries).
pub fn shuffle_list<E: EthSpec>(input: &[u64], seed: &Root) -> Result<Vec<u64>, Reject> {
    let mut out = input.to_vec();
    let n = u(out.len());
    if n <= 1 {
        return Ok(out);
    }
    let blocks = n.sadd(255)? / 256;
    let mut sources = Vec::with_capacity(us(blocks));
    for round in (0..E::SHUFFLE_ROUND_COUNT).rev() {
        let round = u8::try_from(round).map_err(|_| Reject::ArithmeticOverflow)?;
        let pivot = pivot(seed, round, n)?;
        sources.clear();
        for b in 0..blocks {
            sources.push(source(seed, round, b)?);
        }
        for x in 0..n {
            // flip = (pivot + n - x) % n; x < n and pivot < n, so no overflow below 2^63.
            let flip = pivot.sadd(n)?.ssub(x)?.srem(n)?;
            if flip <= x {
                continue;
            }
            let Some(src) = sources.get(us(flip / 256)) else { return Err(Reject::Internal) };
            if bit_at(src, flip) {
                out.swap(us(x), us(flip));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, reason = "test code")]
mod tests {
    use super::*;
    use diverge_types::{MainnetSpec, MinimalSpec};

    fn check<E: EthSpec>() {
        for n in [0u64, 1, 2, 3, 7, 64, 255, 256, 257, 600] {
            let seed = Root::from(hash(&n.to_le_bytes()));
            let input: Vec<u64> = (0..n).map(|i| i * 3 + 1).collect();
            let out = shuffle_list::<E>(&input, &seed).unwrap();
            for i in 0..n {
                let j = compute_shuffled_index::<E>(i, n, &seed).unwrap();
                assert_eq!(out[i as usize], input[j as usize], "n={n} i={i}");
            }
        }
    }

    #[test]
    fn shuffle_list_matches_compute_shuffled_index() {
        check::<MinimalSpec>();
        check::<MainnetSpec>();
    }
}
