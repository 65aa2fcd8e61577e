//! The fake `vllm` (`examples/fake_vllm.rs`) behaves as the supervisor expects of the real
//! one: its log walks every start-up phase `podctl::vllm::logline` knows, its port answers
//! only once ready, each failure it can act out is diagnosed as the right cause by
//! `podctl::vllm::failure`, and it stops (or refuses to) on the signals the stop recipe sends.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use podctl::vllm::failure::{FailureKind, diagnose};
use podctl::vllm::logline::{LogFact, Phase, classify};

const READY_WITHIN: Duration = Duration::from_secs(15);

/// `target/debug/examples/fake_vllm`, built once if `cargo test` has not built it.
fn fake_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    let bin =
        Path::new(env!("CARGO_BIN_EXE_podctl")).parent().expect("target dir").join("examples/fake_vllm");
    BUILD.call_once(|| {
        if !bin.exists() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--example", "fake_vllm"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo build --example fake_vllm failed");
        }
    });
    assert!(bin.exists(), "{} missing", bin.display());
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Output of one stream, split at `\n` and `\r` (each tqdm redraw is a line), plus whether
/// the stream has ended.
#[derive(Default)]
struct Stream {
    lines: Vec<String>,
    ended: bool,
}

/// A running fake, killed (with its whole process group when it leads one) on drop.
struct Fake {
    child: Child,
    own_group: bool,
    status: Option<ExitStatus>,
    stdout: Arc<Mutex<Stream>>,
    stderr: Arc<Mutex<Stream>>,
    _readers: Vec<JoinHandle<()>>,
}

impl Fake {
    fn start(args: &[&str], env: &[(&str, &str)], own_group: bool) -> Fake {
        let mut cmd = Command::new(fake_bin());
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if own_group {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        let mut child = cmd.spawn().expect("fake_vllm starts");
        let stdout = Arc::new(Mutex::new(Stream::default()));
        let stderr = Arc::new(Mutex::new(Stream::default()));
        let readers = vec![
            reader(child.stdout.take().expect("piped"), Arc::clone(&stdout)),
            reader(child.stderr.take().expect("piped"), Arc::clone(&stderr)),
        ];
        Fake { child, own_group, status: None, stdout, stderr, _readers: readers }
    }

    /// `serve MODEL --host 127.0.0.1 --port PORT` plus `extra`, with a short start-up.
    fn serve(port: u16, extra: &[&str], env: &[(&str, &str)], own_group: bool) -> Fake {
        let port = port.to_string();
        let mut args =
            vec!["serve", "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8", "--host", "127.0.0.1", "--port", &port];
        args.extend_from_slice(extra);
        let mut all_env = vec![("FAKE_VLLM_STARTUP_MS", "100")];
        all_env.extend_from_slice(env);
        Fake::start(&args, &all_env, own_group)
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits"))
    }

    fn signal(&self, sig: Signal) {
        kill(self.pid(), sig).expect("signal delivered");
    }

    /// The exit status, waiting at most `limit`.
    fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
            if self.status.is_none() {
                if Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.status
    }

    /// Both streams' lines once they have ended (or after 5 s): stdout's, then stderr's.
    fn output(&self) -> (Vec<String>, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(lock(&self.stdout).ended && lock(&self.stderr).ended) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        (lock(&self.stdout).lines.clone(), lock(&self.stderr).lines.clone())
    }

    /// Wait until stdout has a line containing `text`.
    fn wait_stdout(&self, text: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if lock(&self.stdout).lines.iter().any(|l| l.contains(text)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        if self.own_group {
            let _ = killpg(self.pid(), Signal::SIGKILL);
        }
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn lock(stream: &Mutex<Stream>) -> std::sync::MutexGuard<'_, Stream> {
    stream.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn reader(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<Stream>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut pending = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = pipe.read(&mut buf).unwrap_or(0);
            let mut stream = lock(&into);
            if n == 0 {
                if !pending.is_empty() {
                    stream.lines.push(String::from_utf8_lossy(&pending).into_owned());
                }
                stream.ended = true;
                return;
            }
            for &b in &buf[..n] {
                if b == b'\n' || b == b'\r' {
                    if !pending.is_empty() {
                        stream.lines.push(String::from_utf8_lossy(&pending).into_owned());
                        pending.clear();
                    }
                } else {
                    pending.push(b);
                }
            }
        }
    })
}

/// One HTTP/1.0 exchange: the status and the body, or `None` when the connection fails.
fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    conn.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Some((status, body))
}

