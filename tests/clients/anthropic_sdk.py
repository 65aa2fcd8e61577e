"""The anthropic SDK against `podctl proxy` /v1/messages (in front of scripted_vllm.py): tool
calls whole and streamed (the SDK's streaming helpers accumulate the events, so a delta for a
block never started or `partial_json` that does not add up fails here), a tool round trip
whole and streamed, the beta client (`?beta=true`), count_tokens, and refusals as the SDK's
typed errors.
Usage: python3 anthropic_sdk.py BASE_URL KEY MODEL   (BASE_URL without /v1; prints one line
per check, exits 1 on failure). MODEL may be any name the proxy maps (`claude-*` aliases).
"""
import sys

import anthropic

base, key, model = sys.argv[1].removesuffix("/").removesuffix("/v1"), sys.argv[2], sys.argv[3]
client = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0)
tools = [{"name": "Read", "description": "Read a file", "input_schema": {"type": "object",
          "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}}]
ask = [{"role": "user", "content": "Read the file and tell me what it says"}]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail if not ok else ''}")
    failures += 0 if ok else 1


def calls(message):
    return [b for b in message.content if b.type == "tool_use"]


r = client.messages.create(model=model, max_tokens=1024, tools=tools, messages=ask)
used = calls(r)
check("non-streaming tool call", r.stop_reason == "tool_use" and r.model == model and len(used) == 1
      and isinstance(used[0].input, dict) and used[0].input.get("file_path"), r)

with client.messages.stream(model=model, max_tokens=1024, tools=tools, messages=ask) as stream:
    kinds = [event.type for event in stream]
    final = stream.get_final_message()
streamed = calls(final)
check("streaming tool call (stream helper)", final.stop_reason == "tool_use" and len(streamed) == 1
      and streamed[0].input == used[0].input and kinds[0] == "message_start" and kinds[-1] == "message_stop",
      (final, kinds))
check("streamed text equals the whole answer's",
      [b.text for b in final.content if b.type == "text"] == [b.text for b in r.content if b.type == "text"], final)

history = ask + [
    {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in r.content]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": used[0].id if used else "x",
                                  "content": [{"type": "text", "text": "hello from the file"}]}]},
]
done = client.messages.create(model=model, max_tokens=1024, tools=tools, messages=history)
text = "".join(b.text for b in done.content if b.type == "text")
check("tool result round trip", done.stop_reason == "end_turn" and "hello from the file" in text, done)

with client.messages.stream(model=model, max_tokens=1024, tools=tools, messages=history) as stream:
    pieces = list(stream.text_stream)
    final = stream.get_final_message()
check("streamed round trip (text_stream)", "hello from the file" in "".join(pieces)
      and final.stop_reason == "end_turn" and final.usage.input_tokens > 0, final)

beta = client.beta.messages.create(model=model, max_tokens=1024, tools=tools, messages=ask,
                                   betas=["interleaved-thinking-2025-05-14", "fine-grained-tool-streaming-2025-05-14"])
check("beta client (?beta=true, anthropic-beta)", beta.stop_reason == "tool_use", beta)

counted = client.messages.count_tokens(model=model, tools=tools, messages=ask)
check("count_tokens", counted.input_tokens > 0, counted)

try:
    anthropic.Anthropic(base_url=base, api_key="sk-wrong", max_retries=0).messages.create(
        model=model, max_tokens=10, messages=ask)
    check("a wrong key is refused", False, "answered")
except anthropic.AuthenticationError as e:
    check("a wrong key is refused", e.status_code == 401 and e.body["type"] == "error", e.body)

try:
    client.messages.create(model=model, max_tokens=10, messages=[{"role": "user", "content": 5}])
    check("a bad request is refused", False, "answered")
except anthropic.BadRequestError as e:
    check("a bad request is refused", e.body["error"]["type"] == "invalid_request_error", e.body)

sys.exit(1 if failures else 0)
