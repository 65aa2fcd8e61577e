//! Routing over replicas, on real sockets: balance and prefix affinity, overload moving a
//! conversation, a replica killed under load, cooldown and recovery, starting replicas
//! skipped, fallback to another model, retries only before the first byte, and the metrics
//! after a scripted sequence.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use podctl::proxy::ProxyConfig;
use podctl::proxy::config::{ModelConfig, ReplicaConfig, RouterConfig};
use podctl::toolcall::Format;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::harness::{self, parse_sse};
use crate::standin::{Config, Reply, StandIn};

/// A stand-in with its own runtime on its own thread: `kill` drops that runtime, which
/// closes every connection at once, the way a killed vLLM does.
struct Killable {
    standin: StandIn,
    kill: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Killable {
    fn start(config: Config) -> Self {
        let (ready, started) = std::sync::mpsc::channel();
        let (kill, killed) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let standin = StandIn::start_with(config).await;
                ready.send(standin).expect("test waits");
                let _ = killed.await;
            });
        });
        let standin = started.recv().expect("stand-in started");
        Self { standin, kill: Some(kill), thread: Some(thread) }
    }

    fn kill(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Killable {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The proxy under test.
struct Proxy {
    url: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
    key: Option<String>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Proxy {
    async fn start(config: ProxyConfig) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let key = config.keys.first().cloned();
        tokio::spawn(async move { podctl::proxy::serve(listener, &config, token).await });
        Self { url, client: reqwest::Client::new(), shutdown, key }
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let builder = self.client.post(format!("{}{path}", self.url));
        match &self.key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    async fn chat(&self, body: &Value) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = self.post("/v1/chat/completions").json(body).send().await.expect("proxy answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().await.expect("JSON body"))
    }

    async fn stream(&self, body: &Value) -> (u16, Vec<Value>) {
        let response = self.post("/v1/chat/completions").json(body).send().await.expect("proxy answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, parse_sse(&text))
    }

    /// `/metrics` as a map from series (`name{labels}`) to value.
    async fn metrics(&self) -> BTreeMap<String, f64> {
        let builder = self.client.get(format!("{}/metrics", self.url));
        let builder = match &self.key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        };
        let text = builder.send().await.expect("metrics").text().await.expect("text");
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(series, value)| (series.to_owned(), value.parse().expect("a number")))
            .collect()
    }
}

fn model(name: &str, urls: &[String]) -> ModelConfig {
    let mut model = ModelConfig::single(Some(name.to_owned()), "", None, Format::Qwen3Coder);
    model.replicas = urls.iter().map(|u| ReplicaConfig::new(u.clone(), None)).collect();
    model
}

/// A fast router: probes every 100 ms, short cooldowns.
fn router() -> RouterConfig {
    RouterConfig {
        health_interval: Duration::from_millis(100),
        cooldown: Duration::from_millis(300),
        allowed_fails: 1,
        ..RouterConfig::default()
    }
}

fn config(models: Vec<ModelConfig>, router: RouterConfig) -> ProxyConfig {
    let mut config = harness::config(String::new());
    config.models = models;
    config.router = router;
    config
}

/// Turn `turns` (1, 2, …) of conversation `topic`: the same system prompt and first user
/// message, a growing history.
fn conversation(topic: &str, turns: usize, stream: bool) -> Value {
    let mut messages = vec![
        json!({"role": "system", "content": "You are a coding agent working in the user's repository."}),
        json!({"role": "user", "content": format!("Tell me about {topic}")}),
    ];
    for turn in 1..turns {
        messages.push(json!({"role": "assistant", "content": format!("Answer {turn} about {topic}.")}));
        messages.push(json!({"role": "user", "content": format!("And follow-up {turn}?")}));
    }
    json!({"model": harness::ALIAS, "messages": messages, "stream": stream})
}

/// The first user message of each chat request a stand-in received.
fn topics(standin: &StandIn) -> Vec<String> {
    standin
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .filter_map(|r| r.body["messages"][1]["content"].as_str().map(str::to_owned))
        .collect()
}

fn chats(standin: &StandIn) -> usize {
    topics(standin).len()
}

fn stream_failed(events: &[Value]) -> bool {
    events.last() != Some(&json!("[DONE]")) && events.iter().any(|e| e.get("error").is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_spread_over_replicas_and_each_sticks_to_its_own() {
    let replicas = [StandIn::start().await, StandIn::start().await, StandIn::start().await];
    let urls: Vec<String> = replicas.iter().map(StandIn::base_url).collect();
    let proxy = Proxy::start(config(vec![model(harness::ALIAS, &urls)], router())).await;
    for turn in 1..=3 {
        for c in 0..60 {
            let (status, _, _) = proxy.chat(&conversation(&format!("topic {c}"), turn, false)).await;
            assert_eq!(status, 200);
        }
    }
    let mut home: BTreeMap<String, usize> = BTreeMap::new();
    for (i, replica) in replicas.iter().enumerate() {
        let seen = topics(replica);
        assert!(seen.len() >= 3 * 5, "replica {i} got only {} requests: not balanced", seen.len());
        for topic in seen {
            let previous = home.insert(topic.clone(), i);
            assert!(previous.is_none_or(|p| p == i), "`{topic}` moved from replica {previous:?} to {i}");
        }
    }
    assert_eq!(home.len(), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_replica_hands_its_conversation_to_another() {
    let slow = || Config {
        default_reply: Reply::stall(Duration::from_millis(800), Reply::text("ok")),
        ..Config::default()
    };
    let replicas = [StandIn::start_with(slow()).await, StandIn::start_with(slow()).await];
    let urls: Vec<String> = replicas.iter().map(StandIn::base_url).collect();
    let proxy = std::sync::Arc::new(Proxy::start(config(vec![model(harness::ALIAS, &urls)], router())).await);
    let requests: Vec<_> = (0..10)
        .map(|_| {
            let proxy = std::sync::Arc::clone(&proxy);
            tokio::spawn(async move { proxy.chat(&conversation("one long task", 1, false)).await.0 })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.expect("joined"), 200);
    }
    let counts = [chats(&replicas[0]), chats(&replicas[1])];
    let (home, other) =
        (counts.iter().max().copied().unwrap_or(0), counts.iter().min().copied().unwrap_or(0));
    assert!(home >= 5, "the conversation's replica takes load up to the slack first: {counts:?}");
    assert!(other >= 2, "beyond the slack, load wins: {counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_fails_only_the_streams_it_was_serving() {
    let slow = || Config {
        // 30 pieces, 40 ms apart: a stream of about 1.2 s.
        default_reply: Reply::chunked("abcd".repeat(30), vec![4]).delay(Duration::from_millis(40)),
        split_sse_lines: false,
        ..Config::default()
    };
    let mut replicas = [Killable::start(slow()), Killable::start(slow()), Killable::start(slow())];
    let urls: Vec<String> = replicas.iter().map(|r| r.standin.base_url()).collect();
    let proxy = std::sync::Arc::new(Proxy::start(config(vec![model(harness::ALIAS, &urls)], router())).await);
    let mut whole = Vec::new();
    let mut streams = Vec::new();
    for c in 0..24 {
        let proxy = std::sync::Arc::clone(&proxy);
        whole
            .push(tokio::spawn(async move { proxy.chat(&conversation(&format!("w{c}"), 1, false)).await.0 }));
    }
    for c in 0..12 {
        let proxy = std::sync::Arc::clone(&proxy);
        streams
            .push(tokio::spawn(async move { proxy.stream(&conversation(&format!("s{c}"), 1, true)).await }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let on_killed = topics(&replicas[0].standin).iter().filter(|t| t.starts_with("Tell me about s")).count();
    replicas[0].kill();
    for request in whole {
        assert_eq!(request.await.expect("joined"), 200, "non-streaming requests are retried elsewhere");
    }
    let mut failed = 0;
    for stream in streams {
        let (status, events) = stream.await.expect("joined");
        assert_eq!(status, 200);
        if stream_failed(&events) {
            failed += 1;
        } else {
            assert_eq!(events.last(), Some(&json!("[DONE]")), "a stream either completes or says it failed");
        }
    }
    assert_eq!(failed, on_killed, "exactly the streams on the killed replica fail");
    // New requests avoid the dead replica.
    for c in 0..6 {
        assert_eq!(proxy.chat(&conversation(&format!("after {c}"), 1, false)).await.0, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_replica_cools_down_and_comes_back_when_probes_pass() {
    let live = StandIn::start().await;
    let mut dying = Killable::start(Config::default());
    let addr: SocketAddr = dying.standin.addr;
    let urls = vec![live.base_url(), dying.standin.base_url()];
    let proxy = Proxy::start(config(vec![model(harness::ALIAS, &urls)], router())).await;
    let replica = format!("127.0.0.1:{}", addr.port());
    let state = |m: &BTreeMap<String, f64>, s: &str| {
        m.get(&format!(
            "podctl_replica_state{{model=\"{}\",replica=\"{replica}\",state=\"{s}\"}}",
            harness::ALIAS
        ))
        .copied()
    };
    // Serving first: a server that never answered is only "down", without a cooldown.
    for _ in 0..100 {
        if state(&proxy.metrics().await, "up") == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    dying.kill();
    for c in 0..10 {
        assert_eq!(
            proxy.chat(&conversation(&format!("c{c}"), 1, false)).await.0,
            200,
            "retried on the live one"
        );
    }
    let metrics = proxy.metrics().await;
    assert!(state(&metrics, "cooldown") == Some(1.0) || state(&metrics, "down") == Some(1.0), "{metrics:#?}");
    assert!(metrics.iter().any(|(k, v)| k.starts_with("podctl_replica_cooldowns_total") && *v >= 1.0));
    // The same server comes back on the same port.
    let back = StandIn::start_with(Config { bind: addr, ..Config::default() }).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(state(&proxy.metrics().await, "up"), Some(1.0));
    for c in 0..30 {
        assert_eq!(proxy.chat(&conversation(&format!("later {c}"), 1, false)).await.0, 200);
    }
    assert!(chats(&back) > 0, "the recovered replica takes requests again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_replica_is_skipped_not_failed() {
    let (a, b) = (StandIn::start().await, StandIn::start().await);
    b.set_health(503);
    let proxy =
        Proxy::start(config(vec![model(harness::ALIAS, &[a.base_url(), b.base_url()])], router())).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for c in 0..20 {
        assert_eq!(proxy.chat(&conversation(&format!("c{c}"), 1, false)).await.0, 200);
    }
    assert_eq!(chats(&b), 0, "no request goes to a replica that is starting");
    let metrics = proxy.metrics().await;
    assert!(
        !metrics.keys().any(|k| k.starts_with("podctl_replica_cooldowns_total")),
        "starting is not a failure"
    );
    b.set_health(200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for c in 0..20 {
        assert_eq!(proxy.chat(&conversation(&format!("d{c}"), 1, false)).await.0, 200);
    }
    assert!(chats(&b) > 0, "it takes requests once ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_model_serves_when_every_replica_is_down_under_the_name_asked_for() {
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/v1", listener.local_addr().expect("addr"))
    };
    let small = StandIn::start_with(Config { model: "Qwen/Qwen3-4B".into(), ..Config::default() }).await;
    let mut coder = model("coder", &[dead]);
    coder.fallbacks = vec!["small".into()];
    let proxy = Proxy::start(config(vec![coder, model("small", &[small.base_url()])], router())).await;
    let mut body = conversation("x", 1, false);
    body["model"] = json!("coder");
    for _ in 0..3 {
        let (status, headers, answer) = proxy.chat(&body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["model"], "coder", "the client's name is kept");
        assert_eq!(headers.get("x-podctl-model").and_then(|v| v.to_str().ok()), Some("small"));
    }
    assert_eq!(small.last_chat_request().expect("served")["model"], "Qwen/Qwen3-4B");
    let metrics = proxy.metrics().await;
    assert_eq!(
        metrics.get("podctl_fallbacks_total{from=\"coder\",to=\"small\"}"),
        Some(&3.0),
        "{metrics:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_happen_before_the_first_byte_and_never_after() {
    let (a, b) = (StandIn::start().await, StandIn::start().await);
    let mut router = router();
    router.allowed_fails = 5;
    let proxy =
        Proxy::start(config(vec![model(harness::ALIAS, &[a.base_url(), b.base_url()])], router)).await;
    let topic = "sticky";
    assert_eq!(proxy.chat(&conversation(topic, 1, false)).await.0, 200);
    let (home, other) = if chats(&a) == 1 { (&a, &b) } else { (&b, &a) };
    // A 503 from the conversation's replica: tried again on the other, the client sees 200.
    home.push_reply(Reply::error(503, "Service Unavailable"));
    let (status, _, answer) = proxy.chat(&conversation(topic, 2, false)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(chats(other), 1, "the retry went to the other replica");
    let metrics = proxy.metrics().await;
    assert!(
        metrics.iter().any(|(k, v)| k.starts_with("podctl_retries_total")
            && k.contains("status_503")
            && (*v - 1.0).abs() < 1e-9),
        "{metrics:#?}"
    );
    // Once bytes flowed, a broken stream is not retried: the client gets an error event.
    home.push_reply(Reply::drop_mid_stream("partial answer that breaks", 3));
    let (status, events) = proxy.stream(&conversation(topic, 3, true)).await;
    assert_eq!(status, 200);
    assert!(stream_failed(&events), "{events:?}");
    assert_eq!(chats(other), 1, "no retry after the first byte");
    // 429 and 502/504 are retried like 503; a 400 (the client's fault) is not.
    home.push_reply(Reply::error(400, "bad request"));
    assert_eq!(proxy.chat(&conversation(topic, 4, false)).await.0, 400);
    assert_eq!(chats(other), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_scripted_sequence() {
    let standin = StandIn::start().await;
    let mut config = config(vec![model(harness::ALIAS, &[standin.base_url()])], router());
    config.keys = vec!["sk-metrics".into()];
    let proxy = Proxy::start(config).await;
    let replica = format!("127.0.0.1:{}", standin.addr.port());
    // Two plain answers, one tool call, one stream, one unknown model.
    for _ in 0..2 {
        assert_eq!(proxy.chat(&harness::continue_request(false)).await.0, 200);
    }
    standin.push_reply(Reply::text(harness::READ_CALL));
    let (_, _, answer) = proxy.chat(&harness::continue_request(false)).await;
    assert_eq!(answer["choices"][0]["finish_reason"], "tool_calls");
    let (status, events) = proxy.stream(&harness::continue_request(true)).await;
    assert_eq!((status, events.last()), (200, Some(&json!("[DONE]"))));
    let mut unknown = harness::continue_request(false);
    unknown["model"] = json!("no-such-model");
    assert_eq!(proxy.chat(&unknown).await.0, 404);

    let refused = proxy.client.get(format!("{}/metrics", proxy.url)).send().await.expect("answer");
    assert_eq!(refused.status().as_u16(), 401, "metrics are behind the key by default");
    let m = proxy.metrics().await;
    let series = |name: &str, labels: &str| m.get(&format!("{name}{{{labels}}}")).copied();
    let chat = |status: u16, stream: bool| {
        series(
            "podctl_requests_total",
            &format!(
                "endpoint=\"chat\",model=\"{}\",replica=\"{replica}\",status=\"{status}\",stream=\"{stream}\"",
                harness::ALIAS
            ),
        )
    };
    assert_eq!(chat(200, false), Some(3.0), "{m:#?}");
    assert_eq!(chat(200, true), Some(1.0));
    assert_eq!(
        series(
            "podctl_requests_total",
            "endpoint=\"chat\",model=\"unknown\",replica=\"none\",status=\"404\",stream=\"false\""
        ),
        Some(1.0),
        "an unknown model is counted without its name (bounded labels)"
    );
    let model = format!("model=\"{}\"", harness::ALIAS);
    assert_eq!(series("podctl_tool_calls_total", &model), Some(1.0));
    assert_eq!(series("podctl_parse_outcomes_total", &format!("{model},outcome=\"call\"")), Some(1.0));
    assert_eq!(series("podctl_parse_outcomes_total", &format!("{model},outcome=\"as_text\"")), Some(0.0));
    assert_eq!(series("podctl_added_seconds_count", &model), Some(4.0));
    assert_eq!(series("podctl_upstream_seconds_count", &model), Some(4.0));
    assert_eq!(series("podctl_time_to_first_token_seconds_count", &model), Some(1.0));
    assert_eq!(m.get("podctl_in_flight_requests"), Some(&0.0));
    assert_eq!(series("podctl_replica_up", &format!("{model},replica=\"{replica}\"")), Some(1.0));
    assert_eq!(series("podctl_replica_in_flight", &format!("{model},replica=\"{replica}\"")), Some(0.0));
    assert!(!m.keys().any(|k| k.starts_with("podctl_retries_total")), "nothing was retried");
}

/// Reads stderr lines until one contains `needle` (within 10 s).
async fn wait_for_line(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>,
    needle: &str,
) -> String {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains(needle) {
                return line;
            }
        }
        String::new()
    })
    .await
    .unwrap_or_default();
    assert!(found.contains(needle), "no log line with `{needle}`");
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_models_and_keys_without_dropping_streams() {
    use tokio::io::AsyncBufReadExt as _;
    let slow = Config {
        default_reply: Reply::chunked("abcd".repeat(25), vec![4]).delay(Duration::from_millis(40)),
        split_sse_lines: false,
        ..Config::default()
    };
    let (a, b) = (StandIn::start_with(slow).await, StandIn::start().await);
    let dir = std::env::temp_dir().join(format!("podctl-sighup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("proxy.toml");
    let write = |keys: &str, upstream: &str, extra: &str| {
        let text = format!(
            "api_keys = [\"{keys}\"]\n[models.{}]\nupstream = \"{upstream}\"\n{extra}",
            harness::ALIAS
        );
        std::fs::write(&file, text).expect("config written");
    };
    write("sk-old", &a.base_url(), "");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_podctl"))
        .args(["proxy", "--port", &port.to_string(), "--config"])
        .arg(&file)
        .env("PODCTL_STATE_DIR", dir.join("state"))
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    wait_for_line(&mut lines, "listening on").await;
    let proxy = std::sync::Arc::new(Proxy {
        url: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        shutdown: CancellationToken::new(),
        key: Some("sk-old".into()),
    });
    let streams: Vec<_> = (0..6)
        .map(|c| {
            let proxy = std::sync::Arc::clone(&proxy);
            tokio::spawn(async move { proxy.stream(&conversation(&format!("s{c}"), 1, true)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    write("sk-new", &b.base_url(), "aliases = [\"coder\"]\n");
    let pid = child.id().expect("pid").to_string();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill").success());
    wait_for_line(&mut lines, "reloaded").await;
    for stream in streams {
        let (status, events) = stream.await.expect("joined");
        assert_eq!((status, events.last()), (200, Some(&json!("[DONE]"))), "streams in flight finish");
    }
    assert_eq!(chats(&a), 6);
    assert_eq!(proxy.chat(&conversation("old key", 1, false)).await.0, 401, "the old key is gone");
    let new = Proxy::with_key(&proxy, "sk-new");
    let mut body = conversation("new key", 1, false);
    body["model"] = json!("coder");
    assert_eq!(new.chat(&body).await.0, 200);
    assert_eq!(chats(&b), 1, "the reloaded model's replica served it");

    // `podctl status` shows the proxy and its replica.
    let mut shown = Value::Null;
    for _ in 0..30 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_podctl"))
            .args(["status", "--json"])
            .env("PODCTL_STATE_DIR", dir.join("state"))
            .output()
            .expect("status runs");
        shown = serde_json::from_slice(&out.stdout).expect("JSON");
        if shown["proxies"][0]["models"][0]["replicas"][0]["url"] == json!(b.base_url()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let replica = &shown["proxies"][0]["models"][0]["replicas"][0];
    assert_eq!(replica["url"], json!(b.base_url()), "{shown:#}");
    assert!(replica["in_flight"].is_number() && replica["cooldown_secs"].is_number(), "{replica}");

    // A broken file changes nothing.
    std::fs::write(&file, "api_keys = [\n").expect("broken config");
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill").success());
    wait_for_line(&mut lines, "reload failed").await;
    assert_eq!(new.chat(&body).await.0, 200);
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    assert_eq!(child.wait().await.expect("exits").code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

impl Proxy {
    /// Another handle on the same proxy with another key (dropping it stops nothing).
    fn with_key(other: &Self, key: &str) -> Self {
        Self {
            url: other.url.clone(),
            client: other.client.clone(),
            shutdown: CancellationToken::new(),
            key: Some(key.to_owned()),
        }
    }
}
