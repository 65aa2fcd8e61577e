"""The real-vLLM tier's tests: podctl as a user runs it, against an actual `vllm serve`.

Run by run.sh with the vLLM venv's Python (it has `openai` and `requests`), in a work dir
holding `models/tiny.toml`, with PODCTL_HOME, PODCTL_STATE_DIR, PODCTL_VLLM_BIN and
PODCTL_API_KEY set. Prints `PASS name: detail` or `FAIL name: reason` for each test and
writes `passed failed` to $TIER_RESULTS (run.sh prints the closing line after cleaning up).

The model is random; `structured_outputs.regex` with temperature 0 makes it write exactly
the text a test needs (a Qwen3-Coder tool call, a greeting).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

import openai
import requests

PODCTL = os.environ["PODCTL"]
WORK = os.environ["TIER_WORK"]
VLLM_PORT = int(os.environ["TIER_VLLM_PORT"])
PROXY_PORT = int(os.environ["TIER_PROXY_PORT"])
KEY = os.environ["PODCTL_API_KEY"]
TIER_ID = os.environ["PODCTL_REAL_VLLM_TIER"]
PROXY = f"http://127.0.0.1:{PROXY_PORT}/v1"
VLLM = f"http://127.0.0.1:{VLLM_PORT}"
EXPECTED_VERSION = "0.32.0+cpu"
# `podctl stop`'s documented bound (README, models/README.md): shutdown_timeout (unset: 0)
# + 10 s for vLLM's teardown, 5 s TERM → KILL of the group, 2 s for the kill, 2 s sweep,
# 3 s port check.
STOP_BOUND = 0 + 10 + 5 + 2 + 2 + 3

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}]
CALL_TEXT = (
    "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
    "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>"
)
CALL_ARGS = {"city": "Paris", "days": 3}
USER = [{"role": "user", "content": "What is the weather in Paris for the next 3 days?"}]

results = []


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


def regex_for(text):
    """A regex matching exactly `text` (newlines as \\n, metacharacters escaped)."""
    out = []
    for c in text:
        if c == "\n":
            out.append("\\n")
        elif c in ".^$*+?{}[]\\|()/":
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def forced(text, max_tokens=300):
    return {"structured_outputs": {"regex": regex_for(text)}}, max_tokens


def client():
    return openai.OpenAI(base_url=PROXY, api_key=KEY, max_retries=0, timeout=120)


def podctl(*args, timeout=120):
    began = time.monotonic()
    out = subprocess.run([PODCTL, *args], cwd=WORK, capture_output=True, text=True, timeout=timeout)
    return out, time.monotonic() - began


def instance(profile="tiny"):
    out, _ = podctl("status", "--json", timeout=30)
    try:
        data = json.loads(out.stdout)
    except ValueError:
        return None
    for inst in data.get("instances", []):
        if inst.get("profile") == profile:
            # For run.sh's last-resort sweep, and for the checks below.
            if inst.get("run_id"):
                with open(os.path.join(WORK, "run_ids"), "a") as f:
                    f.write(inst["run_id"] + "\n")
            if isinstance(inst.get("pid"), int) and inst["pid"] not in GROUPS:
                GROUPS.add(inst["pid"])
                with open(os.path.join(WORK, "pgids"), "a") as f:
                    f.write(f"{inst['pid']}\n")
            return inst
    return None


# Process groups of the vLLMs seen (vLLM leads its own group: the pid status reports).
GROUPS = set()


# ---- /proc ---------------------------------------------------------------------------

def proc_env(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return dict(
                kv.split("=", 1) for kv in f.read().decode(errors="replace").split("\0") if "=" in kv
            )
    except OSError:
        return {}


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def stat(pid):
    """(state, ppid, pgid) from /proc/PID/stat, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1]), int(fields[2])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid):
    """Exists and is not a zombie."""
    st = stat(pid)
    return st is not None and st[0] != "Z"


def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def run_processes(run_id=None):
    """Live processes of a run: the supervisor and whatever carries the run id (this tier's
    marker variable and PODCTL_RUN_ID), and every member of a vLLM process group seen. The
    group matters: vLLM's `VLLM::EngineCore` sets its title over its environment, so /proc
    shows no variable of it at all. {pid: cmdline}."""
    me = os.getpid()
    found = {}
    for pid in pids():
        st = stat(pid)
        if pid == me or st is None or st[0] == "Z":
            continue
        env = proc_env(pid)
        cmd = proc_cmdline(pid)
        ours = env.get("PODCTL_REAL_VLLM_TIER") == TIER_ID and (env.get("PODCTL_RUN_ID") or "__supervise" in cmd)
        if ours or (run_id and env.get("PODCTL_RUN_ID") == run_id) or st[2] in GROUPS:
            found[pid] = cmd
    return found


def engine_cores(api_pid):
    """`VLLM::` processes of the API server `api_pid` (its children, in its group)."""
    found = {}
    for pid in pids():
        st = stat(pid)
        if st and st[0] != "Z" and (st[1] == api_pid or st[2] == api_pid):
            cmd = proc_cmdline(pid)
            if cmd.startswith("VLLM::"):
                found[pid] = cmd
    return found


def listening_inodes(port):
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":
                        inodes.add(cols[9])
        except OSError:
            pass
    return inodes


def listener_pids(port):
    inodes = listening_inodes(port)
    holders = set()
    for pid in pids():
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    holders.add(pid)
        except OSError:
            pass
    return holders


def port_free(port):
    if listening_inodes(port):
        return False
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_for(what, timeout, probe, every=0.25):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise Fail(f"timed out after {timeout} s waiting for {what}")


