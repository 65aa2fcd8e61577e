//! `podctl stop [PROFILE|--all]`: ask each supervisor to stop (it runs the stop recipe on
//! its vLLM and closes the proxy), then make sure: the recipe again on whatever is left
//! (a supervisor that was SIGKILLed leaves vLLM running), a sweep for the run id and for
//! orphaned `VLLM::` processes, and the ports checked free.

use std::time::{Duration, Instant};

use clap::Args;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::start::{block_on, short_cmd};
use crate::instance::{Instance, State, Store};
use crate::supervisor::stop;
use crate::ui::Printer;

#[derive(Debug, Args)]
pub struct StopArgs {
    /// The profile to stop [default: everything podctl runs].
    #[arg(conflicts_with = "all")]
    pub profile: Option<String>,
    /// Stop every instance, and sweep orphaned vLLM processes.
    #[arg(long)]
    pub all: bool,
}

pub(super) fn run(args: &StopArgs, printer: &Printer) -> anyhow::Result<()> {
    let store = Store::from_env();
    // A `start` holding a profile's lock may not have written its record yet: wait for it.
    let names: Vec<String> = match &args.profile {
        Some(name) => vec![name.clone()],
        None => std::fs::read_dir(store.root())
            .map(|d| {
                d.filter_map(Result::ok).filter_map(|e| e.file_name().to_str().map(str::to_owned)).collect()
            })
            .unwrap_or_default(),
    };
    for name in &names {
        let waited = Instant::now();
        while start_in_progress(&store, name)
            && store.load(name).ok().flatten().is_none_or(|r| !r.state.is_active())
            && waited.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let records: Vec<Instance> =
        if let Some(name) = &args.profile { store.load(name)?.into_iter().collect() } else { store.list() };
    let mut stopped = 0;
    for record in records {
        let live = record.supervisor.alive() || record.vllm.is_some_and(crate::instance::ProcRef::alive);
        if !live && !record.state.is_active() {
            continue;
        }
        stopped += 1;
        let summary = stop_one(&record, &store)?;
        printer.note(&summary);
    }
    if args.profile.is_none() {
        let supervisors = stray_supervisors(&store);
        if !supervisors.is_empty() {
            printer.note(&format!(
                "stopping {} supervisor(s) without a record: {supervisors:?}",
                supervisors.len()
            ));
            for pid in &supervisors {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGTERM);
            }
            let waited = Instant::now();
            while supervisors.iter().any(|p| crate::procs::read(*p).is_some_and(|x| !x.is_zombie()))
                && waited.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            stopped += 1;
        }
        let swept = block_on(sweep_orphans());
        if !swept.is_empty() {
            printer.note(&format!("killed {} orphaned vLLM process(es): {}", swept.len(), swept.join(", ")));
            stopped += 1;
        }
    }
    if stopped == 0 {
        match &args.profile {
            Some(name) => printer.note(&format!("{name} is not running")),
            None => printer.note("nothing is running"),
        }
    }
    Ok(())
}

/// Whether a `podctl start` of `name` holds its lock right now.
fn start_in_progress(store: &Store, name: &str) -> bool {
    let Ok(file) = std::fs::File::open(store.dir(name).join("lock")) else { return false };
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockSharedNonblock).is_err()
}

/// `podctl __supervise` processes of this state dir that no record names (their record
/// could not be written, or was lost).
fn stray_supervisors(store: &Store) -> Vec<i32> {
    let known: Vec<i32> = store.list().iter().map(|r| r.supervisor.pid).collect();
    let root = store.root().to_string_lossy().into_owned();
    crate::procs::all()
        .into_iter()
        .filter(|p| !p.is_zombie() && !known.contains(&p.pid))
        .filter(|p| {
            let mut words = p.cmdline.split(' ');
            words.any(|w| w == "__supervise")
                && words.next().is_some_and(|snapshot| snapshot.starts_with(&root))
        })
        .map(|p| p.pid)
        .collect()
}

/// `VLLM::` processes whose parent is gone, not belonging to any run.
async fn sweep_orphans() -> Vec<String> {
    let all = crate::procs::all();
    let orphans: Vec<String> =
        stop::orphaned_vllm(&all).into_iter().map(|p| format!("{} ({})", p.pid, short_cmd(p))).collect();
    if !orphans.is_empty() {
        stop::sweep(None).await;
    }
    orphans
}

