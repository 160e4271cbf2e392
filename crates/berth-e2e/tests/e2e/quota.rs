//! ResourceQuota and LimitRange: admission denies what would exceed a quota or a limit range
//! with Kubernetes' messages, the quota controller reports usage (`kubectl describe quota`,
//! `get quota -o yaml`) and gives it back after deletions, and limit ranges default
//! containers' requests.

use crate::harness::{Berth, EVENTUALLY, table, wait_for, wait_for_value};
use serde_json::Value;

/// `status.used` of quota `name` in `ns`, once the controller has measured every hard resource.
fn used(k: &Berth, ns: &str, name: &str) -> Value {
    wait_for_value("the quota's usage", EVENTUALLY, || {
        let q = k.get_json(&["quota", name, "-n", ns]);
        let hard = q["spec"]["hard"].as_object()?;
        let used = q["status"]["used"].as_object()?;
        hard.keys()
            .all(|r| used.contains_key(r))
            .then(|| q["status"]["used"].clone())
    })
}

/// Waits until `status.used[resource]` of the quota is `value`.
fn wait_used(k: &Berth, ns: &str, name: &str, resource: &str, value: &str) {
    wait_for(&format!("{resource} used to be {value}"), EVENTUALLY, || {
        used(k, ns, name)[resource] == value
    });
}

/// `kubectl create -f -` that must fail; returns stderr.
fn create_denied(k: &Berth, ns: &str, yaml: &str) -> String {
    let out = k.kubectl_stdin(&["create", "-n", ns, "-f", "-"], yaml);
    assert!(!out.success(), "expected a denial, got {out:?}");
    out.stderr
}

fn claim(name: &str, class: &str, storage: &str) -> String {
    format!(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}}}
spec: {{storageClassName: \"{class}\", accessModes: [ReadWriteOnce], resources: {{requests: {{storage: {storage}}}}}}}
"
    )
}

fn pod(name: &str, resources: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  containers: [{{name: app, image: busybox{resources}}}]
"
    )
}

#[test]
fn a_statefulset_claim_past_the_storage_quota_fails_and_usage_returns_after_deletion() {
    let k = Berth::start();
    k.kubectl_ok(&["create", "namespace", "shop"]);
    let out = k.kubectl_stdin(
        &["apply", "-n", "shop", "-f", "-"],
        "apiVersion: v1
kind: ResourceQuota
metadata: {name: storage}
spec:
  hard: {requests.storage: 250Mi, persistentvolumeclaims: \"5\"}
",
    );
    assert!(out.success(), "{out:?}");
    let u = used(&k, "shop", "storage");
    assert_eq!(u["requests.storage"], "0");
    assert_eq!(u["persistentvolumeclaims"], "0");

    let out = k.kubectl_stdin(
        &["apply", "-n", "shop", "-f", "-"],
        "apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 3
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: busybox}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 100Mi}}}
",
    );
    assert!(out.success(), "{out:?}");
    let denial = "persistentvolumeclaims \"data-web-2\" is forbidden: exceeded quota: storage, \
                  requested: requests.storage=100Mi, used: requests.storage=200Mi, limited: requests.storage=250Mi";
    let message = wait_for_value("the FailedCreate event of the third claim", EVENTUALLY, || {
        let list = k.get_json(&[
            "events",
            "-n",
            "shop",
            "--field-selector",
            "involvedObject.kind=StatefulSet,involvedObject.name=web,reason=FailedCreate",
        ]);
        list["items"]
            .as_array()?
            .iter()
            .filter_map(|e| e["message"].as_str())
            .find(|m| m.contains("data-web-2"))
            .map(str::to_string)
    });
    assert!(
        message.starts_with("create Claim data-web-2 for Pod web-2 in StatefulSet web failed error: "),
        "{message}"
    );
    assert!(message.contains(denial), "{message}");

    wait_used(&k, "shop", "storage", "requests.storage", "200Mi");
    let yaml = k.kubectl_ok(&["get", "quota", "storage", "-n", "shop", "-o", "yaml"]);
    assert!(
        yaml.contains("used:\n    persistentvolumeclaims: \"2\"\n    requests.storage: 200Mi"),
        "{yaml}"
    );
    assert!(
        yaml.contains("hard:\n    persistentvolumeclaims: \"5\"\n    requests.storage: 250Mi"),
        "{yaml}"
    );
    let described = k.kubectl_ok(&["describe", "quota", "storage", "-n", "shop"]);
    let rows = table(&described);
    assert!(
        rows.contains(&vec!["requests.storage".into(), "200Mi".into(), "250Mi".into()]),
        "{described}"
    );
    assert!(
        rows.contains(&vec!["persistentvolumeclaims".into(), "2".into(), "5".into()]),
        "{described}"
    );

    // Deleting the set and its claims gives the storage back.
    k.kubectl_ok(&["delete", "statefulset", "web", "-n", "shop"]);
    k.kubectl_ok(&[
        "delete",
        "pvc",
        "data-web-0",
        "data-web-1",
        "-n",
        "shop",
        "--wait=false",
    ]);
    wait_used(&k, "shop", "storage", "requests.storage", "0");
    wait_used(&k, "shop", "storage", "persistentvolumeclaims", "0");
    // And the room is there again.
    let out = k.kubectl_stdin(&["create", "-n", "shop", "-f", "-"], &claim("again", "", "250Mi"));
    assert!(out.success(), "{out:?}");
    wait_used(&k, "shop", "storage", "requests.storage", "250Mi");
}

