//! A test double for the `vllm` program: behaves like `vllm serve` (vLLM 0.33) as podctl's
//! supervisor sees it, so the test suite can run `podctl start`/`stop` without a GPU by
//! pointing `PODCTL_VLLM_BIN` at `target/debug/examples/fake_vllm`.
//!
//! ```text
//! fake_vllm serve MODEL [--host H] [--port P] [--served-model-name NAME...] [--any-flag [VALUE]]...
//! fake_vllm --version          # prints 0.33.0
//! ```
//!
//! Other flags (with or without a value, `--flag=value` too) are accepted and ignored, as the
//! real argv carries many. Without `serve`: usage on stderr, exit 2.
//!
//! What it does: prints vLLM's start-up log (stdout; tqdm bars on stderr redrawn with `\r`)
//! through every phase of `shared/guide/vllm-ops.md` ("Readiness"), then binds `H:P` (not
//! before: connections are refused until ready) and serves the test suite's stand-in
//! (`tests/standin`): `/health` 200, `/v1/models` listing the first served name (or MODEL),
//! chat completions with the stand-in's default reply. If the port is taken it prints
//! `OSError: [Errno 98] Address already in use` and exits 1. SIGTERM or SIGINT: prints
//! `Shutting down FastAPI HTTP server.`, passes SIGTERM to its engine process (if any), exits 0.
//!
//! Behaviour is set by environment variables:
//!
//! * `FAKE_VLLM_RECORD=PATH`: at start, write `{"program", "argv", "env", "pid", "ppid",
//!   "pgid"}` to PATH (tmp file + rename). `argv` is the arguments after the program (so it
//!   starts with `serve`); `env` holds only the variables starting with `PODCTL_`, `VLLM_`,
//!   `HF_`, `CUDA_`, `NCCL_` or `FAKE_`.
//! * `FAKE_VLLM_STARTUP_MS` (default 300): the time from start to ready, spread over the phases.
//! * `FAKE_VLLM_FAIL=KIND`: after the weights are loaded, print the real failure line for KIND
//!   and then `RuntimeError: Engine core initialization failed. See root cause above. …` (stderr),
//!   exit 1. KIND: `gpu_memory`, `context`, `oom`, `port`, `missing_model`, `gated`, `disk`,
//!   `tp`, `fp8`, `nccl`, `no_gpu`, `worker_killed`, or `generic` (the last words alone). An
//!   unknown KIND: exit 2 at once.
//! * `FAKE_VLLM_CRASH_AFTER_MS=N`: N ms after becoming ready, print `ERROR … Engine core proc
//!   EngineCore_DP0 died unexpectedly, shutting down client.` and exit 1.
//!   `FAKE_VLLM_CRASH_TIMES=K` with `FAKE_VLLM_STATE_DIR=DIR`: crash only on the first K starts
//!   (counted in `DIR/starts`), then stay up.
//! * `FAKE_VLLM_STATS_MS=N`: once ready, print vLLM's serving-stats line every N ms (default:
//!   never).
//! * `FAKE_VLLM_IGNORE_TERM=1`: ignore SIGTERM (the engine and worker too); only SIGKILL (or
//!   SIGINT, for the server) stops it.
//! * `FAKE_VLLM_GRANDCHILD=1`: start an engine process like vLLM's (`/proc/PID/cmdline`
//!   `VLLM::EngineCore`, comm `VLLM::EngineCor`: the kernel keeps 15 bytes), which starts a
//!   worker (`VLLM::Worker_TP0`, comm `VLLM::Worker_TP`). Both inherit the environment and the
//!   output streams and sleep until SIGTERM (passed down the tree); like vLLM's, they survive
//!   the server being SIGKILLed (orphans).
//! * `FAKE_VLLM_DOWNLOAD_MS=N`: before loading, "download" the weights for N ms as the
//!   Hugging Face hub does (silently): a growing `…/models--ORG--NAME/blobs/*.incomplete` in
//!   `$HF_HUB_CACHE` or `$HF_HOME/hub`, renamed when done.
//! * `FAKE_VLLM_REPLY=TEXT`: the model's raw answer to every chat request (default: a
//!   greeting), e.g. a Qwen3-Coder `<tool_call>` block for `podctl doctor`'s probe.
//! * `FAKE_VLLM_REPLY_DELAY_MS=N`: N ms between the reply's streamed pieces (a whole answer
//!   comes after all of them): a request that stays in flight.
//! * `--enable-sleep-mode` with `VLLM_SERVER_DEV_MODE=1`: `POST /sleep`, `POST /wake_up`
//!   (taking `FAKE_VLLM_WAKE_MS`, default 50) and `GET /is_sleeping`, as vLLM's dev mode.
//! * `FAKE_VLLM_ROLE=engine|worker`: internal, how the fake starts those two.
#![allow(clippy::print_stdout, clippy::print_stderr, reason = "printing vLLM's log is this program's job")]

