//! Tests of strategic merge patch: every directive, the merge-key table of the served kinds,
//! the kubectl request shapes seen on the wire, Kubernetes' error wording, and properties
//! (agreement with JSON merge patch on list-free documents, idempotence, directive keys never
//! stored, merge keys never duplicated).

// Panicking on unexpected shapes is what a test should do.
#![allow(clippy::unwrap_used)]

use super::go_compat::{deduplicate_scalars, fmt_v, slice_stable};
use super::{UNSUPPORTED_MESSAGE, apply, supports};
use crate::patch::PatchError;
use crate::patch::merge_keys::{self, CONTAINER, OBJECT_META, POD_SPEC, Strategy as PatchStrategy};
use proptest::prelude::*;
use serde_json::{Value, json};

fn smp(group: &str, kind: &str, target: Value, patch: Value) -> Value {
    let mut target = target;
    apply(group, kind, &mut target, &patch).unwrap_or_else(|e| panic!("patch {patch} failed: {e}"));
    target
}

fn pod(target: Value, patch: Value) -> Value {
    smp("", "Pod", target, patch)
}

fn sts(target: Value, patch: Value) -> Value {
    smp("apps", "StatefulSet", target, patch)
}

fn pod_err(target: Value, patch: Value) -> PatchError {
    let mut t = target.clone();
    let err = apply("", "Pod", &mut t, &patch).expect_err("patch must fail");
    assert_eq!(t, target, "a failed patch leaves the target unchanged");
    err
}

fn malformed(err: PatchError) -> String {
    match err {
        PatchError::Malformed(m) => m,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| match e {
            Value::Object(m) => fmt_v(m.values().next().unwrap()),
            other => fmt_v(other),
        })
        .collect()
}

/// The StatefulSet of the acceptance manifests, as stored.
fn database() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "database", "namespace": "default", "annotations": {"a": "1"}},
        "spec": {
            "replicas": 3,
            "serviceName": "database-headless",
            "selector": {"matchLabels": {"app": "database"}},
            "template": {
                "metadata": {"labels": {"app": "database"}},
                "spec": {"containers": [{
                    "name": "db",
                    "image": "postgres:13-alpine",
                    "env": [{"name": "POSTGRES_DB", "value": "mydb"}],
                    "ports": [{"containerPort": 5432, "name": "db"}],
                    "volumeMounts": [{"mountPath": "/var/lib/postgresql/data", "name": "data"}]
                }]}
            },
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]
        }
    })
}

// ----- kubectl request shapes -----

#[test]
fn kubectl_apply_changes_only_the_image() {
    let out = sts(
        database(),
        json!({"spec": {"replicas": 4, "template": {"spec": {
            "$setElementOrder/containers": [{"name": "db"}],
            "containers": [{"image": "postgres:14-alpine", "name": "db"}]
        }}}}),
    );
    let mut expected = database();
    expected["spec"]["replicas"] = json!(4);
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = json!("postgres:14-alpine");
    assert_eq!(out, expected);
}

#[test]
fn kubectl_apply_env_null_removes_env_only() {
    let out = sts(
        database(),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "db", "env": null}]}}}}),
    );
    let container = &out["spec"]["template"]["spec"]["containers"][0];
    assert!(container.get("env").is_none());
    assert_eq!(container["ports"], json!([{"containerPort": 5432, "name": "db"}]));
    assert_eq!(
        container["volumeMounts"][0]["mountPath"],
        json!("/var/lib/postgresql/data")
    );
    assert_eq!(container["image"], json!("postgres:13-alpine"));
}

#[test]
fn rollout_undo_replaces_the_template() {
    let template = json!({
        "metadata": {"labels": {"app": "database"}},
        "spec": {"containers": [{"name": "db", "image": "postgres:12"}]}
    });
    let mut patch = json!({"spec": {"template": {"$patch": "replace"}}});
    for (k, v) in template.as_object().unwrap() {
        patch["spec"]["template"][k] = v.clone();
    }
    let out = sts(database(), patch);
    assert_eq!(out["spec"]["template"], template);
    assert_eq!(out["spec"]["replicas"], json!(3));
    assert_eq!(
        out["spec"]["volumeClaimTemplates"],
        database()["spec"]["volumeClaimTemplates"]
    );
}

#[test]
fn rollout_restart_adds_a_template_annotation() {
    let restarted = "kubectl.kubernetes.io/restartedAt";
    let patch =
        json!({"spec": {"template": {"metadata": {"annotations": {restarted: "2026-11-24T05:17:03Z"}}}}});
    let out = sts(database(), patch);
    assert_eq!(
        out["spec"]["template"]["metadata"]["annotations"][restarted],
        json!("2026-11-24T05:17:03Z")
    );
    assert_eq!(
        out["spec"]["template"]["spec"],
        database()["spec"]["template"]["spec"]
    );
}

