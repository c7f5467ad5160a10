#!/usr/bin/env bash
# Run imglift's main job on the demo blog (fixtures/demo) with the local-folder target.
# The demo is copied to target/demo first, so the fixture itself is never changed.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$here/target}/release/imglift"
rm -rf target/demo
cp -r fixtures/demo target/demo
cd target/demo
echo "== imglift sync --dry-run --diff (the plan and the diff; nothing is written)"
"$bin" sync --dry-run --diff
echo
echo "== imglift sync"
"$bin" sync
echo
echo "== what changed in the pages (only the URLs):"
diff -ru "$here/fixtures/demo/content" content | grep -E "^[-+][^-+]" || true
echo
echo "== the store (target: dir: public-images) and the manifest:"
find public-images -type f | sort
cat imglift.lock
echo
echo "== a second run has nothing to do:"
"$bin" sync
"$bin" check && echo "check: every image is lifted"
