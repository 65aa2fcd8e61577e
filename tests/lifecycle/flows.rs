//! The main path and the checks around it: start with the proxy, status, a request through
//! the proxy, logs, stop with nothing left; dry runs; refusals that save minutes.

use std::time::Duration;

use crate::harness::{Sandbox, http, port_free, run_processes, text};
use crate::transcript::transcript;

#[test]
fn start_with_proxy_status_chat_logs_stop() {
    // Long enough per phase for start's progress to show each one.
    let sb = Sandbox::new("main", "", &[("FAKE_VLLM_STARTUP_MS", "2500"), ("FAKE_VLLM_DOWNLOAD_MS", "1500")]);
    let out = sb.run(&["start", "tiny", "--proxy"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    // Not a terminal: one plain line per phase, from the fake's real-looking log lines.
    for phase in ["initialising", "downloading weights", "shards)", "CUDA graphs"] {
        assert!(said.to_lowercase().contains(&phase.to_lowercase()), "phase `{phase}` in:\n{said}");
    }
    assert!(said.contains("tiny ready in"), "{said}");

    let (code, json) = sb.status();
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["schema"], 1);
    let inst = &json["instances"][0];
    let keys: Vec<&String> = inst.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "profile",
            "model",
            "served_model_name",
            "state",
            "phase",
            "progress",
            "run_id",
            "pid",
            "supervisor_pid",
            "uptime_secs",
            "restarts",
            "last_exit",
            "failure",
            "vllm",
            "proxy",
            "kv_cache",
            "log"
        ],
        "the documented schema"
    );
    assert_eq!(inst["state"], "ready");
    assert_eq!(inst["served_model_name"], "tiny");
    assert_eq!(inst["vllm"]["port"], sb.vllm_port);
    assert_eq!(inst["vllm"]["healthy"], true);
    assert_eq!(inst["proxy"]["healthy"], true);
    assert_eq!(inst["restarts"], 0);
    assert!(inst["kv_cache"]["tokens"].as_u64().is_some_and(|t| t > 0), "{inst:#}");
    let pid = inst["pid"].as_i64().expect("pid");
    let proc = podctl::procs::read(i32::try_from(pid).expect("pid")).expect("vLLM runs");
    assert_eq!(podctl::procs::env_var(proc.pid, "PODCTL_RUN_ID"), Some(sb.run_id()));
    assert_eq!(proc.pgid, proc.pid, "vLLM leads its own process group");

    // Through the proxy, by the served name.
    let (status, body) = http(
        sb.proxy_port,
        "POST",
        "/v1/chat/completions",
        Some(r#"{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"#),
    )
    .expect("proxy answers");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"chat.completion\""), "{body}");

    // The proxy's status file shows the replica once it has been probed (within a second or
    // two); until then the table says "not probed yet", which the snapshot must not catch.
    let probed = |json: &serde_json::Value| json["proxies"][0]["models"][0]["replicas"][0]["state"] == "up";
    let start = std::time::Instant::now();
    while !probed(&sb.status().1) && start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let table = sb.run(&["status"]);
    let table_text = text(&table);
    assert!(
        table_text.contains("tiny") && table_text.contains("ready") && table_text.contains("healthy"),
        "{table_text}"
    );
    sb.snapshot_settings().bind(|| insta::assert_snapshot!("status_ready_with_proxy", transcript(&table)));

    let logs = sb.run(&["logs", "tiny", "-n", "500"]);
    let log_text = text(&logs);
    assert!(logs.status.success() && log_text.contains("Application startup complete"), "{log_text}");
    assert!(!log_text.contains('\r'), "redraws are folded");

    let run_id = sb.run_id();
    let out = sb.run(&["stop"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("stopped tiny"), "{}", text(&out));
    assert!(run_processes(&run_id).is_empty(), "survivors: {:?}", run_processes(&run_id));
    assert!(port_free(sb.vllm_port) && port_free(sb.proxy_port));
    let (code, json) = sb.status();
    assert_eq!(code, Some(3), "nothing running: {json:#}");
    assert_eq!(json["instances"][0]["state"], "stopped");
    let again = sb.run(&["stop", "tiny"]);
    assert!(again.status.success() && text(&again).contains("not running"), "{}", text(&again));
}

