#!/usr/bin/env bash
# Issue 12's benchmark: imglift against `rclone copy` on the same S3 server, every row in one run.
#
# Usage: bash scripts/bench-s3.sh [IMAGES] [SIZE] [ROUNDS] [RTT_MS]
#        (defaults: 2000 images of 100000 bytes, IMAGES/2 pages, 3 rounds, 30 ms)
#
# The server is the tests' S3 server (s3s + s3s-fs, SigV4 checked) on 127.0.0.1, run as the
# `s3_server` example; the latency row goes through the `latency_proxy` example, which adds
# RTT_MS of round trip to every request (half each way, chunks pipelined: distance, not
# bandwidth). Each round runs every row, imglift and rclone alternating (which one goes first
# flips from round to round), each cold run into a fresh bucket and from a fresh copy of the
# generated site (no manifest, no stat cache):
#
#   cold --out    imglift sync --out DIR              rclone copy
#   no-op --out   the same again into a fresh DIR     rclone copy --checksum, same bucket again
#   cold inplace  imglift sync                        rclone copy
#   no-op inplace imglift sync again                  rclone copy --checksum, same bucket again
#   cold +RTT     imglift sync --out DIR via proxy    rclone copy via proxy
#
# The server keeps its objects in memory (a folder on /dev/shm when there is one; set
# BENCH_S3_STORE to another folder to choose): it stands for a store across the network, whose
# disk writes are not this machine's. On the same disk, an in-place run's flush of its pages
# (one `syncfs`, which flushes the whole filesystem) would also wait for the server's 191 MiB.
#
# rclone runs with `--transfers 16 --checkers 16`; imglift with its defaults. Every time is
# printed, then per row the medians, their ratio imglift/rclone and issue 12's goal. Absolute
# times swing with the machine's load: compare the ratios of one run. Needs python3, and rclone
# (Debian package `rclone`; installed here when missing and running as root). Peak RSS is
# shown when GNU time (/usr/bin/time, Debian package `time`) is there.
set -euo pipefail
images=${1:-2000}
size=${2:-100000}
rounds=${3:-3}
rtt=${4:-30}
pages=$((images / 2))
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
echo "reproduce: bash scripts/bench-s3.sh $images $size $rounds $rtt" \
  "(at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ', with local changes'))"
if ! command -v rclone >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -qq rclone || (apt-get update -qq && apt-get install -y -qq rclone)) >/dev/null
  else
    echo "rclone is missing: apt-get install rclone" >&2
    exit 1
  fi
fi
cargo build --release --quiet --bin imglift --example s3_server --example latency_proxy
release="${CARGO_TARGET_DIR:-$here/target}/release"
bin="$release/imglift"
work="$here/target/bench-s3"
rm -rf "$work"
mkdir -p "$work"
store_base=${BENCH_S3_STORE:-/dev/shm}
[ -d "$store_base" ] && [ -w "$store_base" ] || store_base=$work
store_tmp=$(mktemp -d "$store_base/imglift-bench-s3.XXXXXX")

