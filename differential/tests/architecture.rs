//! The structure is checked, not only described (issue 22 items 3 and 4):
//! - every workspace crate depends only on crates of a lower layer of the table in
//!   docs/architecture.md §2.1 (read from the document, checked against `cargo metadata`);
//! - a target exists in one place: `Target::ALL`, `targets/fuzz_targets/<name>.rs`, the `[[bin]]`
//!   entries of targets/Cargo.toml and `corpora/<name>/` name the same targets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_path_buf()
}

/// `crate -> layer` from the table after the `crate-layers` marker.
fn layers(doc: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let start = doc.find("<!-- crate-layers").expect("docs/architecture.md has the crate-layers table");
    for line in doc[start..].lines().skip(1) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !line.starts_with('|') {
            break;
        }
        let Some(layer) = cells.get(1).and_then(|c| c.parse::<u32>().ok()) else { continue };
        for name in cells.get(2).expect("crates column").split(',').map(str::trim).filter(|n| !n.is_empty()) {
            assert!(out.insert(name.to_string(), layer).is_none(), "{name} appears twice in the table");
        }
    }
    out
}

/// `crate -> its workspace dependencies` (normal and build), from `cargo metadata`.
fn workspace_graph(manifest: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages.iter().filter_map(|p| p["name"].as_str().map(str::to_string)).collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].is_null() || d["kind"] == "build")
                .filter_map(|d| d["name"].as_str().map(str::to_string))
                .filter(|d| names.contains(d))
                .collect();
            (p["name"].as_str().unwrap_or_default().to_string(), deps)
        })
        .collect()
}

/// Every dependency that points to the same or a higher layer, as `a (layer) -> b (layer)`.
fn violations(layers: &BTreeMap<String, u32>, graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (krate, deps) in graph {
        let Some(&own) = layers.get(krate) else {
            out.push(format!("{krate}: not in the table of docs/architecture.md §2.1"));
            continue;
        };
        for dep in deps {
            match layers.get(dep) {
                Some(&l) if l < own => {}
                Some(&l) => out.push(format!("{krate} (layer {own}) -> {dep} (layer {l})")),
                None => out.push(format!("{krate} -> {dep}: {dep} not in the table")),
            }
        }
    }
    out
}

#[test]
fn every_crate_depends_only_on_lower_layers() {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).expect("docs/architecture.md");
    let layers = layers(&doc);
    let graph = workspace_graph(&repo().join("Cargo.toml"));
    assert_eq!(layers.keys().collect::<BTreeSet<_>>(), graph.keys().collect::<BTreeSet<_>>(), "the table and the workspace list different crates");
    let bad = violations(&layers, &graph);
    assert!(bad.is_empty(), "dependencies against the layering:\n{}", bad.join("\n"));
    // The check can fail: an oracle that depended on the CLI crate, or one implementation on another.
    let mut broken = graph.clone();
    broken.get_mut("diverge-oracle").expect("oracle").insert("diverge".into());
    broken.get_mut("diverge-fast").expect("fast").insert("diverge-spec".into());
    let bad = violations(&layers, &broken);
    assert_eq!(bad, vec!["diverge-fast (layer 1) -> diverge-spec (layer 1)".to_string(), "diverge-oracle (layer 2) -> diverge (layer 3)".to_string()]);
}

#[test]
fn a_target_is_named_alike_in_every_place() {
    let root = repo();
    let all: BTreeSet<String> = diverge::target::Target::ALL.iter().map(|t| t.name().to_string()).collect();
    let fuzz_targets: BTreeSet<String> = std::fs::read_dir(root.join("targets/fuzz_targets"))
        .expect("targets/fuzz_targets")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".rs").map(str::to_string))
        .collect();
    let cargo = std::fs::read_to_string(root.join("targets/Cargo.toml")).expect("targets/Cargo.toml");
    let mut bins = BTreeSet::new();
    for section in cargo.split("[[bin]]").skip(1) {
        let field = |key: &str| section.lines().find_map(|l| l.trim().strip_prefix(key).and_then(|r| r.trim().strip_prefix('=')).map(|v| v.trim().trim_matches('"').to_string()));
        let name = field("name").expect("[[bin]] name");
        assert_eq!(field("path").as_deref(), Some(format!("fuzz_targets/{name}.rs").as_str()), "[[bin]] {name}: path");
        bins.insert(name);
    }
    let corpora: BTreeSet<String> = all.iter().filter(|t| root.join("corpora").join(t).is_dir()).cloned().collect();
    assert_eq!(fuzz_targets, all, "targets/fuzz_targets/*.rs against Target::ALL");
    assert_eq!(bins, all, "targets/Cargo.toml [[bin]] entries against Target::ALL");
    assert_eq!(corpora, all, "corpora/<target>/ against Target::ALL");
}
