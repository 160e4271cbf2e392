//! The filter plugins of kube-scheduler's default profile that Berth runs, each in its own
//! module, and the order they run in: the first plugin that rejects a node decides its status.

pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod resources;
pub mod taints;
pub mod topology_spread;
pub mod volume;

use crate::snapshot::{NodeInfo, Snapshot};
use crate::volume_topology::VolumeTopology;
use k8s_openapi::api::core::v1::Pod;

/// How a node rejected a pod (the framework's status codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `Unschedulable`: preemption might make room.
    Unschedulable,
    /// `UnschedulableAndUnresolvable`: preemption cannot help on this node.
    Unresolvable,
}

/// A node's rejection: its code and the reasons, in Kubernetes' words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Whether preemption could help.
    pub code: Code,
    /// The reasons, counted one by one in the summary message.
    pub reasons: Vec<String>,
}

impl Status {
    /// An `Unschedulable` status with one reason.
    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status {
            code: Code::Unschedulable,
            reasons: vec![reason.into()],
        }
    }

    /// An `UnschedulableAndUnresolvable` status with one reason.
    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status {
            code: Code::Unresolvable,
            reasons: vec![reason.into()],
        }
    }
}

/// What the PreFilter step computed once for the pod, read by every per-node filter.
#[derive(Debug, Clone)]
pub struct PreState<'a> {
    /// The pod's resource requests (`NodeResourcesFit`).
    pub requests: resources::Resources,
    /// Counts behind the inter-pod affinity filter.
    pub affinity: inter_pod_affinity::PreState,
    /// Counts behind the topology spread filter (`DoNotSchedule` constraints).
    pub spread: topology_spread::PreState,
    /// The pod's volume constraints.
    pub volumes: &'a VolumeTopology,
}

/// Runs the PreFilter step: fails the whole pod with one message (Kubernetes reports it
/// instead of per-node reasons) or computes the state the filters share.
pub fn prefilter<'v>(
    pod: &Pod,
    snapshot: &Snapshot<'_>,
    volumes: &'v VolumeTopology,
) -> Result<PreState<'v>, String> {
    if let Some(message) = &volumes.prefilter_failure {
        return Err(message.clone());
    }
    Ok(PreState {
        requests: resources::pod_requests(pod, false),
        affinity: inter_pod_affinity::PreState::new(pod, snapshot),
        spread: topology_spread::PreState::new(pod, snapshot, topology_spread::Hardness::DoNotSchedule),
        volumes,
    })
}

/// Runs the filters in the default profile's order (`NodeUnschedulable`, `TaintToleration`,
/// `NodeAffinity`, `NodeResourcesFit`, `VolumeBinding`, `PodTopologySpread`,
/// `InterPodAffinity`); `None` when the node fits.
pub fn filter(pod: &Pod, state: &PreState<'_>, node: &NodeInfo<'_>) -> Option<Status> {
    taints::filter_unschedulable(pod, node)
        .or_else(|| taints::filter(pod, node))
        .or_else(|| node_affinity::filter(pod, node))
        .or_else(|| resources::filter(&state.requests, node))
        .or_else(|| volume::filter(state.volumes, node))
        .or_else(|| topology_spread::filter(pod, &state.spread, node))
        .or_else(|| inter_pod_affinity::filter(&state.affinity, node))
}