fn stop_one(record: &Instance, store: &Store) -> anyhow::Result<String> {
    let began = Instant::now();
    let snapshot = snapshot(store, &record.profile);
    let grace = Duration::from_secs(snapshot.as_ref().and_then(|p| p.shutdown_timeout).unwrap_or(0) + 10);
    let mut notes = Vec::new();
    let supervisor = record.supervisor;
    if supervisor.alive() {
        let _ = kill(Pid::from_raw(supervisor.pid), Signal::SIGTERM);
        // The supervisor's own recipe: grace for vLLM, 5 s TERM → KILL, the sweep, the proxy.
        // Its own recipe: grace, 5 s TERM → KILL, 2 s sweep, 3 s port check, 6 s proxy.
        let limit = grace + Duration::from_secs(25);
        let waited = Instant::now();
        while supervisor.alive() && waited.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(50));
        }
        if supervisor.alive() {
            let _ = kill(Pid::from_raw(supervisor.pid), Signal::SIGKILL);
            notes.push("the supervisor did not exit in time and was killed".to_owned());
        }
    } else if record.state.is_active() {
        notes.push("its supervisor was gone".to_owned());
    }
    let latest = store
        .load(&record.profile)
        .ok()
        .flatten()
        .filter(|r| r.run_id == record.run_id)
        .unwrap_or_else(|| record.clone());
    if let Some(note) = &latest.stop_note
        && latest.state_since >= record.state_since
        && supervisor.pid == latest.supervisor.pid
    {
        notes.push(format!("the supervisor {note}"));
    }
    let target = stop::Target {
        leader: latest.vllm.or(record.vllm),
        pgid: latest.vllm.or(record.vllm).map(|v| v.pid),
        run_id: record.run_id.clone(),
        grace,
        port: Some(record.port),
        hurry: None,
    };
    let report = block_on(stop::stop(&target));
    if report.termed_leader {
        notes.push("vLLM was still running and got SIGTERM".to_owned());
    }
    if report.killed > 0 {
        notes.push(format!("{} process(es) ignored SIGTERM and were killed", report.killed));
    }
    if !report.swept.is_empty() {
        notes.push(format!("swept {} straggler(s)", report.swept.len()));
    }
    if snapshot.is_some_and(|p| p.parallel.backend == Some(crate::profile::Backend::Ray)) {
        notes.push("its Ray workers are Ray actors: run `ray stop` on every node".to_owned());
    }
    let mut ports = vec![record.port];
    ports.extend(record.proxy.as_ref().map(|p| p.port));
    for port in ports {
        if crate::procs::port_listening(port) {
            let who: Vec<String> = crate::procs::listeners(port).into_iter().map(|p| p.to_string()).collect();
            notes.push(format!(
                "port {port} is still held (pid {})",
                if who.is_empty() { "?".into() } else { who.join(", ") }
            ));
        }
    }
    let mut latest = latest;
    latest.vllm = None;
    if latest.state != State::Failed {
        latest.set_state(State::Stopped);
    }
    // A new run may have started meanwhile: never overwrite its record.
    if store.load(&record.profile).ok().flatten().is_none_or(|r| r.run_id == record.run_id) {
        store.save(&latest)?;
    }
    let gpus = crate::gpu::probe().gpus;
    if !gpus.is_empty() {
        let used: Vec<String> =
            gpus.iter().map(|g| format!("GPU {} {} MiB", g.index, g.memory_used_mib)).collect();
        notes.push(format!("GPU memory in use now: {}", used.join(", ")));
    }
    let what = match &record.proxy {
        Some(p) => format!("vLLM :{} and proxy :{}", record.port, p.port),
        None => format!("vLLM :{}", record.port),
    };
    let mut line = format!("stopped {} ({what}) in {:.1}s", record.profile, began.elapsed().as_secs_f64());
    if !notes.is_empty() {
        line.push_str(&format!("; {}", notes.join("; ")));
    }
    Ok(line)
}

/// The profile the supervisor ran (its snapshot in the state dir).
fn snapshot(store: &Store, profile: &str) -> Option<crate::profile::Profile> {
    let path = store.dir(profile).join("profile.toml");
    let text = std::fs::read_to_string(&path).ok()?;
    crate::profile::Profile::parse(profile, crate::profile::Origin::File(path), &text).ok()
}
