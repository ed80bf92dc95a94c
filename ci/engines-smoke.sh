#!/usr/bin/env bash
# AFL++ and honggfuzz on one target, with the commands of docs/engines.md, from the shipped seeds: each must
# run for the given time without a crash (no divergence on the default build); prints their exec/s.
# AFL++ then runs the same time again with the custom mutator library (mutators/afl,
# AFL_CUSTOM_MUTATOR_LIBRARY): it must report executions and the library's calls.
#
#   ci/engines-smoke.sh [SECONDS] [TARGET]      (default: 20 attestation)
#
# Needs ci/install-engines.sh afl honggfuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
t=${2:-attestation}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DIVERGE_FINDINGS="$work/findings"
status=0

echo "== $t: AFL++, ${secs}s"
(cd targets && CARGO_TARGET_DIR=target/afl cargo afl build --release --no-default-features --features afl --bin "$t")
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
  cargo afl fuzz -i "corpora/$t" -o "$work/afl-out" -V "$secs" "targets/target/afl/release/$t" > "$work/afl.log" 2>&1 || true
if [ ! -f "$work/afl-out/default/fuzzer_stats" ]; then
  echo "FAIL: $t: AFL++ did not run" >&2
  tail -30 "$work/afl.log" >&2
  status=1
else
  grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes) ' "$work/afl-out/default/fuzzer_stats" | sed 's/^/   /'
  # AFL++ exits 0 even after crashes: judge by the crash files.
  if ls "$work/afl-out/default/crashes/id:"* >/dev/null 2>&1; then
    echo "FAIL: $t: AFL++ saved crashes on the default build" >&2
    status=1
  fi
fi

echo "== $t: AFL++ with the diverge custom mutator library, ${secs}s"
# The library is a member of the root workspace: this links it against the release build of
# `diverge` that scripts/test.sh already made (one shared target dir).
cargo build --release --locked -p diverge-afl-mutator
lib="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/libdiverge_afl_mutator.so"
# Run from $work: with a custom mutator loaded, AFL++ 4.40c's check_sync_fuzzers creates an empty
# file named after an uninitialised buffer (open(qd_main_path) where qd_path was meant) in the cwd.
root=$PWD
(cd "$work" && AFL_CUSTOM_MUTATOR_LIBRARY="$lib" AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
  cargo afl fuzz -i "$root/corpora/$t" -o "$work/afl-custom-out" -V "$secs" "$root/targets/target/afl/release/$t") > "$work/afl-custom.log" 2>&1 || true
stats="$work/afl-custom-out/default/fuzzer_stats"
execs=$(sed -n 's/^execs_done *: *//p' "$stats" 2>/dev/null || true)
# The library logs its calls at deinit: `diverge AFL++ mutator: <target>: N calls, ...`.
calls=$(sed -n 's/^diverge AFL++ mutator: [a-z_0-9]*: \([0-9]*\) calls.*/\1/p' "$work/afl-custom.log" | tail -1)
if [ "${execs:-0}" -gt 0 ] && [ "${calls:-0}" -gt 0 ] && grep -q "^diverge AFL++ mutator: target $t" "$work/afl-custom.log"; then
  grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes) ' "$stats" | sed 's/^/   /'
  grep '^diverge AFL++ mutator' "$work/afl-custom.log" | sed 's/^/   /'
  echo "   queue entries found by the custom mutator: $(ls "$work/afl-custom-out/default/queue" | grep -c 'diverge-' || true)"
  if ls "$work/afl-custom-out/default/crashes/id:"* >/dev/null 2>&1; then
    echo "FAIL: $t: AFL++ with the custom mutator saved crashes on the default build" >&2
    status=1
  fi
else
  echo "FAIL: $t: AFL++ with the custom mutator library did not run it (execs_done=${execs:-none}, library calls=${calls:-none})" >&2
  tail -30 "$work/afl-custom.log" >&2
  status=1
fi

echo "== $t: honggfuzz, ${secs}s"
mkdir -p "$work/hfuzz-corpus"
if ! (cd targets && HFUZZ_BUILD_ARGS="--no-default-features --features honggfuzz" \
    HFUZZ_RUN_ARGS="--run_time $secs -n 1 -t 30 --exit_upon_crash --exit_code_upon_crash 77 -i ../corpora/$t -o $work/hfuzz-corpus -W $work/hfuzz-ws" \
    cargo hfuzz run "$t") > "$work/hfuzz.log" 2>&1; then
  echo "FAIL: $t: honggfuzz stopped with a crash or error" >&2
  tail -30 "$work/hfuzz.log" >&2
  status=1
fi
grep -a '^Summary' "$work/hfuzz.log" | sed 's/^/   /' || { echo "FAIL: $t: no honggfuzz summary" >&2; status=1; }
exit $status
