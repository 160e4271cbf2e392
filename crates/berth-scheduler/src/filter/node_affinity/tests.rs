use super::*;
use crate::testutil::{World, node, pod};
use serde_json::json;

fn fits(labels: serde_json::Value, spec: serde_json::Value) -> bool {
    let p = pod("p", json!({}), spec);
    World::new(vec![node("n1", labels)]).snapshot(&p, |s| filter(&p, &s.nodes[0]).is_none())
}

fn required(terms: serde_json::Value) -> serde_json::Value {
    json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}})
}

#[test]
fn node_selector_needs_every_pair() {
    assert!(fits(
        json!({"a": "1", "b": "2"}),
        json!({"nodeSelector": {"a": "1"}})
    ));
    assert!(!fits(
        json!({"a": "1"}),
        json!({"nodeSelector": {"a": "1", "b": "2"}})
    ));
    assert!(!fits(json!({"a": "2"}), json!({"nodeSelector": {"a": "1"}})));
}

#[test]
fn required_affinity_with_every_operator() {
    let l = json!({"zone": "a", "cores": "8"});
    for (op, values, want) in [
        ("In", json!(["a"]), true),
        ("In", json!(["b"]), false),
        ("NotIn", json!(["b"]), true),
        ("NotIn", json!(["a"]), false),
        ("Exists", json!([]), true),
        ("DoesNotExist", json!([]), false),
    ] {
        let spec =
            required(json!([{"matchExpressions": [{"key": "zone", "operator": op, "values": values}]}]));
        assert_eq!(fits(l.clone(), spec), want, "{op}");
    }
    for (op, v, want) in [
        ("Gt", "4", true),
        ("Gt", "8", false),
        ("Lt", "16", true),
        ("Lt", "8", false),
    ] {
        let spec = required(json!([{"matchExpressions": [{"key": "cores", "operator": op, "values": [v]}]}]));
        assert_eq!(fits(l.clone(), spec), want, "{op} {v}");
    }
}

#[test]
fn match_fields_by_node_name_and_selector_and_affinity_both_apply() {
    let by_name = |n: &str| {
        required(json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [n]}]}]))
    };
    assert!(fits(json!({}), by_name("n1")));
    assert!(!fits(json!({}), by_name("n2")));
    let mut both = by_name("n1");
    both["nodeSelector"] = json!({"zone": "b"});
    assert!(!fits(json!({"zone": "a"}), both));
}

#[test]
fn the_reason_is_kubernetes_wording() {
    let p = pod("p", json!({}), json!({"nodeSelector": {"x": "y"}}));
    let s = World::new(vec![node("n1", json!({}))]).snapshot(&p, |s| filter(&p, &s.nodes[0]));
    assert_eq!(
        s,
        Some(Status::unresolvable(
            "node(s) didn't match Pod's node affinity/selector"
        ))
    );
}

#[test]
fn preferred_terms_sum_their_weights() {
    let p = pod(
        "p",
        json!({}),
        json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 5, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}},
            {"weight": 7, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}},
            {"weight": 9, "preference": {}},
        ]}}}),
    );
    let w = World::new(vec![
        node("n1", json!({"zone": "a", "disk": "ssd"})),
        node("n2", json!({"zone": "a"})),
    ]);
    assert_eq!(w.snapshot(&p, |s| preferred_score(&p, &s.nodes[0])), 12);
    assert_eq!(w.snapshot(&p, |s| preferred_score(&p, &s.nodes[1])), 5);
}
