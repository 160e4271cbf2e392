//! Tests for names, ordinals, claims and pod building (items 28–38).
#![allow(clippy::unwrap_used)]

use super::*;
use k8s_openapi::api::apps::v1::StatefulSet;
use serde_json::json;

#[test]
fn item_29_parent_and_ordinal_parsing() {
    assert_eq!(parent_and_ordinal("web-0"), Some(("web", 0)));
    assert_eq!(parent_and_ordinal("my-db-12"), Some(("my-db", 12)));
    assert_eq!(parent_and_ordinal("web-"), None);
    assert_eq!(parent_and_ordinal("web"), None);
    assert_eq!(parent_and_ordinal("web0"), None);
    assert_eq!(
        parent_and_ordinal("web-99999999999"),
        None,
        "not a 32-bit ordinal"
    );
    assert_eq!(parent_and_ordinal("-3"), Some(("", 3)));
}

#[test]
fn items_37_38_claims_and_new_pod() {
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db", "namespace": "ns", "uid": "u"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "",
            "template": {"metadata": {"labels": {"app": "db"}, "finalizers": ["f"]}, "spec": {"containers": []}},
            "volumeClaimTemplates": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b", "labels": {"app": "x", "k": "v"}}}]}
    }))
    .unwrap();
    let view = SetView::new(&set);
    let claims = claims_for(&view, 4);
    assert_eq!(claims[0].1.metadata.name.as_deref(), Some("a-db-4"));
    assert_eq!(claims[0].1.metadata.labels.as_ref().unwrap()["app"], "db");
    let l = claims[1].1.metadata.labels.as_ref().unwrap();
    assert_eq!((l["app"].as_str(), l["k"].as_str()), ("db", "v"));
    let tmpl = set.spec.as_ref().unwrap().template.clone();
    let pod = new_pod(&view, &tmpl, "db-abc", 4);
    assert_eq!(pod.metadata.finalizers, Some(vec!["f".to_string()]));
    assert_eq!(pod.spec.as_ref().unwrap().subdomain, None, "empty serviceName");
    assert!(identity_matches(&view, &pod) && storage_matches(&view, &pod));
    let vols: Vec<&str> = pod
        .spec
        .as_ref()
        .unwrap()
        .volumes
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(vols, ["a", "b"]);
}
