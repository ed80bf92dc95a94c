//! fast vs spec, side by side, on mainnet states from the official vectors (found by
//! `diverge_test_vectors::require`: `$DIVERGE_SPEC_TESTS`, `../shared/consensus-spec-tests/tests`
//! beside the repository, or `spec-tests/tests`):
//! - `process_epoch`: `Slots(1)` from the last slot of an epoch (`process_slot` + `process_epoch`);
//! - `state_transition`: `full_random_operations_0` block 0 with `validate_result`, real BLS and
//!   assume-valid;
//! - `clone`: one prepared state;
//! - `root_after_balance_change`: clone, `balances[0] += 1`, `hash_tree_root` (fast: the milhouse
//!   state with cached subtree roots; plain: the `BeaconState` container, hashed in full).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects, missing_docs, reason = "bench code")]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use diverge_fast::FastImpl;
use diverge_spec::SpecImpl;
use diverge_types::ssz::Decode;
use diverge_types::*;
use std::path::{Path, PathBuf};

type E = MainnetSpec;

fn case_dir(name: &str) -> PathBuf {
    diverge_test_vectors::require().join("mainnet/phase0/sanity/blocks/pyspec_tests").join(name)
}

fn read<T: Decode>(path: &Path) -> T {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let raw = snap::raw::Decoder::new().decompress_vec(&bytes).unwrap();
    T::from_ssz_bytes(&raw).unwrap()
}

fn benches(c: &mut Criterion) {
    let fast = FastImpl;
    let spec = SpecImpl;
    let dir = case_dir("full_random_operations_0");
    let pre: BeaconState<E> = read(&dir.join("pre.ssz_snappy"));
    let block: SignedBeaconBlock<E> = read(&dir.join("blocks_0.ssz_snappy"));
    let block_op = Operation::Block { block, validate_result: true };

    // A state at the last slot of an epoch, for process_epoch.
    let mut warm = Phase0Impl::<E>::prepare(&fast, &pre).unwrap();
    let to_last = E::SLOTS_PER_EPOCH - 1 - pre.slot % E::SLOTS_PER_EPOCH;
    if to_last > 0 {
        fast.apply(&mut warm, &Operation::Slots(to_last), BlsMode::AssumeValid).unwrap();
    }
    let epoch_pre = Phase0Impl::<E>::export(&fast, &warm);

    let fast_epoch = Phase0Impl::<E>::prepare(&fast, &epoch_pre).unwrap();
    let spec_epoch = Phase0Impl::<E>::prepare(&spec, &epoch_pre).unwrap();
    let mut g = c.benchmark_group("process_epoch");
    g.sample_size(20);
    g.bench_function("fast", |b| b.iter_batched(|| fast_epoch.clone(), |mut s| fast.apply(&mut s, &Operation::Slots(1), BlsMode::Real).unwrap(), BatchSize::SmallInput));
    g.bench_function("spec", |b| b.iter_batched(|| spec_epoch.clone(), |mut s| spec.apply(&mut s, &Operation::Slots(1), BlsMode::Real).unwrap(), BatchSize::SmallInput));
    g.finish();

    let fast_pre = Phase0Impl::<E>::prepare(&fast, &pre).unwrap();
    let spec_pre = Phase0Impl::<E>::prepare(&spec, &pre).unwrap();
    let mut g = c.benchmark_group("state_transition_real_bls");
    g.sample_size(10);
    g.bench_function("fast", |b| b.iter_batched(|| fast_pre.clone(), |mut s| fast.apply(&mut s, &block_op, BlsMode::Real).unwrap(), BatchSize::SmallInput));
    g.bench_function("spec", |b| b.iter_batched(|| spec_pre.clone(), |mut s| spec.apply(&mut s, &block_op, BlsMode::Real).unwrap(), BatchSize::SmallInput));
    g.finish();

    // The same block without the curve work: what the caches and trees cost.
    let mut g = c.benchmark_group("state_transition_assume_valid");
    g.sample_size(10);
    g.bench_function("fast", |b| b.iter_batched(|| fast_pre.clone(), |mut s| fast.apply(&mut s, &block_op, BlsMode::AssumeValid).unwrap(), BatchSize::SmallInput));
    g.bench_function("spec", |b| b.iter_batched(|| spec_pre.clone(), |mut s| spec.apply(&mut s, &block_op, BlsMode::AssumeValid).unwrap(), BatchSize::SmallInput));
    g.finish();

    let mut g = c.benchmark_group("clone");
    g.bench_function("fast", |b| b.iter(|| fast_pre.clone()));
    g.bench_function("spec", |b| b.iter(|| spec_pre.clone()));
    g.finish();

    let mut g = c.benchmark_group("root_after_balance_change");
    let mut primed = fast_pre.clone();
    primed.state.hash_tree_root().unwrap();
    g.bench_function("fast", |b| {
        b.iter(|| {
            let mut s = primed.clone();
            *s.state.balances.get_mut(0).unwrap() += 1;
            s.state.hash_tree_root().unwrap()
        })
    });
    g.sample_size(20);
    g.bench_function("plain", |b| {
        b.iter(|| {
            let mut s = pre.clone();
            s.balances[0] += 1;
            s.tree_hash_root()
        })
    });
    g.finish();
}

criterion_group!(fast_vs_spec, benches);
criterion_main!(fast_vs_spec);