def error_shape(body, status):
    """OpenAI's error shape: {"error": {"message", "type", "code"}}; returns the error."""
    check(isinstance(body, dict) and isinstance(body.get("error"), dict), f"HTTP {status} body is not {{'error': {{…}}}}: {body!r:.300}")
    err = body["error"]
    for k in ("message", "type", "code"):
        check(k in err, f"HTTP {status} error lacks `{k}`: {err!r:.300}")
    check(isinstance(err["message"], str) and err["message"], f"empty error message: {err!r:.300}")
    check(isinstance(err["type"], str) and err["type"], f"empty error type: {err!r:.300}")
    return err


# ---- the tests -------------------------------------------------------------------------

state = {"started": False}


def needs_vllm():
    check(state["started"], "vLLM is not running (the start test failed)")


def t1_start():
    """`podctl start tiny --proxy`: phases from the real log lines; ready; status --json."""
    out, took = podctl("start", "tiny", "--proxy", timeout=330)
    text = out.stdout + out.stderr
    print("    | " + "\n    | ".join(text.strip().splitlines()), flush=True)
    check(out.returncode == 0, f"start exited {out.returncode}")
    state["started"] = True
    phases = [p for p in ("starting: initialising", "starting: loading weights", "(1/1 shards)",
                          "starting: allocating KV cache") if p in text]
    missing = {"starting: initialising", "starting: loading weights", "(1/1 shards)",
               "starting: allocating KV cache"} - set(phases)
    check(not missing, f"progress lacks {sorted(missing)}")
    # With --enforce-eager on CPU vLLM compiles nothing and captures no CUDA graphs.
    for wrong in ("CUDA graphs", "compiling"):
        check(wrong not in text, f"progress shows `{wrong}`, which this vLLM never did")
    check("tiny ready in" in text, "no ready line")
    check("(KV cache 4194304 tokens)" in text, "the ready line lacks the KV cache vLLM reported (CPU KV cache size: 4,194,304 tokens)")
    inst = instance()
    check(inst is not None, "status --json lists no `tiny`")
    check(inst["state"] == "ready" and inst["phase"] == "ready", f"state {inst['state']}, phase {inst['phase']}")
    pid = inst["pid"]
    check(isinstance(pid, int) and alive(pid), f"pid {pid!r} is not a live process")
    cmd = proc_cmdline(pid)
    check("vllm" in cmd and " serve " in cmd and f"--port {VLLM_PORT}" in cmd, f"pid {pid} is not vllm serve on :{VLLM_PORT}: {cmd[:160]}")
    check(pid in listener_pids(VLLM_PORT), f"pid {pid} does not listen on :{VLLM_PORT} (listeners {listener_pids(VLLM_PORT)})")
    check(inst["vllm"]["port"] == VLLM_PORT and inst["vllm"]["healthy"] is True, f"vllm {inst['vllm']}")
    check(inst["proxy"] and inst["proxy"]["port"] == PROXY_PORT and inst["proxy"]["healthy"] is True, f"proxy {inst['proxy']}")
    check(inst["kv_cache"].get("tokens") == 4194304 and inst["kv_cache"].get("context") == 2048, f"kv_cache {inst['kv_cache']}")
    state["run_id"] = inst["run_id"]
    cores = engine_cores(pid)
    check(len(cores) == 1, f"expected one VLLM::EngineCore of the run, found {cores}")
    return (f"ready in {took:.1f} s; phases {phases}; status: ready, pid {pid} (vllm serve, listening on "
            f":{VLLM_PORT}), EngineCore pid {list(cores)[0]}, KV cache {inst['kv_cache']['tokens']} tokens")


