//! Behaviour tables for the planner, run through the simulator ([`super::sim`]) with invariant
//! checks after every step. Test names carry the checklist item numbers.
#![allow(clippy::unwrap_used)]

use super::sim::World;
use super::slow_start;
use crate::statefulset::plan;
use crate::statefulset::pods::{POD_INDEX_LABEL, POD_NAME_LABEL, is_terminating};
use crate::statefulset::types::{Action, BerthExtensions, DeleteReason, EventType};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetCondition};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

const POLICIES: [&str; 2] = ["OrderedReady", "Parallel"];
const RETENTION: [(&str, &str); 4] = [
    ("Retain", "Retain"),
    ("Delete", "Retain"),
    ("Retain", "Delete"),
    ("Delete", "Delete"),
];
const K8S: BerthExtensions = BerthExtensions::KUBERNETES;

/// A StatefulSet as the API server stores it (defaults applied).
fn sts(replicas: i32, policy: &str) -> StatefulSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "ns", "uid": "set-uid", "generation": 1,
                     "annotations": {"note": "a"}},
        "spec": {
            "replicas": replicas,
            "serviceName": "web-svc",
            "podManagementPolicy": policy,
            "selector": {"matchLabels": {"app": "web"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "db"}, "annotations": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "img:1", "resources": {},
                          "terminationMessagePath": "/dev/termination-log",
                          "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                         "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                         "dnsPolicy": "ClusterFirst", "securityContext": {},
                         "schedulerName": "default-scheduler"}
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data", "labels": {"app": "other", "kind": "pvc"}},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                         "volumeMode": "Filesystem"},
                "status": {"phase": "Pending"}
            }]
        }
    }))
    .unwrap()
}

fn world(replicas: i32, policy: &str) -> World {
    World::new(sts(replicas, policy), K8S)
}

fn set_image(w: &mut World, image: &str) {
    w.edit(|s| s.template.spec.as_mut().unwrap().containers[0].image = Some(image.into()));
}

fn set_replicas(w: &mut World, n: i32) {
    w.edit(|s| s.replicas = Some(n));
}

fn set_retention(w: &mut World, (deleted, scaled): (&str, &str)) {
    w.edit(|s| {
        s.persistent_volume_claim_retention_policy =
            Some(serde_json::from_value(json!({"whenDeleted": deleted, "whenScaled": scaled})).unwrap())
    });
}

fn status(w: &World) -> k8s_openapi::api::apps::v1::StatefulSetStatus {
    w.set.status.clone().unwrap()
}

fn creates(p: &crate::statefulset::Plan) -> Vec<String> {
    p.actions()
        .filter_map(|a| match a {
            Action::CreatePod(p) => p.metadata.name.clone(),
            _ => None,
        })
        .collect()
}

fn deletes(p: &crate::statefulset::Plan) -> Vec<String> {
    p.actions()
        .filter_map(|a| match a {
            Action::DeletePod { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---- 1D: identity -------------------------------------------------------------------------

#[test]
fn items_28_to_34_pod_identity_labels_owner_and_volumes() {
    for policy in POLICIES {
        let mut w = world(3, policy);
        w.settle(30);
        assert_eq!(w.live(), names(&["web-0", "web-1", "web-2"]));
        let p = &w.pods["web-1"];
        let l = p.metadata.labels.as_ref().unwrap();
        assert_eq!(l["app"], "web");
        assert_eq!(l["tier"], "db");
        assert_eq!(l[POD_NAME_LABEL], "web-1");
        assert_eq!(l[POD_INDEX_LABEL], "1");
        assert_eq!(l["controller-revision-hash"], status(&w).update_revision.unwrap());
        assert!(l["controller-revision-hash"].starts_with("web-"));
        assert_eq!(p.metadata.annotations.as_ref().unwrap()["a"], "b");
        assert_eq!(p.metadata.generate_name.as_deref(), Some("web-"));
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("web-1"));
        assert_eq!(spec.subdomain.as_deref(), Some("web-svc"));
        let o = &p.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            o,
            &OwnerReference {
                api_version: "apps/v1".into(),
                kind: "StatefulSet".into(),
                name: "web".into(),
                uid: "set-uid".into(),
                controller: Some(true),
                block_owner_deletion: Some(true)
            }
        );
        let v = &spec.volumes.as_ref().unwrap()[0];
        assert_eq!(v.name, "data");
        assert_eq!(
            v.persistent_volume_claim.as_ref().unwrap().claim_name,
            "data-web-1"
        );
    }
}

#[test]
fn item_29_pods_with_unparsable_or_foreign_names_are_ignored() {
    let mut w = world(1, "OrderedReady");
    w.settle(10);
    let mut stray = w.pods["web-0"].clone();
    stray.metadata.name = Some("web-x".into());
    let mut other = w.pods["web-0"].clone();
    other.metadata.name = Some("other-0".into());
    let mut obs = w.observed();
    obs.pods.push(stray.into());
    obs.pods.push(other.into());
    let p = plan(&obs, K8S).unwrap();
    assert!(p.is_idle());
    assert!(p.status.is_none(), "strays are not counted");
}

#[test]
fn item_34_template_volume_named_like_a_claim_template_is_replaced() {
    let mut w = world(1, "OrderedReady");
    w.edit(|s| {
        s.template.spec.as_mut().unwrap().volumes = Some(vec![
            serde_json::from_value(json!({"name": "data", "emptyDir": {}})).unwrap(),
            serde_json::from_value(json!({"name": "scratch", "emptyDir": {}})).unwrap(),
        ])
    });
    w.settle(10);
    let vols = w.pods["web-0"].spec.as_ref().unwrap().volumes.clone().unwrap();
    assert_eq!(vols.len(), 2);
    assert_eq!(vols[0].name, "data");
    assert!(vols[0].persistent_volume_claim.is_some() && vols[0].empty_dir.is_none());
    assert_eq!(vols[1].name, "scratch");
}

#[test]
fn item_35_identity_label_and_storage_are_restored() {
    for policy in POLICIES {
        let mut w = world(2, policy);
        w.settle(20);
        let pod = w.pods.get_mut("web-1").unwrap();
        pod.metadata.labels.as_mut().unwrap().remove(POD_NAME_LABEL);
        pod.spec.as_mut().unwrap().volumes = None;
        w.claims.remove("data-web-1");
        let mut obs = w.observed();
        obs.pods.retain(|_| true);
        let p = plan(&obs, K8S).unwrap();
        let acts: Vec<String> = p.actions().map(super::sim::describe).collect();
        assert_eq!(
            acts,
            names(&["create-claim data-web-1", "update web-1"]),
            "{policy}"
        );
        w.apply(&p);
        w.check_invariants();
        assert!(w.events.iter().any(|e| e.reason == "SuccessfulUpdate"
            && e.message == "update Pod web-1 in StatefulSet web successful"));
    }
}

// ---- 1E: claims ---------------------------------------------------------------------------

#[test]
fn items_37_38_42_claims_named_labelled_created_before_pods_with_events() {
    for policy in POLICIES {
        let mut w = world(2, policy);
        w.settle(20);
        let c = &w.claims["data-web-0"];
        let l = c.metadata.labels.as_ref().unwrap();
        assert_eq!(l["app"], "web", "selector keys win");
        assert_eq!(l["kind"], "pvc");
        assert_eq!(c.metadata.namespace.as_deref(), Some("ns"));
        assert!(c.status.is_none());
        let pos = |s: &str| w.log.iter().position(|l| l == s).unwrap();
        assert!(pos("create-claim data-web-1") < pos("create web-1"));
        let msgs: Vec<&str> = w.events.iter().map(|e| e.message.as_str()).collect();
        assert!(msgs.contains(&"create Claim data-web-0 Pod web-0 in StatefulSet web success"));
        assert!(msgs.contains(&"create Pod web-0 in StatefulSet web successful"));
        assert!(w.events.iter().all(|e| e.type_ == EventType::Normal));
        set_replicas(&mut w, 1);
        w.settle(20);
        assert!(w.events.iter().any(|e| e.reason == "SuccessfulDelete"
            && e.message == "delete Pod web-1 in StatefulSet web successful"));
    }
}

#[test]
fn item_39_99_existing_claim_is_reused_as_is() {
    let mut w = world(1, "OrderedReady");
    let mut pre: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "data-web-0", "namespace": "ns", "uid": "pre"},
        "spec": {"resources": {"requests": {"storage": "5Gi"}}}
    }))
    .unwrap();
    pre.metadata.labels = None;
    w.claims.insert("data-web-0".into(), pre.clone());
    w.settle(10);
    assert!(w.logged("create-claim").is_empty());
    assert_eq!(w.claims["data-web-0"], pre);
}

