#!/usr/bin/env bash
# The test command: install the tools the end-to-end tests need (only those missing), then run
# the whole suite. Extra arguments go to `cargo test` (e.g. `bash scripts/test.sh --test tools`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-tools.sh
cargo test "$@"
