#!/usr/bin/env bash
# Proves the fuzzer can find something: a build with a re-injected historical bug (bugs.md) is
# fuzzed with the built-in loop from the shipped seeds (not from the regression file), and the
# expected divergence must be reported within a time bound.
#
#   ci/bug-smoke.sh [BUG] [SECONDS]     (default: attestation-committee-index-unchecked 120)
#
# BUG is a name or feature of the registry (`diverge list --bugs`: differential/oracle/src/bugs.rs), which
# gives its feature, target and expected signature. The seeds alone must not show the divergence
# (checked first), so what is found was found by mutation.
#
# The bug build goes to target/bug-smoke, so target/release/diverge stays the default build.
set -euo pipefail
cd "$(dirname "$0")/.."
bug=${1:-attestation-committee-index-unchecked}
bound=${2:-120}
cargo build --release --locked -p diverge
entry=$(target/release/diverge list --bugs | awk -F'\t' -v b="$bug" '$1 == b || $2 == b')
if [ -z "$entry" ]; then
  echo "ci/bug-smoke.sh: $bug is not a bug of the registry; known: $(target/release/diverge list --bugs | cut -f1 | paste -sd' ' -)" >&2
  exit 2
fi
IFS=$'\t' read -r bug feature _crate target expected <<<"$entry"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== bug build: $feature (target/bug-smoke)"
CARGO_TARGET_DIR=target/bug-smoke cargo build --release --locked -p diverge --features "$feature"
echo "== the seeds alone: corpora/$target"
target/bug-smoke/release/diverge run --target "$target" "corpora/$target" --findings "$work/seed-findings" --json > "$work/seeds.json" || true
# The seeds' report: exit 0 when no seed shows the divergence, 1 when one does, 2 when unreadable.
seeds_status=0
python3 - "$work/seeds.json" "$expected" <<'EOF' || seeds_status=$?
import json, sys
try:
    report = json.load(open(sys.argv[1]))
    signatures = [f["signature"] for f in report["findings"]]
except (OSError, ValueError, KeyError, TypeError) as e:
    print(f"FAIL: cannot read the seeds' report {sys.argv[1]}: {e}", file=sys.stderr)
    sys.exit(2)
print(f"   {report['inputs']} seeds: {signatures or 'no divergence'}")
if sys.argv[2] in signatures:
    print(f"FAIL: a shipped seed already shows {sys.argv[2]!r}: pick a bug the seeds do not reveal", file=sys.stderr)
    sys.exit(1)
EOF
[ "$seeds_status" -eq 0 ] || exit 1
echo "== fuzzing $target from corpora/$target for at most ${bound}s; expecting: $expected"
start=$(date +%s)
target/bug-smoke/release/diverge fuzz --target "$target" --duration "${bound}s" --stop-on-finding "$expected" \
  --findings "$work/findings" --json > "$work/report.json" || true
python3 - "$work/report.json" "$expected" "$bound" "$start" <<'EOF'
import json, sys, time
report, expected, bound, start = json.load(open(sys.argv[1])), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
t = report["targets"][0]
found = [f for f in t["findings"] if f["signature"] == expected]
print(f"   {t['execs']} execs, {t['execs_per_sec']:.0f} exec/s, findings: {[f['signature'] for f in t['findings']]}")
if not found:
    print(f"FAIL: {expected!r} not found within {bound:.0f} s", file=sys.stderr)
    sys.exit(1)
print(f"   found {expected!r} after {found[0]['after_secs']:.1f} s of fuzzing ({time.time() - start:.0f} s with start-up)")
EOF
