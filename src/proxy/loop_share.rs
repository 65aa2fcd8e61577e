//! Keeping the event loops' shares of the connections even. Every loop accepts on the one
//! listening socket, and each is woken when a connection waits: the first to run takes it,
//! and in a burst (a client opening 64 connections at once) takes most of them. Those stay
//! where they landed for their whole life, so one loop can end up with the load of several
//! while the others' cores idle. nginx has the same problem (`accept_mutex`,
//! `EPOLLEXCLUSIVE`, `reuseport`); here a loop that holds more than its share lets the
//! others take the next connection first, for a timer tick, as long as they do take them.
//!
//! [`Share::wait_first`] is the decision, over the counts; the counts are kept by a guard
//! that lives as long as the connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// How many connections more than the least-loaded loop a loop may hold before it waits.
const SLACK: usize = 1;

/// How many waits in a row in which the others took no connection before a loop ahead
/// stops waiting for them (they are busy, or their threads are not getting a core): a few
/// scheduler slices, so a loop whose thread is merely late still gets its share.
const PATIENCE: u32 = 8;

/// What every loop can see of one loop.
#[derive(Debug, Default)]
struct Counts {
    /// Its connections open now.
    open: AtomicUsize,
    /// Every connection it has accepted.
    accepted: AtomicU64,
}

/// One loop's view of every loop's connections.
#[derive(Debug, Clone)]
pub(crate) struct Share {
    loops: Arc<[Counts]>,
    /// Told whenever a loop accepts: a loop waiting for the others stops as soon as they
    /// have caught up, so a burst is shared out at the pace the loops accept.
    accepts: Arc<tokio::sync::Notify>,
    me: usize,
    /// What the other loops had accepted when this one last let them go first.
    waited_at: Option<u64>,
    /// Waits in a row in which they took none.
    idle_waits: u32,
}

impl Share {
    /// The shares of `loops` loops, one per loop, in loop order.
    pub(crate) fn all(loops: usize) -> Vec<Self> {
        let counts: Arc<[Counts]> = (0..loops.max(1)).map(|_| Counts::default()).collect();
        let accepts = Arc::new(tokio::sync::Notify::new());
        (0..counts.len())
            .map(|me| Self {
                loops: Arc::clone(&counts),
                accepts: Arc::clone(&accepts),
                me,
                waited_at: None,
                idle_waits: 0,
            })
            .collect()
    }

    /// This loop holds more than `SLACK` connections over the least-loaded one.
    fn ahead(&self) -> bool {
        let open = |c: &Counts| c.open.load(Ordering::Relaxed);
        let least = self.loops.iter().map(open).min().unwrap_or(0);
        open(&self.loops[self.me]) > least + SLACK
    }

    fn others_accepted(&self) -> u64 {
        let others = self.loops.iter().enumerate().filter(|&(i, _)| i != self.me);
        others.map(|(_, c)| c.accepted.load(Ordering::Relaxed)).sum()
    }

    /// Whether to let the other loops take the next connection first (wait a tick before
    /// accepting): when this loop is ahead of its share, unless the others have taken none
    /// through `PATIENCE` waits in a row (then it takes the connections waiting at once,
    /// until they take one again: a burst is not paced by the tick while they cannot).
    fn wait_first(&mut self) -> bool {
        if !self.ahead() {
            (self.waited_at, self.idle_waits) = (None, 0);
            return false;
        }
        let taken = self.others_accepted();
        if self.waited_at == Some(taken) {
            if self.idle_waits >= PATIENCE {
                return false;
            }
            self.idle_waits += 1;
        } else {
            (self.waited_at, self.idle_waits) = (Some(taken), 0);
        }
        true
    }

    /// When [`Self::wait_first`] says so, waits until the others have caught up (this loop
    /// is no longer ahead) or `most` has passed.
    pub(crate) async fn let_others_first(&mut self, most: Duration) {
        if !self.wait_first() {
            return;
        }
        let deadline = tokio::time::Instant::now() + most;
        loop {
            let accepted = self.accepts.notified();
            tokio::pin!(accepted);
            // Listening before looking: an accept between the two is not missed.
            accepted.as_mut().enable();
            if !self.ahead() {
                return;
            }
            tokio::select! {
                () = accepted => {}
                () = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    /// Counts a connection on this loop until the guard is dropped.
    pub(crate) fn hold(&self) -> Held {
        let counts = &self.loops[self.me];
        counts.open.fetch_add(1, Ordering::Relaxed);
        counts.accepted.fetch_add(1, Ordering::Relaxed);
        self.accepts.notify_waiters();
        Held { loops: Arc::clone(&self.loops), me: self.me }
    }
}

/// One open connection, counted on its loop.
#[derive(Debug)]
pub(crate) struct Held {
    loops: Arc<[Counts]>,
    me: usize,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.loops[self.me].open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> [Share; 3] {
        Share::all(3).try_into().expect("three")
    }

    #[test]
    fn a_loop_waits_only_past_the_slack_over_the_least_loaded() {
        let [mut a, mut b, mut c] = three();
        let held_a: Vec<Held> = (0..2).map(|_| a.hold()).collect();
        assert!(!b.wait_first() && !c.wait_first());
        assert!(a.wait_first(), "2 against 0 and 0");
        let held_b = b.hold();
        let held_c = c.hold();
        assert!(!a.wait_first(), "2 against 1 and 1 is within the slack");
        drop(held_c);
        assert!(a.wait_first(), "c's connection closed: 2 against 0 again");
        drop(held_a);
        assert!(!b.wait_first(), "1 against 0 is within the slack");
        drop(held_b);
    }

    #[test]
    fn a_loop_ahead_waits_while_the_others_take_connections_and_not_once_they_cannot() {
        let [mut a, b, _c] = three();
        let _held_a: Vec<Held> = (0..5).map(|_| a.hold()).collect();
        assert!(a.wait_first(), "ahead: the others go first");
        let _held_b = b.hold();
        assert!(a.wait_first(), "b took one in the meantime: wait again");
        for wait in 0..PATIENCE {
            assert!(a.wait_first(), "nobody took one: still patient ({wait})");
        }
        assert!(!a.wait_first(), "nobody took one through {PATIENCE} waits: take it at once");
        assert!(!a.wait_first(), "and the next");
        let _again = b.hold();
        assert!(a.wait_first(), "b is taking connections again: the others go first");
    }

    #[tokio::test]
    async fn the_wait_ends_when_the_others_catch_up_or_at_the_most() {
        let [mut a, b]: [Share; 2] = Share::all(2).try_into().expect("two");
        let held_a: Vec<Held> = (0..3).map(|_| a.hold()).collect();
        let waiting = tokio::spawn(async move {
            a.let_others_first(Duration::from_secs(30)).await;
            a
        });
        tokio::task::yield_now().await;
        let _held_b: Vec<Held> = (0..2).map(|_| b.hold()).collect();
        let mut a = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("b caught up: the wait ended long before its most")
            .expect("the task");
        // Ahead again, and nobody accepts: the wait ends at its most.
        let more: Vec<Held> = (0..2).map(|_| a.hold()).collect();
        tokio::time::timeout(Duration::from_secs(5), a.let_others_first(Duration::from_millis(20)))
            .await
            .expect("ended at its most");
        drop((held_a, more));
    }

    #[test]
    fn one_loop_never_waits() {
        let [mut only]: [Share; 1] = Share::all(1).try_into().expect("one");
        let _held: Vec<Held> = (0..100).map(|_| only.hold()).collect();
        assert!(!only.wait_first());
    }
}
