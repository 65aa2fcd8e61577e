#!/usr/bin/env bash
# Instructions per Continue-sized request through the proxy, counted by valgrind's
# callgrind: repeatable on a shared machine, where wall-clock figures are not. The proxy runs
# on one thread (`--workers 1`) in front of the stand-in; counters are zeroed once it serves,
# then `wrk` sends requests for SECONDS and the total is divided by them.
#
#   bash benches/proxy-instructions.sh [SECONDS]      (default 10; needs valgrind and wrk,
#                                                      installed when missing and apt-get can)
#   STREAM=1 bash benches/proxy-instructions.sh       (the same request with "stream": true;
#                                                      also reports instructions per chunk)
#   PIECES=40 STREAM=1 bash benches/proxy-instructions.sh   (the stand-in's answer in 40
#                                                      4-char pieces instead of its default 8)
#   REPLICAS=4 bash benches/proxy-instructions.sh     (the same, over 4 stand-in replicas)
#   CG_OUT=/tmp/cg.out bash benches/proxy-instructions.sh   (keep the profile: callgrind_annotate)
#   API=messages bash benches/proxy-instructions.sh   (the same conversation as Anthropic
#                                                      Messages; API=responses: OpenAI Responses)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-10}"
# wrk and valgrind come from the OS packages: installed here when missing and apt-get can.
for tool in wrk valgrind; do
  if ! command -v "$tool" >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y wrk valgrind >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y wrk valgrind >/dev/null 2>&1; } || true
  fi
  command -v "$tool" >/dev/null 2>&1 || { echo "needs $tool (apt-get install wrk valgrind)" >&2; exit 2; }
done
replicas="${REPLICAS:-1}"
api="${API:-chat}"
case $api in
  chat) path=/v1/chat/completions;; messages) path=/v1/messages;; responses) path=/v1/responses;;
  *) echo "API must be chat, messages or responses" >&2; exit 2;;
esac
body=$api.json
if [ -n "${STREAM:-}" ]; then body=$api-stream.json; fi
standin_args=()
if [ -n "${PIECES:-}" ]; then
  standin_args=(--reply "$(python3 -c "print('word' * $PIECES)")" --chunk 4)
fi
target="${TARGET_DIR:-/tmp/prof-target}"
source benches/lib.sh

CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo build --release --locked --bin podctl --example standin --target-dir "$target" >&2
bin="$target/release"
python3 benches/continue_request.py "$work"

upstreams=()
for _ in $(seq "$replicas"); do
  port=$(free_port)
  "$bin/examples/standin" --port "$port" "${standin_args[@]}" > "$work/standin-$port.out" &
  pids+=($!)
  for _ in $(seq 100); do grep -q listening "$work/standin-$port.out" 2>/dev/null && break; sleep 0.05; done
  upstreams+=(--upstream "http://127.0.0.1:$port/v1")
done

px_port=$(free_port)
PODCTL_STATE_DIR="$work/state" valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
  "$bin/podctl" -q proxy --workers 1 --port "$px_port" "${upstreams[@]}" --model-name qwen3-coder-30b \
  2> "$work/valgrind.err" &
vg=$!
pids+=("$vg")
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$px_port/health" > /dev/null 2>&1 && break
  sleep 0.1
done
# Warm up (connections, the tools cache, the model id), then count from zero.
# The warm-up answer also gives the chunk count: the SSE events the client gets per request
# (the role chunk, one per piece, the finish chunk, the usage chunk; `[DONE]` not counted).
curl -sfN "http://127.0.0.1:$px_port$path" -H 'Content-Type: application/json' \
  -d @"$work/$body" > "$work/answer"
chunks=$(grep -c '^data: {' "$work/answer" || true)
callgrind_control --zero "$vg" > /dev/null
post_lua post "$body"
requests=$(wrk -t1 -c4 -d"${secs}s" -s "$work/post.lua" "http://127.0.0.1:$px_port$path" \
  | awk '/requests in/ {print $1}')
callgrind_control --dump "$vg" > /dev/null
sleep 1
dump=$(ls -t "$work"/cg.out.* | head -1)
if [ -n "${CG_OUT:-}" ]; then cp "$dump" "$CG_OUT"; fi   # for callgrind_annotate
total=$(awk '/^summary:|^totals:/ {print $2; exit}' "$dump")
if [ -n "${STREAM:-}" ]; then
  python3 -c "print(f'{int($total) / int($requests) / 1000:.0f} k instructions per streaming $api request, {int($total) / int($requests) / $chunks / 1000:.1f} k per chunk ({$chunks} chunks, {$requests} requests, {$replicas} replica(s))')"
else
  python3 -c "print(f'{int($total) / int($requests) / 1000:.0f} k instructions per $api request ({$requests} requests, {$replicas} replica(s))')"
fi
