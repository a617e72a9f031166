#!/usr/bin/env bash
# The test suite: unit, property, real-data (../shared/testdata) and end-to-end CLI tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/testdata ]; then
  echo "warning: ../shared/testdata not found; real-data tests will fail" >&2
fi
cargo test --locked --workspace --all-targets
cargo test --locked --workspace --doc
