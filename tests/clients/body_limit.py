"""A body over the proxy's --max-body-mb, sent by Python `requests` (which writes the whole
body before it reads the answer): it must read the 413 and its hint, not a broken pipe or
a reset, and the proxy must go on serving.
Usage: python3 body_limit.py BASE_URL KEY [MODEL]   (run.sh starts the proxy with --max-body-mb 4)"""
import sys

import requests

base, key = sys.argv[1], sys.argv[2]
model = sys.argv[3] if len(sys.argv) > 3 else "qwen3-coder-30b"
headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}")
    failures += 0 if ok else 1


body = ('{"model": "%s", "messages": [{"role": "user", "content": "%s"}]}' % (model, "x" * (12 << 20))).encode()
try:
    r = requests.post(f"{base}/chat/completions", data=body, headers=headers, timeout=60)
    message = r.json().get("error", {}).get("message", "")
    check("a 12 MiB body gets the 413 with its hint", r.status_code == 413 and "--max-body-mb" in message,
          f"{r.status_code} {message}")
except requests.exceptions.ConnectionError as e:
    check("a 12 MiB body gets the 413 with its hint", False, f"connection error instead: {e}")
r = requests.post(f"{base}/chat/completions", headers=headers, timeout=60,
                  json={"model": model, "messages": [{"role": "user", "content": "hi"}]})
check("the proxy still serves", r.status_code == 200, r.status_code)
sys.exit(1 if failures else 0)
