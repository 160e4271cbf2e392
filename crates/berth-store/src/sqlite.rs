//! The embedded backend: SQLite (WAL, `synchronous=FULL`) written by one thread with group
//! commit; current state and recent history in memory.
//!
//! On-disk format (the only place that knows it):
//! - `current(key, create_rev, mod_rev, value)`: the live keys;
//! - `log(rev, key, kind, create_rev, value, prev_mod_rev, prev_value)`: the last
//!   `history` events, so watches and old-revision lists survive a restart;
//! - `meta(name, value)`: `revision` (the last revision handed out) and `compacted`.
//!
//! Crash safety: a batch of writes is one SQLite transaction; the in-memory state and the
//! watchers see a batch only after it committed, and callers get their answer after that.
//! A `kill -9` therefore loses only unacknowledged writes, and the revision counter restarts
//! from the committed `meta.revision`.

use crate::Store;
use crate::history::History;
use crate::types::{EventKind, KeyValue, ListPage, StoreError, WatchEvent, WatchStream};
use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Settings of the embedded store.
#[derive(Debug, Clone)]
pub struct SqliteStoreOptions {
    /// Events retained for watches and old-revision lists.
    pub history: usize,
    /// Most writes committed in one transaction.
    pub max_batch: usize,
}

impl Default for SqliteStoreOptions {
    fn default() -> Self {
        Self {
            history: 20_000,
            max_batch: 512,
        }
    }
}

#[derive(Debug)]
struct State {
    current: BTreeMap<Arc<str>, KeyValue>,
    revision: u64,
    history: History,
}

enum Op {
    Create {
        key: Arc<str>,
        value: Bytes,
    },
    Update {
        key: Arc<str>,
        value: Bytes,
        expected: Option<u64>,
    },
    Delete {
        key: Arc<str>,
        expected: Option<u64>,
    },
}

struct Request {
    op: Op,
    reply: oneshot::Sender<Result<KeyValue, StoreError>>,
}

/// The embedded SQLite store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    state: Arc<RwLock<State>>,
    writes: mpsc::UnboundedSender<Request>,
    events: broadcast::Sender<Arc<WatchEvent>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

fn engine(e: rusqlite::Error) -> StoreError {
    StoreError::Engine(e.to_string())
}

fn read_state(state: &RwLock<State>) -> RwLockReadGuard<'_, State> {
    state.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_state(state: &RwLock<State>) -> RwLockWriteGuard<'_, State> {
    state.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and starts its writer thread.
    pub fn open(path: &Path, options: SqliteStoreOptions) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(engine)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS current (
                 key TEXT PRIMARY KEY, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL,
                 value BLOB NOT NULL) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS log (
                 rev INTEGER PRIMARY KEY, key TEXT NOT NULL, kind INTEGER NOT NULL,
                 create_rev INTEGER NOT NULL, value BLOB NOT NULL,
                 prev_mod_rev INTEGER, prev_value BLOB);",
        )
        .map_err(engine)?;
        // Checkpoints run on their own connection (below), off the commit path.
        conn.execute_batch("PRAGMA wal_autocheckpoint=0;")
            .map_err(engine)?;
        let state = load_state(&conn, options.history)?;
        tracing::info!(
            path = %path.display(),
            revision = state.revision,
            keys = state.current.len(),
            "opened store"
        );
        let state = Arc::new(RwLock::new(state));
        let (events, _) = broadcast::channel(options.history.max(1024));
        let (writes, rx) = mpsc::unbounded_channel();
        let writer = Writer {
            conn,
            state: state.clone(),
            events: events.clone(),
            options,
        };
        let checkpointer = Connection::open(path).map_err(engine)?;
        let alive = Arc::downgrade(&state);
        std::thread::Builder::new()
            .name("berth-store-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, alive))
            .map_err(|e| StoreError::Engine(format!("starting the checkpoint thread: {e}")))?;
        std::thread::Builder::new()
            .name("berth-store-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Engine(format!("starting the writer thread: {e}")))?;
        Ok(Self {
            state,
            writes,
            events,
            path: path.to_path_buf(),
        })
    }

    async fn submit(&self, op: Op) -> Result<KeyValue, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.writes
            .send(Request { op, reply })
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// Copies committed WAL pages into the database file every second without blocking the
/// writer (`PASSIVE`), so commits never pay for a checkpoint. Ends with the store.
fn checkpoint_loop(conn: Connection, alive: std::sync::Weak<RwLock<State>>) {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if alive.upgrade().is_none() {
            return;
        }
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "store checkpoint failed");
        }
    }
}

