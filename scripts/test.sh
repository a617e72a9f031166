#!/usr/bin/env bash
# The test suite: unit, property, real-data (testdata/) and end-to-end CLI tests.
# Benchmarks are not run here (they are timing programs; see docs/BENCHMARKS.md), but
# `.ci/run` compiles them through clippy --all-targets.
set -euo pipefail
cd "$(dirname "$0")/.."
# --no-fail-fast, and the doc tests run even when the others failed: every failing test
# binary is reported, not only the first. The script fails if either run failed.
status=0
cargo test --locked --no-fail-fast --workspace --lib --bins --tests --examples || status=$?
cargo test --locked --no-fail-fast --workspace --doc || status=$?
exit "$status"
