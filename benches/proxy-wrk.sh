#!/usr/bin/env bash
# Proxy throughput with `wrk` (a lighter load generator than examples/load), Continue-sized
# non-streaming requests, 8 s per row, and the proxy's own added time from its /metrics.
#
#   bash benches/proxy-wrk.sh                 everything shares the 2 cores
#   PIN=1 bash benches/proxy-wrk.sh           proxy on core 0; stand-in and wrk on core 1
#   PROXY_ARGS="--workers 1" bash benches/proxy-wrk.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --locked --bin podctl --example standin >&2
bin=target/release
source benches/lib.sh
proxy_cpu="" other_cpu=""
if [ -n "${PIN:-}" ]; then proxy_cpu="taskset -c 0"; other_cpu="taskset -c 1"; fi
python3 benches/continue_request.py "$work"
post_lua post "chat.json"
up=$(free_port); px=$(free_port)
$other_cpu "$bin/examples/standin" --port "$up" > "$work/standin.out" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/standin.out" 2>/dev/null && break; sleep 0.05; done
PODCTL_STATE_DIR="$work/state" $proxy_cpu "$bin/podctl" -q proxy --port "$px" --upstream "http://127.0.0.1:$up/v1" \
  --model-name qwen3-coder-30b --metrics-public ${PROXY_ARGS:-} &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$px/health" > /dev/null 2>&1 && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$px/v1/chat/completions" -H 'Content-Type: application/json' -d @"$work/chat.json" > /dev/null
echo "| connections | req/s | p50 / p99 ms | proxy's own added time p50 / p99 (from /metrics) |"
echo "|---|---|---|---|"
for c in 16 64; do
  curl -s "http://127.0.0.1:$px/metrics" > "$work/m0"
  out=$($other_cpu wrk -t1 -c"$c" -d8s -s "$work/post.lua" --latency "http://127.0.0.1:$px/v1/chat/completions")
  curl -s "http://127.0.0.1:$px/metrics" > "$work/m1"
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out"); p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  added=$(python3 - "$work/m0" "$work/m1" <<'PY'
import re, sys
def load(path):
    d = {}
    for line in open(path):
        m = re.match(r'podctl_added_seconds_bucket\{.*le="([^"]+)"\} (\S+)', line)
        if m:
            d[m.group(1)] = d.get(m.group(1), 0) + float(m.group(2))
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
keys = sorted(b, key=lambda k: float("inf") if k == "+Inf" else float(k))
total = b["+Inf"] - a.get("+Inf", 0)
out = []
for q in (0.5, 0.99):
    k = next(k for k in keys if b[k] - a.get(k, 0) >= q * total)
    out.append(f"≤ {float(k) * 1000:g} ms")
print(" / ".join(out))
PY
)
  echo "| $c | $rps | $p50 / $p99 | $added |"
done
