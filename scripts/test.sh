#!/usr/bin/env bash
# The test suite: lints (the no-panic policy of impls/ included), then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo test --locked --release --workspace