#[path = "../tests/standin/mod.rs"]
mod standin;

use std::collections::BTreeMap;
use std::ffi::{CStr, OsString};
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};

const VERSION: &str = "0.33.0";
const USAGE: &str = "usage: fake_vllm serve MODEL [--host H] [--port P] [--served-model-name NAME...] [--flag [VALUE]]...\n       fake_vllm --version";
/// Recorded variables: those whose name starts with one of these.
const RECORDED_PREFIXES: &[&str] = &["PODCTL_", "VLLM_", "HF_", "CUDA_", "NCCL_", "FAKE_"];
const FAILURE_KINDS: &[&str] = &[
    "gpu_memory",
    "context",
    "oom",
    "port",
    "missing_model",
    "gated",
    "disk",
    "tp",
    "fp8",
    "nccl",
    "no_gpu",
    "worker_killed",
    "generic",
];

/// What `serve` was asked to do.
#[derive(Debug)]
struct Serve {
    model: String,
    host: String,
    port: u16,
    served: Vec<String>,
    /// Every `--flag` seen with its value (for `non-default args:`), in order.
    flags: Vec<(String, Option<String>)>,
}

fn main() -> ExitCode {
    match std::env::var("FAKE_VLLM_ROLE").as_deref() {
        Ok("engine") => return child_role(c"VLLM::EngineCore", Some(("worker", "VLLM::Worker_TP0"))),
        Ok("worker") => return child_role(c"VLLM::Worker_TP0", None),
        _ => {}
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version") => {
            println!("{VERSION}");
            return ExitCode::SUCCESS;
        }
        Some("serve") => {}
        _ => return usage("expected `serve` or `--version`"),
    }
    let serve = match parse_serve(&args[1..]) {
        Ok(serve) => serve,
        Err(message) => return usage(&message),
    };
    let fail = std::env::var("FAKE_VLLM_FAIL").ok().filter(|k| !k.is_empty());
    if let Some(kind) = &fail
        && !FAILURE_KINDS.contains(&kind.as_str())
    {
        return usage(&format!("unknown FAKE_VLLM_FAIL kind {kind:?} (one of {})", FAILURE_KINDS.join(", ")));
    }
    if let Ok(path) = std::env::var("FAKE_VLLM_RECORD") {
        record(Path::new(&path), &args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    let code = runtime.block_on(server(serve, fail));
    flush();
    // The stand-in's connections and the signal streams need no orderly teardown.
    std::process::exit(code);
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("fake_vllm: {problem}\n{USAGE}");
    ExitCode::from(2)
}

fn parse_serve(args: &[String]) -> Result<Serve, String> {
    let mut model = None;
    let mut host = "0.0.0.0".to_owned();
    let mut port: u16 = 8000;
    let mut served = Vec::new();
    let mut flags = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let Some(flag) = arg.strip_prefix("--") else {
            if model.is_some() {
                return Err(format!("unexpected argument {arg:?}"));
            }
            model = Some(arg.clone());
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (flag.to_owned(), None),
        };
        // `--served-model-name` takes one or more values, like vLLM's (nargs="+").
        if name == "served-model-name" && inline.is_none() {
            while i < args.len() && !args[i].starts_with("--") {
                served.push(args[i].clone());
                i += 1;
            }
            flags.push((name, Some(served.join(" "))));
            continue;
        }
        let value = inline.or_else(|| {
            let next = args.get(i).filter(|a| !a.starts_with("--")).cloned();
            i += usize::from(next.is_some());
            next
        });
        match (name.as_str(), &value) {
            ("host", Some(v)) => host.clone_from(v),
            ("port", Some(v)) => port = v.parse().map_err(|_| format!("--port: not a port: {v:?}"))?,
            ("served-model-name", Some(v)) => served.push(v.clone()),
            ("model", Some(v)) => model = Some(v.clone()),
            ("host" | "port" | "served-model-name" | "model", None) => {
                return Err(format!("--{name} needs a value"));
            }
            _ => {}
        }
        flags.push((name, value));
    }
    let model = model.ok_or("serve needs a MODEL")?;
    Ok(Serve { model, host, port, served, flags })
}

