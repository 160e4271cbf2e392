//! Unit tests of the PV controller's matching rules and decisions.

use super::matching::*;
use super::plan::*;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_000).expect("timestamp")
}

fn pv(name: &str, size: &str, extra: Value) -> PersistentVolume {
    let mut v = json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "1"},
        "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": "/tmp/x"}},
        "status": {"phase": "Available"}
    });
    merge(&mut v, extra);
    serde_json::from_value(v).expect("pv")
}

fn pvc(name: &str, size: &str, extra: Value) -> PersistentVolumeClaim {
    let mut v = json!({
        "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "resourceVersion": "1",
                     "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}, "storageClassName": ""},
        "status": {"phase": "Pending"}
    });
    merge(&mut v, extra);
    serde_json::from_value(v).expect("pvc")
}

fn class(name: &str, provisioner: &str, mode: &str, extra: Value) -> StorageClass {
    let mut v = json!({"metadata": {"name": name}, "provisioner": provisioner, "volumeBindingMode": mode,
                       "reclaimPolicy": "Delete"});
    merge(&mut v, extra);
    serde_json::from_value(v).expect("class")
}

fn node(name: &str, ready: bool, labels: Value) -> Node {
    let mut l = json!({"kubernetes.io/hostname": name});
    merge(&mut l, labels);
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": l},
        "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
    }))
    .expect("node")
}

/// JSON merge patch semantics (null deletes).
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

fn world(
    volumes: Vec<PersistentVolume>,
    claims: Vec<PersistentVolumeClaim>,
    classes: Vec<StorageClass>,
) -> World {
    World {
        volumes: volumes
            .into_iter()
            .map(|v| (v.metadata.name.clone().unwrap_or_default(), v))
            .collect(),
        claims: claims
            .into_iter()
            .map(|c| {
                let key = claim_key(
                    c.metadata.namespace.as_deref().unwrap_or(""),
                    c.metadata.name.as_deref().unwrap_or(""),
                );
                (key, c)
            })
            .collect(),
        classes: classes
            .into_iter()
            .map(|c| (c.metadata.name.clone().unwrap_or_default(), c))
            .collect(),
        nodes: BTreeMap::new(),
        pods: vec![],
    }
}

fn with_nodes(mut w: World, nodes: Vec<Node>) -> World {
    w.nodes = nodes
        .into_iter()
        .map(|n| (n.metadata.name.clone().unwrap_or_default(), n))
        .collect();
    w
}

fn best<'a>(claim: &PersistentVolumeClaim, vols: &'a [PersistentVolume]) -> Option<&'a str> {
    let refs: Vec<&PersistentVolume> = vols.iter().collect();
    find_best_match(claim, &refs, None, false)
        .expect("match")
        .and_then(|v| v.metadata.name.as_deref())
}

fn events(plan: &Plan) -> Vec<(&'static str, &'static str, String)> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::Event(e) => Some((e.type_, e.reason, e.message.clone())),
            _ => None,
        })
        .collect()
}

fn writes(plan: &Plan) -> Vec<&'static str> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateVolume(_) => Some("volume"),
            Action::UpdateVolumeStatus(_) => Some("volume/status"),
            Action::UpdateClaim(_) => Some("claim"),
            Action::UpdateClaimStatus(_) => Some("claim/status"),
            Action::Event(_) => None,
        })
        .collect()
}

fn updated_claim(plan: &Plan) -> &PersistentVolumeClaim {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::UpdateClaim(c) => Some(&**c),
            _ => None,
        })
        .expect("a claim update")
}

fn claim_status(plan: &Plan) -> &PersistentVolumeClaim {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::UpdateClaimStatus(c) => Some(&**c),
            _ => None,
        })
        .expect("a claim status update")
}

fn updated_volume(plan: &Plan) -> &PersistentVolume {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::UpdateVolume(v) => Some(&**v),
            _ => None,
        })
        .expect("a volume update")
}

fn volume_status(plan: &Plan) -> &PersistentVolume {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::UpdateVolumeStatus(v) => Some(&**v),
            _ => None,
        })
        .expect("a volume status update")
}

fn ann<'a>(meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, k: &str) -> Option<&'a str> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(k))
        .map(String::as_str)
}

