//! Everything doctor looks at, gathered once: short timeouts and the HTTP probes in
//! parallel, so a machine where nothing runs is diagnosed in well under 3 s.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::gpu::GpuReport;
use crate::instance::{Instance, Store};
use crate::profile::{Profile, catalog};

/// A process holding a GPU device open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    pub title: String,
    pub vllm: bool,
    /// Its parent is gone (reparented to init): nothing will ever stop it.
    pub orphan: bool,
    /// It belongs to a run podctl supervises right now.
    pub ours: bool,
}

/// A port and who listens on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortUse {
    /// `vllm` or `proxy`.
    pub role: &'static str,
    pub port: u16,
    pub listening: bool,
    /// `(pid, command)` of the listeners /proc shows.
    pub holders: Vec<(i32, String)>,
    /// A listener is podctl's supervisor, its vLLM, or a `podctl proxy`.
    pub ours: bool,
}

/// The Hugging Face side of the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hf {
    pub hub: PathBuf,
    /// A local path, or complete files in the hub cache.
    pub present: bool,
    pub local_path: bool,
    pub token_set: bool,
    /// Free bytes on the file system of the hub cache (or its nearest existing parent).
    pub free_bytes: Option<u64>,
    /// From the parameter count in the name and the precision.
    pub estimated_bytes: Option<u64>,
}

/// A model `/v1/models` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub id: String,
    pub max_model_len: Option<u64>,
}

/// vLLM's HTTP side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VllmHttp {
    pub url: String,
    /// `/health` status, `None` when nothing answered.
    pub health: Option<u16>,
    pub models: Option<Vec<Served>>,
}

/// The proxy's HTTP side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyHttp {
    pub url: String,
    pub host: Option<IpAddr>,
    pub health: Option<u16>,
    pub ready: Option<(u16, String)>,
    /// `/v1/models` without a key.
    pub without_key: Option<u16>,
    /// `/v1/models` with the configured key (when one is known).
    pub with_key: Option<u16>,
    pub key_known: bool,
}

/// The end-to-end tool-call probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    pub status: Option<u16>,
    pub body: Value,
    pub error: Option<String>,
    pub took: Duration,
}

/// RunPod's environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunPod {
    pub pod_id: Option<String>,
    pub gpu_count: Option<String>,
    pub public_ip: Option<String>,
}

/// The autostart script (`podctl setup --autostart`) and what the pod started with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutostartFacts {
    /// The script under the podctl home, if there is one.
    pub found: Option<crate::setup::autostart::Found>,
    /// PID 1's command line (in a container: the pod's start command).
    pub pid1: Option<String>,
}

/// A running (or last run) instance and what is alive of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub record: Instance,
    pub supervisor_alive: bool,
    pub vllm_alive: bool,
}

/// Everything the checks need.
#[derive(Debug, Clone)]
pub struct Facts {
    pub profile: Result<Profile, String>,
    pub gpu: GpuReport,
    pub gpu_holders: Vec<Holder>,
    pub shm_bytes: Option<u64>,
    /// `MemAvailable` in /proc/meminfo: what a sleeping model's weights would go into.
    pub cpu_available_bytes: Option<u64>,
    pub instances: Vec<Live>,
    pub vllm_exe: Option<PathBuf>,
    pub vllm_version: Option<String>,
    pub hf: Hf,
    pub ports: Vec<PortUse>,
    pub vllm: VllmHttp,
    pub proxy: ProxyHttp,
    pub probe: Option<ProbeResult>,
    pub runpod: RunPod,
    /// `--continue-config FILE`: its path and parsed YAML, or why it could not be read.
    pub continue_config: Option<(PathBuf, Result<Value, String>)>,
    pub autostart: AutostartFacts,
}

/// The tool the probe offers.
pub const PROBE_TOOL: &str = "get_weather";

/// The probe's request body.
pub fn probe_request(model: &str) -> Value {
    json!({
        "model": model,
        "temperature": 0,
        "max_tokens": 256,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. Use the tools you are given."},
            {"role": "user", "content": "What is the weather in Paris right now? Use the get_weather tool."}
        ],
        "tools": [{"type": "function", "function": {
            "name": PROBE_TOOL,
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}
        }}]
    })
}

