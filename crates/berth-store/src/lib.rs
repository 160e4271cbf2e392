//! Berth's revisioned object store.
//!
//! The [`Store`] trait is kine's `Backend` in Rust: opaque byte values under string keys, one
//! global revision counter that every write advances, compare-and-swap on the revision, list
//! by key prefix (optionally as of an older revision) and watch from a revision with a
//! bounded history. It knows nothing of HTTP or of Kubernetes objects; the API server encodes
//! objects and builds keys.
//!
//! [`SqliteStore`] is the embedded, crash-safe backend: a SQLite database in WAL mode with
//! `synchronous=FULL`, written by one thread that commits concurrent writes together (group
//! commit), with the current state and the recent event history held in memory for reads.

mod history;
mod sqlite;
mod types;

pub use sqlite::{SqliteStore, SqliteStoreOptions};
pub use types::{EventKind, KeyValue, ListPage, StoreError, WatchEvent, WatchStream};

use async_trait::async_trait;
use bytes::Bytes;

/// A revisioned key-value store with watch, the seam between the API server and its
/// storage engine (embedded SQLite now, etcd later).
///
/// Guarantees: revisions are strictly increasing across restarts; a write that returned
/// `Ok` is durable; `get`/`list` after a successful write observe it; a watch delivers every
/// event after its start revision exactly once, in revision order.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads one key at the current revision.
    fn get(&self, key: &str) -> Option<KeyValue>;

    /// Lists keys starting with `prefix`, in key order, after `start_after` (exclusive), at
    /// most `limit` items (0 = no limit), as of revision `at` (`None` = current).
    ///
    /// Fails with [`StoreError::Compacted`] when `at` is older than the retained history and
    /// with [`StoreError::FutureRevision`] when `at` is newer than the current revision.
    fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
        at: Option<u64>,
    ) -> Result<ListPage, StoreError>;

    /// Counts keys under `prefix` at the current revision.
    fn count(&self, prefix: &str) -> usize;

    /// The newest revision.
    fn current_revision(&self) -> u64;

    /// The oldest revision a watch or list can start from.
    fn compacted_revision(&self) -> u64;

    /// Creates `key`; fails with [`StoreError::AlreadyExists`] if it exists.
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StoreError>;

    /// Replaces `key` if its current revision is `expected` (any revision when `None`).
    async fn update(&self, key: &str, value: Bytes, expected: Option<u64>) -> Result<KeyValue, StoreError>;

    /// Deletes `key` if its current revision is `expected` (any when `None`); returns the
    /// deleted value with the deletion's revision as `mod_revision`.
    async fn delete(&self, key: &str, expected: Option<u64>) -> Result<KeyValue, StoreError>;

    /// Watches keys under `prefix` for events with revision greater than `after`.
    ///
    /// Fails with [`StoreError::Compacted`] when events after `after` are no longer retained.
    fn watch(&self, prefix: &str, after: u64) -> Result<WatchStream, StoreError>;

    /// The retained events after `after` whose key starts with `prefix`, oldest first: what
    /// [`Store::watch`] would replay before its live events.
    ///
    /// Fails with [`StoreError::Compacted`] when events after `after` are no longer retained.
    fn events_since(&self, prefix: &str, after: u64) -> Result<Vec<std::sync::Arc<WatchEvent>>, StoreError>;

    /// Whether this store needs leader election for controllers (single-node stores: no).
    fn needs_leader_election(&self) -> bool {
        false
    }
}
