#!/usr/bin/env bash
# The test suite: lints (the no-panic policy of impls/ included), every test of the workspace, then
# the bug builds: each re-injected historical bug must make its regression diverge as expected.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo test --locked --release --workspace

# Crash isolation (issue 12 item 2): implementations that abort, overflow the stack, hang or blow up
# their memory on magic inputs (test-only feature) cost diverge fuzz/run/replay a worker restart and
# a finding, never the campaign.
cargo test --locked --release -p diverge --features fault-injection --test isolation

# drand DKG bugs (bugs.md B), forwarded by the diverge package to dkg-drand.
for feature in pre1318 pre1343 short-signature-slice; do
  echo "== bug build: $feature"
  cargo test --locked --release -p diverge --features "$feature" --test dkg_regressions --test dkg_smoke
done

# phase0 bugs (bugs.md A), re-injected into diverge-fast (each build recompiles only diverge-fast
# and diverge): the bug's regression input must diverge with its signature, other targets agree.
for bug in empty-attesting-indices committee-index-eq-count proposer-slashing-epoch \
  proposer-slashing-signed-header-compare attester-slashing-index-unchecked proposer-slashing-overflow \
  deposit-merkle-unchecked attestation-committee-index-unchecked voluntary-exit-nocheck proposer-index-overflow; do
  echo "== bug build: bug-$bug"
  cargo test --locked --release -p diverge --features "bug-$bug" --test bug_regressions --test panic_hooks
done
