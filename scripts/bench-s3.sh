#!/usr/bin/env bash
# Upload N images of about SIZE bytes to a local S3 server (the tests' s3s server, SigV4 checked)
# with `imglift sync` (which also parses and rewrites the pages) and with
# `rclone copy --transfers 16` on the same files and server, and print both times and the ratio.
# Needs rclone (Debian package `rclone`; installed here when missing and running as root).
set -euo pipefail
n=${1:-2000}
size=${2:-100000}
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
if ! command -v rclone >/dev/null; then
  apt-get update -qq && apt-get install -y -qq rclone >/dev/null
fi
cargo build --release --quiet --bin imglift --example s3_server
work="$here/target/bench-s3"
rm -rf "$work" && mkdir -p "$work"
python3 scripts/gen_site.py "$work/site" $((n / 2)) "$n" "$size"
# Serve until the fifo is closed.
mkfifo "$work/stdin"
"$here/target/release/examples/s3_server" imglift rclone <"$work/stdin" >"$work/server.txt" 2>"$work/server.err" &
server=$!
exec 3>"$work/stdin"
for _ in $(seq 100); do grep -q '^root=' "$work/server.txt" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/^endpoint=//p' "$work/server.txt")
export IMGLIFT_ACCESS_KEY_ID=$(sed -n 's/^access_key=//p' "$work/server.txt")
export IMGLIFT_SECRET_ACCESS_KEY=$(sed -n 's/^secret_key=//p' "$work/server.txt")
cat >"$work/site/imglift.yaml" <<YAML
content: [content]
static: [static]
public_url: https://img.example.com
front_matter: [image]
concurrency: 16
target:
  s3:
    bucket: imglift
    endpoint: $endpoint
YAML
mkdir -p "$work/rclone-src"
find "$work/site" -name '*.png' -exec cp {} "$work/rclone-src/" \;
bytes=$(du -sb "$work/rclone-src" | cut -f1)
echo "$n images, $bytes bytes, endpoint $endpoint"

s=$EPOCHREALTIME
(cd "$work/site" && "$here/target/release/imglift" sync >/dev/null)
e=$EPOCHREALTIME
imglift=$(awk "BEGIN{print $e - $s}")

export RCLONE_CONFIG_LOCALS3_TYPE=s3 RCLONE_CONFIG_LOCALS3_PROVIDER=Other
export RCLONE_CONFIG_LOCALS3_ACCESS_KEY_ID=$IMGLIFT_ACCESS_KEY_ID
export RCLONE_CONFIG_LOCALS3_SECRET_ACCESS_KEY=$IMGLIFT_SECRET_ACCESS_KEY
export RCLONE_CONFIG_LOCALS3_ENDPOINT=$endpoint RCLONE_CONFIG_LOCALS3_REGION=auto
export RCLONE_CONFIG_LOCALS3_FORCE_PATH_STYLE=true
s=$EPOCHREALTIME
# AWS_CA_BUNDLE (set on some machines) makes rclone refuse a plain-http endpoint.
env -u AWS_CA_BUNDLE rclone copy --transfers 16 --checkers 16 "$work/rclone-src" locals3:rclone
e=$EPOCHREALTIME
rclone_t=$(awk "BEGIN{print $e - $s}")
root=$(sed -n 's/^root=//p' "$work/server.txt")
stored_imglift=$(find "$root/imglift" -type f | wc -l)
stored=$(find "$root/rclone" -type f | wc -l)
exec 3>&-
wait $server || true
echo "objects stored: imglift $stored_imglift, rclone $stored"
printf 'imglift sync (parse, upload, rewrite):  %6.2f s\n' "$imglift"
printf 'rclone copy --transfers 16 (%s files): %6.2f s\n' "$stored" "$rclone_t"
awk "BEGIN{printf \"ratio rclone/imglift: %.2f\n\", $rclone_t / $imglift}"
cat "$work/server.err"