#[test]
fn item_40_claim_being_deleted_fails_pod_creation() {
    for policy in POLICIES {
        let mut w = world(1, policy);
        let c: PersistentVolumeClaim = serde_json::from_value(json!({
            "metadata": {"name": "data-web-0", "uid": "old", "deletionTimestamp": "2024-01-01T00:00:00Z"}
        }))
        .unwrap();
        w.claims.insert("data-web-0".into(), c);
        w.sync();
        assert!(w.pods.is_empty());
        let e = w.events.iter().find(|e| e.reason == "FailedCreate").unwrap();
        assert_eq!(
            e.message,
            "create Pod web-0 in StatefulSet web failed error: pvc data-web-0 is being deleted"
        );
        assert_eq!(e.type_, EventType::Warning);
    }
}

#[test]
fn item_41_pending_pod_gets_missing_claim_recreated() {
    for policy in POLICIES {
        let mut w = world(2, policy);
        w.settle(20);
        w.pods.get_mut("web-1").unwrap().status.as_mut().unwrap().phase = Some("Pending".into());
        w.pending.insert("web-1".into());
        w.claims.remove("data-web-1");
        let p = w.sync();
        assert!(p.actions().any(|a| matches!(a, Action::CreateClaim { claim, .. }
            if claim.metadata.name.as_deref() == Some("data-web-1"))));
        assert!(w.claims.contains_key("data-web-1"));
    }
}

#[test]
fn item_43_retain_retain_adds_no_owner_references() {
    for policy in POLICIES {
        let mut w = world(3, policy);
        w.settle(30);
        set_replicas(&mut w, 1);
        w.settle(30);
        assert_eq!(w.claims.len(), 3);
        assert!(w.claims.values().all(|c| c.metadata.owner_references.is_none()));
    }
}

// ---- 1F: ordering -------------------------------------------------------------------------

#[test]
fn items_44_48_ordered_creation_one_pod_per_sync_held_by_readiness() {
    let mut w = world(3, "OrderedReady");
    let p = w.sync();
    assert_eq!(creates(&p), names(&["web-0"]));
    assert_eq!(p.batches.len(), 1, "claims + pod in one task");
    // Not yet running: nothing more.
    assert!(creates(&w.sync()).is_empty());
    w.unready.insert("web-0".into());
    w.kubelet();
    for _ in 0..5 {
        assert!(
            creates(&w.step()).is_empty(),
            "scale-up halts while web-0 is unready (item 48)"
        );
    }
    assert_eq!(w.live(), names(&["web-0"]));
    w.unready.clear();
    w.settle(30);
    assert_eq!(
        w.logged("create web"),
        names(&["create web-0", "create web-1", "create web-2"])
    );
}

