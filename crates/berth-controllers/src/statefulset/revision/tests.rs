//! Tests for revision data, hashing, equality, choice and truncation (items 55–62).
#![allow(clippy::unwrap_used)]

use super::*;
use k8s_openapi::api::apps::v1::StatefulSet;
use serde_json::json;

const DATA_133: &str = r#"{"spec":{"template":{"$patch":"replace","metadata":{"annotations":{"test":"value"},"creationTimestamp":null,"labels":{"app":"foo"}},"spec":{"containers":[{"image":"test","imagePullPolicy":"Always","name":"test","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],"dnsPolicy":"ClusterFirst","restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},"terminationGracePeriodSeconds":30}}}}"#;

fn set_view() -> (SetView, PodTemplateSpec) {
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "test", "namespace": "default", "uid": "u"},
        "spec": {"selector": {"matchLabels": {"app": "foo"}}, "template": {
            "metadata": {"labels": {"app": "foo"}, "annotations": {"test": "value"}},
            "spec": {"containers": [{"image": "test", "imagePullPolicy": "Always", "name": "test",
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                "securityContext": {}, "terminationGracePeriodSeconds": 30}}}
    }))
    .unwrap();
    (SetView::new(&set), set.spec.unwrap().template)
}

#[test]
fn item_56_hash_matches_kubernetes_compatibility_vectors() {
    // k/k pkg/controller/statefulset/stateful_set_compatibility_test.go (1.33) and
    // testdata/compatibility_revision_1.34.0.json.
    assert_eq!(hash(DATA_133, 0), "c77f6d978");
    let (set, template) = set_view();
    let r = new_revision(&set, &template, 1, 0).unwrap();
    assert_eq!(
        go_json(&r.data.as_ref().unwrap().0),
        DATA_133.replace(r#""creationTimestamp":null,"#, "")
    );
    assert_eq!(r.metadata.name.as_deref(), Some("test-776999688b"));
    assert_eq!(r.metadata.labels.as_ref().unwrap()[HASH_LABEL], "776999688b");
    assert_eq!(r.metadata.labels.as_ref().unwrap()["app"], "foo");
    assert_ne!(
        hash(DATA_133, 1),
        hash(DATA_133, 0),
        "collision count changes the hash"
    );
}

#[test]
fn item_55_go_json_sorts_keys_and_escapes_like_go() {
    let v = json!({"b": 1, "a": {"z": "<&>\u{2028}", "y": [true, null, "\n\t\"\\\u{1}"]}});
    assert_eq!(
        go_json(&v),
        r#"{"a":{"y":[true,null,"\n\t\"\\\u0001"],"z":"\u003c\u0026\u003e\u2028"},"b":1}"#
    );
    assert_eq!(fnv1_32(&[b""]), 0x811c_9dc5);
    assert_eq!(revision_name(&"x".repeat(300), "h").len(), 225);
}

#[test]
fn item_55_template_gets_go_zero_structs() {
    let t: PodTemplateSpec = serde_json::from_value(json!({"spec": {"containers": [{"name": "c"}],
        "initContainers": [{"name": "i"}]}}))
    .unwrap();
    let v = template_value(&t).unwrap();
    assert_eq!(v["metadata"], json!({}));
    assert_eq!(v["spec"]["containers"][0]["resources"], json!({}));
    assert_eq!(v["spec"]["initContainers"][0]["resources"], json!({}));
}

#[test]
fn item_62_equality_is_semantic() {
    let a: serde_json::Value = serde_json::from_str(DATA_133).unwrap();
    let (set, template) = set_view();
    let b = new_revision(&set, &template, 1, 0).unwrap().data.unwrap();
    assert!(equal_data(Some(&RawExtension(a.clone())), Some(&b)));
    let mut c = a.clone();
    c["spec"]["template"]["spec"]["containers"][0]["image"] = json!("other");
    assert!(!equal_data(Some(&RawExtension(c)), Some(&b)));
    // The stored 1.33 revision is chosen as the update revision: no new revision, no rollout.
    let mut old = new_revision(&set, &template, 1, 0).unwrap();
    old.metadata.name = Some("test-c77f6d978".into());
    old.data = Some(RawExtension(a));
    let chosen = choose(&set, &template, &[old], &[], 0, "test-c77f6d978").unwrap();
    assert!(chosen.create.is_none() && chosen.bump.is_none());
    assert_eq!(chosen.update.metadata.name.as_deref(), Some("test-c77f6d978"));
}

#[test]
fn item_60_truncate_keeps_live_and_the_newest() {
    let (set, template) = set_view();
    let revs: Vec<ControllerRevision> = (1..=5)
        .map(|i| {
            let mut r = new_revision(&set, &template, i, 0).unwrap();
            r.metadata.name = Some(format!("r{i}"));
            r
        })
        .collect();
    let mut pod = Pod::default();
    pod.metadata.labels = Some([("controller-revision-hash".to_string(), "r1".to_string())].into());
    assert_eq!(truncate(&revs, 1, &["r5", "r4"], &[&pod]), vec!["r2".to_string()]);
    assert!(truncate(&revs, -1, &["r5"], &[]).is_empty());
    assert_eq!(truncate(&revs, 0, &["r5"], &[]), vec!["r1", "r2", "r3", "r4"]);
}
