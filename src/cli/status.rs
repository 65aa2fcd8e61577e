//! `podctl status [--json]`: every instance podctl knows, checked live (processes, vLLM's
//! and the proxy's `/health`), every running proxy with its replicas, and the GPUs, as a
//! table or as JSON with a stable schema (README).
//! Exit codes: 0 all ready, 1 something failed, starting or degraded, 3 nothing running.

use std::time::Duration;

use clap::Args;
use console::style;
use serde::{Serialize, Serializer};

use super::start::{block_on, state_word};
use crate::instance::{ExitRecord, Instance, KvCache, Problem, State, Store, now};
use crate::proxy::router::ReplicaState;
use crate::ui::{Printer, UserError, exit};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON (schema in README).
    #[arg(long)]
    pub json: bool,
}

/// `status --json`.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    pub schema: u32,
    pub instances: Vec<InstanceStatus>,
    /// Every running proxy (`podctl proxy`, or one started with `start --proxy`) and the
    /// state of each replica behind it, as of the last second.
    pub proxies: Vec<crate::proxy::ProxyStatus>,
    pub gpus: Vec<crate::gpu::Gpu>,
}

/// One instance, as `status --json` shows it.
#[derive(Debug, Serialize)]
pub(super) struct InstanceStatus {
    pub profile: String,
    pub model: String,
    pub served_model_name: String,
    /// starting, ready, restarting, failed, stopping, stopped, or `lost`.
    pub state: Seen,
    pub phase: String,
    pub progress: Option<String>,
    pub run_id: String,
    pub pid: Option<i32>,
    pub supervisor_pid: Option<i32>,
    pub uptime_secs: Option<u64>,
    pub restarts: u32,
    pub last_exit: Option<ExitRecord>,
    pub failure: Option<Problem>,
    pub vllm: Endpoint,
    pub proxy: Option<Endpoint>,
    pub kv_cache: KvCache,
    pub log: String,
}

/// An instance's state as `status` sees it: what its record says, or `lost` when the record
/// says running but the supervisor is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    Recorded(State),
    Lost,
    /// Ready to its supervisor, but put to sleep by `podctl serve` (weights in CPU memory;
    /// the next request wakes it).
    Sleeping,
}

impl Seen {
    /// Running, or meant to be: neither stopped nor failed (a lost one still holds a port
    /// or the GPU until `stop` cleans up).
    fn running(self) -> bool {
        !matches!(self, Self::Recorded(State::Stopped | State::Failed))
    }
}

/// Written as the record's own word (`ready`, `failed`, …) or `lost`, the words scripts match.
impl Serialize for Seen {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Recorded(state) => state.serialize(serializer),
            Self::Lost => serializer.serialize_str("lost"),
            Self::Sleeping => serializer.serialize_str("sleeping"),
        }
    }
}

/// A port and whether it answers.
#[derive(Debug, Serialize)]
pub(super) struct Endpoint {
    pub url: String,
    pub port: u16,
    /// `/health` answered 200 (null when not checked because nothing runs).
    pub healthy: Option<bool>,
}

async fn healthy(url: String) -> bool {
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(2)).no_proxy().build().unwrap_or_default();
    client.get(url).send().await.is_ok_and(|r| r.status().is_success())
}

async fn check(r: &Instance) -> InstanceStatus {
    let lost = r.is_stale();
    let running = r.state.is_active() && !lost;
    let vllm_url = format!("http://{}:{}", crate::procs::connect_host(&r.host), r.port);
    let vllm_alive = r.vllm.is_some_and(crate::instance::ProcRef::alive);
    let vllm_health = if vllm_alive { Some(healthy(format!("{vllm_url}/health")).await) } else { None };
    let proxy = match &r.proxy {
        Some(p) => {
            let url = format!("http://{}:{}", crate::procs::connect_host(&p.host), p.port);
            let health = if running { Some(healthy(format!("{url}/health")).await) } else { None };
            Some(Endpoint { url: format!("{url}/v1"), port: p.port, healthy: health })
        }
        None => None,
    };
    InstanceStatus {
        profile: r.profile.clone(),
        model: r.model.clone(),
        served_model_name: r.served_model_name.clone(),
        state: if lost { Seen::Lost } else { Seen::Recorded(r.state) },
        phase: r.phase.label().to_owned(),
        progress: r.progress.clone(),
        run_id: r.run_id.clone(),
        pid: r.vllm.filter(|v| v.alive()).map(|v| v.pid),
        supervisor_pid: r.supervisor.alive().then_some(r.supervisor.pid),
        uptime_secs: (vllm_alive && running).then(|| now().saturating_sub(r.attempt_started_at)),
        restarts: r.restarts,
        last_exit: r.exits.last().cloned(),
        failure: r.failure.clone(),
        vllm: Endpoint { url: format!("{vllm_url}/v1"), port: r.port, healthy: vllm_health },
        proxy,
        kv_cache: r.kv_cache.clone(),
        log: r.log.display().to_string(),
    }
}

