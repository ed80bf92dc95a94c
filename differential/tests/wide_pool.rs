//! The wide pool (issue 21 item 7): the crafted states of `differential/src/pool/wide.rs` in the
//! shipped minimal pool run in both implementations and sit where their names say (checked by
//! running the spec implementation's epoch steps on them), `corpus stats` sees them, and the
//! mainnet pool, shipped as its manifest alone, is built at first use and checked against it.

use diverge::pool::{runs_in_both, stats, StatePool};
use diverge::session::default_pool_dir;
use diverge_mutators::PoolView;
use diverge_spec::SpecImpl;
use diverge_types::constants::FAR_FUTURE_EPOCH;
use diverge_types::*;

type E = MinimalSpec;

fn minimal() -> StatePool<E> {
    StatePool::<E>::load(&default_pool_dir(Preset::Minimal)).expect("the shipped minimal pool loads")
}

fn crafted<'a>(pool: &'a StatePool<E>, name: &str) -> &'a BeaconState<E> {
    let prefix = format!("crafted:{name} from ");
    let id = pool.manifest.states.iter().position(|e| e.source.starts_with(&prefix)).unwrap_or_else(|| panic!("{name} is in the pool (diverge corpus build)"));
    pool.states[id].as_ref().ok().and_then(Option::as_ref).unwrap_or_else(|| panic!("{name} loads"))
}

fn after(state: &BeaconState<E>, step: EpochStep) -> BeaconState<E> {
    let mut s = state.clone();
    SpecImpl.apply(&mut s, &Operation::Epoch(step), BlsMode::AssumeValid).unwrap_or_else(|e| panic!("{step:?}: {e:?}"));
    s
}

const WIDE: &[&str] = &[
    "registry-1024",
    "registry-4096",
    "leak-gap-5",
    "leak-gap-6",
    "leak-gap-1100-near-ejection-1024",
    "leak-gap-70-near-ejection",
    "hysteresis-grid-256",
    "slashings-many-below-cap-256",
    "slashings-many-at-cap-256",
    "slashings-many-above-cap-256",
    "exit-churn-one-short-256",
    "exit-churn-full-256",
    "deposit-tree-300-at-16",
    "deposit-tree-300-at-250",
    "deposit-tree-300-at-284",
    "deposit-tree-300-at-290",
    "deposit-tree-256-at-240",
    "deposit-tree-257-at-255",
    "eth1-votes-full",
    "eth1-votes-one-below-full",
    "attestations-previous-full",
    "attestations-both-full",
];