#[test]
fn scale_patch() {
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "database"}, "spec": {"replicas": 3}, "status": {"replicas": 3}});
    let out = smp("autoscaling", "Scale", scale, json!({"spec": {"replicas": 5}}));
    assert_eq!(out["spec"], json!({"replicas": 5}));
    assert_eq!(out["status"], json!({"replicas": 3}));
}

// ----- maps and null -----

#[test]
fn maps_merge_recursively_and_null_deletes() {
    let out = pod(
        json!({"metadata": {"labels": {"a": "1", "b": "2"}, "name": "p"}, "spec": {"nodeName": "n1"}}),
        json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": null}),
    );
    assert_eq!(
        out,
        json!({"metadata": {"labels": {"b": "2", "c": "3"}, "name": "p"}})
    );
}

#[test]
fn existing_key_order_is_kept_and_new_keys_are_appended() {
    let out = pod(
        json!({"a": 1, "b": 2, "c": 3}),
        json!({"d": 4, "b": null, "a": 5}),
    );
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["a", "c", "d"]);
}

#[test]
fn type_change_replaces() {
    let out = pod(
        json!({"a": {"x": 1}, "b": [1], "c": "s"}),
        json!({"a": "now", "b": {"k": null, "v": 1}, "c": [1, null]}),
    );
    assert_eq!(out, json!({"a": "now", "b": {"v": 1}, "c": [1, null]}));
}

#[test]
fn values_copied_from_the_patch_are_cleaned() {
    let out = pod(
        json!({"metadata": {"name": "p"}}),
        json!({"spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "$retainKeys": ["containers"],
            "$deleteFromPrimitiveList/x": ["y"],
            "securityContext": {"$patch": "delete"},
            "containers": [{"name": "a", "image": null, "env": [{"name": "E", "value": null}]}, {"$patch": "replace"}]
        }}),
    );
    assert_eq!(
        out,
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "env": [{"name": "E"}]}]}})
    );
}

#[test]
fn null_patch_is_a_no_op_and_null_target_is_empty() {
    assert_eq!(pod(json!({"a": 1}), Value::Null), json!({"a": 1}));
    assert_eq!(pod(Value::Null, json!({"a": 1})), json!({"a": 1}));
}

// ----- $patch on maps -----

#[test]
fn patch_replace_on_a_nested_map() {
    let out = pod(
        json!({"spec": {"securityContext": {"runAsUser": 1, "fsGroup": 2}, "nodeName": "n"}}),
        json!({"spec": {"securityContext": {"$patch": "replace", "runAsGroup": 3}}}),
    );
    assert_eq!(
        out,
        json!({"spec": {"securityContext": {"runAsGroup": 3}, "nodeName": "n"}})
    );
}

#[test]
fn patch_replace_at_the_root() {
    let out = pod(
        json!({"a": 1, "b": {"c": 2}}),
        json!({"$patch": "replace", "b": {"d": 3}}),
    );
    assert_eq!(out, json!({"b": {"d": 3}}));
}

#[test]
fn patch_delete_on_a_map_empties_it_as_kubernetes_does() {
    let out = pod(
        json!({"spec": {"securityContext": {"runAsUser": 1}, "nodeName": "n"}}),
        json!({"spec": {"securityContext": {"$patch": "delete"}}}),
    );
    assert_eq!(out, json!({"spec": {"securityContext": {}, "nodeName": "n"}}));
    assert_eq!(pod(json!({"a": 1}), json!({"$patch": "delete"})), json!({}));
}

#[test]
fn patch_merge_on_a_map_and_unknown_directive() {
    let err = malformed(pod_err(
        json!({"spec": {"a": 1}}),
        json!({"spec": {"$patch": "merge", "b": 2}}),
    ));
    assert_eq!(err, "unknown patch type: merge in map: map[$patch:merge b:2]");
    let err = malformed(pod_err(json!({"spec": {"a": 1}}), json!({"spec": {"$patch": 7}})));
    assert_eq!(err, "unknown patch type: %!s(int64=7) in map: map[$patch:7]");
}

// ----- merge lists of objects -----

fn containers(out: &Value) -> &Value {
    &out["spec"]["containers"]
}

fn pod_with(list: Value) -> Value {
    json!({"spec": {"containers": list}})
}

