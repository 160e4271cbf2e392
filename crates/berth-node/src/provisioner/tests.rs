//! Unit tests of the provisioner's decisions.

use super::decide::*;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p,
    }
}

fn claim(extra: Value) -> PersistentVolumeClaim {
    let mut v = json!({
        "metadata": {"name": "data-web-0", "namespace": "ns", "uid": "1234", "resourceVersion": "7",
                     "annotations": {ANN_STORAGE_PROVISIONER: PROVISIONER, ANN_SELECTED_NODE: "node-1"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Mi"}},
                 "storageClassName": "standard"},
    });
    merge(&mut v, extra);
    serde_json::from_value(v).expect("claim")
}

fn class(extra: Value) -> StorageClass {
    let mut v = json!({"metadata": {"name": "standard"}, "provisioner": PROVISIONER, "parameters": {"driver": "dir"},
                       "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"});
    merge(&mut v, extra);
    serde_json::from_value(v).expect("class")
}

fn me() -> NodeIdentity {
    NodeIdentity {
        name: "node-1".into(),
        zone: None,
    }
}

fn decide(
    c: &PersistentVolumeClaim,
    sc: Option<&StorageClass>,
    exists: bool,
    node: &NodeIdentity,
) -> ClaimDecision {
    decide_claim(c, sc, exists, node, "/data/nodes/node-1/volumes")
}

fn provisioned(d: ClaimDecision) -> Value {
    match d {
        ClaimDecision::Provision(pv) => serde_json::to_value(&*pv).expect("json"),
        other => panic!("expected a provisioning, got {other:?}"),
    }
}

#[test]
fn a_claim_for_this_node_gets_a_local_volume() {
    let pv = provisioned(decide(&claim(json!({})), Some(&class(json!({}))), false, &me()));
    assert_eq!(
        pv,
        json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": "pvc-1234", "annotations": {"pv.kubernetes.io/provisioned-by": "berth.dev/local",
                                                            "berth.dev/driver": "dir"}},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "capacity": {"storage": "100Mi"},
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "data-web-0",
                             "namespace": "ns", "resourceVersion": "7", "uid": "1234"},
                "local": {"path": "/data/nodes/node-1/volumes/pvc-1234"},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}]}]}},
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": "standard",
                "volumeMode": "Filesystem",
            }
        })
    );
}

#[test]
fn image_drivers_report_the_real_capacity_and_their_path() {
    let with = |driver: &str, size: &str| {
        provisioned(decide(
            &claim(json!({"spec": {"resources": {"requests": {"storage": size}}}})),
            Some(&class(json!({"parameters": {"driver": driver}}))),
            false,
            &me(),
        ))
    };
    let ext4 = with("ext4", "100Mi");
    assert_eq!(ext4["spec"]["capacity"]["storage"], "100Mi");
    assert_eq!(ext4["metadata"]["annotations"]["berth.dev/driver"], "ext4");
    assert_eq!(
        ext4["spec"]["local"]["path"],
        "/data/nodes/node-1/volumes/pvc-1234"
    );
    assert_eq!(
        with("ext4", "100M")["spec"]["capacity"]["storage"],
        "96Mi",
        "rounded up to whole MiB"
    );
    assert_eq!(
        with("xfs", "100Mi")["spec"]["capacity"]["storage"],
        "300Mi",
        "xfs's floor"
    );
    assert_eq!(with("xfs", "1Gi")["spec"]["capacity"]["storage"], "1Gi");
    let btrfs = with("btrfs", "64Mi");
    assert_eq!(
        btrfs["spec"]["local"]["path"],
        "/data/nodes/node-1/volumes/btrfs/pvc-1234"
    );
    assert_eq!(btrfs["spec"]["capacity"]["storage"], "64Mi");
    assert_eq!(
        with("dir", "100M")["spec"]["capacity"]["storage"],
        "100M",
        "dir repeats the request"
    );
}