def stream_call(c, messages, text, tools=TOOLS):
    extra, max_tokens = forced(text)
    chunks = c.chat.completions.create(
        model="tiny", messages=messages, tools=tools, temperature=0, max_tokens=max_tokens,
        stream=True, extra_body=extra)
    content, calls, finish = "", {}, None
    for ch in chunks:
        for choice in ch.choices:
            d = choice.delta
            if d.content:
                content += d.content
            for tc in d.tool_calls or []:
                slot = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                if tc.id:
                    slot["id"] = tc.id
                if tc.function and tc.function.name:
                    slot["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    slot["arguments"] += tc.function.arguments
            if choice.finish_reason:
                finish = choice.finish_reason
    return content, [calls[i] for i in sorted(calls)], finish


def check_call(calls, finish, where):
    check(finish == "tool_calls", f"{where}: finish_reason {finish!r}")
    check(len(calls) == 1, f"{where}: {len(calls)} tool calls: {calls}")
    call = calls[0]
    check(call["name"] == "get_weather", f"{where}: called {call['name']!r}")
    check(call["id"], f"{where}: tool call without id")
    try:
        args = json.loads(call["arguments"])
    except ValueError:
        raise Fail(f"{where}: arguments are not JSON: {call['arguments']!r}")
    check(args == CALL_ARGS, f"{where}: arguments {args} (want {CALL_ARGS}, `days` typed by the schema)")


def t2_tool_calls():
    """tools + structured outputs through the proxy: tool_calls, streaming and not; text before; plain chat."""
    needs_vllm()
    c = client()
    notes = []
    # What vLLM itself says to a tools request (no --enable-auto-tool-choice): the proxy's
    # tool_choice rewrite is what makes these requests work.
    direct = requests.post(f"{VLLM}/v1/chat/completions", timeout=60, json={
        "model": "tiny", "messages": USER, "tools": TOOLS, "max_tokens": 5})
    notes.append(f"vLLM alone answers a tools request with HTTP {direct.status_code}")

    extra, mt = forced(CALL_TEXT)
    r = c.chat.completions.create(model="tiny", messages=USER, tools=TOOLS, temperature=0, max_tokens=mt, extra_body=extra)
    m = r.choices[0].message
    calls = [{"id": t.id, "name": t.function.name, "arguments": t.function.arguments} for t in m.tool_calls or []]
    check_call(calls, r.choices[0].finish_reason, "non-streaming")
    check(not m.content, f"non-streaming: content {m.content!r} beside the call")

    content, calls, finish = stream_call(c, USER, CALL_TEXT)
    check_call(calls, finish, "streaming")
    check(not content, f"streaming: content {content!r} beside the call")

    before = "Let me check.\n" + CALL_TEXT
    extra, mt = forced(before)
    r = c.chat.completions.create(model="tiny", messages=USER, tools=TOOLS, temperature=0, max_tokens=mt, extra_body=extra)
    m = r.choices[0].message
    calls = [{"id": t.id, "name": t.function.name, "arguments": t.function.arguments} for t in m.tool_calls or []]
    check_call(calls, r.choices[0].finish_reason, "text before, non-streaming")
    check((m.content or "").strip() == "Let me check.", f"text before, non-streaming: content {m.content!r}")
    content, calls, finish = stream_call(c, USER, before)
    check_call(calls, finish, "text before, streaming")
    check(content.strip() == "Let me check.", f"text before, streaming: content {content!r}")
    check("<tool_call>" not in content, "raw tool-call markup leaked into content")

    # n = 2: vLLM interleaves the choices' chunks; each is translated on its own. Not with
    # greedy sampling, which vLLM refuses (the stand-in too); the regex fixes the text anyway.
    extra, mt = forced(CALL_TEXT)
    try:
        c.chat.completions.create(model="tiny", messages=USER, temperature=0, max_tokens=5, n=2)
        raise Fail("n=2 with temperature 0: accepted")
    except openai.BadRequestError as e:
        check("n must be 1 when using greedy sampling" in str(e), f"n=2 with temperature 0: {e}")
    r = c.chat.completions.create(model="tiny", messages=USER, tools=TOOLS, temperature=1, max_tokens=mt,
                                  n=2, extra_body=extra)
    check(len(r.choices) == 2, f"n=2, non-streaming: {len(r.choices)} choices")
    ids = []
    for ch in sorted(r.choices, key=lambda ch: ch.index):
        calls = [{"id": t.id, "name": t.function.name, "arguments": t.function.arguments}
                 for t in ch.message.tool_calls or []]
        check_call(calls, ch.finish_reason, f"n=2, non-streaming, choice {ch.index}")
        ids.append(calls[0]["id"])
    chunks = c.chat.completions.create(model="tiny", messages=USER, tools=TOOLS, temperature=1, max_tokens=mt,
                                       n=2, stream=True, extra_body=extra)
    per = {}
    for ch in chunks:
        for choice in ch.choices:
            slot = per.setdefault(choice.index, {"calls": {}, "finish": None})
            for tc in choice.delta.tool_calls or []:
                call = slot["calls"].setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                call["id"] = tc.id or call["id"]
                call["name"] += (tc.function and tc.function.name) or ""
                call["arguments"] += (tc.function and tc.function.arguments) or ""
            slot["finish"] = choice.finish_reason or slot["finish"]
    check(sorted(per) == [0, 1], f"n=2, streaming: choices {sorted(per)}")
    for index, slot in sorted(per.items()):
        calls = [slot["calls"][i] for i in sorted(slot["calls"])]
        check_call(calls, slot["finish"], f"n=2, streaming, choice {index}")
        ids.append(calls[0]["id"])
    check(len(set(ids)) == len(ids), f"n=2: tool call ids repeat: {ids}")

    hello = "Hello world! The weather is fine."
    extra, mt = forced(hello)
    r = c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Say hello"}],
                                  temperature=0, max_tokens=mt, extra_body=extra)
    check(r.choices[0].message.content == hello, f"plain chat: content {r.choices[0].message.content!r}")
    check(not r.choices[0].message.tool_calls and r.choices[0].finish_reason == "stop",
          f"plain chat: tool_calls {r.choices[0].message.tool_calls}, finish {r.choices[0].finish_reason}")
    content, calls, finish = stream_call(c, [{"role": "user", "content": "Say hello"}], hello, tools=None)
    check(content == hello and not calls and finish == "stop", f"plain chat, streaming: {content!r} {calls} {finish}")
    return "tool call with typed arguments, streaming and not, with and without text before; n=2 (and vLLM's refusal of n=2 when greedy); plain chat; " + "; ".join(notes)


