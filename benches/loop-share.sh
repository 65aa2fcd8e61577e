#!/usr/bin/env bash
# How evenly the proxy's event loops share the connections: each loop thread's CPU time
# (utime + stime ticks from /proc/PID/task/TID/stat) over `wrk -t2 -c64` runs, each with a
# fresh set of 64 connections, with the p99 and req/s of each; then a burst of 1,000
# streaming connections at once (`examples/load`), with the streams done and the TTFB.
#
#   bash benches/loop-share.sh [ROUNDS]          (default 3 wrk runs of 5 s; needs wrk)
#   BIN=/path/to/podctl bash benches/loop-share.sh   (another build, to compare)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-3}"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 2; }
cargo build --release --locked --bin podctl --example standin --example load >&2
bin=target/release
podctl="${BIN:-$bin/podctl}"
source benches/lib.sh
python3 benches/continue_request.py "$work"
post_lua client "chat.json"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
up=$(free_port); up2=$(free_port); px=$(free_port); px2=$(free_port)
"$bin/examples/standin" --port "$up" > "$work/s.out" &
pids+=($!)
"$bin/examples/standin" --port "$up2" --reply "$(python3 -c "print('word' * 40)")" --chunk 4 --delay-ms 50 \
  > "$work/s2.out" &
pids+=($!)
wait_for "$work/s.out" listening
wait_for "$work/s2.out" listening
PODCTL_STATE_DIR="$work/st" "$podctl" -q proxy --port "$px" --upstream "http://127.0.0.1:$up/v1" \
  --model-name qwen3-coder-30b &
pids+=($!)
p1=$!
PODCTL_STATE_DIR="$work/st2" "$podctl" -q proxy --port "$px2" --upstream "http://127.0.0.1:$up2/v1" \
  --model-name qwen3-coder-30b &
pids+=($!)
p2=$!
for port in "$px" "$px2"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break; sleep 0.05; done
done
threads() { for t in /proc/"$1"/task/*; do echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done; }
share() { paste "$1" "$2" | awk '{printf "%s %d  ", $1, $4 - $2}'; }
echo "| run | req/s | p99 | CPU ticks per loop thread |"
echo "|---|---|---|---|"
for r in $(seq "$rounds"); do
  threads "$p1" > "$work/before"
  out=$(wrk -t2 -c64 -d5s -s "$work/client.lua" --latency "http://127.0.0.1:$px/v1/chat/completions")
  threads "$p1" > "$work/after"
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out"); p99=$(awk '/^ +99%/ {print $2}' <<< "$out")
  echo "| c64 #$r | $rps | $p99 | $(share "$work/before" "$work/after")|"
done
threads "$p2" > "$work/before"
out=$("$bin/examples/load" --url "http://127.0.0.1:$px2/v1/chat/completions" --body "$work/chat-stream.json" \
  --concurrency 1000 --seconds 8 --stream)
threads "$p2" > "$work/after"
python3 - "$out" "$(share "$work/before" "$work/after")" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
print(f"| 1,000 streams at once | {o['requests']} done, {o['errors']} errors | TTFB p50 {o['ttfb_p50_ms']:.1f} ms, p99 {o['ttfb_p99_ms']:.0f} ms | {sys.argv[2]}|")
PY
