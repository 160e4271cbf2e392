//! Tests of the SQLite backend against the `Store` contract.

use super::*;
use tempfile::TempDir;

fn open(dir: &TempDir) -> SqliteStore {
    SqliteStore::open(
        &dir.path().join("store.db"),
        SqliteStoreOptions {
            history: 100,
            max_batch: 64,
        },
    )
    .expect("open store")
}

fn b(s: &str) -> Bytes {
    Bytes::from(s.to_string())
}

#[tokio::test]
async fn create_get_update_delete_advance_one_revision() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&dir);
    let a = store.create("/cm/default/a", b("1")).await.expect("create");
    assert_eq!((a.create_revision, a.mod_revision), (1, 1));
    assert!(matches!(
        store.create("/cm/default/a", b("x")).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let u = store
        .update("/cm/default/a", b("2"), Some(1))
        .await
        .expect("update");
    assert_eq!((u.create_revision, u.mod_revision), (1, 2));
    assert_eq!(store.get("/cm/default/a").map(|kv| kv.value), Some(b("2")));
    let d = store.delete("/cm/default/a", None).await.expect("delete");
    assert_eq!(d.mod_revision, 3);
    assert_eq!(store.get("/cm/default/a"), None);
    assert_eq!(store.current_revision(), 3);
}

#[tokio::test]
async fn stale_revision_conflicts() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&dir);
    store.create("/k", b("1")).await.expect("create");
    store.update("/k", b("2"), Some(1)).await.expect("update");
    let err = store.update("/k", b("3"), Some(1)).await.expect_err("stale");
    assert_eq!(
        err,
        StoreError::Conflict {
            key: "/k".into(),
            expected: 1,
            found: 2
        }
    );
    assert!(matches!(
        store.delete("/k", Some(1)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.update("/missing", b("1"), None).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn state_and_revisions_survive_reopen() {
    let dir = TempDir::new().expect("tempdir");
    {
        let store = open(&dir);
        store.create("/a", b("1")).await.expect("create");
        store.create("/b", b("2")).await.expect("create");
        store.delete("/a", None).await.expect("delete");
    }
    let store = open(&dir);
    assert_eq!(store.current_revision(), 3);
    assert_eq!(store.get("/a"), None);
    assert_eq!(store.get("/b").map(|kv| kv.create_revision), Some(2));
    let c = store.create("/c", b("3")).await.expect("create");
    assert_eq!(c.mod_revision, 4);
    // History was reloaded: a watch from before the restart replays the later events.
    let mut w = store.watch("/", 1).expect("watch");
    let revs: Vec<u64> = [w.next().await, w.next().await, w.next().await]
        .into_iter()
        .map(|e| e.expect("event").expect("ok").revision())
        .collect();
    assert_eq!(revs, vec![2, 3, 4]);
}

#[tokio::test]
async fn list_pages_in_key_order_with_prefix() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&dir);
    for k in ["/p/ns1/c", "/p/ns1/a", "/p/ns2/b", "/q/ns1/z"] {
        store.create(k, b(k)).await.expect("create");
    }
    let page = store.list("/p/", None, 2, None).expect("list");
    let keys: Vec<&str> = page.items.iter().map(|kv| &*kv.key).collect();
    assert_eq!(keys, vec!["/p/ns1/a", "/p/ns1/c"]);
    assert!(page.more);
    assert_eq!(page.remaining, 1);
    let next = store.list("/p/", Some("/p/ns1/c"), 2, None).expect("list");
    let keys: Vec<&str> = next.items.iter().map(|kv| &*kv.key).collect();
    assert_eq!(keys, vec!["/p/ns2/b"]);
    assert!(!next.more);
    assert_eq!(store.count("/p/ns1/"), 2);
}

#[tokio::test]
async fn list_at_an_older_revision_sees_the_old_state() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&dir);
    store.create("/p/a", b("a1")).await.expect("create"); // 1
    store.create("/p/b", b("b1")).await.expect("create"); // 2
    store.update("/p/a", b("a2"), None).await.expect("update"); // 3
    store.delete("/p/b", None).await.expect("delete"); // 4
    store.create("/p/c", b("c1")).await.expect("create"); // 5
    let at2 = store.list("/p/", None, 0, Some(2)).expect("list");
    let got: Vec<(String, Bytes)> = at2
        .items
        .iter()
        .map(|kv| (kv.key.to_string(), kv.value.clone()))
        .collect();
    assert_eq!(
        got,
        vec![("/p/a".to_string(), b("a1")), ("/p/b".to_string(), b("b1"))]
    );
    assert_eq!(at2.revision, 2);
    assert!(matches!(
        store.list("/p/", None, 0, Some(99)),
        Err(StoreError::FutureRevision { .. })
    ));
}

