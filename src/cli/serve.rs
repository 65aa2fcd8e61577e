//! `podctl serve PROFILE [PROFILE...]`: one proxy in front of several profiles' models,
//! each started when a request first names it (or `--preload`) and swapped out when
//! another needs its GPU (see [`crate::serve`]). In the background by default (the same
//! command re-run detached with `--foreground`), attached with `--foreground`.

use std::net::IpAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::start::profile_error;
use super::supervise;
use crate::instance::{Instance, ProxyRecord, State, Store};
use crate::profile::{Profile, catalog};
use crate::serve::{Fleet, FleetGate, Member};
use crate::ui::{Printer, UserError};

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// The profiles whose models to serve (names or .toml paths); the first's [proxy] settings apply.
    #[arg(required = true, num_args = 1..)]
    pub profiles: Vec<String>,
    /// The proxy's port [default: the first profile's [proxy] port].
    #[arg(long)]
    pub port: Option<u16>,
    /// The proxy's address [default: the first profile's [proxy] host].
    #[arg(long)]
    pub host: Option<IpAddr>,
    /// Start this profile's model at once instead of on its first request (repeatable).
    #[arg(long, value_name = "PROFILE")]
    pub preload: Vec<String>,
    /// Stop a model nobody used for this many seconds [default: each profile's idle_unload_secs].
    #[arg(long, value_name = "SECS")]
    pub idle_unload: Option<u64>,
    /// Stay attached: logs here, Ctrl-C stops everything.
    #[arg(long)]
    pub foreground: bool,
    /// (internal) Run detached from the terminal: the background server.
    #[arg(long, hide = true)]
    pub detached: bool,
}

/// The validated setup: members with distinct ports, and the proxy in front.
struct Setup {
    members: Vec<Member>,
    proxy: crate::proxy::ProxyConfig,
    preload: Vec<usize>,
}

fn setup(args: &ServeArgs, printer: &Printer) -> anyhow::Result<Setup> {
    let mut profiles: Vec<Profile> = Vec::new();
    for name in &args.profiles {
        let profile = catalog::find(name).map_err(|e| profile_error(&e))?;
        for w in &profile.warnings {
            printer.warn(w);
        }
        if profiles.iter().any(|p| p.served_model_name == profile.served_model_name) {
            return Err(UserError::usage(format!(
                "two profiles serve the model name `{}`",
                profile.served_model_name
            ))
            .hint("give one of them another served_model_name")
            .into());
        }
        profiles.push(profile);
    }
    // Profiles asking for the same vLLM port: the later ones get a free one.
    let mut taken: Vec<u16> = Vec::new();
    for p in &mut profiles {
        if taken.contains(&p.port) {
            p.port = free_port().map_err(|e| {
                UserError::failure(format!("cannot find a free port for `{}`: {e}", p.name))
                    .hint("set distinct `port`s in the profiles")
            })?;
        }
        taken.push(p.port);
    }
    let mut proxy = crate::supervisor::proxy::config(&profiles[0]).map_err(UserError::usage)?;
    for p in &profiles[1..] {
        let mut other = crate::supervisor::proxy::config(p).map_err(UserError::usage)?;
        proxy.models.append(&mut other.models);
    }
    if let Some(port) = args.port {
        proxy.port = port;
    }
    if let Some(host) = args.host {
        proxy.host = host;
    }
    let idle = args.idle_unload.map(Duration::from_secs);
    // The flag overrides every profile's `idle_unload_secs`.
    let members: Vec<Member> = profiles
        .into_iter()
        .map(|p| {
            let limit = idle.or(p.idle_unload);
            Member::new(p, limit)
        })
        .collect();
    let mut preload = Vec::new();
    for name in &args.preload {
        let i =
            members.iter().position(|m| m.profile.name == *name || m.answers_to(name)).ok_or_else(|| {
                UserError::usage(format!("--preload {name}: not one of the profiles served"))
                    .hint("name one of the PROFILE arguments")
            })?;
        preload.push(i);
    }
    Ok(Setup { members, proxy, preload })
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(super) fn run(args: &ServeArgs, printer: &Printer) -> anyhow::Result<()> {
    if !args.foreground {
        crate::ui::init_tracing(0, printer.is_quiet());
        return background(args, printer);
    }
    if args.detached {
        crate::ui::init_tracing_with(0, false, true, false);
        // A session of its own: no terminal's signals reach it.
        if let Err(e) = nix::unistd::setsid() {
            tracing::warn!("setsid: {e}");
        }
    } else {
        crate::ui::init_tracing(0, printer.is_quiet());
    }
    let setup = setup(args, printer)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(serve(setup, !args.detached))
}

async fn serve(setup: Setup, attached: bool) -> anyhow::Result<()> {
    let store = Store::from_env();
    let addr = crate::supervisor::proxy::addr(&setup.proxy);
    let listener = crate::proxy::listen(addr).map_err(|e| {
        UserError::failure(format!("the proxy cannot listen on {addr}: {e}"))
            .hint("free that port (`podctl doctor` names the holder) or pass --port")
    })?;
    let signals = supervise::on_signals(attached);
    let record = ProxyRecord { host: setup.proxy.host.to_string(), port: setup.proxy.port };
    // A record per model from the start: `podctl status` lists them and `podctl stop` finds
    // this process through them.
    for m in &setup.members {
        let mut r = Instance::starting(
            &m.profile,
            "serve",
            Some(record.clone()),
            store.log_path(&m.profile.name),
            false,
        );
        r.set_state(State::Stopped);
        store.save(&r).map_err(|e| {
            UserError::failure(format!(
                "cannot write podctl's state in {}: {e}",
                store.dir(&m.profile.name).display()
            ))
            .hint("set PODCTL_STATE_DIR to a writable folder, or free space on that disk")
        })?;
    }
    let models = CancellationToken::new();
    let fleet = Fleet::new(setup.members, store, Some(record), models.clone(), signals.hurry.clone());
    for &i in &setup.preload {
        fleet.preload(i);
    }
    let idle = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(Arc::clone(&fleet).watch_idle()));
    let control_stop = CancellationToken::new();
    let control = crate::serve::control::listen(Arc::clone(&fleet), control_stop.clone());
    let control = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
        if let Err(e) = control.await {
            tracing::warn!("no control socket (podctl load/unload will not reach this serve): {e}");
        }
    }));
    tracing::info!("serving {} model(s) on http://{addr}/v1", fleet.members().len());
    let hooks = crate::proxy::Hooks {
        status_dir: Some(crate::home::state_dir().join("proxies")),
        on_start: None,
        gate: Some(Arc::new(FleetGate(Arc::clone(&fleet)))),
        // One event loop per CPU, as `podctl proxy` runs: the first on this runtime (shared
        // with the fleet, whose tasks stay here), the others on their own threads.
        loops: crate::proxy::default_loops(),
    };
    let served = crate::proxy::serve_with(listener, &setup.proxy, signals.shutdown.clone(), hooks).await;
    // The proxy has let its requests finish (or cut them off): now the models go.
    drop(idle);
    control_stop.cancel();
    let _ = control.await;
    fleet.stop_all().await;
    served?;
    Ok(())
}