fn phase_of_volume(v: &PersistentVolume) -> &str {
    v.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

// ---- matching ----

#[test]
fn the_beta_annotation_names_the_class_before_the_field() {
    let c = pvc(
        "c",
        "1Gi",
        json!({"metadata": {"annotations": {ANN_BETA_STORAGE_CLASS: "beta"}},
                                   "spec": {"storageClassName": "field"}}),
    );
    assert_eq!(claim_class(&c), "beta");
    assert_eq!(
        claim_class(&pvc("c", "1Gi", json!({"spec": {"storageClassName": null}}))),
        ""
    );
    let v = pv("v", "1Gi", json!({"spec": {"storageClassName": "fast"}}));
    assert_eq!(volume_class(&v), "fast");
}

#[test]
fn the_smallest_volume_that_fits_wins() {
    let c = pvc("c", "5Gi", json!({}));
    let vols = vec![
        pv("big", "10Gi", json!({})),
        pv("fit", "5Gi", json!({})),
        pv("small", "1Gi", json!({})),
    ];
    assert_eq!(best(&c, &vols), Some("fit"));
    let c = pvc("c", "5120Mi", json!({}));
    assert_eq!(best(&c, &vols), Some("fit"), "quantities compare semantically");
    let c = pvc("c", "20Gi", json!({}));
    assert_eq!(best(&c, &vols), None);
}

#[test]
fn access_modes_must_be_a_superset_and_fewer_modes_are_preferred() {
    let rwx = pvc("c", "1Gi", json!({"spec": {"accessModes": ["ReadWriteMany"]}}));
    let vols = vec![
        pv("rwo", "1Gi", json!({})),
        pv(
            "both-small",
            "1Gi",
            json!({"spec": {"accessModes": ["ReadWriteOnce", "ReadWriteMany"]}}),
        ),
    ];
    assert_eq!(best(&rwx, &vols), Some("both-small"));
    let rwo = pvc("c", "1Gi", json!({}));
    let vols = vec![
        pv(
            "both",
            "1Gi",
            json!({"spec": {"accessModes": ["ReadWriteOnce", "ReadOnlyMany"]}}),
        ),
        pv("rwo-big", "9Gi", json!({})),
    ];
    assert_eq!(
        best(&rwo, &vols),
        Some("rwo-big"),
        "the exact mode set is tried before larger ones"
    );
}

#[test]
fn class_volume_mode_phase_selector_and_deletion_filter_candidates() {
    let c = pvc("c", "1Gi", json!({}));
    assert_eq!(
        best(
            &c,
            &[pv("v", "1Gi", json!({"spec": {"storageClassName": "fast"}}))]
        ),
        None
    );
    assert_eq!(
        best(&c, &[pv("v", "1Gi", json!({}))]),
        Some("v"),
        "\"\" matches a volume without class"
    );
    let fast = pvc("c", "1Gi", json!({"spec": {"storageClassName": "fast"}}));
    assert_eq!(best(&fast, &[pv("v", "1Gi", json!({}))]), None);
    assert_eq!(
        best(&c, &[pv("v", "1Gi", json!({"spec": {"volumeMode": "Block"}}))]),
        None
    );
    let block = pvc("c", "1Gi", json!({"spec": {"volumeMode": "Block"}}));
    assert_eq!(
        best(
            &block,
            &[pv("v", "1Gi", json!({"spec": {"volumeMode": "Block"}}))]
        ),
        Some("v")
    );
    assert_eq!(
        best(&c, &[pv("v", "1Gi", json!({"status": {"phase": "Released"}}))]),
        None
    );
    assert_eq!(
        best(
            &c,
            &[pv(
                "v",
                "1Gi",
                json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}})
            )]
        ),
        None
    );
    let sel = pvc(
        "c",
        "1Gi",
        json!({"spec": {"selector": {"matchLabels": {"tier": "gold"}}}}),
    );
    let vols = vec![
        pv("plain", "1Gi", json!({})),
        pv("gold", "2Gi", json!({"metadata": {"labels": {"tier": "gold"}}})),
    ];
    assert_eq!(best(&sel, &vols), Some("gold"));
    let expr = pvc(
        "c",
        "1Gi",
        json!({"spec": {"selector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}}}),
    );
    assert_eq!(best(&expr, &vols), Some("plain"));
}

#[test]
fn volumes_claimed_by_others_are_skipped_and_prebound_ones_win() {
    let c = pvc("c", "1Gi", json!({}));
    let other = pv(
        "other",
        "1Gi",
        json!({"spec": {"claimRef": {"namespace": "ns", "name": "x", "uid": "u"}}}),
    );
    assert_eq!(best(&c, &[other]), None);
    // Pre-bound by name only (no uid), larger and even not Available: it is the claim's.
    let pre = pv(
        "pre",
        "9Gi",
        json!({"spec": {"claimRef": {"namespace": "ns", "name": "c"}}, "status": {"phase": "Pending"}}),
    );
    assert_eq!(best(&c, &[pv("fit", "1Gi", json!({})), pre.clone()]), Some("pre"));
    let stale = pv(
        "stale",
        "1Gi",
        json!({"spec": {"claimRef": {"namespace": "ns", "name": "c", "uid": "old"}}}),
    );
    assert_eq!(
        best(&c, &[stale]),
        None,
        "a claimRef with another uid is someone else's"
    );
    let refs = vec![&pre];
    assert!(
        find_best_match(&c, &refs, None, true).expect("ok").is_some(),
        "pre-bound volumes bind even for delayed binding"
    );
    let free = pv("free", "1Gi", json!({}));
    assert!(find_best_match(&c, &[&free], None, true).expect("ok").is_none());
}

#[test]
fn node_affinity_decides_with_a_target_node() {
    let labels: BTreeMap<String, String> = [("kubernetes.io/hostname".to_string(), "n1".to_string())].into();
    let on = |host: &str| {
        pv(
            "v",
            "1Gi",
            json!({"spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]}]}}}}),
        )
    };
    let c = pvc("c", "1Gi", json!({}));
    let target = TargetNode {
        name: "n1",
        labels: &labels,
    };
    let here = on("n1");
    let there = on("n2");
    assert!(
        find_best_match(&c, &[&here], Some(target), true)
            .expect("ok")
            .is_some()
    );
    assert!(
        find_best_match(&c, &[&there], Some(target), true)
            .expect("ok")
            .is_none()
    );
    let pre = pv(
        "pre",
        "1Gi",
        json!({"spec": {"claimRef": {"namespace": "ns", "name": "c"},
          "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n2"]}]}]}}}}),
    );
    let other = on("n1");
    assert!(
        find_best_match(&c, &[&pre, &other], Some(target), true)
            .expect("ok")
            .is_none(),
        "a pre-bound volume that does not fit the node means no match"
    );
}

