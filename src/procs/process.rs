//! One process as `/proc` shows it, and what podctl asks of it.

/// One process as /proc shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Process id.
    pub pid: i32,
    /// Parent process id (1, or a subreaper, for orphans).
    pub ppid: i32,
    /// Process group id.
    pub pgid: i32,
    /// Start time in clock ticks since boot (field 22 of stat): with the pid, identifies a process across pid reuse.
    pub start_ticks: u64,
    /// `comm` (15 chars max; vLLM sets e.g. `VLLM::EngineCor`).
    pub comm: String,
    /// cmdline joined with spaces (process titles set by setproctitle appear here), may be empty for zombies/kernel threads.
    pub cmdline: String,
    /// Single-letter state from stat (R, S, Z, ...).
    pub state: char,
}

/// The prefix vLLM gives the titles of its EngineCore and worker processes.
const VLLM_TITLE_PREFIX: &str = "VLLM::";

impl Process {
    /// The process title starts with `VLLM::` (in comm or cmdline) — vLLM's EngineCore / workers.
    pub fn is_vllm_title(&self) -> bool {
        self.comm.starts_with(VLLM_TITLE_PREFIX) || self.cmdline.starts_with(VLLM_TITLE_PREFIX)
    }

    /// The process has exited and waits to be reaped by its parent (state `Z`).
    /// The command line (or `comm` when it has none), cut to `max` characters.
    pub fn short_title(&self, max: usize) -> String {
        let cmd = if self.cmdline.is_empty() { &self.comm } else { &self.cmdline };
        let mut s: String = cmd.chars().take(max).collect();
        if cmd.chars().count() > max {
            s.push('…');
        }
        s
    }

    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }
}
