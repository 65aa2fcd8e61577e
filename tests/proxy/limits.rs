//! Limits: requests in flight per API key (429 over it, the place given back when the
//! response ends), open connections (more wait to be accepted), and a body over
//! `--max-body-mb` (the client, still writing, reads the 413).

use std::time::Duration;

use serde_json::Value;

use crate::harness::{Env, continue_request};
use crate::standin::{Config, Reply};

#[tokio::test(flavor = "multi_thread")]
async fn a_key_over_its_requests_in_flight_gets_429_and_others_are_served() {
    let env = Env::with(Config::default(), |c| {
        c.keys = vec!["sk-busy".into(), "sk-other".into()];
        c.max_in_flight_per_key = 1;
    })
    .await;
    let chat = |key: &'static str, stream: bool| {
        env.client
            .post(format!("{}/v1/chat/completions", env.url))
            .bearer_auth(key)
            .json(&continue_request(stream))
            .send()
    };
    // One stream in flight for sk-busy: its headers are out, its body still coming.
    env.standin.push_reply(Reply::stall_mid_stream("Hello there, world", 1, Duration::from_secs(2)));
    let streaming = chat("sk-busy", true).await.expect("stream starts");
    assert_eq!(streaming.status().as_u16(), 200);

    let refused = chat("sk-busy", false).await.expect("answer");
    assert_eq!(refused.status().as_u16(), 429);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("max_in_flight_per_key") && !message.contains("sk-busy"), "{message}");

    env.standin.push_reply(Reply::text("ok"));
    assert_eq!(chat("sk-other", false).await.expect("answer").status().as_u16(), 200, "another key");

    // The stream ends: its place is given back.
    let _ = streaming.text().await.expect("stream ends");
    env.standin.push_reply(Reply::text("ok"));
    assert_eq!(chat("sk-busy", false).await.expect("answer").status().as_u16(), 200);

    // A client that drops its stream gives its place back too.
    env.standin.push_reply(Reply::stall_mid_stream("Hello there, world", 1, Duration::from_secs(5)));
    let dropped = chat("sk-busy", true).await.expect("stream starts");
    drop(dropped);
    tokio::time::sleep(Duration::from_millis(200)).await;
    env.standin.push_reply(Reply::text("ok"));
    assert_eq!(chat("sk-busy", false).await.expect("answer").status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_limit_wait_until_one_closes() {
    let env = Env::with(Config::default(), |c| c.max_connections = 2).await;
    let addr = env.url.trim_start_matches("http://").to_owned();
    let first = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let _second = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let quick = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().expect("client");
    assert!(quick.get(format!("{}/health", env.url)).send().await.is_err(), "a third waits");
    drop(first);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    let health = client.get(format!("{}/health", env.url)).send().await.expect("served once one closed");
    assert_eq!(health.status().as_u16(), 200);
}

/// A raw client sends a 16 MiB body (the harness allows 1 MiB) in pieces, reading on
/// another thread as a real client does: every byte goes out without a broken pipe or a
/// reset, and the answer read back is the 413 with its hint. Before the proxy read the
/// rest of the body, it closed the socket with data unread and the client saw a reset.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_is_read_to_the_end_and_the_client_gets_the_413() {
    use std::io::{Read as _, Write as _};

    let env = Env::start().await;
    let addr = env.url.trim_start_matches("http://").to_owned();
    let key = env.key.clone().unwrap_or_default();
    let answer = tokio::task::spawn_blocking(move || {
        let size: usize = 16 << 20;
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let mut reader = stream.try_clone().expect("clone");
        let read = std::thread::spawn(move || {
            let mut got = Vec::new();
            let result = reader.read_to_end(&mut got);
            (result.map_err(|e| e.kind()), String::from_utf8_lossy(&got).into_owned())
        });
        let head = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).expect("headers");
        let piece = vec![b' '; 64 << 10];
        let mut sent = 0;
        let mut write_error = None;
        while sent < size {
            if let Err(e) = stream.write_all(&piece) {
                write_error = Some(e.kind());
                break;
            }
            sent += piece.len();
        }
        let (read_result, text) = read.join().expect("reader");
        (sent, write_error, read_result, text)
    })
    .await
    .expect("client");
    let (sent, write_error, read_result, text) = answer;
    assert_eq!(write_error, None, "the whole body goes out ({sent} bytes sent); answer: {text}");
    assert!(read_result.is_ok(), "the answer is read to its end, not reset: {read_result:?} {text}");
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("larger than 1 MiB") && text.contains("--max-body-mb"), "{text}");

    // A client that waits for `100 Continue` before sending a body over the limit is
    // answered at once, without the body.
    let response = env
        .post("/v1/chat/completions")
        .header("expect", "100-continue")
        .header("content-length", (8u64 << 20).to_string())
        .body(reqwest::Body::wrap_stream(futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>()))
        .send();
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("answered at once")
        .expect("413");
    assert_eq!(response.status().as_u16(), 413);

    // The proxy still serves.
    let (status, _) = env.chat(&continue_request(false)).await;
    assert_eq!(status, 200);
}
