#!/usr/bin/env bash
# Smoke test of every target under libFuzzer (cargo fuzz, stable, -s none), from the shipped seeds,
# on the default build: each must run for the given time and report no finding. (The built-in loop's
# smoke is the README's main command, scripts/main.sh, which CI runs before this: `diverge fuzz
# --all` over every target, failing on any new finding.)
#   ci/fuzz-smoke.sh [SECONDS]      (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
targets=$(target/release/diverge list --json | python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin)["targets"]))')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
cargo fuzz build --fuzz-dir targets -s none -O
for t in $targets; do
  echo "== $t: libFuzzer, ${secs}s"
  mkdir -p "$work/corpus-$t"
  if ! DIVERGE_FINDINGS="$work/findings-libfuzzer" cargo fuzz run --fuzz-dir targets -s none -O "$t" "$work/corpus-$t" "corpora/$t" -- \
      -max_total_time="$secs" -print_final_stats=1 > "$work/$t.log" 2>&1; then
    echo "FAIL: $t: libFuzzer stopped with a crash or error" >&2
    tail -40 "$work/$t.log" >&2
    status=1
  fi
  grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' "$work/$t.log" | sed 's/^/   /'
done
exit $status
