//! `podctl serve` with the test-double vllm: models start on their first request, swap on a
//! shared GPU without failing a request (a stream in flight included), run side by side when
//! they fit, start once for many waiting requests, unload when idle, restart after a crash,
//! answer a failed start with its diagnosis, and `podctl stop` leaves nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Sandbox, http, port_free, run_processes, text};

const LONG: Duration = Duration::from_secs(90);

/// A sandbox with profiles `tiny` and `other` (both asking for the same vLLM port).
fn two(name: &str, tiny: (&str, &[(&str, &str)]), other: (&str, &[(&str, &str)])) -> Sandbox {
    let sb = Sandbox::new(name, "", &[]);
    write_profile(&sb, "tiny", tiny.0, tiny.1);
    write_profile(&sb, "other", other.0, other.1);
    sb
}

fn write_profile(sb: &Sandbox, name: &str, extra: &str, env: &[(&str, &str)]) {
    let fake = sb.dir.join(format!("fake-{name}"));
    std::fs::create_dir_all(&fake).expect("fake dir");
    let mut table = format!(
        "FAKE_VLLM_STATE_DIR = \"{}\"\nHF_HOME = \"{}\"\n",
        fake.display(),
        sb.dir.join("hf").display()
    );
    if !env.iter().any(|(k, _)| *k == "FAKE_VLLM_STARTUP_MS") {
        table.push_str("FAKE_VLLM_STARTUP_MS = \"150\"\n");
    }
    for (k, v) in env {
        table.push_str(&format!("{k} = \"{v}\"\n"));
    }
    let text = format!(
        "description = \"test double\"\nmodel = \"test/{name}-model\"\nserved_model_name = \"{name}\"\n\
         tool_format = \"qwen3_coder\"\nport = {}\nshutdown_timeout = 1\nstartup_timeout = 60\n{extra}\n\
         [env]\n{table}\n[proxy]\nhost = \"127.0.0.1\"\nport = {}\n",
        sb.vllm_port, sb.proxy_port
    );
    std::fs::write(sb.dir.join("models").join(format!("{name}.toml")), text).expect("profile");
}

fn serve(sb: &Sandbox, args: &[&str]) {
    let mut all = vec!["serve", "tiny", "other"];
    all.extend_from_slice(args);
    let out = sb.run(&all);
    assert!(out.status.success(), "{}", text(&out));
}

fn chat(model: &str, stream: bool) -> String {
    format!(r#"{{"model":"{model}","stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#)
}

/// Each model's state in `/v1/models`.
fn states(sb: &Sandbox) -> Vec<(String, String)> {
    let (status, body) = http(sb.proxy_port, "GET", "/v1/models", None).expect("proxy answers");
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).expect("json");
    let mut out: Vec<(String, String)> = json["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| (m["id"].as_str().unwrap_or("").to_owned(), m["state"].as_str().unwrap_or("").to_owned()))
        .collect();
    out.sort();
    out
}

fn instance(sb: &Sandbox, profile: &str) -> Value {
    let (_, json) = sb.status();
    json["instances"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["profile"] == profile).cloned())
        .unwrap_or(Value::Null)
}

fn wait_for(sb: &Sandbox, what: &str, mut done: impl FnMut(&Sandbox) -> bool) {
    let start = Instant::now();
    while !done(sb) {
        assert!(start.elapsed() < LONG, "timed out waiting for {what}; status: {:#}", sb.status().1);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The run ids of every supervised start so far, from the models' logs.
fn starts(sb: &Sandbox, profile: &str) -> usize {
    let log =
        std::fs::read_to_string(sb.dir.join("state").join(profile).join("vllm.log")).unwrap_or_default();
    log.lines().filter(|l| l.contains("start 1: pid")).count()
}

fn live_runs(sb: &Sandbox, profiles: &[&str]) -> Vec<podctl::procs::Process> {
    let mut all = Vec::new();
    for p in profiles {
        let log = std::fs::read_to_string(sb.dir.join("state").join(p).join("vllm.log")).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains("start 1: pid")) {
            if let Some(run) = line.split("run ").nth(1) {
                all.extend(run_processes(run.trim()));
            }
        }
    }
    all
}

fn stop_leaves_nothing(sb: &Sandbox) {
    let out = sb.run(&["stop"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        live_runs(sb, &["tiny", "other"]).is_empty(),
        "processes left: {:?}",
        live_runs(sb, &["tiny", "other"])
    );
    assert!(port_free(sb.proxy_port), "the proxy port is still held");
    let (_, json) = sb.status();
    for inst in json["instances"].as_array().into_iter().flatten() {
        assert_ne!(inst["state"], "ready", "{inst:#}");
    }
}

/// A POST of `body` to `path`, sent (HTTP/1.0: the server closes when the answer is done),
/// with `key` as the bearer token when given; the connection to read the answer from.
fn post(port: u16, path: &str, body: &str, key: Option<&str>) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(LONG)).expect("timeout");
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.0\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).expect("send");
    s
}

