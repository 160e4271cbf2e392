//! `kubectl get --raw /metrics`: the API server's request metrics and, for the in-process
//! node, the kubelet's per-claim volume statistics of a pod that writes into its claim.

use crate::harness::{Berth, wait_for, wait_for_value};
use std::time::Duration;

/// The value of the series starting with `prefix` (name and labels, then a space).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_show_request_counts_and_the_volume_stats_of_a_mounted_claim() {
    let k = Berth::start_with(&["--runtime", "host"]);
    k.apply_ok(
        r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 100Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  containers:
  - name: app
    image: debian:bookworm
    command: ["sh", "-c", "head -c 10485760 /dev/urandom > /data/blob && sync && touch /data/done && exec sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
"#,
    );
    wait_for("the pod to be Running", Duration::from_secs(90), || {
        k.jsonpath(&["pod", "writer"], "{.status.phase}") == "Running"
    });
    let labels = r#"{namespace="default",persistentvolumeclaim="data"} "#;
    let text = wait_for_value(
        "volume stats of claim data with 10 MiB used",
        Duration::from_secs(90),
        || {
            let text = k.kubectl_ok(&["get", "--raw", "/metrics"]);
            let used = sample(&text, &format!("kubelet_volume_stats_used_bytes{labels}"))?;
            (used >= 10.0 * 1024.0 * 1024.0).then_some(text)
        },
    );
    let value = |name: &str| {
        sample(&text, &format!("{name}{labels}"))
            .unwrap_or_else(|| panic!("no {name} for claim data in\n{text}"))
    };
    let capacity = value("kubelet_volume_stats_capacity_bytes");
    let available = value("kubelet_volume_stats_available_bytes");
    let used = value("kubelet_volume_stats_used_bytes");
    let inodes = value("kubelet_volume_stats_inodes");
    let inodes_free = value("kubelet_volume_stats_inodes_free");
    let inodes_used = value("kubelet_volume_stats_inodes_used");
    assert!(
        used >= 10.0 * 1024.0 * 1024.0 && used <= capacity,
        "used {used}, capacity {capacity}"
    );
    assert!(
        available > 0.0 && available <= capacity,
        "available {available}, capacity {capacity}"
    );
    assert!(inodes_used >= 3.0, "the directory, blob and done: {inodes_used}");
    assert!(
        inodes_free > 0.0 && inodes_free <= inodes,
        "{inodes_free} of {inodes}"
    );
    assert!(text.contains("# TYPE kubelet_volume_stats_used_bytes gauge\n"));
    // The API server's own series: this test's kubectl requests among them.
    let pods_get = r#"apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="GET",version="v1"} "#;
    assert!(sample(&text, pods_get).is_some_and(|n| n >= 1.0), "{text}");
    let claim_create = r#"apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="persistentvolumeclaims",scope="resource",subresource="",verb="POST",version="v1"} "#;
    assert_eq!(sample(&text, claim_create), Some(1.0), "{text}");
    assert!(text.contains("# TYPE apiserver_request_duration_seconds histogram\n"));
    assert!(text.contains(r#"apiserver_current_inflight_requests{request_kind="readOnly"} "#));
    let pods = sample(&text, r#"apiserver_storage_objects{resource="pods"} "#);
    assert!(pods.is_some_and(|n| n >= 1.0), "{text}");
}

#[test]
fn metrics_need_credentials() {
    let k = Berth::start();
    let api = k.api();
    let anonymous = api.request("GET", "/metrics", None, None, false);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    wait_for("metrics with the admin token", Duration::from_secs(10), || {
        api.get("/metrics").status == 200
    });
}