/// Write what this process was started with, atomically.
fn record(path: &Path, args: &[String]) {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| RECORDED_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect();
    let program = std::env::args().next().unwrap_or_default();
    let doc = json!({
        "program": program,
        "argv": args,
        "env": env,
        "pid": std::process::id(),
        "ppid": nix::unistd::getppid().as_raw(),
        "pgid": nix::unistd::getpgrp().as_raw(),
    });
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).expect("JSON serialises"))
        .and_then(|()| std::fs::rename(&tmp, path))
        .unwrap_or_else(|e| panic!("fake_vllm: cannot write {}: {e}", path.display()));
}

/// The API server: start-up log, then HTTP until a signal (or a crash).
async fn server(serve: Serve, fail: Option<String>) -> i32 {
    // Handlers first: from here on SIGTERM's default action (die at once) no longer applies.
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
    let ignore_term = env_flag("FAKE_VLLM_IGNORE_TERM");
    let stop = async move {
        tokio::select! {
            () = async { if ignore_term { std::future::pending::<()>().await } else { term.recv().await; } } => {}
            _ = int.recv() => {}
        }
    };
    let engine = env_flag("FAKE_VLLM_GRANDCHILD").then(|| spawn_role("engine", "VLLM::EngineCore"));
    let engine_pid = engine.as_ref().map_or_else(std::process::id, Child::id);
    let log = Log { engine_pid };
    let run = async {
        match start_up(&serve, &log, fail.as_deref()).await {
            Ok(standin) => serving(standin).await,
            Err(code) => code,
        }
    };
    let code = tokio::select! {
        code = run => code,
        () = stop => {
            api("INFO", "launcher.py:80", "Shutting down FastAPI HTTP server.");
            0
        }
    };
    if let Some(engine) = engine {
        stop_child(engine);
    }
    code
}

