//! The bounded, in-memory event history: what watches replay from and what lists at an older
//! revision roll back with.

use crate::types::{EventKind, KeyValue, StoreError, WatchEvent};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// The last `capacity` events, contiguous in revision.
#[derive(Debug)]
pub(crate) struct History {
    events: VecDeque<Arc<WatchEvent>>,
    capacity: usize,
    /// Every event with a revision at or below this one has been dropped.
    compacted: u64,
}

impl History {
    pub(crate) fn new(capacity: usize, compacted: u64) -> Self {
        Self {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            compacted,
        }
    }

    /// Appends an event, dropping the oldest beyond capacity.
    pub(crate) fn push(&mut self, ev: Arc<WatchEvent>) {
        if self.events.len() == self.capacity
            && let Some(old) = self.events.pop_front()
        {
            self.compacted = old.revision();
        }
        self.events.push_back(ev);
    }

    /// The newest revision that has been dropped; watches and lists must start at or after it.
    pub(crate) fn compacted(&self) -> u64 {
        self.compacted
    }

    /// Events after `after` whose key starts with `prefix`.
    pub(crate) fn since(&self, prefix: &str, after: u64) -> Result<VecDeque<Arc<WatchEvent>>, StoreError> {
        if after < self.compacted {
            return Err(StoreError::Compacted {
                requested: after,
                oldest: self.compacted,
            });
        }
        let start = self.events.partition_point(|e| e.revision() <= after);
        Ok(self
            .events
            .range(start..)
            .filter(|e| e.kv.key.starts_with(prefix))
            .cloned()
            .collect())
    }

    /// For the keys under `prefix` changed after `at`, their state as of `at`
    /// (`None` = absent then). Callers check `at >= compacted()` first.
    pub(crate) fn rollback(&self, prefix: &str, at: u64) -> BTreeMap<Arc<str>, Option<KeyValue>> {
        let mut overlay = BTreeMap::new();
        let start = self.events.partition_point(|e| e.revision() <= at);
        // Walk forward; the first change of a key after `at` tells its state at `at`.
        for ev in self.events.range(start..) {
            if !ev.kv.key.starts_with(prefix) || overlay.contains_key(&ev.kv.key) {
                continue;
            }
            let before = match ev.kind {
                EventKind::Created => None,
                EventKind::Modified | EventKind::Deleted => ev.prev.clone(),
            };
            overlay.insert(ev.kv.key.clone(), before);
        }
        overlay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn kv(key: &str, rev: u64, v: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Bytes::from(v.to_string()),
            create_revision: rev,
            mod_revision: rev,
        }
    }

    fn ev(kind: EventKind, key: &str, rev: u64, prev: Option<KeyValue>) -> Arc<WatchEvent> {
        Arc::new(WatchEvent {
            kind,
            kv: kv(key, rev, "x"),
            prev,
        })
    }

    #[test]
    fn drops_oldest_and_reports_compaction() {
        let mut h = History::new(2, 0);
        h.push(ev(EventKind::Created, "/a", 1, None));
        h.push(ev(EventKind::Created, "/b", 2, None));
        h.push(ev(EventKind::Created, "/c", 3, None));
        assert_eq!(h.compacted(), 1);
        assert!(matches!(
            h.since("/", 0),
            Err(StoreError::Compacted {
                requested: 0,
                oldest: 1
            })
        ));
        let got: Vec<u64> = h
            .since("/", 1)
            .expect("retained")
            .iter()
            .map(|e| e.revision())
            .collect();
        assert_eq!(got, vec![2, 3]);
    }

    #[test]
    fn since_filters_by_prefix() {
        let mut h = History::new(10, 0);
        h.push(ev(EventKind::Created, "/a/1", 1, None));
        h.push(ev(EventKind::Created, "/b/1", 2, None));
        let got = h.since("/b/", 0).expect("retained");
        assert_eq!(got.len(), 1);
        assert_eq!(&*got[0].kv.key, "/b/1");
    }

    #[test]
    fn rollback_restores_first_prior_state() {
        let mut h = History::new(10, 0);
        h.push(ev(EventKind::Created, "/a", 1, None));
        h.push(ev(EventKind::Modified, "/a", 2, Some(kv("/a", 1, "v1"))));
        h.push(ev(EventKind::Deleted, "/a", 3, Some(kv("/a", 2, "v2"))));
        let at1 = h.rollback("/", 1);
        assert_eq!(at1.get("/a").cloned().flatten().map(|k| k.mod_revision), Some(1));
        let at0 = h.rollback("/", 0);
        assert_eq!(at0.get("/a"), Some(&None));
    }
}