#[test]
fn item_49_parallel_creates_in_slow_start_batches_and_ignores_health() {
    let mut w = world(7, "Parallel");
    w.unready.extend(["web-0".to_string(), "web-1".into()]);
    let p = w.sync();
    let sizes: Vec<usize> = p.batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![1, 2, 4]);
    assert_eq!(creates(&p).len(), 7);
    w.kubelet();
    w.settle(10);
    assert_eq!(w.live().len(), 7);
    // A failing batch stops the later batches.
    let mut w = world(7, "Parallel");
    w.fail.insert("create web-1".into());
    w.sync();
    assert_eq!(
        w.live(),
        names(&["web-0", "web-2"]),
        "batch 2 ran fully, batch 3 did not"
    );
    assert_eq!(
        slow_start(
            (0..1100)
                .map(|_| vec![Action::DeleteRevision("x".into())])
                .collect()
        )
        .iter()
        .map(Vec::len)
        .collect::<Vec<_>>(),
        vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 500, 89]
    );
}

#[test]
fn items_46_49_scale_down_in_reverse_order_and_parallel_all_at_once() {
    let mut w = world(4, "OrderedReady");
    w.settle(40);
    set_replicas(&mut w, 1);
    let p = w.sync();
    assert_eq!(deletes(&p), names(&["web-3"]));
    assert!(deletes(&w.sync()).is_empty(), "terminating web-3 blocks");
    w.settle(40);
    assert_eq!(
        w.logged("delete web"),
        names(&["delete web-3", "delete web-2", "delete web-1"])
    );
    assert_eq!(w.claims.len(), 4, "claims retained");

    let mut w = world(4, "Parallel");
    w.settle(40);
    set_replicas(&mut w, 0);
    w.unready.insert("web-1".into());
    w.kubelet();
    let p = w.sync();
    let mut d = deletes(&p);
    d.sort();
    assert_eq!(d, names(&["web-0", "web-1", "web-2", "web-3"]));
    w.settle(10);
    assert_eq!(status(&w).replicas, 0);
}

#[test]
fn item_47_ordered_scale_down_halts_on_unhealthy_except_first_unhealthy() {
    let mut w = world(3, "OrderedReady");
    w.settle(30);
    w.unready
        .extend(["web-0".to_string(), "web-1".into(), "web-2".into()]);
    w.kubelet();
    set_replicas(&mut w, 0);
    for _ in 0..5 {
        assert!(
            deletes(&w.step()).is_empty(),
            "scale to 0 with 3 unready pods deletes nothing"
        );
    }
    // Only web-2 unready and it is condemned: it is the first unhealthy pod, so it may go.
    let mut w = world(3, "OrderedReady");
    w.settle(30);
    w.unready.insert("web-2".into());
    w.kubelet();
    set_replicas(&mut w, 1);
    assert_eq!(deletes(&w.sync()), names(&["web-2"]));
    w.settle(30);
    // web-1 unready and condemned while web-2 (healthy, condemned) is above it: web-2 is not
    // the first unhealthy pod but is healthy, so it goes; then web-1 is the first unhealthy.
    let mut w = world(3, "OrderedReady");
    w.settle(30);
    w.unready.insert("web-1".into());
    w.kubelet();
    set_replicas(&mut w, 1);
    w.settle(30);
    assert_eq!(w.live(), names(&["web-0"]));
}

#[test]
fn item_45_ordered_blocks_on_terminating_and_unavailable_pods() {
    let mut w = world(3, "OrderedReady");
    w.settle(30);
    set_replicas(&mut w, 4);
    w.pods.get_mut("web-1").unwrap().metadata.deletion_timestamp = Some(Time(w.now));
    w.stuck_terminating.insert("web-1".into());
    for _ in 0..3 {
        assert!(creates(&w.step()).is_empty(), "terminating web-1 blocks");
    }
    w.stuck_terminating.clear();
    w.settle(30);
    assert_eq!(w.live(), names(&["web-0", "web-1", "web-2", "web-3"]));
}

#[test]
fn item_50_scaling_takes_precedence_over_updates() {
    for policy in POLICIES {
        let mut w = world(2, policy);
        w.settle(20);
        set_image(&mut w, "img:2");
        set_replicas(&mut w, 3);
        let p = w.sync();
        assert_eq!(creates(&p), names(&["web-2"]), "{policy}");
        if policy == "OrderedReady" {
            assert!(deletes(&p).is_empty(), "no update deletion in the scaling sync");
        }
        w.settle(40);
        let upd = status(&w).update_revision.unwrap();
        assert!(w.live().iter().all(|p| w.rev(p) == upd));
    }
}

#[test]
fn item_51_deleting_set_only_gets_status() {
    for policy in POLICIES {
        let mut w = world(3, policy);
        w.set.metadata.deletion_timestamp = Some(Time(w.now));
        let p = w.sync();
        assert!(p.batches.is_empty());
        assert!(p.status.is_some());
    }
}

#[test]
fn item_52_failed_and_succeeded_pods_are_replaced_with_a_new_uid() {
    for policy in POLICIES {
        for phase in ["Failed", "Succeeded"] {
            let mut w = world(2, policy);
            w.settle(20);
            let old_uid = w.pods["web-0"].metadata.uid.clone();
            w.pods.get_mut("web-0").unwrap().status.as_mut().unwrap().phase = Some(phase.into());
            let p = w.sync();
            assert!(p.actions().any(|a| matches!(a, Action::DeletePod { name, reason: DeleteReason::Finished, .. } if name == "web-0")));
            w.settle(20);
            assert_ne!(w.pods["web-0"].metadata.uid, old_uid, "{policy} {phase}");
        }
    }
}

#[test]
fn item_53_healthy_predecessor_is_recreated_while_successor_is_unready() {
    let mut w = world(3, "OrderedReady");
    w.settle(30);
    w.unready.insert("web-1".into());
    w.kubelet();
    w.pods.get_mut("web-0").unwrap().metadata.deletion_timestamp = Some(Time(w.now));
    w.kubelet();
    assert!(!w.pods.contains_key("web-0"));
    assert_eq!(creates(&w.sync()), names(&["web-0"]));
}

