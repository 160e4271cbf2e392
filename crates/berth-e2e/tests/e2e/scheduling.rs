//! The scheduler end to end on three simulated nodes in zones a, b and c: required zone
//! anti-affinity spreads a StatefulSet one pod per zone and holds the extra replica with
//! Kubernetes' `FailedScheduling` message; an untolerated taint and an impossible
//! `nodeSelector` keep a pod Pending until the taint goes; a `DoNotSchedule` topology spread
//! constraint balances pods created all at once.

use crate::harness::{Berth, EVENTUALLY, wait_for, wait_for_value};
use std::collections::BTreeMap;

const ZONE: &str = "topology.kubernetes.io/zone";

fn three_zones() -> Berth {
    let k = Berth::start_with(&["--nodes", "3", "--zones", "a,b,c"]);
    wait_for("three Ready nodes", EVENTUALLY, || {
        k.kubectl_ok(&[
            "get",
            "nodes",
            "-o",
            "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}",
        ])
        .lines()
        .filter(|l| *l == "True")
        .count()
            == 3
    });
    k
}

/// Node name → zone label.
fn zones(k: &Berth) -> BTreeMap<String, String> {
    let nodes = k.get_json(&["nodes"]);
    nodes["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            (
                n["metadata"]["name"].as_str().unwrap_or_default().to_string(),
                n["metadata"]["labels"][ZONE]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// Pod name → node name of the pods matching `selector`, once `n` of them are Running.
fn running(k: &Berth, selector: &str, n: usize) -> BTreeMap<String, String> {
    wait_for_value(&format!("{n} running pods {selector}"), EVENTUALLY, || {
        let list = k.get_json(&["pods", "-l", selector]);
        let placed: BTreeMap<String, String> = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["status"]["phase"] == "Running")
            .map(|p| {
                (
                    p["metadata"]["name"].as_str().unwrap_or_default().to_string(),
                    p["spec"]["nodeName"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        (placed.len() == n).then_some(placed)
    })
}

/// The messages of the pod's events with `reason`.
fn event_messages(k: &Berth, pod: &str, reason: &str) -> Vec<String> {
    k.kubectl_ok(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.kind=Pod,involvedObject.name={pod},reason={reason}"),
        "-o",
        "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

fn scheduled_condition(k: &Berth, pod: &str) -> (String, String, String) {
    let p = k.get_json(&["pod", pod]);
    let c = p["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled"))
        .cloned()
        .unwrap_or_default();
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    (s(&c["status"]), s(&c["reason"]), s(&c["message"]))
}

/// Waits for a `FailedScheduling` event with exactly `message` and checks the pod's
/// `PodScheduled` condition and `kubectl describe`.
fn assert_pending_with(k: &Berth, pod: &str, message: &str) {
    wait_for(
        &format!("FailedScheduling for {pod}: {message}"),
        EVENTUALLY,
        || {
            event_messages(k, pod, "FailedScheduling")
                .iter()
                .any(|m| m == message)
        },
    );
    assert_eq!(k.jsonpath(&["pod", pod], "{.status.phase}"), "Pending");
    assert_eq!(k.jsonpath(&["pod", pod], "{.spec.nodeName}"), "");
    assert_eq!(
        scheduled_condition(k, pod),
        (
            "False".to_string(),
            "Unschedulable".to_string(),
            message.to_string()
        )
    );
    let describe = k.kubectl_ok(&["describe", "pod", pod]);
    assert!(
        describe.lines().any(|l| l.contains("Warning")
            && l.contains("FailedScheduling")
            && l.contains("default-scheduler")),
        "no FailedScheduling event in describe:\n{describe}"
    );
}

#[test]
fn statefulset_with_required_zone_anti_affinity_gets_one_pod_per_zone() {
    let k = three_zones();
    let zone_of = zones(&k);
    let manifest = |replicas: u32| {
        format!(
            "apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  replicas: {replicas}
  serviceName: db
  podManagementPolicy: Parallel
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {{matchLabels: {{app: db}}}}
            topologyKey: {ZONE}
      containers: [{{name: app, image: postgres}}]
"
        )
    };
    k.apply_ok(&manifest(3));
    let placed = running(&k, "app=db", 3);
    let mut used: Vec<&str> = placed.values().map(|n| zone_of[n].as_str()).collect();
    used.sort();
    assert_eq!(used, ["a", "b", "c"], "one pod per zone: {placed:?}");
    for (pod, node) in &placed {
        let scheduled = event_messages(&k, pod, "Scheduled");
        assert!(
            scheduled.contains(&format!("Successfully assigned default/{pod} to {node}")),
            "{pod}: {scheduled:?}"
        );
    }

    k.apply_ok(&manifest(4));
    wait_for("db-3", EVENTUALLY, || {
        k.kubectl(&["get", "pod", "db-3"]).success()
    });
    assert_pending_with(
        &k,
        "db-3",
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. \
         preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..",
    );
}

#[test]
fn untolerated_taint_and_impossible_selector_stay_pending_until_the_taint_goes() {
    let k = three_zones();
    let zone_of = zones(&k);
    let in_a = zone_of
        .iter()
        .find(|(_, z)| z.as_str() == "a")
        .map(|(n, _)| n.clone())
        .expect("a node in zone a");
    k.kubectl_ok(&["taint", "nodes", &in_a, "dedicated=db:NoSchedule"]);
    k.apply_ok(&format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: zonal}}
spec:
  nodeSelector: {{{ZONE}: a}}
  containers: [{{name: app, image: busybox}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: nowhere}}
spec:
  nodeSelector: {{disktype: nvme}}
  containers: [{{name: app, image: busybox}}]
"
    ));
    assert_pending_with(
        &k,
        "zonal",
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, \
         2 node(s) didn't match Pod's node affinity/selector. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
    );
    // The taint filter runs before the node affinity filter, so the tainted node reports the
    // taint for this pod too.
    assert_pending_with(
        &k,
        "nowhere",
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, \
         2 node(s) didn't match Pod's node affinity/selector. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
    );

    // Removing the taint is a node change: the pod is retried and lands in zone a.
    k.kubectl_ok(&["taint", "nodes", &in_a, "dedicated=db:NoSchedule-"]);
    wait_for("zonal to be scheduled", EVENTUALLY, || {
        k.jsonpath(&["pod", "zonal"], "{.spec.nodeName}") == in_a
    });
    wait_for("the Scheduled event", EVENTUALLY, || {
        event_messages(&k, "zonal", "Scheduled")
            .contains(&format!("Successfully assigned default/zonal to {in_a}"))
    });
    assert_pending_with(
        &k,
        "nowhere",
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
    );
}

#[test]
fn topology_spread_balances_pods_created_at_once() {
    let k = three_zones();
    let zone_of = zones(&k);
    let pods: String = (0..6)
        .map(|i| {
            format!(
                "apiVersion: v1
kind: Pod
metadata: {{name: web-{i}, labels: {{app: web}}}}
spec:
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: {ZONE}
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {{matchLabels: {{app: web}}}}
  containers: [{{name: app, image: nginx}}]
---
"
            )
        })
        .collect();
    k.apply_ok(&pods);
    let placed = running(&k, "app=web", 6);
    let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
    for node in placed.values() {
        *per_zone.entry(zone_of[node].as_str()).or_default() += 1;
    }
    assert_eq!(
        per_zone,
        BTreeMap::from([("a", 2), ("b", 2), ("c", 2)]),
        "{placed:?}"
    );
}

#[test]
fn wait_for_first_consumer_claims_follow_the_class_topology() {
    let k = three_zones();
    let zone_of = zones(&k);
    k.apply_ok(&format!(
        "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: zone-b}}
provisioner: berth.dev/local
parameters: {{driver: dir}}
volumeBindingMode: WaitForFirstConsumer
allowedTopologies:
- matchLabelExpressions:
  - {{key: {ZONE}, values: [b]}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data}}
spec: {{storageClassName: zone-b, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 10Mi}}}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: user, labels: {{app: user}}}}
spec:
  containers: [{{name: app, image: busybox, volumeMounts: [{{name: d, mountPath: /data}}]}}]
  volumes: [{{name: d, persistentVolumeClaim: {{claimName: data}}}}]
"
    ));
    let placed = running(&k, "app=user", 1);
    let node = &placed["user"];
    assert_eq!(zone_of[node], "b");
    assert_eq!(
        k.jsonpath(
            &["pvc", "data"],
            "{.metadata.annotations.volume\\.kubernetes\\.io/selected-node}"
        ),
        *node
    );
    assert_eq!(k.jsonpath(&["pvc", "data"], "{.status.phase}"), "Bound");
}