/// A streaming request, read on its own thread: returns once its first bytes came.
fn stream_in_flight(port: u16, model: &str) -> std::thread::JoinHandle<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let body = chat(model, true);
    let handle = std::thread::spawn(move || {
        let mut s = post(port, "/v1/chat/completions", &body, None);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let mut told = false;
        loop {
            let n = s.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if !told && String::from_utf8_lossy(&got).contains("data:") {
                told = true;
                let _ = tx.send(());
            }
        }
        if !told {
            let _ = tx.send(());
        }
        String::from_utf8_lossy(&got).into_owned()
    });
    rx.recv_timeout(LONG).expect("the stream began");
    handle
}

#[test]
fn first_request_starts_its_model_and_a_second_swaps_without_failing_a_stream() {
    let slow = [
        ("FAKE_VLLM_REPLY", "one two three four five six seven eight nine ten"),
        ("FAKE_VLLM_REPLY_DELAY_MS", "100"),
    ];
    let sb =
        two("serve-swap", ("gpu_memory_utilization = 0.8", &slow), ("gpu_memory_utilization = 0.8", &[]));
    serve(&sb, &[]);
    // Nothing starts before a request.
    assert_eq!(states(&sb), [("other".into(), "stopped".into()), ("tiny".into(), "stopped".into())]);
    assert_eq!(starts(&sb, "tiny") + starts(&sb, "other"), 0);

    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("tiny", false))).expect("answer");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("one two"), "{body}");
    assert_eq!(states(&sb), [("other".into(), "stopped".into()), ("tiny".into(), "ready".into())]);
    assert_eq!(instance(&sb, "tiny")["state"], "ready");

    // A stream on tiny is in flight when other is asked for: it finishes, then tiny stops.
    let stream = stream_in_flight(sb.proxy_port, "tiny");
    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("other", false))).expect("answer");
    assert_eq!(status, 200, "{body}");
    let streamed = stream.join().expect("stream thread");
    assert!(streamed.starts_with("HTTP/1.1 200") || streamed.starts_with("HTTP/1.0 200"), "{streamed}");
    assert!(streamed.contains("ten") && streamed.contains("[DONE]"), "the stream was cut: {streamed}");
    assert!(!streamed.contains("\"error\""), "{streamed}");
    assert_eq!(states(&sb), [("other".into(), "ready".into()), ("tiny".into(), "stopped".into())]);
    let (status, metrics) = http(sb.proxy_port, "GET", "/metrics", None).expect("metrics");
    assert_eq!(status, 200, "{metrics}");
    for line in [
        "podctl_serve_swaps_total{model=\"other\"} 1",
        "podctl_serve_swaps_total{model=\"tiny\"} 0",
        "podctl_serve_loads_total{model=\"tiny\",outcome=\"ready\"} 1",
        "podctl_serve_load_seconds_count{model=\"other\"} 1",
        "podctl_serve_load_wait_seconds_count{model=\"tiny\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "`{line}` in\n{metrics}");
    }
    // The two asked for one port: other got its own.
    let (t, o) = (instance(&sb, "tiny"), instance(&sb, "other"));
    assert_ne!(t["vllm"]["port"], o["vllm"]["port"], "{t:#} {o:#}");
    stop_leaves_nothing(&sb);
}

#[test]
fn models_that_fit_run_side_by_side() {
    let sb = two(
        "serve-fit",
        ("gpu_memory_utilization = 0.9", &[("CUDA_VISIBLE_DEVICES", "0")]),
        ("gpu_memory_utilization = 0.9", &[("CUDA_VISIBLE_DEVICES", "1")]),
    );
    serve(&sb, &["--preload", "tiny"]);
    wait_for(&sb, "tiny preloaded", |sb| instance(sb, "tiny")["state"] == "ready");
    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("other", false))).expect("answer");
    assert_eq!(status, 200, "{body}");
    assert_eq!(states(&sb), [("other".into(), "ready".into()), ("tiny".into(), "ready".into())]);
    stop_leaves_nothing(&sb);
}

