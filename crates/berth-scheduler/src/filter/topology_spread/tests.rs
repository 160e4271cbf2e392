use super::*;
use crate::testutil::{World, node, node_with, pod, zoned};
use serde_json::{Value, json};

const ZONE: &str = "topology.kubernetes.io/zone";

fn spread(extra: Value) -> Value {
    let mut c = json!({"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule",
                       "labelSelector": {"matchLabels": {"app": "web"}}});
    if let (Value::Object(c), Value::Object(e)) = (&mut c, extra) {
        c.extend(e);
    }
    json!({"topologySpreadConstraints": [c]})
}

fn web(name: &str) -> k8s_openapi::api::core::v1::Pod {
    pod(name, json!({"app": "web"}), json!({}))
}

fn statuses(w: &World, p: &Pod) -> Vec<Option<String>> {
    w.snapshot(p, |s| {
        let state = PreState::new(p, s, Hardness::DoNotSchedule);
        s.nodes
            .iter()
            .map(|n| filter(p, &state, n).map(|st| st.reasons[0].clone()))
            .collect()
    })
}

fn three_zones() -> World {
    World::new(vec![zoned("n1", "a"), zoned("n2", "b"), zoned("n3", "c")])
}

#[test]
fn max_skew_keeps_zones_balanced() {
    let w = three_zones().with("n1", web("w0"));
    let p = pod("w1", json!({"app": "web"}), spread(json!({})));
    let skew = Some(REASON.to_string());
    assert_eq!(statuses(&w, &p), vec![skew, None, None]);
    let w = w.with("n2", web("w8")).with("n3", web("w9"));
    assert_eq!(statuses(&w, &p), vec![None, None, None]);
    let p2 = pod("w1", json!({"app": "web"}), spread(json!({"maxSkew": 2})));
    let w = three_zones().with("n1", web("w0"));
    assert_eq!(statuses(&w, &p2), vec![None, None, None]);
}

#[test]
fn a_pod_outside_its_own_selector_does_not_count_itself() {
    let w = three_zones().with("n1", web("w0"));
    let p = pod("other", json!({"app": "other"}), spread(json!({})));
    assert_eq!(statuses(&w, &p), vec![None, None, None]);
}

#[test]
fn nodes_without_the_key_are_unresolvable_and_do_not_count() {
    let w = World::new(vec![zoned("n1", "a"), node("n2", json!({}))]).with("n2", web("w0"));
    let p = pod("w1", json!({"app": "web"}), spread(json!({})));
    assert_eq!(
        statuses(&w, &p),
        vec![None, Some(REASON_MISSING_LABEL.to_string())]
    );
}

#[test]
fn min_domains_makes_the_global_minimum_zero_until_enough_domains_exist() {
    let w = World::new(vec![zoned("n1", "a"), zoned("n2", "b")])
        .with("n1", web("w0"))
        .with("n2", web("w1"));
    let p = pod("w2", json!({"app": "web"}), spread(json!({"minDomains": 3})));
    let skew = Some(REASON.to_string());
    assert_eq!(statuses(&w, &p), vec![skew.clone(), skew]);
    let p = pod("w2", json!({"app": "web"}), spread(json!({"minDomains": 2})));
    assert_eq!(statuses(&w, &p), vec![None, None]);
}

#[test]
fn node_affinity_policy_honor_ignores_nodes_the_pod_cannot_use() {
    // Zone c holds no pod but the pod may not go there: honoured, it does not drag the minimum to 0.
    let w = World::new(vec![
        node("n1", json!({ZONE: "a", "pool": "x"})),
        node("n2", json!({ZONE: "b", "pool": "x"})),
        node("n3", json!({ZONE: "c", "pool": "y"})),
    ])
    .with("n1", web("w0"))
    .with("n2", web("w1"));
    let mut spec = spread(json!({}));
    spec["nodeSelector"] = json!({"pool": "x"});
    let p = pod("w2", json!({"app": "web"}), spec.clone());
    assert_eq!(statuses(&w, &p)[..2], [None, None]);
    let mut ignore = spread(json!({"nodeAffinityPolicy": "Ignore"}));
    ignore["nodeSelector"] = json!({"pool": "x"});
    let p = pod("w2", json!({"app": "web"}), ignore);
    let skew = Some(REASON.to_string());
    assert_eq!(statuses(&w, &p)[..2], [skew.clone(), skew]);
}

#[test]
fn node_taints_policy_honor_ignores_tainted_nodes() {
    let w = World::new(vec![
        zoned("n1", "a"),
        zoned("n2", "b"),
        node_with(
            "n3",
            json!({ZONE: "c"}),
            json!({"spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}}),
        ),
    ])
    .with("n1", web("w0"))
    .with("n2", web("w1"));
    let skew = Some(REASON.to_string());
    let p = pod("w2", json!({"app": "web"}), spread(json!({})));
    assert_eq!(statuses(&w, &p)[..2], [skew.clone(), skew]);
    let p = pod(
        "w2",
        json!({"app": "web"}),
        spread(json!({"nodeTaintsPolicy": "Honor"})),
    );
    assert_eq!(statuses(&w, &p)[..2], [None, None]);
}

#[test]
fn terminating_pods_and_other_namespaces_do_not_count() {
    let mut gone = web("w0");
    gone.metadata.deletion_timestamp = Some(crate::testutil::from(json!("2026-01-01T00:00:00Z")));
    let w = three_zones().with("n1", gone).with(
        "n1",
        crate::testutil::pod_in("other", "w9", json!({"app": "web"}), json!({})),
    );
    let p = pod("w1", json!({"app": "web"}), spread(json!({})));
    assert_eq!(statuses(&w, &p), vec![None, None, None]);
}

#[test]
fn match_label_keys_count_only_the_same_revision() {
    let w = three_zones().with("n1", pod("old", json!({"app": "web", "rev": "1"}), json!({})));
    let p = pod(
        "new",
        json!({"app": "web", "rev": "2"}),
        spread(json!({"matchLabelKeys": ["rev"]})),
    );
    assert_eq!(statuses(&w, &p), vec![None, None, None]);
    let p = pod(
        "new",
        json!({"app": "web", "rev": "1"}),
        spread(json!({"matchLabelKeys": ["rev"]})),
    );
    assert_eq!(statuses(&w, &p), vec![Some(REASON.to_string()), None, None]);
}

#[test]
fn schedule_anyway_scores_emptier_zones_higher_and_never_filters() {
    let w = three_zones()
        .with("n1", web("w0"))
        .with("n1", web("w1"))
        .with("n2", web("w2"));
    let p = pod(
        "w3",
        json!({"app": "web"}),
        spread(json!({"whenUnsatisfiable": "ScheduleAnyway"})),
    );
    assert_eq!(statuses(&w, &p), vec![None, None, None]);
    let scores = w.snapshot(&p, |s| {
        let feasible: Vec<&NodeInfo<'_>> = s.nodes.iter().collect();
        scores(&p, s, &feasible)
    });
    assert!(scores[2] > scores[1] && scores[1] > scores[0], "{scores:?}");
    assert_eq!(scores[2], 100);
}

#[test]
fn no_soft_constraints_score_zero() {
    let w = three_zones();
    let p = web("w0");
    let scores = w.snapshot(&p, |s| {
        let feasible: Vec<&NodeInfo<'_>> = s.nodes.iter().collect();
        scores(&p, s, &feasible)
    });
    assert_eq!(scores, vec![0, 0, 0]);
}
