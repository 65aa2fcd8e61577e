#!/usr/bin/env bash
# Real clients through `podctl proxy`: Continue's CLI (`cn`, headless, provider openai,
# capabilities [tool_use]) runs an agent loop that reads a file through a tool call, and
# the openai SDK checks tool calls streaming and not. The upstream is scripted_vllm.py
# (a parser-less vLLM stand-in). Needs python3, npm and pip (registries); caches the
# clients under ${PODCTL_CLIENTS_CACHE:-~/.cache/podctl-clients}.
#
#   bash tests/clients/run.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cache="${PODCTL_CLIENTS_CACHE:-$HOME/.cache/podctl-clients}"
work="$(mktemp -d)"
pids=()
passed=0 failed=0
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
result() { if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "ok   $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cargo build --release --locked --bin podctl >&2 || { echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$cache"
if [ ! -x "$cache/node_modules/.bin/cn" ]; then
  npm install --prefix "$cache" @continuedev/cli@1.5.47 >&2 || { echo "error: cannot install @continuedev/cli" >&2; echo "0 passed, 1 failed"; exit 1; }
fi
if [ ! -x "$cache/venv/bin/python" ] || ! "$cache/venv/bin/python" -c 'import openai' 2>/dev/null; then
  python3 -m venv "$cache/venv" && "$cache/venv/bin/pip" install -q 'openai>=1.50' >&2 \
    || { echo "error: cannot install the openai SDK" >&2; echo "0 passed, 1 failed"; exit 1; }
fi

mkdir -p "$work/ws"
echo "hello from the file" > "$work/ws/hello.txt"
up=$(port); px=$(port)
(cd "$work/ws" && exec python3 "$OLDPWD/tests/clients/scripted_vllm.py" "$up" hello.txt) &
pids+=($!)
target/release/podctl -q proxy --port "$px" --upstream "http://127.0.0.1:$up/v1" --model-name qwen3-coder-30b \
  --api-key sk-clients &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$px/health" >/dev/null && curl -sf "http://127.0.0.1:$up/health" >/dev/null && break; sleep 0.1; done

cat > "$work/config.yaml" <<YAML
name: podctl-clients
version: 0.0.1
schema: v1
models:
  - name: Qwen3-Coder 30B (podctl)
    provider: openai
    model: qwen3-coder-30b
    apiBase: http://127.0.0.1:$px/v1
    apiKey: sk-clients
    roles: [chat, edit, apply]
    capabilities: [tool_use]
    defaultCompletionOptions:
      contextLength: 32768
      maxTokens: 1024
YAML
out=$(cd "$work/ws" && HOME="$work/home" timeout 120 "$cache/node_modules/.bin/cn" -p "Read hello.txt and tell me what it says" \
  --config "$work/config.yaml" --auto 2>&1)
echo "$out" | sed 's/^/    cn: /'
case "$out" in *"hello from the file"*) result 0 "Continue CLI: agent loop with a tool call";; *) result 1 "Continue CLI: agent loop with a tool call";; esac

"$cache/venv/bin/python" tests/clients/openai_sdk.py "http://127.0.0.1:$px/v1" sk-clients | sed 's/^/    /'
result "${PIPESTATUS[0]}" "openai SDK"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
