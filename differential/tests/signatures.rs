//! Signatures name the cause (issue 12 item 6): after a slot, the derived roots (`state_roots[]`,
//! `block_roots[]`, `latest_block_header.state_root`) differ first in field order whatever the real
//! difference was, so a signature naming the first differing field would give every epoch bug one
//! signature and deduplication would hide the second behind the first.
//!
//! Two epoch-processing bugs are simulated on a real pool state through `slots`: the spec mirror
//! runs `process_slots` to the epoch boundary, the "bug" then corrupts one field, as a wrong
//! `process_effective_balance_updates` or `process_rewards_and_penalties` would, and the remaining
//! slots run on the corrupted state (so every later state root differs too).

use diverge::pool::StatePool;
use diverge::runner::{compare, ImplVerdict, Verdict};
use diverge::session::default_pool_dir;
use diverge::target::{Strictness, Target};
use diverge_types::*;

type E = MinimalSpec;

/// The spec mirror's post-state after `slots` slots from `pre`, with `bug` applied to the state
/// right after the first epoch transition.
fn run(pre: &BeaconState<E>, slots: u64, bug: Option<fn(&mut BeaconState<E>)>) -> BeaconState<E> {
    let spec = diverge_spec::SpecImpl;
    let mut state = Phase0Impl::<E>::prepare(&spec, pre).expect("pool state prepares");
    let to_boundary = E::SLOTS_PER_EPOCH - state.slot % E::SLOTS_PER_EPOCH;
    spec.apply(&mut state, &Operation::Slots(to_boundary), BlsMode::AssumeValid).expect("slots to the boundary");
    let mut plain = spec.export_owned(state);
    if let Some(bug) = bug {
        bug(&mut plain);
    }
    let mut state = Phase0Impl::<E>::prepare(&spec, &plain).expect("re-prepares");
    spec.apply(&mut state, &Operation::Slots(slots - to_boundary), BlsMode::AssumeValid).expect("remaining slots");
    spec.export_owned(state)
}

fn effective_balance_bug(s: &mut BeaconState<E>) {
    s.validators[1].effective_balance -= 1_000_000_000;
}

fn balance_bug(s: &mut BeaconState<E>) {
    s.balances[2] += 1;
}

#[test]
fn two_epoch_bugs_through_slots_give_two_signatures_naming_their_fields() {
    let pool = StatePool::<E>::load(&default_pool_dir(Preset::Minimal)).expect("the shipped minimal pool loads");
    let pre = pool.states.iter().find_map(|s| s.as_ref().ok().and_then(Option::as_ref).filter(|s| s.validators.len() > 2)).expect("a pool state with validators").clone();
    let slots = E::SLOTS_PER_EPOCH + 2;
    let good = run(&pre, slots, None);
    let mut signatures = Vec::new();
    for (bug, field) in [(effective_balance_bug as fn(&mut BeaconState<E>), "validators[].effective_balance"), (balance_bug, "balances[]")] {
        let bad = run(&pre, slots, Some(bug));
        let verdicts = [
            ImplVerdict { name: "spec", version: "0", verdict: Verdict::Valid(Box::new(good.clone())), rejected_block: None },
            ImplVerdict { name: "fast", version: "0", verdict: Verdict::Valid(Box::new(bad)), rejected_block: None },
        ];
        let d = compare(Target::Slots, Strictness::Reason, &verdicts).expect("the bug diverges");
        // Every differing field is listed, the derived roots first in field order ...
        let paths: Vec<&str> = d.diffs.iter().map(|f| f.path.as_str()).collect();
        assert!(paths.first().is_some_and(|p| p.starts_with("latest_block_header.state_root") || p.starts_with("block_roots") || p.starts_with("state_roots")), "{paths:?}");
        assert!(paths.iter().any(|p| p.starts_with("state_roots[")), "{paths:?}");
        // ... but the signature names the cause.
        assert_eq!(d.signature, format!("slots: spec-vs-fast: valid/valid@{field}"));
        signatures.push(d.signature);
    }
    assert_ne!(signatures[0], signatures[1]);
}