// ---- 1G: revisions ------------------------------------------------------------------------

#[test]
fn items_56_59_82_83_first_sync_creates_one_revision_current_equals_update() {
    let mut w = world(1, "OrderedReady");
    let p = w.sync();
    let Action::CreateRevision(r) = &p.revisions[0] else {
        panic!()
    };
    assert_eq!(r.revision, 1);
    let name = r.metadata.name.clone().unwrap();
    let hash = r.metadata.labels.as_ref().unwrap()["controller.kubernetes.io/hash"].clone();
    assert_eq!(name, format!("web-{hash}"));
    assert_eq!(r.metadata.labels.as_ref().unwrap()["tier"], "db");
    assert_eq!(r.metadata.annotations.as_ref().unwrap()["note"], "a");
    assert_eq!(
        r.metadata.owner_references.as_ref().unwrap()[0].kind,
        "StatefulSet"
    );
    let s = status(&w);
    assert_eq!(s.current_revision.as_deref(), Some(name.as_str()));
    assert_eq!(s.update_revision.as_deref(), Some(name.as_str()));
    assert_eq!(s.collision_count, Some(0));
    assert!(
        w.sync().revisions.is_empty(),
        "unchanged template: no new revision"
    );
}

#[test]
fn item_57_rollback_reuses_the_older_revision_and_bumps_its_number() {
    for policy in POLICIES {
        let mut w = world(2, policy);
        w.settle(20);
        let first = status(&w).update_revision.unwrap();
        set_image(&mut w, "img:2");
        w.settle(40);
        let second = status(&w).update_revision.unwrap();
        assert_ne!(first, second);
        assert_eq!(status(&w).current_revision.as_deref(), Some(second.as_str()));
        set_image(&mut w, "img:1");
        let p = w.sync();
        assert_eq!(
            p.revisions,
            vec![Action::UpdateRevision {
                name: first.clone(),
                revision: 3
            }]
        );
        assert_eq!(p.update_revision, first);
        w.kubelet();
        w.settle(40);
        assert_eq!(w.revisions.len(), 2);
        assert!(w.live().iter().all(|p| w.rev(p) == first));
        assert_eq!(status(&w).current_revision.as_deref(), Some(first.as_str()));
    }
}

#[test]
fn item_58_name_collision_bumps_collision_count() {
    let mut w = world(1, "OrderedReady");
    let name = {
        let p = plan(&w.observed(), K8S).unwrap();
        p.update_revision
    };
    // Someone else's revision already has that name, with other data.
    let mut foreign = k8s_openapi::api::apps::v1::ControllerRevision {
        data: Some(k8s_openapi::apimachinery::pkg::runtime::RawExtension(
            json!({"other": true}),
        )),
        revision: 1,
        ..Default::default()
    };
    foreign.metadata.name = Some(name.clone());
    w.foreign.push(foreign);
    let p = w.sync();
    assert_ne!(p.update_revision, name);
    assert_eq!(status(&w).collision_count, Some(1));
    w.settle(10);
    assert_eq!(w.live(), names(&["web-0"]));
}

#[test]
fn item_60_history_is_truncated_to_the_limit_keeping_live_revisions() {
    let mut w = world(1, "OrderedReady");
    w.edit(|s| s.revision_history_limit = Some(2));
    for i in 1..=6 {
        set_image(&mut w, &format!("img:v{i}"));
        w.settle(30);
    }
    // current == update is live; at most 2 others remain.
    assert_eq!(w.revisions.len(), 3);
    let max = w.revisions.values().map(|r| r.revision).max().unwrap();
    assert!(w.revisions.values().all(|r| r.revision >= max - 2));
    // A pod still at an old revision keeps it alive.
    let mut w = world(2, "OrderedReady");
    w.edit(|s| {
        s.revision_history_limit = Some(0);
        s.update_strategy.as_mut().unwrap().type_ = Some("OnDelete".into());
        s.update_strategy.as_mut().unwrap().rolling_update = None;
    });
    w.settle(20);
    let old = w.rev("web-0");
    set_image(&mut w, "img:2");
    w.settle(20);
    set_image(&mut w, "img:3");
    w.settle(20);
    assert!(w.revisions.contains_key(&old), "referenced by pods");
    assert_eq!(w.revisions.len(), 2);
    // Negative keeps everything.
    let mut w = world(1, "OrderedReady");
    w.edit(|s| s.revision_history_limit = Some(-1));
    for i in 1..=4 {
        set_image(&mut w, &format!("img:v{i}"));
        w.settle(30);
    }
    assert_eq!(w.revisions.len(), 4, "one per template seen");
}

#[test]
fn item_90_min_ready_seconds_change_makes_no_revision() {
    let mut w = world(1, "OrderedReady");
    w.settle(10);
    w.edit(|s| s.min_ready_seconds = Some(5));
    let p = w.sync();
    assert!(p.revisions.is_empty());
    assert!(deletes(&p).is_empty());
}

// ---- 1H: updates --------------------------------------------------------------------------

#[test]
fn items_65_75_rolling_update_in_reverse_order_one_at_a_time_same_claims() {
    for policy in POLICIES {
        let mut w = world(3, policy);
        w.settle(30);
        let claims_before = w.claims.clone();
        set_image(&mut w, "img:2");
        let p = w.sync();
        assert_eq!(deletes(&p), names(&["web-2"]), "{policy}");
        assert!(deletes(&w.sync()).is_empty(), "waits while web-2 terminates");
        w.settle(40);
        assert_eq!(
            w.logged("delete web"),
            names(&["delete web-2", "delete web-1", "delete web-0"])
        );
        let upd = status(&w).update_revision.unwrap();
        assert!(w.live().iter().all(|p| w.rev(p) == upd));
        assert_eq!(w.claims, claims_before, "same claims reused");
        assert_eq!(status(&w).current_revision.as_deref(), Some(upd.as_str()));
    }
}