fn wait_healthy(port: u16, fake: &mut Fake) {
    let deadline = Instant::now() + READY_WITHIN;
    while Instant::now() < deadline {
        if http(port, "GET", "/health", "").is_some_and(|(s, _)| s == 200) {
            return;
        }
        if let Some(status) = fake.wait(Duration::ZERO) {
            panic!("fake_vllm exited before ready: {status:?}\n{:?}", fake.output());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("not ready within {READY_WITHIN:?}: {:?}", fake.output());
}

/// The phases one stream's lines mark, in order.
fn phases(lines: &[String]) -> Vec<Phase> {
    lines
        .iter()
        .flat_map(|l| classify(l))
        .filter_map(|f| match f {
            LogFact::Phase(p) => Some(p),
            _ => None,
        })
        .collect()
}

#[test]
fn version_and_usage() {
    let out = Command::new(fake_bin()).arg("--version").output().expect("runs");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0.33.0");
    for args in [&[][..], &["run", "x"][..], &["serve"][..], &["serve", "--port", "nope", "m"][..]] {
        let out = Command::new(fake_bin()).args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage: fake_vllm serve MODEL"), "{args:?}");
    }
    let out =
        Command::new(fake_bin()).args(["serve", "m"]).env("FAKE_VLLM_FAIL", "bogus").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ready_path_walks_every_phase_then_serves_and_stops_on_sigterm() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("record.json");
    let record_env = record.to_str().expect("utf-8 path");
    let extra = [
        "--served-model-name",
        "qwen3-coder-30b",
        "--max-model-len",
        "65536",
        "--enable-prefix-caching",
        "--tensor-parallel-size=1",
        "--gpu-memory-utilization",
        "0.92",
    ];
    let env = [
        ("FAKE_VLLM_STARTUP_MS", "400"),
        ("FAKE_VLLM_RECORD", record_env),
        ("PODCTL_RUN_ID", "run-ready-path"),
        ("UNRELATED_VAR", "x"),
    ];
    let mut fake = Fake::serve(port, &extra, &env, false);
    // Not bound before ready: connections are refused.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "port bound before ready");
    wait_healthy(port, &mut fake);

    let (status, models) = http(port, "GET", "/v1/models", "").expect("models answer");
    assert_eq!(status, 200);
    let models: serde_json::Value = serde_json::from_str(&models).expect("JSON");
    assert_eq!(models["data"][0]["id"], "qwen3-coder-30b");
    let chat = r#"{"model":"qwen3-coder-30b","messages":[{"role":"user","content":"hi"}]}"#;
    let (status, reply) = http(port, "POST", "/v1/chat/completions", chat).expect("chat answers");
    assert_eq!(status, 200, "{reply}");
    assert!(reply.contains("\"assistant\""), "{reply}");

    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).expect("record written")).expect("JSON");
    let mut argv = vec!["serve", "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8", "--host", "127.0.0.1", "--port"];
    let port_s = port.to_string();
    argv.push(&port_s);
    argv.extend_from_slice(&extra);
    assert_eq!(recorded["argv"], serde_json::json!(argv));
    assert_eq!(recorded["env"]["PODCTL_RUN_ID"], "run-ready-path");
    assert_eq!(recorded["env"]["FAKE_VLLM_STARTUP_MS"], "400");
    assert!(recorded["env"].get("UNRELATED_VAR").is_none());
    assert_eq!(recorded["pid"], fake.child.id());

    fake.signal(Signal::SIGTERM);
    let status = fake.wait(Duration::from_secs(2)).expect("exits on SIGTERM");
    assert_eq!(status.code(), Some(0));
    let (stdout, stderr) = fake.output();
    assert!(stdout.iter().any(|l| l.contains("Shutting down FastAPI HTTP server.")));

    for (name, lines) in [("stdout", &stdout), ("stderr", &stderr)] {
        let seen = phases(lines);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{name} phases out of order: {seen:?}");
    }
    let mut all = phases(&stdout);
    all.extend(phases(&stderr));
    for phase in
        [Phase::Starting, Phase::Loading, Phase::Compiling, Phase::KvCache, Phase::CudaGraphs, Phase::Ready]
    {
        assert!(all.contains(&phase), "{phase:?} never marked; stdout {stdout:#?} stderr {stderr:#?}");
    }
    assert_eq!(phases(&stdout).last(), Some(&Phase::Ready));
    let facts: Vec<LogFact> = stdout.iter().chain(&stderr).flat_map(|l| classify(l)).collect();
    assert!(facts.contains(&LogFact::Shards { done: 4, total: 4 }), "{facts:?}");
    assert!(facts.contains(&LogFact::GraphsPct(100)), "{facts:?}");
    assert!(facts.contains(&LogFact::KvMemoryGib(40.12)));
    assert!(facts.contains(&LogFact::KvCache { tokens: 438_272, context: None, concurrency: None }));
    assert!(facts.contains(&LogFact::Concurrency { context: 262_144, concurrency: 1.67 }));
    assert!(!facts.iter().any(|f| matches!(f, LogFact::Failure(_))), "{facts:?}");
}

