//! Faults on the proxy's side: a client that reads nothing (backpressure, not buffering),
//! and a disk that refuses writes for traces and logs (the service goes on).

use std::io::Read as _;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::harness::{Env, continue_request};
use crate::standin::{Reply, StandIn};

/// A client that stops reading holds the upstream back through the proxy: what vLLM could
/// send stays bounded by socket buffers, and the rest comes once the client reads again.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_reads_nothing_holds_the_upstream_back() {
    const TOTAL: usize = 64 << 20;
    let env = Env::start().await;
    let line = "let total: u64 = items.iter().map(|i| i.weight).sum();\n";
    let text = line.repeat(TOTAL / line.len());
    env.standin.push_reply(Reply::chunked(text, vec![16 << 10]));
    let response =
        env.post("/v1/chat/completions").json(&continue_request(true)).send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 200);
    // Read nothing for a while: the upstream must stall far short of the whole answer.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = env.standin.sent_bytes();
    eprintln!("upstream sent {} MiB of {} MiB while the client read nothing", sent >> 20, TOTAL >> 20);
    assert!(sent < (TOTAL / 2) as u64, "the proxy buffered for a client that reads nothing: {sent} bytes");
    // Reading again lets it go on; dropping the stream releases the upstream.
    let mut body = response.bytes_stream();
    let mut read = 0;
    while read < 16 << 20 {
        read += body.next().await.expect("more").expect("bytes").len();
    }
    assert!(env.standin.sent_bytes() > sent, "the upstream goes on once the client reads");
    drop(body);
    assert!(env.standin.wait_cancelled(1, Duration::from_secs(5)).await, "upstream released");
}

/// Traces that cannot be written (the file-size limit stands in for a full disk: the same
/// failed write) and a log on a full device: every request is still served, and the trace
/// failure is reported once.
#[tokio::test(flavor = "multi_thread")]
async fn full_disk_for_traces_and_logs_keeps_serving() {
    let standin = StandIn::start().await;
    let dir = std::env::temp_dir().join(format!("podctl-fault-traces-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    // `ulimit -f 2`: files may not grow past 2 KiB; SIGXFSZ ignored so the write fails with
    // EFBIG instead of killing the process (as ENOSPC fails it on a full disk).
    let mut child = std::process::Command::new("bash")
        .args(["-c", "ulimit -f 2; trap '' XFSZ; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_podctl"))
        .args(["proxy", "--port", &port.to_string(), "--upstream", &standin.base_url()])
        .args(["--model-name", "qwen3-coder-30b", "--trace-dir", &dir.to_string_lossy()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let url = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{url}/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the proxy came up");
    // Each trace holds the prompt: 8 kB, over the 2 KiB limit.
    let body =
        json!({"model": "qwen3-coder-30b", "messages": [{"role": "user", "content": "x".repeat(8000)}]});
    for _ in 0..10 {
        standin.push_reply(Reply::text("fine"));
        let answer =
            client.post(format!("{url}/v1/chat/completions")).json(&body).send().await.expect("answer");
        assert_eq!(answer.status().as_u16(), 200);
        let answer: Value = answer.json().await.expect("JSON");
        assert_eq!(answer["choices"][0]["message"]["content"], "fine");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        nix::sys::signal::Signal::SIGTERM,
    );
    let status = child.wait().expect("exits");
    let mut log = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut log).expect("read");
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(log.matches("cannot write traces").count(), 1, "one warning: {log}");
    // No half-written trace is left behind to mislead.
    let partial = std::fs::read_dir(&dir).map_or(0, Iterator::count);
    assert_eq!(partial, 0, "partial traces left in {}", dir.display());
    let _ = std::fs::remove_dir_all(&dir);

    // The log itself on a full device (/dev/full: every write is ENOSPC).
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_podctl"))
        .args(["proxy", "--port", &port.to_string(), "--upstream", &standin.base_url()])
        .args(["--model-name", "qwen3-coder-30b"])
        .stderr(std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full"))
        .spawn()
        .expect("starts");
    let url = format!("http://127.0.0.1:{port}");
    let mut served = 0;
    for _ in 0..100 {
        if client.get(format!("{url}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..5 {
        standin.push_reply(Reply::text("fine"));
        let answer =
            client.post(format!("{url}/v1/chat/completions")).json(&body).send().await.expect("answer");
        served += usize::from(answer.status().as_u16() == 200);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(served, 5, "requests served with the log on a full device");
}
