#!/usr/bin/env bash
# The proxy's added latency in each client API, side by side in one run: the same
# Continue-sized conversation (9 tools, a 2 kB system prompt) as Chat Completions,
# Anthropic Messages and OpenAI Responses, through one `podctl proxy` in front of the
# stand-in, at concurrency 1 and 16, whole and streaming. "Added" is the proxy's p50 minus
# the stand-in's own (the same request straight to it, as vLLM would get it); the last
# column is each API's added latency over chat's.
#
#   bash benches/api-latency.sh [SECONDS_PER_RUN]     (default 5)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-5}"
source benches/lib.sh

cargo build --release --locked --bin podctl --example standin --example load >&2
bin=target/release
python3 benches/continue_request.py "$work"

up_port=$(free_port)
$bin/examples/standin --port "$up_port" > "$work/standin.out" &
pids+=($!)
wait_for "$work/standin.out" listening
px_port=$(free_port)
$bin/podctl -q proxy --port "$px_port" --upstream "http://127.0.0.1:$up_port/v1" --model-name qwen3-coder-30b &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$px_port/health" > /dev/null && break; sleep 0.05; done

load() { $bin/examples/load --url "$1" --body "$2" --concurrency "$3" --seconds "$secs" ${4:-}; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }

echo "| API | mode | concurrency | p50 / p99 ms | added p50 ms | added ÷ chat's | errors |"
echo "|---|---|---|---|---|---|---|"
for mode in whole stream; do
  for c in 1 16; do
    if [ "$mode" = stream ]; then flag=--stream; key=ttfb_p50_ms; suffix=-stream; else flag=; key=p50_ms; suffix=; fi
    direct=$(load "http://127.0.0.1:$up_port/v1/chat/completions" "$work/direct$suffix.json" "$c" $flag)
    base=$(field "$direct" "$key")
    chat_added=""
    for api in chat messages responses; do
      case $api in
        chat) path=/v1/chat/completions;; messages) path=/v1/messages;; responses) path=/v1/responses;;
      esac
      p=$(load "http://127.0.0.1:$px_port$path" "$work/$api$suffix.json" "$c" $flag)
      added=$(python3 -c "print(f'{$(field "$p" "$key") - $base:.3f}')")
      [ "$api" = chat ] && chat_added=$added
      ratio=$(python3 -c "print(f'{$added / $chat_added:.2f}' if $chat_added > 0 else 'n/a')")
      p99=$(field "$p" "${key/p50/p99}")
      printf '| %s | %s | %s | %s / %s | %s | %s | %s |\n' "$api" "$mode" "$c" "$(field "$p" "$key")" "$p99" \
        "$added" "$ratio" "$(field "$p" errors)"
    done
  done
done
