#!/usr/bin/env bash
# podctl against the floor: nginx as a plain reverse proxy (`proxy_pass` with upstream
# keep-alive, one worker), side by side in one run, same machine, same stand-in upstream,
# same Continue-shaped request (system prompt, 9 tools, ~6 kB). Printed: each proxy's
# throughput and latency at concurrency 64 and 1 with wrk, the latency each adds over the
# stand-in alone, and the ratios podctl ÷ nginx (the machine is shared and noisy: the ratios
# are the figures to keep).
#
#   bash benches/floor.sh [SECONDS]            (default 8 per run; needs wrk and nginx:
#                                               `apt-get install nginx-light wrk`, done here
#                                               when missing and apt-get can)
#   PIN=1 bash benches/floor.sh                (each proxy on core 0, the rest on the others)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-8}"
for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x /usr/sbin/nginx ]; then
    if command -v apt-get >/dev/null 2>&1; then
      apt-get install -y nginx-light wrk >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y nginx-light wrk >/dev/null 2>&1; }
    fi
  fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] && command -v wrk >/dev/null || { echo "needs nginx and wrk (apt-get install nginx-light wrk)" >&2; exit 2; }
cargo build --release --locked --bin podctl --example standin >&2
bin=target/release
source benches/lib.sh
proxy_cpu="" other_cpu=""
if [ -n "${PIN:-}" ]; then
  last=$(( $(nproc) - 1 ))
  proxy_cpu="taskset -c 0"; other_cpu="taskset -c 1-$last"
fi
python3 benches/continue_request.py "$work"
# nginx forwards the client's body as it is, so it gets the body vLLM would get (what
# podctl writes upstream); podctl gets the client's.
post_lua client chat.json
post_lua direct direct.json

up=$(free_port); px=$(free_port); ng=$(free_port)
up2=$(free_port); px2=$(free_port); ng2=$(free_port)
$other_cpu "$bin/examples/standin" --port "$up" > "$work/standin.out" &
pids+=($!)
# The streaming load: a 500-chunk answer (2,000 characters in 4-character pieces).
$other_cpu "$bin/examples/standin" --port "$up2" --reply "$(python3 -c "print('word' * 500)")" --chunk 4 \
  > "$work/standin2.out" &
pids+=($!)
wait_for "$work/standin.out" listening
wait_for "$work/standin2.out" listening
PODCTL_STATE_DIR="$work/state" $proxy_cpu "$bin/podctl" -q proxy --port "$px" --upstream "http://127.0.0.1:$up/v1" \
  --model-name qwen3-coder-30b ${PROXY_ARGS:-} &
pids+=($!)
podctl_pid=$!
PODCTL_STATE_DIR="$work/state2" $proxy_cpu "$bin/podctl" -q proxy --port "$px2" --upstream "http://127.0.0.1:$up2/v1" \
  --model-name qwen3-coder-30b ${PROXY_ARGS:-} &
