"""The openai SDK against `podctl proxy` (in front of scripted_vllm.py): tool calls
streaming and not, a multi-turn conversation with a tool result, and a refused key.
Usage: python3 openai_sdk.py BASE_URL KEY   (prints one line per check, exits 1 on failure)"""
import json
import sys

import openai

base, key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base, api_key=key)
tools = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
          "properties": {"filepath": {"type": "string"}}, "required": ["filepath"]}}}]
msgs = [{"role": "user", "content": "read it"}]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}")
    failures += 0 if ok else 1


ids = [m.id for m in client.models.list().data]
check("models lists the alias", "qwen3-coder-30b" in ids, ids)
r = client.chat.completions.create(model="qwen3-coder-30b", messages=msgs, tools=tools)
c = r.choices[0]
calls = c.message.tool_calls or []
check("non-streaming tool call", c.finish_reason == "tool_calls" and len(calls) == 1
      and json.loads(calls[0].function.arguments).get("filepath"), c)
got, finish = {}, None
for chunk in client.chat.completions.create(model="qwen3-coder-30b", messages=msgs, tools=tools, stream=True,
                                            stream_options={"include_usage": True}):
    for ch in chunk.choices:
        for tc in ch.delta.tool_calls or []:
            e = got.setdefault(tc.index, {"name": "", "args": ""})
            e["name"] += tc.function.name or ""
            e["args"] += tc.function.arguments or ""
        finish = ch.finish_reason or finish
check("streaming tool call", finish == "tool_calls" and got and json.loads(got[0]["args"]).get("filepath"), got)
history = msgs + [{"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
          "function": {"name": "read_file", "arguments": "{\"filepath\": "}}]},
          {"role": "tool", "tool_call_id": "call_1", "content": "hello"}]
r = client.chat.completions.create(model="qwen3-coder-30b", messages=history, tools=tools)
check("multi-turn with a broken history call", "hello" in (r.choices[0].message.content or ""), r.choices[0].message)
try:
    openai.OpenAI(base_url=base, api_key="wrong").models.list()
    check("a wrong key is refused", False)
except openai.AuthenticationError as e:
    check("a wrong key is refused", e.status_code == 401)
sys.exit(1 if failures else 0)
