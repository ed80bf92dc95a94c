#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script (also .clusterfuzzlite/build.sh runs it): builds every
# cargo-fuzz target of targets/ and puts into $OUT, for each target <t>:
#   <t>                  the libFuzzer binary (cargo fuzz build -O)
#   <t>_seed_corpus.zip  corpora/<t>/ (inputs only, no PROVENANCE/README)
#   <t>.dict             ci/oss-fuzz/gen-dict.py <t> (SSZ offsets, bugs.md boundaries, DKG tags)
#   <t>.options          [libfuzzer] max_len, timeout, rss_limit_mb, dict
# and once: diverge-pool/minimal/, the state pool, which the harness finds beside the executable
# (diverge::harness::engine_pool_dir): ClusterFuzz runs binaries from $OUT with no repository.
#
# Variables (set by OSS-Fuzz; ci/oss-fuzz/check.sh sets them outside Docker): SRC, OUT, SANITIZER
# (address, none, coverage, ...), FUZZING_ENGINE (libfuzzer only). Optional: DIVERGE_SRC (the
# checkout, default $SRC/diverge), CARGO_FUZZ (default "cargo fuzz"; the OSS-Fuzz Rust image's
# default toolchain is nightly, which sanitizers need; SANITIZER=none builds on stable).
set -euo pipefail   # also when run as `bash build.sh`, which ignores the #! line
repo=${DIVERGE_SRC:-$SRC/diverge}
cd "$repo"
if [ "${FUZZING_ENGINE:-libfuzzer}" != libfuzzer ]; then
  echo "build.sh: FUZZING_ENGINE=$FUZZING_ENGINE: only libfuzzer is built (cargo fuzz)" >&2
  exit 1
fi
cargo_fuzz=${CARGO_FUZZ:-cargo fuzz}
case "${SANITIZER:-address}" in
  none) sanitizer=(-s none) ;;                       # ci/fuzz-smoke.sh's exact build: reused
  address|memory|thread|leak) sanitizer=(-s "$SANITIZER") ;;
  *) sanitizer=() ;;                                 # coverage: OSS-Fuzz's cargo wrapper adds its flags
esac
$cargo_fuzz build --fuzz-dir targets "${sanitizer[@]}" -O
triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir=targets/target/$triple/release
targets=$(cd targets/fuzz_targets && ls *.rs | sed 's/\.rs$//')

mkdir -p "$OUT/diverge-pool"
rm -rf "$OUT/diverge-pool/minimal"
cp -r corpora/states/minimal "$OUT/diverge-pool/minimal"

for t in $targets; do
  cp "$bin_dir/$t" "$OUT/$t"
  python3 ci/oss-fuzz/gen-dict.py "$t" > "$OUT/$t.dict"
  # Seeds: every input file of corpora/<t>/ (flat), and the max_len that keeps the largest whole.
  max_len=$(python3 - "$t" "$OUT/${t}_seed_corpus.zip" <<'PY'
import os, sys, zipfile
target, zip_path = sys.argv[1], sys.argv[2]
src = os.path.join("corpora", target)
files = sorted(f for f in os.listdir(src)
               if os.path.isfile(os.path.join(src, f)) and f != "PROVENANCE" and not f.endswith(".md"))
if not files:
    sys.exit("build.sh: corpora/%s has no seed inputs" % target)
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    for f in files:
        z.write(os.path.join(src, f), f)
largest = max(os.path.getsize(os.path.join(src, f)) for f in files)
n = 4096
while n < largest:
    n *= 2
print(n)
PY
)
  cat > "$OUT/$t.options" <<OPT
[libfuzzer]
max_len = $max_len
timeout = 30
rss_limit_mb = 2560
dict = $t.dict
OPT
done
echo "build.sh: $(echo $targets | wc -w) targets in $OUT (SANITIZER=${SANITIZER:-address})"
