//! Crash isolation (issue 12 item 2), on the `fault-injection` build: implementations that abort,
//! overflow their stack, hang or blow up their memory on magic `voluntary_exit` inputs
//! (`diverge::faults`) cost `diverge fuzz` a worker restart, not the campaign; each such input is
//! a finding on disk with its process-level signature; `diverge run` and `diverge replay` give the
//! same verdicts; a worker SIGKILLed mid-campaign loses no reported finding.
//!
//! cargo test --release -p diverge --features fault-injection --test isolation
#![cfg(feature = "fault-injection")]

use diverge::faults::{input, Fault};
use diverge::session::default_corpus_dir;
use diverge::target::Target;
use diverge_types::Preset;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_diverge");
/// Worker memory limit of these tests, MB: well above a minimal-preset worker (about 20 MB),
/// well below what `Fault::Allocate` touches (1.5 GiB).
const RSS_LIMIT: &str = "200";
/// Timeout of these tests, seconds: long enough for `Fault::Allocate` to pass [`RSS_LIMIT`] first
/// on a loaded machine (page faults at 150 MB/s have been seen), short for `Fault::Sleep`.
const TIMEOUT: &str = "3";

/// The faults that end a worker process, with the signature each must get.
fn process_faults() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        ("abort", input(Fault::Abort, &["fast"]), "voluntary_exit: fast: crash/SIGABRT"),
        ("stack", input(Fault::StackOverflow, &["spec"]), "voluntary_exit: spec: crash/SIGABRT"),
        // Both hang; spec runs first, so the worker is killed while spec executes.
        ("sleep", input(Fault::Sleep, &["spec", "fast"]), "voluntary_exit: spec: timeout"),
        ("alloc", input(Fault::Allocate, &["fast"]), "voluntary_exit: fast: rss-limit"),
    ]
}

