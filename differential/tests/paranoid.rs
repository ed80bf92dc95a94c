//! Batch-verification seeds and paranoid mode on real input:
//! - every `sanity/blocks` step of both presets, through every implementation, passes the
//!   runner's paranoid check (the shared export equals the full copy);
//! - a paranoid session with real BLS over the shipped block corpus agrees with a plain one under
//!   another batch seed, verdict for verdict, and again under the same seed (replay is exact);
//! - findings record the batch seed, replay reads it back, and a finding recorded before the
//!   field existed still loads.

use diverge::findings::{self, Context, FindingStore, RecordedState, RecordedVerdict};
use diverge::registry::{visit_implementations, Visitor};
use diverge::replay::{parse_batch_seed, ReplaySpec};
use diverge::runner::{paranoid_export, Divergence, ParanoidMismatch, RunnerConfig};
use diverge::session::{default_corpus_dir, default_pool_dir, Outcome, Session};
use diverge::target::{Strictness, Target};
use diverge::vectors::files::{read_ssz, read_ssz_opt};
use diverge_types::*;
use std::path::{Path, PathBuf};

/// Runs every `sanity/blocks` case with a post-state through one implementation, checking each
/// step's export; returns the number of checked steps.
struct EveryStep<'a> {
    root: &'a Path,
    steps: Vec<(&'static str, usize)>,
}

impl<E: EthSpec> Visitor<E> for EveryStep<'_> {
    fn visit<I: Phase0Impl<E> + 'static>(&mut self, imp: I) {
        let dir = self.root.join(E::PRESET_BASE).join("phase0/sanity/blocks/pyspec_tests");
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        cases.sort();
        let mut steps = 0;
        let check = |state: &I::State, what: &str| {
            let full = imp.export(state);
            match paranoid_export(&imp, state.clone()) {
                Ok(shared) => assert_eq!(shared, full, "{what}: paranoid_export returned another state"),
                Err(diff) => panic!("{what}: {}: shared export differs from the full copy: {diff}", imp.name()),
            }
        };
        for case in cases {
            if !case.join("post.ssz_snappy").exists() {
                continue;
            }
            let pre: BeaconState<E> = read_ssz(&case.join("pre.ssz_snappy")).unwrap();
            let mut state = imp.prepare(&pre).unwrap();
            for i in 0.. {
                let Some(block) = read_ssz_opt::<SignedBeaconBlock<E>>(&case.join(format!("blocks_{i}.ssz_snappy"))).unwrap() else { break };
                let what = format!("{}: block {i}", case.display());
                imp.apply(&mut state, &Operation::Block { block, validate_result: true }, BlsMode::AssumeValid).unwrap_or_else(|r| panic!("{what}: {r:?}"));
                check(&state, &what);
                steps += 1;
            }
            imp.apply(&mut state, &Operation::Slots(2 * E::SLOTS_PER_EPOCH), BlsMode::AssumeValid).unwrap();
            check(&state, &format!("{}: two more epochs", case.display()));
            steps += 1;
        }
        self.steps.push((imp.name(), steps));
    }
}

#[test]
fn every_sanity_blocks_step_passes_the_paranoid_check() {
    // The one lookup every vector test uses: fails, listing the paths tried, without vectors.
    let root = diverge_test_vectors::require();
    let mut minimal = EveryStep { root: &root, steps: Vec::new() };
    visit_implementations::<MinimalSpec>(&mut minimal);
    let mut mainnet = EveryStep { root: &root, steps: Vec::new() };
    visit_implementations::<MainnetSpec>(&mut mainnet);
    eprintln!("minimal {:?}, mainnet {:?}", minimal.steps, mainnet.steps);
    assert!(minimal.steps.iter().any(|(n, _)| *n == "fast"), "fast is registered");
    assert!(minimal.steps.iter().all(|(_, s)| *s > 50) && mainnet.steps.iter().all(|(_, s)| *s > 20), "too few steps");
}

fn block_inputs() -> Vec<Vec<u8>> {
    let dir = default_corpus_dir(Preset::Minimal, Target::Block);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files.iter().filter(|f| f.file_name().is_some_and(|n| n != "PROVENANCE")).map(|f| std::fs::read(f).unwrap()).collect()
}

fn verdicts(session: &Session, input: &[u8]) -> Option<Vec<RecordedVerdict>> {
    match session.run(Target::Block, input) {
        Outcome::Agreed { verdicts, .. } => Some(verdicts),
        Outcome::Diverged { divergence, verdicts, .. } => panic!("divergence {}: {verdicts:?}", divergence.signature),
        Outcome::Undecodable(_) | Outcome::StateUnavailable(_) => None,
    }
}

