//! The fuzz farm (issue 14 items 2 and 3): `diverge fuzz --sync-dir` processes share corpus
//! entries; `diverge farm crashes` turns AFL++ crash files into findings through the runner;
//! `diverge farm status` reads AFL++'s fuzzer_stats; `diverge farm afl` on two simulated machines
//! (two sync roots and a `farm sync` loop) moves entries across (`#[ignore]`d: it needs cargo-afl and
//! the AFL++ binary, so `.ci/run` runs it with `--ignored` after `ci/engines-smoke.sh` built that).
//!
//! cargo test --release -p diverge --test farm [-- --ignored]
//! (under a bug build, e.g. --features bug-attestation-committee-index-unchecked, the crash pass
//! must give the registry's signature for that bug's regression input).

use diverge::bugs::{enabled_features, BUGS};
use diverge::session::default_corpus_dir;
use diverge::target::Target;
use diverge_types::Preset;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_diverge");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn queue_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir).map(|rd| rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("id:")).collect()).unwrap_or_default();
    v.sort();
    v
}

#[test]
fn two_fuzz_processes_share_corpus_entries_through_the_sync_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let sync = tmp.path().join("sync");
    let spawn = |name: &str, seed: &str| {
        Command::new(BIN)
            .args(["fuzz", "--target", "attestation", "--jobs", "1", "--duration", "10", "--sync-interval", "2", "--json", "--seed", seed, "--sync-name", name, "--sync-dir"])
            .arg(&sync)
            .arg("--findings")
            .arg(tmp.path().join("findings"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a", "1"), spawn("b", "2"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let counts = |out: &Output| -> (u64, u64) {
        assert_eq!(out.status.code(), Some(0), "{}", text(out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)));
        let t = &doc["sync"]["targets"][0];
        assert_eq!(t["target"], "attestation");
        let (exported, imported, kept) = (t["exported"].as_u64().unwrap(), t["imported"].as_u64().unwrap(), t["kept"].as_u64().unwrap());
        eprintln!("{}: exported {exported}, imported {imported}, kept {kept}", doc["sync"]["name"]);
        assert!(kept <= imported, "{t}");
        (exported, imported)
    };
    let ((a_out, a_in), (b_out, b_in)) = (counts(&a), counts(&b));
    eprintln!("a: exported {a_out}, imported {a_in}; b: exported {b_out}, imported {b_in}");
    assert!(a_out > 0 && b_out > 0, "both export: a {a_out}, b {b_out}");
    assert!(a_in > 0 && b_in > 0, "each imports some of the other's: a {a_in}, b {b_in}");
    // Each can only import what the other exported (one peer each).
    assert!(a_in <= b_out && b_in <= a_out, "a {a_out}/{a_in}, b {b_out}/{b_in}");
    // The queues are AFL++-shaped: contiguous ids from 0, one file per exported entry.
    for (name, exported) in [("a-w0", a_out), ("b-w0", b_out)] {
        let files = queue_files(&sync.join("attestation").join(name).join("queue"));
        assert_eq!(files.len() as u64, exported, "{name}");
        for (i, f) in files.iter().enumerate() {
            assert!(f.starts_with(&format!("id:{i:06},")), "{name}: {f} at {i}");
        }
    }
}

#[test]
fn status_reads_afl_fuzzer_stats_and_names_a_malformed_file() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/afl-4.40c-fuzzer_stats");
    let inst = tmp.path().join("attestation/m1-attestation-0");
    fs::create_dir_all(&inst).unwrap();
    fs::copy(&fixture, inst.join("fuzzer_stats")).unwrap();
    let bad = tmp.path().join("attestation/m1-attestation-1");
    fs::create_dir_all(&bad).unwrap();
    fs::write(bad.join("fuzzer_stats"), "execs_done : many\n").unwrap();
    // Not a target: ignored.
    fs::create_dir_all(tmp.path().join("elsewhere/x")).unwrap();
    let out = Command::new(BIN).args(["farm", "status", "--json", "--sync-dir"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = doc["instances"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{doc}");
    let s = &list[0];
    // The fixture's values (a real AFL++ 4.40c instance of `diverge farm afl`).
    assert_eq!((s["target"].as_str(), s["instance"].as_str()), (Some("attestation"), Some("m1-attestation-0")));
    assert_eq!(s["execs_done"], 636755);
    assert_eq!(s["execs_per_sec"], 14267.10);
    assert_eq!(s["corpus_count"], 87);
    assert_eq!(s["corpus_imported"], 14);
    assert_eq!(s["saved_crashes"], 0);
    assert_eq!(s["last_find"], 1796204826);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("m1-attestation-1/fuzzer_stats") && stderr.contains("execs_done: not a number"), "{stderr}");
    let out = Command::new(BIN).args(["farm", "status", "--sync-dir"]).arg(tmp.path()).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.lines().any(|l| l.starts_with("attestation") && l.contains("m1-attestation-0") && l.contains("14267") && l.contains("636755")), "{table}");
}

