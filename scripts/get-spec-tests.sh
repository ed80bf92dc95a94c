#!/usr/bin/env bash
# Provides the official phase0 consensus-spec-tests v1.1.10 on a machine that lacks them.
#
#   scripts/get-spec-tests.sh [DEST]      DEST defaults to <repo>/spec-tests (vectors in DEST/tests)
#
# 1. Downloads the official release archives (minimal, mainnet) of consensus-spec-tests v1.1.10.
# 2. Where they cannot be downloaded, generates the phase0 vectors from the executable spec on PyPI
#    (eth2spec==1.1.10, Python 3.8/3.9) with tools/gen_spec_tests.py.
# Prints the `tests` directory on its last line; `diverge vectors` looks there by default.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/spec-tests}
version=v1.1.10
mkdir -p "$dest"

if [ -d "$dest/tests/minimal/phase0" ] && [ -d "$dest/tests/mainnet/phase0" ]; then
  echo "spec vectors already present in $dest/tests" >&2
  echo "$dest/tests"
  exit 0
fi

download() {
  local tmp; tmp=$(mktemp -d)
  for preset in minimal mainnet; do
    local url="https://github.com/ethereum/consensus-spec-tests/releases/download/$version/$preset.tar.gz"
    echo "downloading $url" >&2
    curl -fsSL --retry 2 --connect-timeout 20 -o "$tmp/$preset.tar.gz" "$url" || { rm -rf "$tmp"; return 1; }
  done
  for preset in minimal mainnet; do
    tar -xzf "$tmp/$preset.tar.gz" -C "$dest" || { rm -rf "$tmp"; return 1; }
  done
  rm -rf "$tmp"
}

generate() {
  local py=""
  for candidate in python3.9 python3.8; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' 2>/dev/null; then py=$candidate; break; fi
  done
  if [ -z "$py" ] && [ -x "${PYENV_ROOT:-$HOME/.pyenv}/versions/3.9.18/bin/python3.9" ]; then
    py="${PYENV_ROOT:-$HOME/.pyenv}/versions/3.9.18/bin/python3.9"
  fi
  [ -n "$py" ] || { echo "error: generating the vectors needs Python 3.8 or 3.9 (eth2spec 1.1.10 predates 3.10)" >&2; return 1; }
  local venv="$dest/.venv"
  echo "generating phase0 vectors from PyPI eth2spec==1.1.10 with $py (this takes a while)" >&2
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet eth2spec==1.1.10 python-snappy pytest
  # Into a scratch directory first: an interrupted generation must not leave a `tests` directory
  # that looks complete.
  rm -rf "$dest/tests.partial"
  mkdir -p "$dest/tests.partial"
  "$venv/bin/python" "$repo/tools/gen_spec_tests.py" -o "$dest/tests.partial" -l minimal mainnet
  rm -rf "$dest/tests"
  mv "$dest/tests.partial" "$dest/tests"
}

if ! download; then
  echo "download failed; falling back to generation" >&2
  generate
fi
[ -d "$dest/tests/minimal/phase0" ] || { echo "error: no vectors in $dest/tests after download and generation" >&2; exit 1; }
echo "$dest/tests"