#[test]
fn merge_list_merges_by_key_and_appends_new_keys() {
    let out = pod(
        pod_with(json!([{"name": "a", "image": "i1"}, {"name": "b", "image": "i2"}])),
        json!({"spec": {"containers": [{"name": "c", "image": "i3"}, {"name": "b", "image": "i4"}]}}),
    );
    // Kubernetes orders patch elements by patch order and places a new element before the
    // live elements it is compared with (kubectl always sends `$setElementOrder` anyway).
    assert_eq!(
        containers(&out),
        &json!([{"name": "c", "image": "i3"}, {"name": "a", "image": "i1"}, {"name": "b", "image": "i4"}])
    );
}

#[test]
fn merge_list_order_follows_kubernetes() {
    let live = pod_with(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
    // Patch items not in the live list go before live items they are compared with.
    let out = pod(
        live.clone(),
        json!({"spec": {"containers": [{"name": "d"}, {"name": "a", "x": 1}]}}),
    );
    assert_eq!(names(containers(&out)), ["d", "a", "b", "c"]);
    let out = pod(
        live,
        json!({"spec": {"containers": [{"name": "c", "x": 1}, {"name": "d"}]}}),
    );
    assert_eq!(names(containers(&out)), ["a", "b", "c", "d"]);
}

#[test]
fn delete_element_by_merge_key() {
    let out = pod(
        pod_with(json!([{"name": "a"}, {"name": "b"}, {"name": "a"}, {"name": "c"}])),
        json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}, {"name": "zz", "$patch": "delete"}]}}),
    );
    assert_eq!(names(containers(&out)), ["b", "c"]);
}

#[test]
fn delete_element_without_merge_key_is_rejected() {
    let err = malformed(pod_err(
        pod_with(json!([{"name": "a"}])),
        json!({"spec": {"containers": [{"$patch": "delete"}]}}),
    ));
    assert_eq!(
        err,
        "map: map[$patch:delete] does not contain declared merge key: name"
    );
}

#[test]
fn replace_directive_in_a_list() {
    let live = pod_with(json!([{"name": "a", "image": "x"}, {"name": "b"}]));
    let out = pod(
        live.clone(),
        json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "c", "image": null}]}}),
    );
    assert_eq!(containers(&out), &json!([{"name": "c"}]));
    let out = pod(live, json!({"spec": {"containers": [{"$patch": "replace"}]}}));
    assert_eq!(containers(&out), &json!([]));
}

#[test]
fn merge_and_unknown_directives_in_a_list_are_rejected() {
    let live = pod_with(json!([{"name": "a"}]));
    let err = malformed(pod_err(
        live.clone(),
        json!({"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}),
    ));
    assert_eq!(err, "merging lists cannot yet be specified in the patch");
    let err = malformed(pod_err(
        live,
        json!({"spec": {"containers": [{"name": "a", "$patch": "foo"}]}}),
    ));
    assert_eq!(err, "unknown patch type: foo in map: map[$patch:foo name:a]");
}

#[test]
fn missing_merge_key_is_rejected() {
    let err = malformed(pod_err(
        pod_with(json!([{"name": "a"}])),
        json!({"spec": {"containers": [{"image": "x"}]}}),
    ));
    assert_eq!(err, "map: map[image:x] does not contain declared merge key: name");
}

#[test]
fn nested_merge_lists_merge_too() {
    let live = pod_with(
        json!([{"name": "a", "ports": [{"containerPort": 80, "name": "http"}], "env": [{"name": "X", "value": "1"}]}]),
    );
    let out = pod(
        live,
        json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 443}], "env": [{"name": "X", "value": "2"}, {"name": "Y", "value": "3"}]}]}}),
    );
    assert_eq!(
        containers(&out),
        &json!([{"name": "a", "ports": [{"containerPort": 443}, {"containerPort": 80, "name": "http"}], "env": [{"name": "X", "value": "2"}, {"name": "Y", "value": "3"}]}])
    );
}

#[test]
fn lists_without_strategy_are_replaced() {
    let live = json!({"spec": {"tolerations": [{"key": "a"}], "containers": [{"name": "c", "args": ["1", "2"], "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}]}]}});
    let out = pod(
        live,
        json!({"spec": {"tolerations": [{"key": "b", "value": null}], "containers": [{"name": "c", "args": ["3"], "resizePolicy": [{"resourceName": "memory"}]}]}}),
    );
    assert_eq!(out["spec"]["tolerations"], json!([{"key": "b"}]));
    assert_eq!(out["spec"]["containers"][0]["args"], json!(["3"]));
    assert_eq!(
        out["spec"]["containers"][0]["resizePolicy"],
        json!([{"resourceName": "memory"}])
    );
    let out = sts(
        database(),
        json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "other"}}]}}),
    );
    assert_eq!(
        out["spec"]["volumeClaimTemplates"],
        json!([{"metadata": {"name": "other"}}])
    );
}

