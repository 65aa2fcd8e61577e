//! `podctl doctor` as a user runs it on this GPU-less machine: the truth about the missing
//! GPU, a fake `nvidia-smi` for the fallback path, a port held by a test listener, and every
//! service check plus the tool-call probe against the fake vLLM and the real proxy.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::harness::{Sandbox, text};
use crate::transcript::transcript;

const CALL: &str = "<tool_call>\\n<function=get_weather>\\n<parameter=city>\\nParis\\n</parameter>\\n</function>\\n</tool_call>";

fn checks(sb: &Sandbox, args: &[&str]) -> (Option<i32>, Vec<Value>) {
    let mut command = vec!["doctor", "tiny", "--json"];
    command.extend_from_slice(args);
    let out = sb.run(&command);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out.status.code(), list.as_array().expect("a list").clone())
}

fn status<'a>(list: &'a [Value], id: &str) -> &'a str {
    list.iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn no_gpu_is_a_failure_with_the_explanation_and_json_keeps_its_schema() {
    let sb = Sandbox::new("doc-nogpu", "", &[]);
    let (code, list) = checks(&sb, &[]);
    assert_eq!(code, Some(1));
    let ids: Vec<&str> = list.iter().map(|c| c["id"].as_str().unwrap_or("")).collect();
    assert_eq!(ids, podctl::doctor::checks::IDS);
    for c in &list {
        let keys: Vec<&String> = c.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["id", "status", "summary", "detail", "fix"], "{c}");
        assert!(["pass", "warn", "fail", "skip"].contains(&c["status"].as_str().unwrap_or("")), "{c}");
    }
    assert_eq!(status(&list, "gpu.driver"), "fail");
    let human = sb.run(&["doctor", "tiny"]);
    let table = text(&human);
    assert!(table.contains("✗ gpu.driver") && table.contains("zero GPUs"), "{table}");
    assert!(table.contains("fix:"), "{table}");
    sb.snapshot_settings().bind(|| insta::assert_snapshot!("doctor_nothing_running", transcript(&human)));
}

#[test]
fn nvidia_smi_fallback_and_a_held_port() {
    let mut sb = Sandbox::new("doc-smi", "", &[]);
    let bin = sb.dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let smi = bin.join("nvidia-smi");
    std::fs::write(
        &smi,
        "#!/bin/sh\necho '0, NVIDIA H100 80GB HBM3, GPU-1234, 81559, 79000, 3, 41, 580.95.05'\n",
    )
    .expect("script");
    std::fs::set_permissions(&smi, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    sb.env.push(("PATH".into(), path));
    let holder = std::net::TcpListener::bind(("127.0.0.1", sb.vllm_port)).expect("hold");
    let (code, list) = checks(&sb, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(status(&list, "gpu.driver"), "pass");
    let driver = list.iter().find(|c| c["id"] == "gpu.driver").expect("driver");
    assert!(
        driver["summary"].as_str().is_some_and(|s| s.contains("580.95.05") && s.contains("nvidia-smi")),
        "{driver}"
    );
    assert_eq!(status(&list, "gpu.devices"), "pass");
    assert_eq!(status(&list, "gpu.memory"), "fail", "79000 of 81559 MiB used");
    let port = list.iter().find(|c| c["id"] == "port.vllm").expect("port");
    assert_eq!(port["status"], "fail");
    assert!(
        port["summary"].as_str().is_some_and(|s| s.contains(&format!("pid {}", std::process::id()))),
        "{port}"
    );
    drop(holder);
}

#[test]
fn every_service_check_and_the_probe_pass_against_the_running_stack() {
    let mut sb = Sandbox::new("doc-up", "", &[("FAKE_VLLM_REPLY", CALL)]);
    sb.env.push(("PODCTL_API_KEY".into(), "sk-doctor-test".into()));
    let started = sb.run(&["start", "tiny", "--proxy"]);
    assert!(started.status.success(), "{}", text(&started));
    let (_, list) = checks(&sb, &[]);
    for id in [
        "port.vllm",
        "port.proxy",
        "service.vllm.health",
        "service.vllm.models",
        "service.proxy.health",
        "service.proxy.ready",
        "service.proxy.auth",
        "probe.tool_call",
    ] {
        assert_eq!(status(&list, id), "pass", "{id}: {list:#?}");
    }
    let probe = list.iter().find(|c| c["id"] == "probe.tool_call").expect("probe");
    assert!(
        probe["summary"].as_str().is_some_and(|s| s.contains("get_weather({\"city\":\"Paris\"})")),
        "{probe}"
    );
    let human = sb.run(&["doctor", "tiny"]);
    sb.snapshot_settings().bind(|| insta::assert_snapshot!("doctor_running_stack", transcript(&human)));

    // A Continue config pointed at this proxy passes; one with the usual mistakes fails.
    let good = sb.dir.join("good.yaml");
    std::fs::write(
        &good,
        format!(
            "name: dev\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: Qwen (podctl)\n    provider: openai\n    model: tiny\n    apiBase: http://127.0.0.1:{}/v1\n    apiKey: sk-doctor-test\n    capabilities: [tool_use]\n    defaultCompletionOptions:\n      contextLength: 32768\n",
            sb.proxy_port
        ),
    )
    .expect("write");
    let (_, list) = checks(&sb, &["--continue-config", &good.display().to_string()]);
    assert_eq!(status(&list, "continue.config"), "pass", "{list:#?}");
    let bad = sb.dir.join("bad.yaml");
    std::fs::write(&bad, format!("models:\n  - name: Q\n    provider: vllm\n    model: tiny\n    apiBase: http://127.0.0.1:{}/v1\n    defaultCompletionOptions:\n      contextLength: 262144\n", sb.proxy_port)).expect("write");
    let (_, list) = checks(&sb, &["--continue-config", &bad.display().to_string()]);
    assert_eq!(status(&list, "continue.config"), "fail");
    assert!(sb.run(&["stop"]).status.success());
}

#[test]
fn a_model_that_answers_in_prose_fails_the_probe_with_its_text() {
    let mut sb = Sandbox::new("doc-prose", "", &[("FAKE_VLLM_REPLY", "I cannot check the weather.")]);
    sb.env.push(("PODCTL_API_KEY".into(), "sk-doctor-test".into()));
    assert!(sb.run(&["start", "tiny", "--proxy"]).status.success());
    let out = sb.run(&["doctor", "tiny"]);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out);
    assert!(
        said.contains("✗ probe.tool_call") && said.contains("raw model text: I cannot check the weather."),
        "{said}"
    );
    assert!(sb.run(&["stop"]).status.success());
}
