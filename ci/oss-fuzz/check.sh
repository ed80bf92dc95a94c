#!/usr/bin/env bash
# Copyright 2026 the Diverge authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
################################################################################
# Checks ci/oss-fuzz/build.sh outside Docker, once per sanitizer (no OSS-Fuzz base image on the
# project's machines): sets OSS-Fuzz's build variables, runs build.sh into a fresh $OUT, checks
# every file ClusterFuzz needs is there, then runs every binary of $OUT the way ClusterFuzz does:
# from an unrelated working directory, with no DIVERGE_* variable, with the flags of its .options
# file (dict resolved in $OUT) and its seed corpus unpacked. Fails on any crash, missing file, or a
# binary that loads its state pool from anywhere but $OUT/diverge-pool; where strace works, also on
# any file of the repository opened at run time.
#
#   ci/oss-fuzz/check.sh [SECONDS] [SANITIZER...]
#
# SECONDS (default 10) per target and sanitizer. SANITIZER: none (the default; the build of
# ci/fuzz-smoke.sh, reused: what CI runs), undefined, address, coverage, or `all`: every one of
# them this machine's toolchain can build (address needs a nightly toolchain, coverage an
# llvm-profdata/llvm-cov of rustc's LLVM version; each missing one is named, and asking for it
# by name fails). DIVERGE_OSSFUZZ_TARGETS="attestation block" limits the runs (not the build).
# Per sanitizer:
#   none       build.sh with SANITIZER=none; each binary fuzzes SECONDS from its seeds.
#   undefined  build.sh with SANITIZER=undefined: here (no -fsanitize in CFLAGS) the same -s none
#              build, checked to be byte-identical to none's binaries, and fuzzed SECONDS.
#   address    cargo +nightly fuzz, -s address, with the RUSTFLAGS OSS-Fuzz's compile script sets
#              for it, in its own target dir (targets/target/oss-fuzz-address); fuzzed SECONDS.
#   coverage   build.sh under a stand-in for the base image's cargo wrapper (ci/oss-fuzz/cargo-
#              coverage-wrapper.sh) with compile's coverage RUSTFLAGS, own target dir; then each
#              binary replays its corpus (the seeds plus what the runs above added) with
#              LLVM_PROFILE_FILE set and -merge=1, as the base runner's `coverage` script does,
#              and llvm-profdata/llvm-cov summarise lines, functions and regions covered, for the
#              whole binary and for the project's own sources, beside the edges (libFuzzer's `cov:`)
#              the last fuzzing run reached.
# The corpus of each target is kept across the sanitizers of one call: `check.sh 60 address
# coverage` is a 60 s AddressSanitizer campaign per target, then its coverage report.
#
# Compiler variables: OSS-Fuzz sets CC=clang, CXX=clang++ and clang-only CFLAGS/CXXFLAGS
# (-fsanitize=..., -gline-tables-only). Changing them rebuilds every C dependency (blst, ring), and
# clang is not on the project's machines, so they pass through unchanged unless
# DIVERGE_OSSFUZZ_FLAGS=1 (needs clang; a full rebuild).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
secs=10
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
asked=("$@")
[ ${#asked[@]} -gt 0 ] || asked=(none)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
triple=$(rustc -vV | sed -n 's/^host: //p')
status=0
nfail=0
fail() { echo "FAIL: $*" >&2; status=1; nfail=$((nfail + 1)); }

# What this toolchain can build.
llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
have_nightly=0
cargo +nightly fuzz --version >/dev/null 2>&1 && have_nightly=1
# llvm-profdata and llvm-cov of rustc's LLVM: $LLVM_TOOLS_DIR, PATH, or ci/install-deps.sh's copy.
find_llvm_tools() {
  local d
  for d in "${LLVM_TOOLS_DIR:-}" "$(dirname "$(command -v llvm-profdata 2>/dev/null || echo /nonexistent/x)")" \
           /opt/diverge-llvm-tools/llvm/bin; do
    [ -n "$d" ] && [ -x "$d/llvm-profdata" ] && [ -x "$d/llvm-cov" ] || continue
    if "$d/llvm-cov" --version 2>/dev/null | grep -q "LLVM version $llvm_major\."; then echo "$d"; return 0; fi
  done
  return 1
}
llvm_dir=$(find_llvm_tools || true)
can() {
  case "$1" in
    none|undefined) return 0 ;;
    address) [ $have_nightly = 1 ] ;;
    coverage) [ -n "$llvm_dir" ] ;;
    *) return 1 ;;
  esac
}
why_not() {
  case "$1" in
    address) echo "no nightly toolchain with cargo-fuzz (cargo +nightly fuzz): rustc's -Zsanitizer is nightly-only" ;;
    coverage) echo "no llvm-profdata/llvm-cov of LLVM $llvm_major (rustc's; ci/install-deps.sh installs them into /opt/diverge-llvm-tools, or set LLVM_TOOLS_DIR)" ;;
    *) echo "not a sanitizer build.sh builds (none, undefined, address, coverage)" ;;
  esac
}
sanitizers=()
for s in "${asked[@]}"; do
  if [ "$s" = all ]; then
    for a in none undefined address coverage; do
      if can $a; then sanitizers+=("$a"); else echo "== $a: not built here: $(why_not $a)"; fi
    done
  elif can "$s"; then
    sanitizers+=("$s")
  else
    echo "error: SANITIZER=$s cannot be built here: $(why_not "$s")" >&2
    exit 2
  fi
