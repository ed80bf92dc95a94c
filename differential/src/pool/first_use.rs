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
    if outcome.is_ok() {
        eprintln!("pool {}: built and checked against its manifest in {:.1} s", dir.display(), start.elapsed().as_secs_f64());
    }
    outcome
}