#[test]
fn item_65_rolling_update_waits_for_the_replacement_to_be_ready() {
    let mut w = world(3, "Parallel");
    w.settle(30);
    set_image(&mut w, "img:2");
    w.step();
    w.unready.insert("web-2".into());
    for _ in 0..5 {
        w.step();
    }
    assert_eq!(
        w.logged("delete web"),
        names(&["delete web-2"]),
        "unready web-2 blocks the rollout"
    );
}

#[test]
fn items_66_67_partition_relative_to_start_and_recreation_by_side() {
    for policy in POLICIES {
        let mut w = world(3, policy);
        w.edit(|s| s.ordinals = Some(serde_json::from_value(json!({"start": 5})).unwrap()));
        w.settle(30);
        assert_eq!(w.live(), names(&["web-5", "web-6", "web-7"]));
        let old = w.rev("web-5");
        w.edit(|s| {
            s.update_strategy
                .as_mut()
                .unwrap()
                .rolling_update
                .as_mut()
                .unwrap()
                .partition = Some(3)
        });
        set_image(&mut w, "img:2");
        w.settle(30);
        assert!(w.logged("delete").is_empty(), "partition 3 of 3 updates nothing");
        let s = status(&w);
        assert_ne!(s.current_revision, s.update_revision);
        w.edit(|s| {
            s.update_strategy
                .as_mut()
                .unwrap()
                .rolling_update
                .as_mut()
                .unwrap()
                .partition = Some(2)
        });
        w.settle(30);
        let upd = status(&w).update_revision.unwrap();
        assert_eq!(w.rev("web-7"), upd);
        assert_eq!(w.rev("web-6"), old);
        // Deleted pods come back on their own side of the partition.
        for n in ["web-5", "web-7"] {
            w.pods.get_mut(n).unwrap().metadata.deletion_timestamp = Some(Time(w.now));
        }
        w.kubelet();
        w.settle(30);
        assert_eq!(w.rev("web-5"), old, "{policy}");
        assert_eq!(w.rev("web-7"), upd);
        w.edit(|s| {
            s.update_strategy
                .as_mut()
                .unwrap()
                .rolling_update
                .as_mut()
                .unwrap()
                .partition = Some(0)
        });
        w.settle(40);
        let s = status(&w);
        assert_eq!(s.current_revision, s.update_revision);
    }
}

#[test]
fn item_68_pod_below_partition_recreated_at_old_revision() {
    let mut w = world(3, "OrderedReady");
    w.settle(30);
    let old = w.rev("web-0");
    w.edit(|s| {
        s.update_strategy
            .as_mut()
            .unwrap()
            .rolling_update
            .as_mut()
            .unwrap()
            .partition = Some(1)
    });
    set_image(&mut w, "img:2");
    w.settle(40);
    assert_eq!(w.rev("web-0"), old);
    w.pods.get_mut("web-0").unwrap().metadata.deletion_timestamp = Some(Time(w.now));
    w.stuck_terminating.insert("web-0".into());
    w.step();
    w.stuck_terminating.clear();
    w.settle(30);
    assert_eq!(w.rev("web-0"), old);
}

fn broken_rollout(policy: &str, ext: BerthExtensions) -> World {
    let mut w = World::new(sts(3, policy), ext);
    w.settle(30);
    // A bad template: the replacement of web-2 never becomes ready.
    set_image(&mut w, "img:broken");
    let bad = plan(&w.observed(), ext).unwrap().update_revision;
    w.sync();
    w.unready.insert("web-2".into());
    for _ in 0..6 {
        w.step();
    }
    assert_eq!(w.rev("web-2"), bad);
    w
}

#[test]
fn item_69_ordered_ready_rollout_deadlock_in_kubernetes() {
    let mut w = broken_rollout("OrderedReady", K8S);
    // The template is fixed (reverted to img:1), but web-2 (bad revision, unready) blocks.
    set_image(&mut w, "img:1");
    for _ in 0..6 {
        w.step();
    }
    assert_eq!(
        w.logged("delete web"),
        names(&["delete web-2"]),
        "never replaced again"
    );
}

#[test]
fn item_69_parallel_replaces_the_broken_pod_anyway() {
    let mut w = broken_rollout("Parallel", K8S);
    set_image(&mut w, "img:1");
    w.unready.clear();
    w.settle(40);
    let upd = status(&w).update_revision.unwrap();
    assert!(w.live().iter().all(|p| w.rev(p) == upd));
}

#[test]
fn berth_stuck_rollout_recovery_replaces_the_broken_pod() {
    let mut w = broken_rollout("OrderedReady", BerthExtensions::BERTH);
    set_image(&mut w, "img:1");
    w.unready.clear();
    let p = w.sync();
    assert!(p.actions().any(
        |a| matches!(a, Action::DeletePod { name, reason: DeleteReason::StuckRollout, .. } if name == "web-2")
    ));
    w.kubelet();
    w.settle(40);
    let upd = status(&w).update_revision.unwrap();
    assert!(w.live().iter().all(|p| w.rev(p) == upd));
    assert_eq!(status(&w).current_revision.as_deref(), Some(upd.as_str()));
}

