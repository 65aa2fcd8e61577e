"""A scripted stand-in for vLLM without a tool parser, for driving real clients
(Continue's `cn`, OpenCode, Qwen Code, Claude Code, Codex, the SDKs) through `podctl proxy`
in an agent loop.

Like vLLM 0.32 without --enable-auto-tool-choice it refuses any tool_choice other than
"none" with HTTP 400, and it checks that history `arguments` are JSON objects. It answers:
  * no tool result yet -> raw Qwen3-Coder XML calling the client's own tool for reading a
    file, found in the request's `tools` (each client names its tools differently: `Read`,
    `read`, `read_file`, …), with the absolute path of FILE in the parameter its schema
    requires; a client with no read tool gets its shell tool (`shell`, `exec_command`,
    `Bash`, …) running `cat FILE` (an array parameter gets ["cat", FILE]). Streamed in
    3-character pieces (tags split mid-way);
  * after a tool result -> "The file says: <result>".
Each request is logged as one JSON line to LOG (when given): the tools offered, the tool
picked, whether a tool result came back; run.sh prints it when a client fails.
Usage: python3 scripted_vllm.py PORT FILE [LOG]
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"
PORT, FILE = int(sys.argv[1]), os.path.abspath(sys.argv[2])
LOG = sys.argv[3] if len(sys.argv) > 3 else None
READ_NAMES = ("read_file", "read", "view", "readfile")
SHELL_NAMES = ("shell", "exec_command", "bash", "run_shell_command", "run_terminal_command", "execute_command",
               "local_shell", "terminal")


def log(entry):
    if LOG:
        with open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")


def pick_tool(tools):
    """The client's read tool, else its shell tool: (function, kind) or (None, None)."""
    by_name = {t["name"].lower(): t for t in tools}
    for name in READ_NAMES:
        if name in by_name:
            return by_name[name], "read"
    read = [t for t in tools if "read" in t["name"].lower() and "many" not in t["name"].lower()]
    if read:
        return read[0], "read"
    for name in SHELL_NAMES:
        if name in by_name:
            return by_name[name], "shell"
    return None, None


def path_param(props, required, words):
    """The parameter that takes the path or command: a required one named like `words`, else
    the first required one, else the first one."""
    names = list(required) + [p for p in props if p not in required]
    for n in names:
        if any(w in n.lower() for w in words):
            return n
    return names[0] if names else "path"


def answer(body):
    messages = body.get("messages", [])
    tool_results = [m for m in messages if m.get("role") == "tool"]
    tools = [t["function"] for t in body.get("tools", []) if t.get("type", "function") == "function"]
    entry = {"stream": bool(body.get("stream")), "tools": [t["name"] for t in tools],
             "tool_results": len(tool_results)}
    if tool_results:
        content = tool_results[-1].get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        log(entry)
        return f"The file says: {str(content).strip()}"
    tool, kind = pick_tool(tools)
    entry["picked"] = tool and tool["name"]
    log(entry)
    if tool is None:
        return "I have no tool to read files."
    schema = tool.get("parameters") or {}
    props = schema.get("properties") or {}
    required = schema.get("required") or []
    if kind == "read":
        param = path_param(props, required, ("path", "file"))
        value = FILE
    else:
        param = path_param(props, required, ("command", "cmd"))
        value = json.dumps(["cat", FILE]) if (props.get(param) or {}).get("type") == "array" else f"cat {FILE}"
    return (f"I'll read it.\n<tool_call>\n<function={tool['name']}>\n<parameter={param}>\n{value}\n"
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
        if self.path in ("/tokenize", "/v1/tokenize"):
            # vLLM's own /tokenize (Messages' count_tokens uses it): a rough count is enough here.
            n = max(1, len(json.dumps(body)) // 4)
            return self.send_json(200, {"count": n, "max_model_len": 32768, "tokens": list(range(n))})
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
