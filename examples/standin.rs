//! The test suite's vLLM stand-in as a standalone server: the fast constant upstream of the
//! load benchmarks ("straight to upstream" baseline), imitating vLLM 0.32 without a tool
//! parser (see `tests/standin/mod.rs`).
//!
//! ```text
//! cargo run --release --example standin -- --port 8000 [--model NAME] [--reply TEXT] [--chunk N]
//!     [--delay-ms MS]
//! ```
//!
//! Prints `listening on http://ADDR/v1` once bound, then serves until SIGINT or SIGTERM.
//! Requests are not recorded or logged, and SSE events go out in one write each unless
//! `--split-sse` is given. `--delay-ms` makes a streamed reply last a while (the replicas
//! benchmark streams 40 pieces 50 ms apart: about 2 s per answer).
#![allow(clippy::print_stdout, reason = "the listening line on stdout is this program's interface")]

#[path = "../tests/standin/mod.rs"]
mod standin;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use standin::{Config, Reply, StandIn};

/// A fake vLLM 0.32 (no tool parser) answering every chat/completions request with one text.
#[derive(Debug, Parser)]
struct Args {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Served model id.
    #[arg(long, default_value = standin::DEFAULT_MODEL)]
    model: String,
    /// The text every request gets.
    #[arg(long, default_value = "Hello! How can I help you today?")]
    reply: String,
    /// Chars per streamed chunk.
    #[arg(long, default_value_t = 4)]
    chunk: usize,
    /// Milliseconds before every streamed piece but the first (not streaming: the summed
    /// delays before the whole answer).
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Write each SSE event in two writes cut mid-line (as the tests do).
    #[arg(long)]
    split_sse: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let config = Config {
        model: args.model,
        default_reply: Reply::chunked(args.reply, vec![args.chunk])
            .delay(Duration::from_millis(args.delay_ms)),
        split_sse_lines: args.split_sse,
        record: false,
        bind: SocketAddr::new(args.host, args.port),
        ..Config::default()
    };
    let standin = StandIn::start_with(config).await;
    println!("listening on {}", standin.base_url());
    stopped().await;
    standin.stop().await;
}

/// SIGINT (Ctrl-C) or SIGTERM (`kill`), whichever comes first.
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