done

# OSS-Fuzz's presubmit rules (google/oss-fuzz infra/presubmit.py, read at commit
# 556207bc536107196df2f7f11f61ee26ba180fcd) on the files submitted to it and ClusterFuzzLite's:
# the Apache-2.0 licence URL in every Dockerfile and *.sh/*.py/*.bash file, and project.yaml's
# section names, main_repo, language, sanitizer and engine constants, e-mail shape.
python3 - "$repo" <<'PY' || fail "presubmit rules (above)"
import os, re, sys
repo = sys.argv[1]
bad = []
for d in ("ci/oss-fuzz", ".clusterfuzzlite"):
    for f in sorted(os.listdir(os.path.join(repo, d))):
        p = os.path.join(repo, d, f)
        if os.path.isfile(p) and (f == "Dockerfile" or os.path.splitext(f)[1] in (".sh", ".py", ".bash", ".Dockerfile")):
            if "http://www.apache.org/licenses/LICENSE-2.0" not in open(p).read():
                bad.append("%s/%s: no licence header" % (d, f))
SECTIONS = {"architectures", "auto_ccs", "blackbox", "builds_per_day", "coverage_extra_args", "disabled",
            "disable_remediation", "disable_remediation_pre_review", "fuzzing_engines", "help_url", "homepage",
            "language", "labels", "main_repo", "primary_contact", "run_tests", "sanitizers", "selective_unpack",
            "vendor_ccs", "view_restrictions", "file_github_issue", "indexer", "base_os_version"}
CONST = {"sanitizers": {"address", "none", "memory", "undefined", "thread", "coverage", "introspector", "hwaddress"},
         "fuzzing_engines": {"libfuzzer", "afl", "honggfuzz", "centipede", "none", "wycheproof"},
         "architectures": {"i386", "x86_64", "aarch64"}}
data, key = {}, None
for line in open(os.path.join(repo, "ci/oss-fuzz/project.yaml")):
    line = line.split(" #")[0].rstrip() if not line.startswith("#") else ""
    m = re.match(r"^([A-Za-z_]+):\s*(.*)$", line)
    if m:
        key = m.group(1)
        data[key] = m.group(2).strip('"') if m.group(2) else []
    elif re.match(r"^\s+-\s+", line) and key and isinstance(data[key], list):
        data[key].append(line.split("-", 1)[1].strip().strip('"'))
for k in data:
    if k not in SECTIONS:
        bad.append("project.yaml: %s is not a valid section name" % k)
if "main_repo" not in data:
    bad.append("project.yaml: main_repo missing")
if data.get("language") not in ("c", "c++", "go", "javascript", "jvm", "python", "rust", "swift", "ruby"):
    bad.append("project.yaml: language %r" % data.get("language"))
for k, allowed in CONST.items():
    for v in data.get(k, []):
        if v not in allowed:
            bad.append("project.yaml: %s is not a valid %s constant" % (v, k))
for mail in [data.get("primary_contact")] + list(data.get("auto_ccs", [])):
    if mail and ("@" not in mail or "." not in mail):
        bad.append("project.yaml: %s is not an e-mail address" % mail)
