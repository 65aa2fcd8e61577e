#!/usr/bin/env bash
# Real clients through `podctl proxy`, each configured by what `podctl client-config`
# prints (so this tests what users paste), each running an agent loop: the upstream is
# scripted_vllm.py (a parser-less vLLM stand-in) that answers with raw Qwen3-Coder call
# text for the client's own read (or shell) tool; the client must run it and send the
# result back, and its final answer must carry what the file said.
#
#   bash tests/clients/run.sh                       # the default set
#   CLIENTS="claude codex" bash tests/clients/run.sh
#   CLIENTS=all bash tests/clients/run.sh
#
# Clients (CLIENTS, space-separated):
#   continue      Continue's CLI `cn -p` (Chat Completions)
#   opencode      OpenCode `opencode run` (Chat Completions, @ai-sdk/openai-compatible)
#   qwen          Qwen Code `qwen -p` (Chat Completions)
#   claude        Claude Code `claude -p` (POST /v1/messages)
#   codex         Codex `codex exec` (POST /v1/responses)
#   openai-sdk    tests/clients/openai_sdk.py (chat tool calls, streaming and not)
#   anthropic-sdk tests/clients/anthropic_sdk.py ROOT_URL KEY MODEL (ROOT_URL without /v1)
#   responses-sdk tests/clients/responses_sdk.py BASE_URL KEY MODEL (BASE_URL ending in /v1)
#   body-limit    tests/clients/body_limit.py: a body over --max-body-mb gets the 413 (requests)
# The default set is the clients whose endpoints this tree serves; `all` is every one.
#
# The npm clients are pinned in tests/clients/npm/package-lock.json and installed with
# `npm install --no-save --ignore-scripts` (their native binaries come as npm packages;
# the two postinstalls that put them in place are run by hand; nothing is downloaded) into one folder of the cache, ${PODCTL_CLIENTS_CACHE:-~/.cache/podctl-clients},
# reinstalled only when the lock file changes; the Python SDKs (requirements.txt) go into
# a venv there the same way. Needs node/npm, python3 and the registries on a cold cache.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"
cache="${PODCTL_CLIENTS_CACHE:-$HOME/.cache/podctl-clients}"
default_clients="continue opencode qwen claude codex openai-sdk anthropic-sdk responses-sdk body-limit"
every_client="continue opencode qwen claude codex openai-sdk anthropic-sdk responses-sdk body-limit"
clients="${CLIENTS:-$default_clients}"
[ "$clients" = all ] && clients="$every_client"
for c in $clients; do
  case " $every_client " in *" $c "*) ;; *) echo "error: unknown client \`$c\` (known: $every_client, or all)" >&2; exit 2;; esac
done
want() { case " $clients " in *" $1 "*) return 0;; esac; return 1; }
npm_wanted() { for c in continue opencode qwen claude codex; do want "$c" && return 0; done; return 1; }
py_wanted() { for c in openai-sdk anthropic-sdk responses-sdk body-limit; do want "$c" && return 0; done; return 1; }