pids+=($!)
podctl2_pid=$!
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  client_max_body_size 32m;
  client_body_buffer_size 64k;
  upstream standin { server 127.0.0.1:$up; keepalive 128; }
  upstream standin2 { server 127.0.0.1:$up2; keepalive 128; }
  server {
    listen 127.0.0.1:$ng;
    location / {
      proxy_pass http://standin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
  server {
    listen 127.0.0.1:$ng2;
    location / {
      proxy_pass http://standin2;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF
$proxy_cpu "$nginx_bin" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$px/health" > /dev/null 2>&1 && break; sleep 0.05; done
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$ng/health" 2>/dev/null && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$px/v1/chat/completions" -H 'Content-Type: application/json' -d @"$work/chat.json" > /dev/null
curl -sf "http://127.0.0.1:$ng/v1/chat/completions" -H 'Content-Type: application/json' -d @"$work/direct.json" > /dev/null

# URL LUA CONNECTIONS -> "rps p50_ms p99_ms"
load() {
  local out
  out=$($other_cpu wrk -t"$([ "$3" -gt 1 ] && echo 2 || echo 1)" -c"$3" -d"${secs}s" -s "$work/$2.lua" --latency "$1")
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
print(f"{rps:.0f} {p50:.3f} {p99:.3f}")
PY
}
direct="http://127.0.0.1:$up/v1/chat/completions"
echo "| concurrency | what | req/s | p50 / p99 ms | added p50 / p99 ms |"
echo "|---|---|---|---|---|"
for c in 64 1; do
  read -r d_rps d_p50 d_p99 <<< "$(load "$direct" direct "$c")"
  read -r n_rps n_p50 n_p99 <<< "$(load "http://127.0.0.1:$ng/v1/chat/completions" direct "$c")"
  read -r p_rps p_p50 p_p99 <<< "$(load "http://127.0.0.1:$px/v1/chat/completions" client "$c")"
  python3 - "$c" "$d_rps" "$d_p50" "$d_p99" "$n_rps" "$n_p50" "$n_p99" "$p_rps" "$p_p50" "$p_p99" <<'PY'
import sys
c, d_rps, d50, d99, n_rps, n50, n99, p_rps, p50, p99 = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {c} | stand-in alone | {d_rps:.0f} | {d50:.3f} / {d99:.3f} | |")
print(f"| {c} | nginx | {n_rps:.0f} | {n50:.3f} / {n99:.3f} | {n50 - d50:+.3f} / {n99 - d99:+.3f} |")
print(f"| {c} | podctl | {p_rps:.0f} | {p50:.3f} / {p99:.3f} | {p50 - d50:+.3f} / {p99 - d99:+.3f} |")
added = lambda a, b: (a - b) if a > b else 0.0
ratio = lambda a, b: f"{a / b:.2f}" if b > 0 else "n/a"
print(f"| {c} | **podctl ÷ nginx** | **{p_rps / n_rps:.2f}** | | p50 {ratio(added(p50, d50), added(n50, d50))} / p99 {ratio(added(p99, d99), added(n99, d99))} |")
PY
done

# Streaming: the CPU time each proxy spends per stream and per chunk (utime + stime of its
# processes from /proc, over a fixed load), and the time to the first byte it adds at
# concurrency 1. nginx's worker is the child of its master.
cargo build --release --locked --example load >&2
nginx_worker=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
stream() { # URL BODY CONCURRENCY -> load's JSON
  "$bin/examples/load" --url "$1" --body "$work/$2" --concurrency "$3" --seconds "$secs" --stream
}
echo
echo "| streams (500 chunks each) | what | streams/s | CPU per stream | per chunk | TTFB p50 at concurrency 1 (added) |"
echo "|---|---|---|---|---|---|"
d1=$(stream "http://127.0.0.1:$up2/v1/chat/completions" direct-stream.json 1)
for what in nginx podctl; do
  if [ "$what" = nginx ]; then url="http://127.0.0.1:$ng2/v1/chat/completions"; body=direct-stream.json; pid=$nginx_worker
  else url="http://127.0.0.1:$px2/v1/chat/completions"; body=chat-stream.json; pid=$podctl2_pid; fi
  t0=$(ticks "$pid")
  out=$(stream "$url" "$body" 16)
  t1=$(ticks "$pid")
  one=$(stream "$url" "$body" 1)
  python3 - "$what" "$out" "$one" "$d1" "$t0" "$t1" "$hz" <<'PY'
import json, sys
what, out, one, d1 = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
t0, t1, hz = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
cpu = (t1 - t0) / hz / max(out["requests"], 1) * 1000
print(f"| 16 at once | {what} | {out['rps']:.0f} | {cpu:.3f} ms | {cpu / 501 * 1000:.2f} µs | "
      f"{one['ttfb_p50_ms']:.3f} ms ({one['ttfb_p50_ms'] - d1['ttfb_p50_ms']:+.3f}) |")
PY
done

# 1,000 streams at once: a third stand-in streams each answer as 40 pieces 50 ms apart (2 s
# a stream), `examples/load` holds 1,000 of them open through each proxy for the run; each
# proxy's RSS is sampled every 0.2 s (nginx: its worker), and its open descriptors are
# counted before, at the peak and 6 s after (podctl's idle pooled connections close at 4 s).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
up3=$(free_port); px3=$(free_port)
$other_cpu "$bin/examples/standin" --port "$up3" --reply "$(python3 -c "print('word' * 40)")" --chunk 4 --delay-ms 50 \
  > "$work/standin3.out" &
pids+=($!)
wait_for "$work/standin3.out" listening
PODCTL_STATE_DIR="$work/state3" $proxy_cpu "$bin/podctl" -q proxy --port "$px3" --upstream "http://127.0.0.1:$up3/v1" \
  --model-name qwen3-coder-30b ${PROXY_ARGS:-} &
pids+=($!)
podctl3_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$px3/health" > /dev/null 2>&1 && break; sleep 0.05; done
# nginx's third server, added to the running one by a reload.
python3 - "$work/nginx/nginx.conf" "$up3" "$(free_port)" > "$work/ng3" <<'PY'
import sys
conf, up, port = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(conf).read().rstrip()
assert text.endswith("}")
text = text[:-1] + f"""  upstream standin3 {{ server 127.0.0.1:{up}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://standin3; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }}
  }}
}}
"""
open(conf, "w").write(text)
print(port)
PY
ng3=$(cat "$work/ng3")
kill -HUP "$(cat "$work/nginx/nginx.pid")"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$ng3/health" 2>/dev/null && break; sleep 0.05; done
sleep 0.5
nginx_worker=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1)
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
echo
echo "| 1,000 streams at once (2 s each) | what | streams | errors | RSS idle / peak | fds idle / peak / 6 s after |"
echo "|---|---|---|---|---|---|"
for what in nginx podctl; do
  if [ "$what" = nginx ]; then url="http://127.0.0.1:$ng3/v1/chat/completions"; body=direct-stream.json; pid=$nginx_worker
  else url="http://127.0.0.1:$px3/v1/chat/completions"; body=chat-stream.json; pid=$podctl3_pid; fi
  fd_idle=$(fds "$pid"); rss_idle=$(rss "$pid")
  (peak=0; fpeak=0; while [ -r "/proc/$pid/status" ]; do
     r=$(rss "$pid"); f=$(fds "$pid"); [ "$r" -gt "$peak" ] && peak=$r; [ "$f" -gt "$fpeak" ] && fpeak=$f
     echo "$peak $fpeak" > "$work/peak.$what"; sleep 0.2
   done) &
  sampler=$!
  out=$("$bin/examples/load" --url "$url" --body "$work/$body" --concurrency 1000 --seconds "$secs" --stream)
  sleep 6
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  fd_after=$(fds "$pid")
  read -r rss_peak fd_peak < "$work/peak.$what"
  python3 - "$what" "$out" "$rss_idle" "$rss_peak" "$fd_idle" "$fd_peak" "$fd_after" <<'PY'
import json, sys
what, out = sys.argv[1], json.loads(sys.argv[2])
rss_idle, rss_peak, fd_idle, fd_peak, fd_after = map(int, sys.argv[3:])
print(f"| 1,000 at once | {what} | {out['requests']} | {out['errors']} | {rss_idle / 1024:.1f} / {rss_peak / 1024:.1f} MB | "
      f"{fd_idle} / {fd_peak} / {fd_after} |")
PY
done
