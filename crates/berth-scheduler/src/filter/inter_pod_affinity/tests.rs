use super::*;
use crate::testutil::{World, pod, pod_in, zoned};
use serde_json::{Value, json};

fn term(selector: Value, key: &str) -> Value {
    json!({"labelSelector": selector, "topologyKey": key})
}

fn affinity(kind: &str, terms: Vec<Value>) -> Value {
    json!({"affinity": {kind: {"requiredDuringSchedulingIgnoredDuringExecution": terms}}})
}

const ZONE: &str = "topology.kubernetes.io/zone";
const HOST: &str = "kubernetes.io/hostname";

fn three_zones() -> World {
    World::new(vec![zoned("n1", "a"), zoned("n2", "a"), zoned("n3", "b")])
}

/// The status of every node, in name order.
fn statuses(w: &World, p: &Pod) -> Vec<Option<String>> {
    w.snapshot(p, |s| {
        let state = PreState::new(p, s);
        s.nodes
            .iter()
            .map(|n| filter(&state, n).map(|st| st.reasons[0].clone()))
            .collect()
    })
}

#[test]
fn required_affinity_follows_the_matching_pods_topology() {
    let w = three_zones().with("n1", pod("cache", json!({"app": "cache"}), json!({})));
    let p = pod(
        "web",
        json!({"app": "web"}),
        affinity(
            "podAffinity",
            vec![term(json!({"matchLabels": {"app": "cache"}}), ZONE)],
        ),
    );
    let aff = Some(REASON_AFFINITY.to_string());
    assert_eq!(statuses(&w, &p), vec![None, None, aff.clone()]);
    let p = pod(
        "web",
        json!({"app": "web"}),
        affinity(
            "podAffinity",
            vec![term(json!({"matchLabels": {"app": "cache"}}), HOST)],
        ),
    );
    assert_eq!(statuses(&w, &p), vec![None, aff.clone(), aff]);
}

#[test]
fn the_first_pod_of_a_self_affine_group_goes_anywhere_but_others_wait() {
    let spec = affinity(
        "podAffinity",
        vec![term(json!({"matchLabels": {"app": "web"}}), ZONE)],
    );
    let p = pod("web-0", json!({"app": "web"}), spec.clone());
    assert_eq!(statuses(&three_zones(), &p), vec![None, None, None]);
    // A pod that does not match its own terms waits for a matching pod.
    let q = pod("other", json!({"app": "other"}), spec);
    let aff = Some(REASON_AFFINITY.to_string());
    assert_eq!(statuses(&three_zones(), &q), vec![aff.clone(), aff.clone(), aff]);
}

#[test]
fn a_node_without_the_topology_key_fails_affinity() {
    let w = World::new(vec![crate::testutil::node("bare", json!({}))])
        .with("bare", pod("c", json!({"app": "c"}), json!({})));
    let p = pod(
        "p",
        json!({}),
        affinity(
            "podAffinity",
            vec![term(json!({"matchLabels": {"app": "c"}}), ZONE)],
        ),
    );
    assert_eq!(statuses(&w, &p), vec![Some(REASON_AFFINITY.to_string())]);
}

#[test]
fn required_anti_affinity_by_zone_and_by_host() {
    let w = three_zones().with("n1", pod("db-0", json!({"app": "db"}), json!({})));
    let anti = Some(REASON_ANTI_AFFINITY.to_string());
    let p = pod(
        "db-1",
        json!({"app": "db"}),
        affinity(
            "podAntiAffinity",
            vec![term(json!({"matchLabels": {"app": "db"}}), ZONE)],
        ),
    );
    assert_eq!(statuses(&w, &p), vec![anti.clone(), anti.clone(), None]);
    let p = pod(
        "db-1",
        json!({"app": "db"}),
        affinity(
            "podAntiAffinity",
            vec![term(json!({"matchLabels": {"app": "db"}}), HOST)],
        ),
    );
    assert_eq!(statuses(&w, &p), vec![anti, None, None]);
}

#[test]
fn existing_pods_anti_affinity_repels_the_incoming_pod() {
    let loner = pod(
        "loner",
        json!({"app": "loner"}),
        affinity(
            "podAntiAffinity",
            vec![term(json!({"matchLabels": {"app": "web"}}), ZONE)],
        ),
    );
    let w = three_zones().with("n2", loner);
    let p = pod("web", json!({"app": "web"}), json!({}));
    let ex = Some(REASON_EXISTING_ANTI_AFFINITY.to_string());
    assert_eq!(statuses(&w, &p), vec![ex.clone(), ex, None]);
    // A pod the term does not select is not repelled.
    let q = pod("api", json!({"app": "api"}), json!({}));
    assert_eq!(statuses(&w, &q), vec![None, None, None]);
}

