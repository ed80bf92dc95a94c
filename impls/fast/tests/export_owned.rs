//! The runner's export (`Phase0Impl::export_owned`) against the full copy (`export`), on the
//! official `sanity/blocks` vectors of both presets: after every block, and after two more epochs
//! of slots, the shared export must equal the full one, and each list or vector field must share
//! the prepared base's allocation exactly when it is unchanged from the base. A field wrongly
//! shared would hide a post-state difference from the comparison; a field wrongly copied would
//! only cost time, and is caught too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects, reason = "test code")]

use diverge_fast::FastImpl;
use diverge_types::*;
use std::path::{Path, PathBuf};

mod common;
use common::{read, tests_dir};

/// Checks one post-state; returns how many fields were shared.
fn check<E: EthSpec>(imp: &FastImpl, state: &diverge_fast::state::FastState<E>, base: &BeaconState<E>, what: &str) -> usize {
    let full = imp.export(state);
    let shared = imp.export_owned(state.clone());
    assert_eq!(shared, full, "{what}: export_owned differs from export");
    let mut n = 0;
    macro_rules! fields {
        ($($f:ident),*) => {$(
            let same_value = *shared.$f == *base.$f;
            let same_alloc = Shared::ptr_eq(&shared.$f, &base.$f);
            assert_eq!(same_alloc, same_value, "{what}: {} shared={same_alloc} but unchanged={same_value}", stringify!($f));
            n += usize::from(same_alloc);
        )*};
    }
    fields!(block_roots, state_roots, historical_roots, eth1_data_votes, validators, balances, randao_mixes, slashings,
        previous_epoch_attestations, current_epoch_attestations);
    n
}

fn run_preset<E: EthSpec>(root: &Path) -> (usize, usize) {
    let imp = FastImpl;
    let dir = root.join(E::PRESET_BASE).join("phase0/sanity/blocks/pyspec_tests");
    let (mut steps, mut shared) = (0, 0);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    for case in cases {
        if !case.join("post.ssz_snappy").exists() {
            continue;
        }
        let pre: BeaconState<E> = read(&case.join("pre.ssz_snappy")).unwrap();
        let mut state = Phase0Impl::<E>::prepare(&imp, &pre).unwrap();
        let base = state.base.clone().expect("a prepared state has its base");
        shared += check(&imp, &state, &base, &format!("{}: prepared", case.display()));
        for i in 0.. {
            let Some(block) = read::<SignedBeaconBlock<E>>(&case.join(format!("blocks_{i}.ssz_snappy"))) else { break };
            imp.apply(&mut state, &Operation::Block { block, validate_result: false }, BlsMode::AssumeValid).unwrap();
            shared += check(&imp, &state, &base, &format!("{}: block {i}", case.display()));
            steps += 1;
        }
        imp.apply(&mut state, &Operation::Slots(2 * E::SLOTS_PER_EPOCH), BlsMode::AssumeValid).unwrap();
        shared += check(&imp, &state, &base, &format!("{}: two more epochs", case.display()));
        steps += 1;
    }
    (steps, shared)
}

#[test]
fn export_owned_shares_exactly_the_unchanged_fields() {
    let root = tests_dir();
    let (steps, shared) = run_preset::<MinimalSpec>(&root);
    let (m_steps, m_shared) = run_preset::<MainnetSpec>(&root);
    eprintln!("minimal: {steps} steps, {shared} shared fields; mainnet: {m_steps} steps, {m_shared} shared fields");
    assert!(steps > 50 && m_steps > 20, "too few vector steps ({steps}, {m_steps})");
    assert!(shared > steps && m_shared > m_steps, "sharing never happened");
}

/// `patched` rebuilds a changed vector from the base only when that reproduces the tree's root:
/// a write outside the candidate entries is never hidden (it falls back to the full copy).
#[test]
fn patched_vector_is_exact_or_refused() {
    use diverge_types::ssz_types::{typenum::U8192, FixedVector};
    let values: Vec<Root> = (0..8192u64).map(|i| Root::left_padding_from(&i.to_be_bytes())).collect();
    let base: Shared<FixedVector<Root, U8192>> = Shared::new(FixedVector::new(values.clone()).unwrap());
    base.tree_hash_root();
    let mut tree = milhouse::Vector::<Root, U8192>::new(values).unwrap();
    *tree.get_mut(100).unwrap() = Root::repeat_byte(1);
    *tree.get_mut(5000).unwrap() = Root::repeat_byte(2);
    tree.apply_updates().unwrap();
    let root = tree.tree_hash_root();
    let out = diverge_fast::state::patched(root, &base, &tree, [100usize, 5000, 7].into_iter()).expect("every write is a candidate");
    assert_eq!(out.to_vec(), tree.to_vec());
    assert_eq!(out.tree_hash_root(), root);
    assert!(diverge_fast::state::patched(root, &base, &tree, [100usize].into_iter()).is_none(), "the write at 5000 is not a candidate");
    assert_eq!(base[100], Root::left_padding_from(&100u64.to_be_bytes()), "the base is untouched");
}
