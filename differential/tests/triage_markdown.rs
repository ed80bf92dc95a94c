//! `diverge triage --markdown`: the report a maintainer pastes into an upstream issue, on a real
//! known-hazard finding (`diverge run` on a shipped DKG seed) and on findings written through
//! `FindingStore` (a judged culprit with a field diff and a large input; an unjudged pair).

use diverge::diff::FieldDiff;
use diverge::findings::{Context, FindingStore, RecordedState, RecordedVerdict};
use diverge::runner::Divergence;
use diverge::target::{Strictness, Target};
use diverge_types::BlsMode;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("diverge-triage-md-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn triage_markdown(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_diverge")).args(["triage", "--markdown"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "triage --markdown failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn known_hazard_from_a_dkg_seed_is_listed_apart_with_its_reference() {
    let dir = scratch("known");
    let seed = repo().join("corpora/dkg_packet/proposal-at-left.bin");
    let out = Command::new(env!("CARGO_BIN_EXE_diverge"))
        .args(["run", "--target", "dkg_packet", "--findings"])
        .arg(&dir)
        .arg(&seed)
        .output()
        .unwrap();
    assert!(dir.join("dkg_packet").is_dir(), "diverge run wrote no finding: {}", String::from_utf8_lossy(&out.stderr));
    let md = triage_markdown(&dir);
    let input = std::fs::read(&seed).unwrap();
    assert!(md.contains("0 new signature(s), 0 finding(s); 1 known upstream hazard(s), 1 finding(s)."), "{md}");
    assert!(md.contains("### Known upstream hazards"), "{md}");
    assert!(!md.contains("### New findings"), "{md}");
    assert!(md.contains("known upstream hazard `NilDereference`: drand/drand@f45e7e04"), "{md}");
    assert!(md.contains("#### `dkg_packet: "), "{md}");
    // The DKG step diff spans lines: it is fenced, not inlined.
    assert!(md.contains("- first differing field: `step 0`:\n\n  ```text\n  step 0: drand="), "{md}");
    // Two DKG implementations: no majority, so no culprit is named.
    assert!(md.contains("- culprit: not judged (2 implementations, no majority)"), "{md}");
    assert!(md.contains(&format!("{} bytes, SHA-256 `{}`", input.len(), hex::encode(diverge_types::hash(&input)))), "{md}");
    assert!(md.contains(&hex::encode(&input[..32])), "{md}");
    assert!(md.contains("- replay: `diverge replay "), "{md}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn verdict(implementation: &str, kind: &str, reason: Option<&str>) -> RecordedVerdict {
    RecordedVerdict {
        implementation: implementation.into(),
        version: "0.1.0".into(),
        kind: kind.into(),
        reason: reason.map(Into::into),
        message: None,
        post_root: (kind == "valid").then(|| "ab".repeat(32)),
        rejected_block: None,
    }
}

#[test]
fn culprit_field_diff_and_truncated_hex_of_a_recorded_finding() {
    let dir = scratch("new");
    let store = FindingStore { root: dir.clone() };
    let pool = PathBuf::from("corpora/states/minimal");
    let ctx = Context {
        target: Target::Block,
        bls: BlsMode::AssumeValid,
        strictness: Strictness::Outcome,
        pool_dir: &pool,
        state: RecordedState { id: 3, root: "cd".repeat(32), source: "sanity/blocks/pyspec_tests/x".into() },
        engine: "test",
        batch_seed: None,
    };
    // Three implementations, two agree: the odd one out is the culprit.
    let big: Vec<u8> = (0..2000u32).map(|i| (i % 253) as u8).collect();
    let judged = Divergence {
        signature: "block: spec-vs-fast: valid/valid: balances".into(),
        majority: vec!["spec".into(), "third".into()],
        groups: vec![vec!["spec".into(), "third".into()], vec!["fast".into()]],
        diff: Some(FieldDiff { path: "balances[5]".into(), left: "32000000000".into(), right: "31000000000".into() }),
        diffs: vec![FieldDiff { path: "balances[5]".into(), left: "32000000000".into(), right: "31000000000".into() }],
        known: None,
    };
    let verdicts = vec![verdict("spec", "valid", None), verdict("fast", "valid", None), verdict("third", "valid", None)];
    store.record_verdicts(&ctx, "minimal", &big, verdicts, &judged).unwrap();
    // Two implementations disagreeing: not judged.
    let pair = Divergence {
        signature: "block: spec-vs-fast: valid/invalid".into(),
        majority: Vec::new(),
        groups: vec![vec!["spec".into()], vec!["fast".into()]],
        diff: None,
        diffs: Vec::new(),
        known: None,
    };
    store.record_verdicts(&ctx, "minimal", &[1, 2, 3], vec![verdict("spec", "valid", None), verdict("fast", "invalid", Some("BadSignature"))], &pair).unwrap();

    let md = triage_markdown(&dir);
    assert!(md.contains("2 new signature(s), 2 finding(s); 0 known upstream hazard(s), 0 finding(s)."), "{md}");
    assert!(!md.contains("Known upstream hazards"), "{md}");
    assert!(md.contains("#### `block: spec-vs-fast: valid/valid: balances`"), "{md}");
    assert!(md.contains("- culprit: `fast` (majority: `spec`, `third`)"), "{md}");
    assert!(md.contains("- first differing field: `balances[5]`: `32000000000` != `31000000000`"), "{md}");
    assert!(md.contains(&format!("2000 bytes, SHA-256 `{}`", hex::encode(diverge_types::hash(&big)))), "{md}");
    assert!(md.contains(&format!("... {} bytes omitted ...", 2000 - diverge::report::HEX_HEAD - diverge::report::HEX_TAIL)), "{md}");
    assert!(!md.contains(&hex::encode(&big[300..332])), "the middle of a big input is not printed: {md}");
    assert!(md.contains("- culprit: not judged (2 implementations, no majority)"), "{md}");
    assert!(md.contains("- `fast` 0.1.0: invalid (BadSignature)"), "{md}");
    assert!(md.contains("- first differing field: none"), "{md}");
    assert!(md.contains("```\n010203\n```"), "{md}");
    // A minimized input, when present, is the one shown.
    let judged_dir = store.dir_for(Target::Block, "block: spec-vs-fast: valid/valid: balances");
    std::fs::write(judged_dir.join("minimized.bin"), [0xde, 0xad]).unwrap();
    let md = triage_markdown(&dir);
    assert!(md.contains("minimized input (`minimized.bin`): 2 bytes"), "{md}");
    assert!(md.contains("```\ndead\n```"), "{md}");
    std::fs::remove_dir_all(&dir).unwrap();
}
