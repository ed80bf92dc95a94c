//! Records the git commit this `diverge` is built from, as `DIVERGE_GIT_COMMIT` for
//! `diverge --version` and every `finding.json` (`diverge::BUILD_COMMIT`): the environment variable
//! `DIVERGE_GIT_COMMIT` when set (the community image sets it: its build context has no `.git`),
//! else `git rev-parse HEAD`, else `unknown`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=DIVERGE_GIT_COMMIT");
    let commit = std::env::var("DIVERGE_GIT_COMMIT").ok().filter(|s| !s.trim().is_empty()).or_else(|| git(&["rev-parse", "HEAD"])).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=DIVERGE_GIT_COMMIT={commit}");
    // Built again when HEAD moves (only paths that exist: a missing one would rerun every build).
    for path in ["HEAD", "refs/heads", "packed-refs"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            if std::path::Path::new(&p).exists() {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
}
