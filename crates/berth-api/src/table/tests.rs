//! Tests for Table rendering: one or more per printer, checked against what Kubernetes
//! 1.32's printers produce for the same objects, and `human_duration`.

use super::*;
use crate::registry::{RESOURCES, lookup};
use serde_json::json;

const NOW: &str = "2026-11-24T05:22:03Z";
/// Five minutes before [`NOW`].
const FIVE_MIN_AGO: &str = "2026-11-24T05:17:03Z";

fn now() -> jiff::Timestamp {
    NOW.parse().expect("valid timestamp")
}

fn rt(group: &str, plural: &str) -> &'static ResourceType {
    lookup(group, "v1", plural).expect("served type")
}

fn table(group: &str, plural: &str, obj: Value) -> Value {
    render(rt(group, plural), &[obj], now(), IncludeObject::Metadata, true)
}

fn cells(group: &str, plural: &str, obj: Value) -> Vec<Value> {
    let t = table(group, plural, obj);
    t["rows"][0]["cells"].as_array().expect("cells").clone()
}

fn column_names(group: &str, plural: &str) -> Vec<(&'static str, &'static str, u8)> {
    columns(rt(group, plural))
        .iter()
        .map(|c| (c.name, c.ty, c.priority))
        .collect()
}

fn meta(name: &str) -> Value {
    json!({"name": name, "namespace": "default", "uid": "u-1", "resourceVersion": "7", "creationTimestamp": FIVE_MIN_AGO})
}

