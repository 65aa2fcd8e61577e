//! Tool lists read once per distinct list: an agent sends the same `tools` (most of a
//! request's bytes: every schema and description) on every request, so what is made of a
//! list (the core's parsed tools; another API's list converted to chat's) is kept, keyed by
//! the client's raw text. Bounded; cleared when full.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::openai::ApiError;

const ENTRIES: usize = 64;
/// Larger tool lists are converted each time rather than kept (bounds the memory).
const KEY_BYTES: usize = 256 << 10;

type Map<V> = HashMap<Box<str>, Arc<V>, foldhash::fast::RandomState>;

/// Conversions of raw tool lists to `V`.
#[derive(Debug)]
pub(crate) struct Memo<V>(Mutex<Option<Map<V>>>);

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Memo<V> {
    /// An empty memo (a `static` per API).
    pub(crate) const fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// `raw` converted by `convert`, which runs (outside the lock) only on first sight.
    pub(crate) fn get(
        &self,
        raw: &str,
        convert: impl FnOnce(&str) -> Result<V, ApiError>,
    ) -> Result<Arc<V>, ApiError> {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = lock().as_ref().and_then(|m| m.get(raw)) {
            return Ok(Arc::clone(hit));
        }
        let value = Arc::new(convert(raw)?);
        if raw.len() <= KEY_BYTES {
            let mut guard = lock();
            let map = guard.get_or_insert_with(Map::default);
            if map.len() >= ENTRIES {
                map.clear();
            }
            map.insert(raw.into(), Arc::clone(&value));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_each_list_once_and_keeps_failures_out() {
        let memo: Memo<String> = Memo::new();
        let mut runs = 0;
        for _ in 0..3 {
            let v = memo.get("[1]", |raw| {
                runs += 1;
                Ok(format!("<{raw}>"))
            });
            assert_eq!(v.expect("converts").as_str(), "<[1]>");
        }
        assert_eq!(runs, 1);
        let bad = memo.get("[2]", |_| Err(ApiError::bad_field("no", "tools")));
        assert!(bad.is_err());
        let again = memo.get("[2]", |raw| Ok(raw.to_owned()));
        assert_eq!(again.expect("a failure is not kept").as_str(), "[2]");
    }
}
