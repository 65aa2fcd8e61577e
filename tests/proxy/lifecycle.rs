//! Cancellation, keep-alive, graceful stop, traces, and the command line.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

use crate::harness::{Env, READ_CALL, continue_request};
use crate::standin::{Config, Reply};

#[tokio::test(flavor = "multi_thread")]
async fn client_disconnect_cancels_the_upstream_request() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::stall_mid_stream(READ_CALL, 2, Duration::from_secs(30)));
    let response =
        env.post("/v1/chat/completions").json(&continue_request(true)).send().await.expect("answer");
    let mut body = response.bytes_stream();
    let first = body.next().await.expect("a first chunk").expect("bytes");
    assert!(first.starts_with(b"data: "));
    // The client goes away while the upstream is silent mid-stream.
    drop(body);
    let gone = Instant::now();
    assert!(env.standin.wait_cancelled(1, Duration::from_secs(2)).await, "upstream stream was not cancelled");
    let took = gone.elapsed();
    eprintln!("upstream cancelled {took:?} after the client went away");
    assert!(took < Duration::from_secs(1), "cancellation took {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_alive_comments_while_upstream_is_silent() {
    let env = Env::with(Config::default(), |c| c.keepalive = Duration::from_millis(100)).await;
    env.standin.push_reply(Reply::stall_mid_stream("a quiet answer", 1, Duration::from_millis(450)));
    let (status, events) = env.chat_stream(&continue_request(true)).await;
    assert_eq!(status, 200);
    let comments = events.iter().filter(|e| e.as_str() == Some(": keep-alive")).count();
    assert!(comments >= 2, "keep-alive comments while silent: {events:?}");
    let (content, _, finish) = crate::harness::check_stream(
        &events.iter().filter(|e| e.as_str() != Some(": keep-alive")).cloned().collect::<Vec<_>>(),
    );
    assert_eq!((content.as_str(), finish.as_str()), ("a quiet answer", "stop"));
}

