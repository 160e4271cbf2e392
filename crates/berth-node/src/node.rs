//! The Node object and Lease an agent publishes, as pure builders.

use serde_json::{Value, json};

/// Kubelet version the agent reports (matches the API server's minor version).
pub const KUBELET_VERSION: &str = "v1.32.4+berth";

/// The Node an agent registers: labels, capacity, addresses, node info and a Ready condition.
pub fn node_object(name: &str, zone: Option<&str>, runtime: &str, now: &str) -> Value {
    let mut labels = json!({
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
    });
    if let Some(z) = zone {
        labels["topology.kubernetes.io/zone"] = json!(z);
    }
    let capacity = json!({"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"});
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "message": "kubelet has sufficient memory available", "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
                 "message": "kubelet has no disk pressure", "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
                 "message": "kubelet has sufficient PID available", "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now},
            ],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "", "systemUUID": "", "bootID": "",
                "kernelVersion": "", "osImage": "Berth", "containerRuntimeVersion": format!("{runtime}://1.0.0"),
                "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": "",
                "operatingSystem": "linux", "architecture": "amd64",
            },
        },
    })
}

/// Points the Node's `status.daemonEndpoints.kubeletEndpoint.Port` at the agent's streaming
/// server (the API server proxies exec, attach, port-forward and logs there, at the node's
/// `InternalIP`).
pub fn set_kubelet_port(node: &mut Value, port: u16) {
    node["status"]["daemonEndpoints"] = json!({"kubeletEndpoint": {"Port": port}});
}

/// The node's Lease in `kube-node-lease`, renewed at `now` (a MicroTime string).
pub fn lease_object(node: &str, node_uid: &str, now_micro: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": node,
            "namespace": "kube-node-lease",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid}],
        },
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": now_micro},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_port_points_at_the_streaming_server() {
        let mut n = node_object("node-1", None, "sim", "2026-01-01T00:00:00Z");
        set_kubelet_port(&mut n, 41234);
        assert_eq!(n["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"], 41234);
        let internal = n["status"]["addresses"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["type"] == "InternalIP"))
            .cloned();
        assert_eq!(internal.map(|a| a["address"].clone()), Some(json!("127.0.0.1")));
    }

    #[test]
    fn node_carries_topology_and_ready() {
        let n = node_object("node-1", Some("a"), "sim", "2026-01-01T00:00:00Z");
        assert_eq!(n["metadata"]["labels"]["topology.kubernetes.io/zone"], "a");
        assert_eq!(n["metadata"]["labels"]["kubernetes.io/hostname"], "node-1");
        let ready = n["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
            .cloned();
        assert_eq!(ready.map(|r| r["status"].clone()), Some(json!("True")));
        let no_zone = node_object("node-2", None, "sim", "2026-01-01T00:00:00Z");
        assert!(
            no_zone["metadata"]["labels"]
                .get("topology.kubernetes.io/zone")
                .is_none()
        );
    }
}
