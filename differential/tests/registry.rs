//! The registry of re-injected bugs and targets (`diverge::bugs`) is the only list: every Cargo
//! feature, regression file and script must agree with it, and `diverge list` prints it.

use diverge::bugs::{builds, check_features, check_regression_files, check_repository, check_script, expected_features, parse_features, BUGS, OTHER_REGRESSIONS};
use std::collections::BTreeMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The repository agrees with the registry: manifests, regression files, scripts.
#[test]
fn repository_agrees_with_the_registry() {
    let problems = check_repository(root());
    assert!(problems.is_empty(), "the registry (differential/oracle/src/bugs.rs) and the repository disagree:\n  {}", problems.join("\n  "));
}

/// Names and features are unique, implied features are registered, every bug has a regression.
#[test]
fn registry_is_well_formed() {
    let mut names = std::collections::BTreeSet::new();
    for b in BUGS {
        assert!(names.insert(b.name), "duplicate {}", b.name);
        assert!(names.insert(b.feature) || b.feature == b.name, "duplicate feature {}", b.feature);
        assert!(!b.regressions.is_empty(), "{}: no regression input", b.name);
        assert!(b.implies.iter().all(|f| BUGS.iter().any(|o| o.feature == *f)), "{}: implies an unregistered feature", b.name);
        for r in b.regressions {
            assert!(r.file.starts_with(&format!("{}/", r.signature.split(':').next().unwrap_or_default())), "{}: {} is not under its signature's target", b.name, r.file);
            // (Target names may carry digits: p2p_announce.)
            let after_target = r.signature.split_once(": ").map_or(r.signature, |(_, rest)| rest);
            assert!(!after_target.chars().any(|c| c.is_ascii_digit()), "{}: signatures carry no digits", b.name);
        }
        assert!(b.signature().starts_with(&format!("{}: ", b.target.name())), "{}: signature of another target", b.name);
    }
}

/// The bug builds hold every bug exactly once, no two bugs of a build touch one target (implied
/// bugs count), and there are no more builds than the most bugs touching one target.
#[test]
fn bug_builds_cover_every_bug_once_without_sharing_a_target() {
    let builds = builds();
    let touched = |b: &diverge::bugs::Bug| -> Vec<&'static str> {
        std::iter::once(b.target.name()).chain(b.implies.iter().map(|f| diverge::bugs::find(f).expect("registered").target.name())).collect()
    };
    let mut seen = std::collections::BTreeSet::new();
    for build in &builds {
        let mut targets = std::collections::BTreeSet::new();
        for b in &build.bugs {
            assert!(seen.insert(b.name), "{} in two builds", b.name);
            for t in touched(b) {
                assert!(targets.insert(t), "two bugs of build {} touch {t}", build.features());
            }
        }
    }
    assert_eq!(seen.len(), BUGS.len(), "a bug in no build");
    let mut per_target: BTreeMap<&str, usize> = BTreeMap::new();
    for b in BUGS {
        for t in touched(b) {
            *per_target.entry(t).or_default() += 1;
        }
    }
    let least = per_target.values().copied().max().unwrap_or(0);
    assert_eq!(builds.len(), least, "{builds:?}");
    assert!(builds.len() < BUGS.len(), "grouping saves builds: {} for {} bugs", builds.len(), BUGS.len());
}

fn features(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect())).collect()
}

