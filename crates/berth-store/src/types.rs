//! The values the store hands out: key-values, watch events, list pages, errors, and the
//! watch stream.

use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;

/// One stored value with its revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: Arc<str>,
    /// The encoded object.
    pub value: Bytes,
    /// Revision of the write that created the key.
    pub create_revision: u64,
    /// Revision of the last write to the key (for a delete: the deletion's revision).
    pub mod_revision: u64,
}

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The key was created.
    Created,
    /// The key's value was replaced.
    Modified,
    /// The key was deleted.
    Deleted,
}

/// One change, as watchers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    /// Created, modified or deleted.
    pub kind: EventKind,
    /// The new value (for a delete: the last value, at the deletion's revision).
    pub kv: KeyValue,
    /// The value before the change (absent for a create).
    pub prev: Option<KeyValue>,
}

impl WatchEvent {
    /// The revision of this event.
    pub fn revision(&self) -> u64 {
        self.kv.mod_revision
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// The items, in key order.
    pub items: Vec<KeyValue>,
    /// The revision the list was served at.
    pub revision: u64,
    /// Whether more items follow the last one.
    pub more: bool,
    /// How many items follow the last one.
    pub remaining: usize,
}

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// The key does not exist.
    #[error("key {0} not found")]
    NotFound(String),
    /// The key exists already.
    #[error("key {0} already exists")]
    AlreadyExists(String),
    /// The key's revision is not the expected one.
    #[error("key {key} was modified: expected revision {expected}, found {found}")]
    Conflict {
        /// The key.
        key: String,
        /// The revision the caller expected.
        expected: u64,
        /// The revision found.
        found: u64,
    },
    /// The requested revision is older than the retained history.
    #[error("required revision {requested} has been compacted (oldest available is {oldest})")]
    Compacted {
        /// The revision asked for.
        requested: u64,
        /// The oldest revision still available.
        oldest: u64,
    },
    /// The requested revision is newer than the store's.
    #[error("required revision {requested} is a future revision (current is {current})")]
    FutureRevision {
        /// The revision asked for.
        requested: u64,
        /// The current revision.
        current: u64,
    },
    /// The storage engine failed; the write was not applied.
    #[error("storage engine failure: {0}")]
    Engine(String),
    /// The store is shutting down.
    #[error("store is closed")]
    Closed,
}

/// A watch: first the retained events after the start revision, then live events.
pub struct WatchStream {
    pub(crate) replay: VecDeque<Arc<WatchEvent>>,
    pub(crate) live: broadcast::Receiver<Arc<WatchEvent>>,
    pub(crate) prefix: String,
    pub(crate) last: u64,
}

impl WatchStream {
    /// The next event, or `None` when the store closed. An `Err(Compacted)` means this
    /// watcher fell too far behind and must re-list.
    pub async fn next(&mut self) -> Option<Result<Arc<WatchEvent>, StoreError>> {
        if let Some(ev) = self.replay.pop_front() {
            self.last = ev.revision();
            return Some(Ok(ev));
        }
        loop {
            match self.live.recv().await {
                Ok(ev) => {
                    if ev.revision() <= self.last {
                        continue;
                    }
                    if !ev.kv.key.starts_with(self.prefix.as_str()) {
                        // Not ours, but everything up to it has been seen (bookmarks rely on this).
                        self.last = ev.revision();
                        continue;
                    }
                    self.last = ev.revision();
                    return Some(Ok(ev));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some(Err(StoreError::Compacted {
                        requested: self.last,
                        oldest: self.last + 1,
                    }));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is already waiting, without waiting: `Ok(None)` when none is.
    /// Fails with [`StoreError::Compacted`] when this watcher fell too far behind and with
    /// [`StoreError::Closed`] when the store closed.
    pub fn try_next(&mut self) -> Result<Option<Arc<WatchEvent>>, StoreError> {
        if let Some(ev) = self.replay.pop_front() {
            self.last = ev.revision();
            return Ok(Some(ev));
        }
        loop {
            match self.live.try_recv() {
                Ok(ev) => {
                    if ev.revision() <= self.last {
                        continue;
                    }
                    self.last = ev.revision();
                    if ev.kv.key.starts_with(self.prefix.as_str()) {
                        return Ok(Some(ev));
                    }
                }
                Err(broadcast::error::TryRecvError::Empty) => return Ok(None),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    return Err(StoreError::Compacted {
                        requested: self.last,
                        oldest: self.last + 1,
                    });
                }
                Err(broadcast::error::TryRecvError::Closed) => return Err(StoreError::Closed),
            }
        }
    }

    /// The revision of the last event delivered (or the start revision).
    pub fn last_revision(&self) -> u64 {
        self.last
    }
}