#[test]
fn human_duration_matches_apimachinery() {
    let cases: &[(i64, &str)] = &[
        (-1000, "<invalid>"),
        (-2, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (1, "1s"),
        (59, "59s"),
        (60, "60s"),
        (119, "119s"),
        (120, "2m"),
        (121, "2m1s"),
        (5 * 60, "5m"),
        (9 * 60 + 59, "9m59s"),
        (10 * 60, "10m"),
        (10 * 60 + 30, "10m"),
        (179 * 60 + 59, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (7 * 3600 + 59 * 60 + 59, "7h59m"),
        (8 * 3600, "8h"),
        (8 * 3600 + 59 * 60, "8h"),
        (47 * 3600 + 3599, "47h"),
        (48 * 3600, "2d"),
        (49 * 3600, "2d1h"),
        (7 * 86400 + 23 * 3600, "7d23h"),
        (8 * 86400, "8d"),
        (8 * 86400 + 23 * 3600, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (731 * 86400, "2y1d"),
        (8 * 365 * 86400 - 1, "7y364d"),
        (8 * 365 * 86400, "8y"),
        (100 * 365 * 86400 + 200 * 86400, "100y"),
    ];
    for (secs, want) in cases {
        assert_eq!(human_duration(*secs), *want, "{secs}s");
    }
}

#[test]
fn ages_truncate_fractional_seconds() {
    let created: jiff::Timestamp = "2026-11-24T05:22:00Z".parse().expect("ts");
    let now: jiff::Timestamp = "2026-11-24T05:22:02.900Z".parse().expect("ts");
    assert_eq!(since(Some(created), now), "2s");
    let future: jiff::Timestamp = "2026-11-24T05:22:04.500Z".parse().expect("ts");
    assert_eq!(
        since(Some(future), now),
        "0s",
        "1.6 s in the future truncates to -1 s"
    );
    let far_future: jiff::Timestamp = "2026-11-24T05:22:05.000Z".parse().expect("ts");
    assert_eq!(since(Some(far_future), now), "<invalid>");
    assert_eq!(since(None, now), "<unknown>");
}

fn statefulset() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": meta("database"),
        "spec": {"replicas": 4, "serviceName": "database-headless",
            "selector": {"matchLabels": {"app": "database"}},
            "template": {"metadata": {"labels": {"app": "database"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:14-alpine"}]}}},
        "status": {"replicas": 4, "readyReplicas": 4, "currentReplicas": 4}
    })
}

#[test]
fn table_envelope_and_row_objects() {
    let sts = statefulset();
    let t = table("apps", "statefulsets", sts.clone());
    let keys: Vec<&String> = t.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(t["metadata"], json!({}));
    assert_eq!(
        t["columnDefinitions"][0],
        json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DOC, "priority": 0})
    );
    assert_eq!(
        t["rows"][0]["object"],
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": sts["metadata"]})
    );
    assert!(t["rows"][0].get("conditions").is_none());

    let t = render(
        rt("apps", "statefulsets"),
        std::slice::from_ref(&sts),
        now(),
        IncludeObject::Object,
        false,
    );
    assert!(t.get("columnDefinitions").is_none());
    assert_eq!(t["rows"][0]["object"], sts);

    let t = render(
        rt("apps", "statefulsets"),
        &[sts],
        now(),
        IncludeObject::None,
        true,
    );
    assert!(t["rows"][0].get("object").is_none());

    let t = render(
        rt("apps", "statefulsets"),
        &[],
        now(),
        IncludeObject::Metadata,
        true,
    );
    assert_eq!(t["rows"], json!([]));
}

#[test]
fn every_served_type_renders_a_name_column() {
    for r in RESOURCES {
        let obj = json!({"metadata": {"name": "x", "creationTimestamp": FIVE_MIN_AGO}});
        let t = render(r, &[obj], now(), IncludeObject::Metadata, true);
        let cols = t["columnDefinitions"].as_array().expect("columns");
        let row = t["rows"][0]["cells"].as_array().expect("cells");
        assert_eq!(cols.len(), row.len(), "{}: one cell per column", r.kind);
        let name_cols: Vec<&Value> = cols.iter().filter(|c| c["format"] == "name").collect();
        assert_eq!(name_cols.len(), 1, "{}: exactly one name column", r.kind);
        assert_eq!(name_cols[0]["name"], "Name");
    }
}

#[test]
fn statefulset_printer() {
    assert_eq!(
        column_names("apps", "statefulsets"),
        vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1)
        ]
    );
    assert_eq!(
        cells("apps", "statefulsets", statefulset()),
        vec![
            json!("database"),
            json!("4/4"),
            json!("5m"),
            json!("db"),
            json!("postgres:14-alpine")
        ]
    );
    let mut sts = statefulset();
    sts["status"] = json!({"replicas": 3});
    sts["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "db", "image": "postgres:14"}, {"name": "exporter", "image": "exporter:1"}]);
    assert_eq!(
        cells("apps", "statefulsets", sts),
        vec![
            json!("database"),
            json!("0/4"),
            json!("5m"),
            json!("db,exporter"),
            json!("postgres:14,exporter:1")
        ]
    );
}

fn running_pod() -> Value {
    json!({
        "metadata": meta("database-0"),
        "spec": {"nodeName": "node-1", "containers": [{"name": "db", "image": "postgres:14-alpine"}]},
        "status": {"phase": "Running", "podIP": "10.1.0.5", "podIPs": [{"ip": "10.1.0.5"}],
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "db", "ready": true, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": FIVE_MIN_AGO}}}]}
    })
}

#[test]
fn pod_columns() {
    assert_eq!(
        column_names("", "pods"),
        vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ]
    );
}

#[test]
fn pod_running() {
    assert_eq!(
        cells("", "pods", running_pod()),
        vec![
            json!("database-0"),
            json!("1/1"),
            json!("Running"),
            json!("0"),
            json!("5m"),
            json!("10.1.0.5"),
            json!("node-1"),
            json!("<none>"),
            json!("<none>")
        ]
    );
}

#[test]
fn pod_pending_without_status_details() {
    let pod = json!({"metadata": meta("p"), "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        "status": {"phase": "Pending"}});
    assert_eq!(
        cells("", "pods", pod),
        vec![
            json!("p"),
            json!("0/2"),
            json!("Pending"),
            json!("0"),
            json!("5m"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>")
        ]
    );
}

#[test]
fn pod_restarts_show_when_the_last_one_happened() {
    let mut pod = running_pod();
    pod["status"]["containerStatuses"][0]["restartCount"] = json!(3);
    pod["status"]["containerStatuses"][0]["lastState"] =
        json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-11-24T05:20:03Z"}});
    let c = cells("", "pods", pod);
    assert_eq!(c[3], json!("3 (2m ago)"));
    assert_eq!(c[2], json!("Running"));
}

#[test]
fn pod_crash_loop_back_off() {
    let mut pod = running_pod();
    pod["status"]["containerStatuses"][0] = json!({"name": "db", "ready": false, "restartCount": 5,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-11-24T05:21:03Z"}}});
    let c = cells("", "pods", pod);
    assert_eq!(
        &c[1..4],
        &[json!("0/1"), json!("CrashLoopBackOff"), json!("5 (60s ago)")]
    );
}

#[test]
fn pod_terminated_reasons() {
    let mut pod = running_pod();
    pod["status"]["phase"] = json!("Failed");
    pod["status"]["containerStatuses"][0]["ready"] = json!(false);
    pod["status"]["containerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 137, "signal": 9}});
    assert_eq!(cells("", "pods", pod.clone())[2], json!("Signal:9"));
    pod["status"]["containerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 2}});
    assert_eq!(cells("", "pods", pod.clone())[2], json!("ExitCode:2"));
    pod["status"]["containerStatuses"][0]["state"] =
        json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}});
    let t = table("", "pods", pod);
    assert_eq!(t["rows"][0]["cells"][2], json!("OOMKilled"));
    assert_eq!(
        t["rows"][0]["conditions"],
        json!([{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}])
    );
}

#[test]
fn pod_completed_carries_the_completed_condition() {
    let mut pod = running_pod();
    pod["status"]["phase"] = json!("Succeeded");
    pod["status"]["conditions"] = json!([{"type": "Ready", "status": "False", "reason": "PodCompleted"}]);
    pod["status"]["containerStatuses"][0] = json!({"name": "db", "ready": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}});
    let t = table("", "pods", pod);
    assert_eq!(t["rows"][0]["cells"][1], json!("0/1"));
    assert_eq!(t["rows"][0]["cells"][2], json!("Completed"));
    assert_eq!(
        t["rows"][0]["conditions"],
        json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully."}])
    );
}

#[test]
fn pod_completed_with_a_running_container_is_not_ready_or_running() {
    let mut pod = running_pod();
    pod["spec"]["containers"] = json!([{"name": "a"}, {"name": "b"}]);
    pod["status"]["containerStatuses"] = json!([
        {"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}
    ]);
    assert_eq!(
        cells("", "pods", pod.clone())[2],
        json!("Running"),
        "Ready condition true"
    );
    pod["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
    let c = cells("", "pods", pod);
    assert_eq!(&c[1..3], &[json!("1/2"), json!("NotReady")]);
}

#[test]
fn pod_init_containers() {
    let base = json!({"metadata": meta("web-0"),
        "spec": {"initContainers": [{"name": "init-a"}, {"name": "init-b"}], "containers": [{"name": "app"}]},
        "status": {"phase": "Pending", "conditions": [{"type": "Initialized", "status": "False"}],
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]}});

    let mut pod = base.clone();
    pod["status"]["initContainerStatuses"] = json!([
        {"name": "init-a", "ready": false, "restartCount": 0, "state": {"running": {}}},
        {"name": "init-b", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
    ]);
    assert_eq!(
        &cells("", "pods", pod)[1..4],
        &[json!("0/1"), json!("Init:0/2"), json!("0")]
    );

    let mut pod = base.clone();
    pod["status"]["initContainerStatuses"] = json!([
        {"name": "init-a", "ready": true, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "init-b", "ready": false, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-24T05:21:03Z"}}}
    ]);
    assert_eq!(
        &cells("", "pods", pod)[1..4],
        &[json!("0/1"), json!("Init:CrashLoopBackOff"), json!("4 (60s ago)")]
    );

    let mut pod = base.clone();
    pod["status"]["initContainerStatuses"] = json!([{"name": "init-a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 3}}}]);
    assert_eq!(cells("", "pods", pod.clone())[2], json!("Init:ExitCode:3"));
    pod["status"]["initContainerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 1, "signal": 15}});
    assert_eq!(cells("", "pods", pod.clone())[2], json!("Init:Signal:15"));
    pod["status"]["initContainerStatuses"][0]["state"] =
        json!({"terminated": {"exitCode": 1, "reason": "Error"}});
    assert_eq!(cells("", "pods", pod)[2], json!("Init:Error"));
}

#[test]
fn pod_sidecar_init_containers_count_towards_ready() {
    let pod = json!({"metadata": meta("web-0"),
        "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "app"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 2,
                "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-24T05:19:03Z"}}}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 1, "state": {"running": {}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-24T05:18:03Z"}}}]}});
    assert_eq!(
        &cells("", "pods", pod)[1..4],
        &[json!("2/2"), json!("Running"), json!("3 (3m ago)")]
    );
}

#[test]
fn pod_terminating_gated_and_wide_cells() {
    let mut pod = running_pod();
    pod["metadata"]["deletionTimestamp"] = json!(NOW);
    assert_eq!(cells("", "pods", pod.clone())[2], json!("Terminating"));
    pod["status"]["reason"] = json!("NodeLost");
    assert_eq!(cells("", "pods", pod)[2], json!("Unknown"));

    let mut done = running_pod();
    done["metadata"]["deletionTimestamp"] = json!(NOW);
    done["status"]["phase"] = json!("Succeeded");
    done["status"]["containerStatuses"][0]["state"] =
        json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
    assert_eq!(
        cells("", "pods", done)[2],
        json!("Completed"),
        "terminal pods never show Terminating"
    );

    let gated = json!({"metadata": meta("g"), "spec": {"containers": [{"name": "a"}]},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}});
    assert_eq!(cells("", "pods", gated)[2], json!("SchedulingGated"));

    let mut pod = running_pod();
    pod["spec"]["readinessGates"] =
        json!([{"conditionType": "www.example.com/a"}, {"conditionType": "www.example.com/b"}]);
    pod["status"]["conditions"] =
        json!([{"type": "www.example.com/a", "status": "True"}, {"type": "Ready", "status": "True"}]);
    pod["status"]["nominatedNodeName"] = json!("node-2");
    pod["status"]["podIPs"] = json!([{"ip": "10.1.0.9"}, {"ip": "fd00::9"}]);
    let c = cells("", "pods", pod);
    assert_eq!(
        &c[5..],
        &[json!("10.1.0.9"), json!("node-1"), json!("node-2"), json!("1/2")]
    );
}

#[test]
fn service_printer() {
    assert_eq!(
        column_names("", "services"),
        vec![
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
            ("Selector", "string", 1),
        ]
    );
    let headless = json!({"metadata": meta("database-headless"),
        "spec": {"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"],
            "ports": [{"name": "db", "port": 5432, "protocol": "TCP", "targetPort": 5432}],
            "selector": {"app": "database", "tier": "db"}}});
    assert_eq!(
        cells("", "services", headless),
        vec![
            json!("database-headless"),
            json!("ClusterIP"),
            json!("None"),
            json!("<none>"),
            json!("5432/TCP"),
            json!("5m"),
            json!("app=database,tier=db")
        ]
    );
    let node_port = json!({"metadata": meta("web"),
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.20",
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "externalIPs": ["1.2.3.4"]}});
    let c = cells("", "services", node_port);
    assert_eq!(
        &c[1..5],
        &[
            json!("NodePort"),
            json!("10.96.0.20"),
            json!("1.2.3.4"),
            json!("80:30080/TCP,53/UDP")
        ]
    );
    assert_eq!(c[6], json!("<none>"));
    let lb = json!({"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.30"], "ports": []}});
    assert_eq!(
        &cells("", "services", lb.clone())[2..5],
        &[json!("10.96.0.30"), json!("<pending>"), json!("<none>")]
    );
    let mut lb = lb;
    lb["status"] =
        json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}});
    assert_eq!(cells("", "services", lb)[3], json!("203.0.113.9,lb.example.com"));
    let ext =
        json!({"metadata": meta("ext"), "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
    assert_eq!(
        &cells("", "services", ext)[1..5],
        &[
            json!("ExternalName"),
            json!("<none>"),
            json!("db.example.com"),
            json!("<none>")
        ]
    );
}

#[test]
fn endpoints_printer() {
    assert_eq!(
        column_names("", "endpoints"),
        vec![
            ("Name", "string", 0),
            ("Endpoints", "string", 0),
            ("Age", "string", 0)
        ]
    );
    let none = json!({"metadata": meta("database-headless")});
    assert_eq!(
        cells("", "endpoints", none),
        vec![json!("database-headless"), json!("<none>"), json!("5m")]
    );
    let ep = json!({"metadata": meta("db"), "subsets": [{
        "addresses": [{"ip": "10.1.0.5"}, {"ip": "10.1.0.6"}, {"ip": "10.1.0.7"}, {"ip": "10.1.0.8"}],
        "ports": [{"name": "db", "port": 5432, "protocol": "TCP"}]}]});
    assert_eq!(
        cells("", "endpoints", ep)[1],
        json!("10.1.0.5:5432,10.1.0.6:5432,10.1.0.7:5432 + 1 more...")
    );
    let ep = json!({"metadata": meta("v6"), "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]},
        {"addresses": [{"ip": "10.0.0.1"}]}]});
    assert_eq!(cells("", "endpoints", ep)[1], json!("[fd00::1]:80,10.0.0.1"));
}

#[test]
fn configmap_secret_serviceaccount_namespace_printers() {
    assert_eq!(
        column_names("", "configmaps"),
        vec![("Name", "string", 0), ("Data", "string", 0), ("Age", "string", 0)]
    );
    let cm = json!({"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(
        cells("", "configmaps", cm),
        vec![json!("cfg"), json!(3), json!("5m")]
    );
    assert_eq!(
        cells("", "configmaps", json!({"metadata": meta("empty")}))[1],
        json!(0)
    );

    assert_eq!(
        column_names("", "secrets"),
        vec![
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Data", "string", 0),
            ("Age", "string", 0)
        ]
    );
    let secret = json!({"metadata": meta("creds"), "type": "Opaque", "data": {"password": "cw=="}});
    assert_eq!(
        cells("", "secrets", secret),
        vec![json!("creds"), json!("Opaque"), json!(1), json!("5m")]
    );

    assert_eq!(
        column_names("", "serviceaccounts"),
        vec![
            ("Name", "string", 0),
            ("Secrets", "string", 0),
            ("Age", "string", 0)
        ]
    );
    let sa = json!({"metadata": meta("default")});
    assert_eq!(
        cells("", "serviceaccounts", sa),
        vec![json!("default"), json!(0), json!("5m")]
    );

    assert_eq!(
        column_names("", "namespaces"),
        vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Age", "string", 0)
        ]
    );
    let ns = json!({"metadata": {"name": "default", "creationTimestamp": "2026-11-24T05:21:23Z"}, "status": {"phase": "Active"}});
    assert_eq!(
        cells("", "namespaces", ns),
        vec![json!("default"), json!("Active"), json!("40s")]
    );
}

#[test]
fn node_printer() {
    assert_eq!(
        column_names("", "nodes"),
        vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ]
    );
    let node = json!({"metadata": {"name": "node-1", "creationTimestamp": "2026-11-21T05:22:03Z",
            "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "",
                "kubernetes.io/role": "edge", "kubernetes.io/hostname": "node-1"}},
        "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": "node-1"}, {"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"kubeletVersion": "v1.32.4+berth", "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0", "containerRuntimeVersion": ""}}});
    assert_eq!(
        cells("", "nodes", node),
        vec![
            json!("node-1"),
            json!("Ready,SchedulingDisabled"),
            json!("control-plane,edge,worker"),
            json!("3d"),
            json!("v1.32.4+berth"),
            json!("192.168.1.10"),
            json!("<none>"),
            json!("Debian GNU/Linux 12 (bookworm)"),
            json!("6.1.0"),
            json!("<unknown>")
        ]
    );
    let bare = json!({"metadata": {"name": "n2", "creationTimestamp": FIVE_MIN_AGO}});
    assert_eq!(
        &cells("", "nodes", bare.clone())[1..3],
        &[json!("Unknown"), json!("<none>")]
    );
    let mut not_ready = bare;
    not_ready["status"] = json!({"conditions": [{"type": "Ready", "status": "Unknown"}]});
    assert_eq!(cells("", "nodes", not_ready)[1], json!("NotReady"));
}

#[test]
fn persistent_volume_claim_printer() {
    assert_eq!(
        column_names("", "persistentvolumeclaims"),
        vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Volume", "string", 0),
            ("Capacity", "string", 0),
            ("Access Modes", "string", 0),
            ("StorageClass", "string", 0),
            ("VolumeAttributesClass", "string", 0),
            ("Age", "string", 0),
            ("VolumeMode", "string", 1),
        ]
    );
    let pending = json!({"metadata": meta("data-database-0"),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Mi"}},
            "storageClassName": "local", "volumeMode": "Filesystem"},
        "status": {"phase": "Pending"}});
    assert_eq!(
        cells("", "persistentvolumeclaims", pending.clone()),
        vec![
            json!("data-database-0"),
            json!("Pending"),
            json!(""),
            json!(""),
            json!(""),
            json!("local"),
            json!("<unset>"),
            json!("5m"),
            json!("Filesystem")
        ]
    );
    let mut bound = pending;
    bound["spec"]["volumeName"] = json!("pvc-123");
    bound["status"] = json!({"phase": "Bound", "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod", "ReadOnlyMany", "ReadWriteOnce"]});
    bound["metadata"]["annotations"] = json!({"volume.beta.kubernetes.io/storage-class": "beta-class"});
    bound["metadata"]["deletionTimestamp"] = json!(NOW);
    assert_eq!(
        &cells("", "persistentvolumeclaims", bound)[1..6],
        &[
            json!("Terminating"),
            json!("pvc-123"),
            json!("1Gi"),
            json!("RWO,ROX,RWX,RWOP"),
            json!("beta-class")
        ]
    );
}

#[test]
fn persistent_volume_printer() {
    assert_eq!(
        column_names("", "persistentvolumes")
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        vec![
            "Name",
            "Capacity",
            "Access Modes",
            "Reclaim Policy",
            "Status",
            "Claim",
            "StorageClass",
            "VolumeAttributesClass",
            "Reason",
            "Age",
            "VolumeMode"
        ]
    );
    let pv = json!({"metadata": {"name": "pvc-123", "creationTimestamp": FIVE_MIN_AGO},
        "spec": {"capacity": {"storage": "100Mi"}, "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "local", "volumeMode": "Filesystem",
            "claimRef": {"namespace": "default", "name": "data-database-0"}},
        "status": {"phase": "Bound"}});
    assert_eq!(
        cells("", "persistentvolumes", pv),
        vec![
            json!("pvc-123"),
            json!("100Mi"),
            json!("RWO"),
            json!("Delete"),
            json!("Bound"),
            json!("default/data-database-0"),
            json!("local"),
            json!("<unset>"),
            json!(""),
            json!("5m"),
            json!("Filesystem")
        ]
    );
    let bare = json!({"metadata": {"name": "pv0", "creationTimestamp": FIVE_MIN_AGO}, "status": {"phase": "Available"}});
    assert_eq!(
        &cells("", "persistentvolumes", bare)[1..7],
        &[
            json!("0"),
            json!(""),
            json!(""),
            json!("Available"),
            json!(""),
            json!("")
        ]
    );
}

#[test]
fn storage_class_printer() {
    assert_eq!(
        column_names("storage.k8s.io", "storageclasses")
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        vec![
            "Name",
            "Provisioner",
            "ReclaimPolicy",
            "VolumeBindingMode",
            "AllowVolumeExpansion",
            "Age"
        ]
    );
    let sc = json!({"metadata": {"name": "local", "creationTimestamp": FIVE_MIN_AGO,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "berth.dev/local"});
    assert_eq!(
        cells("storage.k8s.io", "storageclasses", sc),
        vec![
            json!("local (default)"),
            json!("berth.dev/local"),
            json!("Delete"),
            json!("Immediate"),
            json!(false),
            json!("5m")
        ]
    );
    let sc = json!({"metadata": {"name": "fast", "creationTimestamp": FIVE_MIN_AGO,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "false"}},
        "provisioner": "x", "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": true});
    assert_eq!(
        &cells("storage.k8s.io", "storageclasses", sc)[..5],
        &[
            json!("fast"),
            json!("x"),
            json!("Retain"),
            json!("WaitForFirstConsumer"),
            json!(true)
        ]
    );
}

#[test]
fn event_printer_core_shape() {
    assert_eq!(
        column_names("", "events"),
        vec![
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("Message", "string", 0),
            ("First Seen", "string", 1),
            ("Count", "string", 1),
            ("Name", "string", 1),
        ]
    );
    let cols = columns(rt("", "events"));
    assert_eq!(cols[9].format, "name");
    let ev = json!({"metadata": meta("database.1879a"),
        "involvedObject": {"kind": "StatefulSet", "name": "database", "namespace": "default", "apiVersion": "apps/v1"},
        "reason": "SuccessfulCreate", "message": "create Pod database-0 in StatefulSet database successful\n",
        "source": {"component": "statefulset-controller"}, "type": "Normal",
        "firstTimestamp": "2026-11-24T05:17:03Z", "lastTimestamp": "2026-11-24T05:21:03Z", "count": 2});
    assert_eq!(
        cells("", "events", ev),
        vec![
            json!("60s"),
            json!("Normal"),
            json!("SuccessfulCreate"),
            json!("statefulset/database"),
            json!(""),
            json!("statefulset-controller"),
            json!("create Pod database-0 in StatefulSet database successful"),
            json!("5m"),
            json!(2),
            json!("database.1879a")
        ]
    );
    let ev = json!({"metadata": meta("node.1"), "involvedObject": {"kind": "Node", "fieldPath": "spec"},
        "reason": "Starting", "type": "Normal", "eventTime": "2026-11-24T05:20:03.123456Z",
        "reportingComponent": "kubelet", "reportingInstance": "node-1"});
    assert_eq!(
        cells("", "events", ev),
        vec![
            json!("119s"),
            json!("Normal"),
            json!("Starting"),
            json!("node"),
            json!("spec"),
            json!("kubelet, node-1"),
            json!(""),
            json!("119s"),
            json!(1),
            json!("node.1")
        ]
    );
}

#[test]
fn event_printer_events_api_shape_and_series() {
    let ev = json!({"metadata": meta("database-0.1"),
        "regarding": {"kind": "Pod", "name": "database-0", "fieldPath": "spec.containers{db}"},
        "reason": "BackOff", "note": "Back-off restarting failed container", "type": "Warning",
        "eventTime": "2026-11-24T05:17:03.000000Z", "reportingController": "kubelet", "reportingInstance": "node-1",
        "series": {"count": 7, "lastObservedTime": "2026-11-24T05:21:33.000000Z"}});
    assert_eq!(
        cells("events.k8s.io", "events", ev),
        vec![
            json!("30s"),
            json!("Warning"),
            json!("BackOff"),
            json!("pod/database-0"),
            json!("spec.containers{db}"),
            json!("kubelet, node-1"),
            json!("Back-off restarting failed container"),
            json!("5m"),
            json!(7),
            json!("database-0.1")
        ]
    );
    let unknown = json!({"metadata": meta("x")});
    assert_eq!(&cells("", "events", unknown)[..1], &[json!("<unknown>")]);
}

#[test]
fn controller_revision_printer() {
    assert_eq!(
        column_names("apps", "controllerrevisions"),
        vec![
            ("Name", "string", 0),
            ("Controller", "string", 0),
            ("Revision", "string", 0),
            ("Age", "string", 0)
        ]
    );
    let cr = json!({"metadata": {"name": "database-48a7bfe916", "namespace": "default", "creationTimestamp": FIVE_MIN_AGO,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "database", "uid": "u",
                "controller": true, "blockOwnerDeletion": true}]},
        "revision": 2, "data": {}});
    assert_eq!(
        cells("apps", "controllerrevisions", cr),
        vec![
            json!("database-48a7bfe916"),
            json!("statefulset.apps/database"),
            json!(2),
            json!("5m")
        ]
    );
    let orphan = json!({"metadata": meta("orphan"), "revision": 1});
    assert_eq!(cells("apps", "controllerrevisions", orphan)[1], json!("<none>"));
    let core_owner = json!({"metadata": {"name": "x", "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p",
        "controller": true}]}, "revision": 1});
    assert_eq!(
        cells("apps", "controllerrevisions", core_owner)[1],
        json!("pod/p")
    );
}

