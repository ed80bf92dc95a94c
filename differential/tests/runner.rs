//! Runner properties on real input: determinism over every spec vector case, corrupt pool and
//! finding files reported with their path without affecting anything else, findings that replay.

use diverge::findings::{self, FindingStore};
use diverge::replay::{self, ReplaySpec};
use diverge::runner::RunnerConfig;
use diverge::session::{default_pool_dir, Outcome, Session};
use diverge::target::Target;
use diverge::vectors::{discover, run_case, VectorsConfig};
use diverge_types::{BlsMode, Preset};
use std::fs;
use std::path::Path;

#[test]
fn every_spec_vector_case_gives_identical_verdicts_when_run_twice() {
    let root = diverge_test_vectors::require();
    let config = VectorsConfig { root, presets: Preset::ALL.to_vec(), runners: vec![], implementations: vec![] };
    let (cases, _) = discover(&config).unwrap();
    assert!(cases.len() > 1000, "only {} cases", cases.len());
    use rayon::prelude::*;
    let differing: Vec<String> = cases
        .par_iter()
        .filter(|c| run_case(c, &[]) != run_case(c, &[]))
        .map(|c| c.dir.display().to_string())
        .collect();
    assert!(differing.is_empty(), "non-deterministic cases: {differing:?}");
}

fn copy_pool(to: &Path) {
    let from = default_pool_dir(Preset::Minimal);
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn a_corrupt_pool_state_is_reported_with_its_path_and_other_states_still_run() {
    let tmp = tempfile::tempdir().unwrap();
    let pool = tmp.path().join("pool");
    copy_pool(&pool);
    let manifest: diverge::pool::Manifest = serde_json::from_str(&fs::read_to_string(pool.join("manifest.json")).unwrap()).unwrap();
    let victim = &manifest.states[1];
    fs::write(pool.join(&victim.file), b"\xff\x00garbage").unwrap();

    let session = Session::new(Preset::Minimal, &pool, RunnerConfig { bls: BlsMode::Real, ..RunnerConfig::default() }).unwrap();
    let corpus = diverge::session::default_corpus_dir(Preset::Minimal, Target::Attestation);
    let (mut unavailable, mut agreed) = (0, 0);
    for f in fs::read_dir(corpus).unwrap() {
        let path = f.unwrap().path();
        if path.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        match session.run(Target::Attestation, &fs::read(&path).unwrap()) {
            Outcome::StateUnavailable(reason) => {
                assert!(reason.contains(&victim.file) && reason.contains("pool state 1"), "{reason}");
                unavailable += 1;
            }
            Outcome::Agreed { .. } => agreed += 1,
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    assert!(unavailable >= 1 && agreed >= 1 && unavailable + agreed == 39, "unavailable {unavailable}, agreed {agreed}");
}

#[test]
fn a_missing_pool_manifest_names_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Session::new(Preset::Minimal, tmp.path(), RunnerConfig::default()).err().unwrap().to_string();
    assert!(err.contains("manifest.json") && err.contains("corpus build"), "{err}");
}

#[test]
fn corrupt_findings_are_reported_with_their_path_and_triage_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    // Two well-formed findings written by the store, from a real divergence-shaped record.
    let store = FindingStore { root: tmp.path().to_path_buf() };
    let good = store.dir_for(Target::Attestation, "attestation: spec-vs-x: valid/crash");
    fs::create_dir_all(&good).unwrap();
    let finding = findings::Finding {
        format: findings::FINDING_FORMAT,
        signature: "attestation: spec-vs-x: valid/crash".into(),
        target: "attestation".into(),
        preset: "minimal".into(),
        bls: "assume-valid".into(),
        strictness: diverge::target::Strictness::Reason,
        pool: default_pool_dir(Preset::Minimal).display().to_string(),
        state: findings::RecordedState { id: 0, root: String::new(), source: String::new() },
        verdicts: vec![],
        majority: vec![],
        groups: vec![],
        diff: None,
        diffs: vec![],
        known: None,
        engine: "test".into(),
        input: "input.bin".into(),
        input_sha256: hex::encode(diverge_types::hash(b"abc")),
        created: 0,
        replay: String::new(),
        batch_seed: None,
        commit: None,
        seed: None,
    };
    findings::write_atomic(&good.join("input.bin"), b"abc").unwrap();
    findings::write_atomic(&good.join("finding.json"), serde_json::to_string(&finding).unwrap().as_bytes()).unwrap();
    // A truncated finding.json and one whose input does not match its hash.
    let bad_json = tmp.path().join("attestation/bad1");
    fs::create_dir_all(&bad_json).unwrap();
    fs::write(bad_json.join("finding.json"), "{\"format\": 1, \"signa").unwrap();
    let bad_input = tmp.path().join("attestation/bad2");
    fs::create_dir_all(&bad_input).unwrap();
    fs::write(bad_input.join("finding.json"), serde_json::to_string(&finding).unwrap()).unwrap();
    fs::write(bad_input.join("input.bin"), b"abd").unwrap();

    let (groups, errors) = replay::triage(tmp.path());
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].count, 1);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("bad1/finding.json") && e.contains("not a finding")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("bad2/input.bin") && e.contains("SHA-256")), "{errors:?}");
    let err = ReplaySpec::from_finding(&bad_json).unwrap_err().to_string();
    assert!(err.contains("bad1/finding.json"), "{err}");
}

#[test]
fn triage_counts_known_hazards_apart_from_new_findings() {
    // The shipped seed proposal-at-left shows drand's nil FinalGroup dereference (dkg.md 4.3),
    // which both DKG implementations reproduce: `diverge run` writes it as a known finding, exits
    // 0 (nothing new), and triage lists it apart with its upstream reference.
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_diverge");
    let seed = diverge::session::default_corpus_dir(Preset::Minimal, Target::DkgPacket).join("proposal-at-left.bin");
    let out = std::process::Command::new(bin).args(["run", "--target", "dkg_packet", "--findings"]).arg(tmp.path()).arg(&seed).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("dkg_packet: drand+spec: NilDereference/NilDereference") && stdout.contains("[known upstream hazard]"), "{stdout}");
    let (groups, errors) = replay::triage(tmp.path());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(groups.len(), 1);
    let known = groups[0].known.as_ref().expect("marked known in finding.json");
    assert_eq!(known.hazard, "NilDereference");
    let out = std::process::Command::new(bin).arg("triage").arg(tmp.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("0 new signature(s), 0 finding(s); 1 known upstream hazard(s), 1 finding(s)"), "{text}");
    assert!(text.contains("upstream: drand/drand@f45e7e04"), "{text}");
}

#[test]
fn a_seed_replays_to_the_same_verdicts_in_a_fresh_process() {
    let bin = env!("CARGO_BIN_EXE_diverge");
    let seed = diverge::session::default_corpus_dir(Preset::Minimal, Target::Attestation).join("success.bin");
    let run = || {
        let out = std::process::Command::new(bin)
            .args(["replay", "--target", "attestation", "--bls", "real", "--json"])
            .arg(&seed)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v
    };
    let (a, b) = (run(), run());
    assert_eq!(a["status"], "agreed");
    assert_eq!(a["verdicts"], b["verdicts"]);
    assert!(a["verdicts"][0]["post_root"].as_str().unwrap().starts_with("0x"));
}
