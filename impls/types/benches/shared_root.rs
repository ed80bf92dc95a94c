//! `Shared`'s incremental `hash_tree_root` on the mainnet sizes of `randao_mixes`
//! (`Vector[Bytes32, 65536]`) and `block_roots` (`Vector[Root, 8192]`), against the full rehash
//! the wrapped `ssz_types` vector does:
//! - `full_rehash`: `FixedVector::tree_hash_root`, from scratch (what every write cost before);
//! - `one_write_cow`: a clone of a hashed field (as an execution clones a pool state), one
//!   `get_mut` write (which copies the value, sharing the original's tree), then the root;
//! - `one_write_unique`: one write to an unshared field (no copy), then the root;
//! - `k_writes`: k writes at spread indices to an unshared field, then the root.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, missing_docs, reason = "bench code")]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use diverge_types::ssz_types::typenum::{U65536, U8192};
use diverge_types::ssz_types::{typenum::Unsigned, FixedVector};
use diverge_types::{Root, Shared, TreeHash};

fn field<N: Unsigned + Clone>() -> FixedVector<Root, N> {
    FixedVector::new((0..N::to_usize()).map(|i| Root::left_padding_from(&(i as u64 + 1).to_be_bytes())).collect()).unwrap()
}

fn bench_size<N: Unsigned + Clone>(c: &mut Criterion, name: &str) {
    let plain: FixedVector<Root, N> = field();
    let n = N::to_usize();
    let mut g = c.benchmark_group(format!("shared_root/{name}"));
    g.bench_function("full_rehash", |b| b.iter(|| plain.tree_hash_root()));
    let base = Shared::new(plain.clone());
    base.tree_hash_root();
    let mut i = 0usize;
    g.bench_function("one_write_cow", |b| {
        b.iter_batched(
            || base.clone(),
            |mut s| {
                i = (i + 7919) % n;
                *s.get_mut(i).unwrap() = Root::repeat_byte(i as u8);
                s.tree_hash_root()
            },
            BatchSize::SmallInput,
        )
    });
    let mut unique = Shared::new(plain.clone());
    unique.tree_hash_root();
    g.bench_function("one_write_unique", |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            *unique.get_mut(i).unwrap() = Root::repeat_byte(i as u8);
            unique.tree_hash_root()
        })
    });
    for k in [4usize, 64, 1024] {
        g.bench_with_input(BenchmarkId::new("k_writes", k), &k, |b, &k| {
            b.iter(|| {
                for _ in 0..k {
                    i = (i + 7919) % n;
                    *unique.get_mut(i).unwrap() = Root::repeat_byte(i as u8);
                }
                unique.tree_hash_root()
            })
        });
    }
    g.finish();
}

fn shared_roots(c: &mut Criterion) {
    bench_size::<U65536>(c, "randao_mixes_65536");
    bench_size::<U8192>(c, "block_roots_8192");
}

criterion_group!(benches, shared_roots);
criterion_main!(benches);