server="" proxy=""
cleanup() {
  exec 3>&- 4>&- 2>/dev/null || true
  for pid in $server $proxy; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$store_tmp"
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

python3 scripts/gen_site.py "$work/master" "$pages" "$images" "$size" >/dev/null
mkdir -p "$work/rclone-src"
find "$work/master" -name '*.png' -exec cp -l -t "$work/rclone-src" {} +
echo "$pages pages, $(find "$work/rclone-src" -type f | wc -l) images," \
  "$(du -sb "$work/rclone-src" | cut -f1) bytes; $rounds rounds; rclone $(rclone version | head -1 | cut -d' ' -f2);" \
  "objects in $store_base; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# The server (its objects under $store_tmp) and the proxy serve until their fifos close.
buckets=""
for r in $(seq "$rounds"); do
  for b in i-out i-in i-far r-out r-in r-far; do buckets="$buckets r$r-$b"; done
done
mkfifo "$work/server.in" "$work/proxy.in"
TMPDIR="$store_tmp" "$release/examples/s3_server" $buckets <"$work/server.in" >"$work/server.txt" 2>"$work/server.err" &
server=$!
exec 3>"$work/server.in"
for _ in $(seq 100); do grep -q '^root=' "$work/server.txt" 2>/dev/null && break; sleep 0.1; done
grep -q '^root=' "$work/server.txt" || { echo "the S3 server did not start:" >&2; cat "$work/server.err" >&2; exit 1; }
endpoint=$(sed -n 's/^endpoint=//p' "$work/server.txt")
root=$(sed -n 's/^root=//p' "$work/server.txt")
"$release/examples/latency_proxy" "${endpoint#http://}" $((rtt / 2)) <"$work/proxy.in" >"$work/proxy.txt" 2>"$work/proxy.err" &
proxy=$!
exec 4>"$work/proxy.in"
for _ in $(seq 100); do grep -q '^endpoint=' "$work/proxy.txt" 2>/dev/null && break; sleep 0.1; done
far=$(sed -n 's/^endpoint=//p' "$work/proxy.txt")
[ -n "$far" ] || { echo "the latency proxy did not start:" >&2; cat "$work/proxy.err" >&2; exit 1; }

export IMGLIFT_ACCESS_KEY_ID=$(sed -n 's/^access_key=//p' "$work/server.txt")
export IMGLIFT_SECRET_ACCESS_KEY=$(sed -n 's/^secret_key=//p' "$work/server.txt")
for remote in NEAR FAR; do
  export RCLONE_CONFIG_${remote}_TYPE=s3 RCLONE_CONFIG_${remote}_PROVIDER=Other
  export RCLONE_CONFIG_${remote}_ACCESS_KEY_ID=$IMGLIFT_ACCESS_KEY_ID
  export RCLONE_CONFIG_${remote}_SECRET_ACCESS_KEY=$IMGLIFT_SECRET_ACCESS_KEY
  export RCLONE_CONFIG_${remote}_REGION=auto RCLONE_CONFIG_${remote}_FORCE_PATH_STYLE=true
done
export RCLONE_CONFIG_NEAR_ENDPOINT=$endpoint RCLONE_CONFIG_FAR_ENDPOINT=$far
# AWS_CA_BUNDLE (set on some machines) makes rclone refuse a plain-http endpoint.
unset AWS_CA_BUNDLE

# A fresh copy of the generated site (images hard-linked, every other file copied) uploading to BUCKET.
fresh_site() { # DIR BUCKET ENDPOINT
  rm -rf "$1"
  python3 - "$work/master" "$1" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1:]
for folder, _, files in os.walk(src):
    to = os.path.join(dst, os.path.relpath(folder, src))
    os.makedirs(to, exist_ok=True)
    for f in files:
        (os.link if f.endswith(".png") else shutil.copyfile)(os.path.join(folder, f), os.path.join(to, f))
PY
  cat >"$1/imglift.yaml" <<YAML
content: [content]
static: [static]
public_url: https://img.example.com
front_matter: [image]
target:
  s3:
    bucket: $2
    endpoint: $3
YAML
}

declare -A times rss
# Time one command (in DIR) under KEY; a failure stops the benchmark.
timed() { # KEY DIR COMMAND...
  local key=$1 dir=$2 s e t m=""
  shift 2
  sync
  s=$EPOCHREALTIME
  if [ -x /usr/bin/time ]; then
    (cd "$dir" && timeout 900 /usr/bin/time -o "$work/rss" -f %M "$@") >/dev/null 2>"$work/err" || {
      echo "FAILED: $key: $*" >&2; tail -5 "$work/err" >&2; exit 1; }
    m=$(tail -1 "$work/rss")
  else
    (cd "$dir" && timeout 900 "$@") >/dev/null 2>"$work/err" || {
      echo "FAILED: $key: $*" >&2; tail -5 "$work/err" >&2; exit 1; }
  fi
  e=$EPOCHREALTIME
  t=$(awk "BEGIN{printf \"%.3f\", $e - $s}")
  times[$key]+="$t "
  [ -z "$m" ] || rss[$key]+="$m "
  printf '  %-16s %7.2f s %s  %s\n' "$key" "$t" "${m:+$((m / 1024)) MB}" "$(tail -1 "$work/err" | cut -c1-140)"
}
rclone_copy() { # KEY REMOTE:BUCKET [FLAGS]
  local key=$1 to=$2
  shift 2
  timed "$key" "$work" rclone copy -q --transfers 16 --checkers 16 "$@" "$work/rclone-src" "$to"
}
objects() { find "$root/$1" -type f ! -name '.*' | wc -l; }

