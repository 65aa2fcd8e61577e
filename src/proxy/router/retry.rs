//! When a failed attempt is tried again on another replica, and how long to wait first.
//! Attempts are only ever repeated before the first byte reached the client.

use std::time::Duration;

/// Upstream statuses worth another replica: overload (429), a gateway in between failing
/// (502, 504), the server not ready (503).
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Statuses that say something about the replica's health (for its failure count).
pub(crate) fn unhealthy_status(status: u16) -> bool {
    retryable_status(status) || status >= 500
}

/// Wait before attempt `attempt` (1 = the first retry): 10 ms doubling up to 500 ms,
/// with full jitter from `rand` so retries of many requests spread out.
pub(crate) fn backoff(attempt: u32, rand: u64) -> Duration {
    let cap_ms = (10u64 << attempt.saturating_sub(1).min(6)).min(500);
    Duration::from_millis(rand % (cap_ms + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for s in [429, 502, 503, 504] {
            assert!(retryable_status(s) && unhealthy_status(s), "{s}");
        }
        for s in [400, 401, 404, 413, 422, 500] {
            assert!(!retryable_status(s), "{s}");
        }
        assert!(unhealthy_status(500) && !unhealthy_status(400) && !unhealthy_status(404));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1, u64::MAX) <= Duration::from_millis(10));
        assert!(backoff(3, u64::MAX - 1) <= Duration::from_millis(40));
        for attempt in 1..40 {
            assert!(backoff(attempt, 499) <= Duration::from_millis(500));
        }
        assert_eq!(backoff(7, 499), Duration::from_millis(499));
    }
}
