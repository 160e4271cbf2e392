use super::*;
use crate::filter::Code;
use crate::testutil::{World, from, node_with, pod};
use serde_json::json;

fn taint(v: serde_json::Value) -> Taint {
    from(v)
}

fn tol(v: serde_json::Value) -> Toleration {
    from(v)
}

#[test]
fn toleration_matching_rules() {
    let t = taint(json!({"key": "k", "value": "v", "effect": "NoSchedule"}));
    assert!(tolerates(
        &tol(json!({"key": "k", "value": "v", "effect": "NoSchedule"})),
        &t
    ));
    assert!(tolerates(
        &tol(json!({"key": "k", "operator": "Equal", "value": "v"})),
        &t
    ));
    assert!(tolerates(&tol(json!({"key": "k", "operator": "Exists"})), &t));
    assert!(tolerates(&tol(json!({"operator": "Exists"})), &t));
    assert!(!tolerates(&tol(json!({"key": "k", "value": "w"})), &t));
    assert!(!tolerates(
        &tol(json!({"key": "k", "value": "v", "effect": "NoExecute"})),
        &t
    ));
    assert!(!tolerates(
        &tol(json!({"key": "other", "operator": "Exists"})),
        &t
    ));
    assert!(!tolerates(&tol(json!({"key": "k", "operator": "Bogus"})), &t));
    // An empty key skips the key check, as `ToleratesTaint` does (validation forbids it with Equal).
    assert!(tolerates(&tol(json!({"value": "v"})), &t));
    assert!(!tolerates(&tol(json!({"value": "w"})), &t));
}

fn tainted(taints: serde_json::Value) -> World {
    World::new(vec![node_with(
        "a",
        json!({}),
        json!({"spec": {"taints": taints}}),
    )])
}

#[test]
fn no_schedule_and_no_execute_filter_prefer_no_schedule_does_not() {
    let p = pod("p", json!({}), json!({}));
    let w = tainted(
        json!([{"key": "soft", "effect": "PreferNoSchedule"}, {"key": "hard", "value": "x", "effect": "NoExecute"}]),
    );
    assert_eq!(
        w.snapshot(&p, |s| filter(&p, &s.nodes[0])),
        Some(Status {
            code: Code::Unresolvable,
            reasons: vec!["node(s) had untolerated taint {hard: x}".into()]
        })
    );
    let w = tainted(json!([{"key": "soft", "effect": "PreferNoSchedule"}]));
    assert_eq!(w.snapshot(&p, |s| filter(&p, &s.nodes[0])), None);
    assert_eq!(
        w.snapshot(&p, |s| intolerable_prefer_no_schedule(&p, &s.nodes[0])),
        1
    );
    let tolerant = pod(
        "p",
        json!({}),
        json!({"tolerations": [{"key": "soft", "operator": "Exists"}]}),
    );
    assert_eq!(
        w.snapshot(&tolerant, |s| intolerable_prefer_no_schedule(
            &tolerant,
            &s.nodes[0]
        )),
        0
    );
    // A NoSchedule-only toleration does not count for PreferNoSchedule scoring.
    let narrow = pod(
        "p",
        json!({}),
        json!({"tolerations": [{"key": "soft", "operator": "Exists", "effect": "NoSchedule"}]}),
    );
    assert_eq!(
        w.snapshot(&narrow, |s| intolerable_prefer_no_schedule(&narrow, &s.nodes[0])),
        1
    );
}

#[test]
fn the_first_untolerated_taint_is_named_and_empty_values_print_empty() {
    let p = pod(
        "p",
        json!({}),
        json!({"tolerations": [{"key": "a", "operator": "Exists"}]}),
    );
    let w = tainted(
        json!([{"key": "a", "effect": "NoSchedule"}, {"key": "b", "effect": "NoSchedule"}, {"key": "c", "value": "1", "effect": "NoSchedule"}]),
    );
    assert_eq!(
        w.snapshot(&p, |s| filter(&p, &s.nodes[0])).map(|s| s.reasons),
        Some(vec!["node(s) had untolerated taint {b: }".to_string()])
    );
}

#[test]
fn cordoned_nodes_take_only_pods_tolerating_the_unschedulable_taint() {
    let w = World::new(vec![node_with(
        "a",
        json!({}),
        json!({"spec": {"unschedulable": true}}),
    )]);
    let p = pod("p", json!({}), json!({}));
    assert_eq!(
        w.snapshot(&p, |s| filter_unschedulable(&p, &s.nodes[0])),
        Some(Status::unresolvable("node(s) were unschedulable"))
    );
    let t = pod(
        "p",
        json!({}),
        json!({"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}),
    );
    assert_eq!(w.snapshot(&t, |s| filter_unschedulable(&t, &s.nodes[0])), None);
}

#[test]
fn not_ready_and_unknown_nodes_carry_the_lifecycle_taints() {
    let p = pod("p", json!({}), json!({}));
    for (status, key) in [
        ("False", "node.kubernetes.io/not-ready"),
        ("Unknown", "node.kubernetes.io/unreachable"),
    ] {
        let w = World::new(vec![node_with(
            "a",
            json!({}),
            json!({"status": {"conditions": [{"type": "Ready", "status": status}]}}),
        )]);
        assert_eq!(
            w.snapshot(&p, |s| filter(&p, &s.nodes[0])).map(|s| s.reasons),
            Some(vec![format!("node(s) had untolerated taint {{{key}: }}")])
        );
    }
    // The default NoExecute toleration (300s) does not tolerate the NoSchedule taint.
    let w = World::new(vec![node_with(
        "a",
        json!({}),
        json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
    )]);
    let defaulted = pod(
        "p",
        json!({}),
        json!({"tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]}),
    );
    assert!(
        w.snapshot(&defaulted, |s| filter(&defaulted, &s.nodes[0]))
            .is_some()
    );
}
