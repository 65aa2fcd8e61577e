//! Which replica takes a request: the least loaded (in flight per unit of weight), except
//! that a conversation sticks to the replica its prefix hashes to while that replica is not
//! overloaded (vLLM's prefix cache then already holds its system prompt and history).
//!
//! The affinity choice is weighted rendezvous hashing: every (key, replica) pair gets a
//! score and the highest available score wins, so when a replica leaves only its own
//! conversations move, and a replica of weight 2 owns twice the share of conversations.
//!
//! Overload rule: the preferred replica keeps the conversation while its load is at most
//! the least-loaded replica's load plus `max(SLACK, least × SPREAD)`; beyond that, load wins.

/// Extra requests in flight the preferred replica may carry over the least-loaded one.
pub(crate) const SLACK: f64 = 4.0;
/// … or this fraction of the least-loaded replica's load, when that is more.
pub(crate) const SPREAD: f64 = 0.5;

/// One replica as the balancer sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slot {
    /// Requests in flight.
    pub(crate) in_flight: u32,
    pub(crate) weight: u32,
    /// Healthy (or not yet probed) and not already tried by this request.
    pub(crate) usable: bool,
    /// A stable identity for hashing (the replica's URL hashed once).
    pub(crate) id: u64,
}

impl Slot {
    fn load(&self) -> f64 {
        f64::from(self.in_flight) / f64::from(self.weight.max(1))
    }
}

/// The chosen replica's position, or `None` when no slot is usable. `tie` breaks ties
/// between equally loaded replicas (a random number, so idle replicas share the work).
pub(crate) fn choose(slots: &[Slot], affinity: Option<u64>, tie: u64) -> Option<usize> {
    let least = least_loaded(slots, tie)?;
    let Some(key) = affinity else { return Some(least) };
    let preferred = preferred(slots, key)?;
    let min = slots[least].load();
    let allowed = min + SLACK.max(min * SPREAD) / f64::from(slots[preferred].weight.max(1));
    if slots[preferred].load() <= allowed { Some(preferred) } else { Some(least) }
}

fn least_loaded(slots: &[Slot], tie: u64) -> Option<usize> {
    let min = slots.iter().filter(|s| s.usable).map(Slot::load).fold(f64::INFINITY, f64::min);
    let tied = |s: &&Slot| s.usable && s.load() <= min;
    let count = slots.iter().filter(tied).count() as u64;
    if count == 0 {
        return None;
    }
    let nth = usize::try_from(tie % count).unwrap_or(0);
    slots.iter().enumerate().filter(|(_, s)| tied(s)).nth(nth).map(|(i, _)| i)
}

/// The usable slot with the highest weighted rendezvous score for `key`.
fn preferred(slots: &[Slot], key: u64) -> Option<usize> {
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.usable)
        .map(|(i, s)| (i, score(key, s)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// `weight / -ln(u)` with `u` uniform in (0, 1) from the pair's hash.
fn score(key: u64, slot: &Slot) -> f64 {
    let h = mix(key ^ mix(slot.id));
    #[allow(clippy::cast_precision_loss, reason = "53 bits of the hash are plenty")]
    let u = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    f64::from(slot.weight.max(1)) / -u.ln()
}

/// SplitMix64's finaliser: a cheap, well-spread 64-bit mix.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn slots(loads: &[u32]) -> Vec<Slot> {
        loads
            .iter()
            .enumerate()
            .map(|(i, &l)| Slot { in_flight: l, weight: 1, usable: true, id: i as u64 * 7919 })
            .collect()
    }

    #[test]
    fn least_loaded_without_affinity() {
        assert_eq!(choose(&slots(&[3, 1, 2]), None, 0), Some(1));
        let mut s = slots(&[3, 1, 2]);
        s[1].usable = false;
        assert_eq!(choose(&s, None, 0), Some(2));
        for slot in &mut s {
            slot.usable = false;
        }
        assert_eq!(choose(&s, None, 0), None);
        assert_eq!(choose(&[], None, 0), None);
    }

    #[test]
    fn ties_are_spread_by_the_tie_breaker() {
        let s = slots(&[0, 0, 0]);
        let picks: std::collections::BTreeSet<_> = (0..3).map(|t| choose(&s, None, t)).collect();
        assert_eq!(picks.len(), 3);
    }

    #[test]
    fn weight_scales_load() {
        let mut s = slots(&[4, 3]);
        s[0].weight = 2; // 4 / 2 = 2 < 3
        assert_eq!(choose(&s, None, 0), Some(0));
    }

    #[test]
    fn affinity_sticks_until_overload() {
        let key = 42;
        let idle = slots(&[0, 0, 0, 0]);
        let home = choose(&idle, Some(key), 0).expect("some");
        for tie in 0..10 {
            assert_eq!(choose(&idle, Some(key), tie), Some(home), "ties do not move a conversation");
        }
        let mut busy = idle.clone();
        busy[home].in_flight = 4; // within SLACK of the idle others
        assert_eq!(choose(&busy, Some(key), 0), Some(home));
        busy[home].in_flight = 5; // beyond it: load wins
        assert_ne!(choose(&busy, Some(key), 0), Some(home));
        // Under heavy even load the slack grows with it (50 %).
        let mut heavy = slots(&[20, 20, 20, 20]);
        heavy[home].in_flight = 30;
        assert_eq!(choose(&heavy, Some(key), 0), Some(home));
        heavy[home].in_flight = 31;
        assert_ne!(choose(&heavy, Some(key), 0), Some(home));
    }

    #[test]
    fn conversations_spread_and_only_a_lost_replicas_move() {
        let four = slots(&[0, 0, 0, 0]);
        let homes: Vec<usize> = (0..4000u64).map(|k| choose(&four, Some(mix(k)), 0).expect("some")).collect();
        for r in 0..4 {
            let share = homes.iter().filter(|&&h| h == r).count();
            assert!((800..1200).contains(&share), "replica {r} owns {share} of 4000");
        }
        let mut three = four.clone();
        three[2].usable = false;
        for (k, &home) in homes.iter().enumerate() {
            let now = choose(&three, Some(mix(k as u64)), 0).expect("some");
            if home != 2 {
                assert_eq!(now, home, "conversation {k} moved although its replica is up");
            }
        }
    }

    proptest! {
        #[test]
        fn the_choice_is_usable_and_never_far_over_the_least(
            loads in proptest::collection::vec((0u32..100, 1u32..4, any::<bool>()), 0..8),
            key in proptest::option::of(any::<u64>()),
            tie in any::<u64>(),
        ) {
            let s: Vec<Slot> = loads.iter().enumerate()
                .map(|(i, &(l, w, u))| Slot { in_flight: l, weight: w, usable: u, id: i as u64 })
                .collect();
            match choose(&s, key, tie) {
                None => prop_assert!(s.iter().all(|s| !s.usable)),
                Some(i) => {
                    prop_assert!(s[i].usable);
                    let min = s.iter().filter(|s| s.usable).map(Slot::load).fold(f64::INFINITY, f64::min);
                    prop_assert!(s[i].load() <= min + SLACK.max(min * SPREAD) + 1e-9);
                }
            }
        }
    }
}
