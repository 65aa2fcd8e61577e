//! A sandbox for running the real `podctl` binary against the test-double `vllm`
//! (`examples/fake_vllm.rs`): its own podctl home, state dir, working dir with
//! `models/tiny.toml`, free ports, and checks on `/proc` that nothing of a run survives.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) fn podctl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_podctl"))
}

/// The test-double vllm, built on first use when `cargo test` has not built examples.
pub(crate) fn fake_vllm() -> PathBuf {
    static BUILD: Once = Once::new();
    let path = podctl_bin().parent().expect("target dir").join("examples").join("fake_vllm");
    BUILD.call_once(|| {
        if !path.exists() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--example", "fake_vllm"])
                .status()
                .expect("cargo build --example fake_vllm");
            assert!(status.success(), "building the fake vllm failed");
        }
    });
    assert!(path.exists(), "no fake vllm at {}", path.display());
    path
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// One sandbox.
pub(crate) struct Sandbox {
    pub(crate) dir: PathBuf,
    pub(crate) vllm_port: u16,
    pub(crate) proxy_port: u16,
    pub(crate) env: Vec<(String, String)>,
}

impl Sandbox {
    /// A sandbox whose `tiny` profile has `extra` appended (TOML top-level keys) and the
    /// fake's behaviour set by `fake_env` (`FAKE_VLLM_*`).
    pub(crate) fn new(name: &str, extra: &str, fake_env: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("podctl-life-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("models")).expect("models dir");
        let (vllm_port, proxy_port) = (free_port(), free_port());
        let mut env: Vec<(String, String)> =
            fake_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        if !env.iter().any(|(k, _)| k == "FAKE_VLLM_STARTUP_MS") {
            env.push(("FAKE_VLLM_STARTUP_MS".into(), "150".into()));
        }
        env.push(("FAKE_VLLM_STATE_DIR".into(), dir.join("fake").display().to_string()));
        env.push(("HF_HOME".into(), dir.join("hf").display().to_string()));
        let env_table = env.iter().fold(String::new(), |acc, (k, v)| acc + &format!("{k} = \"{v}\"\n"));
        let profile = format!(
            "description = \"test double\"\nmodel = \"test/tiny-model\"\nserved_model_name = \"tiny\"\n\
             tool_format = \"qwen3_coder\"\nport = {vllm_port}\nshutdown_timeout = 1\nstartup_timeout = 60\n{extra}\n\
             [env]\n{env_table}\n[proxy]\nhost = \"127.0.0.1\"\nport = {proxy_port}\n"
        );
        std::fs::write(dir.join("models").join("tiny.toml"), profile).expect("profile");
        std::fs::create_dir_all(dir.join("fake")).expect("fake dir");
        Self { dir, vllm_port, proxy_port, env: Vec::new() }
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(podctl_bin());
        cmd.args(args)
            .current_dir(&self.dir)
            .env("PODCTL_HOME", self.dir.join("home"))
            .env("PODCTL_STATE_DIR", self.dir.join("state"))
            .env("PODCTL_VLLM_BIN", fake_vllm())
            .env("NO_COLOR", "1")
            .env_remove("PODCTL_API_KEY")
            .env_remove("RUST_LOG");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("podctl runs")
    }

    pub(crate) fn status(&self) -> (Option<i32>, Value) {
        let out = self.run(&["status", "--json"]);
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), json)
    }

    /// The `tiny` instance in `status --json`.
    pub(crate) fn instance(&self) -> Value {
        let (_, json) = self.status();
        json["instances"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["profile"] == "tiny").cloned())
            .unwrap_or(Value::Null)
    }

    pub(crate) fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let inst = self.instance();
            if done(&inst) {
                return inst;
            }
            assert!(start.elapsed() < timeout, "timed out waiting for {what}; last status: {inst:#}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn run_id(&self) -> String {
        let record: Value = serde_json::from_slice(
            &std::fs::read(self.dir.join("state").join("tiny").join("instance.json")).expect("record"),
        )
        .expect("json");
        record["run_id"].as_str().expect("run id").to_owned()
    }

    /// Snapshot settings that name this sandbox's folder, ports and test-double vllm.
    pub(crate) fn snapshot_settings(&self) -> insta::Settings {
        let (dir, fake) = (self.dir.display().to_string(), fake_vllm().display().to_string());
        let (vllm_port, proxy_port) = (self.vllm_port.to_string(), self.proxy_port.to_string());
        crate::transcript::settings(&[
            (&dir, "[SANDBOX]"),
            (&fake, "[FAKE_VLLM]"),
            (&vllm_port, "[VLLM_PORT]"),
            (&proxy_port, "[PROXY_PORT]"),
        ])
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("state").join("tiny").join("vllm.log")).unwrap_or_default()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Whatever a failed test left: stop it all, so no test leaks processes.
        let _ = self.run(&["stop", "--all"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Live processes carrying this run id.
pub(crate) fn run_processes(run_id: &str) -> Vec<podctl::procs::Process> {
    podctl::procs::with_env("PODCTL_RUN_ID", run_id).into_iter().filter(|p| !p.is_zombie()).collect()
}

pub(crate) fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A minimal HTTP/1.0 exchange (no chunked bodies to decode) (Connection: close), returning status and body.
pub(crate) fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

pub(crate) fn port_free(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}