print("== presubmit rules: %s" % ("; ".join(bad) if bad else "licence headers, project.yaml (sanitizers %s; placeholders: %s) OK" % (
    ", ".join(data.get("sanitizers", [])), ", ".join(k for k, v in data.items() if "example.invalid" in str(v)) or "none")))
sys.exit(1 if bad else 0)
PY

targets=$(cd "$repo/targets/fuzz_targets" && ls *.rs | sed 's/\.rs$//')
run_targets=${DIVERGE_OSSFUZZ_TARGETS:-$targets}
use_strace=0
if command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then use_strace=1; fi
unset DIVERGE_POOL DIVERGE_PRESET DIVERGE_FINDINGS DIVERGE_BLS
user_target_dir=${CARGO_TARGET_DIR:-}
declare -A edges=()
summary=()

# One sanitizer: build into a fresh $OUT, check the files, run the binaries.
check_one() {
  local san=$1 t n0=$nfail
  local out=$work/out-$san
  rm -rf "$work/src" "$work/work"
  mkdir -p "$work/src" "$work/work" "$out"
  ln -s "$repo" "$work/src/diverge"
  (
    export SRC="$work/src" OUT="$out" WORK="$work/work"
    export SANITIZER=$san FUZZING_ENGINE=libfuzzer FUZZING_LANGUAGE=rust ARCHITECTURE=x86_64
    unset CARGO_FUZZ RUSTFLAGS
    [ -z "$user_target_dir" ] || export CARGO_TARGET_DIR="$user_target_dir"
    if [ "${DIVERGE_OSSFUZZ_FLAGS:-0}" = 1 ]; then
      export CC=clang CXX=clang++ CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only" CXXFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only"
      export RUSTFLAGS="--cfg fuzzing -Cdebuginfo=1 -Cforce-frame-pointers"
    fi
    # The RUSTFLAGS of OSS-Fuzz's compile script (infra/base-images/base-builder/compile) for the
    # sanitizers built in a target dir of their own; none/undefined keep fuzz-smoke's build.
    case $san in
      address)
        export CARGO_FUZZ="cargo +nightly fuzz" CARGO_TARGET_DIR=${user_target_dir:-$repo/targets/target}/oss-fuzz-address
        export RUSTFLAGS="--cfg fuzzing -Zsanitizer=address -Cdebuginfo=1 -Cforce-frame-pointers" ;;
      coverage)
        export CARGO_TARGET_DIR=${user_target_dir:-$repo/targets/target}/oss-fuzz-coverage
        # compile's coverage RUSTFLAGS, and: profile names stored uncompressed, so that llvm-profdata
        # builds without zlib (the PyPI wheel's) read them (what is measured does not change).
        export RUSTFLAGS="--cfg fuzzing -Cdebuginfo=1 -Cforce-frame-pointers -Cinstrument-coverage -Cllvm-args=-enable-name-compression=false"
        # The base image's cargo wrapper, first on PATH as in the image.
        mkdir -p "$work/wrapper"
        printf '#!/usr/bin/env bash\nexec bash %q "$@"\n' "$repo/ci/oss-fuzz/cargo-coverage-wrapper.sh" > "$work/wrapper/cargo"
        chmod +x "$work/wrapper/cargo"
        export DIVERGE_REAL_CARGO=$(command -v cargo) PATH="$work/wrapper:$PATH" ;;
    esac
    echo "== $san: OSS-Fuzz variables: SANITIZER=$SANITIZER FUZZING_ENGINE=$FUZZING_ENGINE CC=${CC-<unset>} CFLAGS=${CFLAGS-<unset>} RUSTFLAGS=${RUSTFLAGS-<unset>} CARGO_FUZZ=${CARGO_FUZZ-cargo fuzz} CARGO_TARGET_DIR=${CARGO_TARGET_DIR-<default>}"
    b=$(date +%s)
    cd "$SRC/diverge" && bash ci/oss-fuzz/build.sh
    echo "== $san: build.sh: $(( $(date +%s) - b ))s"
  ) || { fail "$san: build.sh failed"; return; }
  (cd "$out" && find . -maxdepth 1 -type f -printf '%f %s\n' | sort | awk '{printf "   %-36s %10d bytes\n", $1, $2}' | head -8; echo "   ... $(find . -maxdepth 1 -type f | wc -l) files; diverge-pool/minimal/: $(ls diverge-pool/minimal | wc -l) files")
  [ -n "$(ls "$out/diverge-pool/minimal" 2>/dev/null)" ] || fail "$san: \$OUT/diverge-pool/minimal missing or empty"
  for t in $targets; do
    [ -x "$out/$t" ] || fail "$san: $t: binary missing in \$OUT"
    [ -s "$out/${t}_seed_corpus.zip" ] || fail "$san: $t: ${t}_seed_corpus.zip missing"
    [ -s "$out/$t.dict" ] || fail "$san: $t: $t.dict missing"
    [ -s "$out/$t.options" ] || fail "$san: $t: $t.options missing"
  done
  [ $nfail = $n0 ] || return 0
  # What distinguishes each build, read off its binaries.
  # (grep -c reads nm's whole output: grep -q would stop early and pipefail see nm's SIGPIPE.)
  local probe=$out/attestation
  has() { nm "$probe" 2>/dev/null | grep -cE "$1" >/dev/null; }
  case $san in
    address) has ' T __asan_init$' || fail "address: $probe has no AddressSanitizer runtime (__asan_init)" ;;
    coverage) has ' __llvm_profile_' || fail "coverage: $probe has no profile runtime (__llvm_profile_*)" ;;
    none|undefined) ! has ' T __asan_init$' || fail "$san: $probe carries AddressSanitizer" ;;
  esac
  if [ "$san" = undefined ] && [ -d "$work/out-none" ]; then
    for t in $targets; do cmp -s "$out/$t" "$work/out-none/$t" || fail "undefined: $t differs from the none build (expected the same -s none build here)"; done
  fi
  [ $nfail = $n0 ] || return 0

  if [ "$san" = coverage ]; then coverage_runs "$out"; return; fi
  echo "== $san: runs: ${secs}s each from an empty directory; repository files opened at run time: $(if [ $use_strace = 0 ]; then echo 'not checked (no working strace)'; elif [ "$san" = address ]; then echo 'not checked for address (LeakSanitizer, on as in ClusterFuzz, cannot run under ptrace)'; else echo 'checked (strace)'; fi)"
  for t in $run_targets; do
    # The flags ClusterFuzz derives from the .options file; dict is relative to $OUT.
    mapfile -t flags < <(python3 - "$out/$t.options" "$out" <<'PY'
import configparser, os, sys
c = configparser.ConfigParser()
c.read(sys.argv[1])
for k, v in c["libfuzzer"].items():
    print("-%s=%s" % (k, os.path.join(sys.argv[2], v) if k == "dict" else v))
PY
)
    local corpus=$work/corpus-$t log=$work/$san-$t.log
    if [ ! -d "$corpus" ]; then mkdir -p "$corpus"; unzip -q "$out/${t}_seed_corpus.zip" -d "$corpus"; fi
    rm -rf "$work/run"; mkdir -p "$work/run"
    local cmd=("$out/$t" "${flags[@]}" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/run/" "$corpus")
    # LeakSanitizer cannot run under ptrace: the address runs keep leak detection (as ClusterFuzz
    # runs them) and leave the file check to the other sanitizers' runs.
    local traced=0
    if [ $use_strace = 1 ] && [ "$san" != address ]; then
      traced=1
      cmd=(strace -f -qq -e trace=open,openat,stat,newfstatat,statx -o "$work/$t.strace" "${cmd[@]}")
    fi
    echo "== $san: $t: ${secs}s, ${flags[*]}"
    local rc=0
    (cd "$work/run" && env ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" "${cmd[@]}") > "$log" 2>&1 || rc=$?
    if [ $rc != 0 ] || grep -qE 'ERROR: libFuzzer|ERROR: AddressSanitizer|deadly signal|ASSERTION FAILED|panicked' "$log"; then
      fail "$san: $t: exit $rc or crash"
      tail -30 "$log" >&2
    fi
    grep -q "diverge harness: state pool $out/diverge-pool/minimal" "$log" || fail "$san: $t: pool not loaded from \$OUT/diverge-pool/minimal: $(grep 'state pool' "$log" || echo 'no pool line')"
    if [ $traced = 1 ] && grep -F "\"$repo/" "$work/$t.strace" | grep -v ENOENT | grep -q .; then
      fail "$san: $t: opened files of the repository at run time:"; grep -F "\"$repo/" "$work/$t.strace" | grep -v ENOENT | head -5 >&2
    fi
    local line
    line=$(python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
st = dict(re.findall(r"stat::(\w+):\s+(\d+)", text))
cov = re.findall(r"#\d+\s+\w+\s+cov: (\d+)", text)
print("%s %s execs, %s exec/s, corpus %s after loading the seeds, %s edges (cov:) at the end" % (
    cov[-1] if cov else "?", st.get("number_of_executed_units", "?"), st.get("average_exec_per_sec", "?"),
    (re.findall(r"INITED.*?corp: (\d+)", text) or ["?"])[0], cov[-1] if cov else "?"))
PY
)
    edges[$t]="${line%% *} ($san)"
    echo "   ${line#* }"
  done
}

# The coverage report: each binary over its corpus, then llvm-profdata and llvm-cov.
coverage_runs() {
  local out=$1 t
  echo "== coverage: each binary replays its corpus (-merge=1, LLVM_PROFILE_FILE), llvm-cov of LLVM $llvm_major from $llvm_dir"
  printf '   %-20s %8s %22s %22s %22s %s\n' target inputs "lines (all)" "lines (project)" "functions (project)" "edges (last run)"
  for t in $run_targets; do
    local corpus=$work/corpus-$t prof=$work/prof-$t
    if [ ! -d "$corpus" ]; then mkdir -p "$corpus"; unzip -q "$out/${t}_seed_corpus.zip" -d "$corpus"; fi
    rm -rf "$prof" "$work/run"; mkdir -p "$prof" "$work/run" "$work/merge-$t"
    local rc=0
    (cd "$work/run" && LLVM_PROFILE_FILE="$prof/$t.%1m.profraw" "$out/$t" -merge=1 -timeout=100 "$work/merge-$t" "$corpus") > "$work/coverage-$t.log" 2>&1 || rc=$?
    rm -rf "$work/merge-$t"
    if [ $rc != 0 ] || grep -qE 'ERROR: libFuzzer|deadly signal|panicked' "$work/coverage-$t.log"; then
      fail "coverage: $t: exit $rc"; tail -20 "$work/coverage-$t.log" >&2; continue
    fi
    grep -q "diverge harness: state pool $out/diverge-pool/minimal" "$work/coverage-$t.log" || fail "coverage: $t: pool not loaded from \$OUT/diverge-pool/minimal"
    ls "$prof"/*.profraw >/dev/null 2>&1 || { fail "coverage: $t: no .profraw written"; continue; }
    "$llvm_dir/llvm-profdata" merge -sparse "$prof"/*.profraw -o "$prof/$t.profdata" || { fail "coverage: $t: llvm-profdata merge failed"; continue; }
    "$llvm_dir/llvm-cov" export -summary-only -instr-profile="$prof/$t.profdata" "$out/$t" > "$prof/all.json" || { fail "coverage: $t: llvm-cov export failed"; continue; }
    "$llvm_dir/llvm-cov" export -summary-only -instr-profile="$prof/$t.profdata" "$out/$t" \
      -ignore-filename-regex='(/\.cargo/|/rustc/|/rustlib/|/library/)' > "$prof/own.json"
    local row
    row=$(python3 - "$prof/all.json" "$prof/own.json" "$(find "$corpus" -type f | wc -l)" "${edges[$t]:-n/a}" "$t" <<'PY'
import json, sys
def tot(p):
    return json.load(open(p))["data"][0]["totals"]
a, o = tot(sys.argv[1]), tot(sys.argv[2])
f = lambda d: "%d/%d (%.1f%%)" % (d["covered"], d["count"], d["percent"])
print("%-20s %8s %22s %22s %22s %s" % (sys.argv[5], sys.argv[3], f(a["lines"]), f(o["lines"]), f(o["functions"]), sys.argv[4]))
if o["lines"]["covered"] == 0:
    sys.exit(1)
PY
) || fail "coverage: $t: no line of the project's own sources covered"
    echo "   $row"
    summary+=("$row")
  done
  echo "   (project = every source but the Rust standard library and crates.io dependencies; edges: libFuzzer's cov: at the end of this call's last fuzzing run of the target)"
}

for san in "${sanitizers[@]}"; do
  check_one "$san"
done
echo "== check.sh: $(( $(date +%s) - start ))s in all (sanitizers: ${sanitizers[*]}; ${secs}s per target and sanitizer)"
exit $status
