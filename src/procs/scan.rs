//! Reading processes from the live `/proc`: one process, every process, and the processes
//! with an open file descriptor matching a test. Everything here tolerates processes that
//! exit between listing and reading (they are skipped).

use std::fs;
use std::path::Path;

use super::process::Process;
use super::stat::{self, Stat};

/// The pids listed in `/proc`, ascending.
pub(super) fn pids() -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid| *pid > 0)
        .collect();
    pids.sort_unstable();
    pids
}

/// The parsed `/proc/PID/stat`.
pub(super) fn read_stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat::parse_stat(&text).filter(|stat| stat.pid == pid)
}

/// One process, or None when it is gone or its stat is unreadable.
pub(super) fn read(pid: i32) -> Option<Process> {
    let stat = read_stat(pid)?;
    let cmdline =
        fs::read(format!("/proc/{pid}/cmdline")).map(|b| stat::parse_cmdline(&b)).unwrap_or_default();
    Some(Process {
        pid: stat.pid,
        ppid: stat.ppid,
        pgid: stat.pgid,
        start_ticks: stat.start_ticks,
        comm: stat.comm,
        cmdline,
        state: stat.state,
    })
}

/// Every process readable in `/proc`.
pub(super) fn all() -> Vec<Process> {
    pids().into_iter().filter_map(read).collect()
}

/// The raw bytes of `/proc/PID/environ` (unreadable for other users' processes).
pub(super) fn environ(pid: i32) -> Option<Vec<u8>> {
    fs::read(format!("/proc/{pid}/environ")).ok()
}

/// Pids with at least one fd whose link target (as text) satisfies `wanted`, ascending.
/// Processes whose fds cannot be read (other users, gone) are skipped.
pub(super) fn pids_with_fd(wanted: impl Fn(&str) -> bool) -> Vec<i32> {
    pids()
        .into_iter()
        .filter(|pid| has_fd(&Path::new("/proc").join(pid.to_string()).join("fd"), &wanted))
        .collect()
}

fn has_fd(dir: &Path, wanted: &impl Fn(&str) -> bool) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries
        .filter_map(Result::ok)
        .any(|entry| fs::read_link(entry.path()).is_ok_and(|target| target.to_str().is_some_and(wanted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> i32 {
        i32::try_from(std::process::id()).expect("pid fits i32")
    }

    #[test]
    fn finds_the_holder_of_an_open_file() {
        let path = std::env::temp_dir().join(format!("podctl-fd-test-{}-{}", me(), fastrand::u64(..)));
        let file = fs::File::create(&path).expect("create temp file");
        let target = path.to_str().expect("utf-8 path").to_owned();
        assert_eq!(pids_with_fd(|t| t == target), vec![me()]);
        drop(file);
        assert!(pids_with_fd(|t| t == target).is_empty());
        let _ = fs::remove_file(&path);
    }

    #[test]
    fn gpu_device_holders() {
        let is_gpu = |t: &str| t.starts_with("/dev/nvidia");
        match fs::File::open("/dev/nvidiactl") {
            Ok(device) => {
                assert!(pids_with_fd(is_gpu).contains(&me()));
                assert!(!crate::procs::gpu_holders().contains(&me()), "the caller is left out");
                drop(device);
            }
            // No NVIDIA driver here: nobody can hold a device.
            Err(_) => assert!(crate::procs::gpu_holders().is_empty()),
        }
    }
}
