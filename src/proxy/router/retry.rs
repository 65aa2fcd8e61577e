//! When a failed attempt is tried again on another replica, and how long to wait first.
//! Attempts are only ever repeated before the first byte reached the client.

use std::time::Duration;

/// Why an attempt was tried again on another replica: the `reason` label of
/// `podctl_retries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// The replica refused or reset the connection before answering.
    Connect,
    /// Sending the request failed after connecting.
    Send,
    /// The answer broke off, or a stream ended or failed before its first byte.
    Read,
    /// 429: the replica is overloaded.
    TooManyRequests,
    /// 502: a gateway in between failed.
    BadGateway,
    /// 503: the server is not ready.
    Unavailable,
    /// 504: a gateway in between timed out.
    GatewayTimeout,
}

impl RetryReason {
    /// The reason for an upstream status worth another replica; `None` for any other status.
    pub(crate) fn for_status(status: u16) -> Option<Self> {
        match status {
            429 => Some(Self::TooManyRequests),
            502 => Some(Self::BadGateway),
            503 => Some(Self::Unavailable),
            504 => Some(Self::GatewayTimeout),
            _ => None,
        }
    }

    /// The metric label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Send => "send",
            Self::Read => "read",
            Self::TooManyRequests => "status_429",
            Self::BadGateway => "status_502",
            Self::Unavailable => "status_503",
            Self::GatewayTimeout => "status_504",
        }
    }
}

/// Upstream statuses worth another replica: overload (429), a gateway in between failing
/// (502, 504), the server not ready (503).
pub(crate) fn retryable_status(status: u16) -> bool {
    RetryReason::for_status(status).is_some()
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
    fn status_reasons_have_their_labels() {
        let labels = [429, 502, 503, 504].map(|s| RetryReason::for_status(s).map(RetryReason::label));
        assert_eq!(labels, [Some("status_429"), Some("status_502"), Some("status_503"), Some("status_504")]);
        assert_eq!(RetryReason::for_status(500), None);
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
