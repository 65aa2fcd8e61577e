"""A scripted stand-in for vLLM without a tool parser, for driving real clients
(Continue's `cn`, the openai SDK) through `podctl proxy` in an agent loop.

Like vLLM 0.32 without --enable-auto-tool-choice it refuses any tool_choice other than
"none" with HTTP 400, and it checks that history `arguments` are JSON objects. It answers:
  * no tool result yet -> raw Qwen3-Coder XML calling the first tool whose name looks like
    "read" with {filepath: FILE}, streamed in 3-character pieces (tags split mid-way);
  * after a tool result -> "The file says: <result>".
Usage: python3 scripted_vllm.py PORT FILE
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"
PORT, FILE = int(sys.argv[1]), sys.argv[2]


def answer(body):
    messages = body.get("messages", [])
    tool_results = [m for m in messages if m.get("role") == "tool"]
    if tool_results:
        content = tool_results[-1].get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return f"The file says: {str(content).strip()}"
    tools = [t["function"] for t in body.get("tools", [])]
    read = next((t for t in tools if "read" in t["name"].lower()), None)
    if read is None:
        return "I have no tool to read files."
    param = next(iter(read.get("parameters", {}).get("properties", {"filepath": {}})))
    return (f"I'll read it.\n<tool_call>\n<function={read['name']}>\n<parameter={param}>\n{FILE}\n"
            f"</parameter>\n</function>\n</tool_call>")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [
                {"id": MODEL, "object": "model", "owned_by": "vllm", "max_model_len": 32768}]})
        else:
            self.send_json(404, {"object": "error", "message": "Not Found", "type": "NotFoundError", "code": 404})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path == "/tokenize":
            # vLLM's /tokenize on a chat: a token per byte of the messages and tools here.
            text = json.dumps(body.get("messages", [])) + json.dumps(body.get("tools", []))
            return self.send_json(200, {"count": len(text), "max_model_len": 32768, "tokens": [], "token_strs": None})
        if self.path != "/v1/chat/completions":
            return self.send_json(404, {"object": "error", "message": "Not Found", "code": 404})
        if body.get("tools") and body.get("tool_choice", "auto") != "none":
            return self.send_json(400, {"object": "error", "type": "BadRequestError", "code": 400, "message":
                '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'})
        for m in body.get("messages", []):
            for call in m.get("tool_calls") or []:
                try:
                    assert isinstance(json.loads(call["function"]["arguments"]), dict)
                except Exception:
                    return self.send_json(400, {"object": "error", "code": 400, "message": "invalid arguments in history"})
        text = answer(body)
        created = int(time.time())
        if not body.get("stream"):
            return self.send_json(200, {"id": "chatcmpl-x", "object": "chat.completion", "created": created,
                "model": MODEL, "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(obj):
            data = f"data: {obj if isinstance(obj, str) else json.dumps(obj)}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def chunk(delta, finish=None):
            event({"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": created, "model": MODEL,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        chunk({"role": "assistant", "content": ""})
        for i in range(0, len(text), 3):
            chunk({"content": text[i:i + 3]})
        chunk({"content": ""}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            event({"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": created, "model": MODEL,
                   "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})
        event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
