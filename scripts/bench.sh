#!/usr/bin/env bash
# Time `imglift sync` on a generated site (default 10,000 pages and 20,000 images) with the
# local-folder target: the first run (hash, upload, rewrite), a second run with nothing changed
# in --out mode (read, parse, stat-cache hits, no upload, no write), `check`, and a second
# in-place run (pages already point at URLs).
set -euo pipefail
pages=${1:-10000}
images=${2:-20000}
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
cargo build --release --quiet
bin="$here/target/release/imglift"
site="$here/target/bench-site"
rm -rf "$site" "$site-out"
python3 scripts/gen_site.py "$site" "$pages" "$images"
cd "$site"
t() { local s e; s=$EPOCHREALTIME; "$@" >/dev/null 2>"$site/.last-stderr" || true; e=$EPOCHREALTIME;
      printf '%-60s %6.2f s   %s\n' "${*#"$bin" }" "$(awk "BEGIN{print $e - $s}")" "$(tail -1 "$site/.last-stderr")"; }
t "$bin" check
t "$bin" sync --dry-run
t "$bin" sync --out "$site-out"
t "$bin" sync --out "$site-out"
t "$bin" sync
t "$bin" sync