#[test]
fn node_selector_operators() {
    let labels: BTreeMap<String, String> = [
        ("kubernetes.io/hostname".to_string(), "n1".to_string()),
        ("disks".to_string(), "4".to_string()),
    ]
    .into();
    let with = |expr: Value, fields: Value| {
        pv(
            "v",
            "1Gi",
            json!({"spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
                {"matchExpressions": expr, "matchFields": fields}]}}}}),
        )
    };
    let case = |op: &str, key: &str, values: Value| {
        node_affinity_fits(
            &with(json!([{"key": key, "operator": op, "values": values}]), json!([])),
            "n1",
            &labels,
        )
    };
    assert!(case("In", "disks", json!(["4", "5"])));
    assert!(!case("In", "disks", json!(["5"])));
    assert!(case("NotIn", "disks", json!(["5"])));
    assert!(case("NotIn", "absent", json!(["5"])));
    assert!(case("Exists", "disks", json!(null)));
    assert!(!case("Exists", "absent", json!(null)));
    assert!(case("DoesNotExist", "absent", json!(null)));
    assert!(case("Gt", "disks", json!(["3"])));
    assert!(!case("Gt", "disks", json!(["4"])));
    assert!(case("Lt", "disks", json!(["5"])));
    let fields = |name: &str| {
        with(
            json!([]),
            json!([{"key": "metadata.name", "operator": "In", "values": [name]}]),
        )
    };
    assert!(node_affinity_fits(&fields("n1"), "n1", &labels));
    assert!(!node_affinity_fits(&fields("n2"), "n1", &labels));
    assert!(
        !node_affinity_fits(&with(json!([]), json!([])), "n1", &labels),
        "an empty term matches nothing"
    );
    assert!(
        node_affinity_fits(&pv("v", "1Gi", json!({})), "n1", &labels),
        "no affinity fits everywhere"
    );
}

#[test]
fn allowed_topologies_and_default_class() {
    let labels: BTreeMap<String, String> =
        [("topology.kubernetes.io/zone".to_string(), "a".to_string())].into();
    let sc = class(
        "z",
        "p",
        "Immediate",
        json!({"allowedTopologies": [{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["b", "a"]}]}]}),
    );
    assert!(topology_allows(sc.allowed_topologies.as_ref(), &labels));
    assert!(!topology_allows(sc.allowed_topologies.as_ref(), &BTreeMap::new()));
    assert!(topology_allows(None, &BTreeMap::new()));
    let default = |name: &str, at: &str| {
        class(
            name,
            "p",
            "Immediate",
            json!({"metadata": {"creationTimestamp": at,
                   "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}),
        )
    };
    let old = default("old", "2024-01-01T00:00:00Z");
    let new = default("new", "2024-02-01T00:00:00Z");
    let plain = class(
        "plain",
        "p",
        "Immediate",
        json!({"metadata": {"creationTimestamp": "2025-01-01T00:00:00Z"}}),
    );
    assert_eq!(default_class(&[&old, &new, &plain]).as_deref(), Some("new"));
    assert_eq!(default_class(&[&plain]), None);
}

// ---- claims ----

#[test]
fn an_unbound_claim_binds_to_a_matching_volume() {
    let w = world(
        vec![pv("v", "2Gi", json!({}))],
        vec![pvc("c", "1Gi", json!({}))],
        vec![],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        writes(&plan),
        ["volume", "volume/status", "claim", "claim/status"]
    );
    let v = updated_volume(&plan);
    let r = v
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .expect("claimRef");
    assert_eq!(
        (
            r.kind.as_deref(),
            r.namespace.as_deref(),
            r.name.as_deref(),
            r.uid.as_deref()
        ),
        (
            Some("PersistentVolumeClaim"),
            Some("ns"),
            Some("c"),
            Some("uid-c")
        )
    );
    assert_eq!(
        ann(&v.metadata, "pv.kubernetes.io/bound-by-controller"),
        Some("yes")
    );
    let vs = volume_status(&plan);
    assert_eq!(phase_of_volume(vs), "Bound");
    assert!(
        vs.status
            .as_ref()
            .and_then(|s| s.last_phase_transition_time.as_ref())
            .is_some()
    );
    let c = updated_claim(&plan);
    assert_eq!(c.spec.as_ref().and_then(|s| s.volume_name.as_deref()), Some("v"));
    assert_eq!(ann(&c.metadata, "pv.kubernetes.io/bind-completed"), Some("yes"));
    assert_eq!(
        ann(&c.metadata, "pv.kubernetes.io/bound-by-controller"),
        Some("yes")
    );
    let s = claim_status(&plan).status.as_ref().expect("status");
    assert_eq!(s.phase.as_deref(), Some("Bound"));
    assert_eq!(
        s.access_modes.as_deref(),
        Some(&["ReadWriteOnce".to_string()][..])
    );
    assert_eq!(
        s.capacity
            .as_ref()
            .and_then(|c| c.get("storage"))
            .map(|q| q.0.as_str()),
        Some("2Gi")
    );
    assert!(plan.error.is_none());
}

#[test]
fn a_fully_bound_pair_needs_no_writes() {
    let v = pv(
        "v",
        "1Gi",
        json!({"metadata": {"annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}},
               "spec": {"claimRef": {"namespace": "ns", "name": "c", "uid": "uid-c"}}, "status": {"phase": "Bound"}}),
    );
    let c = pvc(
        "c",
        "1Gi",
        json!({"metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"}},
               "spec": {"volumeName": "v"},
               "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1024Mi"}}}),
    );
    let w = world(vec![v], vec![c], vec![]);
    assert_eq!(sync_claim(&w.claims["ns/c"], &w, now()), Plan::default());
    assert_eq!(sync_volume(&w.volumes["v"], &w, now()), Plan::default());
}

