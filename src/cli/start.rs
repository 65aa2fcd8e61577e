//! `podctl start PROFILE` (alias `start-vllm`): profile → launch, pre-checks that fail in
//! seconds instead of minutes, then the supervisor in the background (or attached with
//! `--foreground`), with progress until vLLM is ready or has failed.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use clap::Args;
use console::style;

use super::supervise::{self, Job};
use crate::instance::{Instance, ProcRef, State, Store};
use crate::profile::{Profile, catalog};
use crate::supervisor::{self, Outcome, stop};
use crate::ui::progress::{self, Progress};
use crate::ui::{Printer, UserError};
use crate::vllm::argv;

#[derive(Debug, Args)]
pub struct StartArgs {
    /// A profile name (./models, the podctl home, built-in; see `podctl profiles`) or a .toml path.
    pub profile: String,
    /// Also run the translating proxy (the profile's [proxy] port, default 4000).
    #[arg(long, conflicts_with = "no_proxy")]
    pub proxy: bool,
    /// Do not run the proxy even if the profile enables it.
    #[arg(long)]
    pub no_proxy: bool,
    /// Print the exact vllm command and environment, start nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stay attached: progress here, Ctrl-C stops everything (a second Ctrl-C kills without waiting).
    #[arg(long)]
    pub foreground: bool,
    /// Give up when vLLM is not ready after this many seconds [default: the profile's startup_timeout].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

pub(super) fn profile_error(e: &crate::profile::ProfileError) -> UserError {
    UserError::usage(e.to_string()).hint(e.hint())
}

pub(super) fn run(args: &StartArgs, printer: &Printer) -> anyhow::Result<()> {
    let profile = catalog::find(&args.profile).map_err(|e| profile_error(&e))?;
    for w in &profile.warnings {
        printer.warn(w);
    }
    let run_id = supervisor::new_run_id();
    let workspace = Path::new(crate::home::WORKSPACE).is_dir();
    let mut launch = argv::launch(&profile, &run_id, &|k| std::env::var(k).ok(), workspace).map_err(|e| {
        UserError::usage(e.to_string())
            .hint(format!("export {}=… (the key vLLM should require), or remove api_key_env", e.0))
    })?;
    if let Some(exe) = find_executable(&profile) {
        launch.program = exe;
    }
    let with_proxy = (args.proxy || profile.proxy.enabled) && !args.no_proxy;
    let proxy =
        if with_proxy { Some(supervisor::proxy::config(&profile).map_err(UserError::usage)?) } else { None };
    let timeout = args.timeout.map_or(profile.startup_timeout, Duration::from_secs);
    if args.dry_run {
        let mut out = format!("# profile {} ({})\n{}", profile.name, profile.origin, launch.shell());
        if let Some(p) = &proxy {
            out.push_str(&format!(
                "# proxy: http://{}:{}/v1 → {} as `{}` ({}), {} key(s)\n",
                p.host,
                p.port,
                p.models[0].replicas[0].url,
                profile.served_model_name,
                profile.tool_format,
                p.keys.len()
            ));
        }
        out.push_str(&format!(
            "# ready when /health is 200 and /v1/models lists `{}`; timeout {}s\n",
            profile.served_model_name,
            timeout.as_secs()
        ));
        printer.data(&out)?;
        return Ok(());
    }
    let store = Store::from_env();
    // One `start` of a profile at a time: held through the pre-checks, the spawn and the
    // wait, so two starts cannot both pass the checks.
    let _lock = lock(&store, &profile.name)?;
    precheck(&profile, &store, proxy.as_ref().map(|p| p.port), printer)?;
    let job = Job { profile, launch, proxy, run_id, timeout, foreground: args.foreground };
    if args.foreground { foreground(job, store, printer) } else { background(&job, &store, printer) }
}

/// Takes `STATE/PROFILE/lock` (an flock, released when dropped or when the process dies).
fn lock(store: &Store, name: &str) -> Result<nix::fcntl::Flock<std::fs::File>, UserError> {
    let dir = store.dir(name);
    let unwritable = |e: std::io::Error| {
        UserError::failure(format!("cannot write podctl's state in {}: {e}", dir.display()))
            .hint("set PODCTL_STATE_DIR to a writable folder, or free space on that disk")
    };
    std::fs::create_dir_all(&dir).map_err(unwritable)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))
        .map_err(unwritable)?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).map_err(|_| {
        UserError::failure(format!("another `podctl start {name}` is running right now"))
            .hint("wait for it to finish, then `podctl status`")
    })
}