#[test]
fn wide_states_run_in_both_implementations() {
    let pool = minimal();
    for name in WIDE {
        runs_in_both(crafted(&pool, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn wide_states_sit_where_their_names_say() {
    let pool = minimal();
    let spe = E::SLOTS_PER_EPOCH;
    let inc = E::EFFECTIVE_BALANCE_INCREMENT;
    let active = |s: &BeaconState<E>| PoolView::new(s).active_indices(s.slot / spe).len();

    // Registries: 1,024 and 4,096 active, committees at MAX_COMMITTEES_PER_SLOT, churn above the minimum.
    for (name, n) in [("registry-1024", 1024), ("registry-4096", 4096)] {
        let s = crafted(&pool, name);
        assert_eq!(active(s), n, "{name}");
        assert_eq!(PoolView::new(s).committee_count_per_slot(s.slot / spe), Some(E::MAX_COMMITTEES_PER_SLOT), "{name}");
        assert!(n as u64 / E::CHURN_LIMIT_QUOTIENT > E::MIN_PER_EPOCH_CHURN_LIMIT, "{name}");
        // Every validator attested to the previous epoch: it is justified.
        let j = after(s, EpochStep::JustificationAndFinalization);
        assert_eq!(j.justification_bits.get(1).ok(), Some(true), "{name}: previous epoch not justified");
    }

    // Leak: at a gap of 5 no inactivity penalty, at 6 one (is_in_inactivity_leak: finality delay > 4).
    let penalty = |name: &str, v: usize| {
        let s = crafted(&pool, name);
        assert_eq!(s.slot / spe - s.finalized_checkpoint.epoch, if name == "leak-gap-5" { 5 } else { 6 }, "{name}");
        s.balances[v] - after(s, EpochStep::RewardsAndPenalties).balances[v]
    };
    // Validator 1 does not attest (one in three does): the leak adds the inactivity penalty.
    assert!(penalty("leak-gap-6", 1) > penalty("leak-gap-5", 1), "{} {}", penalty("leak-gap-6", 1), penalty("leak-gap-5", 1));

    // Near ejection after a long leak: every validator at EJECTION_BALANCE is ejected, more than the
    // churn limit at once (the exit queue spans epochs); the ones on the downward boundary reach
    // the ejection balance at this epoch's effective-balance update.
    for name in ["leak-gap-1100-near-ejection-1024", "leak-gap-70-near-ejection"] {
        let s = crafted(&pool, name);
        let gap = s.slot / spe - s.finalized_checkpoint.epoch;
        assert!(gap >= 70, "{name}: gap {gap}");
        let r = after(s, EpochStep::RegistryUpdates);
        let at_ejection: Vec<usize> = (0..s.validators.len()).filter(|&i| s.validators[i].effective_balance <= E::EJECTION_BALANCE).collect();
        assert!(!at_ejection.is_empty(), "{name}");
        assert!(at_ejection.iter().all(|&i| r.validators[i].exit_epoch != FAR_FUTURE_EPOCH), "{name}: a validator at the ejection balance was not ejected");
        let exit_epochs: std::collections::BTreeSet<u64> = at_ejection.iter().map(|&i| r.validators[i].exit_epoch).collect();
        if at_ejection.len() as u64 > E::MIN_PER_EPOCH_CHURN_LIMIT.max(s.validators.len() as u64 / E::CHURN_LIMIT_QUOTIENT) {
            assert!(exit_epochs.len() > 1, "{name}: {} ejections in one exit epoch", at_ejection.len());
        }
        let mut penalised = after(s, EpochStep::RewardsAndPenalties);
        SpecImpl.apply(&mut penalised, &Operation::Epoch(EpochStep::EffectiveBalanceUpdates), BlsMode::AssumeValid).unwrap();
        let down = inc / E::HYSTERESIS_QUOTIENT * E::HYSTERESIS_DOWNWARD_MULTIPLIER;
        // Non-attesters (an attester's leak penalties cancel with its rewards at inclusion delay 1).
        let on_boundary: Vec<usize> = (0..s.validators.len()).filter(|&i| i % 3 != 0 && s.validators[i].effective_balance == E::EJECTION_BALANCE + inc && s.balances[i] + down == s.validators[i].effective_balance).collect();
        assert!(!on_boundary.is_empty(), "{name}");
        assert!(on_boundary.iter().all(|&i| penalised.validators[i].effective_balance == E::EJECTION_BALANCE), "{name}: the boundary class did not reach the ejection balance");
    }

    // Hysteresis: at each threshold the effective balance moves one Gwei past it and not on it.
    let s = crafted(&pool, "hysteresis-grid-256");
    let u = after(s, EpochStep::EffectiveBalanceUpdates);
    let (down, up) = (inc / E::HYSTERESIS_QUOTIENT * E::HYSTERESIS_DOWNWARD_MULTIPLIER, inc / E::HYSTERESIS_QUOTIENT * E::HYSTERESIS_UPWARD_MULTIPLIER);
    let (mut moved_down, mut held_down, mut moved_up, mut held_up) = (0, 0, 0, 0);
    for i in 0..s.validators.len() {
        let (e, b, after) = (s.validators[i].effective_balance, s.balances[i], u.validators[i].effective_balance);
        if b + down + 1 == e {
            assert_ne!(after, e, "validator {i}: one Gwei past the downward threshold");
            moved_down += 1;
        } else if b + down == e {
            assert_eq!(after, e, "validator {i}: on the downward threshold");
            held_down += 1;
        } else if e + up + 1 == b && e < E::MAX_EFFECTIVE_BALANCE {
            assert_ne!(after, e, "validator {i}: one Gwei past the upward threshold");
            moved_up += 1;
        } else if e + up == b {
            assert_eq!(after, e, "validator {i}: on the upward threshold");
            held_up += 1;
        }
    }
    assert!(moved_down >= 7 && held_down >= 7 && moved_up >= 7 && held_up >= 8, "{moved_down} {held_down} {moved_up} {held_up}");

    // Many slashed validators around the proportional cap: below it the penalty is smaller, at and
    // above it the same.
    let slashing_penalty = |name: &str| {
        let s = crafted(&pool, name);
        assert!(s.validators.iter().filter(|v| v.slashed).count() >= 16, "{name}");
        let before: u64 = s.balances.iter().sum();
        before - after(s, EpochStep::Slashings).balances.iter().sum::<u64>()
    };
    let (below, at, above) = (slashing_penalty("slashings-many-below-cap-256"), slashing_penalty("slashings-many-at-cap-256"), slashing_penalty("slashings-many-above-cap-256"));
    assert!(below < at && at == above && below > 0, "penalties {below} {at} {above}");

    // Exit churn of a 256 registry (8 per epoch on minimal, above the minimum of 4): one short, the
    // next exit takes the queue epoch; full, the one after.
    for (name, delay) in [("exit-churn-one-short-256", 0u64), ("exit-churn-full-256", 1)] {
        let state = crafted(&pool, name);
        let view = PoolView::new(state);
        let v = view.exitable()[0];
        let mut s = state.clone();
        let exit = SignedVoluntaryExit { message: VoluntaryExit { epoch: view.current_epoch(), validator_index: v }, signature: Default::default() };
        SpecImpl.apply(&mut s, &Operation::VoluntaryExit(exit), BlsMode::AssumeValid).unwrap();
        assert_eq!(s.validators[v as usize].exit_epoch, view.current_epoch() + 5 + delay, "{name}");
        assert_eq!(state.validators.iter().filter(|v| v.exit_epoch == view.current_epoch() + 5).count() as u64, 256 / E::CHURN_LIMIT_QUOTIENT - 1 + delay, "{name}");
    }

    // Deposits: more than MAX_DEPOSITS outstanding, exactly MAX_DEPOSITS, fewer, across 256.
    for (name, outstanding) in [("deposit-tree-300-at-16", 284), ("deposit-tree-300-at-250", 50), ("deposit-tree-300-at-284", 16), ("deposit-tree-300-at-290", 10), ("deposit-tree-256-at-240", 16), ("deposit-tree-257-at-255", 2)] {
        let s = crafted(&pool, name);
        assert_eq!(s.eth1_data.deposit_count - s.eth1_deposit_index, outstanding, "{name}");
        let tree = PoolView::new(s).deposit_tree().unwrap_or_else(|| panic!("{name}: the generator knows its tree"));
        // The next deposit is valid (spec), whatever its kind.
        let mut post = s.clone();
        SpecImpl.apply(&mut post, &Operation::Deposit(tree.deposit(s.eth1_deposit_index).unwrap()), BlsMode::AssumeValid).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(post.eth1_deposit_index, s.eth1_deposit_index + 1);
    }

    // Full lists.
    let period = (E::EPOCHS_PER_ETH1_VOTING_PERIOD * spe) as usize;
    assert_eq!(crafted(&pool, "eth1-votes-full").eth1_data_votes.len(), period);
    assert_eq!(crafted(&pool, "eth1-votes-one-below-full").eth1_data_votes.len(), period - 1);
    let limit = (E::MAX_ATTESTATIONS * spe) as usize;
    assert_eq!(crafted(&pool, "attestations-previous-full").previous_epoch_attestations.len(), limit);
    let both = crafted(&pool, "attestations-both-full");
    assert_eq!((both.previous_epoch_attestations.len(), both.current_epoch_attestations.len()), (limit, limit));
}

#[test]
fn corpus_stats_sees_the_wide_pool() {
    let s = stats::pool_stats(&minimal());
    assert!(s.unavailable.is_empty(), "{:?}", s.unavailable);
    assert!(s.states.iter().any(|x| x.active >= 4096));
    assert!(s.states.iter().filter(|x| x.active >= 1024).count() >= 3);
    assert!(s.states.iter().any(|x| x.finality_gap >= 1024));
    assert!(s.states.iter().any(|x| x.outstanding_deposits > E::MAX_DEPOSITS));
    assert!(s.states.iter().any(|x| x.previous_attestations == s.pending_limit && x.current_attestations == s.pending_limit));
    assert!(s.states.iter().any(|x| x.eth1_votes == s.votes_limit));
    // The table's rows partition the pool per metric.
    let counts = stats::bucket_counts(&s);
    for metric in ["active validators", "epoch", "finality gap", "outstanding deposits"] {
        let total: usize = stats::BUCKETS.iter().zip(&counts).filter(|((m, ..), _)| *m == metric).map(|(_, n)| n).sum();
        assert_eq!(total, s.states.len(), "{metric}");
    }
}

/// The shipped mainnet manifest: a copy of it alone in a directory is built at first use into a
/// pool whose every state loads with the manifest's root; with one root changed, the rebuild is
/// refused and every state is unavailable, naming the difference.
#[test]
fn mainnet_pool_is_built_at_first_use_and_checked_against_its_manifest() {
    let shipped = default_pool_dir(Preset::Mainnet).join("manifest.json");
    let text = std::fs::read_to_string(&shipped).expect("the mainnet manifest is shipped");
    let tmp = tempfile::tempdir().expect("tmp");
    let good = tmp.path().join("good");
    std::fs::create_dir_all(&good).unwrap();
    std::fs::write(good.join("manifest.json"), &text).unwrap();
    let pool = diverge::pool::load::<MainnetSpec>(&good).expect("loads");
    assert!(pool.manifest.built_at_first_use);
    for id in 0..pool.len() {
        pool.available(id).unwrap_or_else(|e| panic!("state {id}: {e}"));
    }
    assert!(pool.len() >= 40, "{} mainnet states", pool.len());

    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let last = manifest["states"].as_array().unwrap().len() - 1;
    manifest["states"][last]["root"] = serde_json::Value::String(format!("0x{}", "00".repeat(32)));
    std::fs::write(bad.join("manifest.json"), serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let pool = diverge::pool::load::<MainnetSpec>(&bad).expect("the manifest itself loads");
    let reason = pool.available(0).expect_err("nothing was moved into place");
    assert!(reason.contains("differs from") && reason.contains(&format!("state {last}")), "{reason}");
    let left: std::collections::BTreeSet<String> = std::fs::read_dir(&bad).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, ["manifest.json".to_string(), ".first-use.lock".to_string()].into_iter().collect(), "only the manifest and the builders' lock are left");
}
