//! The accepted API keys, each with its own count of requests in flight, compared in
//! constant time.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The accepted keys, each with its own count of requests in flight.
#[derive(Debug, Clone, Default)]
pub(crate) struct Keys(Vec<(Vec<u8>, Arc<Semaphore>)>, usize);

impl Keys {
    /// `per_key`: how many requests one key may have in flight (at least 1).
    pub(crate) fn new(keys: &[String], per_key: usize) -> Self {
        let per_key = per_key.max(1);
        Self(
            keys.iter().map(|k| (k.as_bytes().to_vec(), Arc::new(Semaphore::new(per_key)))).collect(),
            per_key,
        )
    }

    /// Which key `presented` is. Every key is compared, each in time that depends only on
    /// the lengths, so timing tells nothing about how much of a key matched.
    pub(crate) fn matching(&self, presented: &[u8]) -> Option<usize> {
        let mut found = None;
        for (i, (key, _)) in self.0.iter().enumerate() {
            if constant_time_eq(key, presented) {
                found = Some(i);
            }
        }
        found
    }

    #[cfg(test)]
    fn accepts(&self, presented: &[u8]) -> bool {
        self.matching(presented).is_some()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A place among key `index`'s requests in flight, held until dropped; `None` when the
    /// key has [`Keys::per_key`] already.
    pub(crate) fn hold(&self, index: usize) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.0.get(index)?.1).try_acquire_owned().ok()
    }

    /// Requests one key may have in flight.
    pub(crate) fn per_key(&self) -> usize {
        self.1
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let keys = Keys::new(&["sk-one".into(), "sk-two".into()], 4);
        assert!(keys.accepts(b"sk-one") && keys.accepts(b"sk-two"));
        assert!(!keys.accepts(b"sk-on") && !keys.accepts(b"sk-onex") && !keys.accepts(b""));
        assert!(Keys::default().is_empty());
    }
}
