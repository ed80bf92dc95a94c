#!/usr/bin/env bash
# Installs the fuzz engines on a fresh machine, pinned (shared/design/engines.md):
#   ci/install-engines.sh [libfuzzer] [afl] [honggfuzz]     (default: libfuzzer)
# libFuzzer: cargo-fuzz 0.13.2 (stable with `-s none`; nightly for AddressSanitizer).
# AFL++: cargo-afl 0.18.2 (builds AFL++ from its vendored source with gcc; no apt packages).
# honggfuzz: honggfuzz 0.5.62 (needs libunwind-dev and binutils-dev).
set -euo pipefail
engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(libfuzzer)
for engine in "${engines[@]}"; do
  case "$engine" in
    libfuzzer)
      if ! cargo fuzz --version 2>/dev/null | grep -q '0.13.2'; then cargo install --locked cargo-fuzz@0.13.2; fi ;;
    afl)
      if ! cargo afl --version >/dev/null 2>&1; then cargo install --locked cargo-afl@0.18.2; fi ;;
    honggfuzz)
      if ! dpkg -s libunwind-dev binutils-dev >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq libunwind-dev binutils-dev
      fi
      if ! cargo hfuzz version >/dev/null 2>&1; then cargo install --locked honggfuzz@0.5.62; fi ;;
    *) echo "unknown engine $engine (libfuzzer, afl, honggfuzz)" >&2; exit 2 ;;
  esac
done
