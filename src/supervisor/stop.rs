//! The stop recipe (vllm-ops.md): SIGTERM the leader and give vLLM's own teardown its
//! time; then TERM, wait, KILL whatever is left in the process group; then sweep processes
//! that carry the run id in their environment, or are titled `VLLM::` and orphaned (vLLM's
//! EngineCore survives its API server and keeps the GPU); finally confirm the port is free.
//! Used by the supervisor on its own child, and by `podctl stop` when the supervisor is gone.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::instance::ProcRef;
use crate::procs;
use crate::vllm::argv::RUN_ID_VAR;

/// What to stop.
#[derive(Debug, Clone)]
pub struct Target {
    /// The group leader (vLLM's API server), when it may still run.
    pub leader: Option<ProcRef>,
    /// The process group (the leader's pid), even after the leader is gone.
    pub pgid: Option<i32>,
    pub run_id: String,
    /// How long vLLM may take on SIGTERM (its `shutdown_timeout` + 10 s).
    pub grace: Duration,
    /// The port that must be free afterwards.
    pub port: Option<u16>,
}

/// What it took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The leader was running and got SIGTERM.
    pub termed_leader: bool,
    /// Processes still in the group after the grace period.
    pub group_leftovers: usize,
    /// Killed with SIGKILL after TERM did not do it.
    pub killed: usize,
    /// Swept by run id or orphaned `VLLM::` title.
    pub swept: Vec<i32>,
    pub port_free: bool,
    pub took: Duration,
}

fn pid(p: i32) -> Pid {
    Pid::from_raw(p)
}

fn group_members(pgid: i32) -> Vec<procs::Process> {
    procs::all().into_iter().filter(|p| p.pgid == pgid && !p.is_zombie()).collect()
}

async fn wait_until(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the recipe. `leader_exited` reports whether the leader is gone (the supervisor
/// passes its own child's state, since an unreaped child still looks alive as a zombie).
pub async fn stop(target: &Target) -> Report {
    let start = Instant::now();
    let mut report = Report::default();
    if let Some(leader) = target.leader
        && leader.alive()
    {
        report.termed_leader = true;
        let _ = kill(pid(leader.pid), Signal::SIGTERM);
        wait_until(target.grace, || !leader.alive()).await;
    }
    if let Some(pgid) = target.pgid.or(target.leader.map(|l| l.pid)) {
        let left = group_members(pgid);
        report.group_leftovers = left.len();
        if !left.is_empty() {
            let _ = killpg(pid(pgid), Signal::SIGTERM);
            if !wait_until(Duration::from_secs(5), || group_members(pgid).is_empty()).await {
                report.killed += group_members(pgid).len();
                let _ = killpg(pid(pgid), Signal::SIGKILL);
                wait_until(Duration::from_secs(2), || group_members(pgid).is_empty()).await;
            }
        }
    }
    report.swept = sweep(Some(&target.run_id)).await;
    if let Some(port) = target.port {
        report.port_free = wait_until(Duration::from_secs(3), || !procs::port_listening(port)).await;
    } else {
        report.port_free = true;
    }
    report.took = start.elapsed();
    report
}

/// SIGKILLs stragglers: anything carrying the run id, and `VLLM::` processes whose parent
/// is gone (reparented to init or a subreaper that is not their own API server).
pub async fn sweep(run_id: Option<&str>) -> Vec<i32> {
    let all = procs::all();
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let marked = run_id.filter(|r| !r.is_empty()).map(|r| procs::with_env(RUN_ID_VAR, r)).unwrap_or_default();
    let mut victims: Vec<i32> =
        marked.into_iter().filter(|p| !p.is_zombie() && p.pid != me).map(|p| p.pid).collect();
    for p in &all {
        let orphan = p.ppid == 1 || !all.iter().any(|q| q.pid == p.ppid);
        if p.is_vllm_title() && orphan && !p.is_zombie() && !victims.contains(&p.pid) {
            victims.push(p.pid);
        }
    }
    for &v in &victims {
        let _ = kill(pid(v), Signal::SIGKILL);
    }
    wait_until(Duration::from_secs(2), || {
        victims.iter().all(|&v| procs::read(v).is_none_or(|p| p.is_zombie()))
    })
    .await;
    victims
}
