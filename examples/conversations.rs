//! A load generator for the replicas benchmark: holds `--concurrency` streaming chat
//! conversations in flight against `--url` for `--seconds`, the way an editor agent talks to
//! the proxy, then prints one JSON object with the outcome of every request.
//!
//! ```text
//! cargo run --release --example conversations -- --url http://127.0.0.1:4000/v1/chat/completions \
//!     [--model qwen3-coder-30b] [--concurrency 1000] [--seconds 60] [--turns 4] [--key KEY] \
//!     [--ramp-secs 2] [--timeout-secs 60] [--threads 1] \
//!     [--kill-pid PID --kill-after SECS [--metrics-url http://127.0.0.1:4000/metrics]]
//! ```
//!
//! Each worker runs conversations one after another. Turn k of a conversation sends a
//! Continue-like 2 kB system prompt, the conversation's own first user message and the history
//! so far (the assistant's streamed answers as text, the user's follow-ups), with `stream:
//! true` and `stream_options.include_usage`. The mix varies by conversation number: a third
//! carry Continue's 9 tools and start from a `read_file` call and its result, a quarter paste
//! a file into the first message and run twice as many turns, and `max_tokens` and
//! `temperature` vary. No new turn starts after `--seconds`; the requests in flight then finish.
//!
//! Every request ends as one of:
//! * `ok`: the body ended with `data: [DONE]`;
//! * `failed_clean`: a `data: {"error":…}` event and no `[DONE]` (the proxy's clean failure of
//!   a stream it could not finish);
//! * `lost`: anything else: an HTTP error status, a connection error, a body cut off without
//!   `[DONE]` or an error event, an event that is not JSON, or no end within `--timeout-secs`.
//!
//! A conversation stops at its first request that is not `ok` (the user would see an error).
//!
//! With `--kill-pid`, the process gets SIGKILL `--kill-after` seconds after the start (a
//! replica dying). Just before, `--metrics-url` is scraped for `podctl_replica_in_flight` (the
//! streams each replica carries then). The report then splits the requests by whether they
//! were in flight at the kill, started after it, or ended before it: only requests in flight
//! at the kill (on the dead replica) should fail.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a benchmark tool prints its results")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