for r in $(seq "$rounds"); do
  echo "round $r"
  # Every site copy and out folder of the benchmark is new and nothing is deleted until it
  # ends: on an ext4 without a journal (as on this project's machine) each new file skips every
  # inode deleted in the last minute or more (`recently_deleted` in the kernel), so an
  # `rm -rf` just before a run would bill that run for the deletion; a CI runner's fresh
  # folder has no such history.
  d="$work/r$r"
  fresh_site "$d/s-out" "r$r-i-out" "$endpoint"
  fresh_site "$d/s-in" "r$r-i-in" "$endpoint"
  fresh_site "$d/s-far" "r$r-i-far" "$far"
  imglift_cold_out() { timed "imglift cold-out" "$d/s-out" "$bin" sync --out "$d/out-cold"; }
  imglift_noop_out() { timed "imglift noop-out" "$d/s-out" "$bin" sync --out "$d/out-noop"; }
  imglift_cold_in() { timed "imglift cold-in" "$d/s-in" "$bin" sync; }
  imglift_noop_in() { timed "imglift noop-in" "$d/s-in" "$bin" sync; }
  imglift_cold_far() { timed "imglift cold-far" "$d/s-far" "$bin" sync --out "$d/out-far"; }
  # Odd rounds imglift first in each row, even rounds rclone first.
  if [ $((r % 2)) = 1 ]; then first=imglift; else first=rclone; fi
  run_row() { # IMGLIFT_FN RCLONE_ARGS...
    local fn=$1
    shift
    if [ "$first" = imglift ]; then "$fn"; rclone_copy "$@"; else rclone_copy "$@"; "$fn"; fi
  }
  run_row imglift_cold_out "rclone cold-out" "near:r$r-r-out"
  run_row imglift_noop_out "rclone noop-out" "near:r$r-r-out" --checksum
  run_row imglift_cold_in "rclone cold-in" "near:r$r-r-in"
  run_row imglift_noop_in "rclone noop-in" "near:r$r-r-in" --checksum
  run_row imglift_cold_far "rclone cold-far" "far:r$r-r-far"
  if [ "$r" = 1 ]; then
    echo "  objects stored: imglift $(objects r1-i-out) $(objects r1-i-in) $(objects r1-i-far)," \
      "rclone $(objects r1-r-out) $(objects r1-r-in) $(objects r1-r-far)"
  fi
  # Disk: the objects of this round are not needed again.
  for b in i-out i-in i-far r-out r-in r-far; do find "$root/r$r-$b" -mindepth 1 -delete; done
done

median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "| run | imglift | rclone | ratio | goal |"
echo "| --- | --- | --- | --- | --- |"
row() { # KEY LABEL RCLONE_LABEL GOAL
  local mi mr
  mi=$(median "${times[imglift $1]}")
  mr=$(median "${times[rclone $1]}")
  printf '| %s | %.2f s | %.2f s%s | %.2f | ≤ %s |\n' "$2" "$mi" "$mr" "$3" "$(awk "BEGIN{print $mi / $mr}")" "$4"
}
row cold-out 'cold, `sync --out DIR`' "" 0.8
row noop-out 'nothing changed, `sync --out` into a fresh DIR' ' (`--checksum`)' 0.1
row cold-in 'cold, in place (`sync`)' "" 0.8
row noop-in 'nothing changed, in place' ' (`--checksum`)' 0.1
row cold-far "cold, \`sync --out\`, +${rtt} ms round trip" "" 0.6
echo
echo "medians of $rounds rounds; every time (s):"
for k in cold-out noop-out cold-in noop-in cold-far; do
  printf '  %-9s imglift %s| rclone %s\n' "$k" "${times[imglift $k]}" "${times[rclone $k]}"
done
if [ "${#rss[@]}" -gt 0 ]; then
  printf '  peak RSS (MB, median):'
  for k in cold-out noop-out cold-in noop-in cold-far; do
    printf ' %s imglift %.0f rclone %.0f;' "$k" "$(awk "BEGIN{print $(median "${rss[imglift $k]}") / 1024}")" \
      "$(awk "BEGIN{print $(median "${rss[rclone $k]}") / 1024}")"
  done
  echo
fi
exec 3>&- 4>&-
for pid in $server $proxy; do
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
sed 's/^/  server: /' "$work/server.err" | cut -c1-400
sed 's/^/  /' "$work/proxy.err"
echo "  load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
