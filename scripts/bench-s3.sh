#!/usr/bin/env bash
# Upload N images of about SIZE bytes to a local S3 server (the tests' s3s server, SigV4 checked)
# with `imglift sync --out` (which also parses the pages and writes them rewritten, as in a build
# step) and with `rclone copy --transfers 16` on the same files and server, ROUNDS times each
# into fresh buckets, alternating, and print every time and the ratio of the medians.
# (In-place `sync` also fsyncs every page it rewrites; on a machine where the server shares the
# disk, those fsyncs wait for the server's writes, which measures the disk, not the upload.)
# Needs rclone (Debian package `rclone`; installed here when missing and running as root).
set -euo pipefail
n=${1:-2000}
size=${2:-100000}
rounds=${3:-3}
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
buckets=""
for r in $(seq "$rounds"); do buckets="$buckets imglift$r rclone$r"; done
"$here/target/release/examples/s3_server" $buckets <"$work/stdin" >"$work/server.txt" 2>"$work/server.err" &
server=$!
exec 3>"$work/stdin"
for _ in $(seq 100); do grep -q '^root=' "$work/server.txt" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/^endpoint=//p' "$work/server.txt")
export IMGLIFT_ACCESS_KEY_ID=$(sed -n 's/^access_key=//p' "$work/server.txt")
export IMGLIFT_SECRET_ACCESS_KEY=$(sed -n 's/^secret_key=//p' "$work/server.txt")
mkdir -p "$work/rclone-src"
find "$work/site" -name '*.png' -exec cp {} "$work/rclone-src/" \;
bytes=$(du -sb "$work/rclone-src" | cut -f1)
echo "$n images, $bytes bytes, endpoint $endpoint"
export RCLONE_CONFIG_LOCALS3_TYPE=s3 RCLONE_CONFIG_LOCALS3_PROVIDER=Other
export RCLONE_CONFIG_LOCALS3_ACCESS_KEY_ID=$IMGLIFT_ACCESS_KEY_ID
export RCLONE_CONFIG_LOCALS3_SECRET_ACCESS_KEY=$IMGLIFT_SECRET_ACCESS_KEY
export RCLONE_CONFIG_LOCALS3_ENDPOINT=$endpoint RCLONE_CONFIG_LOCALS3_REGION=auto
export RCLONE_CONFIG_LOCALS3_FORCE_PATH_STYLE=true
times_i=() times_r=()
for r in $(seq "$rounds"); do
  cat >"$work/site/imglift.yaml" <<YAML
content: [content]
static: [static]
public_url: https://img.example.com
front_matter: [image]
concurrency: 16
target:
  s3:
    bucket: imglift$r
    endpoint: $endpoint
YAML
  rm -f "$work/site/imglift.lock" && rm -rf "$work/out"
  sync
  s=$EPOCHREALTIME
  (cd "$work/site" && "$here/target/release/imglift" sync --out "$work/out" >/dev/null 2>"$work/imglift.err")
  e=$EPOCHREALTIME
  times_i+=("$(awk "BEGIN{print $e - $s}")")
  tail -1 "$work/imglift.err"
  sync
  s=$EPOCHREALTIME
  # AWS_CA_BUNDLE (set on some machines) makes rclone refuse a plain-http endpoint.
  env -u AWS_CA_BUNDLE rclone copy -q --transfers 16 --checkers 16 "$work/rclone-src" "locals3:rclone$r"
  e=$EPOCHREALTIME
  times_r+=("$(awk "BEGIN{print $e - $s}")")
  printf 'round %s: imglift sync --out %6.2f s, rclone copy --transfers 16 %6.2f s\n' "$r" "${times_i[-1]}" "${times_r[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mi=$(median "${times_i[@]}")
mr=$(median "${times_r[@]}")
root=$(sed -n 's/^root=//p' "$work/server.txt")
echo "objects stored: imglift $(find "$root/imglift1" -type f | wc -l), rclone $(find "$root/rclone1" -type f | wc -l) (round 1)"
exec 3>&-
wait $server || true
printf 'median: imglift %.2f s, rclone %.2f s; ratio rclone/imglift %.2f\n' "$mi" "$mr" "$(awk "BEGIN{print $mr / $mi}")"
cat "$work/server.err"
