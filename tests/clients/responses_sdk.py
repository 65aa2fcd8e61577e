"""The openai SDK's Responses client (`client.responses`) against `podctl proxy` in front of
scripted_vllm.py: a tool call whole and streamed (raw events and the SDK's stream helper),
the round trip with the call's output, the stateless refusal and a refused key.
Usage: python3 responses_sdk.py BASE_URL KEY MODEL   (one line per check, exits 1 on failure)"""
import json
import sys

import openai

base, key, model = sys.argv[1], sys.argv[2], sys.argv[3]
client = openai.OpenAI(base_url=base, api_key=key)
tools = [{"type": "function", "name": "read_file", "description": "Read a file", "strict": False,
          "parameters": {"type": "object", "properties": {"filepath": {"type": "string"}},
                         "required": ["filepath"]}},
         # Codex also sends tools that cannot run on a pod: they are left out, never refused.
         {"type": "web_search"}]
ask = [{"role": "user", "content": "Read hello.txt and tell me what it says"}]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name} {'' if ok else detail}")
    failures += 0 if ok else 1


def calls_of(response):
    return [item for item in response.output if item.type == "function_call"]


# Whole: a response object with the call as a function_call item.
r = client.responses.create(model=model, input=ask, tools=tools, store=False)
calls = calls_of(r)
check("whole: a response with one function_call", r.object == "response" and r.status == "completed"
      and r.id.startswith("resp_") and len(calls) == 1 and calls[0].name == "read_file"
      and json.loads(calls[0].arguments).get("filepath", "").endswith("hello.txt"), r)
check("whole: usage in the Responses shape", r.usage is not None and r.usage.total_tokens
      == r.usage.input_tokens + r.usage.output_tokens, r.usage)
check("whole: the model asked for is echoed", r.model == model, r.model)

# The round trip: the call and its output sent back, the answer reads the output.
call = calls[0] if calls else None
if call is not None:
    history = ask + [item.model_dump(exclude_none=True) for item in r.output] + [
        {"type": "function_call_output", "call_id": call.call_id, "output": "hello from the file"}]
    r2 = client.responses.create(model=model, input=history, tools=tools, store=False)
    check("round trip: the answer carries the tool output", "hello from the file" in r2.output_text, r2)
else:
    check("round trip: the answer carries the tool output", False, "no call to answer")

# Streamed, raw events: the grammar Codex reads.
events = list(client.responses.create(model=model, input=ask, tools=tools, stream=True, store=False))
kinds = [e.type for e in events]
check("stream: created first, completed last", kinds[:2] == ["response.created", "response.in_progress"]
      and kinds[-1] == "response.completed", kinds)
check("stream: sequence numbers count up", [e.sequence_number for e in events] == list(range(len(events))),
      [e.sequence_number for e in events])
done = [e.item for e in events if e.type == "response.output_item.done"]
streamed_calls = [i for i in done if i.type == "function_call"]
check("stream: the call is an output item done", len(streamed_calls) == 1
      and json.loads(streamed_calls[0].arguments).get("filepath", "").endswith("hello.txt"), done)
final = events[-1].response
check("stream: response.completed carries the output and usage",
      [i.type for i in final.output] == [i.type for i in done] and final.usage is not None, final)
check("stream: adds up to the whole answer", [(i.type, getattr(i, "name", None), getattr(i, "arguments", None))
      for i in final.output] == [(i.type, getattr(i, "name", None), getattr(i, "arguments", None)) for i in r.output],
      (final.output, r.output))

# The SDK's stream helper: its accumulated snapshot and final response.
with client.responses.stream(model=model, input=ask, tools=tools, store=False) as stream:
    arg_deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
    helper_final = stream.get_final_response()
helper_calls = calls_of(helper_final)
check("stream helper: the final response has the call", len(helper_calls) == 1
      and json.loads(helper_calls[0].arguments).get("filepath", "").endswith("hello.txt")
      and "".join(arg_deltas) == helper_calls[0].arguments, helper_final)
if call is not None:
    with client.responses.stream(model=model, input=history, tools=tools, store=False) as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        helper_text = stream.get_final_response()
    check("stream helper: text deltas add up to output_text", text == helper_text.output_text
          and "hello from the file" in text, (text, helper_text.output_text))

# Stateless: what needs a stored response is a clear 400.
try:
    client.responses.create(model=model, input=ask, previous_response_id="resp_123")
    check("previous_response_id is refused", False, "accepted")
except openai.BadRequestError as e:
    check("previous_response_id is refused", e.status_code == 400 and "stateless" in str(e), e)

try:
    openai.OpenAI(base_url=base, api_key="wrong").responses.create(model=model, input="hi")
    check("a wrong key is refused", False)
except openai.AuthenticationError as e:
    check("a wrong key is refused", e.status_code == 401)
sys.exit(1 if failures else 0)