#[test]
fn per_class_quotas_and_limit_ranges_on_claims() {
    let k = Berth::start();
    k.kubectl_ok(&["create", "namespace", "tiers"]);
    let out = k.apply_yaml(
        "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: gold}
provisioner: example.com/gold
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: gold, namespace: tiers}
spec:
  hard:
    gold.storageclass.storage.k8s.io/requests.storage: 1Gi
    gold.storageclass.storage.k8s.io/persistentvolumeclaims: \"1\"
---
apiVersion: v1
kind: LimitRange
metadata: {name: sizes, namespace: tiers}
spec:
  limits:
  - type: PersistentVolumeClaim
    min: {storage: 10Mi}
    max: {storage: 5Gi}
",
    );
    assert!(out.success(), "{out:?}");
    used(&k, "tiers", "gold");
    let err = create_denied(&k, "tiers", &claim("fast", "gold", "2Gi"));
    assert!(
        err.contains(
            "persistentvolumeclaims \"fast\" is forbidden: exceeded quota: gold, requested: \
             gold.storageclass.storage.k8s.io/requests.storage=2Gi, used: \
             gold.storageclass.storage.k8s.io/requests.storage=0, limited: \
             gold.storageclass.storage.k8s.io/requests.storage=1Gi"
        ),
        "{err}"
    );
    // Another class is not covered by the gold quota.
    let out = k.kubectl_stdin(&["create", "-n", "tiers", "-f", "-"], &claim("plain", "", "2Gi"));
    assert!(out.success(), "{out:?}");
    let out = k.kubectl_stdin(
        &["create", "-n", "tiers", "-f", "-"],
        &claim("fast", "gold", "1Gi"),
    );
    assert!(out.success(), "{out:?}");
    wait_used(
        &k,
        "tiers",
        "gold",
        "gold.storageclass.storage.k8s.io/requests.storage",
        "1Gi",
    );
    let err = create_denied(&k, "tiers", &claim("fast2", "gold", "10Mi"));
    assert!(
        err.contains(
            "exceeded quota: gold, requested: gold.storageclass.storage.k8s.io/persistentvolumeclaims=1"
        ),
        "{err}"
    );

    // The limit range bounds every claim's size.
    let err = create_denied(&k, "tiers", &claim("big", "", "6Gi"));
    assert!(
        err.contains(
            "persistentvolumeclaims \"big\" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 6Gi"
        ),
        "{err}"
    );
    let err = create_denied(&k, "tiers", &claim("tiny", "", "1Mi"));
    assert!(
        err.contains(
            "persistentvolumeclaims \"tiny\" is forbidden: minimum storage usage per PersistentVolumeClaim is 10Mi, but request is 1Mi"
        ),
        "{err}"
    );
}

#[test]
fn object_count_and_pod_quotas() {
    let k = Berth::start();
    k.kubectl_ok(&["create", "namespace", "counted"]);
    let out = k.kubectl_stdin(
        &["apply", "-n", "counted", "-f", "-"],
        "apiVersion: v1
kind: ResourceQuota
metadata: {name: counts}
spec:
  hard: {count/statefulsets.apps: \"1\", pods: \"2\"}
",
    );
    assert!(out.success(), "{out:?}");
    used(&k, "counted", "counts");
    let sts = |name: &str| {
        format!(
            "apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: {name}}}
spec:
  replicas: 0
  serviceName: {name}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: app, image: busybox}}]}}
