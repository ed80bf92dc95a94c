#!/usr/bin/env bash
# The test suite (the README's test command): provides the spec vectors when none are found, lints
# (the no-panic policy of impls/ included) with default features and with every re-injected bug
# compiled in, every test of the workspace, then one build per bug: its regression inputs must
# diverge as the registry says (differential/oracle/src/bugs.rs, read through `diverge list --bugs`).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
step() { echo "== [$(date -u +%H:%M:%S), ${SECONDS}s] $*"; }

# The vectors: looked up as every test does (impls/test-vectors); without them the vector tests fail.
# When they must be provided, that runs in the background (scripts/get-spec-tests.sh: a download,
# or generation on every core) while clippy and the test build run, and the tests wait for it.
gen=
if [ -z "${DIVERGE_SPEC_TESTS:-}" ] && [ ! -d ../shared/consensus-spec-tests/tests ]; then
  if [ -d spec-tests/tests/minimal/phase0 ] && [ -d spec-tests/tests/mainnet/phase0 ]; then
    step "spec vectors: spec-tests/tests"
  else
    step "no spec vectors (\$DIVERGE_SPEC_TESTS unset, no ../shared/consensus-spec-tests/tests, no spec-tests/tests):" \
      "providing them with scripts/get-spec-tests.sh in the background, log spec-tests/get-spec-tests.log (download;" \
      "without GitHub access, generation from PyPI eth2spec==1.1.10 with Python 3.9 on every core: about 68 min" \
      "on one core, less with more; once only), while clippy and the test build run"
    mkdir -p spec-tests
    gen_start=$SECONDS
    bash scripts/get-spec-tests.sh > spec-tests/get-spec-tests.log 2>&1 &
    gen=$!
  fi
fi
wait_vectors() {
  [ -n "$gen" ] || return 0
  step "waiting for the spec vectors (scripts/get-spec-tests.sh, log spec-tests/get-spec-tests.log)"
  wait "$gen" || { tail -30 spec-tests/get-spec-tests.log >&2; echo "error: scripts/get-spec-tests.sh failed" >&2; exit 1; }
  step "spec vectors ready in spec-tests/tests after $((SECONDS - gen_start))s"
  gen=
}

step "clippy, default features"
cargo clippy --locked --workspace --all-targets -- -D warnings
if [ -n "$gen" ]; then
  step "test build, default features (while the vectors are provided)"
  cargo test --locked --release --workspace --no-run
  wait_vectors
fi
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

# The bug builds: every bug of the registry, grouped so that no two bugs of a build touch one
# target (`diverge list --bug-builds`, differential/oracle/src/bugs.rs `builds`): 3 builds instead of one
# per bug. Each build runs the bug-checking tests of the crates its bugs live in: phase0 bugs
# (diverge-fast) bug_regressions (and panic_hooks, which checks crash verdicts through the runner);
# drand bugs (dkg-drand) the DKG regression, smoke and structured tests and dkg-drand's own
# scenarios; network incidents (p2p-port) p2p_regressions. Each test asks every enabled bug's
# regression for its registry signature and every other target's for the fixed verdict.
# (The list is read on fd 3, so nothing a test runs can consume it from stdin.)
builds=$(target/release/diverge list --bug-builds)
[ -n "$builds" ] || { echo "error: diverge list --bug-builds printed no build" >&2; exit 1; }
while IFS=$'\t' read -r -u 3 features crates; do
  step "bug build: $features (crates $crates)"
  tests=(); packages=(-p diverge)
  for krate in ${crates//,/ }; do
    case "$krate" in
      diverge-fast) tests+=(--test bug_regressions --test panic_hooks) ;;
      dkg-drand) packages+=(-p dkg-drand); tests+=(--test dkg_regressions --test dkg_smoke --test scenarios --test dkg_structured) ;;
      p2p-port) tests+=(--test p2p_regressions) ;;
      *) echo "error: scripts/test.sh does not know how to test bugs of crate $krate" >&2; exit 1 ;;
    esac
  done
  cargo test --locked --release "${packages[@]}" --features "$(sed 's|[^,]*|diverge/&|g' <<<"$features")" "${tests[@]}"
done 3<<<"$builds"
step "all tests passed"
