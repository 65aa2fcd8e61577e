//! A small load generator for the proxy benchmarks: holds `--concurrency` requests in
//! flight against `--url` for `--seconds`, then prints requests/s and latency percentiles
//! (time to the whole body; with `--stream`, also time to the first body byte) as JSON.
//!
//! `cargo run --release --example load -- --url http://127.0.0.1:4000/v1/chat/completions \
//!     --body request.json --concurrency 16 --seconds 10 [--stream] [--key KEY]`
//!
//! `benches/proxy-load.sh` runs it against the stand-in directly and through the proxy.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a benchmark tool prints its results")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

struct Args {
    url: String,
    body: Vec<u8>,
    concurrency: usize,
    seconds: u64,
    stream: bool,
    key: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut body, mut concurrency, mut seconds, mut stream, mut key) =
        (None, None, 1, 10, false, None);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => url = Some(value()?),
            "--body" => body = Some(std::fs::read(value()?).map_err(|e| format!("--body: {e}"))?),
            "--concurrency" => concurrency = value()?.parse().map_err(|e| format!("--concurrency: {e}"))?,
            "--seconds" => seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--stream" => stream = true,
            "--key" => key = Some(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        body: body.ok_or("--body is required")?,
        concurrency,
        seconds,
        stream,
        key,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(1024).tcp_nodelay(true).build().expect("client");
    let body = Arc::new(bytes::Bytes::from(args.body));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, body, url, key) =
            (client.clone(), Arc::clone(&body), args.url.clone(), args.key.clone());
        let stream = args.stream;
        tasks.push(tokio::spawn(async move {
            let (mut total, mut first, mut errors) = (Vec::new(), Vec::new(), 0u64);
            while Instant::now() < deadline {
                let started = Instant::now();
                let mut request =
                    client.post(&url).header("content-type", "application/json").body((*body).clone());
                if let Some(key) = &key {
                    request = request.bearer_auth(key);
                }
                let Ok(response) = request.send().await else {
                    errors += 1;
                    continue;
                };
                if !response.status().is_success() {
                    errors += 1;
                }
                let mut chunks = response.bytes_stream();
                let mut got_first = false;
                while let Some(chunk) = chunks.next().await {
                    if chunk.is_err() {
                        errors += 1;
                        break;
                    }
                    if !got_first && stream {
                        first.push(started.elapsed());
                        got_first = true;
                    }
                }
                total.push(started.elapsed());
            }
            (total, first, errors)
        }));
    }
    let (mut total, mut first, mut errors) = (Vec::new(), Vec::new(), 0);
    for task in tasks {
        let (t, f, e) = task.await.expect("task");
        total.extend(t);
        first.extend(f);
        errors += e;
    }
    total.sort_unstable();
    first.sort_unstable();
    #[allow(clippy::cast_precision_loss)]
    let rps = total.len() as f64 / args.seconds as f64;
    println!(
        "{{\"concurrency\": {}, \"requests\": {}, \"errors\": {errors}, \"rps\": {rps:.0}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \"ttfb_p50_ms\": {:.3}, \"ttfb_p99_ms\": {:.3}}}",
        args.concurrency,
        total.len(),
        percentile(&total, 0.50),
        percentile(&total, 0.99),
        percentile(&first, 0.50),
        percentile(&first, 0.99),
    );
}
