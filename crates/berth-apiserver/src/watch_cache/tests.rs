//! The watch cache against a real store: cached objects follow the store, events reach the
//! watchers they concern (by namespace and by the pods' node trigger), and idle hubs report
//! progress.

use super::*;
use berth_api::registry::lookup;
use berth_store::{SqliteStore, SqliteStoreOptions};
use bytes::Bytes;
use serde_json::json;
use tempfile::TempDir;

fn store(dir: &TempDir) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(&dir.path().join("s.db"), SqliteStoreOptions::default()).expect("open store"))
}

fn pod(ns: &str, name: &str, node: &str) -> Bytes {
    let mut spec = json!({"containers": [{"name": "c", "image": "busybox"}]});
    if !node.is_empty() {
        spec["nodeName"] = json!(node);
    }
    let obj = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}}, "spec": spec});
    Bytes::from(serde_json::to_vec(&obj).expect("encode"))
}

fn pods() -> &'static ResourceType {
    lookup("", "v1", "pods").expect("served")
}

async fn next_event(sub: &mut Subscription) -> Arc<CachedEvent> {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(5), sub.rx.recv())
            .await
            .expect("an item in time")
            .expect("channel open");
        if let Item::Event(ev) = item {
            return ev;
        }
    }
}

/// Events that arrive within a short wait (progress items skipped).
async fn drain(sub: &mut Subscription) -> Vec<Arc<CachedEvent>> {
    let mut out = Vec::new();
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_millis(300), sub.rx.recv()).await {
        if let Item::Event(ev) = item {
            out.push(ev);
        }
    }
    out
}