#[test]
fn lists_of_lists_fail() {
    let err = pod_err(
        json!({"metadata": {"finalizers": [["a"]]}}),
        json!({"metadata": {"finalizers": [["b"]]}}),
    );
    assert_eq!(err, PatchError::Failed("lists of lists are not supported".into()));
}

#[test]
fn mixed_element_types_are_rejected() {
    let err = malformed(pod_err(
        json!({"metadata": {"finalizers": ["a"]}}),
        json!({"metadata": {"finalizers": [1]}}),
    ));
    assert_eq!(err, "list element types are not identical: [[a] [1]]");
}

// ----- merge lists of scalars -----

#[test]
fn finalizers_merge_as_a_set() {
    let out = pod(
        json!({"metadata": {"finalizers": ["a", "b"]}}),
        json!({"metadata": {"finalizers": ["b", "c", "c"]}}),
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
}

#[test]
fn delete_from_primitive_list() {
    let out = pod(
        json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]}}),
    );
    assert_eq!(out["metadata"], json!({"finalizers": ["a", "c"]}));
    // A deletion list for an absent list does nothing and is not stored.
    let out = pod(
        json!({"metadata": {}}),
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
    );
    assert_eq!(out, json!({"metadata": {}}));
}

#[test]
fn delete_from_primitive_list_bad_format() {
    let err = malformed(pod_err(
        json!({"metadata": {}}),
        json!({"metadata": {"$deleteFromPrimitiveList": ["b"]}}),
    ));
    assert_eq!(err, "invalid patch format of primitive list");
}

#[test]
fn kubectl_apply_finalizer_changes() {
    let out = pod(
        json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
        json!({"metadata": {"$setElementOrder/finalizers": ["c", "d", "a"], "$deleteFromPrimitiveList/finalizers": ["b"], "finalizers": ["d"]}}),
    );
    assert_eq!(out["metadata"], json!({"finalizers": ["c", "d", "a"]}));
}

// ----- $retainKeys -----

#[test]
fn retain_keys_clears_unlisted_fields() {
    let live = json!({"spec": {"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "hostPath": {"path": "/x"}}]}});
    let out = pod(
        live,
        json!({"spec": {"volumes": [{"name": "v", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}}]}}),
    );
    assert_eq!(
        out["spec"]["volumes"],
        json!([{"name": "v", "configMap": {"name": "cm"}}, {"name": "w", "hostPath": {"path": "/x"}}])
    );
}

#[test]
fn retain_keys_rejects_unlisted_patch_fields_and_bad_values() {
    let live = json!({"spec": {"a": 1}});
    let err = malformed(pod_err(
        live.clone(),
        json!({"spec": {"$retainKeys": ["a"], "b": 2, "c": null}}),
    ));
    assert_eq!(err, "invalid patch format of retainKeys");
    let err = malformed(pod_err(live.clone(), json!({"spec": {"$retainKeys": "a"}})));
    assert_eq!(err, "invalid patch format of retainKeys");
    // Null values and parallel-list directives need not be listed.
    let out = pod(
        live,
        json!({"spec": {"$retainKeys": ["b"], "b": 2, "a": null, "$setElementOrder/x": []}}),
    );
    assert_eq!(out, json!({"spec": {"b": 2}}));
}

// ----- $setElementOrder -----

#[test]
fn set_element_order_orders_the_merged_list() {
    let out = pod(
        pod_with(json!([{"name": "a"}, {"name": "b"}])),
        json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "a"}], "containers": [{"name": "c"}]}}),
    );
    assert_eq!(names(containers(&out)), ["c", "b", "a"]);
}

#[test]
fn set_element_order_keeps_server_only_elements_in_place() {
    // x is not mentioned (another actor added it): it stays before b, as it was.
    let live = pod_with(json!([{"name": "a"}, {"name": "x"}, {"name": "b"}]));
    let out = pod(
        live.clone(),
        json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}),
    );
    assert_eq!(names(containers(&out)), ["x", "b", "a"]);
    let out = pod(
        live,
        json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "containers": [{"name": "c"}]}}),
    );
    assert_eq!(names(containers(&out)), ["a", "x", "b", "c"]);
}

#[test]
fn set_element_order_with_deletions_follows_kubernetes_in_place_semantics() {
    let live = pod_with(json!([{"name": "a"}, {"name": "x", "image": "i"}]));
    let out = pod(
        live,
        json!({"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "c"}],
            "containers": [{"name": "b"}, {"name": "c"}, {"name": "a", "$patch": "delete"}]
        }}),
    );
    assert_eq!(names(containers(&out)), ["x", "b", "c"]);
}