/// The checks report what they should: fabricated manifests, file lists and scripts that
/// disagree are caught, the agreeing ones are not.
#[test]
fn checks_report_fabricated_mismatches() {
    // Agreeing: exactly the expected table (plus ignored non-bug features).
    let mut good = expected_features("diverge-fast");
    assert_eq!(good.len(), 10);
    assert!(check_features("diverge-fast", &good, &[]).is_empty());
    good.insert("default".into(), vec![]);
    assert!(check_features("diverge-fast", &good, &["default"]).is_empty());

    // A feature missing, one too many, a wrong forwarding.
    let mut bad = expected_features("diverge-oracle");
    bad.remove("bug-deposit-merkle-unchecked");
    bad.insert("bug-made-up".into(), vec!["diverge-fast/bug-made-up".into()]);
    bad.insert("pre1318".into(), vec!["dkg-drand/pre1318".into()]);
    let problems = check_features("diverge-oracle", &bad, &[]);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("bug-deposit-merkle-unchecked") && p.contains("not declared")));
    assert!(problems.iter().any(|p| p.contains("bug-made-up") && p.contains("not a bug")));
    assert!(problems.iter().any(|p| p.contains("pre1318") && p.contains("pre1343")));
    // Forwarding order does not matter.
    let reordered = features(&[("pre1318", &["pre1343", "dkg-drand/pre1318"]), ("pre1343", &["dkg-drand/pre1343"]), ("short-signature-slice", &["dkg-drand/short-signature-slice"])]);
    let p2p: Vec<&str> = diverge::bugs::BUGS.iter().filter(|b| b.krate == diverge::bugs::P2P).map(|b| b.feature).collect();
    let diverge_dkg: Vec<String> = check_features("diverge-oracle", &reordered, &[]).into_iter().filter(|p| !p.contains("\"bug-") && !p2p.iter().any(|f| p.contains(f))).collect();
    assert!(diverge_dkg.is_empty(), "{diverge_dkg:?}");
    // diverge forwards to the oracle, which forwards to the implementation crates.
    assert_eq!(expected_features("diverge").get("pre1318"), Some(&vec!["diverge-oracle/pre1318".to_owned(), "pre1343".to_owned()]));
    // The targets crate forwards to diverge.
    assert_eq!(expected_features("diverge-targets").get("pre1343"), Some(&vec!["diverge/pre1343".to_owned()]));
    assert_eq!(expected_features("dkg-drand").get("pre1318"), Some(&vec!["pre1343".to_owned()]));

    // Regression files: one missing, one unclaimed.
    let mut files: Vec<String> = BUGS.iter().flat_map(|b| b.regressions.iter().map(|r| r.file.to_owned())).collect();
    files.extend(OTHER_REGRESSIONS.iter().map(|(f, _)| (*f).to_owned()));
    assert!(check_regression_files(&files).is_empty());
    files.retain(|f| f != "deposit/deposit-merkle-unchecked.bin");
    files.push("deposit/stray.bin".into());
    let problems = check_regression_files(&files);
    assert_eq!(problems.len(), 2, "{problems:?}");

    // Scripts: an own list is reported, so is not asking the registry, and an unknown default.
    let own_list = "for bug in empty-attesting-indices committee-index-eq-count; do cargo test --features bug-$bug; done";
    let problems = check_script("test.sh", own_list, &[]);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(check_script("test.sh", "target/release/diverge list --bugs | cut -f2", &[]).is_empty());
    assert_eq!(check_script("smoke.sh", "diverge list --bugs; bug=${1:-no-such-bug}", &["no-such-bug"]).len(), 1);
    // A longer name containing a registered one is not that one.
    assert!(check_script("x.sh", "diverge list --bugs # pre1318-like pre13180", &[]).is_empty());

    // The manifest parser reads this workspace's form and refuses what it cannot read.
    let parsed = parse_features("[package]\nname = \"x\"\n[features]\n# c\ndefault = []\na = [\"b/c\", \"d\"]\n\n[dependencies]\ne = \"1\"\n").expect("parses");
    assert_eq!(parsed, features(&[("default", &[]), ("a", &["b/c", "d"])]));
    assert!(parse_features("[features]\na = [\n  \"b\",\n]\n").is_err());
}

/// `diverge list --json` is one document holding the registry; `--bugs` one line per bug.
#[test]
fn list_prints_the_registry() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_diverge")).args(args).output().expect("run diverge list");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let doc: serde_json::Value = serde_json::from_str(&run(&["list", "--json"])).expect("one JSON document");
    assert_eq!(doc["implementations"], serde_json::json!(["spec", "fast"]));
    let bugs = doc["bugs"].as_array().expect("bugs");
    assert_eq!(bugs.len(), BUGS.len());
    assert_eq!(bugs[0]["feature"], "bug-empty-attesting-indices");
    assert_eq!(bugs[0]["crate"], "diverge-fast");
    assert_eq!(bugs[0]["target"], "attestation");
    assert_eq!(bugs[0]["regressions"][0]["file"], "attestation/empty-attesting-indices.bin");
    let block = doc["targets"].as_array().expect("targets").iter().find(|t| t["name"] == "block").expect("block").clone();
    assert_eq!(block, serde_json::json!({"name": "block", "strictness": "outcome", "seed_dir": "corpora/block"}));

    let lines: Vec<Vec<String>> = run(&["list", "--bugs"]).lines().map(|l| l.split('\t').map(str::to_owned).collect()).collect();
    assert_eq!(lines.len(), BUGS.len());
    for (line, b) in lines.iter().zip(BUGS) {
        assert_eq!(line, &[b.name, b.feature, b.krate, b.target.name(), b.signature()]);
    }
    let build_lines: Vec<String> = run(&["list", "--bug-builds"]).lines().map(str::to_owned).collect();
    let expected: Vec<String> = builds().iter().map(|b| format!("{}\t{}", b.features(), b.crates())).collect();
    assert_eq!(build_lines, expected);
    assert!(run(&["list"]).contains("pre1318: "));
}