fn load_state(conn: &Connection, history_len: usize) -> Result<State, StoreError> {
    let meta = |name: &str| -> Result<u64, StoreError> {
        let v: Option<i64> = conn
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(engine)?;
        Ok(v.unwrap_or(0).max(0) as u64)
    };
    let revision = meta("revision")?;
    let mut compacted = meta("compacted")?;
    let mut current = BTreeMap::new();
    let mut stmt = conn
        .prepare("SELECT key, create_rev, mod_rev, value FROM current")
        .map_err(engine)?;
    let rows = stmt
        .query_map([], |r| {
            let key: String = r.get(0)?;
            let create: i64 = r.get(1)?;
            let modr: i64 = r.get(2)?;
            let value: Vec<u8> = r.get(3)?;
            Ok((key, create, modr, value))
        })
        .map_err(engine)?;
    for row in rows {
        let (key, create, modr, value) = row.map_err(engine)?;
        let key: Arc<str> = key.into();
        current.insert(
            key.clone(),
            KeyValue {
                key,
                value: value.into(),
                create_revision: create as u64,
                mod_revision: modr as u64,
            },
        );
    }
    let mut stmt = conn
        .prepare(
            "SELECT rev, key, kind, create_rev, value, prev_mod_rev, prev_value FROM
             (SELECT * FROM log ORDER BY rev DESC LIMIT ?1) ORDER BY rev ASC",
        )
        .map_err(engine)?;
    let rows = stmt
        .query_map([history_len as i64], |r| {
            let rev: i64 = r.get(0)?;
            let key: String = r.get(1)?;
            let kind: i64 = r.get(2)?;
            let create: i64 = r.get(3)?;
            let value: Vec<u8> = r.get(4)?;
            let prev_rev: Option<i64> = r.get(5)?;
            let prev_value: Option<Vec<u8>> = r.get(6)?;
            Ok((rev, key, kind, create, value, prev_rev, prev_value))
        })
        .map_err(engine)?;
    let mut events = Vec::new();
    for row in rows {
        let (rev, key, kind, create, value, prev_rev, prev_value) = row.map_err(engine)?;
        let key: Arc<str> = key.into();
        let kind = match kind {
            0 => EventKind::Created,
            1 => EventKind::Modified,
            _ => EventKind::Deleted,
        };
        let prev = match (prev_rev, prev_value) {
            (Some(pr), Some(pv)) => Some(KeyValue {
                key: key.clone(),
                value: pv.into(),
                create_revision: create as u64,
                mod_revision: pr as u64,
            }),
            _ => None,
        };
        events.push(Arc::new(WatchEvent {
            kind,
            kv: KeyValue {
                key,
                value: value.into(),
                create_revision: create as u64,
                mod_revision: rev as u64,
            },
            prev,
        }));
    }
    // The retained log must be contiguous up to `revision`; anything before it is compacted.
    if let Some(first) = events.first() {
        compacted = compacted.max(first.revision().saturating_sub(1));
    } else {
        compacted = revision;
    }
    let mut history = History::new(history_len, compacted);
    for ev in events {
        history.push(ev);
    }
    Ok(State {
        current,
        revision,
        history,
    })
}

struct Writer {
    conn: Connection,
    state: Arc<RwLock<State>>,
    events: broadcast::Sender<Arc<WatchEvent>>,
    options: SqliteStoreOptions,
}

