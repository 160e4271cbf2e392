//! The scheduler's view of the cluster for one decision: every node with its effective taints,
//! allocatable resources and the pods placed on it (bound or assumed), plus namespace labels.

use crate::filter::resources::{Resources, allocatable, pod_requests};
use crate::selectors::Labels;
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use std::collections::BTreeMap;

/// The taint the node lifecycle controller puts on a node whose `Ready` condition is `False`.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The taint the node lifecycle controller puts on a node whose `Ready` condition is `Unknown`.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The taint that stands for `spec.unschedulable`.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// A pod on a node: bound (`spec.nodeName`) or assumed by the scheduler before its binding
/// shows up in the watch.
#[derive(Debug, Clone, Copy)]
pub struct Placed<'a> {
    /// The node the pod runs on, or is assumed to.
    pub node: &'a str,
    /// The pod.
    pub pod: &'a Pod,
    /// Its requests when already known (the scheduler keeps them per pod version); computed
    /// from the pod when `None`.
    pub requests: Option<&'a PodRequests>,
}

/// What a pod requests, as the resource filter and the scorer count it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRequests {
    /// `pod_requests(pod, false)`.
    pub requested: Resources,
    /// `pod_requests(pod, true)`: with the scorer's defaults for containers that request
    /// nothing.
    pub non_zero: Resources,
}

impl PodRequests {
    /// The requests of `pod`.
    pub fn of(pod: &Pod) -> Self {
        PodRequests {
            requested: pod_requests(pod, false),
            non_zero: pod_requests(pod, true),
        }
    }
}

/// Everything placement reads besides the pod itself.
#[derive(Debug, Clone, Copy)]
pub struct Cluster<'a> {
    /// All nodes.
    pub nodes: &'a [Node],
    /// Pods bound or assumed to nodes.
    pub placed: &'a [Placed<'a>],
    /// Labels of each namespace (for `namespaceSelector` in pod affinity terms).
    pub namespace_labels: &'a BTreeMap<String, Labels>,
}

/// One node as the filters see it.
#[derive(Debug, Clone)]
pub struct NodeInfo<'a> {
    /// The node object.
    pub node: &'a Node,
    /// `metadata.name`.
    pub name: &'a str,
    /// `metadata.labels`.
    pub labels: Labels,
    /// `spec.taints` plus the readiness taint the node lifecycle controller would add.
    pub taints: Vec<Taint>,
    /// The non-terminated pods on the node (the incoming pod excluded).
    pub pods: Vec<&'a Pod>,
    /// Those of [`NodeInfo::pods`] with pod affinity or anti-affinity terms (kube-scheduler's
    /// `PodsWithAffinity`): the only ones whose terms an incoming pod without terms of its
    /// own must be checked against.
    pub with_affinity: Vec<&'a Pod>,
    /// What [`NodeInfo::pods`] request together, as the resource filter counts it.
    pub requested: Resources,
    /// The same with the scorer's non-zero defaults for pods that request nothing.
    pub requested_non_zero: Resources,
    /// `status.allocatable` parsed once, and the node's pod slots.
    pub allocatable: (Resources, i64),
}

impl<'a> NodeInfo<'a> {
    /// The node with no pods yet.
    pub fn new(node: &'a Node) -> Self {
        NodeInfo {
            node,
            name: node.metadata.name.as_deref().unwrap_or(""),
            labels: node.metadata.labels.clone().unwrap_or_default(),
            taints: effective_taints(node),
            pods: Vec::new(),
            with_affinity: Vec::new(),
            requested: Resources::default(),
            requested_non_zero: Resources::default(),
            allocatable: allocatable(node),
        }
    }

    /// Counts `pod` as placed on the node.
    pub fn add(&mut self, pod: &'a Pod) {
        self.add_with(pod, &PodRequests::of(pod));
    }

    /// [`NodeInfo::add`] with the pod's requests already known.
    pub fn add_with(&mut self, pod: &'a Pod, requests: &PodRequests) {
        self.pods.push(pod);
        let affinity = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
        if affinity.is_some_and(|a| a.pod_affinity.is_some() || a.pod_anti_affinity.is_some()) {
            self.with_affinity.push(pod);
        }
        self.requested.add(&requests.requested);
        self.requested_non_zero.add(&requests.non_zero);
    }

    /// Stops counting the pods `keep` rejects (sums recomputed).
    pub fn retain(&mut self, mut keep: impl FnMut(&Pod) -> bool) {
        let pods = std::mem::take(&mut self.pods);
        self.with_affinity.clear();
        self.requested = Resources::default();
        self.requested_non_zero = Resources::default();
        for pod in pods {
            if keep(pod) {
                self.add(pod);
            }
        }
    }
}