work="$(mktemp -d)"
pids=()
passed=0 failed=0
started=$SECONDS
# KEEP_WORK=1 keeps the work dir (each client's whole output, the upstream's log).
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "note: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
result() { if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "ok   $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi; }
give_up() { echo "error: $1" >&2; echo "0 passed, 1 failed"; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# A stamp of the files an install came from: reinstall when they change.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

# The debug binary `cargo test` already built: no second (release) build in CI.
cargo build --locked --bin podctl >&2 || give_up "cannot build podctl"
podctl="$root/target/debug/podctl"
built=$SECONDS
mkdir -p "$cache"

if npm_wanted; then
  command -v npm >/dev/null && command -v node >/dev/null || give_up "node and npm are needed for: $clients"
  npm_dir="$cache/npm"
  stamp="$(stamp_of tests/clients/npm/package.json tests/clients/npm/package-lock.json)"
  if [ "$(cat "$npm_dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
    t=$SECONDS
    rm -rf "$npm_dir" && mkdir -p "$npm_dir" && cp tests/clients/npm/package.json tests/clients/npm/package-lock.json "$npm_dir/"
    # `npm install` from the lock file, changing nothing (`npm ci` refuses this lock: some
    # clients list other platforms' optional packages without versions). npm's download
    # cache goes with the work dir: node_modules is what is kept.
    (cd "$npm_dir" && npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
      --cache "$work/npm-cache") >&2 \
      || give_up "cannot install the npm clients (tests/clients/npm)"
    # The two install scripts needed, run by hand: each puts the binary of its platform
    # package (already installed from the lock) in place; neither downloads anything.
    (cd "$npm_dir/node_modules/opencode-ai" && node postinstall.mjs) >&2 || give_up "opencode-ai's postinstall"
    (cd "$npm_dir/node_modules/@anthropic-ai/claude-code" && node install.cjs) >&2 || give_up "claude-code's postinstall"
    echo "$stamp" > "$npm_dir/.stamp"
    echo "note: npm clients installed in $((SECONDS - t)) s" >&2
  fi
  bin="$npm_dir/node_modules/.bin"
fi
if py_wanted; then
  venv="$cache/venv"
  stamp="$(stamp_of tests/clients/requirements.txt)"
  if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
    t=$SECONDS
    rm -rf "$venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q --no-cache-dir --disable-pip-version-check -r tests/clients/requirements.txt >&2 \
      || give_up "cannot install the Python SDKs (tests/clients/requirements.txt)"
    echo "$stamp" > "$venv/.stamp"
    echo "note: Python SDKs installed in $((SECONDS - t)) s" >&2
  fi
  py="$venv/bin/python"
fi
installed=$SECONDS

mkdir -p "$work/ws" "$work/home/models"
echo "hello from the file" > "$work/ws/hello.txt"
up=$(port); px=$(port)
(cd "$work/ws" && exec python3 "$root/tests/clients/scripted_vllm.py" "$up" hello.txt "$work/upstream.log") &
pids+=($!)
"$podctl" -q proxy --port "$px" --upstream "http://127.0.0.1:$up/v1" --model-name qwen3-coder-30b \
  --api-key sk-clients --max-body-mb 4 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$px/health" >/dev/null && curl -sf "http://127.0.0.1:$up/health" >/dev/null && break; sleep 0.1; done

# A profile for this proxy, so `client-config` prints what a user of it would paste.
cat > "$work/home/models/clients.toml" <<TOML
model = "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"
served_model_name = "qwen3-coder-30b"
max_model_len = 32768

[proxy]
port = $px
TOML
cfg() { local agent="$1"; shift; PODCTL_HOME="$work/home" "$podctl" -q client-config "$agent" clients --key sk-clients "$@"; }
prompt="Read the file hello.txt and tell me what it says."

# Runs one agent (NAME, then the command) in the workspace with its own HOME, and checks
# that its final answer came after a tool result and carries the file's text.
agent() {
  local name="$1"; shift
  local out="$work/$name.out"
  mkdir -p "$work/homes/$name"
  : > "$work/upstream.log"
  (cd "$work/ws" && HOME="$work/homes/$name" timeout 240 "$@") < /dev/null > "$out" 2>&1
  local rc=$?
  cp "$work/upstream.log" "$work/$name.upstream.log"
  local picked
  picked="$(grep -o '"picked": "[^"]*"' "$work/upstream.log" | head -n 1 | cut -d'"' -f4)"
  if grep -q "The file says:" "$out" && grep -q "hello from the file" "$out"; then
    result 0 "$name: agent loop with a tool call (${picked:-?})"
  else
    tail -n 40 "$out" | sed "s/^/    $name: /"
    echo "    $name: exit $rc; what the upstream saw:"
    cut -c1-300 "$work/upstream.log" | sed "s/^/    upstream: /"
    result 1 "$name: agent loop with a tool call"
  fi
}

if want continue; then
  cfg continue --write "$work/continue.yaml" || give_up "client-config continue"
  agent continue "$bin/cn" -p "$prompt" --config "$work/continue.yaml" --auto
fi

if want opencode; then
  cfg opencode --write "$work/opencode.json" || give_up "client-config opencode"
  # No update check, models.dev fetch, plugin or LSP downloads: only the proxy is talked to.
  agent opencode env OPENCODE_CONFIG="$work/opencode.json" OPENCODE_DISABLE_AUTOUPDATE=1 \
    OPENCODE_DISABLE_MODELS_FETCH=1 OPENCODE_DISABLE_DEFAULT_PLUGINS=1 OPENCODE_DISABLE_LSP_DOWNLOAD=1 \
    OPENCODE_DISABLE_SHARE=1 "$bin/opencode" run -m pod/qwen3-coder-30b "$prompt"
fi

if want qwen; then
  qwen_env="$(cfg qwen)" || give_up "client-config qwen"
  agent qwen bash -c "$qwen_env"$'\n''exec "$0" --auth-type openai --yolo -p "$1"' "$bin/qwen" "$prompt"
fi

if want claude; then
  claude_env="$(cfg claude)" || give_up "client-config claude"
  agent claude env CLAUDE_CONFIG_DIR="$work/claude" DISABLE_AUTOUPDATER=1 bash -c "$claude_env"$'\n''exec "$0" -p "$1" \
    --output-format stream-json --verbose --permission-mode acceptEdits --allowedTools "Read,Bash" --max-turns 6' \
    "$bin/claude" "$prompt"
fi

if want codex; then
  # The headless settings (no prompts, no sandbox, no update check, no retries hiding a
  # failure) first; then client-config merges the provider in, as it would for a user.
  mkdir -p "$work/codex"
  cat > "$work/codex/config.toml" <<'TOML'
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.podctl]
request_max_retries = 0
stream_max_retries = 0
TOML
  CODEX_HOME="$work/codex" cfg codex --write || give_up "client-config codex"
  agent codex env CODEX_HOME="$work/codex" PODCTL_API_KEY=sk-clients "$bin/codex" exec --skip-git-repo-check "$prompt"
fi

# The Python SDKs: each FILE is run as `python FILE URL KEY MODEL` and exits non-zero on failure.
sdk() {
  local name="$1" file="$2" url="$3"
  if [ ! -f "$file" ]; then
    echo "    $name: $file is not there"
    result 1 "$name"
    return
  fi
  "$py" "$file" "$url" sk-clients qwen3-coder-30b 2>&1 | sed "s/^/    /"
  result "${PIPESTATUS[0]}" "$name"
}
want openai-sdk && sdk openai-sdk tests/clients/openai_sdk.py "http://127.0.0.1:$px/v1"
want anthropic-sdk && sdk anthropic-sdk tests/clients/anthropic_sdk.py "http://127.0.0.1:$px"
want responses-sdk && sdk responses-sdk tests/clients/responses_sdk.py "http://127.0.0.1:$px/v1"
want body-limit && sdk body-limit tests/clients/body_limit.py "http://127.0.0.1:$px/v1"

echo "$passed passed, $failed failed (build $((built - started)) s, installs $((installed - built)) s, clients $((SECONDS - installed)) s)"
[ "$failed" = 0 ]
