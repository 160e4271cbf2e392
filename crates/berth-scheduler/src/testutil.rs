//! Builders for unit tests: nodes, pods and storage objects from compact JSON.

use crate::selectors::Labels;
use crate::snapshot::{Cluster, Placed, Snapshot};
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A Ready node with the given labels and the sim agent's allocatable (8 cpu, 32Gi, 110 pods).
pub fn node(name: &str, labels: Value) -> Node {
    node_with(name, labels, json!({}))
}

/// A Ready node; `extra` is merged into the node's JSON (`spec`, `status.allocatable`).
pub fn node_with(name: &str, labels: Value, extra: Value) -> Node {
    let mut labels = labels;
    labels["kubernetes.io/hostname"] = json!(name);
    let mut v = json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {},
        "status": {
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    });
    merge(&mut v, extra);
    serde_json::from_value(v).expect("node")
}

/// A node in `zone` (label `topology.kubernetes.io/zone`).
pub fn zoned(name: &str, zone: &str) -> Node {
    node(name, json!({"topology.kubernetes.io/zone": zone}))
}

fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(b), Value::Object(e)) => {
            for (k, v) in e {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, e) => *b = e,
    }
}

/// A pod in `default` named `name` with one container; `spec` is merged into its spec.
pub fn pod(name: &str, labels: Value, spec: Value) -> Pod {
    let mut v = json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    });
    merge(&mut v["spec"], spec);
    serde_json::from_value(v).expect("pod")
}

/// A pod in namespace `ns`.
pub fn pod_in(ns: &str, name: &str, labels: Value, spec: Value) -> Pod {
    let mut p = pod(name, labels, spec);
    p.metadata.namespace = Some(ns.into());
    p.metadata.uid = Some(format!("uid-{ns}-{name}"));
    p
}

/// Any object from JSON.
pub fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("object")
}

/// A claim.
pub fn claim(v: Value) -> PersistentVolumeClaim {
    from(v)
}

/// A volume.
pub fn volume(v: Value) -> PersistentVolume {
    from(v)
}

/// A storage class.
pub fn class(v: Value) -> StorageClass {
    from(v)
}

/// Owns what a [`Cluster`] borrows.
pub struct World {
    /// Nodes.
    pub nodes: Vec<Node>,
    /// `(node, pod)` pairs.
    pub pods: Vec<(String, Pod)>,
    /// Namespace labels.
    pub namespaces: BTreeMap<String, Labels>,
}

impl World {
    /// A world of `nodes` without pods.
    pub fn new(nodes: Vec<Node>) -> World {
        World {
            nodes,
            pods: Vec::new(),
            namespaces: BTreeMap::new(),
        }
    }

    /// Places `pod` on `node`.
    pub fn with(mut self, node: &str, pod: Pod) -> World {
        self.pods.push((node.into(), pod));
        self
    }

    /// Calls `f` with the cluster.
    pub fn cluster<R>(&self, f: impl FnOnce(&Cluster<'_>) -> R) -> R {
        let placed: Vec<Placed<'_>> = self
            .pods
            .iter()
            .map(|(n, p)| Placed {
                node: n,
                pod: p,
                requests: None,
            })
            .collect();
        let c = Cluster {
            nodes: &self.nodes,
            placed: &placed,
            namespace_labels: &self.namespaces,
        };
        f(&c)
    }

    /// Calls `f` with the snapshot for scheduling `pod`.
    pub fn snapshot<R>(&self, pod: &Pod, f: impl FnOnce(&Snapshot<'_>) -> R) -> R {
        self.cluster(|c| f(&Snapshot::new(pod, c)))
    }
}
