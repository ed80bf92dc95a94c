//! The network targets (issue 15) against the repository: the seeds and regressions on disk are
//! exactly what the code generates (`diverge corpus p2p`), port and model agree on every shipped
//! seed, every p2p bug of the registry gives its signature on its regression in its bug build
//! and nothing in the default build, and `diverge replay` gives the same verdicts in two fresh
//! processes.
//!
//! ```text
//! cargo test --release -p diverge --test p2p_regressions
//! cargo test --release -p diverge --features near-announce-exact-match --test p2p_regressions
//! cargo test --release -p diverge --features spacemesh-session-cache-evict --test p2p_regressions
//! cargo test --release -p diverge --features harmony-simultaneous-init --test p2p_regressions
//! ```

use diverge::bugs::{Bug, BUGS, P2P};
use diverge::p2p::{check_corpus, P2pTarget};
use std::path::{Path, PathBuf};

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora")
}

fn p2p_bugs() -> Vec<&'static Bug> {
    BUGS.iter().filter(|b| b.krate == P2P).collect()
}

fn any_p2p_bug() -> bool {
    p2p_bugs().iter().any(|b| b.enabled())
}

/// The files under corpora/p2p_* and corpora/regressions/p2p_* are exactly what the code
/// generates: a changed seed or incident in the code without `diverge corpus p2p` fails here.
#[test]
fn corpus_on_disk_is_what_the_code_generates() {
    let problems = check_corpus(&corpora());
    assert!(problems.is_empty(), "run `diverge corpus p2p`:\n  {}", problems.join("\n  "));
}

/// Every p2p bug of the registry has one regression, under its target, and its target is a network target.
#[test]
fn registry_entries_are_network_targets() {
    let bugs = p2p_bugs();
    assert_eq!(bugs.len(), 3);
    for b in bugs {
        assert!(b.target.is_p2p(), "{}", b.name);
        assert_eq!(b.regressions.len(), 1, "{}", b.name);
        assert_eq!(b.regressions[0].file, format!("{}/{}.bin", b.target.name(), b.feature));
    }
}

/// Default build: port and model agree on every shipped seed, and no oracle trips.
#[test]
fn port_and_model_agree_on_every_shipped_seed() {
    if any_p2p_bug() {
        return;
    }
    let mut n = 0;
    for t in P2pTarget::ALL {
        let (seeds, warnings) = diverge::fuzz::load_seeds(&corpora().join(t.name()));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!seeds.is_empty(), "{}: no seeds", t.name());
        for s in seeds {
            let report = t.run(&s);
            assert_eq!(report.finding, None, "{}: a seed trips {:?}", t.name(), report.finding);
            n += 1;
        }
    }
    assert!(n >= 3);
}

/// A bug build gives the registry's signature on its regression; the default build nothing.
#[test]
fn registry_regressions_give_this_builds_verdicts() {
    let any = any_p2p_bug();
    for bug in p2p_bugs() {
        let t = P2pTarget::from_name(bug.target.name()).unwrap();
        for r in bug.regressions {
            let data = std::fs::read(corpora().join("regressions").join(r.file)).unwrap();
            let report = t.run(&data);
            if bug.enabled() {
                assert_eq!(report.signature(), Some(r.signature), "{} build, {}: {:?}", bug.name, r.file, report.finding);
            } else if !any {
                assert_eq!(report.finding, None, "default build, {}", r.file);
            }
        }
    }
}

fn replay_json(file: &Path, target: &str) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_diverge"))
        .args(["replay", file.to_str().unwrap(), "--target", target, "--json"])
        .output()
        .expect("run diverge replay");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}; stderr {}", file.display(), String::from_utf8_lossy(&out.stderr)))
}

/// `diverge replay` of each regression, twice in fresh processes: identical verdicts (with their
/// counters), state and status, and the status this build expects.
#[test]
fn regressions_replay_identically_in_fresh_processes() {
    let any = any_p2p_bug();
    for bug in p2p_bugs() {
        for r in bug.regressions {
            let file = corpora().join("regressions").join(r.file);
            let (a, b) = (replay_json(&file, bug.target.name()), replay_json(&file, bug.target.name()));
            assert_eq!(a["verdicts"], b["verdicts"], "{}", r.file);
            assert_eq!(a["state"], b["state"], "{}", r.file);
            assert_eq!(a["status"], b["status"], "{}", r.file);
            assert_eq!(a["verdicts"].as_array().map(Vec::len), Some(2), "{a}");
            if bug.enabled() {
                assert_eq!(a["status"], "diverged", "{}", r.file);
                assert_eq!(a["divergence"]["signature"], r.signature, "{}", r.file);
            } else if !any {
                assert_eq!(a["status"], "agreed", "{}: {a}", r.file);
            }
        }
    }
}

/// A bug build's regression through the session writes a finding like every target's: its
/// input, the signature, one verdict per implementation whose message carries that network's
/// counters (and the oracle's detail for the one it names), and `diverge replay` of the finding
/// directory reproduces it.
#[test]
fn findings_carry_the_networks_counters_and_replay() {
    use diverge::findings::FindingStore;
    use diverge::runner::RunnerConfig;
    use diverge::session::{default_pool_dir, Session};
    use diverge_types::Preset;
    let session = Session::new(Preset::Minimal, &default_pool_dir(Preset::Minimal), RunnerConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = FindingStore { root: dir.path().to_path_buf() };
    for bug in p2p_bugs().into_iter().filter(|b| b.enabled()) {
        let r = &bug.regressions[0];
        let data = std::fs::read(corpora().join("regressions").join(r.file)).unwrap();
        let (outcome, written) = session.run_and_record(bug.target, &data, &store, "test").unwrap();
        assert_eq!(outcome.signature(), Some(r.signature), "{}", bug.name);
        let (path, new) = written.unwrap();
        assert!(new);
        let (finding, input, _) = diverge::findings::load(&path).unwrap();
        assert_eq!(input, data);
        assert_eq!(finding.signature, r.signature);
        assert_eq!(finding.verdicts.len(), 2);
        for v in &finding.verdicts {
            let m = v.message.as_deref().unwrap_or_default();
            assert!(m.contains("sent ") && m.contains("per node [") && m.contains("external events") && m.contains("virtual time"), "{}: {m}", v.implementation);
        }
        let oracle = r.signature.rsplit(": ").next().unwrap();
        assert!(finding.verdicts.iter().any(|v| v.implementation == "port" && v.kind == oracle), "{:?}", finding.verdicts);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_diverge")).args(["replay", path.to_str().unwrap(), "--json"]).output().unwrap();
        let replayed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(replayed["divergence"]["signature"], r.signature);
    }
}