#[test]
fn every_failure_kind_exits_1_and_is_diagnosed() {
    let table = [
        ("gpu_memory", FailureKind::GpuMemoryHeld),
        ("context", FailureKind::ContextTooLong),
        ("oom", FailureKind::ModelTooLarge),
        ("port", FailureKind::PortInUse),
        ("missing_model", FailureKind::ModelMissing),
        ("gated", FailureKind::ModelGated),
        ("disk", FailureKind::DiskFull),
        ("tp", FailureKind::TpTooLarge),
        ("fp8", FailureKind::Fp8BlockN),
        ("nccl", FailureKind::NcclShm),
        ("no_gpu", FailureKind::NoGpu),
        ("worker_killed", FailureKind::WorkerKilled),
        ("generic", FailureKind::EngineInitFailed),
    ];
    for (kind, want) in table {
        let port = free_port();
        let mut fake =
            Fake::serve(port, &[], &[("FAKE_VLLM_FAIL", kind), ("FAKE_VLLM_STARTUP_MS", "30")], false);
        let status = fake.wait(Duration::from_secs(10)).unwrap_or_else(|| panic!("{kind}: still running"));
        assert_eq!(status.code(), Some(1), "{kind}");
        let (stdout, stderr) = fake.output();
        assert!(
            stderr.last().is_some_and(|l| l.contains("Engine core initialization failed")),
            "{kind}: {stderr:?}"
        );
        let diagnosis = diagnose(stdout.iter().chain(&stderr).map(String::as_str));
        assert_eq!(diagnosis.map(|d| d.kind), Some(want), "{kind}: {stderr:#?}");
        assert!(http(port, "GET", "/health", "").is_none(), "{kind}: port bound");
    }
}

#[test]
fn sigterm_during_start_up_exits_0() {
    let mut fake = Fake::serve(free_port(), &[], &[("FAKE_VLLM_STARTUP_MS", "20000")], false);
    assert!(fake.wait_stdout("non-default args:", Duration::from_secs(10)));
    fake.signal(Signal::SIGTERM);
    let status = fake.wait(Duration::from_secs(2)).expect("exits on SIGTERM");
    assert_eq!(status.code(), Some(0));
    assert!(fake.output().0.iter().any(|l| l.contains("Shutting down FastAPI HTTP server.")));
}

#[test]
fn ignoring_sigterm_leaves_only_sigkill() {
    let port = free_port();
    let mut fake = Fake::serve(port, &[], &[("FAKE_VLLM_IGNORE_TERM", "1")], false);
    wait_healthy(port, &mut fake);
    fake.signal(Signal::SIGTERM);
    assert_eq!(fake.wait(Duration::from_millis(500)), None, "SIGTERM was not ignored");
    assert!(http(port, "GET", "/health", "").is_some_and(|(s, _)| s == 200));
    fake.signal(Signal::SIGKILL);
    let status = fake.wait(Duration::from_secs(2)).expect("exits on SIGKILL");
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
}

#[test]
fn crashes_on_the_first_starts_then_stays_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().to_str().expect("utf-8 path");
    let env =
        [("FAKE_VLLM_CRASH_AFTER_MS", "150"), ("FAKE_VLLM_CRASH_TIMES", "1"), ("FAKE_VLLM_STATE_DIR", state)];

    let port = free_port();
    let mut first = Fake::serve(port, &[], &env, false);
    wait_healthy(port, &mut first);
    let status = first.wait(Duration::from_secs(5)).expect("crashes");
    assert_eq!(status.code(), Some(1));
    let (stdout, _) = first.output();
    assert!(
        stdout.iter().any(|l| l.contains("Engine core proc EngineCore_DP0 died unexpectedly")),
        "{stdout:?}"
    );

    let port = free_port();
    let mut second = Fake::serve(port, &[], &env, false);
    wait_healthy(port, &mut second);
    assert_eq!(second.wait(Duration::from_millis(600)), None, "crashed again");
    second.signal(Signal::SIGTERM);
    assert_eq!(second.wait(Duration::from_secs(2)).and_then(|s| s.code()), Some(0));
    assert_eq!(std::fs::read_to_string(dir.path().join("starts")).expect("counted").trim(), "2");
}

