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
//!
//! Every test checks something in every build: where the build has a target's bug, that bug's
//! verdicts; elsewhere the fixed verdicts (a bug build has at most one bug per target,
//! `diverge list --bug-builds`).

use diverge::bugs::{Bug, BUGS, P2P};
use diverge::p2p::{check_corpus, P2pTarget};
use std::path::{Path, PathBuf};

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpora")
}

fn p2p_bugs() -> Vec<&'static Bug> {
    BUGS.iter().filter(|b| b.krate == P2P).collect()
}

/// Whether this build has a bug of `target` compiled in. `diverge list --bug-builds` groups the
/// bugs so that no two of one build touch one target: every other target of a bug build runs its
/// fixed code and must give the fixed verdicts.
fn bug_on(target: &str) -> bool {
    p2p_bugs().iter().any(|b| b.enabled() && b.target.name() == target)
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
    assert_eq!(bugs.len(), 4);
    for b in bugs {
        assert!(b.target.is_p2p(), "{}", b.name);
        assert_eq!(b.regressions.len(), 1, "{}", b.name);
        assert_eq!(b.regressions[0].file, format!("{}/{}.bin", b.target.name(), b.feature));
    }
}

/// Every build: port and model agree on every shipped seed, and no oracle trips. The seeds are
/// the protocol's normal behaviour, which the pre-fix code handles too (each incident needs an
/// interleaving no seed has), so a bug build is held to the same verdicts: this test never skips.
#[test]
fn port_and_model_agree_on_every_shipped_seed() {
    let mut n = 0;
    for t in P2pTarget::ALL {
        let (seeds, warnings) = diverge::fuzz::load_seeds(&corpora().join(t.name()));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!seeds.is_empty(), "{}: no seeds", t.name());
        for s in seeds {
            let report = t.run(&s);
            assert_eq!(report.finding, None, "{}: a seed trips {:?}", t.name(), report.finding);
            assert!(report.stats.iter().all(|s| s.sent > 0), "{}: a seed sends nothing: {:?}", t.name(), report.stats);
            n += 1;
        }
    }
    assert!(n >= 15, "{n} seeds");
}

/// A bug build gives the registry's signature on its regression; the default build nothing.
#[test]
fn registry_regressions_give_this_builds_verdicts() {
    let mut checked = 0;
    for bug in p2p_bugs() {
        let t = P2pTarget::from_name(bug.target.name()).unwrap();
        for r in bug.regressions {
            let data = std::fs::read(corpora().join("regressions").join(r.file)).unwrap();
            let report = t.run(&data);
            if bug.enabled() {
                assert_eq!(report.signature(), Some(r.signature), "{} build, {}: {:?}", bug.name, r.file, report.finding);
                checked += 1;
            } else if !bug_on(bug.target.name()) {
                assert_eq!(report.finding, None, "{}: fixed code of {} in this build, {:?}", r.file, bug.target.name(), diverge::bugs::enabled_features());
                checked += 1;
            }
        }
    }
    // Only a regression of another bug of a target whose bug this build has is left unchecked
    // (its verdict under that bug is not specified): every target checks at least one.
    let targets: std::collections::BTreeSet<&str> = p2p_bugs().iter().map(|b| b.target.name()).collect();
    assert!(checked >= targets.len(), "{checked} regressions checked for {} targets", targets.len());
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
            } else if !bug_on(bug.target.name()) {
                assert_eq!(a["status"], "agreed", "{}: {a}", r.file);
            }
        }
    }
}

/// Each regression through the session, in every build. Where this build has the regression's
/// bug, it writes a finding like every target's: its input, the signature, one verdict per
/// implementation whose message carries that network's counters (and the oracle's detail for the
/// one it names), and `diverge replay` of the finding directory reproduces it. Where it runs the
/// fixed code, the outcome agrees, nothing is written, and each verdict carries the counters of
/// the network that implementation ran (equal to the runner's own report, and not zero).
#[test]
fn findings_carry_the_networks_counters_and_replay() {
    use diverge::findings::FindingStore;
    use diverge::runner::RunnerConfig;
    use diverge::session::{default_pool_dir, Outcome, Session};
    use diverge_types::Preset;
    let session = Session::new(Preset::Minimal, &default_pool_dir(Preset::Minimal), RunnerConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = FindingStore { root: dir.path().to_path_buf() };
    let counters = |m: &str| m.contains("sent ") && m.contains("per node [") && m.contains("external events") && m.contains("virtual time");
    for bug in p2p_bugs() {
        let r = &bug.regressions[0];
        let data = std::fs::read(corpora().join("regressions").join(r.file)).unwrap();
        let (outcome, written) = session.run_and_record(bug.target, &data, &store, "test").unwrap();
        if !bug.enabled() && bug_on(bug.target.name()) {
            continue; // another bug of this target is on: this regression's verdict is not specified
        }
        if !bug.enabled() {
            let Outcome::Agreed { verdicts, .. } = &outcome else { panic!("{}: fixed code diverged: {:?}", r.file, outcome.signature()) };
            assert!(written.is_none(), "{}", r.file);
            let report = P2pTarget::from_name(bug.target.name()).unwrap().run(&data);
            assert_eq!(verdicts.len(), report.stats.len());
            for (v, s) in verdicts.iter().zip(&report.stats) {
                assert_eq!((v.implementation.as_str(), v.kind.as_str()), (s.implementation.as_str(), "ok"));
                assert_eq!(v.message.as_deref(), Some(s.line().as_str()), "{}", r.file);
                assert!(s.sent > 0 && s.delivered > 0 && s.external_events > 0, "{}: {}", r.file, s.line());
            }
            continue;
        }
        assert_eq!(outcome.signature(), Some(r.signature), "{}", bug.name);
        let (path, new) = written.unwrap();
        assert!(new);
        let (finding, input, _) = diverge::findings::load(&path).unwrap();
        assert_eq!(input, data);
        assert_eq!(finding.signature, r.signature);
        assert_eq!(finding.verdicts.len(), 2);
        for v in &finding.verdicts {
            let m = v.message.as_deref().unwrap_or_default();
            assert!(counters(m), "{}: {m}", v.implementation);
        }
        let oracle = r.signature.rsplit(": ").next().unwrap();
        assert!(finding.verdicts.iter().any(|v| v.implementation == "port" && v.kind == oracle), "{:?}", finding.verdicts);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_diverge")).args(["replay", path.to_str().unwrap(), "--json"]).output().unwrap();
        let replayed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(replayed["divergence"]["signature"], r.signature);
    }
}