#[test]
fn set_element_order_for_a_new_list() {
    let out = pod(
        json!({"spec": {}}),
        json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}], "containers": [{"name": "b"}, {"name": "a", "$patch": "delete"}]}}),
    );
    assert_eq!(out, json!({"spec": {"containers": [{"name": "b"}]}}));
}

#[test]
fn set_element_order_mismatch_is_rejected() {
    let err = malformed(pod_err(
        pod_with(json!([{"name": "a"}, {"name": "b"}])),
        json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}], "containers": [{"name": "b"}, {"name": "a"}]}}),
    ));
    assert_eq!(
        err,
        "The order in patch list:\n[map[name:b] map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:b]]\n"
    );
}

#[test]
fn set_element_order_bad_formats() {
    let live = pod_with(json!([{"name": "a"}]));
    let err = malformed(pod_err(
        live.clone(),
        json!({"spec": {"$setElementOrder": [{"name": "a"}]}}),
    ));
    assert_eq!(err, "invalid patch format of setElementOrder list");
    let err = malformed(pod_err(
        live.clone(),
        json!({"spec": {"$setElementOrder/containers": {"name": "a"}}}),
    ));
    assert_eq!(
        err,
        "expected a []interface {}, but received a map[string]interface {}"
    );
    let err = malformed(pod_err(
        live,
        json!({"spec": {"$setElementOrder/containers": [{"image": "a"}]}}),
    ));
    assert_eq!(err, "map: map[image:a] does not contain declared merge key: name");
}

// ----- errors at the entry point -----

#[test]
fn non_object_patches_are_rejected() {
    let err = malformed(pod_err(json!({}), json!([{"op": "add"}])));
    assert_eq!(
        err,
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    );
    let err = malformed(pod_err(json!({}), json!("x")));
    assert_eq!(
        err,
        "json: cannot unmarshal string into Go value of type map[string]interface {}"
    );
}

#[test]
fn unsupported_kinds_are_refused() {
    let mut target = json!({"a": 1});
    let err = apply(
        "snapshot.storage.k8s.io",
        "VolumeSnapshot",
        &mut target,
        &json!({"a": 2}),
    )
    .unwrap_err();
    assert_eq!(err, PatchError::Malformed(UNSUPPORTED_MESSAGE.into()));
    assert_eq!(target, json!({"a": 1}));
    assert!(!supports("berth.dev", "Anything"));
    assert!(!supports("", "StatefulSet"));
}

// ----- the merge-key table -----

const SERVED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Pod"),
    ("", "Service"),
    ("", "Endpoints"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Event"),
    ("", "ServiceAccount"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "PersistentVolumeClaim"),
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("apps", "StatefulSet"),
    ("apps", "ControllerRevision"),
    ("storage.k8s.io", "StorageClass"),
    ("events.k8s.io", "Event"),
    ("coordination.k8s.io", "Lease"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("autoscaling", "Scale"),
];

#[test]
fn every_served_kind_supports_smp_with_object_meta() {
    for &(group, kind) in SERVED {
        assert!(supports(group, kind), "{group}/{kind}");
        let out = smp(
            group,
            kind,
            json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}], "finalizers": ["f"]}}),
            json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}, {"uid": "1", "name": "c"}], "finalizers": ["g"]}}),
        );
        assert_eq!(
            out["metadata"],
            json!({"ownerReferences": [{"uid": "2", "name": "b"}, {"uid": "1", "name": "c"}], "finalizers": ["g", "f"]}),
            "{group}/{kind}"
        );
    }
}

