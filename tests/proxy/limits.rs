//! Limits: requests in flight per API key (429 over it, the place given back when the
//! response ends) and open connections (more wait to be accepted).

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
