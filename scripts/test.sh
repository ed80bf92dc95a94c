#!/usr/bin/env bash
# The test suite (the README's test command): provides the spec vectors when none are found, lints
# (the no-panic policy of impls/ included) with default features and with every re-injected bug
# compiled in, every test of the workspace, then one build per bug: its regression inputs must
# diverge as the registry says (differential/src/bugs.rs, read through `diverge list --bugs`).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
step() { echo "== [$(date -u +%H:%M:%S), ${SECONDS}s] $*"; }

# The vectors: looked up as every test does (impls/test-vectors); without them the vector tests fail.
if [ -z "${DIVERGE_SPEC_TESTS:-}" ] && [ ! -d ../shared/consensus-spec-tests/tests ]; then
  if [ -d spec-tests/tests/minimal/phase0 ] && [ -d spec-tests/tests/mainnet/phase0 ]; then
    step "spec vectors: spec-tests/tests"
  else
    step "no spec vectors (\$DIVERGE_SPEC_TESTS unset, no ../shared/consensus-spec-tests/tests, no spec-tests/tests):" \
      "providing them with scripts/get-spec-tests.sh (download; without GitHub access, generation from PyPI" \
      "eth2spec==1.1.10 with Python 3.9: slow, more than an hour on a busy 2-core machine; once only)"
    start=$SECONDS
    bash scripts/get-spec-tests.sh >/dev/null
    step "spec vectors ready in spec-tests/tests after $((SECONDS - start))s"
  fi
fi

step "clippy, default features"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "tests, default features"
cargo test --locked --release --workspace

# The registry, from the diverge binary the tests just built: name feature crate target signature.
bugs=$(target/release/diverge list --bugs)
[ -n "$bugs" ] || { echo "error: diverge list --bugs printed no bug" >&2; exit 1; }
# Every bug feature composes with the others (registry: no conflicting groups), so one clippy pass
# sees all bug code. diverge forwards each feature to its implementation crate.
all=$(cut -f2 <<<"$bugs" | sed 's|^|diverge/|' | paste -sd, -)
step "clippy, every bug feature and the test-only faults: $all,diverge/fault-injection"
cargo clippy --locked --workspace --all-targets --features "$all,diverge/fault-injection" -- -D warnings

# Crash isolation (issue 12 item 2): implementations that abort, overflow the stack, hang or blow up
# their memory on magic inputs (test-only feature) cost diverge fuzz/run/replay a worker restart and
# a finding, never the campaign; a panic or Internal in both is a finding too.
step "isolation tests (test-only fault-injection build)"
cargo test --locked --release -p diverge --features fault-injection --test isolation

# One `cargo test` per bug feature, with only the test binaries that check bugs. phase0 bugs
# (diverge-fast) recompile diverge-fast and diverge; drand bugs (dkg-drand) recompile dkg-drand and
# diverge and also run dkg-drand's own scenario tests under the feature; network incidents (p2p-port)
# recompile p2p-port and diverge.
# (The list is read on fd 3, so nothing a test runs can consume it from stdin.)
p2p_features=()
while IFS=$'\t' read -r -u 3 name feature krate target signature; do
  [ "$krate" = p2p-port ] || step "bug build: $feature ($name in $krate, target $target: $signature)"
  case "$krate" in
    diverge-fast)
      # panic_hooks checks crash verdicts through the runner: only for bugs that crash.
      hooks=(); [[ $signature == */crash ]] && hooks=(--test panic_hooks)
      cargo test --locked --release -p diverge --features "$feature" --test bug_regressions "${hooks[@]}" ;;
    dkg-drand) cargo test --locked --release -p diverge -p dkg-drand --features "diverge/$feature" \
      --test dkg_regressions --test dkg_smoke --test scenarios --test dkg_structured ;;
    # Network incidents (p2p-port): the three components are independent, so their bugs share one
    # build, tested after this loop (each enabled bug's regression must give its signature).
    p2p-port) p2p_features+=("$feature") ;;
    *) echo "error: scripts/test.sh does not know how to test bugs of crate $krate" >&2; exit 1 ;;
  esac
done 3<<<"$bugs"
if [ ${#p2p_features[@]} -gt 0 ]; then
  joined=$(IFS=,; echo "${p2p_features[*]}")
  step "bug build: $joined (p2p-port, one build: independent components)"
  cargo test --locked --release -p diverge --features "$joined" --test p2p_regressions
fi
step "all tests passed"