#[test]
fn terms_select_the_owner_namespace_by_default_then_listed_or_selected_namespaces() {
    let mut w = three_zones().with("n1", pod_in("other", "db", json!({"app": "db"}), json!({})));
    w.namespaces
        .insert("other".into(), [("team".to_string(), "x".to_string())].into());
    let anti = Some(REASON_ANTI_AFFINITY.to_string());
    let own_ns = pod(
        "p",
        json!({}),
        affinity(
            "podAntiAffinity",
            vec![term(json!({"matchLabels": {"app": "db"}}), ZONE)],
        ),
    );
    assert_eq!(statuses(&w, &own_ns), vec![None, None, None]);
    let mut listed = term(json!({"matchLabels": {"app": "db"}}), ZONE);
    listed["namespaces"] = json!(["other"]);
    let p = pod("p", json!({}), affinity("podAntiAffinity", vec![listed]));
    assert_eq!(statuses(&w, &p), vec![anti.clone(), anti.clone(), None]);
    let mut selected = term(json!({"matchLabels": {"app": "db"}}), ZONE);
    selected["namespaceSelector"] = json!({"matchLabels": {"team": "x"}});
    let p = pod("p", json!({}), affinity("podAntiAffinity", vec![selected]));
    assert_eq!(statuses(&w, &p), vec![anti.clone(), anti.clone(), None]);
    let mut all = term(json!({"matchLabels": {"app": "db"}}), ZONE);
    all["namespaceSelector"] = json!({});
    let p = pod("p", json!({}), affinity("podAntiAffinity", vec![all]));
    assert_eq!(statuses(&w, &p), vec![anti.clone(), anti, None]);
    let mut nomatch = term(json!({"matchLabels": {"app": "db"}}), ZONE);
    nomatch["namespaceSelector"] = json!({"matchLabels": {"team": "y"}});
    let p = pod("p", json!({}), affinity("podAntiAffinity", vec![nomatch]));
    assert_eq!(statuses(&w, &p), vec![None, None, None]);
}

#[test]
fn match_label_keys_narrow_the_selector_to_the_owner_values() {
    let w = three_zones()
        .with("n1", pod("old", json!({"app": "db", "rev": "1"}), json!({})))
        .with("n3", pod("new", json!({"app": "db", "rev": "2"}), json!({})));
    let mut t = term(json!({"matchLabels": {"app": "db"}}), ZONE);
    t["matchLabelKeys"] = json!(["rev"]);
    let p = pod(
        "p",
        json!({"app": "db", "rev": "2"}),
        affinity("podAntiAffinity", vec![t]),
    );
    let anti = Some(REASON_ANTI_AFFINITY.to_string());
    assert_eq!(statuses(&w, &p), vec![None, None, anti]);
}

#[test]
fn affinity_is_checked_before_anti_affinity() {
    let w = three_zones().with("n1", pod("db", json!({"app": "db"}), json!({})));
    let spec = json!({"affinity": {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"matchLabels": {"app": "cache"}}), ZONE)]},
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"matchLabels": {"app": "db"}}), ZONE)]},
    }});
    let p = pod("p", json!({}), spec);
    let w = w.with("n3", pod("cache", json!({"app": "cache"}), json!({})));
    let aff = Some(REASON_AFFINITY.to_string());
    assert_eq!(statuses(&w, &p), vec![aff.clone(), aff, None]);
}

#[test]
fn preferred_terms_score_topologies() {
    let w = three_zones()
        .with("n1", pod("cache", json!({"app": "cache"}), json!({})))
        .with("n3", pod("noisy", json!({"app": "noisy"}), json!({})));
    let p = pod(
        "p",
        json!({}),
        json!({"affinity": {
            "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "podAffinityTerm": term(json!({"matchLabels": {"app": "cache"}}), ZONE)}]},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 4, "podAffinityTerm": term(json!({"matchLabels": {"app": "noisy"}}), HOST)}]},
        }}),
    );
    let scores: Vec<i64> = w.snapshot(&p, |s| {
        let t = topology_scores(&p, s);
        s.nodes.iter().map(|n| node_score(&t, n)).collect()
    });
    assert_eq!(scores, vec![10, 10, -4]);
}

#[test]
fn existing_pods_required_affinity_attracts_with_weight_one() {
    let w = three_zones().with(
        "n3",
        pod(
            "fan",
            json!({}),
            affinity(
                "podAffinity",
                vec![term(json!({"matchLabels": {"app": "web"}}), ZONE)],
            ),
        ),
    );
    let p = pod("p", json!({"app": "web"}), json!({}));
    let scores: Vec<i64> = w.snapshot(&p, |s| {
        let t = topology_scores(&p, s);
        s.nodes.iter().map(|n| node_score(&t, n)).collect()
    });
    assert_eq!(scores, vec![0, 0, HARD_POD_AFFINITY_WEIGHT]);
}
