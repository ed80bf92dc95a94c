//! Bad input gets a clear error and nothing is lost: copies of real spec vectors with a truncated
//! `.ssz_snappy`, a malformed YAML and a missing file are each reported with path and reason, and
//! every other case still runs and passes.

use diverge::registry::implementation_names;
use diverge::vectors::{discover, run_all, ResultRow, VectorsConfig};
use diverge_types::Preset;
use std::fs;
use std::path::Path;

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

fn real_vectors() -> std::path::PathBuf {
    let root = diverge_test_vectors::require();
    assert!(root.join("minimal/phase0").is_dir(), "no minimal/phase0 in the spec vectors at {} (scripts/get-spec-tests.sh)", root.display());
    root
}

fn row<'a>(rows: &'a [ResultRow], runner: &str, implementation: &str) -> &'a ResultRow {
    rows.iter().find(|r| r.runner == runner && r.implementation == implementation).unwrap_or_else(|| panic!("no row {runner}/{implementation}: {rows:#?}"))
}

#[test]
fn corrupt_case_files_are_reported_with_path_and_reason_and_the_rest_still_passes() {
    let real = real_vectors();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();

    // ssz_static: five real Checkpoint cases, three of them damaged.
    let ssz_src = real.join("minimal/phase0/ssz_static/Checkpoint/ssz_random");
    let ssz_dst = root.join("minimal/phase0/ssz_static/Checkpoint/ssz_random");
    copy_dir(&ssz_src, &ssz_dst);
    let truncated = ssz_dst.join("case_0/serialized.ssz_snappy");
    let bytes = fs::read(&truncated).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    fs::write(ssz_dst.join("case_1/roots.yaml"), "root: [unclosed\n").unwrap();
    fs::remove_file(ssz_dst.join("case_2/roots.yaml")).unwrap();

    // operations: real attestation cases, one with a truncated pre-state, one with a broken meta.yaml.
    let ops_src = real.join("minimal/phase0/operations/attestation/pyspec_tests");
    let ops_dst = root.join("minimal/phase0/operations/attestation/pyspec_tests");
    copy_dir(&ops_src, &ops_dst);
    let n_ops = fs::read_dir(&ops_dst).unwrap().count();
    let pre = ops_dst.join("success/pre.ssz_snappy");
    let bytes = fs::read(&pre).unwrap();
    fs::write(&pre, &bytes[..100]).unwrap();
    fs::write(ops_dst.join("invalid_index/meta.yaml"), "bls_setting: {1: [\n").unwrap();

    let config = VectorsConfig { root: root.to_path_buf(), presets: vec![Preset::Minimal], runners: vec![], implementations: vec![] };
    let (cases, skipped) = discover(&config).unwrap();
    assert!(skipped.is_empty());
    let rows = run_all(&cases, &[], &|_| {});

    let ssz = row(&rows, "ssz_static", "ssz");
    assert_eq!((ssz.passed, ssz.failed), (2, 3), "{ssz:#?}");
    let reason_for = |row: &ResultRow, case: &str| -> String {
        row.failures.iter().find(|f| f.case.ends_with(case)).map(|f| f.reason.clone()).unwrap_or_else(|| panic!("{case} not failed: {row:#?}"))
    };
    let r0 = reason_for(ssz, "case_0");
    assert!(r0.contains("case_0/serialized.ssz_snappy") && r0.contains("invalid snappy data"), "{r0}");
    let r1 = reason_for(ssz, "case_1");
    assert!(r1.contains("case_1/roots.yaml") && r1.contains("invalid YAML"), "{r1}");
    let r2 = reason_for(ssz, "case_2");
    assert!(r2.contains("case_2/roots.yaml") && r2.contains("cannot read"), "{r2}");

    let names = implementation_names();
    assert!(!names.is_empty(), "no implementation registered");
    for name in names {
        let ops = row(&rows, "operations", name);
        assert_eq!((ops.passed, ops.failed), (n_ops - 2, 2), "{ops:#?}");
        let r = reason_for(ops, "pyspec_tests/success");
        assert!(r.contains("success/pre.ssz_snappy") && r.contains("invalid"), "{r}");
        let r = reason_for(ops, "pyspec_tests/invalid_index");
        assert!(r.contains("invalid_index/meta.yaml") && r.contains("invalid YAML"), "{r}");
    }
}

#[test]
fn a_missing_preset_directory_is_a_setup_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let config = VectorsConfig { root: tmp.path().to_path_buf(), presets: vec![Preset::Mainnet], runners: vec![], implementations: vec![] };
    let err = discover(&config).unwrap_err().to_string();
    assert!(err.contains("mainnet") && err.contains(&tmp.path().display().to_string()), "{err}");
}

#[test]
fn unknown_runners_and_handlers_are_listed_as_skipped_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("minimal/phase0/fork_choice/get_head/pyspec_tests/genesis")).unwrap();
    fs::create_dir_all(tmp.path().join("minimal/phase0/operations/sync_aggregate/pyspec_tests/a")).unwrap();
    let config = VectorsConfig { root: tmp.path().to_path_buf(), presets: vec![Preset::Minimal], runners: vec![], implementations: vec![] };
    let (cases, skipped) = discover(&config).unwrap();
    assert!(cases.is_empty());
    assert_eq!(skipped.len(), 2);
    for row in &skipped {
        assert_eq!(row.skipped, 1);
        assert!(row.skip_reason.as_deref().unwrap().contains(&row.runner), "{row:?}");
    }
}
