#!/usr/bin/env bash
# The main job on real input: the official phase0 spec vectors (both presets) through every
# implementation, then every target fuzzed from the shipped seeds for a short campaign
# (DIVERGE_FUZZ_DURATION, default 120s, all cores), ending with the summary table and the findings
# directory. Fetches or generates the vectors when none are found, overlapping that with the build.
# Extra arguments go to `diverge vectors` (e.g. --json, --runner operations). Says up front what
# it will do and about how long each step takes on the project's 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
fuzz_for=${DIVERGE_FUZZ_DURATION:-120s}
vectors=
for d in "${DIVERGE_SPEC_TESTS:-}" ../shared/consensus-spec-tests/tests spec-tests/tests; do
  if [ -n "$d" ] && [ -d "$d" ]; then vectors=$d; break; fi
  # $DIVERGE_SPEC_TESTS, when set, is the only place looked at (impls/test-vectors).
  [ -z "${DIVERGE_SPEC_TESTS:-}" ] || break
done
if [ -x target/release/diverge ]; then build_time="seconds when up to date, a few minutes after a change"; else build_time="about 12 min from scratch, measured on a loaded machine"; fi
cat >&2 <<PLAN
main.sh: what this does (times measured on the project's 2-core machine):
  1. spec vectors: $(if [ -n "$vectors" ]; then echo "found in $vectors"; elif [ -n "${DIVERGE_SPEC_TESTS:-}" ]; then echo "DIVERGE_SPEC_TESTS=$DIVERGE_SPEC_TESTS does not exist: step 3 will say so"; else echo "none found: scripts/get-spec-tests.sh downloads them (a minute), or where it cannot, generates them from PyPI's eth2spec 1.1.10 on every core (about 68 min on one core, less with more; once only, into spec-tests/), while step 2 builds"; fi)
  2. cargo build --release -p diverge ($build_time)
  3. diverge vectors --preset all: every official phase0 vector of both presets through every implementation (about 1.5 min: 85-97 s measured on a loaded machine)
  4. diverge fuzz --all for $fuzz_for on all cores from the shipped seeds, findings in findings/ (DIVERGE_FUZZ_DURATION)
PLAN
gen=
if [ -z "$vectors" ] && [ -z "${DIVERGE_SPEC_TESTS:-}" ]; then
  mkdir -p spec-tests
  echo "== [${SECONDS}s] 1. no spec vectors found: scripts/get-spec-tests.sh in the background (log: spec-tests/get-spec-tests.log)" >&2
  bash scripts/get-spec-tests.sh > spec-tests/get-spec-tests.log 2>&1 &
  gen=$!
fi
echo "== [${SECONDS}s] 2. cargo build --release -p diverge" >&2
cargo build --release --locked -p diverge
if [ -n "$gen" ]; then
  echo "== [${SECONDS}s] waiting for the spec vectors (scripts/get-spec-tests.sh, log spec-tests/get-spec-tests.log)" >&2
  wait "$gen" || { tail -30 spec-tests/get-spec-tests.log >&2; echo "error: scripts/get-spec-tests.sh failed (spec-tests/get-spec-tests.log)" >&2; exit 2; }
  echo "== [${SECONDS}s] spec vectors ready in spec-tests/tests" >&2
fi
status=0
echo "== [${SECONDS}s] 3. diverge vectors --preset all" >&2
target/release/diverge vectors --preset all "$@" || status=$?
echo
echo "== [${SECONDS}s] 4. fuzz campaign: every target, $fuzz_for, findings in findings/"
target/release/diverge fuzz --all --duration "$fuzz_for" --findings findings || status=$?
echo "== main.sh: ${SECONDS}s in all" >&2
exit $status
