//! A replica's health, as a pure state machine fed by probes (`/health` every few
//! seconds) and by the outcomes of real requests.
//!
//! * `Unknown` (not probed yet) and `Up` take requests.
//! * `Starting`: `/health` answered 503 (vLLM loading, or restarting). Skipped, not failed:
//!   no cooldown, and it takes requests again as soon as a probe passes.
//! * `Cooldown`: a refused connection, or `allowed_fails` failures in a row, took it out
//!   of rotation for `cooldown`. After that it stays out until a probe passes (`Down`).
//! * `Down` straight away, without a cooldown, for a server refusing connections before it
//!   was ever up (the proxy started first): it joins as soon as a probe passes.

use std::time::{Duration, Instant};

/// What a probe or a request learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    /// `/health` 503: the server is up but the engine is not (yet).
    Starting,
    /// Connection refused or reset before any answer: the server is not there.
    Unreachable(String),
    /// A timeout, a 5xx, a 429, a broken body: counts toward `allowed_fails`.
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Unknown,
    Up,
    Starting,
    Cooldown {
        until: Instant,
    },
    /// Cooldown over; waiting for a probe to pass.
    Down,
}

impl State {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Up => "up",
            Self::Starting => "starting",
            Self::Cooldown { .. } => "cooldown",
            Self::Down => "down",
        }
    }
}

/// Thresholds (from the router config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) allowed_fails: u32,
    pub(crate) cooldown: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Health {
    state: State,
    /// Failures in a row (reset by any success).
    fails: u32,
    pub(crate) last_error: Option<String>,
}

/// Whether an update put the replica into cooldown (for the metric and the log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    None,
    CooledDown,
    Recovered,
}

impl Default for Health {
    fn default() -> Self {
        Self { state: State::Unknown, fails: 0, last_error: None }
    }
}

impl Health {
    /// The state as of `now` (a finished cooldown reads as `Down`).
    pub(crate) fn state(&self, now: Instant) -> State {
        match self.state {
            State::Cooldown { until } if now >= until => State::Down,
            s => s,
        }
    }

    /// Whether requests may go to it.
    pub(crate) fn available(&self, now: Instant) -> bool {
        matches!(self.state(now), State::Unknown | State::Up)
    }

    /// When it may take requests again, if it is cooling down.
    pub(crate) fn cooldown_left(&self, now: Instant) -> Duration {
        match self.state {
            State::Cooldown { until } => until.saturating_duration_since(now),
            _ => Duration::ZERO,
        }
    }

    /// A real request's outcome.
    pub(crate) fn on_request(&mut self, outcome: Outcome, now: Instant, policy: Policy) -> Change {
        match outcome {
            Outcome::Ok => {
                self.fails = 0;
                match self.state {
                    State::Unknown | State::Up => {
                        self.state = State::Up;
                        Change::None
                    }
                    // It served a request (the last resort when nothing else was
                    // available): it is back.
                    State::Starting | State::Cooldown { .. } | State::Down => {
                        self.state = State::Up;
                        self.last_error = None;
                        Change::Recovered
                    }
                }
            }
            Outcome::Starting => {
                self.state = State::Starting;
                Change::None
            }
            Outcome::Unreachable(e) => self.cool(e, now, policy),
            Outcome::Failed(e) => self.fail(e, now, policy),
        }
    }

    /// A `/health` probe's outcome.
    pub(crate) fn on_probe(&mut self, outcome: Outcome, now: Instant, policy: Policy) -> Change {
        match outcome {
            Outcome::Ok => {
                self.fails = 0;
                match self.state(now) {
                    // Out of rotation until the cooldown is served, even if it answers.
                    State::Cooldown { .. } => Change::None,
                    State::Down | State::Starting => {
                        self.state = State::Up;
                        self.last_error = None;
                        Change::Recovered
                    }
                    State::Unknown | State::Up => {
                        self.state = State::Up;
                        Change::None
                    }
                }
            }
            Outcome::Starting => {
                self.fails = 0;
                if !matches!(self.state(now), State::Cooldown { .. }) {
                    self.state = State::Starting;
                }
                Change::None
            }
            Outcome::Unreachable(e) => match self.state(now) {
                // Already out of rotation: stay there, note why.
                State::Cooldown { .. } | State::Down => {
                    self.last_error = Some(e);
                    Change::None
                }
                _ => self.cool(e, now, policy),
            },
            Outcome::Failed(e) => match self.state(now) {
                State::Cooldown { .. } | State::Down => {
                    self.last_error = Some(e);
                    Change::None
                }
                _ => self.fail(e, now, policy),
            },
        }
    }

    fn fail(&mut self, error: String, now: Instant, policy: Policy) -> Change {
        self.fails += 1;
        self.last_error = Some(error);
        if self.fails >= policy.allowed_fails.max(1) {
            self.enter_cooldown(now, policy)
        } else {
            Change::None
        }
    }