/// Prints vLLM's start-up log; the stand-in once ready, or the exit code of a failure.
async fn start_up(serve: &Serve, log: &Log, fail: Option<&str>) -> Result<standin::StandIn, i32> {
    let total = env_u64("FAKE_VLLM_STARTUP_MS").unwrap_or(300);
    // Steps below that sleep; the bars sleep between their redraws out of the same budget.
    let step = Duration::from_millis(total / 16);
    let model = &serve.model;
    api("INFO", "api_server.py:1885", &format!("vLLM server version {VERSION}"));
    api("INFO", "utils.py:233", &format!("non-default args: {}", python_dict(serve)));
    tokio::time::sleep(step).await;
    api("INFO", "model.py:547", "Resolved architecture: Qwen3MoeForCausalLM");
    api("INFO", "model.py:1510", "Using max model len 262144");
    tokio::time::sleep(step).await;
    log.engine("INFO", "core.py:93", &format!("Initializing a V1 LLM engine (v{VERSION}) with config: model='{model}', speculative_config=None, tokenizer='{model}', skip_tokenizer_init=False, tokenizer_mode=auto, trust_remote_code=False, dtype=torch.bfloat16, max_seq_len=262144, download_dir=None, load_format=auto, tensor_parallel_size=1, pipeline_parallel_size=1, data_parallel_size=1, disable_custom_all_reduce=False, quantization=fp8, enforce_eager=False, kv_cache_dtype=auto, device_config=cuda, seed=0, served_model_name={}, enable_prefix_caching=True", serve.served.first().unwrap_or(model)));
    log.engine(
        "INFO",
        "parallel_state.py:1208",
        "rank 0 in world size 1 is assigned as DP rank 0, PP rank 0, TP rank 0, EP rank 0",
    );
    tokio::time::sleep(step).await;
    log.engine("INFO", "gpu_model_runner.py:2602", &format!("Starting to load model {model}..."));
    log.engine("INFO", "cuda.py:366", "Using Flash Attention backend on V1 engine.");
    log.engine("INFO", "weight_utils.py:392", "Using model weights format ['*.safetensors']");
    tokio::time::sleep(step).await;
    if let Some(ms) = env_u64("FAKE_VLLM_DOWNLOAD_MS") {
        download(model, Duration::from_millis(ms)).await;
    }
    log.engine(
        "INFO",
        "weight_utils.py:413",
        &format!("Time spent downloading weights for {model}: 0.61 seconds"),
    );
    bar(4, step, |n| {
        let pct = n * 100 / 4;
        let left = if n == 0 { "?, ?it/s".to_owned() } else { format!("00:0{},  1.60it/s", 4 - n) };
        format!("Loading safetensors checkpoint shards: {pct:3}% Completed | {n}/4 [00:0{n}<{left}]")
    })
    .await;
    log.engine("INFO", "default_loader.py:267", "Loading weights took 11.87 seconds");
    log.engine("INFO", "gpu_model_runner.py:2653", "Model loading took 28.5 GiB and 12.3 seconds");
    tokio::time::sleep(step).await;
    if let Some(kind) = fail {
        return Err(failure(log, kind, serve));
    }
    // `--enforce-eager`, like vLLM: no torch.compile, no CUDA graphs.
    let eager = serve.flags.iter().any(|(f, _)| f == "enforce-eager");
    if !eager {
        log.engine("INFO", "backends.py:548", "Using cache directory: /root/.cache/vllm/torch_compile_cache/5f0e1c2d3a/rank_0_0/backbone for vLLM's torch.compile");
        log.engine("INFO", "backends.py:560", "Starting torch.compile for the model");
        tokio::time::sleep(step).await;
        log.engine("INFO", "backends.py:573", "Dynamo bytecode transform time: 5.21 s");
        log.engine("INFO", "monitor.py:34", "torch.compile took 20.12 s in total");
    }
    tokio::time::sleep(step).await;
    log.engine("INFO", "gpu_worker.py:298", "Available KV cache memory: 40.12 GiB");
    log.engine("INFO", "kv_cache_utils.py:1087", "GPU KV cache size: 438,272 tokens");
    log.engine("INFO", "kv_cache_utils.py:1091", "Maximum concurrency for 262,144 tokens per request: 1.67x");
    tokio::time::sleep(step).await;
    if !eager {
        bar(4, step, |n| {
            let pct = n * 100 / 4;
            let done = n * 67 / 4;
            let filled = "█".repeat(pct as usize / 10);
            format!("Capturing CUDA graphs (mixed prefill-decode, PIECEWISE): {pct:3}%|{filled:<10}| {done}/67 [00:0{n}<00:00, 18.52it/s]")
        })
        .await;
        log.engine("INFO", "gpu_model_runner.py:3480", "Graph capturing finished in 5 secs, took 0.91 GiB");
    }
    log.engine(
        "INFO",
        "core.py:210",
        "init engine (profile, create kv cache, warmup model) took 45.21 seconds",
    );
    tokio::time::sleep(step).await;
    api("INFO", "api_server.py:1634", "Supported_tasks: ['generate']");
    let Some(bind) = resolve(&serve.host, serve.port).await else {
        api(
            "ERROR",
            "api_server.py:1920",
            &format!("socket.gaierror: [Errno -2] Name or service not known: '{}'", serve.host),
        );
        return Err(1);
    };
    // Check the port is free first: the stand-in panics if it cannot bind.
    match tokio::net::TcpListener::bind(bind).await {
        Ok(probe) => drop(probe),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!(
                "OSError: [Errno 98] error while attempting to bind on address ('{}', {}): address already in use",
                serve.host, serve.port
            );
            return Err(1);
        }
        Err(e) => {
            eprintln!("OSError: {e}");
            return Err(1);
        }
    }
    // As vLLM: this line and the routes come a moment before the server answers.
    api(
        "INFO",
        "api_server.py:1912",
        &format!("Starting vLLM server on http://{}:{}", serve.host, serve.port),
    );
    api("INFO", "launcher.py:34", "Available routes are:");
    for route in ["/health", "/v1/models", "/v1/chat/completions", "/v1/completions", "/version"] {
        api("INFO", "launcher.py:42", &format!("Route: {route}, Methods: GET, POST"));
    }
    tokio::time::sleep(step).await;
    let name = serve.served.first().unwrap_or(&serve.model).clone();
    let mut config = standin::Config {
        model: name,
        record: false,
        split_sse_lines: false,
        bind,
        ..standin::Config::default()
    };
    if let Ok(text) = std::env::var("FAKE_VLLM_REPLY") {
        config.default_reply = standin::Reply::text(&text);
    }
    // vLLM serves the sleep endpoints only with both switches on.
    if serve.flags.iter().any(|(f, _)| f == "enable-sleep-mode")
        && std::env::var("VLLM_SERVER_DEV_MODE").as_deref() == Ok("1")
    {
        config.sleep_mode = Some(Duration::from_millis(env_u64("FAKE_VLLM_WAKE_MS").unwrap_or(50)));
    }
    if let Some(ms) = env_u64("FAKE_VLLM_REPLY_DELAY_MS") {
        config.default_reply = config.default_reply.delay(Duration::from_millis(ms));
    }
    let standin = standin::StandIn::start_with(config).await;
    let pid = std::process::id();
    println!("INFO:     Started server process [{pid}]");
    println!("INFO:     Waiting for application startup.");
    println!("INFO:     Application startup complete.");
    flush();
    Ok(standin)
}

