//! Linux `/proc` facts that `start`, `stop`, `status` and `doctor` act on: processes (pid,
//! parent, group, start time, title), their environment (the `PODCTL_RUN_ID` marker every vLLM
//! descendant inherits), who listens on a TCP port and who holds a GPU device. The parsers are
//! pure (`stat`, `net`) and the readers thin (`scan`); a process that exits while being read
//! is simply absent from the answer, and nothing here signals anything. Where to reach a
//! server from its bind address ([`connect_host`]) sits with the port facts.

mod net;
mod process;
mod scan;
mod stat;

pub use net::connect_host;
pub use process::Process;

/// Reads one process (None when it is gone or unreadable).
pub fn read(pid: i32) -> Option<Process> {
    scan::read(pid)
}

/// Every process readable in /proc.
pub fn all() -> Vec<Process> {
    scan::all()
}

/// Whether process `pid` with this start time is still alive and not a zombie (pid-reuse safe).
pub fn alive(pid: i32, start_ticks: u64) -> bool {
    scan::read_stat(pid).is_some_and(|stat| stat.start_ticks == start_ticks && stat.state != 'Z')
}

/// The value of environment variable `name` in process `pid` (reads /proc/PID/environ; None if absent/unreadable).
///
/// This is the environment the process was started with; changes it made later are not seen.
pub fn env_var(pid: i32, name: &str) -> Option<String> {
    stat::environ_get(&scan::environ(pid)?, name)
}

/// Processes whose environment has `name=value` (e.g. PODCTL_RUN_ID=abc). Skips the calling process itself.
/// Only processes whose environ is readable (the same user, or root) can be found.
pub fn with_env(name: &str, value: &str) -> Vec<Process> {
    let me = own_pid();
    scan::pids()
        .into_iter()
        .filter(|pid| Some(*pid) != me)
        .filter(|pid| env_var(*pid, name).is_some_and(|v| v == value))
        .filter_map(read)
        .collect()
}

/// Pids of processes holding a listening TCP socket on `port` (IPv4 or IPv6, any address). Empty when none or not visible.
pub fn listeners(port: u16) -> Vec<i32> {
    net::listeners(port)
}

/// Whether anything listens on `port` per /proc/net/tcp{,6} (even if the owner's fds are not readable).
pub fn port_listening(port: u16) -> bool {
    net::port_listening(port)
}

/// Pids holding an open fd on a `/dev/nvidia*` device (GPU users), for doctor and stop.
///
/// The calling process is left out (NVML itself opens `/dev/nvidiactl`), as are processes
/// whose fds are not readable (other users when not root).
pub fn gpu_holders() -> Vec<i32> {
    let me = own_pid();
    scan::pids_with_fd(|target| target.starts_with("/dev/nvidia"))
        .into_iter()
        .filter(|pid| Some(*pid) != me)
        .collect()
}

fn own_pid() -> Option<i32> {
    i32::try_from(std::process::id()).ok()
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;

    use super::*;

    /// A spawned child in its own process group; the group is killed and the child reaped on
    /// drop, so a failed assertion leaves nothing behind.
    struct Spawned {
        child: Child,
        reaped: bool,
    }

    impl Spawned {
        fn new(command: &mut Command) -> Self {
            let child = command
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn");
            Spawned { child, reaped: false }
        }

        fn pid(&self) -> i32 {
            i32::try_from(self.child.id()).expect("pid fits i32")
        }

        /// SIGKILLs the whole group, then reaps the leader. Signals nothing once reaped (the
        /// pid could be reused).
        fn kill_and_reap(&mut self) {
            if !self.reaped {
                let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.reaped = true;
            }
        }
    }

    impl Drop for Spawned {
        fn drop(&mut self) {
            self.kill_and_reap();
        }
    }

    /// Polls `check` until it returns Some, for up to 5 s.
    fn eventually<T>(mut check: impl FnMut() -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(found) = check() {
                return Some(found);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn process(pid: i32, parent: i32, comm: &str, cmdline: &str) -> Process {
        Process {
            pid,
            ppid: parent,
            pgid: pid,
            start_ticks: 0,
            comm: comm.into(),
            cmdline: cmdline.into(),
            state: 'S',
        }
    }

    #[test]
    fn vllm_titles_and_zombies() {
        assert!(process(2, 1, "VLLM::EngineCor", "").is_vllm_title());
        assert!(process(2, 1, "python3", "VLLM::Worker_TP0").is_vllm_title());
        assert!(!process(2, 1, "python3", "vllm serve Qwen/Qwen3 VLLM::").is_vllm_title());
        assert!(!process(2, 1, "vllm", "vllm serve").is_vllm_title());
        let mut zombie = process(2, 1, "x", "");
        assert!(!zombie.is_zombie());
        zombie.state = 'Z';
        assert!(zombie.is_zombie());
    }

    #[test]
    fn reads_itself_with_its_parent() {
        let me = own_pid().expect("pid");
        let found = read(me).expect("own process readable");
        assert_eq!(found.pid, me);
        assert_eq!(found.ppid, i32::try_from(std::os::unix::process::parent_id()).expect("ppid"));
        assert!(alive(me, found.start_ticks));
        assert!(!alive(me, found.start_ticks + 1));
        assert!(all().iter().any(|p| p.pid == me));
        assert_eq!(read(-5), None);
    }

    #[test]
    fn with_env_finds_a_marked_child() {
        let mark = format!("procs-test-{}-{}", std::process::id(), fastrand::u64(..));
        let child = Spawned::new(Command::new("sleep").arg("5").env("PODCTL_TEST_MARK", &mark));
        let pid = child.pid();
        let found = eventually(|| with_env("PODCTL_TEST_MARK", &mark).into_iter().find(|p| p.pid == pid));
        let found = found.expect("marked child found by its environment");
        assert_eq!(found.comm, "sleep");
        assert_eq!(found.pgid, pid);
        assert_eq!(env_var(pid, "PODCTL_TEST_MARK").as_deref(), Some(mark.as_str()));
        assert!(with_env("PODCTL_TEST_MARK", "no-such-mark").is_empty());
    }

    #[test]
    fn listeners_find_the_test_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(port_listening(port));
        let me = own_pid().expect("pid");
        assert!(listeners(port).contains(&me), "{:?} should hold port {port}", listeners(port));
        drop(listener);
        assert!(!port_listening(port));
        assert!(listeners(port).is_empty());
    }

    #[test]
    fn alive_turns_false_when_the_child_dies() {
        let mut child = Spawned::new(Command::new("sleep").arg("5"));
        let pid = child.pid();
        let start = read(pid).expect("child readable").start_ticks;
        assert!(alive(pid, start));
        child.child.kill().expect("kill");
        // Killed but not yet reaped: a zombie, which does not count as alive.
        let zombie = eventually(|| read(pid).filter(Process::is_zombie));
        assert!(zombie.is_some(), "killed child should become a zombie");
        assert!(!alive(pid, start));
        child.kill_and_reap();
        assert!(!alive(pid, start));
    }
}
