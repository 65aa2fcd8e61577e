#!/usr/bin/env bash
# Proxy speed and size, against the stand-in upstream on this machine:
# added latency (p50/p99) and throughput at concurrency 1, 16, 64 compared with going
# straight to the upstream; streaming time to first byte; resident memory idle and under
# load; launch → /health time. Results are printed as a Markdown table (BENCHMARKS.md).
#
#   bash benches/proxy-load.sh [SECONDS_PER_RUN]     (default 10)
#   PROXY_ARGS="--workers 1" bash benches/proxy-load.sh   (extra `podctl proxy` flags)
#   CONCURRENCIES="1 2 4 8 16 32 64 128 256 512" bash benches/proxy-load.sh 5   (the curve)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-10}"
source benches/lib.sh
ulimit -n 65536 2>/dev/null || true

cargo build --release --locked --bin podctl --example standin --example load >&2
bin=target/release

# A Continue-sized request: 9 tools with schemas, a 2 kB system prompt, a short history.
python3 benches/continue_request.py "$work"
echo "request body: $(wc -c < "$work/chat.json") bytes" >&2

up_port=$(free_port)
$bin/examples/standin --port "$up_port" > "$work/standin.out" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/standin.out" 2>/dev/null && break; sleep 0.05; done

# Launch → first 200 from /health, measured by polling from Python in a tight loop.
px_port=$(free_port)
read -r startup_ms px_pid < <(python3 - "$bin/podctl" "$px_port" "$up_port" ${PROXY_ARGS:-} <<'PY'
import socket, subprocess, sys, time
binary, port, up, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
t0 = time.perf_counter()
p = subprocess.Popen([binary, "-q", "proxy", "--port", str(port), "--upstream", f"http://127.0.0.1:{up}/v1",
                      "--model-name", "qwen3-coder-30b", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if s.recv(64).startswith(b"HTTP/1.1 200"):
            break
    except OSError:
        time.sleep(0.0005)
print(f"{(time.perf_counter() - t0) * 1000:.1f} {p.pid}")
PY
)
pids+=("$px_pid")
sleep 1
rss_idle=$(awk '/VmRSS/ {print $2}' "/proc/$px_pid/status")

load() { $bin/examples/load --url "$1" --body "$2" --concurrency "$3" --seconds "$secs" ${4:-}; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }

echo "| concurrency | direct req/s | proxy req/s | direct p50 / p99 ms | proxy p50 / p99 ms | added p50 / p99 ms | errors |"
echo "|---|---|---|---|---|---|---|"
for c in ${CONCURRENCIES:-1 16 64}; do
  d=$(load "http://127.0.0.1:$up_port/v1/chat/completions" "$work/direct.json" "$c")
  p=$(load "http://127.0.0.1:$px_port/v1/chat/completions" "$work/chat.json" "$c")
  printf '| %s | %s | %s | %s / %s | %s / %s | %.3f / %.3f | %s |\n' "$c" \
    "$(field "$d" rps)" "$(field "$p" rps)" "$(field "$d" p50_ms)" "$(field "$d" p99_ms)" \
    "$(field "$p" p50_ms)" "$(field "$p" p99_ms)" \
    "$(python3 -c "print($(field "$p" p50_ms) - $(field "$d" p50_ms))")" \
    "$(python3 -c "print($(field "$p" p99_ms) - $(field "$d" p99_ms))")" \
    "$(( $(field "$d" errors) + $(field "$p" errors) ))"
done
echo
echo "| streaming, concurrency | direct TTFB p50 / p99 ms | proxy TTFB p50 / p99 ms | added TTFB p50 ms |"
echo "|---|---|---|---|"
for c in 1 16; do
  d=$(load "http://127.0.0.1:$up_port/v1/chat/completions" "$work/direct-stream.json" "$c" --stream)
  p=$(load "http://127.0.0.1:$px_port/v1/chat/completions" "$work/chat-stream.json" "$c" --stream)
  printf '| %s | %s / %s | %s / %s | %.3f |\n' "$c" "$(field "$d" ttfb_p50_ms)" "$(field "$d" ttfb_p99_ms)" \
    "$(field "$p" ttfb_p50_ms)" "$(field "$p" ttfb_p99_ms)" \
    "$(python3 -c "print($(field "$p" ttfb_p50_ms) - $(field "$d" ttfb_p50_ms))")"
done
rss_peak=$(awk '/VmHWM/ {print $2}' "/proc/$px_pid/status")
echo
echo "| launch → /health | RSS idle | RSS peak under load |"
echo "|---|---|---|"
printf '| %s ms | %.1f MB | %.1f MB |\n' "$startup_ms" "$(echo "$rss_idle / 1024" | bc -l)" "$(echo "$rss_peak / 1024" | bc -l)"
