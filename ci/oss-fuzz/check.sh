#!/usr/bin/env bash
# Checks ci/oss-fuzz/build.sh outside Docker (no Docker engine on the project's machines): sets
# OSS-Fuzz's build variables, runs build.sh into a fresh $OUT, checks every file ClusterFuzz needs
# is there, then runs every binary of $OUT the way ClusterFuzz does: from an unrelated working
# directory, with no DIVERGE_* variable, with the flags of its .options file (dict resolved in
# $OUT) and its seed corpus unpacked, for SECONDS each. Fails on any crash, missing file, or a
# binary that loads its state pool from anywhere but $OUT/diverge-pool; where strace works, also
# on any file of the repository opened at run time.
#   ci/oss-fuzz/check.sh [SECONDS]     (default 10; SANITIZER=none (default) or address)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/out" "$work/work" "$work/run"
ln -s "$repo" "$work/src/diverge"

export SRC="$work/src" OUT="$work/out" WORK="$work/work"
export SANITIZER="${SANITIZER:-none}" FUZZING_ENGINE=libfuzzer FUZZING_LANGUAGE=rust ARCHITECTURE=x86_64
# The compiler variables: OSS-Fuzz sets CC=clang, CXX=clang++, clang-only CFLAGS/CXXFLAGS
# (-gline-tables-only, -fsanitize=...) and RUSTFLAGS (--cfg fuzzing, which cargo fuzz adds itself).
# Any change to them rebuilds every C dependency (blst, ring) and all that depends on them (about
# 15 min on the project's 2-core machine), so by default they are passed through unchanged and the
# build is exactly ci/fuzz-smoke.sh's, reused. DIVERGE_OSSFUZZ_FLAGS=1 sets OSS-Fuzz's values
# (needs clang; a full rebuild).
if [ "${DIVERGE_OSSFUZZ_FLAGS:-0}" = 1 ]; then
  export CC=clang CXX=clang++ CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only" CXXFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only"
  export RUSTFLAGS="--cfg fuzzing -Cdebug-assertions -Coverflow_checks"
fi
echo "== OSS-Fuzz variables: SRC=$SRC OUT=$OUT WORK=$WORK SANITIZER=$SANITIZER FUZZING_ENGINE=$FUZZING_ENGINE CC=${CC-<unset>} CXX=${CXX-<unset>} CFLAGS=${CFLAGS-<unset>} CXXFLAGS=${CXXFLAGS-<unset>} RUSTFLAGS=${RUSTFLAGS-<unset>}"
if [ "$SANITIZER" != none ]; then export CARGO_FUZZ="${CARGO_FUZZ:-cargo +nightly fuzz}"; fi
unset DIVERGE_POOL DIVERGE_PRESET DIVERGE_FINDINGS DIVERGE_BLS CARGO_TARGET_DIR

start=$(date +%s)
(cd "$SRC/diverge" && bash ci/oss-fuzz/build.sh)
echo "== build.sh: $(( $(date +%s) - start ))s; \$OUT:"
(cd "$OUT" && find . -maxdepth 1 -type f -printf '%f %s\n' | sort | awk '{printf "   %-36s %10d bytes\n", $1, $2}'; echo "   diverge-pool/minimal/: $(ls diverge-pool/minimal | wc -l) files")

status=0
fail() { echo "FAIL: $*" >&2; status=1; }
targets=$(cd "$repo/targets/fuzz_targets" && ls *.rs | sed 's/\.rs$//')
[ -f "$OUT/diverge-pool/minimal/manifest.json" ] || [ -n "$(ls "$OUT/diverge-pool/minimal" 2>/dev/null)" ] || fail "\$OUT/diverge-pool/minimal missing or empty"
for t in $targets; do
  [ -x "$OUT/$t" ] || fail "$t: binary missing in \$OUT"
  [ -s "$OUT/${t}_seed_corpus.zip" ] || fail "$t: ${t}_seed_corpus.zip missing"
  [ -s "$OUT/$t.dict" ] || fail "$t: $t.dict missing"
  [ -s "$OUT/$t.options" ] || fail "$t: $t.options missing"
done
[ $status = 0 ] || exit $status

use_strace=0
if command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then use_strace=1; fi
echo "== runs: ${secs}s each from an empty directory; repository files opened at run time: $([ $use_strace = 1 ] && echo 'checked (strace)' || echo 'not checked (no working strace)')"
for t in $targets; do
  # The flags ClusterFuzz derives from the .options file; dict is relative to $OUT.
  mapfile -t flags < <(python3 - "$OUT/$t.options" "$OUT" <<'PY'
import configparser, os, sys
c = configparser.ConfigParser()
c.read(sys.argv[1])
for k, v in c["libfuzzer"].items():
    print("-%s=%s" % (k, os.path.join(sys.argv[2], v) if k == "dict" else v))
PY
)
  corpus="$work/corpus-$t"
  mkdir -p "$corpus"
  unzip -q "$OUT/${t}_seed_corpus.zip" -d "$corpus"
  rm -rf "$work/run"; mkdir -p "$work/run"
  cmd=("$OUT/$t" "${flags[@]}" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/run/" "$corpus")
  [ $use_strace = 1 ] && cmd=(strace -f -qq -e trace=open,openat,stat,newfstatat,statx -o "$work/$t.strace" "${cmd[@]}")
  echo "== $t: ${secs}s, ${flags[*]}"
  rc=0
  (cd "$work/run" && "${cmd[@]}") > "$work/$t.log" 2>&1 || rc=$?
  if [ $rc != 0 ] || grep -qE 'ERROR: libFuzzer|deadly signal|ASSERTION FAILED|panicked' "$work/$t.log"; then
    fail "$t: exit $rc or crash"
    tail -30 "$work/$t.log" >&2
  fi
  grep -q "diverge harness: state pool $OUT/diverge-pool/minimal" "$work/$t.log" || fail "$t: pool not loaded from \$OUT/diverge-pool/minimal: $(grep 'state pool' "$work/$t.log" || echo 'no pool line')"
  if [ $use_strace = 1 ] && grep -F "\"$repo/" "$work/$t.strace" | grep -v ENOENT | grep -q .; then
    fail "$t: opened files of the repository at run time:"; grep -F "\"$repo/" "$work/$t.strace" | grep -v ENOENT | head -5 >&2
  fi
  python3 - "$work/$t.log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
st = dict(re.findall(r"stat::(\w+):\s+(\d+)", text))
print("   %s execs, %s exec/s, corpus %s after loading the seeds" % (st.get("number_of_executed_units", "?"), st.get("average_exec_per_sec", "?"),
      (re.findall(r"INITED.*?corp: (\d+)", text) or ["?"])[0]))
PY
done
echo "== check.sh: $(( $(date +%s) - start ))s in all (SANITIZER=$SANITIZER)"
exit $status
