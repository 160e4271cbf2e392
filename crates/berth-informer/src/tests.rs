//! The informer's promises to subscribers, driven by hand-made watch events.

use super::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;

fn pod(name: &str, rv: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("default".into());
    p.metadata.resource_version = Some(rv.into());
    p
}

fn list(informer: &Informer<Pod>, pods: &[Pod]) {
    informer.apply(watcher::Event::Init);
    for p in pods {
        informer.apply(watcher::Event::InitApply(p.clone()));
    }
    informer.apply(watcher::Event::InitDone);
}

/// Drains what a subscriber has been sent so far as ("applied"|"deleted", name, rv), sorted.
fn drain(rx: &mut Subscription<Pod>) -> Vec<(&'static str, String, String)> {
    let mut seen = drain_in_order(rx);
    seen.sort();
    seen
}

use futures::FutureExt;

fn entry(what: &'static str, name: &str, rv: &str) -> (&'static str, String, String) {
    (what, name.to_string(), rv.to_string())
}

#[test]
fn the_first_list_reaches_early_subscribers_and_late_ones_get_the_cache() {
    let informer = Informer::<Pod>::detached();
    let mut early = informer.subscribe();
    assert!(drain(&mut early).is_empty(), "nothing before the list");
    list(&informer, &[pod("a", "1"), pod("b", "2")]);
    assert_eq!(
        drain(&mut early),
        vec![entry("applied", "a", "1"), entry("applied", "b", "2")]
    );
    let mut late = informer.subscribe();
    assert_eq!(
        drain(&mut late),
        vec![entry("applied", "a", "1"), entry("applied", "b", "2")]
    );
    assert_eq!(informer.store().len(), 2);
}

#[test]
fn changes_reach_the_cache_before_the_subscriber() {
    let informer = Informer::<Pod>::detached();
    list(&informer, &[]);
    let mut rx = informer.subscribe();
    informer.apply(watcher::Event::Apply(pod("a", "5")));
    let store = informer.store();
    let change = rx.next().now_or_never().flatten().expect("a change");
    let cached = store.get(&ObjectRef::new("a").within("default")).expect("cached");
    assert!(
        Arc::ptr_eq(change.object(), &cached),
        "the subscriber gets the cached object itself"
    );
    informer.apply(watcher::Event::Delete(pod("a", "6")));
    assert_eq!(drain(&mut rx), vec![entry("deleted", "a", "6")]);
    assert!(store.get(&ObjectRef::new("a").within("default")).is_none());
}

#[test]
fn a_relist_sends_what_changed_and_what_vanished_while_disconnected() {
    let informer = Informer::<Pod>::detached();
    list(
        &informer,
        &[pod("same", "1"), pod("changed", "2"), pod("gone", "3")],
    );
    let mut rx = informer.subscribe();
    drain(&mut rx);
    list(
        &informer,
        &[pod("same", "1"), pod("changed", "7"), pod("new", "8")],
    );
    assert_eq!(
        drain(&mut rx),
        vec![
            entry("applied", "changed", "7"),
            entry("applied", "new", "8"),
            entry("deleted", "gone", "3")
        ]
    );
}

#[test]
fn managed_fields_are_not_cached() {
    let informer = Informer::<Pod>::detached();
    let mut p = pod("a", "1");
    p.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
        manager: Some("kubectl".into()),
        ..ManagedFieldsEntry::default()
    }]);
    list(&informer, &[p.clone()]);
    informer.apply(watcher::Event::Apply(p));
    let cached = informer.store().state();
    assert_eq!(cached.len(), 1);
    assert!(cached.iter().all(|p| p.metadata.managed_fields.is_none()));
}

#[test]
fn a_dropped_subscriber_is_forgotten() {
    let informer = Informer::<Pod>::detached();
    list(&informer, &[]);
    let rx = informer.subscribe();
    drop(rx);
    informer.apply(watcher::Event::Apply(pod("a", "1")));
    assert!(lock(&informer.shared.state).subscribers.is_empty());
}

/// Takes what a subscriber has been sent so far, in order, as (what, name, rv).
fn drain_in_order(rx: &mut Subscription<Pod>) -> Vec<(&'static str, String, String)> {
    let mut seen = Vec::new();
    while let Some(Some(change)) = rx.next().now_or_never() {
        let what = if matches!(change, Change::Applied(_)) {
            "applied"
        } else {
            "deleted"
        };
        let o = change.object();
        seen.push((
            what,
            o.metadata.name.clone().unwrap_or_default(),
            o.metadata.resource_version.clone().unwrap_or_default(),
        ));
    }
    seen
}

fn with_uid(mut p: Pod, uid: &str) -> Pod {
    p.metadata.uid = Some(uid.into());
    p
}

#[test]
fn an_unread_change_is_replaced_by_the_next_change_of_the_same_object() {
    let informer = Informer::<Pod>::detached();
    list(&informer, &[]);
    let mut rx = informer.subscribe();
    for rv in ["1", "2", "3"] {
        informer.apply(watcher::Event::Apply(with_uid(pod("a", rv), "u-a")));
    }
    informer.apply(watcher::Event::Apply(with_uid(pod("b", "4"), "u-b")));
    informer.apply(watcher::Event::Apply(with_uid(pod("a", "5"), "u-a")));
    assert_eq!(rx.pending(), 2, "one pending entry per object");
    assert_eq!(
        drain_in_order(&mut rx),
        vec![entry("applied", "a", "5"), entry("applied", "b", "4")],
        "the latest version, in the order the objects first became pending"
    );
    informer.apply(watcher::Event::Apply(with_uid(pod("a", "6"), "u-a")));
    assert_eq!(drain_in_order(&mut rx), vec![entry("applied", "a", "6")]);
}

