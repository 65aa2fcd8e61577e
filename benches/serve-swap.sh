#!/usr/bin/env bash
# What a swap and a wake cost on podctl's side under `podctl serve`: two profiles of the
# test-double vLLM (examples/fake_vllm) on one pretend GPU, each asking for 0.6 of it, so
# only one fits. Requests alternate between them, each waiting for its model: every
# request but the first is a swap (stop the other after its requests, start this one, the
# first byte), or, with `sleep = true`, a sleep of the other and a wake of this one.
# Printed per request: the time to the answer, and that time less the double's own start
# (FAKE_VLLM_STARTUP_MS) or wake (FAKE_VLLM_WAKE_MS): what podctl adds.
#
#   bash benches/serve-swap.sh [SWAPS]      (default 20; STARTUP_MS=300 WAKE_MS=100)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swaps="${1:-20}"
startup_ms="${STARTUP_MS:-300}"
wake_ms="${WAKE_MS:-100}"
source benches/lib.sh

cargo build --release --locked --bin podctl --example fake_vllm >&2
bin=$PWD/target/release

run() { # MODE (stop|sleep)
  local mode=$1 dir="$work/$1"
  mkdir -p "$dir/models" "$dir/fake"
  local proxy_port vllm_port
  proxy_port=$(free_port)
  vllm_port=$(free_port)
  for name in coder thinker; do
    {
      echo "model = \"test/$name\""
      echo "served_model_name = \"$name\""
      echo "tool_format = \"qwen3_coder\""
      echo "port = $vllm_port"
      echo "gpu_memory_utilization = 0.6"
      echo "shutdown_timeout = 5"
      [ "$mode" = sleep ] && echo "sleep = true"
      echo "[env]"
      echo "FAKE_VLLM_STATE_DIR = \"$dir/fake/$name\""
      echo "FAKE_VLLM_STARTUP_MS = \"$startup_ms\""
      echo "FAKE_VLLM_WAKE_MS = \"$wake_ms\""
      echo "HF_HOME = \"$dir/hf\""
      echo "[proxy]"
      echo "host = \"127.0.0.1\""
      echo "port = $proxy_port"
    } > "$dir/models/$name.toml"
  done
  export PODCTL_HOME="$dir/home" PODCTL_STATE_DIR="$dir/state" PODCTL_VLLM_BIN="$bin/examples/fake_vllm"
  (cd "$dir" && "$bin/podctl" -q serve coder thinker) >&2
  python3 - "$proxy_port" "$swaps" "$mode" "$startup_ms" "$wake_ms" <<'PY'
import json, sys, time, urllib.request
port, swaps, mode, startup, wake = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def ask(model):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body, {"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()
        assert r.status == 200
    return (time.perf_counter() - t) * 1000
# Both models loaded once (the first sleep-mode swap is a cold start), then alternated.
ask("coder"); ask("thinker")
times = [ask(["coder", "thinker"][i % 2]) for i in range(swaps)]
own = startup if mode == "stop" else wake
added = sorted(t - own for t in times)
p50, p90 = added[len(added) // 2], added[int(len(added) * 0.9)]
word = "swap (stop + start)" if mode == "stop" else "wake (sleep + wake)"
print(f"| {word} | {swaps} | {own} ms | {sorted(times)[len(times)//2]:.0f} ms | **{p50:.0f} ms** | {p90:.0f} ms | {max(added):.0f} ms |")
PY
  "$bin/podctl" -q stop >&2 || true
}

echo "| per request | requests | the double's own | answer p50 | podctl adds p50 | p90 | max |"
echo "|---|---|---|---|---|---|---|"
run stop
run sleep