#[test]
fn resource_quota_printer() {
    assert_eq!(
        column_names("", "resourcequotas"),
        vec![
            ("Name", "string", 0),
            ("Request", "string", 0),
            ("Limit", "string", 0),
            ("Age", "string", 0)
        ]
    );
    let rq = json!({"metadata": meta("compute"),
        "status": {"hard": {"requests.cpu": "1", "pods": "10", "limits.memory": "2Gi", "limits.cpu": "2"},
            "used": {"requests.cpu": "500m", "pods": "4", "limits.cpu": "1"}}});
    assert_eq!(
        cells("", "resourcequotas", rq),
        vec![
            json!("compute"),
            json!("pods: 4/10, requests.cpu: 500m/1"),
            json!("limits.cpu: 1/2, limits.memory: 0/2Gi"),
            json!("5m")
        ]
    );
    assert_eq!(
        &cells("", "resourcequotas", json!({"metadata": meta("none")}))[1..3],
        &[json!(""), json!("")]
    );
}

#[test]
fn lease_and_binding_printers() {
    assert_eq!(
        column_names("coordination.k8s.io", "leases"),
        vec![
            ("Name", "string", 0),
            ("Holder", "string", 0),
            ("Age", "string", 0)
        ]
    );
    let lease = json!({"metadata": meta("berth-controller"), "spec": {"holderIdentity": "berth-1"}});
    assert_eq!(
        cells("coordination.k8s.io", "leases", lease),
        vec![json!("berth-controller"), json!("berth-1"), json!("5m")]
    );
    assert_eq!(
        cells("coordination.k8s.io", "leases", json!({"metadata": meta("l")}))[1],
        json!("")
    );

    assert_eq!(
        column_names("rbac.authorization.k8s.io", "rolebindings"),
        vec![
            ("Name", "string", 0),
            ("Role", "string", 0),
            ("Age", "string", 0),
            ("Users", "string", 1),
            ("Groups", "string", 1),
            ("ServiceAccounts", "string", 1)
        ]
    );
    let rb = json!({"metadata": meta("read-pods"), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "User", "name": "jane"}, {"kind": "User", "name": "joe"}, {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "default", "namespace": "default"}]});
    assert_eq!(
        cells("rbac.authorization.k8s.io", "rolebindings", rb),
        vec![
            json!("read-pods"),
            json!("Role/pod-reader"),
            json!("5m"),
            json!("jane, joe"),
            json!("devs"),
            json!("default/default")
        ]
    );
    let crb = json!({"metadata": {"name": "admins", "creationTimestamp": FIVE_MIN_AGO},
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "Group", "name": "system:masters"}]});
    assert_eq!(
        cells("rbac.authorization.k8s.io", "clusterrolebindings", crb),
        vec![
            json!("admins"),
            json!("ClusterRole/cluster-admin"),
            json!("5m"),
            json!(""),
            json!("system:masters"),
            json!("")
        ]
    );
    assert_eq!(
        columns(rt("rbac.authorization.k8s.io", "clusterrolebindings"))[3].description,
        "Users in the clusterRoleBinding"
    );
}