#[test]
fn a_volume_prebound_by_the_user_is_not_marked_bound_by_controller() {
    let v = pv(
        "v",
        "5Gi",
        json!({"spec": {"claimRef": {"namespace": "ns", "name": "c"}}}),
    );
    let w = world(
        vec![v, pv("small", "1Gi", json!({}))],
        vec![pvc("c", "1Gi", json!({}))],
        vec![],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    let v = updated_volume(&plan);
    assert_eq!(v.metadata.name.as_deref(), Some("v"));
    assert_eq!(ann(&v.metadata, "pv.kubernetes.io/bound-by-controller"), None);
    assert_eq!(
        v.spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .and_then(|r| r.uid.as_deref()),
        Some("uid-c")
    );
    let c = updated_claim(&plan);
    assert_eq!(
        ann(&c.metadata, "pv.kubernetes.io/bound-by-controller"),
        Some("yes")
    );
}

#[test]
fn a_claim_naming_its_volume() {
    // Available and fitting: bound; the claim's side was the user's.
    let w = world(
        vec![pv("v", "1Gi", json!({}))],
        vec![pvc("c", "1Gi", json!({"spec": {"volumeName": "v"}}))],
        vec![],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        writes(&plan),
        ["volume", "volume/status", "claim", "claim/status"]
    );
    assert_eq!(
        ann(
            &updated_volume(&plan).metadata,
            "pv.kubernetes.io/bound-by-controller"
        ),
        Some("yes")
    );
    let c = updated_claim(&plan);
    assert_eq!(ann(&c.metadata, "pv.kubernetes.io/bound-by-controller"), None);
    assert_eq!(ann(&c.metadata, "pv.kubernetes.io/bind-completed"), Some("yes"));

    // Missing: stays Pending, nothing to write.
    let w = world(
        vec![],
        vec![pvc("c", "1Gi", json!({"spec": {"volumeName": "v"}}))],
        vec![],
    );
    assert_eq!(sync_claim(&w.claims["ns/c"], &w, now()), Plan::default());

    // Too small: VolumeMismatch.
    let w = world(
        vec![pv("v", "1Gi", json!({}))],
        vec![pvc("c", "2Gi", json!({"spec": {"volumeName": "v"}}))],
        vec![],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Warning",
            "VolumeMismatch",
            "Cannot bind to requested volume \"v\": requested PV is too small".to_string()
        )]
    );
    assert!(writes(&plan).is_empty());
    for (vol, claim, why) in [
        (
            json!({"spec": {"storageClassName": "x"}}),
            json!({}),
            "storageClassName does not match",
        ),
        (
            json!({"spec": {"volumeMode": "Block"}}),
            json!({}),
            "incompatible volumeMode",
        ),
        (
            json!({}),
            json!({"spec": {"accessModes": ["ReadWriteMany"]}}),
            "incompatible accessMode",
        ),
    ] {
        let mut claim_extra = json!({"spec": {"volumeName": "v"}});
        merge(&mut claim_extra, claim);
        let w = world(
            vec![pv("v", "1Gi", vol)],
            vec![pvc("c", "1Gi", claim_extra)],
            vec![],
        );
        let plan = sync_claim(&w.claims["ns/c"], &w, now());
        assert_eq!(
            events(&plan)[0].2,
            format!("Cannot bind to requested volume \"v\": {why}")
        );
    }

    // Bound to another claim.
    let w = world(
        vec![pv(
            "v",
            "1Gi",
            json!({"spec": {"claimRef": {"namespace": "ns", "name": "other", "uid": "x"}}}),
        )],
        vec![pvc(
            "c",
            "1Gi",
            json!({"spec": {"volumeName": "v"}, "status": {"phase": null}}),
        )],
        vec![],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Warning",
            "FailedBinding",
            "volume \"v\" already bound to a different claim.".to_string()
        )]
    );
    assert_eq!(writes(&plan), ["claim/status"]);
    assert_eq!(
        claim_status(&plan)
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref()),
        Some("Pending")
    );
}

