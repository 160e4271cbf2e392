//! Storage admission and protection: the default StorageClass is given to claims that name
//! none, and claims in use are not deleted before their pods.

use crate::harness::{Berth, wait_for};
use std::time::Duration;

#[test]
fn claims_without_a_class_get_the_default_one() {
    let k = Berth::start();
    let out = k.apply_yaml(
        "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: external
  annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}
provisioner: example.com/external
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: defaulted}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: classless}
spec: {storageClassName: \"\", accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
",
    );
    assert!(out.success(), "{out:?}");
    let sc = k.kubectl_ok(&["get", "sc"]);
    // Two defaults (the built-in `standard` and this one): the newest wins, as in Kubernetes.
    assert!(sc.contains("external (default)"), "{sc}");
    let class = |name: &str| k.kubectl_ok(&["get", "pvc", name, "-o", "jsonpath={.spec.storageClassName}"]);
    assert_eq!(class("defaulted"), "external");
    assert_eq!(class("classless"), "");
}

#[test]
fn a_claim_in_use_waits_for_its_pod() {
    let k = Berth::start();
    let out = k.apply_yaml(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {storageClassName: \"\", accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  containers: [{name: c, image: busybox, volumeMounts: [{name: d, mountPath: /data}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
",
    );
    assert!(out.success(), "{out:?}");
    assert_eq!(
        k.kubectl_ok(&["get", "pvc", "data", "-o", "jsonpath={.metadata.finalizers}"]),
        r#"["kubernetes.io/pvc-protection"]"#
    );
    k.kubectl_ok(&["delete", "pvc", "data", "--wait=false"]);
    std::thread::sleep(Duration::from_secs(2));
    let table = k.kubectl_ok(&["get", "pvc", "data"]);
    assert!(
        table.contains("Terminating"),
        "the claim must stay while its pod runs: {table}"
    );
    k.kubectl_ok(&["delete", "pod", "user", "--wait=false"]);
    wait_for(
        "the claim to go once its pod is gone",
        Duration::from_secs(20),
        || !k.kubectl(&["get", "pvc", "data"]).success(),
    );
}
