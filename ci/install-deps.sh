#!/usr/bin/env bash
# What a fresh project machine lacks for the build and the tests: a C compiler for blst, the
# clippy component of the stable toolchain, and jq (ci/monitoring/check-dashboard.sh). Idempotent.
set -euo pipefail
if ! command -v cc >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq build-essential
fi
if ! command -v jq >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq jq
fi
if ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add clippy
fi