struct Args {
    url: String,
    model: String,
    concurrency: usize,
    seconds: f64,
    turns: usize,
    ramp: f64,
    timeout: Duration,
    threads: usize,
    key: Option<String>,
    kill_pid: Option<i32>,
    kill_after: f64,
    metrics_url: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    fn num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        v.parse().map_err(|e| format!("{flag}: {e}"))
    }
    let mut a = Args {
        url: "http://127.0.0.1:4000/v1/chat/completions".to_owned(),
        model: "qwen3-coder-30b".to_owned(),
        concurrency: 1000,
        seconds: 60.0,
        turns: 4,
        ramp: 2.0,
        timeout: Duration::from_mins(1),
        threads: 1,
        key: None,
        kill_pid: None,
        kill_after: 0.0,
        metrics_url: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => a.url = value()?,
            "--model" => a.model = value()?,
            "--concurrency" => a.concurrency = num(&arg, &value()?)?,
            "--seconds" => a.seconds = num(&arg, &value()?)?,
            "--turns" => a.turns = num(&arg, &value()?)?,
            "--ramp-secs" => a.ramp = num(&arg, &value()?)?,
            "--timeout-secs" => a.timeout = Duration::from_secs_f64(num(&arg, &value()?)?),
            "--threads" => a.threads = num(&arg, &value()?)?,
            "--key" => a.key = Some(value()?),
            "--kill-pid" => a.kill_pid = Some(num(&arg, &value()?)?),
            "--kill-after" => a.kill_after = num(&arg, &value()?)?,
            "--metrics-url" => a.metrics_url = Some(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.concurrency == 0 || a.turns == 0 || a.threads == 0 {
        return Err("--concurrency, --turns and --threads must be at least 1".to_owned());
    }
    if !(a.seconds.is_finite() && a.seconds > 0.0 && a.ramp >= 0.0 && a.kill_after >= 0.0) {
        return Err("--seconds must be positive, --ramp-secs and --kill-after not negative".to_owned());
    }
    Ok(a)
}

/// A Continue-like agent-mode system prompt, about 2 kB.
const SYSTEM: &str = "<important_rules>
  You are in agent mode.

  Always include the language and file name in the info string when you write code blocks.
  If you are editing \"src/main.rs\" for example, your code block should start with '```rust src/main.rs'.

  When addressing code modification requests, present a concise code snippet that emphasizes
  only the necessary changes and uses abbreviated placeholders for unmodified sections, such as
  '// ... existing code ...'. In existing files, always restate the function or struct that the
  snippet belongs to, so that the change can be applied in the right place.

  Users have their complete files open, so they prefer reading only the relevant changes. Do
  not repeat unchanged code. Explain what changed and why in one or two sentences after the
  code block, never before it.

  Use the tools you are given to read files, search the workspace and run commands instead of
  guessing. Read a file before you edit it. Prefer small, reviewable edits. When a command
  fails, read its output and fix the cause instead of retrying the same command.

  Never invent file paths, APIs or command-line flags. If something is ambiguous, ask one
  short question instead of assuming.
</important_rules>

<workspace>
  The workspace is a Rust project built with cargo (edition 2024). Source lives in src/,
  integration tests in tests/, examples in examples/ and benchmarks in benches/. The project
  forbids unsafe code and runs clippy with the pedantic group; keep new code warning-free.
  Tests run with `cargo test`; formatting follows rustfmt with a line width of 110.
</workspace>

<style>
  Answer in plain, direct English. Use Markdown headings only for long answers. Keep lists
  short. Quote identifiers with backticks.
</style>";

/// A file as an editor pastes it (`@file`) or `read_file` returns it, about 1.3 kB.
const FILE: &str = "use std::collections::HashMap;

/// Counts the words of `text`, case-insensitively, skipping punctuation.
pub fn word_counts(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

/// The `n` most frequent words, most frequent first; ties in alphabetical order.
pub fn top_words(text: &str, n: usize) -> Vec<(String, usize)> {
    let mut words: Vec<(String, usize)> = word_counts(text).into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for i in 0..=words.len() {
        if i == n {
            words.truncate(i);
            break;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words() {
        let counts = word_counts(\"a b, A! c\");
        assert_eq!(counts[\"a\"], 2);
        assert_eq!(counts[\"b\"], 1);
    }

    #[test]
    fn top_two() {
        assert_eq!(top_words(\"x y y z z z\", 2), vec![(\"z\".into(), 3), (\"y\".into(), 2)]);
    }
}
";

const FOLLOW_UPS: [&str; 7] = [
    "Can you show that change as a diff against the current file?",
    "Now add a unit test that covers the empty input.",
    "What happens when the input is very large? Is there a quadratic step?",
    "Rename the function to something clearer and update the callers.",
    "Is there an off-by-one in that loop? Walk me through the indices.",
    "Make the error message more helpful for the user.",
    "Thanks. Summarise the change in one line for the commit message.",
];

/// Continue's agent tools (the same 9 as `benches/continue_request.py`), as one JSON array.
fn continue_tools() -> Box<RawValue> {
    let tools: Vec<Value> = [
        ("read_file", "Use this tool if you need to view the contents of an existing file.", &[("filepath", "string")][..]),
        (
            "create_new_file",
            "Create a new file. Only use this when a file doesn't exist and should be created.",
            &[("filepath", "string"), ("contents", "string")],
        ),
        (
            "run_terminal_command",
            "Run a terminal command in the current directory. The shell is not stateful.",
            &[("command", "string"), ("waitForCompletion", "boolean")],
        ),
        ("file_glob_search", "Search for files recursively in the project using glob patterns.", &[("pattern", "string")]),
        ("view_diff", "View the current diff of working changes.", &[]),
        ("read_currently_open_file", "Read the currently open file in the IDE.", &[]),
        ("ls", "List files and folders in a given directory.", &[("dirPath", "string"), ("recursive", "boolean")]),
        ("grep_search", "Perform a search over the repository using ripgrep.", &[("query", "string")]),
        (
            "edit_existing_file",
            "Use this tool to edit an existing file. If you don't know the contents of the file, read it first.",
            &[("filepath", "string"), ("changes", "string")],
        ),
    ]
    .iter()
    .map(|(name, description, params)| {
        let properties: serde_json::Map<String, Value> = params
            .iter()
            .map(|(p, t)| ((*p).to_owned(), json!({"type": t, "description": format!("The {p} argument.")})))
            .collect();
        let required: Vec<&str> = params.iter().map(|(p, _)| *p).collect();
        json!({"type": "function", "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        }})
    })
    .collect();
    RawValue::from_string(Value::Array(tools).to_string()).expect("a JSON array is valid JSON")
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: &'a [Value],
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    stream: bool,
    stream_options: StreamOptions,
}

/// One conversation: its variant and the messages so far.
struct Conversation {
    tools: bool,
    turns: usize,
    max_tokens: Option<u32>,
    temperature: Option<f64>,
    messages: Vec<Value>,
    /// Follow-ups sent so far.
    asked: usize,
    n: u64,
}

impl Conversation {
    fn new(n: u64, base_turns: usize) -> Self {
        let tools = n.is_multiple_of(3);
        let long = n % 4 == 1;
        let first = if long {
            format!(
                "[conversation {n}] Here is src/words_{n}.rs:\n\n```rust src/words_{n}.rs\n{FILE}```\n\n\
                 Explain what `top_words` does and whether its loop is correct."
            )
        } else {
            format!("[conversation {n}] Read src/words_{n}.rs and explain what `top_words` does.")
        };
        let mut messages =
            vec![json!({"role": "system", "content": SYSTEM}), json!({"role": "user", "content": first})];
        if tools {
            let id = format!("call_{n}_0");
            let arguments = json!({"filepath": format!("src/words_{n}.rs")}).to_string();
            messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": id, "type": "function", "function": {"name": "read_file", "arguments": arguments}}]}));
            messages.push(json!({"role": "tool", "tool_call_id": id, "content": FILE}));
        }
        #[allow(clippy::cast_possible_truncation, reason = "n % 5 < 5")]
        let max_tokens = [None, Some(256), Some(1024), Some(2048), Some(4096)][(n % 5) as usize];
        Self {
            tools,
            turns: if long { base_turns * 2 } else { base_turns },
            max_tokens,
            temperature: n.is_multiple_of(2).then_some(0.2),
            messages,
            asked: 0,
            n,
        }
    }

    fn body(&self, model: &str, tools: &RawValue) -> Vec<u8> {
        let body = ChatBody {
            model,
            messages: &self.messages,
            tools: self.tools.then_some(tools),
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            stream: true,
            stream_options: StreamOptions { include_usage: true },
        };
        serde_json::to_vec(&body).expect("the body serialises")
    }

    /// The answer to the last turn, then the user's next question.
    fn answered(&mut self, text: String) {
        let mut answer = serde_json::Map::new();
        answer.insert("role".to_owned(), Value::from("assistant"));
        answer.insert("content".to_owned(), Value::String(text));
        self.messages.push(Value::Object(answer));
        #[allow(clippy::cast_possible_truncation, reason = "a small index")]
        let next = FOLLOW_UPS[(self.n as usize + self.asked) % FOLLOW_UPS.len()];
        self.asked += 1;
        self.messages.push(json!({"role": "user", "content": next}));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    FailedClean,
    Lost(&'static str),
}

struct Record {
    /// Since the run's start.
    start: Duration,
    end: Duration,
    ttfb: Option<Duration>,
    status: Option<u16>,
    outcome: Outcome,
}

/// What the workers share.
struct Shared {
    client: reqwest::Client,
    url: String,
    model: String,
    key: Option<String>,
    tools: Box<RawValue>,
    base_turns: usize,
    timeout: Duration,
    t0: Instant,
    deadline: Instant,
    next_conversation: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

#[derive(Default)]
struct WorkerResult {
    records: Vec<Record>,
    completed: u64,
    aborted: u64,
    cut: u64,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    choices: Vec<EventChoice>,
}

#[derive(Deserialize)]
struct EventChoice {
    #[serde(default)]
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// The SSE body as it arrives: `data:` lines, `[DONE]`, error events.
#[derive(Default)]
struct Body {
    pending: Vec<u8>,
    done: bool,
    error: bool,
    bad_event: bool,
    after_done: bool,
    text: String,
}

impl Body {
    fn feed(&mut self, chunk: &[u8]) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &pending[start..]) {
            let line = &pending[start..start + i];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(payload) = line.strip_prefix(b"data:") {
                self.event(payload.strip_prefix(b" ").unwrap_or(payload));
            }
            start += i + 1;
        }
        pending.drain(..start);
        self.pending = pending;
    }

    fn event(&mut self, payload: &[u8]) {
        if self.done {
            self.after_done = true;
        }
        if payload == b"[DONE]" {
            self.done = true;
            return;
        }
        match serde_json::from_slice::<Event>(payload) {
            Ok(event) => {
                self.error |= event.error.is_some();
                for choice in event.choices {
                    if let Some(content) = choice.delta.and_then(|d| d.content) {
                        self.text.push_str(&content);
                    }
                }
            }
            Err(_) => self.bad_event = true,
        }
    }

    fn outcome(&self) -> Outcome {
        match (self.done, self.error) {
            _ if self.bad_event => Outcome::Lost("event_not_json"),
            _ if self.after_done => Outcome::Lost("data_after_done"),
            (true, false) => Outcome::Ok,
            (false, true) => Outcome::FailedClean,
            (true, true) => Outcome::Lost("error_and_done"),
            (false, false) => Outcome::Lost("no_done"),
        }
    }
}

/// One streaming request: (status, time to first body byte, outcome, answer text).
async fn exchange(
    shared: &Shared,
    body: Vec<u8>,
    started: Instant,
) -> (Option<u16>, Option<Duration>, Outcome, String) {
    let mut request = shared.client.post(&shared.url).header("content-type", "application/json").body(body);
    if let Some(key) = &shared.key {
        request = request.bearer_auth(key);
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return (
                None,
                None,
                Outcome::Lost(if e.is_connect() { "connect" } else { "send" }),
                String::new(),
            );
        }
    };
    let status = response.status().as_u16();
    let mut chunks = response.bytes_stream();
    let (mut ttfb, mut body, mut broken) = (None, Body::default(), false);
    while let Some(chunk) = chunks.next().await {
        let Ok(chunk) = chunk else {
            broken = true;
            break;
        };
        if ttfb.is_none() {
            ttfb = Some(started.elapsed());
        }
        body.feed(&chunk);
    }
    let outcome = if status != 200 {
        Outcome::Lost("http_status")
    } else if broken && !body.error {
        Outcome::Lost("body_error")
    } else {
        body.outcome()
    };
    (Some(status), ttfb, outcome, body.text)
}

async fn request(shared: &Shared, body: Vec<u8>) -> (Record, String) {
    let started = Instant::now();
    let now = shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    shared.peak_in_flight.fetch_max(now, Ordering::Relaxed);
    let result = tokio::time::timeout(shared.timeout, exchange(shared, body, started)).await;
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    let (status, ttfb, outcome, text) =
        result.unwrap_or((None, None, Outcome::Lost("timeout"), String::new()));
    let record =
        Record { start: started.duration_since(shared.t0), end: shared.t0.elapsed(), ttfb, status, outcome };
    (record, text)
}

async fn worker(shared: Arc<Shared>, delay: Duration) -> WorkerResult {
    tokio::time::sleep(delay).await;
    let mut out = WorkerResult::default();
    while Instant::now() < shared.deadline {
        let n = shared.next_conversation.fetch_add(1, Ordering::Relaxed);
        let mut conversation = Conversation::new(n, shared.base_turns);
        let mut turn = 0;
        loop {
            if turn == conversation.turns {
                out.completed += 1;
                break;
            }
            if Instant::now() >= shared.deadline {
                out.cut += 1;
                break;
            }
            let body = conversation.body(&shared.model, &shared.tools);
            let (record, text) = request(&shared, body).await;
            let ok = record.outcome == Outcome::Ok;
            out.records.push(record);
            if !ok {
                out.aborted += 1;
                break;
            }
            conversation.answered(text);
            turn += 1;
        }
    }
    out
}

/// What happened at the kill.
struct Kill {
    at: Duration,
    in_flight: usize,
    result: Result<(), String>,
    replica_in_flight: BTreeMap<String, f64>,
}

/// `podctl_replica_in_flight{model="…",replica="HOST:PORT"} N` lines → replica → N.
async fn replica_in_flight(url: &str, key: Option<&str>) -> BTreeMap<String, f64> {
    let client = reqwest::Client::new();
    let mut request = client.get(url).timeout(Duration::from_secs(2));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let Ok(response) = request.send().await else { return BTreeMap::new() };
    let Ok(text) = response.text().await else { return BTreeMap::new() };
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("podctl_replica_in_flight{")) {
        let Some((labels, value)) = line.rsplit_once(' ') else { continue };
        let Some(replica) = labels.split("replica=\"").nth(1).and_then(|r| r.split('"').next()) else {
            continue;
        };
        if let Ok(v) = value.parse::<f64>() {
            *out.entry(replica.to_owned()).or_default() += v;
        }
    }
    out
}

async fn kill_at(shared: Arc<Shared>, pid: i32, after: Duration, metrics_url: Option<String>) -> Kill {
    tokio::time::sleep_until((shared.t0 + after).into()).await;
    let replica_in_flight = match &metrics_url {
        Some(url) => replica_in_flight(url, shared.key.as_deref()).await,
        None => BTreeMap::new(),
    };
    let in_flight = shared.in_flight.load(Ordering::Relaxed);
    let at = shared.t0.elapsed();
    let result = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| e.to_string());
    Kill { at, in_flight, result, replica_in_flight }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[i].as_secs_f64() * 1e6).round() / 1e3
}

/// Counts of outcomes: (ok, failed_clean, lost).
fn tally<'a>(records: impl Iterator<Item = &'a Record>) -> Value {
    let (mut ok, mut failed, mut lost) = (0u64, 0u64, 0u64);
    for r in records {
        match r.outcome {
            Outcome::Ok => ok += 1,
            Outcome::FailedClean => failed += 1,
            Outcome::Lost(_) => lost += 1,
        }
    }
    json!({"requests": ok + failed + lost, "ok": ok, "failed_clean": failed, "lost": lost})
}

async fn run(args: Args) -> Value {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()
        .expect("an HTTP client");
    let t0 = Instant::now();
    let shared = Arc::new(Shared {
        client,
        url: args.url,
        model: args.model,
        key: args.key,
        tools: continue_tools(),
        base_turns: args.turns,
        timeout: args.timeout,
        t0,
        deadline: t0 + Duration::from_secs_f64(args.seconds),
        next_conversation: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        peak_in_flight: AtomicUsize::new(0),
    });
    let kill = args.kill_pid.map(|pid| {
        tokio::spawn(kill_at(
            Arc::clone(&shared),
            pid,
            Duration::from_secs_f64(args.kill_after),
            args.metrics_url,
        ))
    });
    #[allow(clippy::cast_precision_loss, reason = "worker counts are small")]
    let step = args.ramp / args.concurrency as f64;
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|i| {
            #[allow(clippy::cast_precision_loss, reason = "worker counts are small")]
            let delay = Duration::from_secs_f64(step * i as f64);
            tokio::spawn(worker(Arc::clone(&shared), delay))
        })
        .collect();
    let mut all = WorkerResult::default();
    for task in tasks {
        let r = task.await.expect("a worker ends without panicking");
        all.records.extend(r.records);
        all.completed += r.completed;
        all.aborted += r.aborted;
        all.cut += r.cut;
    }
    let elapsed = t0.elapsed();
    let kill = match kill {
        Some(handle) if handle.is_finished() => Some(handle.await.expect("the kill task ends")),
        Some(handle) => {
            handle.abort();
            None
        }
        None => None,
    };

    let records = &all.records;
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut lost_reasons: BTreeMap<&str, u64> = BTreeMap::new();
    for r in records {
        let status = r.status.map_or_else(|| "none".to_owned(), |s| s.to_string());
        *by_status.entry(status).or_default() += 1;
        if let Outcome::Lost(reason) = r.outcome {
            *lost_reasons.entry(reason).or_default() += 1;
        }
    }
    let mut ttfb: Vec<Duration> = records.iter().filter_map(|r| r.ttfb).collect();
    let mut total: Vec<Duration> =
        records.iter().filter(|r| r.outcome == Outcome::Ok).map(|r| r.end.saturating_sub(r.start)).collect();
    ttfb.sort_unstable();
    total.sort_unstable();
    let mut report = tally(records.iter());
    let fields = report.as_object_mut().expect("tally is an object");
    let rest = json!({
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "elapsed_s": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "by_status": by_status,
        "lost_reasons": lost_reasons,
        "ttfb_p50_ms": percentile(&ttfb, 0.50),
        "ttfb_p99_ms": percentile(&ttfb, 0.99),
        "total_p50_ms": percentile(&total, 0.50),
        "total_p99_ms": percentile(&total, 0.99),
        "conversations_started": shared.next_conversation.load(Ordering::Relaxed),
        "conversations_completed": all.completed,
        "conversations_aborted": all.aborted,
        "conversations_cut_at_end": all.cut,
        "peak_in_flight": shared.peak_in_flight.load(Ordering::Relaxed),
    });
    fields.extend(rest.as_object().expect("an object").clone());
    if let Some(kill) = kill {
        let at = kill.at;
        fields.insert(
            "kill".to_owned(),
            json!({
                "pid": args.kill_pid,
                "at_s": (at.as_secs_f64() * 1000.0).round() / 1000.0,
                "signal_sent": kill.result.is_ok(),
                "signal_error": kill.result.err(),
                "in_flight": kill.in_flight,
                "replica_in_flight": kill.replica_in_flight,
                "ended_before": tally(records.iter().filter(|r| r.end <= at)),
                "in_flight_at_kill": tally(records.iter().filter(|r| r.start < at && r.end > at)),
                "started_after": tally(records.iter().filter(|r| r.start >= at)),
            }),
        );
    }
    report
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()
    }
    .expect("a tokio runtime");
    let report = runtime.block_on(run(args));
    println!("{report}");
}
