#!/usr/bin/env bash
# Instructions the tool-call engine spends on each format's benchmark inputs (a 1 MiB
# write_file call and 100 small calls, fed whole and in 4-character pieces), counted by
# valgrind's callgrind: repeatable on a shared machine, where criterion's times are not.
# Each figure is one engine run: (3 runs - 1 run) / 2, so building the input is not in it.
#
#   bash benches/toolcall-instructions.sh            (this tree)
#   BASE=768c199 bash benches/toolcall-instructions.sh   (and that commit, side by side)
#   FORMATS="glm45 hermes" bash benches/toolcall-instructions.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source benches/lib.sh
formats="${FORMATS:-qwen3_coder hermes auto llama3_json mistral deepseek_v3 deepseek_v31 kimi_k2 glm45 glm47 minimax_m2 deepseek_v32 deepseek_v4 seed_oss kimi_k3 gemma4}"

build() { # build DIR TARGET -> the example's path
  cargo build --release --locked --quiet --example toolcall_instructions --manifest-path "$1/Cargo.toml" \
    --target-dir "$2" >&2
  echo "$2/release/examples/toolcall_instructions"
}
count() { # count BIN ARGS... -> instructions of one run
  local one three
  one=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 1 2>&1 | awk '/Collected/ {print $4}')
  three=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 3 2>&1 | awk '/Collected/ {print $4}')
  echo $(((three - one) / 2))
}

new=$(build . "${TARGET_DIR:-target}")
base=""
if [ -n "${BASE:-}" ]; then
  git worktree add --detach "$work/base" "$BASE" >&2
  trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; cleanup' EXIT
  # The commit may predate the counter: give it this tree's (the engine's API is the same).
  cp examples/toolcall_instructions.rs "$work/base/examples/"
  cp benches/inputs.rs "$work/base/benches/"
  base=$(build "$work/base" "${BASE_TARGET_DIR:-/tmp/podctl-base-target}")
fi

if [ -n "$base" ]; then
  printf "%-13s %-16s %-7s %13s %13s %9s\n" format input mode "$BASE" this ratio
else
  printf "%-13s %-16s %-7s %13s\n" format input mode instructions
fi
for f in $formats; do
  for input in write_file_1MiB 100_small_calls; do
    for mode in whole chunk4; do
      n=$(count "$new" "$f" "$input" "$mode")
      if [ -n "$base" ]; then
        b=$(count "$base" "$f" "$input" "$mode")
        printf "%-13s %-16s %-7s %13d %13d %9s\n" "$f" "$input" "$mode" "$b" "$n" \
          "$(python3 -c "print(f'{$n / $b:.3f}')")"
      else
        printf "%-13s %-16s %-7s %13d\n" "$f" "$input" "$mode" "$n"
      fi
    done
  done
done