/// One write decided against the state plus the earlier writes of its batch.
struct Decided {
    event: Arc<WatchEvent>,
    reply: oneshot::Sender<Result<KeyValue, StoreError>>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < self.options.max_batch {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            self.apply_batch(batch);
        }
        tracing::debug!("store writer stopped");
    }

    fn apply_batch(&mut self, batch: Vec<Request>) {
        let mut decided: Vec<Decided> = Vec::with_capacity(batch.len());
        let mut overlay: HashMap<Arc<str>, Option<KeyValue>> = HashMap::new();
        let mut revision;
        {
            let state = read_state(&self.state);
            revision = state.revision;
            for req in batch {
                let lookup = |key: &Arc<str>| match overlay.get(key) {
                    Some(v) => v.clone(),
                    None => state.current.get(key).cloned(),
                };
                let outcome = match req.op {
                    Op::Create { key, value } => match lookup(&key) {
                        Some(_) => Err(StoreError::AlreadyExists(key.to_string())),
                        None => {
                            revision += 1;
                            let kv = KeyValue {
                                key,
                                value,
                                create_revision: revision,
                                mod_revision: revision,
                            };
                            Ok(WatchEvent {
                                kind: EventKind::Created,
                                kv,
                                prev: None,
                            })
                        }
                    },
                    Op::Update { key, value, expected } => match lookup(&key) {
                        None => Err(StoreError::NotFound(key.to_string())),
                        Some(old) if expected.is_some_and(|e| e != old.mod_revision) => {
                            Err(StoreError::Conflict {
                                key: key.to_string(),
                                expected: expected.unwrap_or_default(),
                                found: old.mod_revision,
                            })
                        }
                        Some(old) => {
                            revision += 1;
                            let kv = KeyValue {
                                key,
                                value,
                                create_revision: old.create_revision,
                                mod_revision: revision,
                            };
                            Ok(WatchEvent {
                                kind: EventKind::Modified,
                                kv,
                                prev: Some(old),
                            })
                        }
                    },
                    Op::Delete { key, expected } => match lookup(&key) {
                        None => Err(StoreError::NotFound(key.to_string())),
                        Some(old) if expected.is_some_and(|e| e != old.mod_revision) => {
                            Err(StoreError::Conflict {
                                key: key.to_string(),
                                expected: expected.unwrap_or_default(),
                                found: old.mod_revision,
                            })
                        }
                        Some(old) => {
                            revision += 1;
                            let kv = KeyValue {
                                key,
                                value: old.value.clone(),
                                create_revision: old.create_revision,
                                mod_revision: revision,
                            };
                            Ok(WatchEvent {
                                kind: EventKind::Deleted,
                                kv,
                                prev: Some(old),
                            })
                        }
                    },
                };
                match outcome {
                    Ok(ev) => {
                        let after = match ev.kind {
                            EventKind::Deleted => None,
                            _ => Some(ev.kv.clone()),
                        };
                        overlay.insert(ev.kv.key.clone(), after);
                        decided.push(Decided {
                            event: Arc::new(ev),
                            reply: req.reply,
                        });
                    }
                    Err(e) => {
                        let _ = req.reply.send(Err(e));
                    }
                }
            }
        }
        if decided.is_empty() {
            return;
        }
        if let Err(e) = self.persist(&decided, revision) {
            tracing::error!(error = %e, "store commit failed; the batch was not applied");
            for d in decided {
                let _ = d.reply.send(Err(e.clone()));
            }
            return;
        }
        let mut state = write_state(&self.state);
        for d in &decided {
            let ev = &d.event;
            match ev.kind {
                EventKind::Deleted => {
                    state.current.remove(&ev.kv.key);
                }
                _ => {
                    state.current.insert(ev.kv.key.clone(), ev.kv.clone());
                }
            }
            state.history.push(ev.clone());
            // No receivers is fine: nobody watches.
            let _ = self.events.send(ev.clone());
        }
        state.revision = revision;
        drop(state);
        for d in decided {
            let _ = d.reply.send(Ok(d.event.kv.clone()));
        }
    }

    fn persist(&mut self, decided: &[Decided], revision: u64) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(engine)?;
        {
            let mut log = tx
                .prepare_cached(
                    "INSERT INTO log (rev, key, kind, create_rev, value, prev_mod_rev, prev_value)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(engine)?;
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO current (key, create_rev, mod_rev, value) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(key) DO UPDATE SET create_rev = ?2, mod_rev = ?3, value = ?4",
                )
                .map_err(engine)?;
            let mut remove = tx
                .prepare_cached("DELETE FROM current WHERE key = ?1")
                .map_err(engine)?;
            for d in decided {
                let ev = &d.event;
                let kind = match ev.kind {
                    EventKind::Created => 0,
                    EventKind::Modified => 1,
                    EventKind::Deleted => 2,
                };
                log.execute(params![
                    ev.kv.mod_revision as i64,
                    &*ev.kv.key,
                    kind,
                    ev.kv.create_revision as i64,
                    &ev.kv.value[..],
                    ev.prev.as_ref().map(|p| p.mod_revision as i64),
                    ev.prev.as_ref().map(|p| &p.value[..]),
                ])
                .map_err(engine)?;
                match ev.kind {
                    EventKind::Deleted => {
                        remove.execute([&*ev.kv.key]).map_err(engine)?;
                    }
                    _ => {
                        upsert
                            .execute(params![
                                &*ev.kv.key,
                                ev.kv.create_revision as i64,
                                ev.kv.mod_revision as i64,
                                &ev.kv.value[..]
                            ])
                            .map_err(engine)?;
                    }
                }
            }
            tx.execute(
                "INSERT INTO meta (name, value) VALUES ('revision', ?1)
                 ON CONFLICT(name) DO UPDATE SET value = ?1",
                [revision as i64],
            )
            .map_err(engine)?;
            let keep_from = revision.saturating_sub(self.options.history as u64);
            if keep_from > 0 && revision % 256 < decided.len() as u64 {
                tx.execute("DELETE FROM log WHERE rev <= ?1", [keep_from as i64])
                    .map_err(engine)?;
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('compacted', ?1)
                     ON CONFLICT(name) DO UPDATE SET value = max(value, ?1)",
                    [keep_from as i64],
                )
                .map_err(engine)?;
            }
        }
        tx.commit().map_err(engine)
    }
}

