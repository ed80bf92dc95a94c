//! The findings store is crash-consistent and exclusive (issue 21 item 1): a finding directory
//! appears whole or not at all, two writers of one signature land exactly one directory, and what a
//! kill leaves behind is never read as a finding.

use diverge::findings::{self, Context, FindingStore, RecordedState, RecordedVerdict, STAGING_PREFIX};
use diverge::runner::Divergence;
use diverge::target::{Strictness, Target};
use diverge_types::BlsMode;
use std::path::Path;
use std::sync::{Arc, Barrier};

const SIGNATURE: &str = "attestation: spec-vs-fast: valid/crash";

fn divergence() -> Divergence {
    Divergence { signature: SIGNATURE.into(), majority: vec![], groups: vec![vec!["spec".into()], vec!["fast".into()]], diff: None, diffs: vec![], known: None }
}

fn record(store: &FindingStore, input: &[u8]) -> (std::path::PathBuf, bool) {
    let ctx = Context {
        target: Target::Attestation,
        bls: BlsMode::AssumeValid,
        strictness: Strictness::Reason,
        pool_dir: Path::new("corpora/pool/minimal"),
        state: RecordedState { id: 0, root: String::new(), source: String::new() },
        engine: "test",
        batch_seed: None,
    };
    let verdict = RecordedVerdict { implementation: "fast".into(), version: "0".into(), kind: "crash".into(), reason: None, message: Some("boom".into()), post_root: None, rejected_block: None };
    store.record_verdicts(&ctx, "minimal", input, vec![verdict], &divergence()).expect("record")
}

/// Eight writers of one signature at once, each with its own input, twenty rounds: exactly one
/// reports the finding as new, and the directory's `input.bin` is the one its `finding.json`
/// describes (before the staging rename, per-process temp names let threads and processes
/// interleave their files and every racer reported "new").
#[test]
fn concurrent_writers_of_one_signature_land_exactly_one_whole_finding() {
    for round in 0..20u8 {
        let tmp = tempfile::tempdir().unwrap();
        let store = FindingStore { root: tmp.path().to_path_buf() };
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8u8)
            .map(|i| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    record(&store, &vec![i; 4096 + usize::from(i)]).1
                })
            })
            .collect();
        let created = handles.into_iter().map(|h| h.join().unwrap()).filter(|&c| c).count();
        assert_eq!(created, 1, "round {round}: {created} writers reported the finding as new");
        let listing = findings::list(tmp.path());
        assert_eq!(listing.findings.len(), 1, "round {round}: {listing:?}");
        assert!(listing.incomplete.is_empty(), "round {round}: {listing:?}");
        let (finding, input, _) = findings::load(&listing.findings[0]).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(finding.signature, SIGNATURE);
        assert!(input.iter().all(|&b| b == input[0]) && input.len() == 4096 + usize::from(input[0]), "round {round}: mixed input");
        // Nothing left behind but the one directory.
        let left: Vec<_> = std::fs::read_dir(tmp.path().join("attestation")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "round {round}: {left:?}");
    }
}

/// What a kill leaves: a staging directory (hidden from every reader, removed once its process is
/// gone) and, from a version that wrote in place, a directory without `finding.json` (reported by
/// triage with its path, never loaded, and moved aside when the signature is recorded again).
#[test]
fn leftovers_of_a_kill_are_skipped_reported_and_cleaned() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FindingStore { root: tmp.path().to_path_buf() };
    let target_dir = tmp.path().join("attestation");
    // A staging directory of a dead process (pid 2^31 - 1 does not run) and one of this process.
    let dead = target_dir.join(format!("{STAGING_PREFIX}00aa-2147483647-0"));
    let live = target_dir.join(format!("{STAGING_PREFIX}00bb-{}-0", std::process::id()));
    for d in [&dead, &live] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("input.bin"), b"half").unwrap();
    }
    // An in-place directory with input.bin and no finding.json, at the signature's own path.
    let legacy = store.dir_for(Target::Attestation, SIGNATURE);
    std::fs::create_dir_all(&legacy).unwrap();
    std::fs::write(legacy.join("input.bin"), b"half").unwrap();

    let listing = findings::list(tmp.path());
    assert!(listing.findings.is_empty(), "{listing:?}");
    assert_eq!(listing.incomplete, vec![legacy.clone()]);
    let (groups, errors) = diverge::replay::triage(tmp.path());
    assert!(groups.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains(&legacy.display().to_string()) && errors[0].contains("incomplete"), "{errors:?}");

    assert_eq!(store.clean_staging(), 1);
    assert!(!dead.exists() && live.exists());

    let (dir, created) = record(&store, b"whole");
    assert!(created && dir == legacy);
    let (_, input, _) = findings::load(&dir).unwrap();
    assert_eq!(input, b"whole");
    let listing = findings::list(tmp.path());
    assert_eq!(listing.findings.len(), 1);
    // The moved-aside directory is still reported, not silently dropped.
    assert_eq!(listing.incomplete.len(), 1, "{listing:?}");
    assert!(listing.incomplete[0].to_string_lossy().contains(".incomplete-"));
}

/// A campaign refuses a findings directory it cannot write, naming it.
#[test]
fn an_unwritable_findings_directory_is_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let store = FindingStore { root: file.join("findings") };
    let err = store.check_writable().unwrap_err().to_string();
    assert!(err.contains("not-a-dir") && err.contains("cannot be written"), "{err}");
    assert!(FindingStore { root: tmp.path().join("ok") }.check_writable().is_ok());
}

/// Issue 21 item 5: a corpus directory that cannot be written no longer fails silently: the first
/// failure is printed with its path and reason, every one is counted in the report, and the
/// campaign goes on.
#[test]
fn corpus_write_failures_are_counted_and_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_diverge"))
        .args(["fuzz", "--target", "attestation", "--jobs", "1", "--seed", "1", "--duration", "3s", "--json", "--findings"])
        .arg(tmp.path().join("findings"))
        .arg("--save-corpus")
        .arg(blocker.join("corpus"))
        .output()
        .expect("diverge fuzz runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let target = &report["targets"][0];
    assert!(target["execs"].as_u64().unwrap_or(0) > 0, "the campaign went on: {report}");
    assert!(target["write_errors"].as_u64().unwrap_or(0) > 0, "{report}");
    assert!(stderr.contains("--save-corpus") && stderr.contains("a-file") && stderr.contains("write failed"), "{stderr}");
}
