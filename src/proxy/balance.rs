//! Keeping the event loops' shares of the connections even. Every loop accepts on the one
//! listening socket, and each is woken when a connection waits: the first to run takes it,
//! and in a burst (a client opening 64 connections at once) takes most of them. Those stay
//! where they landed for their whole life, so one loop can end up with the load of several
//! while the others' cores idle. nginx has the same problem (`accept_mutex`, `reuseport`);
//! here a loop that holds more than its share lets the others take the next connection,
//! and takes it itself when none has within a timer tick.
//!
//! [`Share::ahead`] is the decision, pure over the counts; the counts are kept by a guard
//! that lives as long as the connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many connections more than the least-loaded loop a loop may hold before it waits.
const SLACK: usize = 1;

/// One loop's view of every loop's open connections.
#[derive(Debug, Clone)]
pub(crate) struct Share {
    counts: Arc<[AtomicUsize]>,
    me: usize,
}

impl Share {
    /// The shares of `loops` loops, one per loop, in loop order.
    pub(crate) fn all(loops: usize) -> Vec<Self> {
        let counts: Arc<[AtomicUsize]> = (0..loops.max(1)).map(|_| AtomicUsize::new(0)).collect();
        (0..counts.len()).map(|me| Self { counts: Arc::clone(&counts), me }).collect()
    }

    /// This loop holds more than `SLACK` connections over the least-loaded one: another
    /// loop should take the next.
    pub(crate) fn ahead(&self) -> bool {
        let mine = self.counts[self.me].load(Ordering::Relaxed);
        let least = self.counts.iter().map(|c| c.load(Ordering::Relaxed)).min().unwrap_or(0);
        mine > least + SLACK
    }

    /// Counts a connection on this loop until the guard is dropped.
    pub(crate) fn hold(&self) -> Held {
        self.counts[self.me].fetch_add(1, Ordering::Relaxed);
        Held(self.clone())
    }

    #[cfg(test)]
    fn count(&self) -> usize {
        self.counts[self.me].load(Ordering::Relaxed)
    }
}

/// One open connection, counted on its loop.
#[derive(Debug)]
pub(crate) struct Held(Share);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.counts[self.0.me].fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_is_ahead_only_past_the_slack_over_the_least_loaded() {
        let [a, b, c]: [Share; 3] = Share::all(3).try_into().expect("three");
        let held_a: Vec<Held> = (0..2).map(|_| a.hold()).collect();
        assert!(a.ahead(), "2 against 0 and 0");
        assert!(!b.ahead() && !c.ahead());
        let held_b = b.hold();
        let held_c = c.hold();
        assert!(!a.ahead(), "2 against 1 and 1 is within the slack");
        drop(held_c);
        assert!(a.ahead(), "c's connection closed: 2 against 0 again");
        drop(held_a);
        assert_eq!((a.count(), b.count(), c.count()), (0, 1, 0));
        assert!(!b.ahead(), "1 against 0 is within the slack");
        drop(held_b);
    }

    #[test]
    fn one_loop_is_never_ahead() {
        let [only]: [Share; 1] = Share::all(1).try_into().expect("one");
        let _held: Vec<Held> = (0..100).map(|_| only.hold()).collect();
        assert!(!only.ahead());
    }
}