/// Ready: serve until a crash is due (or forever; the caller stops it on a signal).
async fn serving(standin: standin::StandIn) -> i32 {
    let crash = env_u64("FAKE_VLLM_CRASH_AFTER_MS").filter(|_| crash_this_time()).map(Duration::from_millis);
    let stats = env_u64("FAKE_VLLM_STATS_MS").filter(|&ms| ms > 0).map(Duration::from_millis);
    let deadline = crash.map(|after| Instant::now() + after);
    loop {
        let tick = stats.unwrap_or(Duration::from_hours(1));
        let until_crash = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        tokio::time::sleep(until_crash.map_or(tick, |left| left.min(tick))).await;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            drop(standin);
            api(
                "ERROR",
                "core_client.py:564",
                "Engine core proc EngineCore_DP0 died unexpectedly, shutting down client.",
            );
            return 1;
        }
        if stats.is_some() {
            api(
                "INFO",
                "loggers.py:123",
                "Engine 000: Avg prompt throughput: 0.0 tokens/s, Avg generation throughput: 0.0 tokens/s, Running: 0 reqs, Waiting: 0 reqs, GPU KV cache usage: 0.0%, Prefix cache hit rate: 0.0%",
            );
        }
    }
}

/// Whether this start crashes: always without `FAKE_VLLM_CRASH_TIMES`; else only the first
/// K starts counted in `FAKE_VLLM_STATE_DIR/starts`.
fn crash_this_time() -> bool {
    let Some(times) = env_u64("FAKE_VLLM_CRASH_TIMES") else { return true };
    let dir =
        std::env::var_os("FAKE_VLLM_STATE_DIR").expect("FAKE_VLLM_CRASH_TIMES needs FAKE_VLLM_STATE_DIR");
    let file = Path::new(&dir).join("starts");
    let before: u64 = std::fs::read_to_string(&file).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let tmp = Path::new(&dir).join(format!("starts.tmp{}", std::process::id()));
    std::fs::write(&tmp, (before + 1).to_string())
        .and_then(|()| std::fs::rename(&tmp, &file))
        .unwrap_or_else(|e| panic!("fake_vllm: cannot count starts in {}: {e}", file.display()));
    before < times
}

