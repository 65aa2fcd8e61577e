//! The stop recipe (vllm-ops.md): SIGTERM the leader and give vLLM's own teardown its
//! time; then TERM, wait, KILL whatever is left in the process group; then sweep processes
//! that carry the run id in their environment, or are titled `VLLM::` and orphaned (vLLM's
//! EngineCore survives its API server and keeps the GPU); finally confirm the port is free.
//! Used by the supervisor on its own child, and by `podctl stop` when the supervisor is gone.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use tokio_util::sync::CancellationToken;

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
    /// Cancelled (a second Ctrl-C): skip the waiting and kill.
    pub hurry: Option<CancellationToken>,
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

/// Live members of the group that carry our run id. A group id outlives its leader and can
/// be reused by an unrelated process, so membership alone never marks a process as ours.
fn group_members(pgid: i32, run_id: &str) -> Vec<procs::Process> {
    procs::all()
        .into_iter()
        .filter(|p| p.pgid == pgid && !p.is_zombie())
        .filter(|p| procs::env_var(p.pid, RUN_ID_VAR).as_deref() == Some(run_id))
        .collect()
}

fn signal_all(members: &[procs::Process], signal: Signal) {
    for p in members {
        let _ = kill(pid(p.pid), signal);
    }
}

async fn wait_until(
    deadline: Duration,
    hurry: Option<&CancellationToken>,
    mut done: impl FnMut() -> bool,
) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= deadline || hurry.is_some_and(CancellationToken::is_cancelled) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Report {
    /// One line for people: how long, and what needed force.
    pub fn summary(&self) -> String {
        let mut s = format!("stopped vLLM in {:.1} s", self.took.as_secs_f64());
        if self.killed > 0 {
            s.push_str(&format!("; {} process(es) ignored SIGTERM and were killed", self.killed));
        }
        if !self.swept.is_empty() {
            s.push_str(&format!("; swept {} straggler(s) {:?}", self.swept.len(), self.swept));
        }
        if !self.port_free {
            s.push_str("; its port is still held");
        }
        s
    }
}

/// Runs the recipe on `target` and reports what it took. The leader counts as gone once
/// `/proc` shows it exited or a zombie ([`ProcRef::alive`]), so an unreaped child does not
/// hold up the grace period; the supervisor reaps its own child while this runs.
pub async fn stop(target: &Target) -> Report {
    let start = Instant::now();
    let hurry = target.hurry.as_ref();
    let run_id = target.run_id.as_str();
    let mut report = Report::default();
    if let Some(leader) = target.leader
        && leader.alive()
    {
        report.termed_leader = true;
        let _ = kill(pid(leader.pid), Signal::SIGTERM);
        wait_until(target.grace, hurry, || !leader.alive()).await;
    }
    if let Some(pgid) = target.pgid.or(target.leader.map(|l| l.pid)) {
        let left = group_members(pgid, run_id);
        report.group_leftovers = left.len();
        if !left.is_empty() {
            signal_all(&left, Signal::SIGTERM);
            if !wait_until(Duration::from_secs(5), hurry, || group_members(pgid, run_id).is_empty()).await {
                let stubborn = group_members(pgid, run_id);
                report.killed += stubborn.len();
                signal_all(&stubborn, Signal::SIGKILL);
                wait_until(Duration::from_secs(2), None, || group_members(pgid, run_id).is_empty()).await;
            }
        }
    }
    report.swept = sweep(Some(run_id)).await;
    if let Some(port) = target.port {
        report.port_free = wait_until(Duration::from_secs(3), hurry, || !procs::port_listening(port)).await;
    } else {
        report.port_free = true;
    }
    report.took = start.elapsed();
    report
}

/// Whether `p`'s parent is gone: it was reparented to init, or its parent is no longer
/// listed (or is a zombie). In a container whose entry point is vLLM itself, pid 1 is that
/// server, and its engine is its child, not an orphan.
pub fn is_orphan(p: &procs::Process, all: &[procs::Process]) -> bool {
    let init_is_vllm = || all.iter().any(|q| q.pid == 1 && (q.is_vllm_title() || q.cmdline.contains("vllm")));
    (p.ppid == 1 && !init_is_vllm()) || !all.iter().any(|q| q.pid == p.ppid && !q.is_zombie())
}

/// Live `VLLM::` processes (engines, workers) whose parent is gone: nothing will stop them,
/// and they hold the GPU.
pub fn orphaned_vllm(all: &[procs::Process]) -> Vec<&procs::Process> {
    all.iter().filter(|p| p.is_vllm_title() && !p.is_zombie() && is_orphan(p, all)).collect()
}

/// SIGKILLs stragglers: anything carrying the run id, and `VLLM::` processes whose parent
/// is gone (reparented to init or a subreaper that is not their own API server).
pub async fn sweep(run_id: Option<&str>) -> Vec<i32> {
    let all = procs::all();
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    let marked = run_id.filter(|r| !r.is_empty()).map(|r| procs::with_env(RUN_ID_VAR, r)).unwrap_or_default();
    let mut victims: Vec<i32> =
        marked.into_iter().filter(|p| !p.is_zombie() && p.pid != me).map(|p| p.pid).collect();
    for p in orphaned_vllm(&all) {
        if !victims.contains(&p.pid) {
            victims.push(p.pid);
        }
    }
    for &v in &victims {
        let _ = kill(pid(v), Signal::SIGKILL);
    }
    wait_until(Duration::from_secs(2), None, || {
        victims.iter().all(|&v| procs::read(v).is_none_or(|p| p.is_zombie()))
    })
    .await;
    victims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(id: i32, parent: i32, title: &str) -> procs::Process {
        procs::Process {
            pid: id,
            ppid: parent,
            pgid: id,
            start_ticks: 1,
            comm: title.chars().take(15).collect(),
            cmdline: title.to_owned(),
            state: 'S',
        }
    }

    #[test]
    fn orphans_are_vllm_processes_whose_parent_is_gone() {
        let all = vec![
            proc(1, 0, "/sbin/init"),
            proc(10, 1, "vllm serve m"),
            proc(11, 10, "VLLM::EngineCore"),
            proc(20, 1, "VLLM::EngineCore"),
            proc(30, 99, "VLLM::Worker_TP0"),
            proc(40, 1, "python train.py"),
        ];
        let pids: Vec<i32> = orphaned_vllm(&all).iter().map(|p| p.pid).collect();
        assert_eq!(
            pids,
            [20, 30],
            "a live server's engine is not an orphan; a non-vLLM process is never swept"
        );
        // In a container whose entry point is `vllm serve`, pid 1's engine is its child.
        let container = vec![proc(1, 0, "vllm serve m"), proc(7, 1, "VLLM::EngineCore")];
        assert!(orphaned_vllm(&container).is_empty());
        // A zombie parent is gone.
        let mut zombie = proc(50, 1, "vllm serve m");
        zombie.state = 'Z';
        let with_zombie = vec![proc(1, 0, "/sbin/init"), zombie, proc(51, 50, "VLLM::EngineCore")];
        assert_eq!(orphaned_vllm(&with_zombie).iter().map(|p| p.pid).collect::<Vec<_>>(), [51]);
    }
}
