#!/usr/bin/env bash
# Time and peak memory of `imglift` on a generated site with the local-folder target.
#
# Usage: bash scripts/bench.sh [PAGES] [IMAGES] [IMAGE_BYTES]
#        (defaults: 10,000 pages, 20,000 images of ~130 bytes)
#
# Runs `check`, `sync --dry-run`, a cold `sync --out` (hash, store, write), the same into a
# fresh folder with nothing changed (stat cache, manifest: no hashing, no upload), a cold
# in-place `sync` on a fresh copy of the site, and a second in-place `sync` (pages already
# point at URLs). Peak RSS comes from GNU time (/usr/bin/time, Debian package `time`). For
# memory at scale: `bash scripts/bench.sh 100000 200000`.
set -euo pipefail
pages=${1:-10000}
images=${2:-20000}
bytes=${3:-0}
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
echo "reproduce: bash scripts/bench.sh $pages $images $bytes" \
  "(at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ', with local changes'))"
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 1; }
cargo build --release --quiet --bin imglift
bin="${CARGO_TARGET_DIR:-$here/target}/release/imglift"
work="$here/target/bench-site"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
rm -rf "$work"
mkdir -p "$work"
python3 scripts/gen_site.py "$work/site" "$pages" "$images" "$bytes"
# The in-place runs get their own copy (images hard-linked, every other file copied).
python3 - "$work/site" "$work/inplace" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1:]
for folder, _, files in os.walk(src):
    to = os.path.join(dst, os.path.relpath(folder, src))
    os.makedirs(to, exist_ok=True)
    for f in files:
        (os.link if f.endswith(".png") else shutil.copyfile)(os.path.join(folder, f), os.path.join(to, f))
PY
t() { # LABEL DIR COMMAND...
  local label=$1 dir=$2 s e
  shift 2
  sync
  s=$EPOCHREALTIME
  (cd "$dir" && /usr/bin/time -o "$work/rss" -f %M "$@" >/dev/null 2>"$work/err") || true
  e=$EPOCHREALTIME
  printf '| %s | %.2f s | %.0f MB |   %s\n' "$label" "$(awk "BEGIN{print $e - $s}")" \
    "$(awk "BEGIN{print $(tail -1 "$work/rss") / 1024}")" "$(grep -v '^Command exited' "$work/err" | tail -1 | cut -c1-120)"
}
echo "| run | time | peak RSS |"
echo "| --- | --- | --- |"
t '`check`' "$work/site" "$bin" check
t '`sync --dry-run`' "$work/site" "$bin" sync --dry-run
t 'cold `sync --out`' "$work/site" "$bin" sync --out "$work/out"
rm -rf "$work/out"
t 'nothing changed, `sync --out` into a fresh folder' "$work/site" "$bin" sync --out "$work/out"
rm -rf "$work/out"
t 'cold in-place `sync`' "$work/inplace" "$bin" sync
t 'nothing changed, in-place `sync`' "$work/inplace" "$bin" sync
