#!/usr/bin/env bash
# Provides the official phase0 consensus-spec-tests v1.1.10 on a machine that lacks them.
#
#   scripts/get-spec-tests.sh [DEST]      DEST defaults to <repo>/spec-tests (vectors in DEST/tests)
#
# 1. Downloads the official release archives (minimal, mainnet) of consensus-spec-tests v1.1.10.
# 2. Where they cannot be downloaded, generates the phase0 vectors from the executable spec on PyPI
#    (eth2spec==1.1.10, Python 3.8/3.9) with tools/gen_spec_tests.py: one process per (runner,
#    preset), DIVERGE_GEN_JOBS of them at a time (default: every core, `nproc`), the longest first,
#    each logged to DEST/gen-logs/<runner>-<preset>.log; the time of each is printed as it ends.
#    DIVERGE_GEN_RUNNERS / DIVERGE_GEN_PRESETS pick a subset (a partial set is left in
#    DEST/tests.partial, never in DEST/tests; for measuring).
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
  local jobs=${DIVERGE_GEN_JOBS:-$(nproc)}
  echo "generating phase0 vectors from PyPI eth2spec==1.1.10 with $py, $jobs process(es) at a time (this takes a while)" >&2
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet eth2spec==1.1.10 python-snappy pytest
  # Into a scratch directory first: an interrupted generation must not leave a `tests` directory
  # that looks complete.
  rm -rf "$dest/tests.partial" "$dest/gen-logs"
  mkdir -p "$dest/tests.partial" "$dest/gen-logs"
  # One task per (runner, preset), the longest first so that no core idles at the end: shuffling
  # (pure-Python compute_shuffled_index of up to 9,999 indices for each of 30 seeds, 90 rounds on
  # mainnet: 22 s for one 1,000-index case was seen on a loaded 2-core machine), then the runners
  # that build many full states, mainnet before minimal. Each process writes its own <preset>/phase0/<runner>/ tree; eth2spec's gen_runner
  # shares only its error log (appended to).
  local runners=${DIVERGE_GEN_RUNNERS:-"shuffling sanity random finality epoch_processing rewards operations ssz_static genesis"}
  local presets=${DIVERGE_GEN_PRESETS:-"mainnet minimal"}
  local tasks=() p r
  for r in $runners; do for p in $presets; do tasks+=("$r $p"); done; done
  local start=$SECONDS
  printf '%s\n' "${tasks[@]}" | xargs -P "$jobs" -L 1 bash -c '
    venv=$1 repo=$2 dest=$3 r=$4 p=$5 t0=$SECONDS
    if "$venv/bin/python" "$repo/tools/gen_spec_tests.py" -o "$dest/tests.partial" -l "$p" --runners "$r" > "$dest/gen-logs/$r-$p.log" 2>&1; then
      echo "  generated $r ($p) in $((SECONDS - t0))s" >&2
    else
      echo "  FAILED: $r ($p) after $((SECONDS - t0))s, log $dest/gen-logs/$r-$p.log:" >&2; tail -20 "$dest/gen-logs/$r-$p.log" >&2; exit 255
    fi' _ "$venv" "$repo" "$dest" \
    || { echo "error: vector generation failed (logs in $dest/gen-logs)" >&2; return 1; }
  echo "generated ${#tasks[@]} (runner, preset) sets in $((SECONDS - start))s with $jobs process(es)" >&2
  if [ -n "${DIVERGE_GEN_RUNNERS:-}${DIVERGE_GEN_PRESETS:-}" ]; then
    echo "DIVERGE_GEN_RUNNERS/DIVERGE_GEN_PRESETS set: a partial set, left in $dest/tests.partial" >&2
    return 0
  fi
  rm -rf "$dest/tests"
  mv "$dest/tests.partial" "$dest/tests"
}

if [ -n "${DIVERGE_GEN_RUNNERS:-}${DIVERGE_GEN_PRESETS:-}" ]; then
  generate
  exit 0
fi
if ! download; then
  echo "download failed; falling back to generation" >&2
  generate
fi
[ -d "$dest/tests/minimal/phase0" ] || { echo "error: no vectors in $dest/tests after download and generation" >&2; exit 1; }
echo "$dest/tests"