/// Processes whose environment carries `PODCTL_RUN_ID=run`.
fn pids_with_run_id(run: &str) -> Vec<i32> {
    let marker = format!("PODCTL_RUN_ID={run}");
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid: &i32| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == marker.as_bytes()))
        })
        .collect();
    pids.sort_unstable();
    pids
}

fn proc_text(pid: i32, file: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default()
}

/// Running: it exists and is not a zombie.
fn alive(pid: i32) -> bool {
    let stat = proc_text(pid, "stat");
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    state.is_some_and(|s| s != 'Z')
}

fn ppid(pid: i32) -> i32 {
    let stat = proc_text(pid, "stat");
    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0)
}

/// The engine and the worker of a fake started with `FAKE_VLLM_GRANDCHILD=1` and `run`.
fn engine_and_worker(server: i32, run: &str) -> (i32, i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pids = pids_with_run_id(run);
        // Each is titled once it handles SIGTERM (before, a signal would kill it).
        let titled = |p: i32, comm: &str| proc_text(p, "comm").trim() == comm;
        let engine = pids.iter().copied().find(|&p| ppid(p) == server && titled(p, "VLLM::EngineCor"));
        let worker =
            engine.and_then(|e| pids.iter().copied().find(|&p| ppid(p) == e && titled(p, "VLLM::Worker_TP")));
        if let (Some(engine), Some(worker)) = (engine, worker) {
            return (engine, worker);
        }
        assert!(Instant::now() < deadline, "no titled engine and worker among {pids:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn engine_and_worker_are_titled_and_outlive_a_killed_server() {
    // The orphans made below are reparented to this test, not to init: a `podctl stop` in
    // another test at the same moment would sweep them as a pod's leftovers (orphaned
    // `VLLM::` processes) and this test would see them die.
    nix::sys::prctl::set_child_subreaper(true).expect("a subreaper");
    let run = format!("grandchild-{}", std::process::id());
    let port = free_port();
    let env =
        [("FAKE_VLLM_GRANDCHILD", "1"), ("FAKE_VLLM_IGNORE_TERM", "1"), ("PODCTL_RUN_ID", run.as_str())];
    let mut fake = Fake::serve(port, &[], &env, true);
    wait_healthy(port, &mut fake);
    let server = fake.pid().as_raw();
    let (engine, worker) = engine_and_worker(server, &run);
    assert_eq!(pids_with_run_id(&run), {
        let mut all = vec![server, engine, worker];
        all.sort_unstable();
        all
    });
    assert_eq!(proc_text(engine, "comm").trim(), "VLLM::EngineCor");
    assert_eq!(proc_text(worker, "comm").trim(), "VLLM::Worker_TP");
    assert!(proc_text(engine, "cmdline").starts_with("VLLM::EngineCore\0"));
    assert!(proc_text(worker, "cmdline").starts_with("VLLM::Worker_TP0\0"));

    // SIGTERM is ignored all the way down; SIGKILL to the server alone orphans the rest.
    for pid in [server, engine, worker] {
        kill(Pid::from_raw(pid), Signal::SIGTERM).expect("signal");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(engine) && alive(worker));
    assert_eq!(fake.wait(Duration::ZERO), None);
    fake.signal(Signal::SIGKILL);
    fake.wait(Duration::from_secs(2)).expect("server killed");
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(engine), "engine died with the server");
    assert!(alive(worker), "worker died with the server");
    assert_ne!(ppid(engine), server);

    // The group kill the stop recipe ends with reaches them.
    killpg(Pid::from_raw(server), Signal::SIGKILL).expect("group signalled");
    let deadline = Instant::now() + Duration::from_secs(5);
    while (alive(engine) || alive(worker)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(engine) && !alive(worker), "group SIGKILL left them running");
}

#[test]
fn sigterm_to_the_server_stops_engine_and_worker() {
    let run = format!("term-tree-{}", std::process::id());
    let port = free_port();
    let env = [("FAKE_VLLM_GRANDCHILD", "1"), ("PODCTL_RUN_ID", run.as_str())];
    let mut fake = Fake::serve(port, &[], &env, true);
    wait_healthy(port, &mut fake);
    let (engine, worker) = engine_and_worker(fake.pid().as_raw(), &run);
    fake.signal(Signal::SIGTERM);
    assert_eq!(fake.wait(Duration::from_secs(3)).and_then(|s| s.code()), Some(0));
    let deadline = Instant::now() + Duration::from_secs(3);
    while (alive(engine) || alive(worker)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(engine) && !alive(worker), "engine or worker survived SIGTERM");
}
