//! A pool shipped as its manifest alone (the mainnet one: `corpora/states/mainnet/manifest.json`
//! is committed, its states, about 0.2–0.6 MB each, are not) is built at first use: when a state
//! file the manifest lists is missing, [`super::load`] rebuilds the pool from the spec
//! vectors into a directory beside it, with the defaults of `diverge corpus build`
//! ([`super::default_max_states`]), checks that the rebuilt manifest lists exactly the shipped
//! ids, files, roots and sources, and only then moves the missing files into place. A rebuild
//! that differs (other vectors, another generator) leaves the pool as it was and says where.

use super::{Manifest, PoolEntry};
use diverge_types::EthSpec;
use std::path::Path;

/// The first entry where `built` differs from `shipped`, described.
fn first_difference(shipped: &[PoolEntry], built: &[PoolEntry]) -> Option<String> {
    for (i, s) in shipped.iter().enumerate() {
        match built.get(i) {
            None => return Some(format!("the rebuild has {} states, the manifest {}", built.len(), shipped.len())),
            Some(b) if b != s => return Some(format!("state {i}: manifest {} ({}), rebuilt {} ({})", s.root, s.source, b.root, b.source)),
            Some(_) => {}
        }
    }
    (built.len() != shipped.len()).then(|| format!("the rebuild has {} states, the manifest {}", built.len(), shipped.len()))
}

/// Builds the states `shipped` lists but `dir` lacks, from the vectors `diverge vectors` finds.
///
/// # Errors
/// No vectors found, a failed build, or a rebuild whose manifest differs from `shipped`.
pub(super) fn build_missing<E: EthSpec>(dir: &Path, shipped: &Manifest) -> Result<(), String> {
    let tests = crate::vectors::default_tests_dir().map_err(|e| format!("not built: {e}"))?;
    // One builder at a time (workers of one campaign load the pool at once): the others wait on
    // the lock, then find the files in place.
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".first-use.lock")).map_err(|e| format!("not built: locking {}: {e}", dir.display()))?;
    // SAFETY: flock on a file descriptor this function owns; released when `lock` is dropped.
    #[allow(unsafe_code, reason = "flock(2) has no safe wrapper in std; the descriptor is owned by `lock`")]
    let locked = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) } == 0;
    if !locked {
        return Err(format!("not built: cannot lock {}", dir.display()));
    }
    if shipped.states.iter().all(|e| dir.join(&e.file).exists()) {
        return Ok(());
    }
    // A builder killed midway (a campaign's end) leaves its directory: remove every one.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".first-use-") && e.path().is_dir() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let tmp = dir.join(format!(".first-use-{}", std::process::id()));
    let start = std::time::Instant::now();
    eprintln!("pool {}: {} states missing, building them from {} (first use) ...", dir.display(), shipped.states.iter().filter(|e| !dir.join(&e.file).exists()).count(), tests.display());
    let outcome = super::build::<E>(&tests, &tmp, super::default_max_states(E::PRESET_BASE)).map_err(|e| e.to_string()).and_then(|(built, _)| match first_difference(&shipped.states, &built.states) {
        Some(d) => Err(format!("the pool rebuilt from {} differs from {}: {d}", tests.display(), dir.join("manifest.json").display())),
        None => {
            for e in &shipped.states {
                let to = dir.join(&e.file);
                if !to.exists() {
                    std::fs::rename(tmp.join(&e.file), &to).map_err(|err| format!("moving {} into place: {err}", to.display()))?;
                }
            }
            Ok(())
        }
    });
    let _ = std::fs::remove_dir_all(&tmp);
    drop(lock);
    if outcome.is_ok() {
        eprintln!("pool {}: built and checked against its manifest in {:.1} s", dir.display(), start.elapsed().as_secs_f64());
    }
    outcome
}

/// Builds a first-use pool's missing states now (see the module doc), for a process that starts
/// workers: call it before they load the pool, so that they find it built. A pool without
/// `built_at_first_use`, or with every file present, is left alone.
///
/// # Errors
/// An unreadable manifest, an unknown preset, or the build's error.
pub fn ensure_built(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).map_err(|e| format!("{}: {e}", dir.join("manifest.json").display()))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", dir.join("manifest.json").display()))?;
    if !manifest.built_at_first_use || manifest.states.iter().all(|e| dir.join(&e.file).exists()) {
        return Ok(());
    }
    match manifest.preset.as_str() {
        "minimal" => build_missing::<diverge_types::MinimalSpec>(dir, &manifest),
        "mainnet" => build_missing::<diverge_types::MainnetSpec>(dir, &manifest),
        other => Err(format!("unknown preset {other}")),
    }
}