/// Copies every shipped seed of `target` into `dir`.
fn copy_seeds(target: Target, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(default_corpus_dir(Preset::Minimal, target)).unwrap().filter_map(Result::ok) {
        if e.path().is_file() && e.file_name() != "PROVENANCE" {
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
    }
}

/// A corpus directory: the fault inputs (named `fault-<name>.bin`) and the shipped seeds for
/// voluntary_exit, the shipped seeds for attestation.
fn corpus(root: &Path, faults: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = root.join("corpus");
    copy_seeds(Target::VoluntaryExit, &dir.join("voluntary_exit"));
    copy_seeds(Target::Attestation, &dir.join("attestation"));
    for (name, bytes) in faults {
        std::fs::write(dir.join("voluntary_exit").join(format!("fault-{name}.bin")), bytes).unwrap();
    }
    dir
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: stdout {} stderr {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn findings_of(report: &Value, target: &str) -> Vec<(String, PathBuf)> {
    let t = report["targets"].as_array().unwrap().iter().find(|t| t["target"] == target).unwrap_or_else(|| panic!("{target} in {report}"));
    t["findings"].as_array().unwrap().iter().map(|f| (f["signature"].as_str().unwrap().to_string(), PathBuf::from(f["path"].as_str().unwrap()))).collect()
}

fn execs_of(report: &Value, target: &str) -> u64 {
    report["targets"].as_array().unwrap().iter().find(|t| t["target"] == target).unwrap()["execs"].as_u64().unwrap()
}

fn replay(dir: &Path) -> Value {
    let out = Command::new(BIN).args(["replay", "--json", "--timeout", TIMEOUT, "--rss-limit-mb", RSS_LIMIT]).arg(dir).output().unwrap();
    json_of(&out)
}

/// Every process-killing fault among the seeds of one campaign, attestation alongside: each is a
/// finding on disk with its signature (written before it was reported), each cost one restart,
/// and both targets still ran to `--max-execs` after the faults (the seeds run first). Then
/// `diverge run` on the same inputs gives the same signatures and verdicts, and `diverge replay`
/// of each finding reproduces it.
#[test]
fn faults_are_findings_and_the_campaign_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let faults = process_faults();
    let named: Vec<(&str, Vec<u8>)> = faults.iter().map(|(n, b, _)| (*n, b.clone())).collect();
    let corpus = corpus(tmp.path(), &named);
    let findings = tmp.path().join("findings");
    let max_execs = 3000u64;
    let out = Command::new(BIN)
        .args(["fuzz", "--target", "voluntary_exit", "attestation", "--jobs", "1", "--timeout", TIMEOUT, "--rss-limit-mb", RSS_LIMIT, "--json"])
        .args(["--max-execs", &max_execs.to_string(), "--corpus"])
        .arg(&corpus)
        .arg("--findings")
        .arg(&findings)
        .output()
        .unwrap();
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "findings exit 1: {report}");
    let found = findings_of(&report, "voluntary_exit");
    for (name, bytes, signature) in &faults {
        let (_, dir) = found.iter().find(|(s, _)| s == signature).unwrap_or_else(|| panic!("{name}: no {signature} in {found:?}"));
        let (finding, stored, _) = diverge::findings::load(dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&finding.signature, signature);
        assert_eq!(&stored, bytes, "{name}: the finding keeps the input that killed the worker");
        assert_eq!(finding.state.id, 0, "{name}: pool state of selector 0");
        assert!(finding.state.root.starts_with("0x"), "{name}: {:?}", finding.state);
        let verdict = &finding.verdicts[0];
        match *name {
            "abort" | "stack" => assert_eq!((verdict.kind.as_str(), verdict.message.as_deref()), ("crash", Some("signal 6 (SIGABRT)")), "{name}"),
            "sleep" => assert_eq!(verdict.kind, "timeout"),
            _ => assert_eq!(verdict.kind, "rss-limit"),
        }
    }
    let restarts = report["targets"].as_array().unwrap().iter().find(|t| t["target"] == "voluntary_exit").unwrap()["restarts"].as_u64().unwrap();
    assert_eq!(restarts, faults.len() as u64, "one restart per fault input: {report}");
    assert_eq!(report["restarts"].as_u64(), Some(faults.len() as u64));
    // The campaign went on after the faults: both targets ran to the limit.
    assert!(execs_of(&report, "voluntary_exit") >= max_execs, "{report}");
    assert!(execs_of(&report, "attestation") >= max_execs, "{report}");
    assert!(findings_of(&report, "attestation").is_empty(), "{report}");

    // diverge run: the same verdicts for the same inputs (fresh findings directory).
    let inputs = tmp.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    for (name, bytes, _) in &faults {
        std::fs::write(inputs.join(format!("{name}.bin")), bytes).unwrap();
    }
    let run_findings = tmp.path().join("run-findings");
    let out = Command::new(BIN)
        .args(["run", "--target", "voluntary_exit", "--json", "--timeout", TIMEOUT, "--rss-limit-mb", RSS_LIMIT, "--findings"])
        .arg(&run_findings)
        .arg(&inputs)
        .output()
        .unwrap();
    let run = json_of(&out);
    assert_eq!(out.status.code(), Some(1), "{run}");
    assert_eq!(run["crashed"].as_u64(), Some(faults.len() as u64), "{run}");
    assert_eq!(run["restarts"].as_u64(), Some(faults.len() as u64), "{run}");
    let run_list = run["findings"].as_array().unwrap();
    for (name, _, signature) in &faults {
        let f = run_list.iter().find(|f| f["signature"] == *signature).unwrap_or_else(|| panic!("{name}: {signature} not in {run}"));
        let verdict = f["verdict"].as_str().unwrap();
        let expected = match *name {
            "abort" | "stack" => "crash: signal 6 (SIGABRT)",
            "sleep" => "timeout",
            _ => "rss-limit",
        };
        assert!(verdict.starts_with(expected), "{name}: {verdict}");
        assert!(diverge::findings::load(Path::new(f["path"].as_str().unwrap())).is_ok(), "{name}: run wrote its finding");
    }

    // diverge replay of each campaign finding: reproduced, same signature.
    for (name, _, signature) in &faults {
        let (_, dir) = found.iter().find(|(s, _)| s == signature).unwrap();
        let r = replay(dir);
        assert_eq!(r["divergence"]["signature"], *signature, "{name}: {r}");
        assert_eq!(r["reproduced"], true, "{name}: {r}");
    }
}

/// The faults the runner catches in-process: a panic in one implementation is an ordinary
/// divergence, found from the seeds without any restart. Under the lead's verdict policy
/// (policy.rs, merged separately) a panic in both, or `Reject::Internal` in both, is a finding
/// too, `voluntary_exit: spec+fast: ...`; before that merge they agree and this test fails on
/// those two cases.
#[test]
fn in_process_faults_are_findings_without_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let named = vec![
        ("panic-spec", input(Fault::Panic, &["spec"])),
        ("panic-both", input(Fault::Panic, &["spec", "fast"])),
        ("internal-both", input(Fault::Internal, &["spec", "fast"])),
    ];
    let corpus = corpus(tmp.path(), &named);
    let out = Command::new(BIN)
        .args(["fuzz", "--target", "voluntary_exit", "attestation", "--jobs", "1", "--max-execs", "500", "--json", "--corpus"])
        .arg(&corpus)
        .arg("--findings")
        .arg(tmp.path().join("findings"))
        .output()
        .unwrap();
    let report = json_of(&out);
    assert_eq!(report["restarts"].as_u64(), Some(0), "{report}");
    let found = findings_of(&report, "voluntary_exit");
    assert!(found.iter().any(|(s, _)| s.starts_with("voluntary_exit: spec-vs-fast: crash/")), "{found:?}");
    assert!(found.iter().any(|(s, _)| s == "voluntary_exit: spec+fast: crash/crash"), "panic in both (lead's policy): {found:?}");
    assert!(
        found.iter().filter(|(s, _)| s.starts_with("voluntary_exit: spec+fast: ")).count() >= 2,
        "Internal in both (lead's policy): {found:?}"
    );
}