def t3_history():
    """Multi-turn with an assistant tool call (invalid JSON arguments) and a tool result."""
    needs_vllm()
    bad_args = '{"city": "Paris", "days": 3'  # a truncated call, as a client may send back
    history = USER + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": bad_args}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "sunny", "temp_c": 22}'},
    ]
    answer = "It is sunny in Paris, 22 degrees."

    def direct_prompt_tokens(args):
        body = {"model": "tiny", "messages": [dict(m) for m in history], "tools": TOOLS, "tool_choice": "none",
                "max_tokens": 1}
        body["messages"][1] = dict(history[1], tool_calls=[dict(history[1]["tool_calls"][0],
                                   function={"name": "get_weather", "arguments": args})])
        r = requests.post(f"{VLLM}/v1/chat/completions", timeout=60, json=body)
        return r.status_code, (r.json().get("usage") or {}).get("prompt_tokens") if r.status_code == 200 else r.text[:120]

    broken_status, broken_tokens = direct_prompt_tokens(bad_args)
    fixed_status, fixed_tokens = direct_prompt_tokens(json.dumps(CALL_ARGS))
    c = client()
    extra, mt = forced(answer)
    r = c.chat.completions.create(model="tiny", messages=history, tools=TOOLS, temperature=0, max_tokens=mt, extra_body=extra)
    check(r.choices[0].message.content == answer, f"content {r.choices[0].message.content!r}")
    check(r.choices[0].finish_reason == "stop", f"finish {r.choices[0].finish_reason}")
    # What reached vLLM. vLLM 0.32 itself turns arguments that are not JSON into {} (with a
    # warning) rather than answering 400; the proxy's repair keeps them instead, so the
    # prompt differs from vLLM's own rendering of the broken history. With valid arguments
    # the proxy changes nothing: its prompt is vLLM's own.
    valid = [history[0], dict(history[1], tool_calls=[dict(history[1]["tool_calls"][0], function={
        "name": "get_weather", "arguments": json.dumps(CALL_ARGS)})]), history[2]]
    r_valid = c.chat.completions.create(model="tiny", messages=valid, tools=TOOLS, temperature=0, max_tokens=mt, extra_body=extra)
    check(r_valid.usage.prompt_tokens == fixed_tokens,
          f"with valid arguments the prompt through the proxy is {r_valid.usage.prompt_tokens} tokens, vLLM alone {fixed_tokens}")
    check(r.usage.prompt_tokens != broken_tokens,
          f"the broken history reached vLLM unrepaired ({r.usage.prompt_tokens} prompt tokens, as vLLM alone)")
    note = (f"prompt through the proxy {r.usage.prompt_tokens} tokens (repaired arguments); vLLM alone: HTTP {broken_status}, "
            f"{broken_tokens} tokens (it coerces them to {{}} itself); valid arguments: {fixed_tokens} either way")
    # And a second round: the model calls the tool again after the tool result, streaming.
    content, calls, finish = stream_call(c, history + [{"role": "assistant", "content": answer},
                                                       {"role": "user", "content": "And tomorrow?"}], CALL_TEXT)
    check_call(calls, finish, "second round, streaming")
    return f"accepted by real vLLM through the proxy (answer and a second tool call); {note}"


def t4_errors():
    """vLLM's real errors reach the client in the OpenAI error shape."""
    needs_vllm()
    headers = {"Authorization": f"Bearer {KEY}"}
    notes = []
    # (a) vLLM's own 404: a generate-only model has no embeddings route, and vLLM answers
    # with FastAPI's {"detail": "Not Found"}, which is not OpenAI's shape.
    direct = requests.post(f"{VLLM}/v1/embeddings", json={"model": "tiny", "input": "hi"}, timeout=30)
    check(direct.status_code == 404, f"vLLM answered /v1/embeddings with {direct.status_code} (expected its 404)")
    via = requests.post(f"{PROXY}/embeddings", json={"model": "tiny", "input": "hi"}, headers=headers, timeout=30)
    check(via.status_code == 404, f"the proxy answered {via.status_code} for vLLM's 404")
    err = error_shape(via.json(), 404)
    notes.append(f"vLLM's 404 {direct.text.strip()} → {json.dumps(via.json())}")
    try:
        client().embeddings.create(model="tiny", input="hi")
        raise Fail("the SDK got no error for vLLM's 404")
    except openai.NotFoundError as e:
        check(e.status_code == 404 and "message" in (e.body or {}), f"SDK error {e!r}")

    # (b) vLLM's 400 for a prompt over max_model_len, non-streaming and streaming.
    long_prompt = [{"role": "user", "content": "hello world " * 1500}]
    direct = requests.post(f"{VLLM}/v1/chat/completions", json={"model": "tiny", "messages": long_prompt}, timeout=60)
    check(direct.status_code == 400, f"vLLM answered a too-long prompt with {direct.status_code}")
    vllm_message = direct.json()["error"]["message"]
    for stream in (False, True):
        try:
            c = client()
            r = c.chat.completions.create(model="tiny", messages=long_prompt, max_tokens=10, tools=TOOLS, stream=stream)
            if stream:
                list(r)
            raise Fail(f"stream={stream}: no error for a prompt over max_model_len")
        except openai.BadRequestError as e:
            check(e.status_code == 400, f"stream={stream}: status {e.status_code}")
            err = error_shape({"error": e.body} if isinstance(e.body, dict) and "error" not in e.body else e.body, 400)
            check("maximum context length is 2048" in err["message"], f"stream={stream}: vLLM's message lost: {err['message']!r:.200}")
    raw = requests.post(f"{PROXY}/chat/completions", json={"model": "tiny", "messages": long_prompt, "stream": True},
                        headers=headers, timeout=60)
    check(raw.status_code == 400, f"streaming too-long prompt: HTTP {raw.status_code}")
    err = error_shape(raw.json(), 400)
    check(err["message"] == vllm_message, f"message changed: {err['message']!r:.120} vs vLLM's {vllm_message!r:.120}")
    notes.append(f"too-long prompt: 400 {json.dumps(raw.json())[:160]}…")

    # (c) an unknown model: the proxy answers itself (it knows what it serves), in the same shape.
    direct = requests.post(f"{VLLM}/v1/chat/completions", json={"model": "nope", "messages": USER}, timeout=30)
    via = requests.post(f"{PROXY}/chat/completions", json={"model": "nope", "messages": USER}, headers=headers, timeout=30)
    check(via.status_code == 404, f"unknown model through the proxy: HTTP {via.status_code}")
    error_shape(via.json(), 404)
    notes.append(f"unknown model: the proxy's own 404 {json.dumps(via.json())} (vLLM alone: {direct.status_code} {direct.text.strip()[:120]})")
    return "; ".join(notes)