/// Every merge list of the served kinds: (group, kind, path to the list, merge key).
const MERGE_LISTS: &[(&str, &str, &[&str], &str)] = &[
    ("", "Pod", &["spec", "containers"], "name"),
    ("", "Pod", &["spec", "initContainers"], "name"),
    ("", "Pod", &["spec", "ephemeralContainers"], "name"),
    ("", "Pod", &["spec", "volumes"], "name"),
    ("", "Pod", &["spec", "imagePullSecrets"], "name"),
    ("", "Pod", &["spec", "hostAliases"], "ip"),
    ("", "Pod", &["spec", "topologySpreadConstraints"], "topologyKey"),
    ("", "Pod", &["spec", "schedulingGates"], "name"),
    ("", "Pod", &["spec", "resourceClaims"], "name"),
    ("", "Pod", &["spec", "containers", "0", "ports"], "containerPort"),
    ("", "Pod", &["spec", "containers", "0", "env"], "name"),
    (
        "",
        "Pod",
        &["spec", "containers", "0", "volumeMounts"],
        "mountPath",
    ),
    (
        "",
        "Pod",
        &["spec", "containers", "0", "volumeDevices"],
        "devicePath",
    ),
    ("", "Pod", &["spec", "initContainers", "0", "env"], "name"),
    (
        "",
        "Pod",
        &["spec", "ephemeralContainers", "0", "volumeMounts"],
        "mountPath",
    ),
    ("", "Pod", &["status", "conditions"], "type"),
    ("", "Pod", &["status", "podIPs"], "ip"),
    ("", "Pod", &["status", "hostIPs"], "ip"),
    ("", "Pod", &["status", "resourceClaimStatuses"], "name"),
    ("", "Service", &["spec", "ports"], "port"),
    ("", "Service", &["status", "conditions"], "type"),
    ("", "ServiceAccount", &["secrets"], "name"),
    ("", "Node", &["status", "conditions"], "type"),
    ("", "Node", &["status", "addresses"], "type"),
    ("", "Namespace", &["status", "conditions"], "type"),
    ("", "PersistentVolumeClaim", &["status", "conditions"], "type"),
    ("apps", "StatefulSet", &["status", "conditions"], "type"),
    (
        "apps",
        "StatefulSet",
        &["spec", "template", "spec", "containers"],
        "name",
    ),
    (
        "apps",
        "StatefulSet",
        &["spec", "template", "spec", "volumes"],
        "name",
    ),
    (
        "apps",
        "StatefulSet",
        &["spec", "template", "spec", "containers", "0", "ports"],
        "containerPort",
    ),
    (
        "apps",
        "StatefulSet",
        &["spec", "template", "metadata", "ownerReferences"],
        "uid",
    ),
];

/// Builds `{path: value}`, list indexes ("0") becoming one-element lists of objects that carry
/// the merge key `name` so that the enclosing merge list can find them.
fn nest(path: &[&str], value: Value) -> Value {
    match path.split_first() {
        None => value,
        Some((step, rest)) => {
            if step.parse::<usize>().is_ok() {
                let mut element = nest(rest, value);
                element["name"] = json!("c0");
                json!([element])
            } else {
                json!({ *step: nest(rest, value) })
            }
        }
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, step| match step.parse::<usize>() {
        Ok(i) => &v[i],
        Err(_) => &v[*step],
    })
}

#[test]
fn merge_key_table() {
    for &(group, kind, path, key) in MERGE_LISTS {
        let live = nest(path, json!([{key: "k1", "f": 1, "g": 1}, {key: "k2", "f": 2}]));
        let patch = nest(path, json!([{key: "k3"}, {key: "k1", "f": 10, "g": null}]));
        let out = smp(group, kind, live, patch);
        assert_eq!(
            at(&out, path),
            &json!([{key: "k3"}, {key: "k1", "f": 10}, {key: "k2", "f": 2}]),
            "{group}/{kind} {path:?}"
        );
    }
    // Scalar merge lists.
    for (group, kind, path) in [
        ("", "Node", &["spec", "podCIDRs"][..]),
        ("", "Pod", &["metadata", "finalizers"][..]),
    ] {
        let out = smp(
            group,
            kind,
            nest(path, json!(["a", "b"])),
            nest(path, json!(["c", "a"])),
        );
        assert_eq!(at(&out, path), &json!(["c", "a", "b"]), "{kind} {path:?}");
    }
    // Fields carrying retainKeys.
    assert!(
        POD_SPEC
            .field("volumes")
            .is_some_and(|f| f.retain_keys && f.strategy == PatchStrategy::Merge)
    );
    assert!(POD_SPEC.field("resourceClaims").is_some_and(|f| f.retain_keys));
    assert!(
        CONTAINER.field("resizePolicy").is_none(),
        "resizePolicy is atomic in Kubernetes 1.32"
    );
    assert!(
        OBJECT_META
            .field("finalizers")
            .is_some_and(|f| f.merge_key.is_none() && f.strategy == PatchStrategy::Merge)
    );
    assert!(merge_keys::schema_for("apps", "Deployment").is_none());
}

#[test]
fn non_merge_lists_of_served_kinds_are_replaced() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("", "Endpoints", &["subsets"]),
        ("", "Node", &["spec", "taints"]),
        ("", "Service", &["spec", "ipFamilies"]),
        ("rbac.authorization.k8s.io", "ClusterRole", &["rules"]),
        ("", "Pod", &["status", "containerStatuses"]),
        ("", "Pod", &["metadata", "managedFields"]),
    ];
    for &(group, kind, path) in cases {
        let out = smp(
            group,
            kind,
            nest(path, json!([{"name": "a"}, {"name": "b"}])),
            nest(path, json!([{"name": "c"}])),
        );
        assert_eq!(at(&out, path), &json!([{"name": "c"}]), "{kind} {path:?}");
    }
}