/// `prefix`'s key range as bounds for `BTreeMap::range`.
fn range_start<'a>(prefix: &'a str, start_after: Option<&'a str>) -> Bound<&'a str> {
    match start_after {
        Some(k) if k >= prefix => Bound::Excluded(k),
        _ => Bound::Included(prefix),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn get(&self, key: &str) -> Option<KeyValue> {
        read_state(&self.state).current.get(key).cloned()
    }

    fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
        at: Option<u64>,
    ) -> Result<ListPage, StoreError> {
        let state = read_state(&self.state);
        let revision = at.unwrap_or(state.revision);
        if revision > state.revision {
            return Err(StoreError::FutureRevision {
                requested: revision,
                current: state.revision,
            });
        }
        if revision < state.revision && revision < state.history.compacted() {
            return Err(StoreError::Compacted {
                requested: revision,
                oldest: state.history.compacted(),
            });
        }
        let overlay = if revision < state.revision {
            state.history.rollback(prefix, revision)
        } else {
            BTreeMap::new()
        };
        let bounds = (range_start(prefix, start_after), Bound::Unbounded);
        let mut live = state
            .current
            .range::<str, _>(bounds)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), Some(v)))
            .peekable();
        let mut old = overlay
            .range::<str, _>(bounds)
            .map(|(k, v)| (k.clone(), v.as_ref()))
            .peekable();
        let mut items = Vec::new();
        let mut more = false;
        let mut remaining = 0usize;
        loop {
            let next = match (live.peek(), old.peek()) {
                (None, None) => break,
                (Some(_), None) => live.next().map(|(_, v)| v),
                (None, Some(_)) => old.next().map(|(_, v)| v),
                (Some((lk, _)), Some((ok, _))) => {
                    if lk < ok {
                        live.next().map(|(_, v)| v)
                    } else if ok < lk {
                        old.next().map(|(_, v)| v)
                    } else {
                        live.next();
                        old.next().map(|(_, v)| v)
                    }
                }
            };
            let Some(Some(kv)) = next else { continue };
            if limit > 0 && items.len() == limit {
                more = true;
                remaining += 1;
                continue;
            }
            items.push(kv.clone());
        }
        Ok(ListPage {
            items,
            revision,
            more,
            remaining,
        })
    }

    fn count(&self, prefix: &str) -> usize {
        let state = read_state(&self.state);
        state
            .current
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .count()
    }

    fn current_revision(&self) -> u64 {
        read_state(&self.state).revision
    }

    fn compacted_revision(&self) -> u64 {
        read_state(&self.state).history.compacted()
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StoreError> {
        self.submit(Op::Create {
            key: key.into(),
            value,
        })
        .await
    }

    async fn update(&self, key: &str, value: Bytes, expected: Option<u64>) -> Result<KeyValue, StoreError> {
        self.submit(Op::Update {
            key: key.into(),
            value,
            expected,
        })
        .await
    }

    async fn delete(&self, key: &str, expected: Option<u64>) -> Result<KeyValue, StoreError> {
        self.submit(Op::Delete {
            key: key.into(),
            expected,
        })
        .await
    }

    fn events_since(&self, prefix: &str, after: u64) -> Result<Vec<Arc<WatchEvent>>, StoreError> {
        let state = read_state(&self.state);
        Ok(state.history.since(prefix, after)?.into())
    }

    fn watch(&self, prefix: &str, after: u64) -> Result<WatchStream, StoreError> {
        let state = read_state(&self.state);
        if after > state.revision {
            // Kubernetes waits for a future revision; callers start from the current one.
            return Err(StoreError::FutureRevision {
                requested: after,
                current: state.revision,
            });
        }
        let replay = state.history.since(prefix, after)?;
        let live = self.events.subscribe();
        Ok(WatchStream {
            replay,
            live,
            prefix: prefix.to_string(),
            last: after,
        })
    }
}

#[cfg(test)]
mod tests;