#[tokio::test]
async fn watch_replays_then_follows_live_in_order() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&dir);
    store.create("/w/a", b("1")).await.expect("create");
    store.create("/x/a", b("1")).await.expect("create");
    let mut w = store.watch("/w/", 0).expect("watch");
    store.update("/w/a", b("2"), None).await.expect("update");
    store.delete("/w/a", None).await.expect("delete");
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let ev = w.next().await.expect("event").expect("ok");
        kinds.push((ev.kind, ev.revision()));
    }
    assert_eq!(
        kinds,
        vec![
            (EventKind::Created, 1),
            (EventKind::Modified, 3),
            (EventKind::Deleted, 4)
        ]
    );
}

#[tokio::test]
async fn watch_before_retained_history_is_compacted() {
    let dir = TempDir::new().expect("tempdir");
    let store = SqliteStore::open(
        &dir.path().join("s.db"),
        SqliteStoreOptions {
            history: 3,
            max_batch: 8,
        },
    )
    .expect("open");
    for i in 0..10 {
        store.create(&format!("/k{i}"), b("v")).await.expect("create");
    }
    assert_eq!(store.compacted_revision(), 7);
    assert!(matches!(
        store.watch("/", 2),
        Err(StoreError::Compacted {
            requested: 2,
            oldest: 7
        })
    ));
    assert!(store.watch("/", 7).is_ok());
}

#[tokio::test]
async fn concurrent_writers_get_distinct_dense_revisions() {
    let dir = TempDir::new().expect("tempdir");
    let store = Arc::new(open(&dir));
    let mut handles = Vec::new();
    for i in 0..50 {
        let s = store.clone();
        handles.push(tokio::spawn(
            async move { s.create(&format!("/c/{i}"), b("v")).await },
        ));
    }
    let mut revs = Vec::new();
    for h in handles {
        revs.push(h.await.expect("join").expect("create").mod_revision);
    }
    revs.sort_unstable();
    assert_eq!(revs, (1..=50).collect::<Vec<u64>>());
}

#[tokio::test]
async fn events_since_is_what_a_watch_replays() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&dir);
    store.create("/w/a", b("1")).await.expect("create");
    store.create("/x/a", b("1")).await.expect("create");
    store.update("/w/a", b("2"), None).await.expect("update");
    let revs: Vec<u64> = store
        .events_since("/w/", 1)
        .expect("retained")
        .iter()
        .map(|e| e.revision())
        .collect();
    assert_eq!(revs, vec![3]);
    let all: Vec<u64> = store
        .events_since("/", 0)
        .expect("retained")
        .iter()
        .map(|e| e.revision())
        .collect();
    assert_eq!(all, vec![1, 2, 3]);
}

#[tokio::test]
async fn try_next_returns_waiting_events_without_blocking() {
    let dir = TempDir::new().expect("tempdir");
    let store = open(&dir);
    let mut w = store.watch("/w/", 0).expect("watch");
    assert!(matches!(w.try_next(), Ok(None)));
    store.create("/x/a", b("1")).await.expect("create");
    store.create("/w/a", b("1")).await.expect("create");
    let ev = w.try_next().expect("open").expect("an event waits");
    assert_eq!((ev.revision(), &*ev.kv.key), (2, "/w/a"));
    assert!(matches!(w.try_next(), Ok(None)));
    // Events under other prefixes still advance the watcher's revision.
    store.create("/x/b", b("1")).await.expect("create");
    assert!(matches!(w.try_next(), Ok(None)));
    assert_eq!(w.last_revision(), 3);
}