#[test]
fn concurrent_requests_for_a_loading_model_start_it_once() {
    let sb = two("serve-once", ("", &[("FAKE_VLLM_STARTUP_MS", "1500")]), ("", &[]));
    serve(&sb, &[]);
    let port = sb.proxy_port;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || http(port, "POST", "/v1/chat/completions", Some(&chat("tiny", false))))
        })
        .collect();
    for t in threads {
        let (status, body) = t.join().expect("thread").expect("answer");
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(starts(&sb, "tiny"), 1, "one start for all four");
    stop_leaves_nothing(&sb);
}

#[test]
fn an_idle_model_is_unloaded() {
    let sb = two("serve-idle", ("", &[]), ("", &[]));
    serve(&sb, &["--idle-unload", "1"]);
    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("tiny", false))).expect("answer");
    assert_eq!(status, 200, "{body}");
    wait_for(&sb, "tiny unloaded", |sb| states(sb).contains(&("tiny".into(), "stopped".into())));
    assert!(live_runs(&sb, &["tiny"]).is_empty());
    // And it comes back on the next request.
    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("tiny", false))).expect("answer");
    assert_eq!(status, 200, "{body}");
    stop_leaves_nothing(&sb);
}

#[test]
fn a_model_that_crashes_while_swapped_in_is_restarted() {
    let sb = two(
        "serve-crash",
        ("", &[("FAKE_VLLM_CRASH_AFTER_MS", "300"), ("FAKE_VLLM_CRASH_TIMES", "1")]),
        ("", &[]),
    );
    serve(&sb, &[]);
    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("tiny", false))).expect("answer");
    assert_eq!(status, 200, "{body}");
    wait_for(&sb, "tiny restarted and ready", |sb| {
        let i = instance(sb, "tiny");
        i["restarts"] == 1 && i["state"] == "ready"
    });
    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("tiny", false))).expect("answer");
    assert_eq!(status, 200, "{body}");
    stop_leaves_nothing(&sb);
}

#[test]
fn a_failed_start_answers_with_the_diagnosis_and_is_not_retried() {
    let sb = two("serve-fail", ("", &[("FAKE_VLLM_FAIL", "missing_model")]), ("", &[]));
    serve(&sb, &[]);
    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("tiny", false))).expect("answer");
    assert_eq!(status, 503, "{body}");
    let summary = instance(&sb, "tiny")["failure"]["summary"].as_str().expect("a diagnosis").to_owned();
    assert!(body.contains(&summary), "the status words `{summary}` in {body}");
    assert_eq!(states(&sb), [("other".into(), "stopped".into()), ("tiny".into(), "failed".into())]);
    let (status, again) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("tiny", false))).expect("answer");
    assert_eq!(status, 503, "{again}");
    assert_eq!(starts(&sb, "tiny"), 1, "not started again");
    // The other model is unaffected.
    let (status, body) =
        http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat("other", false))).expect("answer");
    assert_eq!(status, 200, "{body}");
    stop_leaves_nothing(&sb);
}

