"""Writes the benchmark request bodies into the directory given: a Continue-sized chat
request (9 tools with schemas, a 2 kB system prompt), streaming and not, and the same
requests as they reach vLLM directly (for the "straight to upstream" baseline).

    python3 benches/continue_request.py DIR
"""
import json, sys
tools = []
for name, props in [
    ("read_file", {"filepath": "string"}), ("create_new_file", {"filepath": "string", "contents": "string"}),
    ("run_terminal_command", {"command": "string", "waitForCompletion": "boolean"}),
    ("file_glob_search", {"pattern": "string"}), ("view_diff", {}), ("read_currently_open_file", {}),
    ("ls", {"dirPath": "string", "recursive": "boolean"}), ("grep_search", {"query": "string"}),
    ("edit_existing_file", {"filepath": "string", "changes": "string"}),
]:
    tools.append({"type": "function", "function": {"name": name, "description": f"The {name} tool. " * 4,
        "parameters": {"type": "object", "properties": {k: {"type": t, "description": f"the {k}"} for k, t in props.items()},
                       "required": list(props)}}})
system = ("You are an expert software engineer working in the user's repository. " * 30)[:2048]
body = {"model": "qwen3-coder-30b", "max_tokens": 1024, "parallel_tool_calls": False, "tools": tools,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": "Read src/main.rs and explain it."}]}
json.dump(body, open(f"{sys.argv[1]}/chat.json", "w"))
body["stream"] = True; body["stream_options"] = {"include_usage": True}
json.dump(body, open(f"{sys.argv[1]}/chat-stream.json", "w"))
direct = dict(body, model="Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8", tool_choice="none")
direct.pop("parallel_tool_calls")
json.dump(dict(direct, stream=False, stream_options=None) | {"stream_options": None}, open(f"{sys.argv[1]}/direct.json", "w"))
del direct["stream_options"]; direct["stream"] = False
json.dump(direct, open(f"{sys.argv[1]}/direct.json", "w"))
direct["stream"] = True; direct["stream_options"] = {"include_usage": True}
json.dump(direct, open(f"{sys.argv[1]}/direct-stream.json", "w"))

# The same conversation in the Anthropic Messages and OpenAI Responses shapes, for comparing
# the three APIs' added latency through one proxy (benches/api-latency.sh).
anthropic_tools = [{"name": t["function"]["name"], "description": t["function"]["description"],
                    "input_schema": t["function"]["parameters"]} for t in tools]
messages = {"model": "qwen3-coder-30b", "max_tokens": 1024, "system": system, "tools": anthropic_tools,
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
            "messages": [{"role": "user", "content": "Read src/main.rs and explain it."}]}
json.dump(messages, open(f"{sys.argv[1]}/messages.json", "w"))
json.dump(dict(messages, stream=True), open(f"{sys.argv[1]}/messages-stream.json", "w"))
flat_tools = [{"type": "function", "name": t["function"]["name"], "description": t["function"]["description"],
               "parameters": t["function"]["parameters"]} for t in tools]
responses = {"model": "qwen3-coder-30b", "max_output_tokens": 1024, "instructions": system, "tools": flat_tools,
             "parallel_tool_calls": False, "store": False,
             "input": [{"type": "message", "role": "user",
                        "content": [{"type": "input_text", "text": "Read src/main.rs and explain it."}]}]}
json.dump(responses, open(f"{sys.argv[1]}/responses.json", "w"))
json.dump(dict(responses, stream=True), open(f"{sys.argv[1]}/responses-stream.json", "w"))