/// Prints the failure for `kind` as vLLM does and returns the exit code.
fn failure(log: &Log, kind: &str, serve: &Serve) -> i32 {
    let model = &serve.model;
    let cause = match kind {
        "gpu_memory" => "ValueError: Free memory on device cuda:0 (10.2/79.19 GiB) on startup is less than desired GPU memory utilization (0.92, 72.86 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.".to_owned(),
        "context" => "ValueError: To serve at least one request with the models's max seq len (262144), (24.00 GiB KV cache is needed, which is larger than the available KV cache memory (6.12 GiB). Based on the available memory, the estimated maximum model length is 65536. Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.".to_owned(),
        "oom" => "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of 79.19 GiB of which 20.00 MiB is free. Including non-PyTorch memory, this process has 79.16 GiB memory in use.".to_owned(),
        "port" => "OSError: [Errno 98] Address already in use".to_owned(),
        "missing_model" => format!("ValueError: Invalid repository ID or local directory specified: '{model}'."),
        "gated" => format!("huggingface_hub.errors.GatedRepoError: 403 Client Error. (Request ID: Root=1-6743c1a2-77aa) Cannot access gated repo for url https://huggingface.co/{model}/resolve/main/config.json. Access to model {model} is restricted and you are not in the authorized list."),
        "disk" => format!("OSError: [Errno 28] No space left on device: '/root/.cache/huggingface/hub/models--{}/blobs/5f0e1c2d.incomplete'", model.replace('/', "--")),
        "tp" => "ValueError: World size (4) is larger than the number of available GPUs (1) in this node.".to_owned(),
        "fp8" => "ValueError: The output_size of gate's and up's weight = 192 is not divisible by weight quantization block_n = 128.".to_owned(),
        "nccl" => "1a2b3c4d5e6f:2345:2345 [1] include/shm.h:48 NCCL WARN Error while creating shared memory segment /dev/shm/nccl-vzIpS6 (size 9637888)".to_owned(),
        "no_gpu" => "RuntimeError: Failed to infer device type".to_owned(),
        "worker_killed" => "Worker proc VllmWorker-0 died unexpectedly (exit code: -9), shutting down executor.".to_owned(),
        _ => String::new(),
    };
    let pid = log.engine_pid;
    let stamp = stamp();
    let prefix = format!("(EngineCore_DP0 pid={pid}) ERROR {stamp} [core.py:708]");
    let mut text =
        format!("{prefix} EngineCore failed to start.\n{prefix} Traceback (most recent call last):\n");
    let _ = writeln!(
        text,
        "{prefix}   File \"/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py\", line 699, in run_engine_core"
    );
    if !cause.is_empty() {
        let _ = writeln!(text, "{prefix} {cause}");
    }
    text += "Traceback (most recent call last):\n  File \"/usr/local/bin/vllm\", line 10, in <module>\n    sys.exit(main())\n";
    text +=
        "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}\n";
    eprint!("{text}");
    flush();
    1
}