#[test]
fn the_zone_class_policy_and_mount_options_carry_over() {
    let node = NodeIdentity {
        name: "node-1".into(),
        zone: Some("a".into()),
    };
    let sc = class(json!({"reclaimPolicy": "Retain", "mountOptions": ["noatime"]}));
    let pv = provisioned(decide(
        &claim(json!({"spec": {"accessModes": ["ReadWriteOncePod"]}})),
        Some(&sc),
        false,
        &node,
    ));
    assert_eq!(
        pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"],
        json!([{"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]},
               {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a"]}])
    );
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(pv["spec"]["mountOptions"], json!(["noatime"]));
    assert_eq!(pv["spec"]["accessModes"], json!(["ReadWriteOncePod"]));
    let pv = provisioned(decide(
        &claim(json!({})),
        Some(&class(json!({"parameters": null, "reclaimPolicy": null}))),
        false,
        &me(),
    ));
    assert_eq!(
        pv["spec"]["persistentVolumeReclaimPolicy"], "Delete",
        "the API default"
    );
}

#[test]
fn claims_that_are_not_ours_or_done_are_skipped() {
    let sc = class(json!({}));
    let skip =
        |c: PersistentVolumeClaim, exists: bool| decide(&c, Some(&sc), exists, &me()) == ClaimDecision::Skip;
    assert!(skip(claim(json!({})), true), "the volume exists already");
    assert!(skip(
        claim(json!({"metadata": {"annotations": {ANN_SELECTED_NODE: "node-2"}}})),
        false
    ));
    assert!(skip(
        claim(json!({"metadata": {"annotations": {ANN_SELECTED_NODE: null}}})),
        false
    ));
    assert!(skip(
        claim(json!({"metadata": {"annotations": {ANN_STORAGE_PROVISIONER: "example.com/x"}}})),
        false
    ));
    assert!(skip(claim(json!({"spec": {"volumeName": "v"}})), false));
    assert!(skip(
        claim(json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}})),
        false
    ));
    assert!(
        decide(&claim(json!({})), None, false, &me()) == ClaimDecision::Skip,
        "no class"
    );
    let other = class(json!({"provisioner": "example.com/x"}));
    assert!(decide(&claim(json!({})), Some(&other), false, &me()) == ClaimDecision::Skip);
    // The beta annotation is honoured.
    let beta = claim(
        json!({"metadata": {"annotations": {ANN_STORAGE_PROVISIONER: null, ANN_BETA_STORAGE_PROVISIONER: PROVISIONER}}}),
    );
    assert!(!skip(beta, false));
}

#[test]
fn unsupported_requests_fail_with_a_reason() {
    let fail = |c: PersistentVolumeClaim, sc: StorageClass| match decide(&c, Some(&sc), false, &me()) {
        ClaimDecision::Fail(m) => m,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert_eq!(
        fail(claim(json!({})), class(json!({"parameters": {"driver": "zfs"}}))),
        "failed to provision volume with StorageClass \"standard\": driver \"zfs\" is not supported yet by berth.dev/local (supported: dir, ext4, xfs, btrfs)"
    );
    assert_eq!(
        fail(
            claim(json!({"spec": {"selector": {"matchLabels": {"a": "b"}}}})),
            class(json!({}))
        ),
        "failed to provision volume with StorageClass \"standard\": claim Selector is not supported"
    );
    assert!(
        fail(claim(json!({"spec": {"volumeMode": "Block"}})), class(json!({})))
            .ends_with("volumeMode \"Block\" is not supported by the dir driver")
    );
}

fn volume(extra: Value) -> PersistentVolume {
    let mut v = json!({
        "metadata": {"name": "pvc-1234", "annotations": {ANN_PROVISIONED_BY: PROVISIONER}},
        "spec": {"persistentVolumeReclaimPolicy": "Delete", "capacity": {"storage": "1Gi"},
                 "local": {"path": "/x"},
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}]}]}}},
        "status": {"phase": "Released"}
    });
    merge(&mut v, extra);
    serde_json::from_value(v).expect("pv")
}

#[test]
fn only_this_nodes_released_delete_volumes_are_deleted() {
    assert!(should_delete(&volume(json!({})), "node-1"));
    assert!(
        !should_delete(&volume(json!({})), "node-2"),
        "another node's volume"
    );
    assert!(!should_delete(
        &volume(json!({"status": {"phase": "Bound"}})),
        "node-1"
    ));
    assert!(!should_delete(
        &volume(json!({"status": {"phase": "Failed"}})),
        "node-1"
    ));
    assert!(!should_delete(
        &volume(json!({"spec": {"persistentVolumeReclaimPolicy": "Retain"}})),
        "node-1"
    ));
    assert!(!should_delete(
        &volume(json!({"metadata": {"annotations": {ANN_PROVISIONED_BY: "other"}}})),
        "node-1"
    ));
    assert!(
        !should_delete(&volume(json!({"metadata": {"annotations": null}})), "node-1"),
        "a pre-made volume"
    );
    assert!(
        !should_delete(
            &volume(json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}})),
            "node-1"
        ),
        "deletion already issued"
    );
}

#[test]
fn the_start_up_sweep_removes_only_unfinished_provisionings() {
    let entries: Vec<String> = [
        "pvc-a",
        "pvc-a.provisioning",
        "pvc-b",
        "pvc-b.provisioning",
        "pvc-c",
        "notes",
        "x.provisioning",
        "pvc-d.provisioning",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let volumes: BTreeSet<String> = ["pvc-b".to_string()].into();
    let s = sweep(&entries, &volumes);
    assert_eq!(
        s.remove_dirs,
        ["pvc-a", "pvc-d"],
        "pvc-c (no marker) may hold a retained volume's data; pvc-d's data may be an image"
    );
    assert_eq!(
        s.remove_markers,
        ["pvc-a.provisioning", "pvc-b.provisioning", "pvc-d.provisioning"]
    );
    assert!(is_plain_name("pvc-1"));
    assert!(!is_plain_name(".."));
    assert!(!is_plain_name("a/b"));
    assert!(!is_plain_name(""));
}