// ----- Go compatibility helpers -----

#[test]
fn go_formatting() {
    assert_eq!(
        fmt_v(&json!({"b": [1, "x", null], "a": true})),
        "map[a:true b:[1 x <nil>]]"
    );
    assert_eq!(fmt_v(&json!(1.5)), "1.5");
    assert_eq!(fmt_v(&json!(1e6)), "1e+06");
    assert_eq!(fmt_v(&json!(0.00001)), "1e-05");
    assert_eq!(fmt_v(&json!(123456.0)), "123456");
}

#[test]
fn go_deduplicate_scalars_moves_the_last_element() {
    let out = deduplicate_scalars(vec![json!("a"), json!("b"), json!("a"), json!("c")]);
    assert_eq!(out, vec![json!("a"), json!("b"), json!("c")]);
    let out = deduplicate_scalars(vec![json!(1), json!(1), json!(2), json!(3)]);
    assert_eq!(out, vec![json!(1), json!(3), json!(2)]);
}

proptest! {
    #[test]
    fn go_stable_sort_is_a_stable_sort(v in prop::collection::vec((0u8..8, any::<u16>()), 0..120)) {
        let mut ours = v.clone();
        slice_stable(&mut ours, |a, b| a.0 < b.0);
        let mut std = v;
        std.sort_by_key(|e| e.0);
        prop_assert_eq!(ours, std);
    }
}

// ----- properties -----

const KEYS: &[&str] = &["a", "b", "c", "spec", "metadata", "template", "labels"];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::from),
        "[a-c]{0,2}".prop_map(Value::String),
    ]
}

/// JSON documents without lists; `nulls` allows null values (patch deletions).
fn list_free(nulls: bool) -> impl Strategy<Value = Value> {
    let leaf = if nulls {
        prop_oneof![1 => Just(Value::Null), 4 => scalar()].boxed()
    } else {
        scalar().boxed()
    };
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop::collection::btree_map(prop::sample::select(KEYS).prop_map(String::from), inner, 0..5)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    })
}

fn object(nulls: bool) -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(KEYS).prop_map(String::from),
        list_free(nulls),
        0..5,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
}

const NAMES: &[&str] = &["a", "b", "c", "d", "e"];

/// A live Pod: containers with unique names, each with unique ports, and finalizers.
fn live_pod() -> impl Strategy<Value = Value> {
    let container = (prop::sample::subsequence(vec![80, 443, 8080], 0..3), "[a-c]{1,2}");
    (
        prop::sample::subsequence(NAMES.to_vec(), 0..=5).prop_shuffle(),
        prop::collection::vec(container, 5),
        prop::sample::subsequence(vec!["f1", "f2", "f3"], 0..=3),
    )
        .prop_map(|(names, specs, finalizers)| {
            let containers: Vec<Value> = names
                .iter()
                .zip(specs)
                .map(|(name, (ports, image))| {
                    let ports: Vec<Value> = ports.iter().map(|p| json!({"containerPort": p})).collect();
                    json!({"name": name, "image": image, "ports": ports})
                })
                .collect();
            json!({"metadata": {"name": "p", "finalizers": finalizers}, "spec": {"containers": containers}})
        })
}

/// What a patch does to one container.
#[derive(Debug, Clone)]
enum Op {
    Delete,
    Image(String),
    EnvNull,
    Ports(Vec<u16>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Delete),
        "[d-f]{1,2}".prop_map(Op::Image),
        Just(Op::EnvNull),
        prop::sample::subsequence(vec![80u16, 443, 9090], 0..3).prop_map(Op::Ports),
    ]
}