/// Everything that would make vLLM fail minutes from now, checked now.
fn precheck(
    profile: &Profile,
    store: &Store,
    proxy_port: Option<u16>,
    printer: &Printer,
) -> Result<(), UserError> {
    if let Ok(Some(old)) = store.load(&profile.name) {
        if old.state.is_active() && old.supervisor.alive() {
            return Err(UserError::failure(format!(
                "`{}` is already running ({}, supervisor pid {})",
                profile.name,
                state_word(&old),
                old.supervisor.pid
            ))
            .hint(format!("`podctl status` shows it; `podctl stop {}` stops it", profile.name)));
        }
        if old.is_stale() {
            printer.warn(&format!(
                "the previous run of `{}` lost its supervisor (killed?); cleaning up what it left",
                profile.name
            ));
            cleanup_stale(&old, store);
        }
    }
    if find_executable(profile).is_none() {
        let exe = profile.executable();
        let looked = if std::env::var_os(crate::vllm::locate::BIN_VAR).is_some_and(|v| !v.is_empty()) {
            format!("set by {}", crate::vllm::locate::BIN_VAR)
        } else if profile.vllm_bin.contains('/') {
            "the profile's vllm_bin".to_owned()
        } else {
            let venv = crate::vllm::locate::venv_dir(&crate::home::home()).join("bin");
            format!("looked on PATH and in {}", venv.display())
        };
        return Err(UserError::failure(format!("cannot find the vLLM executable `{}` ({looked})", exe.display()))
        .hint(
            "install vLLM (`podctl setup --install-vllm` puts it in the podctl home's venv, or `pip install vllm`), \
             or set PODCTL_VLLM_BIN or the profile's vllm_bin to its path",
        ));
    }
    check_port(profile.port, "vLLM", "port")?;
    if let Some(port) = proxy_port {
        check_port(port, "the proxy", "[proxy] port")?;
    }
    let gpus = crate::gpu::probe();
    if !gpus.gpus.is_empty() {
        let need = profile.parallel.gpus_per_node() as usize;
        if need > gpus.gpus.len() {
            return Err(UserError::failure(format!(
                "the profile needs {need} GPUs (tensor × pipeline × data parallel) but {} are visible",
                gpus.gpus.len()
            ))
            .hint("lower tensor_parallel_size, or rent a pod with more GPUs"));
        }
        let short: Vec<String> =
            crate::gpu::memory_shortfall_mib(&gpus.gpus, profile.memory_utilization(), need)
                .into_iter()
                .filter(|(_, s)| *s > 0)
                .map(|(i, s)| format!("GPU {i} lacks {s} MiB"))
                .collect();
        if !short.is_empty() {
            let holders: Vec<String> = crate::procs::gpu_holders()
                .into_iter()
                .filter_map(crate::procs::read)
                .map(|p| format!("{} ({})", p.pid, short_cmd(&p)))
                .collect();
            let hint = if holders.is_empty() {
                format!("lower gpu_memory_utilization below {}", profile.memory_utilization())
            } else {
                format!(
                    "GPU held by: {}; `podctl stop --all` stops podctl's, `kill PID` others",
                    holders.join(", ")
                )
            };
            return Err(UserError::failure(format!(
                "not enough free GPU memory for gpu_memory_utilization = {}: {}",
                profile.memory_utilization(),
                short.join(", ")
            ))
            .hint(hint));
        }
    }
    Ok(())
}

pub(super) fn short_cmd(p: &crate::procs::Process) -> String {
    p.short_title(60)
}

