#!/usr/bin/env bash
# The test suite: lints (the no-panic policy of impls/ included), every test of the workspace, then
# the bug builds: each re-injected historical bug must make its regression diverge as expected.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo test --locked --release --workspace

# drand DKG bugs (bugs.md B), forwarded by the diverge package to dkg-drand.
for feature in pre1318 pre1343 short-signature-slice; do
  echo "== bug build: $feature"
  cargo test --locked --release -p diverge --features "$feature" --test dkg_regressions --test dkg_smoke
done