#[test]
fn a_deletion_survives_a_recreation_under_the_same_name() {
    let informer = Informer::<Pod>::detached();
    list(&informer, &[with_uid(pod("a", "1"), "old")]);
    let mut rx = informer.subscribe();
    informer.apply(watcher::Event::Apply(with_uid(pod("a", "2"), "old")));
    informer.apply(watcher::Event::Delete(with_uid(pod("a", "3"), "old")));
    informer.apply(watcher::Event::Apply(with_uid(pod("a", "4"), "new")));
    assert_eq!(
        drain_in_order(&mut rx),
        vec![entry("deleted", "a", "3"), entry("applied", "a", "4")],
        "the old object's deletion, then the new object"
    );
}

#[test]
fn a_subscription_ends_when_the_informer_is_gone() {
    let informer = Informer::<Pod>::detached();
    list(&informer, &[with_uid(pod("a", "1"), "u-a")]);
    let mut rx = informer.subscribe();
    drop(informer);
    assert!(matches!(rx.next().now_or_never(), Some(Some(Change::Applied(_)))));
    assert!(
        matches!(rx.next().now_or_never(), Some(None)),
        "drained, then the end"
    );
}

fn owned(name: &str, rv: &str, controller_uid: Option<&str>) -> Pod {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    let mut p = pod(name, rv);
    if let Some(uid) = controller_uid {
        p.metadata.owner_references = Some(vec![OwnerReference {
            uid: uid.into(),
            controller: Some(true),
            ..OwnerReference::default()
        }]);
    }
    p
}

fn names(pods: Vec<Arc<Pod>>) -> Vec<String> {
    let mut n: Vec<String> = pods
        .iter()
        .map(|p| p.metadata.name.clone().unwrap_or_default())
        .collect();
    n.sort();
    n
}

#[test]
fn the_controller_index_follows_adoption_release_deletion_and_relists() {
    let informer = Informer::<Pod>::detached();
    list(
        &informer,
        &[owned("a", "1", Some("set-1")), owned("b", "2", None)],
    );
    assert_eq!(names(informer.controlled_by("default", "set-1")), ["a"]);
    assert_eq!(names(informer.controlled_by("default", "")), ["b"]);
    assert!(
        informer.controlled_by("other", "set-1").is_empty(),
        "namespaces are apart"
    );
    informer.apply(watcher::Event::Apply(owned("b", "3", Some("set-1"))));
    assert_eq!(
        names(informer.controlled_by("default", "set-1")),
        ["a", "b"],
        "adopted"
    );
    assert!(informer.controlled_by("default", "").is_empty());
    informer.apply(watcher::Event::Apply(owned("a", "4", None)));
    assert_eq!(names(informer.controlled_by("default", "")), ["a"], "released");
    informer.apply(watcher::Event::Delete(owned("b", "5", Some("set-1"))));
    assert!(informer.controlled_by("default", "set-1").is_empty(), "deleted");
    list(&informer, &[owned("c", "6", Some("set-2"))]);
    assert_eq!(names(informer.controlled_by("default", "set-2")), ["c"]);
    assert!(
        informer.controlled_by("default", "").is_empty(),
        "a relist rebuilds the index"
    );
}

#[tokio::test]
async fn settle_waits_for_quiet_but_not_for_ever() {
    use std::time::Duration;
    // A quiet channel: settle returns after the quiet period.
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let start = tokio::time::Instant::now();
    settle_channel(Duration::from_millis(5), Duration::from_secs(5), &mut rx).await;
    assert!(start.elapsed() < Duration::from_secs(1), "returned on quiet");
    // A change every millisecond for ever: settle gives up after `at_most`.
    let feeder = tokio::spawn(async move {
        while tx.send(()).is_ok() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let start = tokio::time::Instant::now();
    settle_channel(Duration::from_millis(50), Duration::from_millis(300), &mut rx).await;
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "kept taking changes until the cap: {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "stopped at the cap: {waited:?}");
    feeder.abort();
}

/// Two controllers waiting for one shared cache both wake when the first list completes
/// (kube's `Store::wait_until_ready` wakes only the task that polled it last).
#[tokio::test]
async fn every_task_waiting_for_the_first_list_wakes() {
    let informer = Informer::<Pod>::detached();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let informer = informer.clone();
            tokio::spawn(async move { informer.synced().await })
        })
        .collect();
    tokio::task::yield_now().await;
    assert!(
        waiters.iter().all(|w| !w.is_finished()),
        "nobody is synced before the list"
    );
    list(&informer, &[pod("a", "1")]);
    for waiter in waiters {
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("a waiter was left asleep after the first list")
            .expect("the waiter panicked");
    }
    tokio::time::timeout(Duration::from_secs(1), informer.synced())
        .await
        .expect("a wait after the list returns at once");
}
