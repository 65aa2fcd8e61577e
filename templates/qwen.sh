# Qwen Code (Chat Completions): paste into your shell, then run `qwen --auth-type openai`.
export OPENAI_BASE_URL='{{api_base}}'
export OPENAI_API_KEY='{{key}}'
export OPENAI_MODEL='{{model}}'
