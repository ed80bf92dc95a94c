#!/bin/bash -eu
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
# OSS-Fuzz / ClusterFuzzLite build script (also .clusterfuzzlite/build.sh runs it): builds every
# cargo-fuzz target of targets/ and puts into $OUT, for each target <t>:
#   <t>                  the libFuzzer binary (cargo fuzz build -O)
#   <t>_seed_corpus.zip  corpora/<t>/ (inputs only, no PROVENANCE/README)
#   <t>.dict             ci/oss-fuzz/gen-dict.py <t> (SSZ offsets, bugs.md boundaries, DKG tags)
#   <t>.options          [libfuzzer] max_len, timeout, rss_limit_mb, dict
# and once: diverge-pool/minimal/, the state pool, which the harness finds beside the executable
# (diverge::harness::engine_pool_dir): ClusterFuzz runs binaries from $OUT with no repository.
#
# Variables (set by OSS-Fuzz; ci/oss-fuzz/check.sh sets them outside Docker): SRC, OUT, SANITIZER,
# FUZZING_ENGINE (libfuzzer only). Optional: DIVERGE_SRC (the checkout, default $SRC/diverge),
# CARGO_FUZZ (default "cargo fuzz"; the OSS-Fuzz Rust image's default toolchain is nightly, which
# AddressSanitizer needs; SANITIZER=none builds on stable), CARGO_TARGET_DIR.
#
# What each SANITIZER builds (docs/oss-fuzz.md):
#   address    cargo fuzz -s address: rustc's AddressSanitizer (the image's RUSTFLAGS also carry
#              -Zsanitizer=address), the C code (blst, ring) gets the image's CFLAGS.
#   undefined  cargo fuzz -s none: Rust has no UndefinedBehaviorSanitizer (the image's compile
#              script adds no -Zsanitizer for it), so only the C code is instrumented, through the
#              image's CFLAGS; the link then needs clang's UBSan runtime: -Clink-arg=-fsanitize=undefined
#              with $CC (clang) as the linker, added only when CFLAGS carry -fsanitize=.
#              (cargo fuzz's own default, -s address, would silently make it an ASan build.)
#   none       cargo fuzz -s none (ci/fuzz-smoke.sh's exact build).
#   coverage   the image's cargo wrapper (infra/base-images/base-builder/cargo in google/oss-fuzz)
#              turns `cargo fuzz build` into `cargo build --bins` in ./fuzz, or in the current
#              directory when there is none, then copies target/debug/* to
#              target/x86_64-unknown-linux-gnu/release/. So cargo fuzz runs from inside targets/
#              (the fuzz crate, its own workspace): the wrapper builds and copies exactly where
#              this script then looks. The RUSTFLAGS (-Cinstrument-coverage) come from the image.
# Any other SANITIZER (memory, thread, ...) is refused: none of them is listed in project.yaml,
# and building something else under their name would report the wrong thing.
set -euo pipefail   # also when run as `bash build.sh`, which ignores the #! line
repo=${DIVERGE_SRC:-$SRC/diverge}
cd "$repo"
if [ "${FUZZING_ENGINE:-libfuzzer}" != libfuzzer ]; then
  echo "build.sh: FUZZING_ENGINE=$FUZZING_ENGINE: only libfuzzer is built (cargo fuzz)" >&2
  exit 1
fi
cargo_fuzz=${CARGO_FUZZ:-cargo fuzz}
case "${SANITIZER:-address}" in
  address) sanitizer=(-s address) ;;
  none|coverage) sanitizer=(-s none) ;;
  undefined)
    sanitizer=(-s none)
    case " ${CFLAGS:-} " in
      *-fsanitize=*) export RUSTFLAGS="${RUSTFLAGS:-} -Clinker=${CC:-clang} -Clink-arg=-fsanitize=undefined" ;;
    esac ;;
  *) echo "build.sh: SANITIZER=$SANITIZER is not built (address, undefined, coverage, none)" >&2; exit 1 ;;
esac
# From inside the fuzz crate, with --fuzz-dir . (see coverage above).
(cd targets && $cargo_fuzz build --fuzz-dir . "${sanitizer[@]}" -O)
triple=$(rustc -vV | sed -n 's/^host: //p')
target_dir=$(cd targets && cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin_dir=$target_dir/$triple/release
targets=$(cd targets/fuzz_targets && ls *.rs | sed 's/\.rs$//')

mkdir -p "$OUT/diverge-pool"
rm -rf "$OUT/diverge-pool/minimal"
cp -r corpora/states/minimal "$OUT/diverge-pool/minimal"

for t in $targets; do
  [ -x "$bin_dir/$t" ] || { echo "build.sh: $bin_dir/$t was not built" >&2; exit 1; }
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
echo "build.sh: $(echo $targets | wc -w) targets in $OUT (SANITIZER=${SANITIZER:-address}, from $bin_dir)"