#[test]
fn crash_pass_turns_afl_crash_files_into_findings_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("farm");
    let findings = tmp.path().join("findings");
    let regression = repo().join("corpora/regressions/attestation/attestation-committee-index-unchecked.bin");
    let bytes = fs::read(&regression).unwrap();
    let crashes = dir.join("attestation/m1-attestation-0/crashes");
    fs::create_dir_all(&crashes).unwrap();
    fs::write(crashes.join("id:000000,sig:06,src:000012,time:100,execs:5,op:havoc,rep:2"), &bytes).unwrap();
    // AFL++ often saves one input twice (another instance, another path): run once.
    let other = dir.join("attestation/m1-attestation-1/crashes");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("id:000000,sig:06,src:000003,time:200,execs:9,op:havoc,rep:4"), &bytes).unwrap();
    fs::write(crashes.join("README.txt"), "AFL++'s note, not a crash").unwrap();
    // A known upstream hazard on every build: drand's nil FinalGroup dereference.
    let dkg = dir.join("dkg_packet/m1-dkg_packet-0/crashes");
    fs::create_dir_all(&dkg).unwrap();
    fs::copy(default_corpus_dir(Preset::Minimal, Target::DkgPacket).join("proposal-at-left.bin"), dkg.join("id:000000,sig:06,src:000000,time:1,execs:1,op:havoc,rep:1")).unwrap();

    let run = || Command::new(BIN).args(["farm", "crashes", "--json", "--sync-dir"]).arg(&dir).arg("--findings").arg(&findings).output().unwrap();
    let out = run();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(doc["crashes"]["ran"], 2, "{doc}");
    assert_eq!(doc["crashes"]["duplicates"], 1, "{doc}");
    assert_eq!(doc["crashes"]["recorded"], 3, "{doc}");
    let found = doc["findings"].as_array().unwrap();
    let sig = |s: &str| found.iter().find(|f| f["signature"] == s).cloned();
    let dkg_f = sig("dkg_packet: drand+spec: NilDereference/NilDereference").unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(dkg_f["known"], "NilDereference");
    assert!(Path::new(dkg_f["path"].as_str().unwrap()).join("finding.json").is_file());
    let bug = BUGS.iter().find(|b| b.feature == "bug-attestation-committee-index-unchecked").unwrap();
    if enabled_features().is_empty() {
        // Default build: the bug's input is rejected alike by both implementations.
        assert_eq!(doc["crashes"]["not_reproduced"], 1, "{doc}");
        assert_eq!(found.len(), 1, "{doc}");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    } else if enabled_features().contains(&bug.feature) {
        let f = sig(bug.signature()).unwrap_or_else(|| panic!("expected {}: {doc}", bug.signature()));
        assert_eq!(f["new"], true);
        let finding: Value = serde_json::from_slice(&fs::read(Path::new(f["path"].as_str().unwrap()).join("finding.json")).unwrap()).unwrap();
        assert_eq!(finding["signature"], bug.signature());
        assert_eq!(doc["new_findings"], 1);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    }
    // The ledger remembers them: a second pass runs nothing.
    let again = run();
    let doc: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((doc["crashes"]["ran"].as_u64(), doc["crashes"]["duplicates"].as_u64(), doc["crashes"]["recorded"].as_u64()), (Some(0), Some(0), Some(3)), "{doc}");
    assert_eq!(again.status.code(), Some(0));
    // A new crash file with a known input is a duplicate, not a second run.
    fs::write(crashes.join("id:000001,sig:06,src:000013,time:300,execs:20,op:havoc,rep:1"), &bytes).unwrap();
    let doc: Value = serde_json::from_slice(&run().stdout).unwrap();
    assert_eq!((doc["crashes"]["ran"].as_u64(), doc["crashes"]["duplicates"].as_u64()), (Some(0), Some(1)), "{doc}");
}