#[test]
fn berth_stuck_rollout_recovery_leaves_normal_ordering_alone() {
    // Pods at the update revision still block (no recovery loop on a still-broken template).
    let mut w = broken_rollout("OrderedReady", BerthExtensions::BERTH);
    for _ in 0..6 {
        w.step();
    }
    assert_eq!(w.logged("delete web"), names(&["delete web-2"]));
    // An unready pod below the partition is not touched.
    let mut w = World::new(sts(3, "OrderedReady"), BerthExtensions::BERTH);
    w.settle(30);
    w.edit(|s| {
        s.update_strategy
            .as_mut()
            .unwrap()
            .rolling_update
            .as_mut()
            .unwrap()
            .partition = Some(2)
    });
    set_image(&mut w, "img:2");
    w.unready.insert("web-1".into());
    w.kubelet();
    for _ in 0..5 {
        w.step();
    }
    assert!(w.logged("delete").is_empty());
    // OnDelete is never touched.
    let mut w = World::new(sts(2, "OrderedReady"), BerthExtensions::BERTH);
    w.edit(|s| {
        s.update_strategy.as_mut().unwrap().type_ = Some("OnDelete".into());
        s.update_strategy.as_mut().unwrap().rolling_update = None;
    });
    w.settle(20);
    set_image(&mut w, "img:2");
    w.unready.insert("web-1".into());
    w.kubelet();
    for _ in 0..5 {
        w.step();
    }
    assert!(w.logged("delete").is_empty());
}

fn with_max_unavailable(w: &mut World, v: IntOrString) {
    w.edit(|s| {
        s.update_strategy
            .as_mut()
            .unwrap()
            .rolling_update
            .as_mut()
            .unwrap()
            .max_unavailable = Some(v)
    });
}

#[test]
fn item_70_max_unavailable_deletes_several_from_the_top() {
    for policy in POLICIES {
        let mut w = world(5, policy);
        w.settle(50);
        with_max_unavailable(&mut w, IntOrString::Int(2));
        set_image(&mut w, "img:2");
        let p = w.sync();
        assert_eq!(deletes(&p), names(&["web-4", "web-3"]), "{policy}");
        assert!(deletes(&w.sync()).is_empty(), "2 unavailable = budget");
        w.settle(60);
        let upd = status(&w).update_revision.unwrap();
        assert!(w.live().iter().all(|p| w.rev(p) == upd));
    }
    // Percentages round down, minimum 1.
    let mut w = world(5, "Parallel");
    w.settle(50);
    with_max_unavailable(&mut w, IntOrString::String("50%".into()));
    set_image(&mut w, "img:2");
    assert_eq!(deletes(&w.sync()).len(), 2);
    let mut w = world(5, "Parallel");
    w.settle(50);
    with_max_unavailable(&mut w, IntOrString::String("10%".into()));
    set_image(&mut w, "img:2");
    assert_eq!(deletes(&w.sync()).len(), 1);
}

#[test]
fn item_70_more_unavailable_than_allowed_blocks() {
    let mut w = world(4, "Parallel");
    w.settle(40);
    with_max_unavailable(&mut w, IntOrString::Int(1));
    set_image(&mut w, "img:2");
    w.sync();
    w.kubelet();
    // The new web-3 is unready; together with web-0 (unready, updated? no: old) -> blocked.
    w.unready.extend(["web-3".to_string()]);
    for _ in 0..5 {
        w.step();
    }
    assert_eq!(w.logged("delete web"), names(&["delete web-3"]));
}

#[test]
fn item_71_parallel_does_not_count_broken_old_pods() {
    let mut w = world(3, "Parallel");
    w.unready
        .extend(["web-0".to_string(), "web-1".into(), "web-2".into()]);
    w.settle(30);
    with_max_unavailable(&mut w, IntOrString::Int(1));
    set_image(&mut w, "img:2");
    w.unready.clear();
    w.settle(40);
    let upd = status(&w).update_revision.unwrap();
    assert!(w.live().iter().all(|p| w.rev(p) == upd));
}

#[test]
fn item_72_on_delete_never_deletes_and_recreates_at_update_revision() {
    for policy in POLICIES {
        let mut w = world(3, policy);
        w.edit(|s| {
            s.update_strategy.as_mut().unwrap().type_ = Some("OnDelete".into());
            s.update_strategy.as_mut().unwrap().rolling_update = None;
        });
        w.settle(30);
        set_image(&mut w, "img:2");
        w.settle(30);
        assert!(w.logged("delete").is_empty());
        let upd = status(&w).update_revision.unwrap();
        w.pods.get_mut("web-1").unwrap().metadata.deletion_timestamp = Some(Time(w.now));
        w.kubelet();
        w.settle(30);
        assert_eq!(w.rev("web-1"), upd);
        assert_eq!(status(&w).updated_replicas, Some(1));
        for n in ["web-0", "web-2"] {
            w.pods.get_mut(n).unwrap().metadata.deletion_timestamp = Some(Time(w.now));
        }
        w.kubelet();
        w.settle(30);
        assert_eq!(
            status(&w).current_revision.as_deref(),
            Some(upd.as_str()),
            "item 73 (upstream PR #136833)"
        );
    }
}

// ---- 1I / 1J: status and minReadySeconds --------------------------------------------------