#[test]
fn types_without_a_printer_get_created_at() {
    for (group, plural) in [
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("", "limitranges"),
    ] {
        assert_eq!(
            column_names(group, plural),
            vec![("Name", "string", 0), ("Created At", "date", 0)]
        );
        let obj = json!({"metadata": {"name": "r", "creationTimestamp": "2026-11-24T05:04:44Z"}});
        assert_eq!(
            cells(group, plural, obj),
            vec![json!("r"), json!("2026-11-24T05:04:44Z")]
        );
    }
    assert_eq!(
        cells("", "limitranges", json!({"metadata": {"name": "x"}}))[1],
        json!("0001-01-01T00:00:00Z")
    );
}

#[test]
fn scale_table() {
    let scale = json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta("database"),
        "spec": {"replicas": 4}, "status": {"replicas": 3, "selector": "app=database"}});
    let t = render_scale(&[scale], now(), IncludeObject::Metadata, true);
    let cols: Vec<(&str, &str, &str)> = t["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or(""),
                c["type"].as_str().unwrap_or(""),
                c["format"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        cols,
        vec![
            ("Name", "string", ""),
            ("Desired", "integer", ""),
            ("Available", "integer", ""),
            ("Age", "string", "")
        ]
    );
    assert_eq!(t["rows"][0]["cells"], json!(["database", 4, 3, "5m"]));
}