#[test]
fn a_claim_without_a_volume_goes_to_its_provisioner() {
    let sc = class("ext", "example.com/ext", "Immediate", json!({}));
    let c = pvc(
        "c",
        "1Gi",
        json!({"spec": {"storageClassName": "ext"}, "status": {"phase": "Bound"}}),
    );
    let w = world(vec![], vec![c], vec![sc]);
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        writes(&plan),
        ["claim"],
        "no status write: the claim's phase is left alone"
    );
    let c = updated_claim(&plan);
    assert_eq!(
        ann(&c.metadata, "volume.kubernetes.io/storage-provisioner"),
        Some("example.com/ext")
    );
    assert_eq!(
        ann(&c.metadata, "volume.beta.kubernetes.io/storage-provisioner"),
        Some("example.com/ext")
    );
    assert_eq!(
        ann(&c.metadata, "volume.kubernetes.io/selected-node"),
        None,
        "only berth.dev/local gets a node"
    );
    assert_eq!(
        events(&plan),
        [(
            "Normal",
            "ExternalProvisioning",
            "Waiting for a volume to be created either by the external provisioner 'example.com/ext' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.".to_string()
        )]
    );
    // Annotated already: only the event.
    let w = world(
        vec![],
        vec![c.clone()],
        vec![class("ext", "example.com/ext", "Immediate", json!({}))],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert!(writes(&plan).is_empty());
    assert_eq!(events(&plan).len(), 1);
}

#[test]
fn provisioning_failures() {
    let c = pvc("c", "1Gi", json!({"spec": {"storageClassName": "gone"}}));
    let w = world(vec![], vec![c], vec![]);
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Warning",
            "ProvisioningFailed",
            "storageclass.storage.k8s.io \"gone\" not found".to_string()
        )]
    );
    let c = pvc("c", "1Gi", json!({"spec": {"storageClassName": "local"}}));
    let w = world(
        vec![],
        vec![c],
        vec![class(
            "local",
            "kubernetes.io/no-provisioner",
            "Immediate",
            json!({}),
        )],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Warning",
            "ProvisioningFailed",
            "no volume plugin matched name: kubernetes.io/no-provisioner".to_string()
        )]
    );
    assert!(writes(&plan).is_empty());
}

#[test]
fn a_claim_without_class_and_volume_fails_binding() {
    let w = world(vec![], vec![pvc("c", "1Gi", json!({}))], vec![]);
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Normal",
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set".to_string()
        )]
    );
    assert!(writes(&plan).is_empty(), "already Pending");
}