"
        )
    };
    let out = k.kubectl_stdin(&["create", "-n", "counted", "-f", "-"], &sts("one"));
    assert!(out.success(), "{out:?}");
    let err = create_denied(&k, "counted", &sts("two"));
    assert!(
        err.contains(
            "statefulsets.apps \"two\" is forbidden: exceeded quota: counts, requested: count/statefulsets.apps=1, \
             used: count/statefulsets.apps=1, limited: count/statefulsets.apps=1"
        ),
        "{err}"
    );

    for name in ["p1", "p2"] {
        let out = k.kubectl_stdin(&["create", "-n", "counted", "-f", "-"], &pod(name, ""));
        assert!(out.success(), "{out:?}");
    }
    let err = create_denied(&k, "counted", &pod("p3", ""));
    assert!(
        err.contains("pods \"p3\" is forbidden: exceeded quota: counts, requested: pods=1, used: pods=2, limited: pods=2"),
        "{err}"
    );
    wait_used(&k, "counted", "counts", "pods", "2");
    k.kubectl_ok(&[
        "delete",
        "pod",
        "p1",
        "-n",
        "counted",
        "--grace-period=0",
        "--force",
    ]);
    wait_used(&k, "counted", "counts", "pods", "1");
    let out = k.kubectl_stdin(&["create", "-n", "counted", "-f", "-"], &pod("p3", ""));
    assert!(out.success(), "{out:?}");
    k.kubectl_ok(&["delete", "statefulset", "one", "-n", "counted"]);
    wait_used(&k, "counted", "counts", "count/statefulsets.apps", "0");
    let out = k.kubectl_stdin(&["create", "-n", "counted", "-f", "-"], &sts("two"));
    assert!(out.success(), "{out:?}");
}

#[test]
fn compute_quotas_need_requests_and_limit_ranges_default_them() {
    let k = Berth::start();
    k.kubectl_ok(&["create", "namespace", "compute"]);
    let out = k.kubectl_stdin(
        &["apply", "-n", "compute", "-f", "-"],
        "apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec:
  hard: {requests.cpu: \"1\", requests.memory: 1Gi}
",
    );
    assert!(out.success(), "{out:?}");
    used(&k, "compute", "compute");
    let err = create_denied(&k, "compute", &pod("bare", ""));
    assert!(
        err.contains(
            "pods \"bare\" is forbidden: failed quota: compute: must specify requests.cpu for: app; requests.memory for: app"
        ),
        "{err}"
    );
    let err = create_denied(
        &k,
        "compute",
        &pod("greedy", ", resources: {requests: {cpu: 1500m, memory: 64Mi}}"),
    );
    assert!(
        err.contains(
            "pods \"greedy\" is forbidden: exceeded quota: compute, requested: requests.cpu=1500m, \
             used: requests.cpu=0, limited: requests.cpu=1"
        ),
        "{err}"
    );

    let out = k.kubectl_stdin(
        &["apply", "-n", "compute", "-f", "-"],
        "apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits:
  - type: Container
    defaultRequest: {cpu: 250m, memory: 64Mi}
    default: {cpu: 500m, memory: 128Mi}
    max: {cpu: 800m}
",
    );
    assert!(out.success(), "{out:?}");
    let out = k.kubectl_stdin(&["create", "-n", "compute", "-f", "-"], &pod("bare", ""));
    assert!(out.success(), "{out:?}");
    let p = k.get_json(&["pod", "bare", "-n", "compute"]);
    assert_eq!(
        p["spec"]["containers"][0]["resources"],
        serde_json::json!({"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}})
    );
    assert_eq!(
        p["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app"
    );
    wait_used(&k, "compute", "compute", "requests.cpu", "250m");
    assert_eq!(used(&k, "compute", "compute")["requests.memory"], "64Mi");
    let err = create_denied(
        &k,
        "compute",
        &pod(
            "wide",
            ", resources: {requests: {cpu: 100m}, limits: {cpu: \"1\"}}",
        ),
    );
    assert!(
        err.contains("pods \"wide\" is forbidden: maximum cpu usage per Container is 800m, but limit is 1"),
        "{err}"
    );
}