def t7_doctor():
    """`podctl doctor tiny --json` with the real vLLM running."""
    needs_vllm()
    out, took = podctl("doctor", "tiny", "--json", timeout=180)
    try:
        checks = {c["id"]: c for c in json.loads(out.stdout)}
    except ValueError:
        raise Fail(f"doctor --json printed no JSON (exit {out.returncode}): {out.stdout[:200]} {out.stderr[:200]}")
    inst = checks.get("vllm.installed", {})
    check(inst.get("status") == "pass", f"vllm.installed: {inst}")
    check(f"vLLM {EXPECTED_VERSION}" in inst.get("summary", ""), f"vllm.installed does not say {EXPECTED_VERSION}: {inst.get('summary')}")
    wanted = ["vllm.model", "port.vllm", "port.proxy", "service.vllm.health", "service.vllm.models",
              "service.proxy.health", "service.proxy.ready", "service.proxy.auth"]
    bad = {k: (checks.get(k) or {}).get("status") for k in wanted if (checks.get(k) or {}).get("status") != "pass"}
    check(not bad, f"checks not passing: {bad}; " + "; ".join(f"{k}: {(checks.get(k) or {}).get('summary')}" for k in bad))
    probe = checks.get("probe.tool_call", {})
    failing = sorted(k for k, c in checks.items() if c["status"] == "fail")
    return (f"{inst['summary']}; {', '.join(wanted)} pass; in {took:.1f} s, exit {out.returncode} "
            f"(fails: {failing}); probe.tool_call {probe.get('status')}: {probe.get('summary')!r:.160} "
            "(a random model cannot be made to call the tool: the probe sends no structured outputs)")


def t6_sigkill():
    """SIGKILL the API server: the orphaned EngineCore is cleaned up before the restart."""
    needs_vllm()
    inst = instance()
    check(inst and inst["state"] == "ready" and inst["pid"], f"not ready before the kill: {inst}")
    run_id, old_pid, sup = inst["run_id"], inst["pid"], inst["supervisor_pid"]
    old = run_processes(run_id)
    old.pop(sup, None)
    cores = list(engine_cores(old_pid))
    check(cores and all(p in old for p in cores), f"no VLLM::EngineCore of the run before the kill: {old}")
    os.kill(old_pid, signal.SIGKILL)
    killed_at = time.monotonic()
    gone_at, new_seen = {}, None
    deadline = killed_at + 60
    while time.monotonic() < deadline and new_seen is None:
        for p in old:
            if p not in gone_at and not alive(p):
                gone_at[p] = time.monotonic() - killed_at
        for p, c in run_processes(run_id).items():
            if p not in old and p != sup and "vllm" in c and " serve " in c:
                new_seen = (p, time.monotonic() - killed_at)
        time.sleep(0.05)
    check(new_seen, f"no new vllm serve within 60 s of the kill; gone: {gone_at}; status {instance()}")
    survivors = [p for p in old if p not in gone_at]
    check(not survivors, f"when the new vLLM started, processes of the killed one still ran: "
          + ", ".join(f"{p} {old[p][:40]}" for p in survivors))
    late = {p: t for p, t in gone_at.items() if t > new_seen[1]}
    check(not late, f"old processes outlived the restart: {late}")
    inst = wait_for("ready after the restart", 240, lambda: (lambda i: i if i and i["state"] == "ready" and i["restarts"] == 1 else None)(instance()), every=0.5)
    check(inst["pid"] == new_seen[0], f"status pid {inst['pid']}, new vllm serve {new_seen[0]}")
    last = inst.get("last_exit") or {}
    check(last.get("signal") == 9, f"last_exit {last}")
    cores_now = engine_cores(inst["pid"])
    check(len(cores_now) == 1 and not set(cores_now) & set(cores), f"EngineCores now {cores_now}, before {cores}")
    c = client()
    hello = "Hello world!"
    extra, mt = forced(hello)
    r = c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}], temperature=0, max_tokens=mt, extra_body=extra)
    check(r.choices[0].message.content == hello, f"after the restart the proxy answered {r.choices[0].message.content!r}")
    with open(inst["log"], errors="replace") as f:
        cleaned = [l.strip("─ \n") for l in f if "leftover process" in l]
    return (f"EngineCore {cores} and the rest of the old run gone after "
            f"{max(gone_at.values()):.1f} s, new vllm serve {new_seen[0]} at {new_seen[1]:.1f} s; "
            f"ready with restarts 1, last exit SIGKILL; supervisor log: {cleaned[-1] if cleaned else 'no cleanup note'}")


