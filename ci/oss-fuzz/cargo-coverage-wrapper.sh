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
# A stand-in, for ci/oss-fuzz/check.sh only, for the `cargo` wrapper the OSS-Fuzz base-builder
# image puts first on PATH (google/oss-fuzz infra/base-images/base-builder/cargo, read at commit
# b771fe7914a50597a92297747d8829cf8f0e4997). What that wrapper does under SANITIZER=coverage, and
# so what build.sh has to survive:
#   - `cargo fuzz build ...` (any further arguments are dropped: sanitizer, -O, --fuzz-dir) becomes,
#     from ./fuzz if it exists, else from the current directory, a debug `cargo build --bins` with
#     `-C debug-assertions=no` and path remapping added to RUSTFLAGS, after which the target
#     directory's debug/ output is copied into x86_64-unknown-linux-gnu/release/, where build
#     scripts look for cargo fuzz's binaries;
#   - anything else goes to the real cargo.
# Here the copy takes the top-level files of debug/ only (the binaries build.sh copies), not the
# whole tree; the remapping, which only rewrites source paths in the report, is left out.
# DIVERGE_REAL_CARGO: the real cargo (check.sh sets it).
set -euo pipefail
real=${DIVERGE_REAL_CARGO:?DIVERGE_REAL_CARGO: the real cargo}
if [ "${SANITIZER:-}" = coverage ] && [ "${1:-}" = fuzz ] && [ "${2:-}" = build ]; then
  [ ! -d fuzz ] || cd fuzz
  export RUSTFLAGS="${RUSTFLAGS:-} -C debug-assertions=no"
  echo "cargo (coverage stand-in): cargo build --bins in $(pwd), RUSTFLAGS=$RUSTFLAGS" >&2
  "$real" build --bins
  dir=$("$real" metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  mkdir -p "$dir/x86_64-unknown-linux-gnu/release"
  find "$dir/debug" -maxdepth 1 -type f -exec cp -p {} "$dir/x86_64-unknown-linux-gnu/release/" \;
  exit 0
fi
exec "$real" "$@"