/// Which profile to check: the one named, else the one running, else `qwen`.
fn choose_profile(name: Option<&str>, instances: &[Live]) -> Result<Profile, String> {
    if let Some(n) = name {
        return catalog::find(n).map_err(|e| format!("{e} ({})", e.hint()));
    }
    let store = Store::from_env();
    if let Some(live) = instances.iter().find(|l| l.supervisor_alive) {
        let path = store.dir(&live.record.profile).join("profile.toml");
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(p) = Profile::parse(&live.record.profile, crate::profile::Origin::File(path), &text)
        {
            return Ok(p);
        }
    }
    catalog::find("qwen").map_err(|e| e.to_string())
}

/// Parameter count from a model name (`…-30B-A3B…` → 30e9), times bytes per parameter.
pub fn estimate_model_bytes(model: &str, quantization: Option<&str>) -> Option<u64> {
    let lower = model.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let billions = name
        .split(['-', '_', '.'])
        .filter_map(|part| part.strip_suffix('b'))
        .filter_map(|n| n.parse::<f64>().ok())
        .find(|n| *n > 0.0)?;
    let bytes_per_param = if name.contains("fp8") || name.contains("int8") || quantization == Some("fp8") {
        1.0
    } else if name.contains("awq") || name.contains("gptq") || name.contains("int4") {
        0.5
    } else {
        2.0
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "an estimate")]
    Some((billions * 1e9 * bytes_per_param) as u64)
}

fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let mut p = path.to_path_buf();
    while !p.exists() {
        p = p.parent()?.to_path_buf();
    }
    let st = nix::sys::statvfs::statvfs(&p).ok()?;
    Some(st.blocks_available() * st.fragment_size())
}

fn hf_facts(profile: &Profile) -> Hf {
    let getenv = |k: &str| profile.env.get(k).cloned().or_else(|| std::env::var(k).ok());
    let workspace = std::path::Path::new(crate::home::WORKSPACE).is_dir();
    let hub = crate::supervisor::download::hub_dir(&|k| {
        getenv(k).or_else(|| (workspace && k == "HF_HOME").then(|| "/workspace/hf".to_owned()))
    });
    let local_path = profile.model.starts_with('/') || profile.model.starts_with('.');
    let present = if local_path {
        std::path::Path::new(&profile.model).exists()
    } else {
        let snapshots = hub.join(format!("models--{}", profile.model.replace('/', "--"))).join("snapshots");
        std::fs::read_dir(snapshots).is_ok_and(|mut d| d.next().is_some())
            && crate::supervisor::download::in_progress(&hub, &profile.model).is_none()
    };
    Hf {
        free_bytes: free_bytes(&hub),
        estimated_bytes: estimate_model_bytes(&profile.model, profile.quantization.as_deref()),
        token_set: getenv("HF_TOKEN").is_some_and(|t| !t.is_empty()),
        hub,
        present,
        local_path,
    }
}

fn port_use(role: &'static str, port: u16, instances: &[Live]) -> PortUse {
    let pids = crate::procs::listeners(port);
    let ours_pids: Vec<i32> = instances
        .iter()
        .filter(|l| l.supervisor_alive || l.vllm_alive)
        .flat_map(|l| [Some(l.record.supervisor.pid), l.record.vllm.map(|v| v.pid)])
        .flatten()
        .collect();
    let holders: Vec<(i32, String)> =
        pids.iter().filter_map(|&pid| crate::procs::read(pid)).map(|p| (p.pid, p.short_title(60))).collect();
    let ours = pids.iter().any(|pid| {
        ours_pids.contains(pid)
            || crate::procs::read(*pid).is_some_and(|p| ours_pids.contains(&p.pgid) || p.comm == "podctl")
    });
    PortUse { role, port, listening: crate::procs::port_listening(port), holders, ours }
}

