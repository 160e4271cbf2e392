use super::*;
use crate::testutil::{claim, class, pod, volume};
use serde_json::{Value, json};

fn user(claims: &[&str]) -> Pod {
    let vols: Vec<Value> = claims
        .iter()
        .map(|c| json!({"name": format!("v-{c}"), "persistentVolumeClaim": {"claimName": c}}))
        .collect();
    pod("p", json!({}), json!({"volumes": vols}))
}

fn pvc(name: &str, class: &str, extra: Value) -> PersistentVolumeClaim {
    let mut v = json!({"metadata": {"name": name, "namespace": "default"},
        "spec": {"storageClassName": class, "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
    if let (Value::Object(b), Value::Object(e)) = (&mut v, extra) {
        for (k, x) in e {
            if let (Some(Value::Object(bb)), Value::Object(ee)) = (b.get_mut(&k), x.clone()) {
                bb.extend(ee);
            } else {
                b.insert(k, x);
            }
        }
    }
    claim(v)
}

fn wffc(name: &str, provisioner: &str, allowed: Value) -> StorageClass {
    class(json!({"metadata": {"name": name}, "provisioner": provisioner,
                 "volumeBindingMode": "WaitForFirstConsumer", "allowedTopologies": allowed}))
}

fn zone_affinity(zone: &str) -> Value {
    json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}})
}

fn pv(name: &str, class: &str, zone: &str, extra: Value) -> PersistentVolume {
    let mut v = json!({"metadata": {"name": name},
        "spec": {"storageClassName": class, "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "2Gi"},
                 "nodeAffinity": zone_affinity(zone)},
        "status": {"phase": "Available"}});
    if let (Value::Object(b), Value::Object(e)) = (&mut v, extra) {
        b.extend(e);
    }
    volume(v)
}

#[test]
fn a_pod_without_claims_has_no_constraints() {
    assert_eq!(
        compute(&pod("p", json!({}), json!({})), &[], &[], &[]),
        VolumeTopology::default()
    );
}

#[test]
fn claim_problems_fail_the_pod_with_kubernetes_messages() {
    let p = user(&["data"]);
    assert_eq!(
        compute(&p, &[], &[], &[]).prefilter_failure.as_deref(),
        Some("persistentvolumeclaim \"data\" not found")
    );
    let lost = pvc(
        "data",
        "",
        json!({"spec": {"volumeName": "pv1"}, "status": {"phase": "Lost"}}),
    );
    assert_eq!(
        compute(&p, &[&lost], &[], &[]).prefilter_failure.as_deref(),
        Some("persistentvolumeclaim \"data\" bound to non-existent persistentvolume \"pv1\"")
    );
    let deleting = pvc(
        "data",
        "",
        json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}),
    );
    assert_eq!(
        compute(&p, &[&deleting], &[], &[]).prefilter_failure.as_deref(),
        Some("persistentvolumeclaim \"data\" is being deleted")
    );
    let eph = pod(
        "p",
        json!({}),
        json!({"volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]}),
    );
    assert_eq!(
        compute(&eph, &[], &[], &[]).prefilter_failure.as_deref(),
        Some("waiting for ephemeral volume controller to create the persistentvolumeclaim \"p-scratch\"")
    );
}

#[test]
fn claims_of_other_namespaces_do_not_count() {
    let p = user(&["data"]);
    let elsewhere = claim(json!({"metadata": {"name": "data", "namespace": "other"}, "spec": {}}));
    assert_eq!(
        compute(&p, &[&elsewhere], &[], &[]).prefilter_failure.as_deref(),
        Some("persistentvolumeclaim \"data\" not found")
    );
}

#[test]
fn unbound_immediate_claims_hold_the_pod_unless_ignored() {
    let p = user(&["data"]);
    let sc =
        class(json!({"metadata": {"name": "fast"}, "provisioner": "x", "volumeBindingMode": "Immediate"}));
    let c = pvc("data", "fast", json!({}));
    let t = compute(&p, &[&c], &[], &[&sc]);
    assert_eq!(t.failure, Some(PreFilterFailure::UnboundImmediate));
    assert_eq!(
        t.prefilter_failure.as_deref(),
        Some("pod has unbound immediate PersistentVolumeClaims")
    );
    assert_eq!(t.ignoring_unbound_immediate().prefilter_failure, None);
    // No class, or a class that does not exist, binds immediately too.
    let none = pvc("data", "", json!({}));
    assert_eq!(
        compute(&p, &[&none], &[], &[]).failure,
        Some(PreFilterFailure::UnboundImmediate)
    );
    let missing = pvc("data", "ghost", json!({}));
    assert_eq!(
        compute(&p, &[&missing], &[], &[]).failure,
        Some(PreFilterFailure::UnboundImmediate)
    );
    // A claim pre-bound by volumeName but not yet bound waits as well, even with WaitForFirstConsumer.
    let w = wffc("local", "x", json!([]));
    let pre = pvc("data", "local", json!({"spec": {"volumeName": "pv1"}}));
    assert_eq!(
        compute(&p, &[&pre], &[], &[&w]).failure,
        Some(PreFilterFailure::UnboundImmediate)
    );
}

#[test]
fn ignoring_unbound_immediate_keeps_the_other_claims_constraints() {
    let p = user(&["a", "b"]);
    let sc =
        class(json!({"metadata": {"name": "fast"}, "provisioner": "x", "volumeBindingMode": "Immediate"}));
    let w = wffc("local", "x", json!([]));
    let a = pvc("a", "fast", json!({}));
    let b = pvc("b", "local", json!({}));
    let t = compute(&p, &[&a, &b], &[], &[&sc, &w]).ignoring_unbound_immediate();
    assert_eq!(t.failure, None);
    assert_eq!(claims_to_select_node(&t), vec!["b".to_string()]);
}

#[test]
fn bound_claims_carry_their_volume_affinity() {
    let p = user(&["data"]);
    let c = pvc(
        "data",
        "local",
        json!({"spec": {"volumeName": "pv1"}, "status": {"phase": "Bound"}}),
    );
    let v = pv("pv1", "local", "b", json!({}));
    let t = compute(&p, &[&c], &[&v], &[]);
    assert_eq!(t.failure, None);
    assert_eq!(t.bound.len(), 1);
    assert!(matches!(&t.bound[0].volume_affinity, Some(Some(_))));
    // The bind-completed annotation counts as bound as well; a missing volume is recorded.
    let c = pvc(
        "data",
        "local",
        json!({"metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes"}}, "spec": {"volumeName": "gone"}}),
    );
    let t = compute(&p, &[&c], &[&v], &[]);
    assert_eq!(t.bound[0].volume_affinity, None);
}

