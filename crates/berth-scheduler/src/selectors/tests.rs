use super::*;
use crate::testutil::from;
use serde_json::json;

fn labels(v: serde_json::Value) -> Labels {
    from(v)
}

fn sel(v: serde_json::Value) -> LabelSelector {
    from(v)
}

fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    from(json!({"key": key, "operator": op, "values": values}))
}

#[test]
fn missing_label_selector_matches_nothing_and_empty_matches_everything() {
    let l = labels(json!({"app": "web"}));
    assert!(!label_selector_matches(None, &l));
    assert!(label_selector_matches(Some(&sel(json!({}))), &l));
    assert!(label_selector_matches(Some(&sel(json!({}))), &Labels::new()));
}

#[test]
fn label_selector_operators() {
    let l = labels(json!({"app": "web", "tier": "db"}));
    let m = |v| label_selector_matches(Some(&sel(v)), &l);
    assert!(m(json!({"matchLabels": {"app": "web"}})));
    assert!(!m(json!({"matchLabels": {"app": "api"}})));
    assert!(m(
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["api", "web"]}]})
    ));
    assert!(!m(
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}]})
    ));
    assert!(m(
        json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["api"]}]})
    ));
    assert!(m(
        json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]})
    ));
    assert!(!m(
        json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]})
    ));
    assert!(m(
        json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]})
    ));
    assert!(!m(
        json!({"matchExpressions": [{"key": "zone", "operator": "Exists"}]})
    ));
    assert!(m(
        json!({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]})
    ));
    assert!(!m(
        json!({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]})
    ));
    // Invalid selectors match nothing.
    assert!(!m(
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": []}]})
    ));
    assert!(!m(
        json!({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]})
    ));
    assert!(!m(
        json!({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]})
    ));
    // matchLabels and matchExpressions are ANDed.
    assert!(!m(
        json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]})
    ));
}

#[test]
fn node_selector_requirement_operators() {
    let l = labels(json!({"zone": "a", "cores": "16", "weird": "x1"}));
    assert!(requirement_matches(&req("zone", "In", &["a", "b"]), &l));
    assert!(!requirement_matches(&req("zone", "In", &["b"]), &l));
    assert!(!requirement_matches(&req("rack", "In", &["a"]), &l));
    assert!(requirement_matches(&req("zone", "NotIn", &["b"]), &l));
    assert!(requirement_matches(&req("rack", "NotIn", &["b"]), &l));
    assert!(!requirement_matches(&req("zone", "NotIn", &["a"]), &l));
    assert!(requirement_matches(&req("zone", "Exists", &[]), &l));
    assert!(!requirement_matches(&req("rack", "Exists", &[]), &l));
    assert!(requirement_matches(&req("rack", "DoesNotExist", &[]), &l));
    assert!(!requirement_matches(&req("zone", "DoesNotExist", &[]), &l));
    assert!(requirement_matches(&req("cores", "Gt", &["8"]), &l));
    assert!(!requirement_matches(&req("cores", "Gt", &["16"]), &l));
    assert!(requirement_matches(&req("cores", "Lt", &["32"]), &l));
    assert!(!requirement_matches(&req("cores", "Lt", &["16"]), &l));
    // Gt/Lt need one integer value and an integer label.
    assert!(!requirement_matches(&req("cores", "Gt", &["8", "9"]), &l));
    assert!(!requirement_matches(&req("cores", "Gt", &["x"]), &l));
    assert!(!requirement_matches(&req("weird", "Gt", &["1"]), &l));
    assert!(!requirement_matches(&req("missing", "Lt", &["1"]), &l));
    assert!(!requirement_matches(&req("zone", "Bogus", &["a"]), &l));
}

#[test]
fn node_selector_terms_are_ored_and_requirements_anded() {
    let l = labels(json!({"zone": "a", "disk": "ssd"}));
    let ns: NodeSelector = from(json!({"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]},
                              {"key": "disk", "operator": "In", "values": ["ssd"]}]},
    ]}));
    assert!(node_selector_matches(&ns, "n1", &l));
    let both: NodeSelector = from(json!({"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]},
                              {"key": "disk", "operator": "In", "values": ["hdd"]}]},
    ]}));
    assert!(!node_selector_matches(&both, "n1", &l));
    let empty_term: NodeSelector = from(json!({"nodeSelectorTerms": [{}]}));
    assert!(!node_selector_matches(&empty_term, "n1", &l));
    let no_terms: NodeSelector = from(json!({"nodeSelectorTerms": []}));
    assert!(!node_selector_matches(&no_terms, "n1", &l));
}

#[test]
fn match_fields_select_by_node_name() {
    let l = Labels::new();
    let t = |op: &str, vals: &[&str]| -> NodeSelectorTerm {
        from(json!({"matchFields": [{"key": "metadata.name", "operator": op, "values": vals}]}))
    };
    assert!(term_matches(&t("In", &["n1"]), "n1", &l));
    assert!(!term_matches(&t("In", &["n2"]), "n1", &l));
    assert!(term_matches(&t("NotIn", &["n2"]), "n1", &l));
    assert!(!term_matches(&t("NotIn", &["n1"]), "n1", &l));
    // One value exactly; only metadata.name.
    assert!(!term_matches(&t("In", &["n1", "n2"]), "n1", &l));
    let other: NodeSelectorTerm =
        from(json!({"matchFields": [{"key": "metadata.uid", "operator": "In", "values": ["n1"]}]}));
    assert!(!term_matches(&other, "n1", &l));
}

#[test]
fn topology_terms() {
    let l = labels(json!({"topology.kubernetes.io/zone": "a"}));
    let terms = |v| -> Vec<TopologySelectorTerm> { from(v) };
    assert!(topology_terms_match(&[], &l));
    assert!(topology_terms_match(
        &terms(
            json!([{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["a", "b"]}]}])
        ),
        &l
    ));
    assert!(!topology_terms_match(
        &terms(json!([{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["b"]}]}])),
        &l
    ));
    assert!(!topology_terms_match(&terms(json!([{}])), &l));
    assert!(topology_terms_match(
        &terms(
            json!([{}, {"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["a"]}]}])
        ),
        &l
    ));
}