#[test]
fn a_claim_with_no_class_at_all_gets_the_default_retroactively() {
    let sc = class(
        "std",
        "berth.dev/local",
        "WaitForFirstConsumer",
        json!({"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}),
    );
    let w = world(
        vec![],
        vec![pvc("c", "1Gi", json!({"spec": {"storageClassName": null}}))],
        vec![sc],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(writes(&plan), ["claim"]);
    assert_eq!(
        updated_claim(&plan)
            .spec
            .as_ref()
            .and_then(|s| s.storage_class_name.as_deref()),
        Some("std")
    );
    assert!(events(&plan).is_empty());
}

#[test]
fn wait_for_first_consumer_claims_wait_for_a_node() {
    let sc = class("std", "berth.dev/local", "WaitForFirstConsumer", json!({}));
    let c = pvc("data-web-0", "1Gi", json!({"spec": {"storageClassName": "std"}}));
    let mut w = world(
        vec![pv("static", "1Gi", json!({"spec": {"storageClassName": "std"}}))],
        vec![c],
        vec![sc],
    );
    let plan = sync_claim(&w.claims["ns/data-web-0"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Normal",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding".to_string()
        )]
    );
    assert!(
        writes(&plan).is_empty(),
        "the static volume is not bound before a node is chosen"
    );
    let pod = |name: &str| -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ns"},
            "spec": {"containers": [], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data-web-0"}}]}}))
        .expect("pod")
    };
    w.pods = vec![std::sync::Arc::new(pod("web-0"))];
    let plan = sync_claim(&w.claims["ns/data-web-0"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Normal",
            "WaitForPodScheduled",
            "waiting for pod web-0 to be scheduled".to_string()
        )]
    );
    w.pods.push(std::sync::Arc::new(pod("web-x")));
    let plan = sync_claim(&w.claims["ns/data-web-0"], &w, now());
    assert_eq!(events(&plan)[0].2, "waiting for pods web-0,web-x to be scheduled");
}

#[test]
fn a_selected_node_binds_a_static_volume_there_or_provisions() {
    let sc = class("std", "berth.dev/local", "WaitForFirstConsumer", json!({}));
    let on = |name: &str, host: &str| {
        pv(
            name,
            "1Gi",
            json!({"spec": {"storageClassName": "std", "nodeAffinity": {"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]}]}}}}),
        )
    };
    let c = pvc(
        "c",
        "1Gi",
        json!({"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "n1"}}, "spec": {"storageClassName": "std"}}),
    );
    let w = with_nodes(
        world(
            vec![on("there", "n2"), on("here", "n1")],
            vec![c.clone()],
            vec![sc.clone()],
        ),
        vec![node("n1", true, json!({})), node("n2", true, json!({}))],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(updated_volume(&plan).metadata.name.as_deref(), Some("here"));

    let w = with_nodes(
        world(vec![on("there", "n2")], vec![c], vec![sc]),
        vec![node("n1", true, json!({})), node("n2", true, json!({}))],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    let updated = updated_claim(&plan);
    assert_eq!(
        ann(&updated.metadata, "volume.kubernetes.io/storage-provisioner"),
        Some("berth.dev/local")
    );
    assert_eq!(
        ann(&updated.metadata, "volume.kubernetes.io/selected-node"),
        Some("n1"),
        "kept"
    );
    assert_eq!(events(&plan)[0].1, "ExternalProvisioning");
}

#[test]
fn immediate_local_claims_get_the_least_loaded_ready_node_in_the_topology() {
    let sc = class(
        "fast",
        "berth.dev/local",
        "Immediate",
        json!({"allowedTopologies": [{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["a"]}]}]}),
    );
    let on = |name: &str, host: &str| {
        pv(
            name,
            "1Gi",
            json!({"spec": {"storageClassName": "other", "nodeAffinity": {"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]}]}}}}),
        )
    };
    let c = pvc("c", "1Gi", json!({"spec": {"storageClassName": "fast"}}));
    let nodes = vec![
        node("n1", true, json!({"topology.kubernetes.io/zone": "a"})),
        node("n2", true, json!({"topology.kubernetes.io/zone": "a"})),
        node("n3", true, json!({"topology.kubernetes.io/zone": "b"})),
        node("n4", false, json!({"topology.kubernetes.io/zone": "a"})),
    ];
    let w = with_nodes(
        world(vec![on("x", "n1")], vec![c.clone()], vec![sc.clone()]),
        nodes.clone(),
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        ann(
            &updated_claim(&plan).metadata,
            "volume.kubernetes.io/selected-node"
        ),
        Some("n2")
    );
    // A claim already headed to n2 counts too.
    let pending = pvc(
        "p",
        "1Gi",
        json!({"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "n2"}}, "spec": {"storageClassName": "fast"}}),
    );
    let w = with_nodes(world(vec![], vec![c.clone(), pending], vec![sc.clone()]), nodes);
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        ann(
            &updated_claim(&plan).metadata,
            "volume.kubernetes.io/selected-node"
        ),
        Some("n1")
    );
    // No node fits.
    let w = with_nodes(
        world(vec![], vec![c], vec![sc]),
        vec![node("n3", true, json!({"topology.kubernetes.io/zone": "b"}))],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert!(writes(&plan).is_empty());
    assert_eq!(
        events(&plan),
        [(
            "Warning",
            "ProvisioningFailed",
            "no Ready node satisfies the allowedTopologies of StorageClass \"fast\"".to_string()
        )]
    );
}

#[test]
fn a_provisioned_volume_prebound_to_the_claim_is_bound_even_for_delayed_binding() {
    let sc = class("std", "berth.dev/local", "WaitForFirstConsumer", json!({}));
    let c = pvc(
        "c",
        "1Gi",
        json!({"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "gone-node"}}, "spec": {"storageClassName": "std"}}),
    );
    let v = pv(
        "pvc-uid-c",
        "1Gi",
        json!({"metadata": {"annotations": {"pv.kubernetes.io/provisioned-by": "berth.dev/local"}},
               "spec": {"storageClassName": "std", "claimRef": {"namespace": "ns", "name": "c", "uid": "uid-c"}},
               "status": {"phase": "Pending"}}),
    );
    let w = world(vec![v], vec![c], vec![sc]);
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(writes(&plan), ["volume/status", "claim", "claim/status"]);
    assert_eq!(
        ann(
            &updated_claim(&plan).metadata,
            "pv.kubernetes.io/bound-by-controller"
        ),
        Some("yes")
    );
}

#[test]
fn bound_claims_that_lose_their_volume_are_lost() {
    let bound = |extra: Value| {
        let mut e = json!({"metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes"}},
                           "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}});
        merge(&mut e, extra);
        pvc("c", "1Gi", e)
    };
    let w = world(vec![], vec![bound(json!({}))], vec![]);
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Warning",
            "ClaimLost",
            "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!".to_string()
        )]
    );
    let s = claim_status(&plan).status.as_ref().expect("status");
    assert_eq!(
        (s.phase.as_deref(), s.capacity.is_none(), s.access_modes.is_none()),
        (Some("Lost"), true, true)
    );
    let w = world(vec![], vec![bound(json!({"spec": {"volumeName": "v"}}))], vec![]);
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        events(&plan)[0].2,
        "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
    );
    let w = world(
        vec![],
        vec![bound(
            json!({"spec": {"volumeName": "v"}, "status": {"phase": "Lost"}}),
        )],
        vec![],
    );
    assert_eq!(
        sync_claim(&w.claims["ns/c"], &w, now()),
        Plan::default(),
        "Lost is terminal and quiet"
    );
    let w = world(
        vec![pv(
            "v",
            "1Gi",
            json!({"spec": {"claimRef": {"namespace": "ns", "name": "c", "uid": "other"}}}),
        )],
        vec![bound(json!({"spec": {"volumeName": "v"}}))],
        vec![],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(
        events(&plan),
        [(
            "Warning",
            "ClaimMisbound",
            "Two claims are bound to the same volume, this one is bound incorrectly".to_string()
        )]
    );
    // The volume lost its claimRef: bound again.
    let w = world(
        vec![pv("v", "1Gi", json!({"status": {"phase": "Available"}}))],
        vec![bound(json!({"spec": {"volumeName": "v"}}))],
        vec![],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    assert_eq!(writes(&plan), ["volume", "volume/status"]);
}

// ---- volumes ----

fn bound_volume(policy: &str, extra: Value) -> PersistentVolume {
    let mut e = json!({"spec": {"persistentVolumeReclaimPolicy": policy,
                                "claimRef": {"namespace": "ns", "name": "c", "uid": "uid-c"}},
                       "status": {"phase": "Bound"}});
    merge(&mut e, extra);
    pv("v", "1Gi", e)
}

#[test]
fn volume_phases_follow_their_claims() {
    let w = world(
        vec![pv("v", "1Gi", json!({"status": {"phase": "Pending"}}))],
        vec![],
        vec![],
    );
    let plan = sync_volume(&w.volumes["v"], &w, now());
    assert_eq!(phase_of_volume(volume_status(&plan)), "Available");
    let w = world(vec![pv("v", "1Gi", json!({}))], vec![], vec![]);
    assert_eq!(sync_volume(&w.volumes["v"], &w, now()), Plan::default());
    let pre = pv(
        "v",
        "1Gi",
        json!({"spec": {"claimRef": {"namespace": "ns", "name": "c"}}, "status": {"phase": "Pending"}}),
    );
    let w = world(vec![pre], vec![], vec![]);
    assert_eq!(
        phase_of_volume(volume_status(&sync_volume(&w.volumes["v"], &w, now()))),
        "Available"
    );
    let w = world(
        vec![bound_volume("Retain", json!({"status": {"phase": "Available"}}))],
        vec![pvc("c", "1Gi", json!({"spec": {"volumeName": "v"}}))],
        vec![],
    );
    assert_eq!(
        phase_of_volume(volume_status(&sync_volume(&w.volumes["v"], &w, now()))),
        "Bound"
    );
    let w = world(
        vec![bound_volume("Retain", json!({}))],
        vec![pvc("c", "1Gi", json!({}))],
        vec![],
    );
    assert_eq!(
        sync_volume(&w.volumes["v"], &w, now()),
        Plan::default(),
        "the claim's sync finishes binding"
    );
}

#[test]
fn a_released_retained_volume_stays_released() {
    let w = world(vec![bound_volume("Retain", json!({}))], vec![], vec![]);
    let plan = sync_volume(&w.volumes["v"], &w, now());
    assert_eq!(writes(&plan), ["volume/status"]);
    assert_eq!(phase_of_volume(volume_status(&plan)), "Released");
    assert!(events(&plan).is_empty());
    let w = world(
        vec![bound_volume("Retain", json!({"status": {"phase": "Released"}}))],
        vec![],
        vec![],
    );
    assert_eq!(sync_volume(&w.volumes["v"], &w, now()), Plan::default());
    // A new claim of the same name is not the one the volume was bound to.
    let w = world(
        vec![bound_volume("Retain", json!({}))],
        vec![pvc("c", "1Gi", json!({"metadata": {"uid": "new"}}))],
        vec![],
    );
    assert_eq!(
        phase_of_volume(volume_status(&sync_volume(&w.volumes["v"], &w, now()))),
        "Released"
    );
}

#[test]
fn deleting_volumes_is_left_to_their_provisioner_or_fails() {
    let local = bound_volume(
        "Delete",
        json!({"metadata": {"annotations": {"pv.kubernetes.io/provisioned-by": "berth.dev/local"}}}),
    );
    let w = world(vec![local], vec![], vec![]);
    let plan = sync_volume(&w.volumes["v"], &w, now());
    assert_eq!(writes(&plan), ["volume/status"]);
    assert_eq!(phase_of_volume(volume_status(&plan)), "Released");
    assert!(events(&plan).is_empty(), "the node provisioner deletes it");

    let w = world(vec![bound_volume("Delete", json!({}))], vec![], vec![]);
    let plan = sync_volume(&w.volumes["v"], &w, now());
    assert_eq!(writes(&plan), ["volume/status", "volume/status"]);
    let message = "error getting deleter volume plugin for volume \"v\": no deletable volume plugin matched";
    assert_eq!(
        events(&plan),
        [("Warning", "VolumeFailedDelete", message.to_string())]
    );
    let failed = match &plan.actions[1] {
        Action::UpdateVolumeStatus(v) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(phase_of_volume(failed), "Failed");
    assert_eq!(
        failed.status.as_ref().and_then(|s| s.message.as_deref()),
        Some(message)
    );
    let w = world(
        vec![bound_volume("Delete", json!({"status": {"phase": "Failed"}}))],
        vec![],
        vec![],
    );
    assert_eq!(
        sync_volume(&w.volumes["v"], &w, now()),
        Plan::default(),
        "Failed is kept, quietly"
    );

    let w = world(
        vec![bound_volume("Recycle", json!({"status": {"phase": "Released"}}))],
        vec![],
        vec![],
    );
    assert_eq!(
        events(&sync_volume(&w.volumes["v"], &w, now())),
        [(
            "Warning",
            "VolumeFailedRecycle",
            "No recycler plugin found for the volume!".to_string()
        )]
    );
    let w = world(
        vec![bound_volume("Shred", json!({"status": {"phase": "Released"}}))],
        vec![],
        vec![],
    );
    assert_eq!(
        events(&sync_volume(&w.volumes["v"], &w, now())),
        [(
            "Warning",
            "VolumeUnknownReclaimPolicy",
            "Volume has unrecognized PersistentVolumeReclaimPolicy".to_string()
        )]
    );
}

#[test]
fn a_volume_whose_claim_went_elsewhere_is_unbound_or_released() {
    let claim_elsewhere = pvc("c", "1Gi", json!({"spec": {"volumeName": "w"}}));
    let by_controller = bound_volume(
        "Retain",
        json!({"metadata": {"annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}}}),
    );
    let w = world(vec![by_controller], vec![claim_elsewhere.clone()], vec![]);
    let plan = sync_volume(&w.volumes["v"], &w, now());
    assert_eq!(writes(&plan), ["volume", "volume/status"]);
    let v = updated_volume(&plan);
    assert!(v.spec.as_ref().and_then(|s| s.claim_ref.as_ref()).is_none());
    assert!(v.metadata.annotations.is_none());
    assert_eq!(phase_of_volume(volume_status(&plan)), "Available");

    let w = world(
        vec![bound_volume("Retain", json!({}))],
        vec![claim_elsewhere.clone()],
        vec![],
    );
    let plan = sync_volume(&w.volumes["v"], &w, now());
    let r = updated_volume(&plan)
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.clone())
        .expect("kept");
    assert_eq!(
        (r.name.as_deref(), r.uid),
        (Some("c"), None),
        "a user's pre-binding loses only the uid"
    );

    let provisioned = bound_volume(
        "Delete",
        json!({"metadata": {"annotations": {"pv.kubernetes.io/provisioned-by": "berth.dev/local"}}}),
    );
    let w = world(vec![provisioned], vec![claim_elsewhere], vec![]);
    let plan = sync_volume(&w.volumes["v"], &w, now());
    assert_eq!(phase_of_volume(volume_status(&plan)), "Released");
}

#[test]
fn crash_points_name_the_steps_of_a_bind_and_a_reclaim() {
    let w = world(
        vec![pv("v", "2Gi", json!({}))],
        vec![pvc("c", "1Gi", json!({}))],
        vec![],
    );
    let plan = sync_claim(&w.claims["ns/c"], &w, now());
    let points: Vec<Option<&str>> = plan.actions.iter().map(crash_point_after).collect();
    assert_eq!(
        points,
        [
            Some("bind:after-pv-claimref"),
            Some("bind:after-pv-bound"),
            Some("bind:after-claim-volumename"),
            None,
        ]
    );
    let w = world(vec![bound_volume("Delete", json!({}))], vec![], vec![]);
    let plan = sync_volume(&w.volumes["v"], &w, now());
    assert_eq!(
        crash_point_after(&plan.actions[0]),
        Some("reclaim:after-released")
    );
    // Unbinding clears the claimRef: no bind step.
    let mut v = bound_volume("Retain", json!({}));
    if let Some(s) = v.spec.as_mut() {
        s.claim_ref = None;
    }
    assert_eq!(crash_point_after(&Action::UpdateVolume(Box::new(v))), None);
}
