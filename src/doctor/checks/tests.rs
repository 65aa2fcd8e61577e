use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::doctor::Status;
use crate::doctor::facts::{
    AutostartFacts, Hf, Holder, Live, PortUse, ProbeResult, ProxyHttp, RunPod, Served, VllmHttp,
};
use crate::gpu::{Gpu, GpuReport, Source};
use crate::profile::{Origin, Profile};

fn profile(extra: &str) -> Profile {
    Profile::parse(
        "t",
        Origin::Builtin,
        &format!("model = \"Org/Model-30B-FP8\"\nserved_model_name = \"m\"\n{extra}"),
    )
    .expect("valid")
}

fn gpu(index: u32, used: u64) -> Gpu {
    Gpu {
        index,
        name: "NVIDIA H100 80GB HBM3".into(),
        uuid: None,
        memory_total_mib: 81_559,
        memory_used_mib: used,
        utilization_pct: Some(0),
        temperature_c: Some(35),
    }
}

/// A healthy pod: one idle GPU, vLLM and the proxy up, the probe answered with a call.
fn healthy() -> Facts {
    Facts {
        profile: Ok(profile("")),
        gpu: GpuReport {
            source: Some(Source::Nvml),
            driver_version: Some("580.1".into()),
            gpus: vec![gpu(0, 500)],
            error: None,
        },
        gpu_holders: Vec::new(),
        shm_bytes: Some(16 << 30),
        cpu_available_bytes: Some(64 << 30),
        instances: Vec::new(),
        vllm_exe: Some(PathBuf::from("/usr/bin/vllm")),
        vllm_version: Some("0.33.0".into()),
        hf: Hf {
            hub: "/workspace/hf/hub".into(),
            present: true,
            free_bytes: Some(200 << 30),
            estimated_bytes: Some(31 << 30),
            ..Hf::default()
        },
        ports: vec![
            PortUse {
                role: "vllm",
                port: 8000,
                listening: true,
                holders: vec![(10, "vllm serve".into())],
                ours: true,
            },
            PortUse {
                role: "proxy",
                port: 4000,
                listening: true,
                holders: vec![(9, "podctl".into())],
                ours: true,
            },
        ],
        vllm: VllmHttp {
            url: "http://127.0.0.1:8000/v1".into(),
            health: Some(200),
            models: Some(vec![Served { id: "m".into(), max_model_len: Some(65_536) }]),
        },
        proxy: ProxyHttp {
            url: "http://127.0.0.1:4000/v1".into(),
            host: Some("0.0.0.0".parse().expect("ip")),
            health: Some(200),
            ready: Some((200, "{}".into())),
            without_key: Some(401),
            with_key: Some(200),
            key_known: true,
        },
        probe: Some(ProbeResult {
            status: Some(200),
            body: json!({"choices": [{"message": {"content": null, "tool_calls": [{"function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}]}),
            error: None,
            took: Duration::from_millis(800),
        }),
        runpod: RunPod::default(),
        continue_config: None,
        autostart: AutostartFacts::default(),
    }
}

fn find<'a>(checks: &'a [Check], id: &str) -> &'a Check {
    checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn a_healthy_pod_passes_everything_and_lists_every_id_in_order() {
    let checks = all(&healthy());
    let ids: Vec<&str> = checks.iter().map(|c| c.id).collect();
    assert_eq!(ids, IDS);
    for c in &checks {
        assert!(matches!(c.status, Status::Pass | Status::Skip), "{c:?}");
    }
    assert_eq!(crate::doctor::exit_code(&checks), 0);
}

#[test]
fn no_gpu_fails_with_the_runpod_explanation() {
    let mut f = healthy();
    f.gpu = GpuReport {
        source: None,
        driver_version: None,
        gpus: vec![],
        error: Some("NVML: libnvidia-ml.so.1 missing".into()),
    };
    let checks = all(&f);
    let c = find(&checks, "gpu.driver");
    assert_eq!(c.status, Status::Fail);
    assert!(c.fix.as_deref().is_some_and(|x| x.contains("RunPod") && x.contains("zero GPUs")), "{c:?}");
    assert!(c.detail.as_deref().is_some_and(|d| d.contains("libnvidia-ml")));
    assert_eq!(crate::doctor::exit_code(&checks), 1);
}

#[test]
fn gpu_memory_held_names_orphaned_vllm_first() {
    let mut f = healthy();
    f.gpu.gpus = vec![gpu(0, 70_000)];
    f.gpu_holders = vec![
        Holder { pid: 300, title: "python train.py".into(), vllm: false, orphan: false, ours: false },
        Holder { pid: 200, title: "VLLM::EngineCore".into(), vllm: true, orphan: true, ours: false },
    ];
    let checks = all(&f);
    assert_eq!(find(&checks, "gpu.memory").status, Status::Fail);
    let holders = find(&checks, "gpu.holders");
    assert_eq!(holders.status, Status::Fail, "nothing of podctl runs: the holders are the problem");
    let detail = holders.detail.as_deref().expect("list");
    assert!(detail.starts_with("pid 200 VLLM::EngineCore (orphaned vLLM)"), "{detail}");
    assert!(
        holders.fix.as_deref().is_some_and(|x| x.contains("podctl stop --all") && x.contains("kill 200 300"))
    );
}

#[test]
fn tensor_parallel_beyond_the_gpus_and_small_shm() {
    let mut f = healthy();
    f.profile = Ok(profile("tensor_parallel_size = 2\n"));
    f.shm_bytes = Some(64 << 20);
    let checks = all(&f);
    let count = find(&checks, "gpu.count");
    assert_eq!(count.status, Status::Fail);
    assert!(count.fix.as_deref().is_some_and(|x| x.contains("tensor_parallel_size = 1")));
    assert_eq!(find(&checks, "gpu.shm").status, Status::Fail);
    f.gpu.gpus.push(gpu(1, 0));
    f.shm_bytes = Some(8 << 30);
    let checks = all(&f);
    assert_eq!(find(&checks, "gpu.count").status, Status::Pass);
    assert_eq!(find(&checks, "gpu.shm").status, Status::Pass);
}

#[test]
fn vllm_missing_model_missing_and_disk_short() {
    let mut f = healthy();
    f.vllm_exe = None;
    f.hf = Hf {
        hub: "/root/.cache/huggingface/hub".into(),
        present: false,
        free_bytes: Some(10 << 30),
        estimated_bytes: Some(31 << 30),
        ..Hf::default()
    };
    let checks = all(&f);
    assert!(
        find(&checks, "vllm.installed")
            .fix
            .as_deref()
            .is_some_and(|x| x.contains("podctl setup --install-vllm"))
    );
    let model = find(&checks, "vllm.model");
    assert_eq!(model.status, Status::Warn);
    assert!(model.fix.as_deref().is_some_and(|x| x.contains("HF_TOKEN")));
    let disk = find(&checks, "vllm.disk");
    assert_eq!(disk.status, Status::Fail);
    assert!(disk.summary.contains("10.0 GiB") && disk.summary.contains("31.0 GiB"), "{disk:?}");
}

#[test]
fn a_port_held_by_a_stranger_names_it() {
    let mut f = healthy();
    f.ports[1] = PortUse {
        role: "proxy",
        port: 4000,
        listening: true,
        holders: vec![(4321, "litellm --port 4000".into())],
        ours: false,
    };
    let c = find(&all(&f), "port.proxy").clone();
    assert_eq!(c.status, Status::Fail);
    assert!(c.summary.contains("pid 4321 (litellm --port 4000)"), "{c:?}");
    assert!(c.fix.as_deref().is_some_and(|x| x.contains("kill 4321") && x.contains("[proxy] port")));
}

#[test]
fn services_down_are_warnings_not_failures() {
    let mut f = healthy();
    f.vllm = VllmHttp { url: "http://127.0.0.1:8000/v1".into(), health: None, models: None };
    f.proxy = ProxyHttp { url: "http://127.0.0.1:4000/v1".into(), ..ProxyHttp::default() };
    f.probe = None;
    f.ports.iter_mut().for_each(|p| {
        p.listening = false;
        p.ours = false;
    });
    let checks = all(&f);
    assert_eq!(find(&checks, "service.vllm.health").status, Status::Warn);
    assert!(
        find(&checks, "service.vllm.health")
            .fix
            .as_deref()
            .is_some_and(|x| x.contains("podctl start t --proxy"))
    );
    assert_eq!(find(&checks, "probe.tool_call").status, Status::Skip);
    assert_eq!(crate::doctor::exit_code(&checks), 0);
}

#[test]
fn auth_missing_on_a_public_proxy_fails() {
    let mut f = healthy();
    f.proxy.without_key = Some(200);
    assert_eq!(find(&all(&f), "service.proxy.auth").status, Status::Fail);
    f.proxy.host = Some("127.0.0.1".parse().expect("ip"));
    assert_eq!(find(&all(&f), "service.proxy.auth").status, Status::Warn);
    f.proxy.without_key = Some(401);
    f.proxy.with_key = Some(401);
    assert_eq!(find(&all(&f), "service.proxy.auth").status, Status::Fail);
}

#[test]
fn a_probe_without_a_call_shows_the_raw_model_text() {
    let mut f = healthy();
    f.probe = Some(ProbeResult {
        status: Some(200),
        body: json!({"choices": [{"message": {"content": "<tool_call>{\"name\": \"get_weather\"", "tool_calls": null}}]}),
        error: None,
        took: Duration::from_secs(1),
    });
    let c = find(&all(&f), "probe.tool_call").clone();
    assert_eq!(c.status, Status::Fail);
    assert!(c.detail.as_deref().is_some_and(|d| d.contains("raw model text: <tool_call>{\"name\"")), "{c:?}");
    assert!(c.fix.as_deref().is_some_and(|x| x.contains("tool_format")));
}

#[test]
fn runpod_url_and_loopback_binding() {
    let mut f = healthy();
    f.runpod = RunPod { pod_id: Some("abc123".into()), gpu_count: Some("1".into()), public_ip: None };
    let c = find(&all(&f), "runpod").clone();
    assert_eq!(c.status, Status::Pass);
    assert!(c.summary.contains("https://abc123-4000.proxy.runpod.net/v1"), "{c:?}");
    assert!(c.detail.as_deref().is_some_and(|d| d.contains("expose HTTP port 4000")));
    f.proxy.host = Some("127.0.0.1".parse().expect("ip"));
    assert_eq!(find(&all(&f), "runpod").status, Status::Fail);
}

#[test]
fn continue_config_rules() {
    let mut f = healthy();
    let good = json!({"models": [{"name": "Q", "provider": "openai", "model": "m", "apiBase": "http://127.0.0.1:4000/v1",
        "capabilities": ["tool_use"], "defaultCompletionOptions": {"contextLength": 65536}}]});
    f.continue_config = Some(("c.yaml".into(), Ok(good)));
    assert_eq!(find(&all(&f), "continue.config").status, Status::Pass);
    let bad = json!({"models": [{"name": "Q", "provider": "vllm", "model": "m", "apiBase": "http://127.0.0.1:4000/v1",
        "defaultCompletionOptions": {"contextLength": 262_144}, "requestOptions": {"timeout": 600}}]});
    f.continue_config = Some(("c.yaml".into(), Ok(bad)));
    let c = find(&all(&f), "continue.config").clone();
    assert_eq!(c.status, Status::Fail);
    let d = c.detail.expect("problems");
    for word in ["provider", "tool_use", "contextLength 262144", "requestOptions.timeout"] {
        assert!(d.contains(word), "{word} in {d}");
    }
    f.continue_config = Some(("c.yaml".into(), Ok(json!({"models": []}))));
    assert!(
        find(&all(&f), "continue.config")
            .fix
            .as_deref()
            .is_some_and(|x| x.contains("continue-config --write"))
    );
}

#[test]
fn a_running_instance_owns_its_gpu_memory() {
    let mut f = healthy();
    f.gpu.gpus = vec![gpu(0, 75_000)];
    let record: crate::instance::Instance = serde_json::from_value(json!({
        "schema": 1, "profile": "t", "model": "Org/Model-30B-FP8", "served_model_name": "m", "run_id": "r",
        "state": "ready", "phase": "ready", "progress": null, "supervisor": {"pid": 1, "start_ticks": 0},
        "vllm": {"pid": 2, "start_ticks": 0}, "host": "127.0.0.1", "port": 8000, "proxy": null,
        "started_at": 0, "state_since": 0, "attempt_started_at": 0, "ready_at": 0, "restarts": 0,
        "exits": [], "failure": null, "kv_cache": {"memory_gib": null, "tokens": null, "context": null, "max_concurrency": null},
        "log": "/x", "foreground": false
    }))
    .expect("record");
    f.instances = vec![Live { record, supervisor_alive: true, vllm_alive: true }];
    f.gpu_holders =
        vec![Holder { pid: 2, title: "vllm serve".into(), vllm: true, orphan: false, ours: true }];
    let checks = all(&f);
    assert_eq!(find(&checks, "gpu.memory").status, Status::Pass);
    assert_eq!(find(&checks, "gpu.holders").status, Status::Pass);
}

#[test]
fn sleep_mode_needs_cpu_memory_for_the_weights() {
    let mut f = healthy();
    assert_eq!(find(&all(&f), "vllm.sleep").status, Status::Skip, "off by default");
    f.profile = Ok(profile("sleep = true"));
    assert_eq!(find(&all(&f), "vllm.sleep").status, Status::Pass);
    f.cpu_available_bytes = Some(16 << 30);
    let check = find(&all(&f), "vllm.sleep").clone();
    assert_eq!(check.status, Status::Fail, "{check:?}");
    assert!(check.summary.contains("16.0 GiB") || check.summary.contains("16 GiB"), "{}", check.summary);
    f.cpu_available_bytes = None;
    assert_eq!(find(&all(&f), "vllm.sleep").status, Status::Warn);
}

#[test]
fn autostart_says_whether_a_restarted_pod_serves_again() {
    use crate::setup::autostart::Found;
    let mut f = healthy();
    assert_eq!(find(&all(&f), "autostart").status, Status::Skip, "not on RunPod, none written");
    f.runpod = RunPod { pod_id: Some("abc123".into()), gpu_count: Some("1".into()), public_ip: None };
    let c = find(&all(&f), "autostart").clone();
    assert_eq!(c.status, Status::Warn);
    assert!(c.fix.as_deref().is_some_and(|x| x.contains("podctl setup --autostart")), "{c:?}");
    let found = Found {
        script: PathBuf::from("/workspace/podctl/autostart.sh"),
        command: Some("podctl serve qwen glm47".into()),
        runnable: true,
    };
    f.autostart = AutostartFacts { found: Some(found.clone()), pid1: Some("/start.sh".into()) };
    let c = find(&all(&f), "autostart").clone();
    assert_eq!(c.status, Status::Warn, "written, but the pod does not start with it: {c:?}");
    assert!(
        c.fix.as_deref().is_some_and(|x| x.contains("bash -c '/workspace/podctl/autostart.sh; /start.sh'"))
    );
    assert!(c.detail.as_deref().is_some_and(|d| d.contains("PID 1: /start.sh")));
    f.autostart.pid1 = Some("bash -c /workspace/podctl/autostart.sh; /start.sh".into());
    let c = find(&all(&f), "autostart").clone();
    assert_eq!(c.status, Status::Pass, "{c:?}");
    assert!(c.summary.contains("podctl serve qwen glm47"));
    f.autostart.found = Some(Found { runnable: false, ..found });
    let c = find(&all(&f), "autostart").clone();
    assert_eq!(c.status, Status::Fail);
    assert_eq!(c.fix.as_deref(), Some("podctl setup --autostart \"serve qwen glm47\""));
}