fn names(events: &[Arc<CachedEvent>]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.object.key.rsplit('/').next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn cached_objects_follow_the_store_and_are_shared_at_their_revision() {
    let dir = TempDir::new().expect("tempdir");
    let store = store(&dir);
    let before = store
        .create("/core/pods/default/a", pod("default", "a", ""))
        .await
        .expect("create");
    let cache = WatchCache::new(store.clone(), Duration::from_millis(50));
    let hub = cache.hub(pods()).expect("hub");
    // Loaded at start: the same object is handed out twice, not decoded again.
    let first = hub.object(&before).expect("object");
    assert!(Arc::ptr_eq(&first, &hub.object(&before).expect("object")));
    let value = first.value().expect("decodes");
    assert_eq!(
        value["metadata"]["resourceVersion"],
        json!(before.mod_revision.to_string())
    );
    assert_eq!(first.attrs.label("app"), Some("a"));
    // An update replaces it once the hub has seen the event.
    let mut sub = hub.subscribe(None, &FieldSelector::default());
    let after = store
        .update("/core/pods/default/a", pod("default", "a", "n1"), None)
        .await
        .expect("update");
    let ev = next_event(&mut sub).await;
    assert_eq!(ev.kind, EventKind::Modified);
    assert!(
        Arc::ptr_eq(ev.prev.as_ref().expect("prev"), &first),
        "prev from the cache"
    );
    let now = hub.object(&after).expect("object");
    assert!(Arc::ptr_eq(&now, &ev.object));
    assert_eq!(now.attrs.field("spec.nodeName"), "n1");
    // An older revision is decoded afresh, not served from the newer cache entry.
    let old = hub.object(&before).expect("object");
    assert_eq!(old.revision, before.mod_revision);
    assert!(!Arc::ptr_eq(&old, &now));
    // A delete removes the entry; the event carries the object at the deletion's revision.
    let gone = store.delete("/core/pods/default/a", None).await.expect("delete");
    let ev = next_event(&mut sub).await;
    assert_eq!(
        (ev.kind, ev.object.revision),
        (EventKind::Deleted, gone.mod_revision)
    );
    let objects = hub.objects.read().expect("lock");
    assert!(objects.is_empty());
}

#[tokio::test]
async fn node_watchers_get_only_their_nodes_pods() {
    let dir = TempDir::new().expect("tempdir");
    let store = store(&dir);
    let cache = WatchCache::new(store.clone(), Duration::from_millis(50));
    let hub = cache.hub(pods()).expect("hub");
    let on = |node: &str| FieldSelector::parse(pods(), &format!("spec.nodeName={node}")).expect("selector");
    let mut n1 = hub.subscribe(None, &on("n1"));
    let mut n2 = hub.subscribe(None, &on("n2"));
    let mut everyone = hub.subscribe(None, &FieldSelector::default());
    let not_n1 = FieldSelector::parse(pods(), "spec.nodeName!=n1").expect("selector");
    let mut others = hub.subscribe(None, &not_n1);
    store
        .create("/core/pods/default/a", pod("default", "a", "n1"))
        .await
        .expect("create");
    store
        .create("/core/pods/default/b", pod("default", "b", "n2"))
        .await
        .expect("create");
    store
        .create("/core/pods/default/c", pod("default", "c", ""))
        .await
        .expect("create");
    // `a` moves from n1 to n2: both nodes' watchers hear of it.
    store
        .update("/core/pods/default/a", pod("default", "a", "n2"), None)
        .await
        .expect("update");
    assert_eq!(names(&drain(&mut n1).await), vec!["a", "a"]);
    assert_eq!(names(&drain(&mut n2).await), vec!["b", "a"]);
    assert_eq!(names(&drain(&mut everyone).await), vec!["a", "b", "c", "a"]);
    // `!=` picks no trigger: that watcher sees everything and filters itself.
    assert_eq!(names(&drain(&mut others).await), vec!["a", "b", "c", "a"]);
}

#[tokio::test]
async fn namespace_watchers_get_only_their_namespace() {
    let dir = TempDir::new().expect("tempdir");
    let store = store(&dir);
    let cache = WatchCache::new(store.clone(), Duration::from_millis(50));
    let hub = cache.hub(pods()).expect("hub");
    let mut prod = hub.subscribe(Some("/core/pods/prod/".into()), &FieldSelector::default());
    store
        .create("/core/pods/dev/a", pod("dev", "a", ""))
        .await
        .expect("create");
    store
        .create("/core/pods/prod/b", pod("prod", "b", ""))
        .await
        .expect("create");
    assert_eq!(names(&drain(&mut prod).await), vec!["b"]);
}

#[tokio::test]
async fn idle_hubs_report_progress_to_the_store_revision() {
    let dir = TempDir::new().expect("tempdir");
    let store = store(&dir);
    let cache = WatchCache::new(store.clone(), Duration::from_millis(50));
    let hub = cache.hub(pods()).expect("hub");
    let mut sub = hub.subscribe(None, &FieldSelector::default());
    // Writes of another type advance the store, not the pod hub's events.
    let last = store
        .create("/core/configmaps/default/x", Bytes::from_static(b"{}"))
        .await
        .expect("create");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let item = tokio::time::timeout_at(deadline, sub.rx.recv())
            .await
            .expect("progress in time")
            .expect("open");
        match item {
            Item::Progress(r) if r >= last.mod_revision => break,
            Item::Event(ev) => panic!("no pod changed, got {ev:?}"),
            _ => {}
        }
    }
    // A watcher registering now starts at that revision: nothing before it to replay.
    assert!(hub.subscribe(None, &FieldSelector::default()).registered_at >= last.mod_revision);
}

#[tokio::test]
async fn dropped_subscriptions_unregister() {
    let dir = TempDir::new().expect("tempdir");
    let store = store(&dir);
    let cache = WatchCache::new(store, Duration::from_millis(50));
    let hub = cache.hub(pods()).expect("hub");
    let on = FieldSelector::parse(pods(), "spec.nodeName=n1").expect("selector");
    let a = hub.subscribe(None, &on);
    let b = hub.subscribe(None, &FieldSelector::default());
    {
        let w = lock(&hub.watchers);
        assert_eq!((w.untriggered.len(), w.by_trigger.len()), (1, 1));
    }
    drop(a);
    drop(b);
    let w = lock(&hub.watchers);
    assert!(w.untriggered.is_empty() && w.by_trigger.is_empty());
}

#[tokio::test]
async fn a_cached_pod_shares_the_stores_value_and_serves_its_resource_version() {
    let dir = TempDir::new().expect("tempdir");
    let store = store(&dir);
    let kv = store
        .create("/core/pods/default/a", pod("default", "a", "node-1"))
        .await
        .expect("create");
    let cached = CachedObject::build(pods(), &kv).expect("build");
    assert!(cached.json.shares(&kv.value), "no second copy of the pod");
    let served = cached.value().expect("decode");
    assert_eq!(
        served["metadata"]["resourceVersion"],
        json!(kv.mod_revision.to_string())
    );
    assert_eq!(served["spec"]["nodeName"], json!("node-1"));
}
