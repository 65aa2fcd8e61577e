//! The supervisor process (`podctl start` runs it in the background as the hidden
//! `podctl __supervise`; `start --foreground` runs the same code attached): the proxy when
//! asked, then vLLM under [`Supervisor`] until stopped (SIGTERM/SIGINT/SIGHUP) or given up.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::instance::{Instance, Problem, ProxyRecord, State, Store, SupervisorKind};
use crate::profile::{Origin, Profile};
use crate::proxy::ProxyConfig;
use crate::supervisor::logfile::{self, RotatingLog};
use crate::supervisor::{Outcome, Supervisor};
use crate::vllm::argv::Launch;

/// Arguments of the hidden `__supervise` command.
#[derive(Debug, Args)]
pub struct SuperviseArgs {
    /// The profile snapshot `start` wrote.
    pub snapshot: PathBuf,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub run_id: String,
    #[arg(long)]
    pub proxy: bool,
    #[arg(long)]
    pub timeout_secs: u64,
}

/// What a supervisor runs.
#[derive(Debug)]
pub(super) struct Job {
    pub profile: Profile,
    pub launch: Launch,
    pub proxy: Option<ProxyConfig>,
    pub run_id: String,
    pub timeout: Duration,
    pub foreground: bool,
}

/// The first record of a run.
pub(super) fn initial_record(job: &Job, store: &Store) -> Instance {
    let proxy = job.proxy.as_ref().map(|p| ProxyRecord { host: p.host.to_string(), port: p.port });
    Instance::starting(&job.profile, &job.run_id, proxy, store.log_path(&job.profile.name), job.foreground)
}

/// Runs the proxy (when asked) and the supervisor until stopped or failed.
pub(super) async fn supervise(
    job: Job,
    store: Store,
    notify: Box<dyn FnMut(&Instance) + Send>,
    signals: Signals,
) -> anyhow::Result<Outcome> {
    let mut record = initial_record(&job, &store);
    let log = RotatingLog::open(&record.log, logfile::MAX_BYTES, logfile::KEEP)?;
    // The proxy stops first: vLLM's API server waits for its open requests before it exits
    // and ignores further signals meanwhile, so its clients (the proxy's requests) must go.
    let proxy_stop = signals.shutdown.child_token();
    let mut proxy_task = None;
    if let Some(config) = &job.proxy {
        let addr = crate::supervisor::proxy::addr(config);
        match crate::proxy::listen(addr) {
            Ok(listener) => {
                let config = config.clone();
                let token = proxy_stop.clone();
                proxy_task = Some(tokio::spawn(async move {
                    let hooks = crate::proxy::Hooks {
                        status_dir: Some(crate::home::state_dir().join("proxies")),
                        on_start: None,
                        gate: None,
                        // One event loop per CPU, as `podctl proxy` runs: the first on this
                        // runtime (shared with the supervisor), the others on their own threads.
                        loops: crate::proxy::default_loops(),
                    };
                    crate::proxy::serve_with(listener, &config, token, hooks).await
                }));
                tracing::info!("proxy listening on http://{addr}/v1");
            }
            Err(e) => {
                record.failure = Some(Problem {
                    kind: SupervisorKind::ProxyFailed.into(),
                    summary: format!("the proxy cannot listen on {addr}: {e}"),
                    hint: format!(
                        "free port {} (`podctl doctor` names the holder) or change [proxy] port",
                        config.port
                    ),
                    line: None,
                });
                record.set_state(State::Failed);
                store.save(&record)?;
                return Ok(Outcome::Failed);
            }
        }
    }
    let supervisor = Supervisor::new(job.profile, job.launch, store, record, log, job.timeout, notify);
    let outcome = supervisor.run(signals.shutdown, signals.hurry).await;
    proxy_stop.cancel();
    if let Some(task) = proxy_task {
        let _ = tokio::time::timeout(Duration::from_secs(6), task).await;
    }
    Ok(outcome)
}

/// What the signals ask for.
#[derive(Debug, Clone, Default)]
pub(super) struct Signals {
    /// The first SIGINT/SIGTERM: stop everything cleanly.
    pub shutdown: CancellationToken,
    /// The second: stop waiting for vLLM's teardown and kill.
    pub hurry: CancellationToken,
}

/// Listens for SIGINT and SIGTERM (and SIGHUP when attached to a terminal that may close;
/// a detached supervisor ignores SIGHUP).
pub(super) fn on_signals(attached: bool) -> Signals {
    let signals = Signals::default();
    let (shutdown, hurry) = (signals.shutdown.clone(), signals.hurry.clone());
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
            (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
        else {
            return;
        };
        for round in 0..2 {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
                _ = hup.recv(), if attached => {}
            }
            if round == 0 {
                shutdown.cancel();
            } else {
                tracing::warn!("second signal: killing vLLM without waiting for its teardown");
                hurry.cancel();
            }
        }
        // Keep the handlers installed (and further signals ignored) until the end.
        std::future::pending::<()>().await;
    });
    signals
}

/// `podctl __supervise`: the background supervisor. Its stderr is `supervisor.log`.
pub(super) fn run(args: &SuperviseArgs) -> anyhow::Result<()> {
    crate::ui::init_tracing_with(0, false, true, false);
    // A session of its own: no terminal's signals (Ctrl-C, hang-up) reach it.
    if let Err(e) = nix::unistd::setsid() {
        tracing::warn!("setsid: {e}");
    }
    let text = std::fs::read_to_string(&args.snapshot)?;
    let profile = Profile::parse(&args.name, Origin::File(args.snapshot.clone()), &text)?;
    let workspace = std::path::Path::new(crate::home::WORKSPACE).is_dir();
    let mut launch =
        crate::vllm::argv::launch(&profile, &args.run_id, &|k| std::env::var(k).ok(), workspace)?;
    if let Some(exe) = crate::vllm::locate::find_vllm(&profile.vllm_bin) {
        launch.program = exe;
    }
    let proxy = if args.proxy {
        Some(crate::supervisor::proxy::config(&profile).map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    let job = Job {
        profile,
        launch,
        proxy,
        run_id: args.run_id.clone(),
        timeout: Duration::from_secs(args.timeout_secs),
        foreground: false,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let signals = on_signals(false);
        let outcome = supervise(job, Store::from_env(), Box::new(|_| {}), signals).await?;
        tracing::info!("supervisor done: {outcome:?}");
        Ok(())
    })
}
