//! Tests for claim owner references per retention policy (items 91–97).
#![allow(clippy::unwrap_used)]

use super::*;
use k8s_openapi::api::apps::v1::StatefulSet;
use serde_json::json;

fn setup() -> (SetView, Pod) {
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "web", "uid": "set-uid"},
        "spec": {"selector": {}, "template": {}}
    }))
    .unwrap();
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "web-1", "uid": "pod-uid"}})).unwrap();
    (SetView::new(&set), pod)
}

fn kinds(refs: &[OwnerReference]) -> Vec<&str> {
    refs.iter().map(|r| r.kind.as_str()).collect()
}

#[test]
fn item_91_desired_refs_table() {
    let (set, pod) = setup();
    let claim = PersistentVolumeClaim::default();
    // (whenDeleted, whenScaled, in range) -> owner kinds
    let table: [(bool, bool, bool, &[&str]); 8] = [
        (false, false, true, &[]),
        (false, false, false, &[]),
        (true, false, true, &["StatefulSet"]),
        (true, false, false, &["StatefulSet"]),
        (false, true, true, &[]),
        (false, true, false, &["Pod"]),
        (true, true, true, &["StatefulSet"]),
        (true, true, false, &["Pod"]),
    ];
    for (wd, ws, in_range, want) in table {
        let policy = Retention {
            when_deleted_delete: wd,
            when_scaled_delete: ws,
        };
        let refs = desired_refs(&claim, policy, Owner::set(&set), Owner::pod(&pod), in_range);
        assert_eq!(kinds(&refs), want, "{wd} {ws} {in_range}");
        let mut fixed = claim.clone();
        fixed.metadata.owner_references = Some(refs.clone());
        assert!(is_up_to_date(
            &fixed,
            policy,
            Owner::set(&set),
            Owner::pod(&pod),
            in_range
        ));
        assert_eq!(
            is_up_to_date(&claim, policy, Owner::set(&set), Owner::pod(&pod), in_range),
            want.is_empty()
        );
        assert!(
            refs.iter()
                .all(|r| r.controller == Some(true) && r.block_owner_deletion == Some(true))
        );
    }
}

#[test]
fn items_95_97_stale_refs_and_foreign_owners() {
    let (set, pod) = setup();
    let policy = Retention {
        when_deleted_delete: true,
        when_scaled_delete: true,
    };
    let stale: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "old"}]}}))
    .unwrap();
    assert!(
        is_up_to_date(&stale, policy, Owner::set(&set), Owner::pod(&pod), true),
        "stale: left alone"
    );
    let new_pod = Pod {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("web-1".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let pod_ref: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "Pod", "name": "web-1", "uid": "gone"}]}}))
    .unwrap();
    assert!(claim_is_stale(&pod_ref, policy, Owner::pod(&new_pod)));
    assert!(!claim_is_stale(
        &pod_ref,
        Retention {
            when_deleted_delete: true,
            when_scaled_delete: false
        },
        Owner::pod(&new_pod)
    ));
    let foreign: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "cm"}]}}))
    .unwrap();
    let refs = desired_refs(&foreign, policy, Owner::set(&set), Owner::pod(&pod), true);
    assert_eq!(kinds(&refs), ["ConfigMap", "StatefulSet"]);
    let controlled: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "cm", "controller": true}]}}))
    .unwrap();
    assert!(has_unexpected_controller(
        &controlled,
        policy,
        Owner::set(&set),
        Owner::pod(&pod)
    ));
    assert!(!has_unexpected_controller(
        &controlled,
        Retention::default(),
        Owner::set(&set),
        Owner::pod(&pod)
    ));
    assert!(is_up_to_date(
        &controlled,
        policy,
        Owner::set(&set),
        Owner::pod(&pod),
        true
    ));
    assert_eq!(
        kinds(&desired_refs(
            &controlled,
            policy,
            Owner::set(&set),
            Owner::pod(&pod),
            true
        )),
        ["ConfigMap"]
    );
}