/// Children of `pid` (`/proc/<pid>/task/<pid>/children`).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default().split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

/// A worker SIGKILLed from outside mid-campaign: the finding reported before is still reported
/// at the end and on disk, the kill is itself a `crash/SIGKILL` finding with the input the worker
/// was executing, the worker is restarted and the campaign still runs to `--max-execs`.
#[test]
fn a_sigkilled_worker_loses_nothing_and_is_restarted() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = corpus(tmp.path(), &[("panic-spec", input(Fault::Panic, &["spec"]))]);
    let max_execs = 40_000u64;
    let mut child = Command::new(BIN)
        .args(["fuzz", "--target", "voluntary_exit", "attestation", "--jobs", "1", "--json", "--max-execs", &max_execs.to_string(), "--corpus"])
        .arg(&corpus)
        .arg("--findings")
        .arg(tmp.path().join("findings"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut reported = None;
    let mut lines = stderr.lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("NEW FINDING after ") {
            reported = Some(rest.split_once(": ").unwrap().1.rsplit_once(" -> ").unwrap().0.to_string());
            break;
        }
    }
    let reported = reported.expect("the panic seed is reported");
    let workers = children(child.id());
    assert_eq!(workers.len(), 1, "one worker process: {workers:?}");
    let status = Command::new("kill").args(["-KILL", &workers[0].to_string()]).status().unwrap();
    assert!(status.success());
    // Drain stderr so the campaign never blocks on it.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let out = child.wait_with_output().unwrap();
    let rest = drain.join().unwrap();
    let report = json_of(&out);
    assert!(report["restarts"].as_u64().unwrap() >= 1, "{report} {rest:?}");
    let all: Vec<(String, PathBuf)> = ["voluntary_exit", "attestation"].iter().flat_map(|t| findings_of(&report, t)).collect();
    assert!(all.iter().any(|(s, _)| *s == reported), "{reported} still reported: {all:?}");
    // Killed while executing an input (most of a worker's time), the input is a crash/SIGKILL
    // finding; killed between two inputs, there is no culprit and only the restart counts.
    if let Some((_, killed)) = all.iter().find(|(s, _)| s.ends_with(": crash/SIGKILL")) {
        let (finding, _, _) = diverge::findings::load(killed).unwrap();
        assert_eq!(finding.verdicts[0].message.as_deref(), Some("signal 9 (SIGKILL)"));
    }
    for (_, dir) in &all {
        diverge::findings::load(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    assert!(execs_of(&report, "voluntary_exit") >= max_execs, "{report}");
    assert!(execs_of(&report, "attestation") >= max_execs, "{report}");
}