/// Runs the server detached and returns once its proxy listens.
fn background(args: &ServeArgs, printer: &Printer) -> anyhow::Result<()> {
    let setup = setup(args, printer)?;
    let dir = crate::home::state_dir();
    let unwritable = |e: std::io::Error| {
        UserError::failure(format!("cannot write podctl's state in {}: {e}", dir.display()))
            .hint("set PODCTL_STATE_DIR to a writable folder, or free space on that disk")
    };
    std::fs::create_dir_all(&dir).map_err(unwritable)?;
    let log_path = dir.join("serve.log");
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(unwritable)?;
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command.arg("serve").args(&args.profiles).args(["--foreground", "--detached"]);
    command.args(["--port", &setup.proxy.port.to_string(), "--host", &setup.proxy.host.to_string()]);
    for p in &args.preload {
        command.args(["--preload", p]);
    }
    if let Some(s) = args.idle_unload {
        command.args(["--idle-unload", &s.to_string()]);
    }
    let mut child =
        command.env_remove("RUST_LOG").stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).spawn()?;
    let addr = crate::supervisor::proxy::addr(&setup.proxy);
    let connect = crate::procs::connect_host(&setup.proxy.host.to_string()).to_owned();
    let waited = std::time::Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last: Vec<&str> = tail.lines().rev().take(5).collect();
            return Err(UserError::failure(format!(
                "podctl serve exited ({status}) before its proxy listened: {}",
                last.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ))
            .hint(format!("see {}", log_path.display()))
            .into());
        }
        if std::net::TcpStream::connect((connect.as_str(), addr.port())).is_ok() {
            break;
        }
        if waited.elapsed() > Duration::from_secs(30) {
            return Err(UserError::failure("podctl serve did not listen within 30 s")
                .hint(format!("see {}; `podctl stop` stops it", log_path.display()))
                .into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let names: Vec<&str> = setup.members.iter().map(Member::served_name).collect();
    printer.note(&format!(
        "serving {} on http://{connect}:{}/v1 (each starts on its first request)\n  status podctl status\n  stop   podctl stop",
        names.join(", "),
        addr.port()
    ));
    Ok(())
}