fn holders(instances: &[Live]) -> Vec<Holder> {
    let all = crate::procs::all();
    let runs: Vec<&str> =
        instances.iter().filter(|l| l.vllm_alive).map(|l| l.record.run_id.as_str()).collect();
    crate::procs::gpu_holders()
        .into_iter()
        .filter_map(|pid| all.iter().find(|p| p.pid == pid).cloned())
        .map(|p| {
            let orphan = crate::supervisor::stop::is_orphan(&p, &all);
            let run = crate::procs::env_var(p.pid, crate::vllm::argv::RUN_ID_VAR);
            Holder {
                pid: p.pid,
                title: p.short_title(60),
                vllm: p.is_vllm_title() || p.cmdline.contains("vllm"),
                orphan,
                ours: run.is_some_and(|r| runs.contains(&r.as_str())),
            }
        })
        .collect()
}

async fn get(client: &reqwest::Client, url: String, key: Option<&str>) -> Option<(u16, String)> {
    let mut req = client.get(url);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.text().await.unwrap_or_default()))
}

fn served(body: &str) -> Option<Vec<Served>> {
    let v: Value = serde_json::from_str(body).ok()?;
    Some(
        v["data"]
            .as_array()?
            .iter()
            .filter_map(|m| {
                Some(Served { id: m["id"].as_str()?.to_owned(), max_model_len: m["max_model_len"].as_u64() })
            })
            .collect(),
    )
}

