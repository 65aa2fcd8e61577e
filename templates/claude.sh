# Claude Code (Anthropic Messages API): paste into your shell, or let
# `podctl client-config claude --write` put these into ~/.claude/settings.json ("env").
# The base URL has no /v1: Claude Code adds /v1/messages itself.
export ANTHROPIC_BASE_URL='{{root_url}}'
export ANTHROPIC_API_KEY='{{key}}'
# Every model Claude Code may ask for is the pod's model, so it never sends claude-* names.
export ANTHROPIC_MODEL='{{model}}'
export ANTHROPIC_DEFAULT_OPUS_MODEL='{{model}}'
export ANTHROPIC_DEFAULT_SONNET_MODEL='{{model}}'
export ANTHROPIC_DEFAULT_HAIKU_MODEL='{{model}}'
export CLAUDE_CODE_SUBAGENT_MODEL='{{model}}'
# Only the pod is talked to: no telemetry, error reports or update checks.
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC='1'