/// 0 all ready and healthy, 1 something is not, 3 nothing runs. A proxy counts as
/// running; one whose model has no replica up is not healthy.
pub(super) fn exit_code(instances: &[InstanceStatus], proxies: &[crate::proxy::ProxyStatus]) -> u8 {
    let running: Vec<&InstanceStatus> = instances.iter().filter(|i| i.state.running()).collect();
    let failed = instances.iter().any(|i| i.state == Seen::Recorded(State::Failed));
    if running.is_empty() && !failed && proxies.is_empty() {
        return exit::NOT_RUNNING;
    }
    // A proxy under `start --proxy` is judged with its instance (vLLM's own health); a
    // standalone one by its replicas.
    let owned = |p: &&crate::proxy::ProxyStatus| {
        instances
            .iter()
            .any(|i| i.proxy.as_ref().is_some_and(|e| p.url.ends_with(&format!(":{}/v1", e.port))))
    };
    let serving = proxies
        .iter()
        .filter(|p| !owned(p))
        .flat_map(|p| &p.models)
        .all(|m| m.replicas.iter().any(|r| matches!(r.state, ReplicaState::Up | ReplicaState::Unknown)));
    if !serving {
        return exit::FAILURE;
    }
    let all_ready = running.iter().all(|i| {
        matches!(i.state, Seen::Recorded(State::Ready) | Seen::Sleeping)
            && i.vllm.healthy == Some(true)
            && i.proxy.as_ref().is_none_or(|p| p.healthy == Some(true))
    });
    if failed || !all_ready { exit::FAILURE } else { 0 }
}

pub(super) fn run(args: &StatusArgs, printer: &Printer) -> anyhow::Result<()> {
    let store = Store::from_env();
    let records = store.list();
    let instances: Vec<InstanceStatus> = block_on(async {
        let mut out = Vec::new();
        for r in &records {
            out.push(check(r).await);
        }
        out
    });
    let gpus = crate::gpu::probe().gpus;
    let proxies = crate::proxy::read_statuses(&store.root().join("proxies"));
    let mut instances = instances;
    asleep(&mut instances, &proxies);
    let code = exit_code(&instances, &proxies);
    if args.json {
        let report = Report { schema: crate::instance::SCHEMA, instances, proxies, gpus };
        printer.data(&serde_json::to_string_pretty(&report)?)?;
    } else {
        let mut text = table(&instances, &records, &gpus, &store);
        text.push_str(&proxy_table(&proxies));
        printer.data(&text)?;
    }
    if code == 0 { Ok(()) } else { Err(UserError { message: String::new(), hint: None, code }.into()) }
}

/// Marks the ready instances `podctl serve` has put to sleep: their supervisors only know
/// that vLLM runs; the serve's proxy knows it sleeps.
pub(super) fn asleep(instances: &mut [InstanceStatus], proxies: &[crate::proxy::ProxyStatus]) {
    for i in instances.iter_mut().filter(|i| i.state == Seen::Recorded(State::Ready)) {
        let sleeping = proxies
            .iter()
            .flat_map(|p| &p.models)
            .any(|m| m.name == i.served_model_name && m.load.as_deref() == Some("sleeping"));
        if sleeping {
            i.state = Seen::Sleeping;
        }
    }
}

