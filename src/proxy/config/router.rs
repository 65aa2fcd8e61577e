//! How requests are spread over replicas, retried and failed over: the `[router]` settings.

use std::time::Duration;

/// How requests are spread over replicas, retried and failed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConfig {
    /// Retries on another replica after a connect error or a 429/502/503/504, only before
    /// the first byte reached the client.
    pub num_retries: u32,
    /// Per-request deadline for those attempts (a healthy stream has no total limit).
    pub timeout: Duration,
    /// Consecutive failures that put a replica in cooldown (a refused connection does at once).
    pub allowed_fails: u32,
    pub cooldown: Duration,
    /// How often each replica's `/health` is probed.
    pub health_interval: Duration,
    /// Requests sharing a conversation prefix go to the same replica while load allows.
    pub affinity: bool,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            num_retries: 2,
            timeout: Duration::from_mins(10),
            allowed_fails: 3,
            cooldown: Duration::from_secs(30),
            health_interval: Duration::from_secs(5),
            affinity: true,
        }
    }
}
