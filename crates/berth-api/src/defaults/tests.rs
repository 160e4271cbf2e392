use super::apply;
use crate::registry::lookup_kind;
use serde_json::{Value, json};

fn defaulted(group: &str, kind: &str, mut obj: Value) -> Value {
    let rt = lookup_kind(group, kind).expect("served kind");
    apply(rt, &mut obj);
    obj
}

#[test]
fn statefulset_defaults() {
    let sts = defaulted(
        "apps",
        "StatefulSet",
        json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }}),
    );
    let spec = &sts["spec"];
    assert_eq!(spec["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        spec["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["replicas"], 1);
    assert_eq!(
        spec["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert!(spec.get("minReadySeconds").is_none());
    let t = &spec["template"]["spec"];
    assert_eq!(t["restartPolicy"], "Always");
    assert_eq!(t["dnsPolicy"], "ClusterFirst");
    assert_eq!(t["schedulerName"], "default-scheduler");
    assert_eq!(t["terminationGracePeriodSeconds"], 30);
    assert_eq!(t["securityContext"], json!({}));
    assert!(
        t.get("enableServiceLinks").is_none(),
        "templates do not get SetDefaults_Pod"
    );
    let c = &t["containers"][0];
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    let vct = &spec["volumeClaimTemplates"][0];
    assert_eq!(vct["spec"]["volumeMode"], "Filesystem");
    assert_eq!(vct["status"]["phase"], "Pending");
}

#[test]
fn statefulset_keeps_explicit_values_and_drops_max_unavailable() {
    let sts = defaulted(
        "apps",
        "StatefulSet",
        json!({"spec": {"replicas": 0, "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2, "maxUnavailable": 2}},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}}}),
    );
    assert_eq!(sts["spec"]["replicas"], 0);
    assert_eq!(sts["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(
        sts["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    );
    assert_eq!(
        sts["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Delete", "whenScaled": "Retain"})
    );
    let ondelete = defaulted(
        "apps",
        "StatefulSet",
        json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
    );
    assert_eq!(ondelete["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
}

#[test]
fn defaulting_is_idempotent() {
    let once = defaulted(
        "",
        "Pod",
        json!({"spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    );
    let twice = defaulted("", "Pod", once.clone());
    assert_eq!(once, twice);
}

#[test]
fn pod_defaults_and_status() {
    let pod = defaulted(
        "",
        "Pod",
        json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "image": "busybox", "readinessProbe": {"httpGet": {"port": 80}},
             "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
            {"name": "b", "image": "registry:5000/app@sha256:abc"},
            {"name": "c", "image": "nginx:latest", "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}
        ], "volumes": [{"name": "v"}, {"name": "cm", "configMap": {"name": "x"}}, {"name": "s", "secret": {"secretName": "x"}}, {"name": "h", "hostPath": {"path": "/x"}}]}}),
    );
    let spec = &pod["spec"];
    assert_eq!(spec["enableServiceLinks"], true);
    let a = &spec["containers"][0];
    assert_eq!(a["imagePullPolicy"], "Always");
    assert_eq!(a["resources"]["requests"], json!({"cpu": "1", "memory": "1Gi"}));
    assert_eq!(
        a["readinessProbe"],
        json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(spec["containers"][2]["imagePullPolicy"], "Always");
    assert_eq!(
        spec["containers"][2]["env"][0]["valueFrom"]["fieldRef"]["apiVersion"],
        "v1"
    );
    assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
    assert_eq!(spec["volumes"][1]["configMap"]["defaultMode"], 420);
    assert_eq!(spec["volumes"][2]["secret"]["defaultMode"], 420);
    assert_eq!(spec["volumes"][3]["hostPath"]["type"], "");
    assert_eq!(
        pod["status"],
        json!({"phase": "Pending", "qosClass": "Burstable"})
    );
}

#[test]
fn pod_qos_classes() {
    let guaranteed = defaulted(
        "",
        "Pod",
        json!({"spec": {"containers": [{"name": "a", "image": "x", "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}}]}}),
    );
    assert_eq!(guaranteed["status"]["qosClass"], "Guaranteed");
    let best = defaulted(
        "",
        "Pod",
        json!({"spec": {"containers": [{"name": "a", "image": "x"}]}}),
    );
    assert_eq!(best["status"]["qosClass"], "BestEffort");
    let existing = defaulted(
        "",
        "Pod",
        json!({"spec": {"containers": []}, "status": {"phase": "Running"}}),
    );
    assert_eq!(existing["status"], json!({"phase": "Running"}));
}

#[test]
fn host_network_ports() {
    let pod = defaulted(
        "",
        "Pod",
        json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 8080}]}]}}),
    );
    assert_eq!(pod["spec"]["containers"][0]["ports"][0]["hostPort"], 8080);
}

#[test]
fn service_defaults() {
    let svc = defaulted(
        "",
        "Service",
        json!({"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    );
    let s = &svc["spec"];
    assert_eq!(s["type"], "ClusterIP");
    assert_eq!(s["sessionAffinity"], "None");
    assert_eq!(
        s["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(s["internalTrafficPolicy"], "Cluster");
    assert_eq!(s["ipFamilyPolicy"], "SingleStack");
    assert_eq!(s["ipFamilies"], json!(["IPv4"]));
    assert!(s.get("externalTrafficPolicy").is_none());
    let lb = defaulted(
        "",
        "Service",
        json!({"spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP", "ports": [{"port": 80, "targetPort": "http"}]}}),
    );
    assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
    assert_eq!(
        lb["spec"]["sessionAffinityConfig"],
        json!({"clientIP": {"timeoutSeconds": 10800}})
    );
    assert_eq!(lb["spec"]["ports"][0]["targetPort"], "http");
    let headless = defaulted("", "Service", json!({"spec": {"clusterIP": "None"}}));
    assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
    assert_eq!(headless["spec"]["ipFamilyPolicy"], "RequireDualStack");
    let ext = defaulted(
        "",
        "Service",
        json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}),
    );
    assert!(ext["spec"].get("ipFamilies").is_none());
    assert!(ext["spec"].get("internalTrafficPolicy").is_none());
}

#[test]
fn storage_defaults() {
    let pvc = defaulted(
        "",
        "PersistentVolumeClaim",
        json!({"spec": {"accessModes": ["ReadWriteOnce"]}}),
    );
    assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
    assert_eq!(pvc["status"]["phase"], "Pending");
    let pv = defaulted("", "PersistentVolume", json!({"spec": {}}));
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(pv["spec"]["volumeMode"], "Filesystem");
    assert_eq!(pv["status"]["phase"], "Pending");
    let sc = defaulted("storage.k8s.io", "StorageClass", json!({"provisioner": "x"}));
    assert_eq!(sc["reclaimPolicy"], "Delete");
    assert_eq!(sc["volumeBindingMode"], "Immediate");
}

#[test]
fn namespace_and_secret_defaults() {
    let ns = defaulted("", "Namespace", json!({"metadata": {"name": "team"}}));
    assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "team");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(ns["status"]["phase"], "Active");
    // An existing namespace whose finalizer was removed does not get it back.
    let finalized = defaulted(
        "",
        "Namespace",
        json!({"metadata": {"name": "team"}, "spec": {"finalizers": []}, "status": {"phase": "Terminating"}}),
    );
    assert_eq!(finalized["spec"]["finalizers"], json!([]));
    let secret = defaulted("", "Secret", json!({"metadata": {"name": "s"}}));
    assert_eq!(secret["type"], "Opaque");
}
