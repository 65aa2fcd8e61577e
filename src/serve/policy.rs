//! Which models `podctl serve` runs together, pure: given each model's GPUs, its share of
//! their memory, whether it is loaded, and when it was last used, say which must stop before
//! another can start, and which have been idle long enough to stop. No clock, no processes:
//! time comes in as a [`Duration`] since the server started.
//!
//! * Two models fit side by side when they share no GPU, or when on every GPU they share
//!   their `gpu_memory_utilization` sums to at most [`FULL`].
//! * To make room, the loaded models in the way stop, least recently used first, and only
//!   as many as needed.
//! * A model that does not fit even alone is refused, not started (it would fail anyway).

use std::collections::BTreeMap;
use std::time::Duration;

/// All of a GPU's memory.
pub const FULL: f64 = 1.0;
/// Rounding slack, so 0.6 + 0.4 fits.
const EPSILON: f64 = 1e-9;

/// One servable model, as the policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// The GPU indices it runs on.
    pub gpus: Vec<u32>,
    /// Its share of each of those GPUs' memory.
    pub memory: f64,
    /// Running or starting: it holds its GPUs.
    pub loaded: bool,
    /// When a request last used it.
    pub last_used: Duration,
}

/// Why a model cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoRoom {
    #[error("it asks for {memory} of GPU memory, more than a whole GPU")]
    TooLarge { memory: f64 },
}

/// The loaded models to stop, in order, before `want` can start (empty: it fits now).
pub fn make_room(slots: &[Slot], want: usize) -> Result<Vec<usize>, NoRoom> {
    let Some(target) = slots.get(want) else { return Ok(Vec::new()) };
    if target.memory > FULL + EPSILON {
        return Err(NoRoom::TooLarge { memory: target.memory });
    }
    let mut loaded: Vec<usize> = (0..slots.len()).filter(|&i| i != want && slots[i].loaded).collect();
    // Least recently used first; the index breaks ties so the answer is stable.
    loaded.sort_by(|&a, &b| slots[a].last_used.cmp(&slots[b].last_used).then(a.cmp(&b)));
    let mut evict = Vec::new();
    while !fits(slots, want, loaded.iter().copied()) {
        let Some(pos) = loaded.iter().position(|&i| shares_gpu(&slots[i], target)) else { break };
        evict.push(loaded.remove(pos));
    }
    Ok(evict)
}

/// Whether `want` fits beside every model in `others`.
fn fits(slots: &[Slot], want: usize, others: impl Iterator<Item = usize>) -> bool {
    let mut used: BTreeMap<u32, f64> = BTreeMap::new();
    for i in others.chain(std::iter::once(want)) {
        for &gpu in &slots[i].gpus {
            *used.entry(gpu).or_default() += slots[i].memory;
        }
    }
    used.values().all(|&u| u <= FULL + EPSILON)
}

fn shares_gpu(a: &Slot, b: &Slot) -> bool {
    a.gpus.iter().any(|g| b.gpus.contains(g))
}

/// The loaded models idle for at least their limit (`idle[i]`, `None`: never unloaded).
/// `busy[i]`: requests in flight, which keep a model loaded however old its last use.
pub fn idle(slots: &[Slot], busy: &[u32], limits: &[Option<Duration>], now: Duration) -> Vec<usize> {
    (0..slots.len())
        .filter(|&i| slots[i].loaded && busy.get(i).copied().unwrap_or(0) == 0)
        .filter(|&i| {
            limits
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|limit| now.saturating_sub(slots[i].last_used) >= limit)
        })
        .collect()
}

/// The GPUs a model runs on: `CUDA_VISIBLE_DEVICES` when it names indices, else the first
/// `count` (tensor × pipeline parallel).
pub fn gpus(visible: Option<&str>, count: u32) -> Vec<u32> {
    let named: Option<Vec<u32>> = visible
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| v.split(',').map(|g| g.trim().parse().ok()).collect());
    named.unwrap_or_else(|| (0..count.max(1)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(gpus: &[u32], memory: f64, loaded: bool, used: u64) -> Slot {
        Slot { gpus: gpus.to_vec(), memory, loaded, last_used: Duration::from_secs(used) }
    }

    #[test]
    fn models_that_fit_share_a_gpu_and_others_swap() {
        // Row: slots, wanted, evicted.
        let rows: Vec<(Vec<Slot>, usize, Vec<usize>)> = vec![
            (vec![slot(&[0], 0.9, true, 1), slot(&[0], 0.9, false, 0)], 1, vec![0]),
            (vec![slot(&[0], 0.5, true, 1), slot(&[0], 0.5, false, 0)], 1, vec![]),
            (vec![slot(&[0], 0.6, true, 1), slot(&[0], 0.4, false, 0)], 1, vec![]),
            (vec![slot(&[0], 0.9, true, 1), slot(&[1], 0.9, false, 0)], 1, vec![]),
            // Tensor parallel over both GPUs is in the way of either.
            (vec![slot(&[0, 1], 0.9, true, 1), slot(&[1], 0.5, false, 0)], 1, vec![0]),
            // Only as many as needed, least recently used first.
            (
                vec![
                    slot(&[0], 0.3, true, 5),
                    slot(&[0], 0.3, true, 2),
                    slot(&[0], 0.3, true, 9),
                    slot(&[0], 0.3, false, 0),
                ],
                3,
                vec![1],
            ),
            // A model on another GPU is never stopped for room.
            (vec![slot(&[1], 0.9, true, 0), slot(&[0], 0.9, true, 5), slot(&[0], 0.5, false, 0)], 2, vec![1]),
            // Already loaded: nothing to do.
            (vec![slot(&[0], 0.9, true, 1)], 0, vec![]),
        ];
        for (slots, want, evict) in rows {
            assert_eq!(make_room(&slots, want), Ok(evict), "{slots:?} want {want}");
        }
    }

    #[test]
    fn a_model_larger_than_a_gpu_is_refused() {
        let slots = [slot(&[0], 1.2, false, 0)];
        assert_eq!(make_room(&slots, 0), Err(NoRoom::TooLarge { memory: 1.2 }));
    }

    #[test]
    fn idle_models_without_requests_are_unloaded() {
        let slots = [
            slot(&[0], 0.5, true, 10),
            slot(&[0], 0.5, true, 10),
            slot(&[1], 0.5, true, 95),
            slot(&[1], 0.5, false, 0),
        ];
        let limit = Some(Duration::from_mins(1));
        let now = Duration::from_secs(100);
        assert_eq!(idle(&slots, &[0, 2, 0, 0], &[limit, limit, limit, limit], now), vec![0]);
        assert_eq!(idle(&slots, &[0, 0, 0, 0], &[None, limit, limit, limit], now), vec![1]);
    }

    #[test]
    fn gpus_come_from_cuda_visible_devices_or_the_parallel_size() {
        assert_eq!(gpus(Some("1"), 1), vec![1]);
        assert_eq!(gpus(Some("2, 3"), 2), vec![2, 3]);
        assert_eq!(gpus(None, 2), vec![0, 1]);
        assert_eq!(gpus(Some("GPU-uuid"), 1), vec![0]);
        assert_eq!(gpus(Some(""), 0), vec![0]);
    }
}