/// Each proxy and, per model, each replica: state, requests in flight, cooldown left.
fn proxy_table(proxies: &[crate::proxy::ProxyStatus]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for p in proxies {
        let _ = writeln!(out, "{}  {}  pid {}", style("proxy").bold(), p.url, p.pid);
        for m in &p.models {
            let load = m.load.as_deref().map(|l| format!("  ({l})")).unwrap_or_default();
            let _ = writeln!(out, "  model {}{load}", style(&m.name).bold());
            for r in &m.replicas {
                let state = match &r.state {
                    ReplicaState::Up => style("up".to_owned()).green().to_string(),
                    ReplicaState::Unknown => style("not probed yet".to_owned()).dim().to_string(),
                    ReplicaState::Starting => style("starting".to_owned()).yellow().to_string(),
                    ReplicaState::Cooldown => {
                        style(format!("cooldown {}s", r.cooldown_secs)).red().to_string()
                    }
                    ReplicaState::Down => style("down".to_owned()).red().to_string(),
                    ReplicaState::Other(word) => style(word.clone()).red().to_string(),
                };
                let why = r.last_error.as_deref().map(|e| format!("  ({e})")).unwrap_or_default();
                let _ = writeln!(out, "    {}  {state}  {} in flight{why}", r.url, r.in_flight);
            }
        }
    }
    out
}

fn table(
    instances: &[InstanceStatus],
    records: &[Instance],
    gpus: &[crate::gpu::Gpu],
    store: &Store,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if instances.is_empty() {
        let _ = writeln!(out, "nothing has run yet (state dir {})", store.root().display());
    }
    for (i, r) in instances.iter().zip(records) {
        let state = match i.state {
            Seen::Recorded(State::Ready) => style(state_word(r)).green().to_string(),
            Seen::Recorded(State::Failed) => style("failed").red().bold().to_string(),
            Seen::Lost => style("lost").red().bold().to_string(),
            Seen::Sleeping => style("sleeping").cyan().to_string(),
            Seen::Recorded(State::Stopped) => style("stopped").dim().to_string(),
            Seen::Recorded(State::Starting | State::Restarting | State::Stopping) => {
                style(state_word(r)).yellow().to_string()
            }
        };
        let _ = writeln!(out, "{}  {}  {state}", style(&i.profile).bold(), i.model);
        if let Some(pid) = i.pid {
            let up = i
                .uptime_secs
                .map(|s| crate::ui::progress::elapsed(Duration::from_secs(s)))
                .unwrap_or_default();
            let _ = writeln!(out, "  pid      {pid} (up {up}), restarts {}", i.restarts);
        }
        let starting = matches!(i.state, Seen::Recorded(State::Starting | State::Restarting));
        let health = |h: Option<bool>| match h {
            Some(false) if starting => style("not up yet").dim().to_string(),
            Some(true) => style("healthy").green().to_string(),
            Some(false) => style("not answering").red().to_string(),
            None => style("down").dim().to_string(),
        };
        let _ =
            writeln!(out, "  vllm     {} `{}` {}", i.vllm.url, i.served_model_name, health(i.vllm.healthy));
        if let Some(p) = &i.proxy {
            let _ = writeln!(out, "  proxy    {} {}", p.url, health(p.healthy));
        }
        if let Some(t) = i.kv_cache.tokens {
            let conc =
                i.kv_cache.max_concurrency.map(|c| format!(", {c:.2}x max concurrency")).unwrap_or_default();
            let _ = writeln!(out, "  kv cache {t} tokens{conc}");
        }
        if let Some(e) = &i.last_exit {
            let _ = writeln!(out, "  last exit {}", e.reason);
        }
        if let Some(f) = &i.failure {
            let _ =
                writeln!(out, "  {} {}\n  {} {}", style("why").red(), f.summary, style("fix").cyan(), f.hint);
        }
        if i.state == Seen::Lost {
            let _ = writeln!(
                out,
                "  {} its supervisor is gone; `podctl stop {}` cleans up what is left",
                style("!").yellow(),
                i.profile
            );
        }
        let _ = writeln!(out, "  log      {}", i.log);
    }
    for g in gpus {
        let _ = writeln!(
            out,
            "gpu {}  {}  {}/{} MiB used",
            g.index, g.name, g.memory_used_mib, g.memory_total_mib
        );
    }
    out
}