def t5_stop_streaming():
    """`podctl stop` while a streaming request is open: within the bound, nothing left."""
    needs_vllm()
    inst = instance()
    check(inst and inst["state"] == "ready", f"not ready before the stop: {inst}")
    run_id = inst["run_id"]
    seen = {"chunks": 0, "finish": None, "error": None, "first": threading.Event(), "ended": None,
            "done": False, "last": []}

    def reader():
        body = {"model": "tiny", "messages": [{"role": "user", "content": "Tell me a long story"}],
                "max_tokens": 1900, "stream": True, "ignore_eos": True}
        try:
            with requests.post(f"{PROXY}/chat/completions", json=body, stream=True, timeout=120,
                               headers={"Authorization": f"Bearer {KEY}"}) as r:
                for line in r.iter_lines():
                    if not line.startswith(b"data: "):
                        continue
                    seen["last"].append(line[6:].decode(errors="replace"))
                    del seen["last"][:-3]
                    if line == b"data: [DONE]":
                        seen["done"] = True
                        continue
                    event = json.loads(line[6:])
                    if "error" in event:
                        seen["error"] = event["error"].get("message")
                        continue
                    seen["chunks"] += 1
                    if seen["chunks"] >= 3:
                        seen["first"].set()
                    for choice in event.get("choices", []):
                        if choice.get("finish_reason"):
                            seen["finish"] = choice["finish_reason"]
                    time.sleep(0.01)  # a client that reads, not fast
        except Exception as e:  # the connection is cut
            seen["error"] = f"{type(e).__name__}: {str(e)[:120]}"
        finally:
            seen["ended"] = time.monotonic()
            seen["first"].set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    check(seen["first"].wait(60), "the stream did not start")
    check(seen["ended"] is None and seen["finish"] is None, f"the stream ended before the stop: {seen}")
    began = time.monotonic()
    at_stop = seen["chunks"]
    out, took = podctl("stop", timeout=120)
    thread.join(30)
    check(out.returncode == 0, f"stop exited {out.returncode}: {out.stderr.strip()[:300]}")
    check(took <= STOP_BOUND, f"stop took {took:.1f} s, over its documented bound of {STOP_BOUND} s")
    check(seen["ended"] is not None, "the client's stream is still open after the stop")
    check(seen["ended"] - began >= 0, "the stream ended before the stop began")
    left = run_processes(run_id)
    check(not left, f"processes of the run survive the stop: {left}")
    # Any VLLM:: process left that is not another user's (its cwd is this tier's work dir).
    vllm_titled = [p for p in pids() if alive(p) and proc_cmdline(p).startswith("VLLM::")
                   and os.path.realpath(f"/proc/{p}/cwd").startswith(WORK)]
    check(not vllm_titled, f"VLLM:: processes survive: {vllm_titled}")
    check(port_free(VLLM_PORT), f"port {VLLM_PORT} (vLLM) is still held")
    check(port_free(PROXY_PORT), f"port {PROXY_PORT} (proxy) is still held")
    after = instance()
    check(after is None or after["state"] == "stopped", f"status after stop: {after and after['state']}")
    how = f"error event {seen['error']!r}" if seen["error"] else f"finish {seen['finish']}, [DONE] {seen['done']}, last {seen['last']}"
    with open(os.path.join(WORK, "state", "tiny", "vllm.log"), errors="replace") as f:
        notes = [l.strip("─ \n") for l in f if "stopped vLLM in" in l]
    return (f"stop took {took:.1f} s (bound {STOP_BOUND} s) with a stream open ({at_stop} chunks read at the stop, {seen['chunks']} in all; "
            f"client saw: {how}); no process of the run, ports :{VLLM_PORT} and :{PROXY_PORT} free; "
            f"podctl said: {(out.stdout + out.stderr).strip()[:200]}; supervisor: {notes[-1] if notes else '?'}")


# ---- the agents' APIs ------------------------------------------------------------------

ROOT = f"http://127.0.0.1:{PROXY_PORT}"
ANTHROPIC_TOOLS = [{"name": t["function"]["name"], "description": t["function"]["description"],
                    "input_schema": t["function"]["parameters"]} for t in TOOLS]
RESPONSES_TOOLS = [{"type": "function", "name": t["function"]["name"],
                    "description": t["function"]["description"],
                    "parameters": t["function"]["parameters"]} for t in TOOLS]


def sse_events(response):
    """(event name, data) for each frame of a `event:`/`data:` stream."""
    name, out = None, []
    for line in response.iter_lines():
        line = line.decode(errors="replace")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))
            name = None
    return out


