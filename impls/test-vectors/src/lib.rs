//! Where the official consensus-spec-tests vectors (the `tests` directory of consensus-spec-tests
//! v1.1.10: `<preset>/phase0/<runner>/<handler>/<suite>/<case>/`) are, looked up in one place for
//! every test that needs them and for the `diverge` CLI's default:
//!
//! 1. `$DIVERGE_SPEC_TESTS` when set (then it is the only candidate: a mistyped path must not be
//!    silently replaced by other vectors);
//! 2. `<repository>/../shared/consensus-spec-tests/tests` (project machines);
//! 3. `<repository>/spec-tests/tests` (where `scripts/get-spec-tests.sh` puts them).
//!
//! A test without vectors fails naming every path tried ([`require`]); it never passes by
//! skipping.

use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable that names the vectors' `tests` directory.
pub const ENV: &str = "DIVERGE_SPEC_TESTS";

/// No vectors at any candidate path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotFound {
    /// Every path tried, in order (the first is `$DIVERGE_SPEC_TESTS` when set).
    pub tried: Vec<PathBuf>,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spec vectors (consensus-spec-tests v1.1.10 `tests` directory) not found; tried:")?;
        for p in &self.tried {
            write!(f, "\n  {}", p.display())?;
        }
        write!(f, "\nProvide them with `bash scripts/get-spec-tests.sh` (downloads, or generates them from PyPI eth2spec), or set {ENV} to a consensus-spec-tests `tests` directory.")
    }
}

impl std::error::Error for NotFound {}

/// The candidate directories for a repository at `root`, in lookup order: only `env` when it is
/// given (the value of `$DIVERGE_SPEC_TESTS`), else the shared and the fetched location.
pub fn candidates(root: &Path, env: Option<PathBuf>) -> Vec<PathBuf> {
    match env {
        Some(dir) => vec![dir],
        None => vec![root.join("..").join("shared").join("consensus-spec-tests").join("tests"), root.join("spec-tests").join("tests")],
    }
}

/// The first existing directory among [`candidates`] for the repository at `root`.
///
/// # Errors
/// [`NotFound`] with every path tried when none is a directory.
pub fn locate_in(root: &Path) -> Result<PathBuf, NotFound> {
    first_existing(candidates(root, std::env::var_os(ENV).map(PathBuf::from)))
}

/// The first of `tried` that is a directory.
///
/// # Errors
/// [`NotFound`] listing `tried` when none is.
pub fn first_existing(tried: Vec<PathBuf>) -> Result<PathBuf, NotFound> {
    match tried.iter().find(|p| p.is_dir()) {
        Some(dir) => Ok(dir.clone()),
        None => Err(NotFound { tried }),
    }
}

/// The repository this crate was built from (`impls/test-vectors/../..`).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// [`locate_in`] the repository this crate was built from.
///
/// # Errors
/// [`NotFound`] with every path tried.
pub fn locate() -> Result<PathBuf, NotFound> {
    locate_in(&repository_root())
}

/// For tests: the vectors' `tests` directory, or a failure naming every path tried.
///
/// # Panics
/// When no vectors are found (the test must fail, not pass by skipping).
#[allow(clippy::panic, reason = "test support: a test without its vectors fails with the paths tried")]
pub fn require() -> PathBuf {
    match locate() {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_order_and_the_paths_tried() {
        let tmp = std::env::temp_dir().join(format!("diverge-test-vectors-{}", std::process::id()));
        let repo = tmp.join("repo");
        let fetched = repo.join("spec-tests").join("tests");
        let shared = repo.join("..").join("shared").join("consensus-spec-tests").join("tests");
        assert_eq!(candidates(&repo, None), vec![shared.clone(), fetched.clone()]);
        assert_eq!(candidates(&repo, Some(PathBuf::from("/x"))), vec![PathBuf::from("/x")]);

        // Nothing there: the error names both paths (the environment is not consulted here).
        let err = first_existing(candidates(&repo, None)).err();
        assert_eq!(err, Some(NotFound { tried: vec![shared.clone(), fetched.clone()] }));
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains(&shared.display().to_string()) && msg.contains(&fetched.display().to_string()), "{msg}");
        assert!(msg.contains("scripts/get-spec-tests.sh"), "{msg}");

        // The fetched one, then the shared one taking precedence; an explicit one only.
        assert!(std::fs::create_dir_all(&fetched).is_ok());
        assert_eq!(first_existing(candidates(&repo, None)), Ok(fetched.clone()));
        assert!(std::fs::create_dir_all(&shared).is_ok());
        assert_eq!(first_existing(candidates(&repo, None)), Ok(shared.clone()));
        let missing = repo.join("nowhere");
        assert_eq!(first_existing(candidates(&repo, Some(missing.clone()))), Err(NotFound { tried: vec![missing] }));
        std::fs::remove_dir_all(&tmp).ok();
    }
}
