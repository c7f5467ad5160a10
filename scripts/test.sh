#!/usr/bin/env bash
# The test command: install the tools the end-to-end tests need (only those missing), then run
# the whole suite. Extra arguments go to `cargo test` (e.g. `bash scripts/test.sh --test tools`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-tools.sh
cargo test "$@"
# The S3 suite once more, against the test server with R2's strictness in front of s3s.
if [ $# -eq 0 ]; then
    IMGLIFT_TEST_S3=r2 cargo test --test s3
fi