fn check_port(port: u16, who: &str, key: &str) -> Result<(), UserError> {
    // Binding catches holders /proc cannot show (another namespace); /proc catches a
    // listener on a specific address that a wildcard bind might not collide with.
    let bindable = std::net::TcpListener::bind(("0.0.0.0", port)).is_ok();
    if bindable && !crate::procs::port_listening(port) {
        return Ok(());
    }
    let holders: Vec<String> = crate::procs::listeners(port)
        .into_iter()
        .filter_map(crate::procs::read)
        .map(|p| format!("pid {} ({})", p.pid, short_cmd(&p)))
        .collect();
    let by = if holders.is_empty() { "another process".to_owned() } else { holders.join(", ") };
    Err(UserError::failure(format!("port {port}, which {who} needs, is held by {by}")).hint(format!(
        "stop it (`podctl stop --all` if it is podctl's), or set `{key}` in the profile to a free port"
    )))
}

/// The `vllm` to run: `PODCTL_VLLM_BIN`, the profile's `vllm_bin` (path or on PATH), then
/// the podctl home's venv (see [`crate::vllm::locate`]).
fn find_executable(profile: &Profile) -> Option<std::path::PathBuf> {
    crate::vllm::locate::find_vllm(&profile.vllm_bin)
}

/// Stops what a run with a dead supervisor left and marks it stopped.
pub(super) fn cleanup_stale(old: &Instance, store: &Store) -> stop::Report {
    let target = stop::Target {
        leader: old.vllm,
        pgid: old.vllm.map(|v| v.pid),
        run_id: old.run_id.clone(),
        grace: Duration::from_secs(10),
        port: Some(old.port),
        hurry: None,
    };
    let report = block_on(stop::stop(&target));
    let mut old = old.clone();
    old.vllm = None;
    old.set_state(State::Stopped);
    let _ = store.save(&old);
    report
}

pub(super) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt.block_on(f),
        Err(e) => panic!("cannot start a runtime: {e}"),
    }
}

pub(super) fn state_word(i: &Instance) -> String {
    match i.state {
        State::Starting => match &i.progress {
            Some(p) => format!("starting: {} ({p})", i.phase.label()),
            None => format!("starting: {}", i.phase.label()),
        },
        State::Ready => "ready".into(),
        State::Restarting => format!("restarting (restart {})", i.restarts),
        State::Failed => "failed".into(),
        State::Stopping => "stopping".into(),
        State::Stopped => "stopped".into(),
    }
}

