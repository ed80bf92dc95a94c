#!/usr/bin/env bash
# Smoke test of the AFL++ farm (docs/farm.md): `diverge farm afl` with one instance on one
# target for the given time, reusing ci/engines-smoke.sh's AFL++ build, its metrics endpoint
# scraped while it runs (AFL++ executions must be counted there), the plan it reports (one -M with
# the dictionary and AFL_FINAL_SYNC), a clean stop and exit 0 (no new finding on the default build).
#   ci/farm-smoke.sh [SECONDS] [TARGET]      (default: 20 attestation)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
t=${2:-attestation}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
target/release/diverge farm afl --cores 1 --target "$t" --duration "$secs" --sync-dir "$work/farm" \
  --findings "$work/findings" --metrics "127.0.0.1:$port" --json > "$work/farm.json" 2> "$work/farm.log" &
pid=$!
# fuzzer_stats appear after AFL++'s calibration; the farm republishes every 5 s.
sleep $((secs * 2 / 3))
scrape=$(curl -s "http://127.0.0.1:$port/metrics" || true)
status=0
wait "$pid" || { echo "FAIL: diverge farm afl exited nonzero" >&2; tail -30 "$work/farm.log" >&2; status=1; }
execs=$(grep -E "^diverge_afl_execs_total\{.*target=\"$t\"" <<<"$scrape" | awk '{print $2}' | head -1)
if [ -z "$execs" ] || [ "$execs" = 0 ]; then
  echo "FAIL: the farm's metrics showed no AFL++ executions for $t" >&2
  echo "$scrape" | grep -v '^#' >&2
  status=1
else
  echo "   metrics during the run: diverge_afl_execs_total{target=\"$t\"} $execs"
fi
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("   final:", json.dumps(d)[:400])' "$work/farm.json" || status=1
# The one-core plan (docs/farm.md): the -M with the dictionary and the final sync.
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["plan"]
print("   plan:", "; ".join(i["kind"] + ": " + i["command"] for i in p))
ok = len(p) == 1 and p[0]["kind"] == "main" and " -x" in p[0]["command"] and "AFL_FINAL_SYNC=1" in p[0]["command"]
sys.exit(0 if ok else "FAIL: unexpected one-core plan")' "$work/farm.json" || status=1
exit $status
