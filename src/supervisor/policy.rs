//! The restart policy, pure: given an exit (when, after how long up, with which diagnosis),
//! restart after a backoff, or give up. Time comes in as a [`Duration`] since the supervisor
//! started, so tests drive it without a clock.
//!
//! * A cause a restart cannot fix (GPU memory held, context too long, missing model, …) is
//!   never restarted: a restart loop would only hide it.
//! * Otherwise restart after 1 s, doubling to `backoff_max`; a run that stayed up longer
//!   than the window starts the backoff over.
//! * More than `max_restarts` failures within the window → give up.
//! * [`NEVER_READY_LIMIT`] failures in a row that never reached ready → give up, however
//!   long each took: a real vLLM start takes minutes, so a broken start would otherwise
//!   never fill the window and loop forever.

use std::collections::VecDeque;
use std::time::Duration;

use crate::profile::RestartSettings;
use crate::vllm::failure::Failure;

const FIRST_DELAY: Duration = Duration::from_secs(1);

/// Starts in a row that may fail before becoming ready before the policy gives up.
pub const NEVER_READY_LIMIT: u32 = 3;

/// What to do after vLLM exited.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Restart {
        delay: Duration,
    },
    /// Too many failures in the window.
    GiveUp {
        reason: String,
    },
    /// A cause a restart cannot fix.
    Fatal(Failure),
}

/// Remembers recent failures and the current backoff.
#[derive(Debug, Clone)]
pub struct RestartPolicy {
    settings: RestartSettings,
    failures: VecDeque<Duration>,
    next_delay: Duration,
    /// Failed starts in a row that never became ready.
    never_ready: u32,
}

impl RestartPolicy {
    pub fn new(settings: RestartSettings) -> Self {
        Self { settings, failures: VecDeque::new(), next_delay: FIRST_DELAY, never_ready: 0 }
    }

    /// An exit at `now` after `uptime` of running (ready or not), with what the log said.
    pub fn on_exit(
        &mut self,
        now: Duration,
        uptime: Duration,
        was_ready: bool,
        diagnosis: Option<&Failure>,
    ) -> Decision {
        if let Some(f) = diagnosis.filter(|f| f.kind.is_fatal()) {
            return Decision::Fatal(f.clone());
        }
        if uptime >= self.settings.window {
            self.next_delay = FIRST_DELAY;
        }
        self.failures.push_back(now);
        while self.failures.front().is_some_and(|&t| now.saturating_sub(t) > self.settings.window) {
            self.failures.pop_front();
        }
        let count = u32::try_from(self.failures.len()).unwrap_or(u32::MAX);
        if count > self.settings.max_restarts {
            return Decision::GiveUp {
                reason: format!(
                    "vLLM exited {count} times within {}; not restarting again",
                    human(self.settings.window)
                ),
            };
        }
        self.never_ready = if was_ready { 0 } else { self.never_ready + 1 };
        if self.never_ready >= NEVER_READY_LIMIT {
            return Decision::GiveUp {
                reason: format!(
                    "vLLM failed to start {} times in a row; not restarting again",
                    self.never_ready
                ),
            };
        }
        let delay = self.next_delay;
        self.next_delay = (self.next_delay * 2).min(self.settings.backoff_max);
        Decision::Restart { delay: delay.min(self.settings.backoff_max) }
    }
}

/// `90 s`, `10 min`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 120 && s.is_multiple_of(60) { format!("{} min", s / 60) } else { format!("{s} s") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vllm::failure::{FailureKind, match_line};

    fn settings(max: u32) -> RestartSettings {
        RestartSettings {
            max_restarts: max,
            window: Duration::from_mins(10),
            backoff_max: Duration::from_mins(1),
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn backoff_doubles_to_the_cap_then_gives_up() {
        let mut p = RestartPolicy::new(RestartSettings { max_restarts: 8, ..settings(8) });
        let mut delays = Vec::new();
        for i in 0..8 {
            match p.on_exit(secs(i), secs(1), true, None) {
                Decision::Restart { delay } => delays.push(delay.as_secs()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert!(matches!(p.on_exit(secs(9), secs(1), true, None), Decision::GiveUp { .. }));
    }

    #[test]
    fn failures_outside_the_window_are_forgotten_and_long_runs_reset_backoff() {
        let mut p = RestartPolicy::new(settings(2));
        assert_eq!(p.on_exit(secs(0), secs(1), true, None), Decision::Restart { delay: secs(1) });
        assert_eq!(p.on_exit(secs(10), secs(1), true, None), Decision::Restart { delay: secs(2) });
        // Much later, after a long healthy run: the window has emptied and backoff restarts.
        assert_eq!(p.on_exit(secs(2000), secs(1900), true, None), Decision::Restart { delay: secs(1) });
        assert_eq!(p.on_exit(secs(2001), secs(1), true, None), Decision::Restart { delay: secs(2) });
        assert!(matches!(p.on_exit(secs(2002), secs(1), true, None), Decision::GiveUp { .. }));
    }

    #[test]
    fn fatal_causes_are_not_restarted_but_crashes_are() {
        let mut p = RestartPolicy::new(settings(5));
        let held = match_line("ValueError: Free memory on device cuda:0 (10.2/79.1 GiB) on startup is less than desired GPU memory utilization (0.92, 72.8 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.")
            .expect("recognised");
        assert_eq!(held.kind, FailureKind::GpuMemoryHeld);
        assert!(
            matches!(p.on_exit(secs(0), secs(5), true, Some(&held)), Decision::Fatal(f) if f.kind == FailureKind::GpuMemoryHeld)
        );
        let killed =
            match_line("Worker proc VllmWorker-0 died unexpectedly (exit code: -9)").expect("recognised");
        assert!(matches!(p.on_exit(secs(1), secs(5), true, Some(&killed)), Decision::Restart { .. }));
    }

    #[test]
    fn starts_that_never_get_ready_give_up_however_slow() {
        let mut p = RestartPolicy::new(settings(5));
        // Each failed start took 10 minutes: the window never holds more than one.
        assert!(matches!(p.on_exit(secs(600), secs(600), false, None), Decision::Restart { .. }));
        assert!(matches!(p.on_exit(secs(1300), secs(600), false, None), Decision::Restart { .. }));
        let last = p.on_exit(secs(2000), secs(600), false, None);
        assert!(
            matches!(&last, Decision::GiveUp { reason } if reason.contains("3 times in a row")),
            "{last:?}"
        );
        // A start that got ready in between resets the count.
        let mut p = RestartPolicy::new(settings(5));
        p.on_exit(secs(600), secs(600), false, None);
        p.on_exit(secs(1300), secs(600), false, None);
        p.on_exit(secs(5000), secs(3000), true, None);
        assert!(matches!(p.on_exit(secs(6000), secs(600), false, None), Decision::Restart { .. }));
    }

    #[test]
    fn zero_restarts_gives_up_at_once() {
        let mut p = RestartPolicy::new(settings(0));
        assert!(matches!(p.on_exit(secs(0), secs(1), true, None), Decision::GiveUp { .. }));
    }
}
