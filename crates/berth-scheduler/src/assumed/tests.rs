use super::*;
use crate::testutil::pod;
use serde_json::json;

#[test]
fn assumed_until_the_watch_shows_the_binding() {
    let now = Instant::now();
    let p = pod("p", json!({}), json!({}));
    let mut cache = AssumedPods::default();
    cache.assume(Arc::new(p.clone()), "n1", false, now);
    cache.reconcile([&p], now);
    assert_eq!(cache.get(&p).map(|a| a.node.as_str()), Some("n1"));
    let mut bound = p.clone();
    if let Some(s) = bound.spec.as_mut() {
        s.node_name = Some("n1".into());
    }
    cache.reconcile([&bound], now);
    assert!(cache.get(&p).is_none());
}

#[test]
fn deleted_or_expired_entries_go() {
    let now = Instant::now();
    let p = pod("p", json!({}), json!({}));
    let mut cache = AssumedPods::default();
    cache.assume(Arc::new(p.clone()), "n1", false, now);
    cache.reconcile(std::iter::empty(), now);
    assert!(cache.get(&p).is_none(), "gone from the watch");
    cache.assume(Arc::new(p.clone()), "n1", false, now);
    cache.reconcile([&p], now + BOUND_TTL);
    assert!(cache.get(&p).is_none(), "bound pods expire after BOUND_TTL");
    cache.assume(Arc::new(p.clone()), "n1", true, now);
    cache.reconcile([&p], now + BOUND_TTL);
    assert!(cache.get(&p).is_some(), "volume waits last longer");
    cache.reconcile([&p], now + VOLUME_WAIT_TTL);
    assert!(cache.get(&p).is_none());
}

#[test]
fn re_assuming_on_the_same_node_keeps_the_original_time() {
    let now = Instant::now();
    let p = pod("p", json!({}), json!({}));
    let mut cache = AssumedPods::default();
    cache.assume(Arc::new(p.clone()), "n1", true, now);
    cache.assume(Arc::new(p.clone()), "n1", true, now + BOUND_TTL);
    assert_eq!(cache.get(&p).map(|a| a.since), Some(now));
    cache.assume(Arc::new(p.clone()), "n2", true, now + BOUND_TTL);
    assert_eq!(cache.get(&p).map(|a| a.since), Some(now + BOUND_TTL));
}