    fn cool(&mut self, error: String, now: Instant, policy: Policy) -> Change {
        self.last_error = Some(error);
        if matches!(self.state, State::Unknown | State::Starting) {
            // Never served yet (a proxy started before its vLLM): down until a probe
            // passes, with no cooldown to sit out once it does.
            self.state = State::Down;
            self.fails = 0;
            return Change::None;
        }
        self.enter_cooldown(now, policy)
    }

    fn enter_cooldown(&mut self, now: Instant, policy: Policy) -> Change {
        self.fails = 0;
        let was_out = matches!(self.state(now), State::Cooldown { .. } | State::Down);
        self.state = State::Cooldown { until: now + policy.cooldown };
        if was_out { Change::None } else { Change::CooledDown }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy { allowed_fails: 3, cooldown: Duration::from_secs(30) };

    fn failed() -> Outcome {
        Outcome::Failed("HTTP 502".into())
    }

    #[test]
    fn unknown_and_up_take_requests() {
        let t = Instant::now();
        let mut h = Health::default();
        assert!(h.available(t));
        assert_eq!(h.on_probe(Outcome::Ok, t, POLICY), Change::None);
        assert_eq!(h.state(t), State::Up);
    }

    #[test]
    fn consecutive_failures_cool_down_and_a_success_resets_them() {
        let t = Instant::now();
        let mut h = Health::default();
        h.on_request(failed(), t, POLICY);
        h.on_request(failed(), t, POLICY);
        h.on_request(Outcome::Ok, t, POLICY);
        h.on_request(failed(), t, POLICY);
        assert!(h.available(t), "the success reset the count");
        h.on_request(failed(), t, POLICY);
        assert_eq!(h.on_request(failed(), t, POLICY), Change::CooledDown);
        assert!(!h.available(t));
        assert_eq!(h.cooldown_left(t), Duration::from_secs(30));
    }

    #[test]
    fn a_server_not_up_yet_is_down_without_a_cooldown() {
        let t = Instant::now();
        let mut h = Health::default();
        assert_eq!(h.on_probe(Outcome::Unreachable("refused".into()), t, POLICY), Change::None);
        assert_eq!(h.state(t), State::Down);
        assert!(!h.available(t));
        assert_eq!(h.on_probe(Outcome::Ok, t, POLICY), Change::Recovered, "up as soon as it answers");
        let mut starting = Health::default();
        starting.on_probe(Outcome::Starting, t, POLICY);
        starting.on_probe(Outcome::Unreachable("refused".into()), t, POLICY);
        assert_eq!(starting.state(t), State::Down);
    }

    #[test]
    fn a_refused_connection_cools_down_at_once() {
        let t = Instant::now();
        let mut h = Health::default();
        h.on_probe(Outcome::Ok, t, POLICY);
        assert_eq!(h.on_request(Outcome::Unreachable("refused".into()), t, POLICY), Change::CooledDown);
        assert_eq!(h.state(t).name(), "cooldown");
        assert_eq!(h.last_error.as_deref(), Some("refused"));
    }

    #[test]
    fn cooldown_is_served_then_a_probe_brings_it_back() {
        let t = Instant::now();
        let mut h = Health::default();
        h.on_probe(Outcome::Ok, t, POLICY);
        h.on_probe(Outcome::Unreachable("refused".into()), t, POLICY);
        // Answering during the cooldown does not end it early.
        assert_eq!(h.on_probe(Outcome::Ok, t + Duration::from_secs(5), POLICY), Change::None);
        assert!(!h.available(t + Duration::from_secs(5)));
        let after = t + Duration::from_secs(31);
        assert_eq!(h.state(after), State::Down);
        assert!(!h.available(after), "down until a probe passes");
        h.on_probe(failed(), after, POLICY);
        assert_eq!(h.state(after), State::Down, "a failing probe keeps it down");
        assert_eq!(h.on_probe(Outcome::Ok, after, POLICY), Change::Recovered);
        assert!(h.available(after));
        assert_eq!(h.last_error, None);
    }

    #[test]
    fn a_request_served_anyway_brings_it_back() {
        let t = Instant::now();
        let mut h = Health::default();
        h.on_probe(Outcome::Ok, t, POLICY);
        h.on_request(Outcome::Unreachable("refused".into()), t, POLICY);
        assert!(!h.available(t));
        assert_eq!(h.on_request(Outcome::Ok, t, POLICY), Change::Recovered);
        assert!(h.available(t));
    }

    #[test]
    fn starting_is_skipped_not_failed() {
        let t = Instant::now();
        let mut h = Health::default();
        for _ in 0..10 {
            assert_eq!(h.on_probe(Outcome::Starting, t, POLICY), Change::None);
        }
        assert_eq!(h.state(t), State::Starting);
        assert!(!h.available(t));
        assert_eq!(h.on_probe(Outcome::Ok, t, POLICY), Change::Recovered);
        assert!(h.available(t));
    }

    #[test]
    fn failing_probes_count_like_failing_requests() {
        let t = Instant::now();
        let mut h = Health::default();
        h.on_probe(failed(), t, POLICY);
        h.on_probe(failed(), t, POLICY);
        assert!(h.available(t));
        assert_eq!(h.on_probe(failed(), t, POLICY), Change::CooledDown);
    }
}
