use super::*;
use crate::testutil::pod;
use serde_json::json;

#[test]
fn only_unbound_ungated_live_pods_of_the_default_scheduler_wait() {
    assert!(waits_for_us(&pod("p", json!({}), json!({}))));
    assert!(!waits_for_us(&pod("p", json!({}), json!({"nodeName": "n1"}))));
    assert!(!waits_for_us(&pod(
        "p",
        json!({}),
        json!({"schedulerName": "other"})
    )));
    assert!(waits_for_us(&pod(
        "p",
        json!({}),
        json!({"schedulerName": "default-scheduler"})
    )));
    assert!(!waits_for_us(&pod(
        "p",
        json!({}),
        json!({"schedulingGates": [{"name": "wait"}]})
    )));
    let mut done = pod("p", json!({}), json!({}));
    done.status = Some(crate::testutil::from(json!({"phase": "Failed"})));
    assert!(!waits_for_us(&done));
    let mut deleting = pod("p", json!({}), json!({}));
    deleting.metadata.deletion_timestamp = Some(crate::testutil::from(json!("2026-01-01T00:00:00Z")));
    assert!(!waits_for_us(&deleting));
}

#[test]
fn queue_order_is_priority_then_age_then_name() {
    let at = |name: &str, prio: i32, ts: &str| {
        let mut p = pod(name, json!({}), json!({"priority": prio}));
        p.metadata.creation_timestamp = Some(crate::testutil::from(json!(ts)));
        p
    };
    let mut pods = [
        at("c", 0, "2026-01-01T00:00:02Z"),
        at("b", 0, "2026-01-01T00:00:01Z"),
        at("a", 0, "2026-01-01T00:00:01Z"),
        at("z", 5, "2026-01-01T00:00:09Z"),
    ];
    pods.sort_by(queue_order);
    let names: Vec<&str> = pods
        .iter()
        .map(|p| p.metadata.name.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(names, ["z", "a", "b", "c"]);
}
