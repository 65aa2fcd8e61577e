#!/usr/bin/env bash
# Soak: 1,000 streaming conversations held in flight for 10 minutes through one
# `podctl proxy` in front of 4 stand-in vLLM replicas (examples/conversations: Continue-like
# bodies; each answer streamed as 40 pieces 50 ms apart). Nothing is killed: every request
# must succeed. Every 5 s the proxy's RSS and open file descriptors are sampled, so memory
# is shown flat after warm-up; after the load, descriptors must fall back to the idle count.
# Prints Markdown (BENCHMARKS.md).
#
#   bash benches/soak.sh [SECONDS]               (default 600)
#   CONCURRENCY=200 bash benches/soak.sh 30      (a short trial)
#   NO_BUILD=1                                    (use the release binaries as they are)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-600}"
conc="${CONCURRENCY:-1000}"
replicas=4
source benches/lib.sh
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

[ -n "${NO_BUILD:-}" ] || cargo build --release --locked --bin podctl --example standin --example conversations >&2
bin=target/release

reply=$(python3 -c "print(('The loop over 0..=len is correct but clearer as words.truncate(n). ' * 99)[:160])")
upstreams=()
for i in $(seq "$replicas"); do
  $bin/examples/standin --port 0 --reply "$reply" --chunk 4 --delay-ms 50 > "$work/standin$i.out" &
  pids+=($!)
done
for i in $(seq "$replicas"); do
  wait_for "$work/standin$i.out" listening
  upstreams+=(--upstream "$(sed -n 's/^listening on //p' "$work/standin$i.out")")
done

px_port=$(free_port)
mkdir -p "$work/home" "$work/state"
env -u PODCTL_API_KEY PODCTL_HOME="$work/home" PODCTL_STATE_DIR="$work/state" \
  $bin/podctl -q proxy --port "$px_port" "${upstreams[@]}" --model-name qwen3-coder-30b --metrics-public \
  2> "$work/proxy.err" &
px_pid=$!
pids+=("$px_pid")
base="http://127.0.0.1:$px_port"
for _ in $(seq 200); do curl -sf "$base/health" > /dev/null 2>&1 && break; sleep 0.05; done
for _ in $(seq 200); do
  up=$(curl -sf "$base/metrics" | grep -c '^podctl_replica_state{.*state="up"} 1' || true)
  [ "$up" -ge "$replicas" ] && break
  sleep 0.05
done
sleep 0.5
fds() { find "/proc/$px_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$px_pid/status"; }
fd_idle=$(fds)
rss_idle=$(rss)

t0=$(date +%s)
(while [ -r "/proc/$px_pid/status" ]; do
   echo "$(( $(date +%s) - t0 )) $(rss) $(fds)"
   sleep 5
 done) > "$work/samples" 2>/dev/null &
pids+=($!)

echo "soak: $conc conversations for $secs s over $replicas replicas" >&2
$bin/examples/conversations --url "$base/v1/chat/completions" --model qwen3-coder-30b \
  --concurrency "$conc" --seconds "$secs" --threads 1 > "$work/result.json"
# Idle pooled connections to the replicas close after 4 s (vLLM closes its own after 5):
# count once they have.
sleep 10
fd_after=$(fds)
rss_after=$(rss)
echo "conversations: $(cat "$work/result.json")" >&2

python3 - "$work" "$secs" "$conc" "$fd_idle" "$fd_after" "$rss_idle" "$rss_after" <<'PY'
import json, sys
work, secs, conc, fd_idle, fd_after, rss_idle, rss_after = sys.argv[1:]
secs, conc, fd_idle, fd_after = int(secs), int(conc), int(fd_idle), int(fd_after)
r = json.load(open(f"{work}/result.json"))
samples = [tuple(map(int, l.split())) for l in open(f"{work}/samples") if len(l.split()) == 3]
mb = lambda kb: float(kb) / 1024
loaded = [(t, kb, fd) for t, kb, fd in samples if 0 <= t <= secs]
warm = [kb for t, kb, _ in loaded if 60 <= t <= 120] or [kb for _, kb, _ in loaded[: max(1, len(loaded) // 5)]]
last = [kb for t, kb, _ in loaded if t >= secs - 60] or [kb for _, kb, _ in loaded[-max(1, len(loaded) // 5):]]
warm_mb, last_mb = mb(max(warm)), mb(max(last))
peak_fd = max([fd for _, _, fd in loaded] + [fd_idle])
errors = r["requests"] - r["ok"]
print(f"{conc} streaming conversations held for {secs} s over 4 stand-in replicas:")
print()
print("| requests | ok | errors | lost | proxy RSS idle / warm (1–2 min) / last minute / after | fds idle / peak / after |")
print("|---|---|---|---|---|---|")
print(f"| {r['requests']:,} | {r['ok']:,} | **{errors}** | {r['lost']} | {mb(rss_idle):.1f} / {warm_mb:.1f} / "
      f"{last_mb:.1f} / {mb(rss_after):.1f} MB | {fd_idle} / {peak_fd} / {fd_after} |")
print()
print("RSS over time (MB, every minute): " + ", ".join(f"{t // 60}′ {mb(kb):.1f}" for t, kb, _ in loaded if t % 60 < 5))
print()
checks = [
    ("zero errors", errors == 0 and r["lost"] == 0),
    ("memory flat after warm-up (last minute within 10 % + 2 MB of minutes 1–2)", last_mb <= warm_mb * 1.1 + 2),
    ("file descriptors released (back to idle + 4)", fd_after <= fd_idle + 4),
]
for what, ok in checks:
    print(f"* {what}: **{'met' if ok else 'NOT met'}**")
PY