#[tokio::test(flavor = "multi_thread")]
async fn graceful_stop_lets_streams_finish() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::stall_mid_stream("slow but complete", 1, Duration::from_millis(400)));
    let request = env.post("/v1/chat/completions").json(&continue_request(true)).send();
    let response = request.await.expect("answer");
    env.shutdown.cancel();
    let text = response.text().await.expect("the stream finishes");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let result =
        tokio::time::timeout(Duration::from_secs(5), env.server).await.expect("serve returns").expect("task");
    assert!(result.is_ok());
    // No longer accepting.
    assert!(reqwest::get(format!("{}/health", env.url)).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_dir_keeps_raw_text_and_result() {
    let dir = std::env::temp_dir().join(format!("podctl-trace-{}", std::process::id()));
    let trace = dir.clone();
    // Keys on both sides: neither may reach a trace.
    let standin = Config { require_key: Some("sk-vllm-secret-42".into()), ..Config::default() };
    let env = Env::with(standin, move |c| {
        c.trace_dir = Some(trace);
        c.keys = vec!["sk-client-secret-17".into()];
        c.models[0].replicas[0].key = Some("sk-vllm-secret-42".into());
    })
    .await;
    env.standin.push_reply(Reply::text(READ_CALL));
    let (_, body) = env.chat(&continue_request(false)).await;
    let id = body["id"].as_str().expect("id").to_owned();
    let path = dir.join(format!("{id}.json"));
    let mut record = None;
    for _ in 0..50 {
        if let Ok(text) = std::fs::read_to_string(&path) {
            record = serde_json::from_str::<Value>(&text).ok();
            if record.is_some() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let record = record.expect("trace written");
    assert_eq!(record["upstream_text"][0], READ_CALL);
    assert_eq!(record["response"]["choices"][0]["finish_reason"], "tool_calls");
    assert!(record["request"]["tool_choice"] == "none");
    let text = std::fs::read_to_string(&path).expect("trace");
    assert!(!text.contains("sk-client-secret-17") && !text.contains("sk-vllm-secret-42"), "a key in a trace");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_refuses_public_bind_without_a_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_podctl"))
        .args(["proxy", "--host", "0.0.0.0", "--port", "0"])
        .env_remove("PODCTL_API_KEY")
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0") && err.contains("hint:") && err.contains("--api-key"),
        "{err}"
    );
}

#[test]
fn cli_serves_health_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_podctl"))
        .args(["proxy", "--port", &port.to_string(), "--upstream", "http://127.0.0.1:9/v1"])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("a first log line");
    assert!(line.contains("listening on"), "{line}");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("sent");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("reply");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY-free: send SIGTERM through the kill command.
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("exits");
    assert_eq!(exit.code(), Some(0), "SIGTERM is a clean stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_one_line_per_request_and_never_the_key() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let standin = crate::standin::StandIn::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_podctl"))
        .args([
            "proxy",
            "--port",
            &port.to_string(),
            "--upstream",
            &standin.base_url(),
            "--log-format",
            "json",
        ])
        .args(["--api-key", "sk-secret-123", "--model-name", "qwen3-coder-30b"])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.next_line().await.expect("read").expect("a line");
    let started: Value = serde_json::from_str(&first).expect("JSON log line");
    assert!(started["message"].as_str().is_some_and(|m| m.contains("listening")), "{first}");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let body =
        serde_json::json!({"model": "qwen3-coder-30b", "messages": [{"role": "user", "content": "hi"}]});
    let ok = client.post(&url).bearer_auth("sk-secret-123").json(&body).send().await.expect("answer");
    assert_eq!(ok.status().as_u16(), 200);
    let line = lines.next_line().await.expect("read").expect("a request line");
    let record: Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(record["message"], "request");
    assert_eq!(record["status"], 200);
    assert_eq!(record["model"], "qwen3-coder-30b");
    assert!(record["added_ms"].is_number() && record["upstream_ms"].is_number());
    let wrong = client.post(&url).bearer_auth("sk-wrong-456").json(&body).send().await.expect("answer");
    assert_eq!(wrong.status().as_u16(), 401);
    child.start_kill().expect("kill");
    let mut rest = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push_str(&line);
    }
    for text in [first.as_str(), line.as_str(), rest.as_str()] {
        assert!(
            !text.contains("sk-secret-123") && !text.contains("sk-wrong-456"),
            "a key reached the log: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn client_giving_up_before_the_upstream_answers_cancels_it() {
    let env = Env::start().await;
    env.standin.push_reply(Reply::stall(Duration::from_secs(30), Reply::text("too late")));
    let result = env
        .post("/v1/chat/completions")
        .json(&continue_request(false))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(result.is_err(), "the client timed out");
    assert!(
        env.standin.wait_cancelled(1, Duration::from_secs(2)).await,
        "the upstream request was not cancelled"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_alive_while_text_is_held_back() {
    // A Hermes block is only decided at </tool_call>: the upstream is busy, but the client
    // gets nothing. Keep-alives are timed from the client's side, so they still go out.
    let env = Env::with(Config::default(), |c| {
        c.keepalive = Duration::from_millis(100);
        c.models[0].tool_format = podctl::toolcall::Format::Hermes;
    })
    .await;
    let block = "<tool_call>\n{\"name\": \"create_new_file\", \"arguments\": {\"filepath\": \"a.txt\", \"contents\": \"some text of a file\"}}\n</tool_call>";
    env.standin.push_reply(Reply::chunked(block, vec![5]).delay(Duration::from_millis(25)));
    let (_, events) = env.chat_stream(&continue_request(true)).await;
    let comments = events.iter().filter(|e| e.as_str() == Some(": keep-alive")).count();
    assert!(comments >= 3, "keep-alives while the block is held: {events:?}");
    let calls: Vec<&Value> =
        events.iter().filter(|e| e.pointer("/choices/0/delta/tool_calls").is_some()).collect();
    assert!(!calls.is_empty(), "the call still arrives");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_upstream_ends_the_stream_with_an_error() {
    let env = Env::with(Config::default(), |c| {
        c.keepalive = Duration::from_millis(50);
        c.max_silence = Duration::from_millis(300);
    })
    .await;
    env.standin.push_reply(Reply::stall_mid_stream("never finished", 1, Duration::from_secs(20)));
    let started = Instant::now();
    let (_, events) = env.chat_stream(&continue_request(true)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "gave up long before the upstream did");
    let last = events.last().expect("events");
    assert_eq!(last["error"]["code"], 504, "{events:?}");
    assert!(last["error"]["message"].as_str().is_some_and(|m| m.contains("sent nothing")));
    assert!(!events.contains(&serde_json::json!("[DONE]")));
    assert!(
        env.standin.wait_cancelled(1, Duration::from_secs(2)).await,
        "and the upstream request is closed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aborted_generation_is_an_error_never_a_finish() {
    // vLLM ends a generation it cut off (shutdown, restart) with finish_reason "abort".
    let env = Env::start().await;
    env.standin.push_reply(Reply::text("The answer is cut off here").aborted());
    let (status, body) = env.chat(&continue_request(false)).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("aborted")), "{body}");

    env.standin.push_reply(Reply::text("The answer is cut off here").aborted());
    let response = env.post("/v1/chat/completions").json(&continue_request(true)).send().await.expect("sent");
    let text = response.text().await.expect("body");
    assert!(!text.contains("[DONE]"), "a cut-off stream must not look complete: {text}");
    assert!(!text.contains("\"finish_reason\":\"stop\""), "{text}");
    assert!(text.contains("\"error\""), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_grace_period_open_streams_end_and_release_the_upstream() {
    let env = Env::with(Config::default(), |c| c.grace = Duration::from_millis(300)).await;
    env.standin.push_reply(Reply::stall_mid_stream(
        "a long answer that vLLM is still writing",
        1,
        Duration::from_secs(30),
    ));
    let mut response =
        env.post("/v1/chat/completions").json(&continue_request(true)).send().await.expect("sent");
    let first = response.chunk().await.expect("read").expect("a first chunk");
    assert!(!first.is_empty());
    env.shutdown.cancel();
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Ok(Some(chunk)) = response.chunk().await {
            rest.extend_from_slice(&chunk);
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream was still open 3 s after a 0.3 s grace");
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains("shutting down") && !rest.contains("[DONE]"), "{rest}");
    assert!(
        env.standin.wait_cancelled(1, Duration::from_secs(2)).await,
        "the upstream request was not closed (vLLM would wait for it)"
    );
}
