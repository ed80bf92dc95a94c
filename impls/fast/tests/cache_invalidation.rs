//! Cache invalidation against the official vectors: every `sanity/blocks` case (both presets,
//! including slashings, exits, deposits, epoch transitions) is applied block by block with
//! `validate_result = true`, so the post-state root is checked at every step. After each step the
//! warm state (caches carried over) must equal a cold one (re-prepared from the exported plain
//! state, caches rebuilt) on the next step and across the next epoch boundaries; the final state
//! must equal the vector's `post`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects, reason = "test code")]

use diverge_fast::FastImpl;
use diverge_types::*;
use std::path::{Path, PathBuf};

mod common;
use common::{read, tests_dir};

fn meta_number(dir: &Path, key: &str) -> Option<u64> {
    let meta = std::fs::read_to_string(dir.join("meta.yaml")).ok()?;
    let at = meta.find(key)? + key.len();
    let rest = meta[at..].trim_start_matches([':', ' ']);
    rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}

fn run_preset<E: EthSpec>(root: &Path) -> usize {
    let imp = FastImpl;
    let dir = root.join(E::PRESET_BASE).join("phase0/sanity/blocks/pyspec_tests");
    let mut checked = 0;
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    for case in cases {
        let Some(post) = read::<BeaconState<E>>(&case.join("post.ssz_snappy")) else { continue };
        let pre: BeaconState<E> = read(&case.join("pre.ssz_snappy")).unwrap();
        let bls = if meta_number(&case, "bls_setting") == Some(2) { BlsMode::AssumeValid } else { BlsMode::Real };
        let count = meta_number(&case, "blocks_count").unwrap();
        let mut warm = Phase0Impl::<E>::prepare(&imp, &pre).unwrap();
        for i in 0..count {
            let block: SignedBeaconBlock<E> = read(&case.join(format!("blocks_{i}.ssz_snappy"))).unwrap();
            let op = Operation::Block { block, validate_result: true };
            let mut cold = Phase0Impl::<E>::prepare(&imp, &Phase0Impl::<E>::export(&imp, &warm)).unwrap();
            imp.apply(&mut warm, &op, bls).unwrap_or_else(|r| panic!("{}: block {i} rejected: {r}", case.display()));
            imp.apply(&mut cold, &op, bls).unwrap();
            assert_eq!(imp.export(&warm), imp.export(&cold), "{}: warm and cold caches differ after block {i}", case.display());
        }
        assert_eq!(imp.export(&warm), post, "{}: post-state", case.display());
        // Carry the warm caches across two more epoch boundaries; a cold state must agree.
        let mut cold = Phase0Impl::<E>::prepare(&imp, &post).unwrap();
        let n = 2 * E::SLOTS_PER_EPOCH;
        imp.apply(&mut warm, &Operation::Slots(n), bls).unwrap();
        imp.apply(&mut cold, &Operation::Slots(n), bls).unwrap();
        assert_eq!(imp.export(&warm), imp.export(&cold), "{}: after two epochs", case.display());
        checked += 1;
    }
    checked
}

#[test]
fn sanity_blocks_step_by_step_warm_equals_cold() {
    let root = tests_dir();
    assert!(run_preset::<MinimalSpec>(&root) >= 20);
    assert!(run_preset::<MainnetSpec>(&root) >= 15);
}