/// A tqdm bar on stderr: `steps + 1` redraws joined by `\r`, a newline after the last.
/// A silent download into the hub cache, the way `huggingface_hub` writes one.
async fn download(model: &str, total: Duration) {
    let hub = std::env::var("HF_HUB_CACHE")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HF_HOME").map(|h| PathBuf::from(h).join("hub")));
    let Ok(hub) = hub else { return };
    let blobs = hub.join(format!("models--{}", model.replace('/', "--"))).join("blobs");
    if std::fs::create_dir_all(&blobs).is_err() {
        return;
    }
    let partial = blobs.join("0a1b2c3d.incomplete");
    let steps = 10u32;
    for i in 1..=steps {
        let _ = std::fs::write(&partial, vec![0u8; 4096 * i as usize]);
        tokio::time::sleep(total / steps).await;
    }
    let _ = std::fs::rename(&partial, blobs.join("0a1b2c3d"));
}

async fn bar(steps: u32, step: Duration, draw: impl Fn(u32) -> String) {
    let pause = step / steps.max(1);
    for n in 0..=steps {
        let redraw = if n == 0 { "" } else { "\r" };
        eprint!("{redraw}{}", draw(n));
        flush();
        if n < steps {
            tokio::time::sleep(pause).await;
        }
    }
    eprintln!();
    flush();
}

/// vLLM's `non-default args: {…}` as a Python dict.
fn python_dict(serve: &Serve) -> String {
    let mut out = format!("{{'model_tag': '{}'", serve.model);
    for (name, value) in &serve.flags {
        let key = name.replace('-', "_");
        let value = match value {
            None => "True".to_owned(),
            Some(v) if v.parse::<f64>().is_ok() => v.clone(),
            Some(v) => format!("'{v}'"),
        };
        let _ = write!(out, ", '{key}': {value}");
    }
    let _ = write!(out, ", 'model': '{}'}}", serve.model);
    out
}

async fn resolve(host: &str, port: u16) -> Option<SocketAddr> {
    if host.is_empty() {
        return Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host, port)).await.ok()?.next()
}

/// Prints log lines with vLLM's prefixes.
#[derive(Debug)]
struct Log {
    engine_pid: u32,
}

/// A line of the API server process.
fn api(level: &str, place: &str, message: &str) {
    println!("{level} {} [{place}] {message}", stamp());
    flush();
}

impl Log {
    /// A line of the engine process, as vLLM prefixes it.
    fn engine(&self, level: &str, place: &str, message: &str) {
        println!("(EngineCore_DP0 pid={}) {level} {} [{place}] {message}", self.engine_pid, stamp());
        flush();
    }
}

fn flush() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// `MM-DD HH:MM:SS` in UTC, as vLLM's log prefix.
fn stamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), month and day only.
    let z = days + 719_468;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{month:02}-{day:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(value.trim().parse().unwrap_or_else(|_| panic!("fake_vllm: {name}={value:?} is not a number")))
}

/// Start this program again in `role`, titled like vLLM's process (`argv[0]`).
fn spawn_role(role: &str, title: &str) -> Child {
    let exe = std::env::current_exe().expect("own executable path");
    Command::new(exe)
        .arg0(OsString::from(title))
        .env("FAKE_VLLM_ROLE", role)
        .spawn()
        .unwrap_or_else(|e| panic!("fake_vllm: cannot start the {role}: {e}"))
}

/// SIGTERM a child and wait for it a little (it may be ignoring SIGTERM: then leave it).
fn stop_child(mut child: Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The engine or a worker: take vLLM's title, start the next process down, then sleep until
/// SIGTERM (passed down) or forever when ignoring it.
fn child_role(title: &CStr, next: Option<(&str, &str)>) -> ExitCode {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime starts");
    runtime.block_on(async {
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
        // Titled once SIGTERM is handled: whoever sees the title may signal it. The main
        // thread's name is the process's comm.
        let _ = nix::sys::prctl::set_name(title);
        let child = next.map(|(role, title)| spawn_role(role, title));
        if env_flag("FAKE_VLLM_IGNORE_TERM") {
            std::future::pending::<()>().await;
        }
        term.recv().await;
        if let Some(child) = child {
            stop_child(child);
        }
    });
    ExitCode::SUCCESS
}