#[test]
fn an_eager_start_shows_only_the_phases_vllm_went_through() {
    // `--enforce-eager` (and vLLM's CPU backend): no torch.compile, no CUDA graphs. The
    // server's own "Starting vLLM server" line must not show up as a phase it never had.
    let sb = Sandbox::new("eager", "extra_args = [\"--enforce-eager\"]", &[("FAKE_VLLM_STARTUP_MS", "2000")]);
    let out = sb.run(&["start", "tiny"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("allocating KV cache"), "{said}");
    assert!(!said.contains("CUDA graphs") && !said.contains("compiling"), "{said}");
    assert!(said.contains("tiny ready in"), "{said}");
}

#[test]
fn dry_run_prints_the_exact_command_for_every_builtin_profile() {
    let sb = Sandbox::new("dry", "", &[]);
    for (name, model) in [
        ("qwen", "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"),
        ("qwen-bf16", "Qwen/Qwen3-Coder-30B-A3B-Instruct"),
        ("qwen-tp2", "Qwen/Qwen3-Coder-30B-A3B-Instruct"),
        ("qwen3", "Qwen/Qwen3-30B-A3B-Instruct-2507-FP8"),
        ("llama3", "meta-llama/Llama-3.1-8B-Instruct"),
        ("devstral", "mistralai/Devstral-Small-2507"),
        ("deepseek-v31", "deepseek-ai/DeepSeek-V3.1"),
        ("glm45-air", "zai-org/GLM-4.5-Air-FP8"),
        ("kimi-k2", "moonshotai/Kimi-K2-Instruct-0905"),
        ("tiny", "test/tiny-model"),
    ] {
        let out = sb.run(&["start", name, "--dry-run"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {}", text(&out));
        assert!(stdout.contains(&format!("serve {model}")), "{name}: {stdout}");
        assert!(stdout.contains("--served-model-name") && stdout.contains("PODCTL_RUN_ID="), "{stdout}");
    }
    let qwen = String::from_utf8_lossy(&sb.run(&["start", "qwen", "--dry-run"]).stdout).into_owned();
    let lines: Vec<&str> = qwen.lines().map(|l| l.trim().trim_end_matches(" \\")).collect();
    for expected in [
        "--served-model-name qwen3-coder-30b",
        "--host 127.0.0.1",
        "--port 8000",
        "--max-model-len 262144",
        "--gpu-memory-utilization 0.92",
        "--shutdown-timeout 30",
        "--enable-prefix-caching",
    ] {
        assert!(lines.contains(&expected), "`{expected}` in:\n{qwen}");
    }
    assert!(!qwen.contains("tool-call-parser") && !qwen.contains("--api-key"), "{qwen}");
    let devstral = String::from_utf8_lossy(&sb.run(&["start", "devstral", "--dry-run"]).stdout).into_owned();
    assert!(
        devstral.contains("--tokenizer-mode mistral") && devstral.contains("--load-format mistral"),
        "{devstral}"
    );
    let kimi = String::from_utf8_lossy(&sb.run(&["start", "kimi-k2", "--dry-run"]).stdout).into_owned();
    assert!(kimi.contains("--trust-remote-code") && kimi.contains("--tensor-parallel-size 8"), "{kimi}");
    let tp2 = sb.run(&["start", "qwen-tp2", "--dry-run"]);
    assert!(String::from_utf8_lossy(&tp2.stdout).contains("--tensor-parallel-size 2"));
    let with_proxy = sb.run(&["start-vllm", "tiny", "--dry-run", "--proxy"]);
    assert!(
        String::from_utf8_lossy(&with_proxy.stdout).contains("# proxy: http://127.0.0.1:"),
        "{}",
        text(&with_proxy)
    );
    assert!(!sb.dir.join("state").join("tiny").exists(), "a dry run starts nothing");
}

#[test]
fn broken_profile_names_file_line_and_key() {
    let sb = Sandbox::new("broken", "gpu_memory_utilisation = 0.9", &[]);
    let out = sb.run(&["start", "tiny"]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out);
    assert!(said.contains("models/tiny.toml:") && said.contains("gpu_memory_utilisation"), "{said}");
    assert!(said.contains("did you mean `gpu_memory_utilization`"), "{said}");
    let missing = sb.run(&["start", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("qwen-bf16"), "lists what exists: {}", text(&missing));
}

#[test]
fn refuses_a_held_port_naming_the_holder_and_a_double_start() {
    let sb = Sandbox::new("ports", "", &[]);
    let holder = std::net::TcpListener::bind(("127.0.0.1", sb.vllm_port)).expect("hold the port");
    let out = sb.run(&["start", "tiny"]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out);
    assert!(
        said.contains(&format!("port {}", sb.vllm_port)) && said.contains(&std::process::id().to_string()),
        "{said}"
    );
    drop(holder);

    let first = sb.run(&["start", "tiny"]);
    assert!(first.status.success(), "{}", text(&first));
    let second = sb.run(&["start", "tiny"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(text(&second).contains("already running"), "{}", text(&second));
    assert!(sb.run(&["stop", "tiny"]).status.success());
}

#[test]
fn profiles_lists_local_and_builtin() {
    let sb = Sandbox::new("profiles", "", &[]);
    let out = sb.run(&["profiles", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<(&str, &str)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|e| (e["name"].as_str().unwrap_or(""), e["origin"].as_str().unwrap_or("")))
        .collect();
    assert!(names.contains(&("tiny", "local")) && names.contains(&("qwen", "built-in")), "{names:?}");
    let table = text(&sb.run(&["profiles"]));
    assert!(table.contains("tiny") && table.contains("Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"), "{table}");
}

#[test]
fn foreground_runs_attached_and_ctrl_c_stops_everything() {
    let sb = Sandbox::new("fg", "", &[]);
    let mut child = sb
        .command(&["start", "tiny", "--foreground", "--proxy"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let inst = sb.wait_for("ready", Duration::from_secs(30), |i| i["state"] == "ready");
    assert_eq!(inst["proxy"]["healthy"], true);
    let run_id = sb.run_id();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("signal");
    let status = child.wait().expect("exits");
    assert!(status.success(), "{status}");
    assert!(run_processes(&run_id).is_empty());
    assert!(port_free(sb.vllm_port) && port_free(sb.proxy_port));
    assert_eq!(sb.instance()["state"], "stopped");
}