#[test]
fn items_76_to_85_status_fields() {
    let mut w = world(2, "Parallel");
    w.set.metadata.generation = Some(7);
    w.set.status = Some(k8s_openapi::api::apps::v1::StatefulSetStatus {
        conditions: Some(vec![StatefulSetCondition {
            type_: "StatusPatched".into(),
            status: "True".into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    w.sync();
    let s = status(&w);
    assert_eq!(s.observed_generation, Some(7));
    assert_eq!(s.replicas, 0, "not yet created pods are not counted");
    assert_eq!(s.collision_count, Some(0));
    assert_eq!(
        s.conditions.as_ref().unwrap()[0].type_,
        "StatusPatched",
        "item 84"
    );
    w.unready.insert("web-1".into());
    w.kubelet();
    w.step();
    let s = status(&w);
    assert_eq!(
        (s.replicas, s.ready_replicas, s.available_replicas),
        (2, Some(1), Some(1))
    );
    assert_eq!((s.current_replicas, s.updated_replicas), (Some(2), Some(2)));
    assert!(
        w.sync().status.is_none(),
        "item 85: unchanged status is not written"
    );
    // Terminating pods count in replicas but not in current/updated (items 77, 80).
    w.pods.get_mut("web-0").unwrap().metadata.deletion_timestamp = Some(Time(w.now));
    w.stuck_terminating.insert("web-0".into());
    w.sync();
    let s = status(&w);
    assert_eq!(
        (s.replicas, s.current_replicas, s.updated_replicas),
        (2, Some(1), Some(1))
    );
}

#[test]
fn item_80_81_update_deletion_decrements_current_and_completion() {
    let mut w = world(2, "OrderedReady");
    w.settle(20);
    set_image(&mut w, "img:2");
    w.sync();
    let s = status(&w);
    assert_eq!(s.current_replicas, Some(1));
    assert_ne!(s.current_revision, s.update_revision);
    w.kubelet();
    w.settle(30);
    let s = status(&w);
    assert_eq!(s.current_revision, s.update_revision);
    assert_eq!(s.current_replicas, Some(2));
}

#[test]
fn items_87_88_89_min_ready_seconds() {
    let mut w = world(2, "OrderedReady");
    w.edit(|s| s.min_ready_seconds = Some(5));
    let p = w.sync();
    assert_eq!(p.requeue_after, Some(std::time::Duration::from_secs(5)));
    w.kubelet();
    w.kubelet();
    // web-0 is ready but not yet available: web-1 waits (item 88).
    for _ in 0..3 {
        assert!(creates(&w.step()).is_empty());
        assert_eq!(status(&w).available_replicas, Some(0));
        assert_eq!(status(&w).ready_replicas, Some(1));
    }
    w.settle(40);
    assert_eq!(status(&w).available_replicas, Some(2));
    assert_eq!(w.last.requeue_after, None);
    w.edit(|s| s.min_ready_seconds = Some(3600));
    w.sync();
    assert_eq!(status(&w).available_replicas, Some(0));
    w.edit(|s| s.min_ready_seconds = Some(0));
    w.sync();
    assert_eq!(status(&w).available_replicas, Some(2));
}

// ---- 1K: retention ------------------------------------------------------------------------

fn refs(w: &World, claim: &str) -> Vec<(String, String)> {
    w.claims[claim]
        .metadata
        .owner_references
        .iter()
        .flatten()
        .map(|r| (r.kind.clone(), r.name.clone()))
        .collect()
}

#[test]
fn items_91_93_owner_references_by_policy_through_scale_down() {
    for policy in POLICIES {
        for rp in RETENTION {
            let mut w = world(3, policy);
            set_retention(&mut w, rp);
            w.settle(40);
            let set_ref = vec![("StatefulSet".to_string(), "web".to_string())];
            let expect_in_range = if rp.0 == "Delete" { set_ref.clone() } else { vec![] };
            for c in ["data-web-0", "data-web-1", "data-web-2"] {
                assert_eq!(refs(&w, c), expect_in_range, "{policy} {rp:?} {c}");
                if let Some(r) = w.claims[c]
                    .metadata
                    .owner_references
                    .as_ref()
                    .and_then(|r| r.first())
                {
                    assert_eq!((r.controller, r.block_owner_deletion), (Some(true), Some(true)));
                }
            }
            set_replicas(&mut w, 1);
            w.settle(40);
            assert_eq!(w.live(), names(&["web-0"]));
            let scaled_delete = rp.1 == "Delete";
            assert_eq!(
                w.claims.contains_key("data-web-1"),
                !scaled_delete,
                "{policy} {rp:?}"
            );
            assert_eq!(w.claims.contains_key("data-web-2"), !scaled_delete);
            assert_eq!(refs(&w, "data-web-0"), expect_in_range);
            if !scaled_delete {
                assert_eq!(
                    refs(&w, "data-web-1"),
                    expect_in_range,
                    "item 91: retained claims keep set refs only"
                );
            }
        }
    }
}

#[test]
fn item_91_policy_change_is_reconciled_on_running_pods() {
    let mut w = world(2, "OrderedReady");
    w.settle(20);
    set_retention(&mut w, ("Delete", "Retain"));
    w.settle(20);
    assert_eq!(refs(&w, "data-web-1"), vec![("StatefulSet".into(), "web".into())]);
    set_retention(&mut w, ("Retain", "Retain"));
    w.settle(20);
    assert!(refs(&w, "data-web-1").is_empty());
}

#[test]
fn item_94_manual_deletion_and_updates_keep_claims() {
    let mut w = world(2, "OrderedReady");
    set_retention(&mut w, ("Retain", "Delete"));
    w.settle(20);
    w.pods.get_mut("web-1").unwrap().metadata.deletion_timestamp = Some(Time(w.now));
    w.kubelet();
    set_image(&mut w, "img:2");
    w.settle(40);
    assert_eq!(w.claims.len(), 2);
}

#[test]
fn item_95_stale_claim_holds_pod_creation() {
    for policy in POLICIES {
        let mut w = world(1, policy);
        set_retention(&mut w, ("Retain", "Delete"));
        let c: PersistentVolumeClaim = serde_json::from_value(json!({
            "metadata": {"name": "data-web-0", "uid": "c", "ownerReferences": [
                {"apiVersion": "v1", "kind": "Pod", "name": "web-0", "uid": "old-pod", "controller": true}]}
        }))
        .unwrap();
        w.claims.insert("data-web-0".into(), c);
        for _ in 0..3 {
            assert!(creates(&w.step()).is_empty(), "{policy}");
        }
        w.claims.remove("data-web-0"); // the GC catches up
        w.settle(10);
        assert_eq!(w.live(), names(&["web-0"]));
    }
}

#[test]
fn item_96_conflicting_controller_wins() {
    for policy in POLICIES {
        let mut w = world(3, policy);
        set_retention(&mut w, ("Delete", "Delete"));
        w.settle(30);
        let cm: OwnerReference = serde_json::from_value(json!(
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "cm-uid", "controller": true}))
        .unwrap();
        w.claims
            .get_mut("data-web-1")
            .unwrap()
            .metadata
            .owner_references
            .as_mut()
            .unwrap()
            .push(cm);
        set_replicas(&mut w, 1);
        w.settle(30);
        assert!(
            w.claims.contains_key("data-web-1"),
            "policy ignored for this claim"
        );
        assert_eq!(
            refs(&w, "data-web-1"),
            vec![("ConfigMap".into(), "cm".into())],
            "our refs scrubbed"
        );
        assert!(!w.claims.contains_key("data-web-2"), "{policy}");
        assert!(w.events.iter().any(|e| e.reason == "ConflictingController"
            && e.type_ == EventType::Warning
            && e.message == "PersistentVolumeClaim data-web-1 has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim"));
    }
}

#[test]
fn item_97_foreign_refs_kept_stale_refs_untouched_controller_flag_fixed() {
    let mut w = world(3, "OrderedReady");
    set_retention(&mut w, ("Delete", "Retain"));
    w.settle(30);
    let cm: OwnerReference = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "cm-uid"}),
    )
    .unwrap();
    let set_ref = w.claims["data-web-0"].metadata.owner_references.clone().unwrap()[0].clone();
    // claim 0: set ref with controller false -> corrected.
    let mut wrong = set_ref.clone();
    wrong.controller = Some(false);
    w.claims.get_mut("data-web-0").unwrap().metadata.owner_references = Some(vec![wrong]);
    // claim 1: a foreign non-controller ref only -> kept, set ref appended.
    w.claims.get_mut("data-web-1").unwrap().metadata.owner_references = Some(vec![cm.clone()]);
    // claim 2: a stale set ref (other UID) -> untouched.
    let mut stale = set_ref.clone();
    stale.uid = "old-set".into();
    w.claims.get_mut("data-web-2").unwrap().metadata.owner_references = Some(vec![stale.clone()]);
    w.settle(20);
    assert_eq!(
        w.claims["data-web-0"].metadata.owner_references,
        Some(vec![set_ref.clone()])
    );
    assert_eq!(
        w.claims["data-web-1"].metadata.owner_references,
        Some(vec![cm, set_ref])
    );
    assert_eq!(
        w.claims["data-web-2"].metadata.owner_references,
        Some(vec![stale])
    );
}

// ---- 1L: start ordinal --------------------------------------------------------------------

#[test]
fn items_100_to_102_start_ordinal_changes() {
    for policy in POLICIES {
        let mut w = world(2, policy);
        w.settle(20);
        w.edit(|s| {
            s.replicas = Some(3);
            s.ordinals = Some(serde_json::from_value(json!({"start": 2})).unwrap());
        });
        if policy == "OrderedReady" {
            let p = w.sync();
            assert_eq!(creates(&p), names(&["web-2"]), "item 102: create before delete");
            assert!(deletes(&p).is_empty());
        }
        w.settle(40);
        assert_eq!(w.live(), names(&["web-2", "web-3", "web-4"]), "{policy}");
        assert_eq!(
            w.pods["web-3"].metadata.labels.as_ref().unwrap()[POD_INDEX_LABEL],
            "3"
        );
        assert!(w.claims.contains_key("data-web-4"));
        if policy == "OrderedReady" {
            let d = w.logged("delete web");
            assert_eq!(d, names(&["delete web-1", "delete web-0"]));
        }
        w.edit(|s| {
            s.replicas = Some(2);
            s.ordinals = Some(serde_json::from_value(json!({"start": 4})).unwrap());
        });
        w.settle(40);
        assert_eq!(w.live(), names(&["web-4", "web-5"]));
        w.edit(|s| s.ordinals = Some(serde_json::from_value(json!({"start": 3})).unwrap()));
        w.settle(40);
        assert_eq!(w.live(), names(&["web-3", "web-4"]));
        w.edit(|s| s.ordinals = None);
        w.settle(40);
        assert_eq!(w.live(), names(&["web-0", "web-1"]));
        assert!(w.pods.values().all(|p| !is_terminating(p)));
    }
}

// ---- Berth: claim template growth ---------------------------------------------------------

fn grow_template(w: &mut World, size: &str) {
    // Templates are immutable through the API (item 24); Berth's API would allow growth.
    w.set
        .spec
        .as_mut()
        .unwrap()
        .volume_claim_templates
        .as_mut()
        .unwrap()[0]
        .spec
        .as_mut()
        .unwrap()
        .resources
        .as_mut()
        .unwrap()
        .requests
        .as_mut()
        .unwrap()
        .insert(
            "storage".into(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity(size.into()),
        );
}

#[test]
fn berth_claim_template_growth_expands_claims() {
    for policy in POLICIES {
        let mut w = World::new(sts(2, policy), BerthExtensions::BERTH);
        w.settle(20);
        grow_template(&mut w, "1024Mi");
        assert!(w.sync().is_idle(), "1Gi == 1024Mi");
        grow_template(&mut w, "512Mi");
        assert!(w.sync().is_idle(), "never shrinks");
        grow_template(&mut w, "2Gi");
        let p = w.sync();
        let exp: Vec<String> = p
            .actions()
            .map(super::sim::describe)
            .filter(|d| d.starts_with("expand"))
            .collect();
        assert_eq!(
            exp,
            names(&["expand data-web-0 2Gi", "expand data-web-1 2Gi"]),
            "{policy}"
        );
        assert!(
            w.events
                .iter()
                .any(|e| e.message == "update Claim data-web-0 Pod web-0 in StatefulSet web success")
        );
        assert!(w.sync().is_idle());
        // Kubernetes leaves claims alone.
        let mut w = World::new(sts(2, policy), K8S);
        w.settle(20);
        grow_template(&mut w, "2Gi");
        assert!(w.sync().is_idle());
    }
}
