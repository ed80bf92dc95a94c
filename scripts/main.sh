#!/usr/bin/env bash
# The main job on real input: the official phase0 spec vectors (both presets) through every
# implementation, then every target fuzzed from the shipped seeds for a short campaign
# (DIVERGE_FUZZ_DURATION, default 120s, all cores), ending with the summary table and the findings
# directory. Fetches or generates the vectors when none are found. Extra arguments go to
# `diverge vectors` (e.g. --json, --runner operations).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DIVERGE_SPEC_TESTS:-}" ] && [ ! -d ../shared/consensus-spec-tests/tests ] && [ ! -d spec-tests/tests ]; then
  echo "no spec vectors found: providing them with scripts/get-spec-tests.sh" >&2
  bash scripts/get-spec-tests.sh >/dev/null
fi
cargo build --release --locked -p diverge
status=0
target/release/diverge vectors --preset all "$@" || status=$?
echo
echo "== fuzz campaign: every target, ${DIVERGE_FUZZ_DURATION:-120s}, findings in findings/"
target/release/diverge fuzz --all --duration "${DIVERGE_FUZZ_DURATION:-120s}" --findings findings || status=$?
exit $status