#[test]
fn delayed_claims_list_fitting_available_volumes_and_provisioning() {
    let p = user(&["data"]);
    let c = pvc("data", "local", json!({}));
    let sc = wffc(
        "local",
        "berth.dev/local",
        json!([{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["a"]}]}]),
    );
    let fits = pv("fits", "local", "b", json!({}));
    let small = pv(
        "small",
        "local",
        "c",
        json!({"spec": {"storageClassName": "local", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "512Mi"}}}),
    );
    let other_class = pv("other", "slow", "c", json!({}));
    let released = pv("released", "local", "c", json!({"status": {"phase": "Released"}}));
    let claimed = pv("claimed", "local", "c", json!({"status": {"phase": "Bound"}}));
    let t = compute(
        &p,
        &[&c],
        &[&fits, &small, &other_class, &released, &claimed],
        &[&sc],
    );
    assert_eq!(t.failure, None);
    assert_eq!(t.delayed.len(), 1);
    let d = &t.delayed[0];
    assert_eq!(d.candidates.len(), 1, "only the fitting Available volume");
    assert!(d.provisionable);
    assert_eq!(d.allowed_topologies.len(), 1);
    let none = wffc("local", NO_PROVISIONER, json!([]));
    assert!(!compute(&p, &[&c], &[], &[&none]).delayed[0].provisionable);
}

#[test]
fn access_modes_and_selector_must_fit() {
    let c = pvc(
        "data",
        "local",
        json!({"spec": {"accessModes": ["ReadWriteMany"]}}),
    );
    assert!(!volume_fits_claim(&c, &pv("v", "local", "a", json!({}))));
    let c = pvc(
        "data",
        "local",
        json!({"spec": {"selector": {"matchLabels": {"tier": "gold"}}}}),
    );
    assert!(!volume_fits_claim(&c, &pv("v", "local", "a", json!({}))));
    let gold = pv(
        "v",
        "local",
        "a",
        json!({"metadata": {"name": "v", "labels": {"tier": "gold"}}}),
    );
    assert!(volume_fits_claim(&c, &gold));
}