/// A kubectl-like patch: container operations (unique names), an optional `$setElementOrder`
/// (consistent with the patch list), finalizer additions and deletions.
fn pod_patch() -> impl Strategy<Value = Value> {
    (
        prop::sample::subsequence(NAMES.to_vec(), 0..=5).prop_shuffle(),
        prop::collection::vec(op(), 5),
        any::<bool>(),
        prop::sample::subsequence(NAMES.to_vec(), 0..=5),
        prop::sample::subsequence(vec!["f2", "f4"], 0..=2),
        prop::sample::subsequence(vec!["f1", "f3"], 0..=2),
    )
        .prop_map(|(names, ops, with_order, extra_order, add_fin, del_fin)| {
            let mut list = Vec::new();
            let mut order = Vec::new();
            for (name, op) in names.iter().zip(ops) {
                let element = match op {
                    Op::Delete => json!({"name": name, "$patch": "delete"}),
                    Op::Image(image) => json!({"name": name, "image": image}),
                    Op::EnvNull => json!({"name": name, "env": null}),
                    Op::Ports(ports) => {
                        let ports: Vec<Value> = ports.iter().map(|p| json!({"containerPort": p})).collect();
                        json!({"name": name, "ports": ports})
                    }
                };
                if element.get("$patch").is_none() {
                    order.push(json!({"name": name}));
                }
                list.push(element);
            }
            for name in extra_order {
                if !names.contains(&name) {
                    order.push(json!({"name": name}));
                }
            }
            let mut spec = json!({});
            if !list.is_empty() {
                spec["containers"] = Value::Array(list);
            }
            // Like kubectl, never an empty order (with an empty live and patch list Kubernetes
            // fails with "no elements in any of the given slices").
            if with_order && !order.is_empty() {
                spec["$setElementOrder/containers"] = Value::Array(order);
            }
            json!({
                "metadata": {"finalizers": add_fin, "$deleteFromPrimitiveList/finalizers": del_fin},
                "spec": spec
            })
        })
}

fn directive_keys(v: &Value, found: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k.starts_with('$') {
                    found.push(k.clone());
                }
                directive_keys(v, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| directive_keys(v, found)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn list_free_documents_patch_like_json_merge_patch(target in object(true), patch in object(true)) {
        let mut expected = target.clone();
        crate::patch::merge(&mut expected, &patch);
        let out = pod(target, patch);
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn applying_twice_is_applying_once(target in live_pod(), patch in pod_patch()) {
        let mut once = target;
        if apply("", "Pod", &mut once, &patch).is_ok() {
            let twice = pod(once.clone(), patch);
            prop_assert_eq!(twice, once);
        }
    }

    #[test]
    fn list_free_patches_are_idempotent(target in object(true), patch in object(true)) {
        let once = pod(target, patch.clone());
        prop_assert_eq!(pod(once.clone(), patch), once);
    }

    #[test]
    fn replace_at_the_root_yields_the_patch(target in object(true), patch in object(false)) {
        let mut replacing = patch.clone();
        replacing["$patch"] = json!("replace");
        prop_assert_eq!(pod(target.clone(), replacing.clone()), patch.clone());
        // Also below the root, for the template of a StatefulSet.
        let out = sts(json!({"spec": {"template": target}}), json!({"spec": {"template": replacing}}));
        prop_assert_eq!(&out["spec"]["template"], &patch);
    }

    #[test]
    fn directive_keys_never_remain(target in live_pod(), patch in pod_patch(), new_spec in any::<bool>()) {
        let target = if new_spec { json!({"metadata": {}}) } else { target };
        let mut out = target;
        if apply("", "Pod", &mut out, &patch).is_ok() {
            let mut found = Vec::new();
            directive_keys(&out, &mut found);
            prop_assert!(found.is_empty(), "directive keys {:?} in {}", found, out);
        }
    }

    #[test]
    fn merging_by_key_never_duplicates_keys(target in live_pod(), patch in pod_patch()) {
        let mut out = target.clone();
        if let Err(e) = apply("", "Pod", &mut out, &patch) {
            // The one error these patches can hit, as in Kubernetes: an order for a list that
            // is empty both live and in the patch.
            prop_assert_eq!(e, PatchError::Malformed("no elements in any of the given slices".into()));
            return Ok(());
        }
        let result = names(&out["spec"]["containers"]);
        let mut unique = result.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), result.len(), "duplicates in {:?}", result);
        // The names are the live ones minus deletions plus the patch's others.
        let mut expected: Vec<String> = names(&target["spec"]["containers"]);
        for element in patch["spec"]["containers"].as_array().into_iter().flatten() {
            let name = element["name"].as_str().unwrap().to_string();
            if element.get("$patch").is_some() {
                expected.retain(|n| *n != name);
            } else if !expected.contains(&name) {
                expected.push(name);
            }
        }
        expected.sort();
        prop_assert_eq!(unique, expected);
        for c in out["spec"]["containers"].as_array().unwrap() {
            let ports = c.get("ports").map(names).unwrap_or_default();
            let mut unique_ports = ports.clone();
            unique_ports.dedup();
            unique_ports.sort();
            unique_ports.dedup();
            prop_assert_eq!(unique_ports.len(), ports.len());
        }
        let finalizers = names(&out["metadata"]["finalizers"]);
        let mut unique_finalizers = finalizers.clone();
        unique_finalizers.sort();
        unique_finalizers.dedup();
        prop_assert_eq!(unique_finalizers.len(), finalizers.len());
    }
}