#[test]
fn sync_mirrors_main_queues_but_never_writes_a_local_instance() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let qa = a.join("attestation/m1-attestation-0/queue");
    fs::create_dir_all(&qa).unwrap();
    // AFL++'s mark of a -M instance: only those are copied (docs/fuzzing_in_depth.md 3d).
    fs::write(a.join("attestation/m1-attestation-0/is_main_node"), b"").unwrap();
    // A -S instance and a `diverge fuzz` worker: their finds reach other machines through the -M.
    for s in ["m1-attestation-1", "m1-77-w0"] {
        let q = a.join("attestation").join(s).join("queue");
        fs::create_dir_all(&q).unwrap();
        fs::write(q.join("id:000000,orig:s"), b"s").unwrap();
    }
    fs::write(qa.join("id:000000,time:0,orig:x"), b"x").unwrap();
    fs::write(qa.join("id:000001,src:000000"), b"y").unwrap();
    fs::create_dir_all(qa.join(".state")).unwrap();
    // b has a local instance with the same name as one in a (must not happen, but must not be
    // overwritten either), and its own.
    let clash = a.join("attestation/m2-attestation-0/queue");
    fs::create_dir_all(&clash).unwrap();
    fs::write(clash.join("id:000000,x"), b"from a").unwrap();
    fs::write(a.join("attestation/m2-attestation-0/is_main_node"), b"").unwrap();
    let qb = b.join("attestation/m2-attestation-0/queue");
    fs::create_dir_all(&qb).unwrap();
    fs::write(qb.join("id:000000,orig:z"), b"z").unwrap();
    // A file modified in the last second may be mid-write: not copied yet.
    let out = Command::new(BIN).args(["farm", "sync", "--once", "--from"]).arg(&a).arg("--to").arg(&b).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 0 file(s) copied"), "{}", text(&out));
    std::thread::sleep(diverge::farm::SETTLE + std::time::Duration::from_millis(200));
    let out = Command::new(BIN).args(["farm", "sync", "--once", "--from"]).arg(&a).arg("--to").arg(&b).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mirrored = b.join("attestation/m1-attestation-0");
    assert_eq!(queue_files(&mirrored.join("queue")), ["id:000000,time:0,orig:x", "id:000001,src:000000"]);
    assert!(mirrored.join(".diverge-mirror").is_file());
    // The mark comes along, so the -S instances of b import the mirror too.
    assert!(mirrored.join("is_main_node").is_file());
    for s in ["m1-attestation-1", "m1-77-w0"] {
        assert!(!b.join("attestation").join(s).exists(), "{s}: not a -M, not copied");
    }
    assert_eq!(fs::read(qb.join("id:000000,orig:z")).unwrap(), b"z");
    assert_eq!(queue_files(&qb), ["id:000000,orig:z"], "a local instance is never written");
    // Incremental: only the new file is copied.
    fs::write(qa.join("id:000002,src:000001"), b"w").unwrap();
    std::thread::sleep(diverge::farm::SETTLE + std::time::Duration::from_millis(200));
    let out = Command::new(BIN).args(["farm", "sync", "--once", "--from"]).arg(&a).arg("--to").arg(&b).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 file(s) copied"), "{}", text(&out));
    assert_eq!(fs::read(mirrored.join("queue/id:000002,src:000001")).unwrap(), b"w");
    // --all-instances: every queue (machines running only `diverge fuzz --sync-dir`).
    let out = Command::new(BIN).args(["farm", "sync", "--once", "--all-instances", "--from"]).arg(&a).arg("--to").arg(&b).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 file(s) copied"), "{}", text(&out));
    for s in ["m1-attestation-1", "m1-77-w0"] {
        assert_eq!(queue_files(&b.join("attestation").join(s).join("queue")), ["id:000000,orig:s"]);
        assert!(!b.join("attestation").join(s).join("is_main_node").exists(), "{s}: a -S stays a -S");
    }
}