/// The snapshot one scheduling decision works on.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// Every node, sorted by name.
    pub nodes: Vec<NodeInfo<'a>>,
    /// Labels of each namespace.
    pub namespace_labels: &'a BTreeMap<String, Labels>,
}

fn ready_status(node: &Node) -> &str {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .map_or("Unknown", |c| c.status.as_str())
}

/// The node's taints as the scheduler would find them once the node lifecycle controller ran:
/// a node that is not Ready carries `not-ready` (condition `False`) or `unreachable` (anything
/// else) with effect `NoSchedule`, unless it already has that taint.
pub fn effective_taints(node: &Node) -> Vec<Taint> {
    let mut taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let implied = match ready_status(node) {
        "True" => None,
        "False" => Some(TAINT_NOT_READY),
        _ => Some(TAINT_UNREACHABLE),
    };
    if let Some(key) = implied
        && !taints.iter().any(|t| t.key == key && t.effect == "NoSchedule")
    {
        taints.push(Taint {
            key: key.to_string(),
            effect: "NoSchedule".into(),
            ..Taint::default()
        });
    }
    taints
}

/// Whether a pod has finished (`Succeeded` or `Failed`): the scheduler's cache drops those.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Whether two pod objects are the same pod (same UID, else same namespace and name).
pub fn same_pod(a: &Pod, b: &Pod) -> bool {
    match (&a.metadata.uid, &b.metadata.uid) {
        (Some(x), Some(y)) => x == y,
        _ => a.metadata.namespace == b.metadata.namespace && a.metadata.name == b.metadata.name,
    }
}

impl<'a> Snapshot<'a> {
    /// Builds the snapshot for scheduling `pod`.
    pub fn new(pod: &Pod, cluster: &Cluster<'a>) -> Snapshot<'a> {
        let mut snapshot = Snapshot::of(cluster);
        snapshot.remove(pod);
        snapshot
    }

    /// The snapshot of `cluster` with every placed pod counted (terminated ones excepted).
    pub fn of(cluster: &Cluster<'a>) -> Snapshot<'a> {
        let mut nodes: Vec<NodeInfo<'a>> = cluster.nodes.iter().map(NodeInfo::new).collect();
        nodes.sort_by(|a, b| a.name.cmp(b.name));
        let mut snapshot = Snapshot {
            nodes,
            namespace_labels: cluster.namespace_labels,
        };
        for placed in cluster.placed {
            match placed.requests {
                Some(requests) => snapshot.add_with(placed.node, placed.pod, requests),
                None => snapshot.add(placed.node, placed.pod),
            }
        }
        snapshot
    }

    /// Counts `pod` on the node `node` (a pod placed since the snapshot was taken); a
    /// terminated pod or an unknown node is ignored.
    pub fn add(&mut self, node: &str, pod: &'a Pod) {
        if let Some(i) = self.counted_at(node, pod) {
            self.nodes[i].add(pod);
        }
    }

    /// [`Snapshot::add`] with the pod's requests already known.
    pub fn add_with(&mut self, node: &str, pod: &'a Pod, requests: &PodRequests) {
        if let Some(i) = self.counted_at(node, pod) {
            self.nodes[i].add_with(pod, requests);
        }
    }

    /// The index of `node` when `pod` counts there (not terminated, a known node).
    fn counted_at(&self, node: &str, pod: &Pod) -> Option<usize> {
        if is_terminal(pod) {
            return None;
        }
        self.nodes.binary_search_by(|n| n.name.cmp(node)).ok()
    }

    /// Stops counting `pod` wherever it is counted (the pod being scheduled is not its own
    /// neighbour); returns whether it was.
    pub fn remove(&mut self, pod: &Pod) -> bool {
        let mut found = false;
        for node in &mut self.nodes {
            if node.pods.iter().any(|p| same_pod(p, pod)) {
                node.retain(|p| !same_pod(p, pod));
                found = true;
            }
        }
        found
    }

    /// Whether `pod` is counted on some node.
    pub fn counts(&self, pod: &Pod) -> bool {
        self.nodes.iter().any(|n| n.pods.iter().any(|p| same_pod(p, pod)))
    }

    /// The snapshot narrowed to the node `name` (none when unknown).
    pub fn only(&self, name: &str) -> Snapshot<'a> {
        Snapshot {
            nodes: self.node(name).cloned().into_iter().collect(),
            namespace_labels: self.namespace_labels,
        }
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeInfo<'a>> {
        self.nodes
            .binary_search_by(|n| n.name.cmp(name))
            .ok()
            .map(|i| &self.nodes[i])
    }
}