/// Gathers the facts for `profile` (None: the running one, else `qwen`).
pub async fn gather(profile: Option<&str>, continue_config: Option<PathBuf>) -> Facts {
    let store = Store::from_env();
    let instances: Vec<Live> = store
        .list()
        .into_iter()
        .map(|record| Live {
            supervisor_alive: record.supervisor.alive(),
            vllm_alive: record.vllm.is_some_and(crate::instance::ProcRef::alive),
            record,
        })
        .collect();
    let profile = choose_profile(profile, &instances);
    let gpu_task = tokio::task::spawn_blocking(crate::gpu::probe);
    let running = profile
        .as_ref()
        .ok()
        .and_then(|p| instances.iter().find(|l| l.record.profile == p.name && l.supervisor_alive));

    let (vllm_host, vllm_port) = match (running, &profile) {
        (Some(l), _) => (l.record.host.clone(), l.record.port),
        (None, Ok(p)) => (p.host.clone(), p.port),
        (None, Err(_)) => ("127.0.0.1".to_owned(), 8000),
    };
    let (proxy_host, proxy_port) = match (running.and_then(|l| l.record.proxy.clone()), &profile) {
        (Some(p), _) => (p.host.parse().ok(), p.port),
        (None, Ok(p)) => (Some(p.proxy.host), p.proxy.port),
        (None, Err(_)) => (None, 4000),
    };
    let served_name = profile.as_ref().map(|p| p.served_model_name.clone()).unwrap_or_default();
    let proxy_config = profile.as_ref().ok().and_then(|p| crate::supervisor::proxy::config(p).ok());
    let proxy_tls = proxy_config.as_ref().is_some_and(|c| c.tls.is_some());
    let key = proxy_config.and_then(|c| c.keys.into_iter().next());
    let vllm_key =
        profile.as_ref().ok().and_then(|p| p.api_key_env.as_ref()).and_then(|v| std::env::var(v).ok());

    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_millis(1500))
        .no_proxy()
        // The proxy's own certificate names the pod, not 127.0.0.1: this is a local check.
        .tls_danger_accept_invalid_certs(proxy_tls)
        .build()
        .unwrap_or_default();
    let vllm_base = format!("http://{}:{vllm_port}", crate::procs::connect_host(&vllm_host));
    let proxy_base = format!("{}://127.0.0.1:{proxy_port}", if proxy_tls { "https" } else { "http" });
    let (v_health, v_models, p_health, p_ready, p_nokey, p_key) = tokio::join!(
        get(&client, format!("{vllm_base}/health"), None),
        get(&client, format!("{vllm_base}/v1/models"), vllm_key.as_deref()),
        get(&client, format!("{proxy_base}/health"), None),
        get(&client, format!("{proxy_base}/health/ready"), None),
        get(&client, format!("{proxy_base}/v1/models"), None),
        async {
            match &key {
                Some(k) => get(&client, format!("{proxy_base}/v1/models"), Some(k)).await,
                None => None,
            }
        },
    );
    let vllm = VllmHttp {
        url: format!("{vllm_base}/v1"),
        health: v_health.map(|(s, _)| s),
        models: v_models.and_then(|(s, b)| if s == 200 { served(&b) } else { None }),
    };
    let proxy = ProxyHttp {
        url: format!("{proxy_base}/v1"),
        host: proxy_host,
        health: p_health.map(|(s, _)| s),
        ready: p_ready,
        without_key: p_nokey.map(|(s, _)| s),
        with_key: p_key.map(|(s, _)| s),
        key_known: key.is_some(),
    };
    let probe = if proxy.health == Some(200) && vllm.health == Some(200) && !served_name.is_empty() {
        Some(run_probe(&proxy_base, &served_name, key.as_deref()).await)
    } else {
        None
    };

    let (vllm_exe, vllm_version) = match &profile {
        Ok(p) => {
            let exe = crate::vllm::locate::find_vllm(&p.vllm_bin);
            let version = match &exe {
                Some(e) => {
                    let e = e.clone();
                    tokio::task::spawn_blocking(move || crate::vllm::locate::version(&e)).await.ok().flatten()
                }
                None => None,
            };
            (exe, version)
        }
        Err(_) => (None, None),
    };
    let hf = profile.as_ref().map(hf_facts).unwrap_or_default();
    let ports = vec![port_use("vllm", vllm_port, &instances), port_use("proxy", proxy_port, &instances)];
    let gpu = gpu_task.await.unwrap_or_else(|e| GpuReport {
        source: None,
        driver_version: None,
        gpus: Vec::new(),
        error: Some(e.to_string()),
    });
    let continue_config = continue_config.map(|path| {
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_norway::from_str::<Value>(&t).map_err(|e| format!("not valid YAML: {e}")));
        (path, parsed)
    });
    Facts {
        gpu_holders: holders(&instances),
        shm_bytes: nix::sys::statvfs::statvfs("/dev/shm").ok().map(|s| s.blocks() * s.fragment_size()),
        cpu_available_bytes: mem_available(),
        profile,
        gpu,
        instances,
        vllm_exe,
        vllm_version,
        hf,
        ports,
        vllm,
        proxy,
        probe,
        runpod: RunPod {
            pod_id: std::env::var("RUNPOD_POD_ID").ok().filter(|v| !v.is_empty()),
            gpu_count: std::env::var("RUNPOD_GPU_COUNT").ok(),
            public_ip: std::env::var("RUNPOD_PUBLIC_IP").ok(),
        },
        continue_config,
        autostart: AutostartFacts {
            found: crate::setup::autostart::read(&crate::home::home()),
            pid1: std::fs::read("/proc/1/cmdline").ok().map(|raw| {
                raw.split(|b| *b == 0)
                    .filter(|w| !w.is_empty())
                    .map(|w| String::from_utf8_lossy(w))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        },
    }
}

async fn run_probe(base: &str, model: &str, key: Option<&str>) -> ProbeResult {
    let client =
        reqwest::Client::builder().timeout(Duration::from_mins(1)).no_proxy().build().unwrap_or_default();
    let mut req = client.post(format!("{base}/v1/chat/completions")).json(&probe_request(model));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let began = Instant::now();
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp.json::<Value>().await.unwrap_or(Value::Null);
            ProbeResult { status: Some(status), body, error: None, took: began.elapsed() }
        }
        Err(e) => {
            ProbeResult { status: None, body: Value::Null, error: Some(e.to_string()), took: began.elapsed() }
        }
    }
}

/// `MemAvailable` from /proc/meminfo, in bytes.
fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_size_from_the_name() {
        let gb = |m: &str, q: Option<&str>| estimate_model_bytes(m, q).map(|b| b / 1_000_000_000);
        assert_eq!(gb("Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8", None), Some(30));
        assert_eq!(gb("Qwen/Qwen3-Coder-30B-A3B-Instruct", None), Some(60));
        assert_eq!(gb("meta-llama/Llama-3.1-8B-Instruct", Some("fp8")), Some(8));
        assert_eq!(gb("Qwen/Qwen2.5-Coder-32B-Instruct-AWQ", None), Some(16));
        assert_eq!(gb("org/tiny-model", None), None);
    }

    #[test]
    fn the_probe_offers_one_tool() {
        let body = probe_request("m");
        assert_eq!(body["tools"][0]["function"]["name"], PROBE_TOOL);
        assert_eq!(body["model"], "m");
    }
}