def post(path, body, stream=False):
    r = requests.post(f"{ROOT}{path}", json=body, stream=stream, timeout=120,
                      headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"})
    check(r.status_code == 200, f"{path}: HTTP {r.status_code}: {r.text[:300] if not stream else ''}")
    return r


def t8_messages():
    """Anthropic Messages: a forced named tool call, whole and streamed; count_tokens = vLLM's /tokenize."""
    needs_vllm()
    extra, mt = forced(CALL_TEXT)
    body = {"model": "tiny", "max_tokens": mt, "messages": USER, "tools": ANTHROPIC_TOOLS,
            "tool_choice": {"type": "tool", "name": "get_weather"}, "temperature": 0, **extra}
    whole = post("/v1/messages", body).json()
    uses = [b for b in whole["content"] if b["type"] == "tool_use"]
    check(whole["stop_reason"] == "tool_use", f"whole: stop_reason {whole['stop_reason']!r}")
    check(len(uses) == 1 and uses[0]["name"] == "get_weather" and uses[0]["input"] == CALL_ARGS,
          f"whole: content {whole['content']}")
    check(uses[0]["id"], "whole: tool_use without id")
    check(whole["usage"]["input_tokens"] > 0 and whole["usage"]["output_tokens"] > 0, f"whole: usage {whole['usage']}")
    events = sse_events(post("/v1/messages", {**body, "stream": True}, stream=True))
    names = [n for n, _ in events if n != "ping"]
    check(names[0] == "message_start" and names[-1] == "message_stop", f"stream: events {names}")
    started = {d["index"]: d["content_block"] for n, d in events if n == "content_block_start"}
    partial = "".join(d["delta"].get("partial_json", "") for n, d in events if n == "content_block_delta")
    use = [b for b in started.values() if b["type"] == "tool_use"]
    check(len(use) == 1 and use[0]["name"] == "get_weather", f"stream: blocks {started}")
    check(json.loads(partial) == CALL_ARGS, f"stream: input_json_delta pieces {partial!r}")
    stop = [d["delta"]["stop_reason"] for n, d in events if n == "message_delta"]
    check(stop == ["tool_use"], f"stream: message_delta stop_reason {stop}")
    # A stop sequence: the model is made to write past it, vLLM stops there and says which.
    extra, mt = forced("The answer is 42. END of it")
    stopped = post("/v1/messages", {"model": "tiny", "max_tokens": mt, "messages": USER, "temperature": 0,
                                    "stop_sequences": ["END"], **extra}).json()
    check((stopped["stop_reason"], stopped["stop_sequence"]) == ("stop_sequence", "END"),
          f"stop_sequences: stop_reason {stopped['stop_reason']!r}, stop_sequence {stopped['stop_sequence']!r}")
    events = sse_events(post("/v1/messages", {"model": "tiny", "max_tokens": mt, "messages": USER, "temperature": 0,
                                              "stop_sequences": ["END"], "stream": True, **extra}, stream=True))
    deltas = [d["delta"] for n, d in events if n == "message_delta"]
    check([(d["stop_reason"], d["stop_sequence"]) for d in deltas] == [("stop_sequence", "END")],
          f"stream: stop_sequences gave {deltas}")
    counted = post("/v1/messages/count_tokens", {"model": "tiny", "messages": USER}).json()
    direct = requests.post(f"{VLLM}/tokenize", timeout=60,
                           json={"model": "tiny", "messages": USER, "add_generation_prompt": True}).json()
    check(counted.get("input_tokens") == direct.get("count"),
          f"count_tokens {counted} but vLLM's /tokenize counts {direct.get('count')}")
    return (f"tool_use {uses[0]['input']} (whole and streamed, {len(events)} events, {len(names) - len(set(names))} repeats); "
            f"stop_sequence END (whole and streamed); count_tokens {counted['input_tokens']} = vLLM /tokenize")


def t9_responses():
    """OpenAI Responses: a forced named function call, whole and streamed."""
    needs_vllm()
    extra, mt = forced(CALL_TEXT)
    body = {"model": "tiny", "input": USER[0]["content"], "tools": RESPONSES_TOOLS, "max_output_tokens": mt,
            "tool_choice": {"type": "function", "name": "get_weather"}, "temperature": 0, "store": False, **extra}
    whole = post("/v1/responses", body).json()
    calls = [i for i in whole["output"] if i["type"] == "function_call"]
    check(whole["status"] == "completed", f"whole: status {whole['status']!r}")
    check(len(calls) == 1 and calls[0]["name"] == "get_weather" and json.loads(calls[0]["arguments"]) == CALL_ARGS,
          f"whole: output {whole['output']}")
    check(calls[0]["call_id"], "whole: function_call without call_id")
    events = sse_events(post("/v1/responses", {**body, "stream": True}, stream=True))
    names = [n for n, _ in events]
    check(names[0] == "response.created" and names[-1] == "response.completed", f"stream: events {names}")
    done = [d["item"] for n, d in events if n == "response.output_item.done" and d["item"]["type"] == "function_call"]
    check(len(done) == 1 and json.loads(done[0]["arguments"]) == CALL_ARGS, f"stream: items done {done}")
    seq = [d["sequence_number"] for _, d in events]
    check(seq == list(range(seq[0], seq[0] + len(seq))), f"stream: sequence numbers {seq}")
    final = events[-1][1]["response"]
    check([i["type"] for i in final["output"]] == [i["type"] for i in whole["output"]],
          f"stream: completed output {final['output']} vs whole {whole['output']}")
    return f"function_call {calls[0]['arguments']} (whole and streamed, {len(events)} events, completed)"


def t10_vllm_parses():
    """tool_format = "vllm": vLLM's own qwen3_coder parser, through chat, Messages and Responses; stop leaves nothing."""
    with open(os.path.join(WORK, "models", "tiny.toml")) as f:
        text = f.read()
    check('tool_format = "qwen3_coder"' in text, "tiny.toml lacks its tool_format line")
    text = text.replace('tool_format = "qwen3_coder"', 'tool_format = "vllm"\ntool_call_parser = "qwen3_coder"')
    podctl("stop", timeout=120)  # the tier's own vLLM, when test 5 did not run
    with open(os.path.join(WORK, "models", "tiny-vllm.toml"), "w") as f:
        f.write(text)
    out, took = podctl("start", "tiny-vllm", "--proxy", timeout=330)
    check(out.returncode == 0, f"start exited {out.returncode}: {(out.stdout + out.stderr)[-400:]}")
    try:
        inst = instance("tiny-vllm")
        check(inst is not None and inst["state"] == "ready", f"status: {inst}")
        cmd = proc_cmdline(inst["pid"])
        check("--enable-auto-tool-choice" in cmd and "--tool-call-parser qwen3_coder" in cmd, f"vLLM ran as {cmd}")
        c = client()
        extra, mt = forced(CALL_TEXT)
        r = c.chat.completions.create(model="tiny", messages=USER, tools=TOOLS, tool_choice="auto", temperature=0,
                                      max_tokens=mt, extra_body=extra)
        m = r.choices[0].message
        calls = [{"id": t.id, "name": t.function.name, "arguments": t.function.arguments} for t in m.tool_calls or []]
        check_call(calls, r.choices[0].finish_reason, "vLLM's parser, non-streaming")
        content, calls, finish = stream_call(c, USER, CALL_TEXT)
        check_call(calls, finish, "vLLM's parser, streaming")
        check("<tool_call>" not in content, f"markup in content: {content!r}")
        body = {"model": "tiny", "max_tokens": mt, "messages": USER, "tools": ANTHROPIC_TOOLS, "temperature": 0, **extra}
        whole = post("/v1/messages", body).json()
        uses = [b for b in whole["content"] if b["type"] == "tool_use"]
        check(len(uses) == 1 and uses[0]["input"] == CALL_ARGS and whole["stop_reason"] == "tool_use",
              f"Messages: {whole['content']} {whole['stop_reason']}")
        body = {"model": "tiny", "input": USER[0]["content"], "tools": RESPONSES_TOOLS, "max_output_tokens": mt,
                "temperature": 0, **extra}
        events = sse_events(post("/v1/responses", {**body, "stream": True}, stream=True))
        done = [d["item"] for n, d in events if n == "response.output_item.done" and d["item"]["type"] == "function_call"]
        check(len(done) == 1 and json.loads(done[0]["arguments"]) == CALL_ARGS, f"Responses stream: {done}")
        run_id = inst["run_id"]
    finally:
        out, _ = podctl("stop", timeout=120)
    check(out.returncode == 0, f"stop exited {out.returncode}")
    left = run_processes(run_id)
    check(not left, f"processes of the run survive the stop: {left}")
    return (f"started in {took:.0f} s with vLLM's parser; chat (whole, streamed), Messages and Responses "
            f"returned get_weather {CALL_ARGS}; stopped clean")


def t11_serve_swap():
    """podctl serve: two models that do not fit together, started on demand and swapped; stop leaves nothing."""
    with open(os.path.join(WORK, "models", "tiny.toml")) as f:
        text = f.read()
    check('served_model_name = "tiny"' in text, "tiny.toml lacks its served_model_name line")
    podctl("stop", timeout=120)  # whatever an earlier test left running
    for name in ("tiny-a", "tiny-b"):
        # The same port for both (serve gives the second another); together they would
        # need 1.2 of the (pretend) GPU, so only one runs at a time.
        body = text.replace('served_model_name = "tiny"', f'served_model_name = "{name}"\ngpu_memory_utilization = 0.6')
        with open(os.path.join(WORK, "models", f"{name}.toml"), "w") as f:
            f.write(body)
    out, _ = podctl("serve", "tiny-a", "tiny-b", timeout=60)
    check(out.returncode == 0, f"serve exited {out.returncode}: {(out.stdout + out.stderr)[-400:]}")
    runs = set()

    def states():
        data = requests.get(f"{PROXY}/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=30).json()
        return {m["id"]: m.get("state") for m in data["data"]}

    def ask(model):
        t = time.monotonic()
        r = requests.post(f"{PROXY}/chat/completions", timeout=330, headers={"Authorization": f"Bearer {KEY}"},
                          json={"model": model, "messages": USER, "max_tokens": 8, "temperature": 0})
        check(r.status_code == 200, f"{model}: HTTP {r.status_code}: {r.text[:300]}")
        inst = instance(model)
        check(inst is not None and inst["state"] == "ready", f"{model}: status {inst}")
        runs.add(inst["run_id"])
        return time.monotonic() - t

    try:
        check(states() == {"tiny-a": "stopped", "tiny-b": "stopped"}, f"before any request: {states()}")
        first = ask("tiny-a")
        check(states() == {"tiny-a": "ready", "tiny-b": "stopped"}, f"after tiny-a: {states()}")
        a_pid = instance("tiny-a")["pid"]
        swap = ask("tiny-b")
        check(states() == {"tiny-a": "stopped", "tiny-b": "ready"}, f"after the swap to tiny-b: {states()}")
        check(not alive(a_pid), f"tiny-a's vLLM (pid {a_pid}) survives the swap")
        back = ask("tiny-a")
        check(states() == {"tiny-a": "ready", "tiny-b": "stopped"}, f"after the swap back: {states()}")
    finally:
        out, _ = podctl("stop", timeout=120)
    check(out.returncode == 0, f"stop exited {out.returncode}")
    left = [p for r in runs for p in run_processes(r)]
    check(not left, f"processes survive the stop: {left}")
    return (f"first start {first:.0f} s, swap to tiny-b {swap:.0f} s, swap back {back:.0f} s "
            f"(each a vLLM start on CPU); stopped clean")


TESTS = [
    ("1 start: progress, ready, status --json", t1_start),
    ("2 tool calls through the proxy (openai SDK)", t2_tool_calls),
    ("3 multi-turn with tool call, tool result and repaired history", t3_history),
    ("4 vLLM errors in the OpenAI error shape", t4_errors),
    ("8 Anthropic Messages: forced tool call, count_tokens", t8_messages),
    ("9 OpenAI Responses: forced function call", t9_responses),
    ("7 doctor with the real vLLM", t7_doctor),
    ("6 SIGKILL of the API server: cleanup, restart, ready", t6_sigkill),
    ("5 stop with a streaming request open", t5_stop_streaming),
    ("10 tool_format = vllm: vLLM's own parser in every API", t10_vllm_parses),
    ("11 podctl serve: two models swapped on demand", t11_serve_swap),
]


def main():
    only = sys.argv[1:]
    passed = failed = 0
    for name, test in TESTS:
        if only and not any(name.startswith(o) for o in only):
            continue
        began = time.monotonic()
        try:
            detail = test()
            passed += 1
            print(f"PASS {name} ({time.monotonic() - began:.1f} s): {detail}", flush=True)
        except Fail as e:
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - began:.1f} s): {e}", flush=True)
        except Exception as e:
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - began:.1f} s): {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(file=sys.stderr)
    with open(os.environ["TIER_RESULTS"], "w") as f:
        f.write(f"{passed} {failed}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
