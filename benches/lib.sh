# Shared by the bench scripts (sourced, from the repository root): a work dir and the
# background processes to stop on exit, a free port, and waiting for a line in a file.
#
#   source benches/lib.sh
#   some_server & pids+=($!)
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# FILE PATTERN: wait up to 10 s for PATTERN in FILE.
wait_for() {
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for '$2' in $1" >&2; return 1
}

# NAME BODY: a wrk script at $work/NAME.lua that POSTs the JSON file $work/BODY.
post_lua() { cat > "$work/$1.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/$2", "rb"); wrk.body = f:read("*a"); f:close()
LUA
}