#[test]
fn load_and_unload_change_a_models_state_with_the_documented_exit_codes() {
    let sb = two("serve-load", ("", &[]), ("", &[("FAKE_VLLM_FAIL", "missing_model")]));
    let out = sb.run(&["load", "tiny"]);
    assert_eq!(out.status.code(), Some(3), "no serve running: {}", text(&out));
    serve(&sb, &[]);
    let out = sb.run(&["load", "tiny"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(states(&sb), [("other".into(), "stopped".into()), ("tiny".into(), "ready".into())]);
    let out = sb.run(&["load", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = sb.run(&["load", "other"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let summary = instance(&sb, "other")["failure"]["summary"].as_str().expect("a diagnosis").to_owned();
    assert!(text(&out).contains(&summary), "`{summary}` in {}", text(&out));
    // `load` tries a failed model again (a request does not).
    let out = sb.run(&["load", "other"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(starts(&sb, "other"), 2, "load started it again");
    let out = sb.run(&["unload", "tiny"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(states(&sb), [("other".into(), "failed".into()), ("tiny".into(), "stopped".into())]);
    assert!(live_runs(&sb, &["tiny"]).is_empty(), "tiny still runs");
    stop_leaves_nothing(&sb);
}

#[test]
fn idle_unload_secs_in_a_profile_unloads_only_that_model() {
    let sb = two(
        "serve-idle-profile",
        ("gpu_memory_utilization = 0.4\nidle_unload_secs = 1", &[]),
        ("gpu_memory_utilization = 0.4", &[]),
    );
    serve(&sb, &[]);
    for model in ["tiny", "other"] {
        let (status, body) =
            http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat(model, false))).expect("answer");
        assert_eq!(status, 200, "{body}");
    }
    wait_for(&sb, "tiny unloaded", |sb| states(sb).contains(&("tiny".into(), "stopped".into())));
    assert!(states(&sb).contains(&("other".into(), "ready".into())), "{:?}", states(&sb));
    stop_leaves_nothing(&sb);
}

#[test]
fn sleep_mode_models_sleep_instead_of_stopping_and_wake_on_their_next_request() {
    let sb = two("serve-sleep", ("sleep = true", &[("FAKE_VLLM_WAKE_MS", "100")]), ("sleep = true", &[]));
    serve(&sb, &[]);
    let ask = |model: &str| {
        let (status, body) =
            http(sb.proxy_port, "POST", "/v1/chat/completions", Some(&chat(model, false))).expect("answer");
        assert_eq!(status, 200, "{model}: {body}");
    };
    ask("tiny");
    let pid = instance(&sb, "tiny")["pid"].clone();
    assert!(pid.is_number(), "{pid}");
    ask("other");
    assert_eq!(states(&sb), [("other".into(), "ready".into()), ("tiny".into(), "sleeping".into())]);
    // Asleep, not stopped: the same process, and vLLM says it sleeps.
    assert_eq!(instance(&sb, "tiny")["pid"], pid);
    let port = u16::try_from(instance(&sb, "tiny")["vllm"]["port"].as_u64().expect("port")).expect("port");
    let (_, asleep) = http(port, "GET", "/is_sleeping", None).expect("answer");
    assert!(asleep.contains("\"is_sleeping\":true"), "{asleep}");
    ask("tiny");
    assert_eq!(states(&sb), [("other".into(), "sleeping".into()), ("tiny".into(), "ready".into())]);
    // `podctl status` says so too (from the proxy's status file, rewritten each second).
    wait_for(&sb, "status to show `other` asleep", |sb| instance(sb, "other")["state"] == "sleeping");
    assert_eq!(instance(&sb, "tiny")["state"], "ready");
    let out = sb.run(&["status"]);
    assert!(out.status.success(), "a sleeping model is as good as ready: {}", text(&out));
    assert!(text(&out).contains("sleeping"), "{}", text(&out));
    assert_eq!(instance(&sb, "tiny")["pid"], pid, "woken, not restarted");
    assert_eq!(starts(&sb, "tiny"), 1);
    let (_, metrics) = http(sb.proxy_port, "GET", "/metrics", None).expect("metrics");
    assert!(metrics.lines().any(|l| l == "podctl_serve_wake_seconds_count{model=\"tiny\"} 1"), "{metrics}");
    stop_leaves_nothing(&sb);
}

/// A streaming request read to its end: each read's arrival (from the send) and bytes.
fn stream_timed(port: u16, path: &str, body: &str) -> Vec<(Duration, String)> {
    let sent = Instant::now();
    let mut s = post(port, path, body, None);
    let mut reads = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        reads.push((sent.elapsed(), String::from_utf8_lossy(&buf[..n]).into_owned()));
    }
    reads
}

#[test]
fn a_stream_for_a_loading_model_begins_at_once_with_keepalives_and_a_failed_load_ends_it_with_the_diagnosis()
{
    let sb = two(
        "serve-keepalive",
        ("", &[("FAKE_VLLM_STARTUP_MS", "2500")]),
        ("", &[("FAKE_VLLM_FAIL", "missing_model")]),
    );
    // The proxy settings come from the first profile: keep-alives every second.
    let first = sb.dir.join("models").join("tiny.toml");
    let mut profile = std::fs::read_to_string(&first).expect("profile");
    profile.push_str("keepalive_secs = 1\nloading_reasoning = true\n");
    std::fs::write(&first, profile).expect("profile");
    serve(&sb, &[]);

    let reads = stream_timed(sb.proxy_port, "/v1/chat/completions", &chat("tiny", true));
    let all: String = reads.iter().map(|(_, r)| r.as_str()).collect();
    assert!(all.starts_with("HTTP/1.1 200") || all.starts_with("HTTP/1.0 200"), "{all}");
    assert!(all.contains("text/event-stream"), "{all}");
    let (first_at, first_bytes) = &reads[0];
    assert!(
        *first_at < Duration::from_millis(1500),
        "the stream began after {first_at:?}, while the model needs 2.5 s to load"
    );
    assert!(all.contains(": keep-alive"), "{first_bytes}");
    let keepalives = all.matches(": keep-alive").count();
    assert!(keepalives >= 2, "keep-alives while loading: {keepalives}\n{all}");
    assert!(all.contains("data: [DONE]"), "the answer came once loaded: {all}");
    assert!(reads.last().expect("reads").0 > Duration::from_secs(2), "answered only once loaded");
    // `loading_reasoning`: the wait is told in the reasoning, then the answer goes on in the
    // same choice (one role chunk).
    let told = all.find("\"reasoning_content\":\"Loading model `tiny`: ").unwrap_or_else(|| panic!("{all}"));
    let answered = all.find("{\"content\":\"").unwrap_or_else(|| panic!("no answer text: {all}"));
    assert!(told < answered, "the loading line comes before the answer: {all}");
    assert_eq!(all.matches("\"role\":\"assistant\"").count(), 1, "{all}");

    // The same in Messages: one message, its thinking says the model loads.
    let unload = sb.run(&["unload", "tiny"]);
    assert!(unload.status.success(), "{}", text(&unload));
    let messages =
        r#"{"model":"tiny","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let reads = stream_timed(sb.proxy_port, "/v1/messages", messages);
    let all: String = reads.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(all.matches("event: message_start").count(), 1, "{all}");
    assert!(all.contains("\"thinking\":\"Loading model `tiny`: "), "{all}");
    assert!(all.contains("event: message_stop"), "{all}");

    // A model whose start fails: the stream ends with the error event and the diagnosis.
    let reads = stream_timed(sb.proxy_port, "/v1/chat/completions", &chat("other", true));
    let all: String = reads.iter().map(|(_, r)| r.as_str()).collect();
    let summary = instance(&sb, "other")["failure"]["summary"].as_str().expect("a diagnosis").to_owned();
    let error = all.lines().find(|l| l.starts_with("data: {\"error\"")).unwrap_or_else(|| panic!("{all}"));
    assert!(error.contains(&summary), "the status words `{summary}` in {error}");
    assert!(!all.contains("[DONE]"), "a failed stream never looks complete: {all}");
    stop_leaves_nothing(&sb);
}

#[test]
fn setup_autostart_writes_a_start_script_that_serves_again_after_a_restart() {
    let sb = two("serve-autostart", ("", &[]), ("", &[]));
    let bad = sb.run(&["setup", "--autostart", "stop"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("cannot start a pod"), "{}", text(&bad));
    let unknown = sb.run(&["setup", "--autostart", "serve tiny nosuch"]);
    assert_ne!(unknown.status.code(), Some(0), "an unknown profile is refused: {}", text(&unknown));
    let script = sb.dir.join("home").join("autostart.sh");
    assert!(!script.exists(), "nothing written for a bad command");

    let out = sb.run(&["setup", "--autostart", "serve tiny other"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("bash -c '"), "the start command to set: {}", text(&out));
    let again = sb.run(&["setup", "--autostart", "serve tiny other"]);
    assert!(text(&again).contains("autostart: kept"), "idempotent: {}", text(&again));

    // The pod starts: the script returns at once and podctl serves in the background.
    let started = Instant::now();
    let run = std::process::Command::new("bash")
        .arg(&script)
        .current_dir("/")
        .env_remove("PODCTL_HOME")
        .env_remove("PODCTL_STATE_DIR")
        .env_remove("PODCTL_VLLM_BIN")
        .output()
        .expect("bash");
    assert!(run.status.success(), "{}", text(&run));
    assert!(started.elapsed() < Duration::from_secs(5), "the script returns at once");
    wait_for(&sb, "the proxy to listen", |sb| http(sb.proxy_port, "GET", "/health", None).is_some());
    // Setup wrote a key, so the proxy asks for it.
    let config =
        podctl::proxy::config::FileConfig::load(&sb.dir.join("home").join("config.toml")).expect("config");
    let key = config.api_keys.first().expect("a key").clone();
    let mut s = post(sb.proxy_port, "/v1/chat/completions", &chat("tiny", false), Some(&key));
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"), "{answer}");
    let log = std::fs::read_to_string(sb.dir.join("state").join("autostart.log")).expect("log");
    assert!(log.contains("autostart: podctl serve tiny other"), "{log}");

    let out = sb.run(&["doctor", "tiny", "--json"]);
    let doctor: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let check = doctor.as_array().and_then(|c| c.iter().find(|c| c["id"] == "autostart")).cloned();
    let check = check.expect("an autostart check");
    assert_eq!(check["status"], "pass", "{check:#}");
    assert!(check["summary"].as_str().is_some_and(|s| s.contains("podctl serve tiny other")), "{check:#}");

    let off = sb.run(&["setup", "--autostart", "off"]);
    assert!(off.status.success() && !script.exists(), "{}", text(&off));
    stop_leaves_nothing(&sb);
}
