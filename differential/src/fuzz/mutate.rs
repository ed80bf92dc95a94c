//! Mutation for the built-in loop: byte-level havoc plus simple SSZ-aware moves (little-endian
//! integers at 8-byte-aligned body offsets set to boundary values, the state selector, the epoch
//! step). Structure-aware mutators (mutators/, a later crate) plug in through [`Mutator`].

use crate::target::Target;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A mutation strategy. Deterministic for a given RNG state, as libFuzzer's `fuzz_mutator!` and
/// AFL++ custom mutators require.
pub trait Mutator: Send + Sync {
    /// Mutates `data` in place, keeping it at most `max_len` bytes; `corpus` is available for
    /// splicing.
    fn mutate(&self, target: Target, data: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut ChaCha8Rng, max_len: usize);
}

/// Byte-level havoc with SSZ-aware integer moves.
#[derive(Default, Debug, Clone, Copy)]
pub struct Havoc;

/// Values at the edges the consensus bugs of `bugs.md` live at.
const INTERESTING_U64: &[u64] = &[
    0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 1023, 1024, 2047, 2048,
    u32::MAX as u64, 1 << 32, (1 << 63) - 1, 1 << 63, u64::MAX - 1, u64::MAX, 32_000_000_000, 16_000_000_000,
];

impl Mutator for Havoc {
    fn mutate(&self, target: Target, data: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut ChaCha8Rng, max_len: usize) {
        // Network targets: schedule mutations mostly ([`super::schedule`]), byte havoc sometimes
        // (and whenever no schedule move applied).
        if let Some(p2p) = target.p2p() {
            if rng.gen_bool(0.85) && crate::fuzz::schedule::mutate_target(p2p, data, rng, max_len) {
                return;
            }
        }
        let rounds = 1usize << rng.gen_range(0..4);
        for _ in 0..rounds {
            mutate_once(target, data, corpus, rng);
        }
        data.truncate(max_len);
    }
}

fn mutate_once(target: Target, data: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut ChaCha8Rng) {
    let len = data.len();
    match rng.gen_range(0..11u8) {
        // New state selector.
        0 if len >= 2 => {
            let sel: u16 = rng.gen();
            data[..2].copy_from_slice(&sel.to_le_bytes());
        }
        // Flip a bit.
        1 if len > 0 => {
            let i = rng.gen_range(0..len);
            data[i] ^= 1 << rng.gen_range(0..8);
        }
        // Interesting byte.
        2 if len > 0 => {
            let i = rng.gen_range(0..len);
            data[i] = [0u8, 1, 0x7f, 0x80, 0xff][rng.gen_range(0..5)];
        }
        // SSZ-aware: an aligned little-endian u64 of the body set to a boundary value.
        3 | 4 if len >= 10 => {
            let slots = (len - 2) / 8;
            let i = 2 + 8 * rng.gen_range(0..slots);
            let v = INTERESTING_U64[rng.gen_range(0..INTERESTING_U64.len())];
            data[i..i + 8].copy_from_slice(&v.to_le_bytes());
        }
        // SSZ-aware: an aligned u64 nudged by a small delta (epochs ±1, indices ±1).
        5 if len >= 10 => {
            let slots = (len - 2) / 8;
            let i = 2 + 8 * rng.gen_range(0..slots);
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[i..i + 8]);
            let v = u64::from_le_bytes(b);
            let delta = rng.gen_range(1..=4u64);
            let v = if rng.gen() { v.wrapping_add(delta) } else { v.wrapping_sub(delta) };
            data[i..i + 8].copy_from_slice(&v.to_le_bytes());
        }
        // Delete a chunk of the body.
        6 if len > 3 => {
            let start = rng.gen_range(2..len);
            let n = rng.gen_range(1..=(len - start).min(64));
            data.drain(start..start + n);
        }
        // Duplicate a chunk (grows lists).
        7 if len > 3 => {
            let start = rng.gen_range(2..len);
            let n = rng.gen_range(1..=(len - start).min(128));
            let chunk: Vec<u8> = data[start..start + n].to_vec();
            let at = rng.gen_range(2..=len);
            data.splice(at..at, chunk);
        }
        // Splice the tail of another corpus entry.
        8 if !corpus.is_empty() && len > 2 => {
            let other = &corpus[rng.gen_range(0..corpus.len())];
            if other.len() > 2 {
                let cut = rng.gen_range(2..=len);
                let from = rng.gen_range(2..other.len());
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
        }
        // Random bytes overwrite.
        9 if len > 2 => {
            let start = rng.gen_range(2..len);
            let n = rng.gen_range(1..=(len - start).min(8));
            for b in &mut data[start..start + n] {
                *b = rng.gen();
            }
        }
        // Target parameters: epoch step, slot count.
        _ => match target {
            Target::Epoch if len >= 3 => data[2] = rng.gen_range(0..10),
            Target::Slots if len >= 4 => {
                let n: u16 = if rng.gen_bool(0.9) { rng.gen_range(0..80) } else { rng.gen() };
                data[2..4].copy_from_slice(&n.to_le_bytes());
            }
            _ if len > 0 => {
                let i = rng.gen_range(0..len);
                data[i] = rng.gen();
            }
            _ => data.extend_from_slice(&[0, 0]),
        },
    }
}