#[test]
fn paranoid_real_bls_sessions_agree_under_any_seed_and_repeat_under_the_same() {
    let pool = default_pool_dir(Preset::Minimal);
    let config = |seed: u8, paranoid: bool| RunnerConfig { bls: BlsMode::Real, batch_seed: [seed; 32], paranoid, ..RunnerConfig::default() };
    let paranoid = Session::new(Preset::Minimal, &pool, config(1, true)).unwrap();
    let again = Session::new(Preset::Minimal, &pool, config(1, true)).unwrap();
    let plain = Session::new(Preset::Minimal, &pool, config(2, false)).unwrap();
    let (mut ran, mut valid, mut rejected) = (0, 0, 0);
    for input in block_inputs() {
        let Some(v) = verdicts(&paranoid, &input) else { continue };
        assert!(v.iter().all(|r| r.reason.as_deref() != Some("Internal")), "paranoid check failed: {v:?}");
        assert_eq!(Some(&v), verdicts(&again, &input).as_ref(), "same seed, other verdicts");
        assert_eq!(Some(&v), verdicts(&plain, &input).as_ref(), "other seed or no paranoia, other verdicts");
        ran += 1;
        if v.iter().all(|r| r.kind == "valid") {
            valid += 1;
        } else {
            rejected += 1;
        }
    }
    eprintln!("{ran} block inputs: {valid} valid, {rejected} rejected");
    assert!(ran > 20 && valid > 0 && rejected > 0, "{ran} inputs, {valid} valid, {rejected} rejected");
}

fn record(store: &FindingStore, bls: BlsMode, seed: [u8; 32], message: Option<String>) -> PathBuf {
    let ctx = Context {
        target: Target::Block,
        bls,
        strictness: Strictness::Reason,
        pool_dir: &default_pool_dir(Preset::Minimal),
        state: RecordedState { id: 0, root: String::new(), source: String::new() },
        engine: "test",
        batch_seed: Some(seed),
    };
    let verdict = |implementation: &str, reason: &str, message: Option<String>| RecordedVerdict {
        implementation: implementation.into(),
        version: "0".into(),
        kind: "invalid".into(),
        reason: Some(reason.into()),
        message,
        post_root: None,
        rejected_block: None,
    };
    let signature = format!("block: spec-vs-fast: InvalidRandaoReveal/Internal ({})", bls.name());
    let divergence = Divergence { signature, majority: vec![], groups: vec![vec!["spec".into()], vec!["fast".into()]], diff: None, diffs: vec![], known: None };
    let verdicts = vec![verdict("spec", "InvalidRandaoReveal", None), verdict("fast", "Internal", message)];
    store.record_verdicts(&ctx, "minimal", b"\x00\x00input", verdicts, &divergence).unwrap().0
}

#[test]
fn findings_record_the_batch_seed_and_replay_reuses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore { root: tmp.path().to_path_buf() };
    let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).unwrap());

    // Real BLS: the seed is in finding.json and the replay's runner uses it.
    let dir = record(&store, BlsMode::Real, seed, None);
    let (finding, _, _) = findings::load(&dir).unwrap();
    assert_eq!(finding.batch_seed.as_deref(), Some(hex::encode(seed).as_str()));
    let spec = ReplaySpec::from_finding(&dir).unwrap();
    assert_eq!(spec.batch_seed, Some(seed));
    assert!(!spec.paranoid);
    assert_eq!(spec.session().unwrap().config.batch_seed, seed);

    // Assume-valid: no batch, no seed recorded.
    let dir = record(&store, BlsMode::AssumeValid, seed, None);
    assert_eq!(findings::load(&dir).unwrap().0.batch_seed, None);

    // A paranoid mismatch recorded in a verdict turns paranoid on for the replay.
    let message = format!("{}balances[3]: 1 != 2", ParanoidMismatch::PREFIX);
    let tmp2 = tempfile::tempdir().unwrap();
    let dir = record(&FindingStore { root: tmp2.path().to_path_buf() }, BlsMode::Real, seed, Some(message));
    assert!(ReplaySpec::from_finding(&dir).unwrap().paranoid);

    // A finding written before the field existed loads; a malformed seed names the field.
    let json = dir.join("finding.json");
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("batch_seed");
    std::fs::write(&json, serde_json::to_string(&value).unwrap()).unwrap();
    assert_eq!(ReplaySpec::from_finding(&dir).unwrap().batch_seed, None);
    value.as_object_mut().unwrap().insert("batch_seed".into(), "abcd".into());
    std::fs::write(&json, serde_json::to_string(&value).unwrap()).unwrap();
    let err = ReplaySpec::from_finding(&dir).unwrap_err().to_string();
    assert!(err.contains("batch_seed") && err.contains("finding.json"), "{err}");

    assert_eq!(parse_batch_seed(&format!("0x{}", hex::encode(seed))), Ok(seed));
    assert!(parse_batch_seed("zz").is_err() && parse_batch_seed("abcd").is_err());
}
