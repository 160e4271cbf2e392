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

#[test]
fn item_35_names_match_only_as_kubernetes_formats_them() {
    // `identityMatches` compares with the name Kubernetes builds (`fmt.Sprintf("%s-%d")`), so
    // a leading zero or sign is a different pod, and a claim name must be exact too.
    for (name, ord, want) in [
        ("web-0", 0, true),
        ("web-12", 12, true),
        ("web-012", 12, false),
        ("web-00", 0, false),
        ("web-+1", 1, false),
        ("web-1", 2, false),
        ("webx-1", 1, false),
        ("web1", 1, false),
    ] {
        assert_eq!(is_pod_name(name, "web", ord), want, "{name}");
        assert_eq!(name == pod_name("web", ord), want, "{name} as built");
        let claim = format!("data-{name}");
        assert_eq!(is_claim_name(&claim, "data", "web", ord), want, "{claim}");
    }
    assert!(!is_claim_name("data-web-1", "dat", "web", 1));
    assert!(!is_claim_name("datax-web-1", "data", "web", 1));
}

#[test]
fn item_78_pod_state_and_facts_agree_with_the_predicates() {
    let now = Timestamp::now();
    let long_ago = now.checked_sub(SignedDuration::from_secs(60)).unwrap();
    let pod = |phase: &str, ready: &str, rev: &str, deleting: bool| -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web-0", "labels": {REVISION_LABEL: rev},
                "deletionTimestamp": deleting.then_some("2026-01-01T00:00:00Z")},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready,
                "lastTransitionTime": long_ago.to_string()}]}
        }))
        .unwrap()
    };
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "u"},
        "spec": {"selector": {}, "serviceName": "", "template": {}}
    }))
    .unwrap();
    let view = SetView::new(&set);
    for phase in ["", "Pending", "Running", "Succeeded", "Failed"] {
        for ready in ["True", "False"] {
            for rev in ["a", "b", "c"] {
                for deleting in [false, true] {
                    for mrs in [0, 30, 120] {
                        let p = pod(phase, ready, rev, deleting);
                        let s = PodState::of(&p, mrs, now, "a", "b");
                        assert_eq!(s.created, is_created(&p));
                        assert_eq!(s.pending, is_pending(&p));
                        assert_eq!(s.finished, is_finished(&p));
                        assert_eq!(s.terminating, is_terminating(&p));
                        assert_eq!(s.running_and_ready, is_running_and_ready(&p));
                        assert_eq!(s.available, is_available(&p, mrs, now));
                        assert_eq!(s.healthy(), is_healthy(&p));
                        assert_eq!(s.unavailable(), is_unavailable(&p, mrs, now));
                        assert_eq!((s.at_current, s.at_update), (rev == "a", rev == "b"));
                        let facts = PodFacts::of(&view, &p);
                        assert_eq!(facts.state(mrs, now, "a", "b"), s, "facts of {p:?}");
                        assert_eq!(facts.ordinal, Some(0));
                    }
                }
            }
        }
    }
}