fn background(job: &Job, store: &Store, printer: &Printer) -> anyhow::Result<()> {
    let dir = store.dir(&job.profile.name);
    let unwritable = |e: std::io::Error| {
        UserError::failure(format!("cannot write podctl's state in {}: {e}", dir.display()))
            .hint("set PODCTL_STATE_DIR to a writable folder, or free space on that disk")
    };
    let snapshot = dir.join("profile.toml");
    std::fs::write(&snapshot, &job.profile.source).map_err(unwritable)?;
    let sup_log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("supervisor.log"))
        .map_err(unwritable)?;
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("__supervise")
        .arg(&snapshot)
        .args(["--name", &job.profile.name, "--run-id", &job.run_id])
        .args(["--timeout-secs", &job.timeout.as_secs().to_string()])
        .args(job.proxy.is_some().then_some("--proxy"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(sup_log.try_clone()?)
        .stderr(sup_log)
        .spawn()?;
    // Recorded at once, so a `stop` a moment from now finds the supervisor (it rewrites the
    // record itself as soon as it runs).
    let mut first = supervise::initial_record(job, store);
    if let Some(sup) = i32::try_from(child.id()).ok().and_then(ProcRef::of) {
        first.supervisor = sup;
    }
    if store.load(&job.profile.name).ok().flatten().is_none_or(|r| r.run_id != job.run_id) {
        store.save(&first).map_err(unwritable)?;
    }
    let deadline = std::time::Instant::now() + job.timeout + Duration::from_secs(30);
    printer.note(&format!(
        "starting {} ({}) in the background; Ctrl-C stops watching, not vLLM",
        style(&job.profile.name).bold(),
        job.profile.model
    ));
    let mut progress = Progress::new(printer.is_quiet());
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if std::time::Instant::now() > deadline {
            progress.finish();
            return Err(UserError::failure(format!(
                "{} is not ready after {}s and its supervisor did not give up",
                job.profile.name,
                job.timeout.as_secs()
            ))
            .hint(format!("`podctl status` shows where it is; `podctl stop {}` stops it", job.profile.name))
            .into());
        }
        let record = store.load(&job.profile.name).ok().flatten().filter(|r| r.run_id == job.run_id);
        if let Some(r) = &record {
            if !matches!(r.state, State::Ready | State::Failed | State::Stopped) {
                progress.set(&state_word(r));
            }
            match r.state {
                State::Ready => {
                    progress.finish();
                    ready_summary(r, printer, progress.elapsed());
                    return Ok(());
                }
                State::Failed | State::Stopped => {
                    progress.finish();
                    return Err(failed(r).into());
                }
                _ => {}
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Its last record may have landed just now.
            if let Some(r) = store.load(&job.profile.name).ok().flatten().filter(|r| r.run_id == job.run_id)
                && matches!(r.state, State::Failed | State::Ready)
            {
                continue;
            }
            progress.finish();
            let log = dir.join("supervisor.log");
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let last: Vec<&str> = tail.lines().rev().take(5).collect();
            return Err(UserError::failure(format!(
                "the supervisor exited ({status}) before vLLM was ready: {}",
                last.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ))
            .hint(format!("see {}", log.display()))
            .into());
        }
    }
}

fn failed(r: &Instance) -> UserError {
    match &r.failure {
        Some(p) => {
            let mut message = format!("{} failed: {}", r.profile, p.summary);
            if let Some(line) = &p.line {
                message.push_str(&format!("\n  vLLM said: {}", line.trim()));
            }
            UserError::failure(message).hint(format!("{}; full output: podctl logs {}", p.hint, r.profile))
        }
        None => UserError::failure(format!("{} was stopped before it was ready (podctl stop?)", r.profile))
            .hint(format!("start it again with `podctl start {}`", r.profile)),
    }
}

fn ready_summary(r: &Instance, printer: &Printer, took: Duration) {
    let host = crate::procs::connect_host(&r.host);
    let mut out = format!(
        "{} {} ready in {}: vLLM http://{host}:{}/v1 serving `{}`",
        style("✓").green().bold(),
        r.profile,
        progress::elapsed(took),
        r.port,
        r.served_model_name
    );
    if let Some(kv) = r.kv_cache.tokens {
        out.push_str(&format!(" (KV cache {kv} tokens)"));
    }
    if let Some(p) = &r.proxy {
        out.push_str(&format!("\n  proxy  http://{}:{}/v1", p.host, p.port));
        if let Ok(pod) = std::env::var("RUNPOD_POD_ID") {
            out.push_str(&format!("  public https://{pod}-{}.proxy.runpod.net/v1", p.port));
        }
    }
    out.push_str(&format!("\n  logs   podctl logs {} -f\n  stop   podctl stop {}", r.profile, r.profile));
    printer.note(&out);
}

fn foreground(job: Job, store: Store, printer: &Printer) -> anyhow::Result<()> {
    let name = job.profile.name.clone();
    printer.note(&format!("starting {} ({}); Ctrl-C stops it", style(&name).bold(), job.profile.model));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let quiet = printer.is_quiet();
    let announcer = printer.clone();
    let outcome = runtime.block_on(async move {
        let signals = supervise::on_signals(true);
        let mut progress = Progress::new(quiet);
        let mut ready_shown = false;
        let notify = Box::new(move |r: &Instance| {
            if r.state == State::Ready && !ready_shown {
                ready_shown = true;
                progress.finish();
                ready_summary(r, &announcer, progress.elapsed());
            } else if !ready_shown || r.state != State::Ready {
                progress.set(&state_word(r));
            }
        });
        supervise::supervise(job, store.clone(), notify, signals).await.map(|o| (o, store))
    })?;
    match outcome {
        (Outcome::Stopped, _) => {
            printer.note(&format!("{name} stopped"));
            Ok(())
        }
        (Outcome::Failed, store) => match store.load(&name).ok().flatten() {
            Some(r) => Err(failed(&r).into()),
            None => Err(UserError::failure(format!("{name} failed")).into()),
        },
    }
}
