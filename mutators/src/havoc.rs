//! Byte havoc for inputs that do not decode (and the structured mutator's escape hatch): the
//! same moves as the built-in loop's (`differential/src/fuzz/mutate.rs`), kept here so this crate
//! depends on no runner.

use rand::Rng;

/// Values at the edges the consensus bugs live at.
pub const INTERESTING_U64: &[u64] = &[
    0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 1023, 1024, 2047, 2048,
    u32::MAX as u64, 1 << 32, (1 << 63) - 1, 1 << 63, u64::MAX - 1, u64::MAX, 32_000_000_000, 16_000_000_000,
];

/// Mutates `data` with 1 to 8 byte-level moves, then truncates it to `max_len`. Never panics,
/// whatever the length (an empty input grows).
pub fn havoc<R: Rng>(data: &mut Vec<u8>, rng: &mut R, max_len: usize) {
    let rounds = 1usize << rng.gen_range(0..4);
    for _ in 0..rounds {
        once(data, rng);
    }
    data.truncate(max_len);
}

fn once<R: Rng>(data: &mut Vec<u8>, rng: &mut R) {
    let len = data.len();
    if len == 0 {
        data.extend_from_slice(&rng.gen::<[u8; 4]>());
        return;
    }
    let i = rng.gen_range(0..len);
    match rng.gen_range(0..7u8) {
        0 => {
            if let Some(b) = data.get_mut(i) {
                *b ^= 1 << rng.gen_range(0..8);
            }
        }
        1 => {
            if let Some(b) = data.get_mut(i) {
                *b = [0u8, 1, 0x7f, 0x80, 0xff].get(rng.gen_range(0..5)).copied().unwrap_or(0);
            }
        }
        2 => {
            let v = INTERESTING_U64.get(rng.gen_range(0..INTERESTING_U64.len())).copied().unwrap_or(0);
            for (b, v) in data.iter_mut().skip(i).zip(v.to_le_bytes()) {
                *b = v;
            }
        }
        3 => {
            let n = rng.gen_range(1..=len.saturating_sub(i).clamp(1, 64));
            data.drain(i..i.saturating_add(n).min(len));
        }
        4 => {
            let n = rng.gen_range(1..=len.saturating_sub(i).clamp(1, 128));
            let chunk: Vec<u8> = data.iter().skip(i).take(n).copied().collect();
            let at = rng.gen_range(0..=len);
            data.splice(at..at, chunk);
        }
        5 => {
            for b in data.iter_mut().skip(i).take(rng.gen_range(1..=8)) {
                *b = rng.gen();
            }
        }
        _ => data.push(rng.gen()),
    }
}
