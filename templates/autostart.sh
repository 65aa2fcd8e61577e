#!/usr/bin/env bash
# podctl autostart: written by `podctl setup --autostart` (run that again to change the
# command; `podctl setup --autostart off` removes this file).
#
# A pod restart keeps /workspace but no process. Make this script the pod's start command
# and the pod serves again after every restart. On RunPod (Edit Pod > Container Start
# Command), keeping the image's own start script:
#   bash -c '{{script}}; /start.sh'
# It returns at once and never fails the pod's start: podctl starts in the background and
# writes what it did to {{log}}.
export PODCTL_HOME='{{home}}'
export PODCTL_STATE_DIR='{{state}}'
# The vLLM podctl was set up with, when it is not the one podctl finds itself.
vllm_bin='{{vllm_bin}}'
if [ -n "$vllm_bin" ]; then export PODCTL_VLLM_BIN="$vllm_bin"; fi
# Where setup ran: profiles in its ./models are found as they were then.
cd '{{dir}}' 2>/dev/null || cd "$PODCTL_HOME" || exit 0
podctl='{{podctl}}'
command='{{command}}'
log='{{log}}'
(
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) autostart: podctl $command"
  # The records of the processes the restart ended are cleared first.
  "$podctl" stop
  eval "\"\$podctl\" $command" || echo "autostart: \`podctl $command\` failed (exit $?)"
) >> "$log" 2>&1 < /dev/null &
exit 0
