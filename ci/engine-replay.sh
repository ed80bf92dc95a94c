#!/usr/bin/env bash
# Determinism across engines (architecture.md §1.3): the same input bytes give the same verdicts,
# state and post-state roots under every engine's binary and under `diverge replay`.
#
#   ci/engine-replay.sh [TARGET ...]        (default: attestation block dkg_sequence; the network
#                                           targets: ci/engine-replay.sh p2p_announce p2p_session_cache p2p_stream_setup)
#
# For each target, every shipped seed and regression input is run through
#   - the libFuzzer binary (cargo fuzz, stable, -s none), files as arguments;
#   - the AFL++ binary (cargo afl), outside afl-fuzz: one input on stdin;
#   - the honggfuzz binary (cargo hfuzz build), under honggfuzz in corpus-minimisation mode (-M),
#     which runs every input once as it is (and some trial inputs of its own, ignored here), with
#     -t 30: honggfuzz's default 1 s timeout includes the harness's first-input pool load, which
#     passes 1 s on a loaded machine (every input then timed out, no verdict printed);
#   - the no-engine replay binary (cargo build --no-default-features, in the root target directory);
# each with DIVERGE_PRINT_VERDICTS=1 (one `DIVERGE-VERDICT {"input": sha256, "report": ...}` line per
# input), and compared field by field with `diverge replay --target T FILE --json`.
# Needs the engines (ci/install-engines.sh libfuzzer afl honggfuzz) and target/release/diverge.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(attestation block dkg_sequence)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DIVERGE_PRINT_VERDICTS=1 DIVERGE_FINDINGS="$work/findings"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done

echo "== building each engine's binary for: ${targets[*]}"
cargo fuzz build --fuzz-dir targets -s none -O
(cd targets && CARGO_TARGET_DIR=target/afl cargo afl build --release --no-default-features --features afl "${bins[@]}")
(cd targets && HFUZZ_BUILD_ARGS="--no-default-features --features honggfuzz" cargo hfuzz build)
# The replay binary is an ordinary release build: built into the root workspace's target directory,
# it reuses the dependencies scripts/test.sh compiled there (same profile) instead of building them
# all again under targets/target.
root_target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
(cd targets && CARGO_TARGET_DIR="$root_target" cargo build --release --no-default-features "${bins[@]}")
libfuzzer_bin=targets/target/x86_64-unknown-linux-gnu/release
afl_bin=targets/target/afl/release
hfuzz_bin=targets/hfuzz_target/x86_64-unknown-linux-gnu/release
honggfuzz=targets/hfuzz_target/honggfuzz
replay_bin=$root_target/release

status=0
for t in "${targets[@]}"; do
  inputs=()
  for d in "corpora/$t" "corpora/regressions/$t"; do
    [ -d "$d" ] || continue
    while IFS= read -r f; do inputs+=("$f"); done < <(find "$d" -maxdepth 1 -type f ! -name PROVENANCE ! -name '.*' ! -name '*.md' | sort)
  done
  echo "== $t: ${#inputs[@]} inputs"
  out="$work/$t"
  mkdir -p "$out"
  "$libfuzzer_bin/$t" "${inputs[@]}" 2>/dev/null | grep -a '^DIVERGE-VERDICT ' > "$out/libfuzzer" || true
  "$replay_bin/$t" "${inputs[@]}" 2>/dev/null | grep -a '^DIVERGE-VERDICT ' > "$out/replay-binary" || true
  mkdir -p "$out/hf-in"
  cp "${inputs[@]}" "$out/hf-in/"
  "$honggfuzz" -i "$out/hf-in" -o "$out/hf-out" -W "$out/hf-ws" -M -n 1 -Q -t 30 -- "$hfuzz_bin/$t" 2>/dev/null \
    | grep -a '^DIVERGE-VERDICT ' > "$out/honggfuzz" || true
  : > "$out/afl"
  : > "$out/diverge-replay"
  for f in "${inputs[@]}"; do
    "$afl_bin/$t" < "$f" 2>/dev/null | grep -a '^DIVERGE-VERDICT ' >> "$out/afl" || true
    target/release/diverge replay --target "$t" "$f" --json > "$out/one.json" || true
    python3 -c 'import hashlib,json,sys; print("DIVERGE-VERDICT " + json.dumps({"input": hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest(), "report": json.load(open(sys.argv[2]))}))' "$f" "$out/one.json" >> "$out/diverge-replay"
  done
  printf '%s\n' "${inputs[@]}" > "$out/inputs"
  if ! python3 - "$out" <<'EOF'
import hashlib, json, os, sys
out = sys.argv[1]
# Inputs with identical bytes (a seed kept as a regression too) are one input here.
n = len({hashlib.sha256(open(p, "rb").read()).hexdigest() for p in open(os.path.join(out, "inputs")).read().split("\n") if p})
def load(name):
    rows = {}
    for line in open(os.path.join(out, name)):
        d = json.loads(line[len("DIVERGE-VERDICT "):])
        rows[d["input"]] = d["report"]
    return rows
ref = load("diverge-replay")
ok = len(ref) == n
if not ok:
    print(f"   diverge replay: {len(ref)} of {n} inputs reported")
for engine in ("libfuzzer", "afl", "honggfuzz", "replay-binary"):
    got = load(engine)
    bad = [h for h in ref if got.get(h) != ref[h]]
    statuses = sorted({r["status"] for r in ref.values()})
    print(f"   {engine:<14} {len(ref) - len(bad)}/{len(ref)} inputs identical to diverge replay ({', '.join(statuses)})")
    for h in bad[:3]:
        print(f"     {h[:16]}: {engine}: {json.dumps(got.get(h))[:300]}")
        print(f"     {h[:16]}: replay: {json.dumps(ref[h])[:300]}")
    ok = ok and not bad
sys.exit(0 if ok else 1)
EOF
  then
    echo "FAIL: $t: an engine's binary gave verdicts different from diverge replay" >&2
    status=1
  fi
done
exit $status