/// The AFL++ engine binary of attestation, which `ci/engines-smoke.sh` builds; the test that needs
/// it is `#[ignore]`d (run with `--ignored`, as `.ci/run` does after that script) and fails, not
/// skips, when it is missing.
fn afl_binary() -> PathBuf {
    let ok = Command::new("cargo").args(["afl", "--version"]).output().is_ok_and(|o| o.status.success());
    assert!(ok, "`cargo afl` is not installed (bash ci/install-engines.sh afl)");
    let bin = repo().join("targets/target/afl/release/attestation");
    assert!(bin.is_file(), "{} is missing; build it with `cd targets && CARGO_TARGET_DIR=target/afl cargo afl build --release --no-default-features --features afl --bin attestation`", bin.display());
    bin
}

#[test]
#[ignore = "needs cargo-afl and the AFL++ build of attestation: .ci/run runs it with --ignored after ci/engines-smoke.sh built it"]
fn farm_afl_on_two_simulated_machines_moves_entries_across() {
    let bin = afl_binary();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("machine-a"), tmp.path().join("machine-b"));
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    let bin_dir = bin.parent().unwrap();
    let farm = |dir: &Path, name: &str| {
        Command::new(BIN)
            .args(["farm", "afl", "--cores", "1", "--duration", "40", "--json", "--crash-interval", "5", "--name", name, "--afl-bin"])
            .arg(bin_dir)
            .arg("--sync-dir")
            .arg(dir)
            .arg("--findings")
            .arg(tmp.path().join(format!("findings-{name}")))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (fa, fb) = (farm(&a, "ma"), farm(&b, "mb"));
    let sync = Command::new(BIN).args(["farm", "sync", "--both", "--every", "3", "--duration", "40", "--from"]).arg(&a).arg("--to").arg(&b).output().unwrap();
    let (fa, fb) = (fa.wait_with_output().unwrap(), fb.wait_with_output().unwrap());
    for out in [&fa, &fb] {
        assert_eq!(out.status.code(), Some(0), "{}", text(out));
    }
    assert_eq!(sync.status.code(), Some(0), "{}", text(&sync));
    // Each machine's root holds the other's queue, mirrored.
    let a_in_b = queue_files(&b.join("attestation/ma-attestation-0/queue"));
    let b_in_a = queue_files(&a.join("attestation/mb-attestation-0/queue"));
    assert!(!a_in_b.is_empty() && !b_in_a.is_empty(), "mirrored: {} / {}", a_in_b.len(), b_in_a.len());
    // AFL++ imported from the mirrors (the only peers: one instance per machine).
    let imported = |out: &Output| -> u64 {
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)));
        doc["instances"][0]["corpus_imported"].as_u64().unwrap_or(0)
    };
    let (ia, ib) = (imported(&fa), imported(&fb));
    // The plan as docs/farm.md states it for one core: the -M with the final sync and the
    // dictionary, which AFL++ loaded (its log says how many tokens).
    for (out, dir, name) in [(&fa, &a, "ma"), (&fb, &b, "mb")] {
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let plan = &doc["plan"][0];
        assert_eq!(plan["kind"], "main", "{doc}");
        let command = plan["command"].as_str().unwrap();
        assert!(command.contains(" -M ") && command.contains(" -x") && command.contains("AFL_FINAL_SYNC=1"), "{command}");
        let log = fs::read_to_string(dir.join(format!(".farm/{name}/logs/{name}-attestation-0.log"))).unwrap();
        assert!(log.contains(" extras."), "AFL++ loaded no dictionary: {log}");
    }
    let from_other = |dir: &Path, me: &str, other: &str| queue_files(&dir.join(format!("attestation/{me}-attestation-0/queue"))).iter().filter(|f| f.contains(&format!("sync:{other}-attestation-0"))).count();
    eprintln!("ma imported {ia} ({} files from mb), mb imported {ib} ({} files from ma)", from_other(&a, "ma", "mb"), from_other(&b, "mb", "ma"));
    assert!(ia + ib > 0, "no AFL++ instance imported across machines");
    assert_eq!(from_other(&a, "ma", "mb") as u64, ia);
    assert_eq!(from_other(&b, "mb", "ma") as u64, ib);
}
