//! Pure placement: one scheduling cycle of kube-scheduler's default profile for one pod, from
//! the pod, the cluster (nodes, placed pods, namespace labels) and its volume topology to the
//! chosen node, or to the `FailedScheduling` message Kubernetes would write.
//!
//! PreFilter (volumes) → Filter ([`crate::filter`]) on the nodes in turn from a start index,
//! until enough feasible ones are found (kube-scheduler's adaptive `percentageOfNodesToScore`,
//! [`num_feasible_nodes_to_find`]) → Score the feasible nodes ([`crate::score`]); when nothing fits, the preemption dry run decides the message's
//! `preemption:` part ([`crate::message`]). Berth does not evict: when lower-priority pods
//! could make room, the message simply has no preemption part.

use crate::filter::{self, Code, Status};
use crate::message::{self, Diagnosis};
use crate::score;
use crate::snapshot::{Cluster, NodeInfo, Snapshot};
use crate::volume_topology::VolumeTopology;
use k8s_openapi::api::core::v1::Pod;

/// Why no node fits, worded as Kubernetes' `FailedScheduling` events are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unschedulable {
    /// The event and condition message.
    pub message: String,
}

fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

/// The dry run on one node whose status was `Unschedulable`: `None` when evicting its
/// lower-priority pods would let the pod fit, else the status to report.
fn preempt_on(pod: &Pod, snapshot: &Snapshot<'_>, volumes: &VolumeTopology, index: usize) -> Option<Status> {
    let node = &snapshot.nodes[index];
    let own = priority(pod);
    if !node.pods.iter().any(|p| priority(p) < own) {
        return Some(Status::unresolvable(message::NO_VICTIMS));
    }
    let mut without = snapshot.clone();
    without.nodes[index].retain(|p| priority(p) >= own);
    let state = match filter::prefilter(pod, &without, volumes) {
        Ok(s) => s,
        Err(m) => return Some(Status::unresolvable(m)),
    };
    filter::filter(pod, &state, &without.nodes[index])
}

/// The `preemption:` part of the message, `None` when some node has preemption candidates.
fn postfilter(
    pod: &Pod,
    snapshot: &Snapshot<'_>,
    volumes: &VolumeTopology,
    rejections: &[(usize, Status)],
) -> Option<String> {
    if pod.spec.as_ref().and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Some(format!("preemption: {}", message::NOT_ELIGIBLE_NEVER));
    }
    let mut tried = Vec::new();
    for (index, status) in rejections {
        if status.code == Code::Unresolvable {
            continue;
        }
        tried.push(preempt_on(pod, snapshot, volumes, *index)?);
    }
    Some(message::preemption(snapshot.nodes.len(), tried))
}

/// kube-scheduler's `minFeasibleNodesToFind`: below this many nodes, every node is filtered.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// kube-scheduler's `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// kube-scheduler's `numFeasibleNodesToFind` with `percentageOfNodesToScore` unset (its
/// default): how many feasible nodes a cycle looks for before it stops filtering. Every node
/// below 100 nodes; else `50 - nodes/125` percent of them (at least 5 %), and at least 100.
pub fn num_feasible_nodes_to_find(num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let percentage = 50usize
        .saturating_sub(num_all_nodes / 125)
        .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    (num_all_nodes * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// What one scheduling cycle decided, and how many nodes it filtered (the scheduler starts
/// the next cycle that many nodes further on, as kube-scheduler's `nextStartNodeIndex`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The chosen node, or why none fits.
    pub result: Result<String, Unschedulable>,
    /// How many nodes were filtered.
    pub processed: usize,
}

/// Chooses a node for `pod`, or explains in Kubernetes' words why none fits.
pub fn schedule(pod: &Pod, cluster: &Cluster<'_>, volumes: &VolumeTopology) -> Result<String, Unschedulable> {
    schedule_in(pod, &Snapshot::new(pod, cluster), volumes)
}

/// [`schedule`] on a snapshot already taken, which must not count `pod` itself (a scheduler
/// takes one snapshot per pass and adds each pod it places); filtering starts at the first
/// node.
pub fn schedule_in(
    pod: &Pod,
    snapshot: &Snapshot<'_>,
    volumes: &VolumeTopology,
) -> Result<String, Unschedulable> {
    schedule_from(pod, snapshot, volumes, 0).result
}

/// [`schedule_in`] with filtering starting at node `start` (wrapping around).
pub fn schedule_from(
    pod: &Pod,
    snapshot: &Snapshot<'_>,
    volumes: &VolumeTopology,
    start: usize,
) -> Placement {
    let (result, processed) = cycle(pod, snapshot, volumes, start);
    Placement { result, processed }
}

fn cycle(
    pod: &Pod,
    snapshot: &Snapshot<'_>,
    volumes: &VolumeTopology,
    start: usize,
) -> (Result<String, Unschedulable>, usize) {
    let total = snapshot.nodes.len();
    if total == 0 {
        let none = Unschedulable {
            message: message::NO_NODES.into(),
        };
        return (Err(none), 0);
    }
    let state = match filter::prefilter(pod, snapshot, volumes) {
        Ok(s) => s,
        Err(pre) => {
            let diagnosis = Diagnosis {
                num_all_nodes: total,
                prefilter_msg: Some(pre),
                postfilter_msg: postfilter(pod, snapshot, volumes, &[]),
                ..Diagnosis::default()
            };
            let message = message::fit_error(&diagnosis);
            return (Err(Unschedulable { message }), 0);
        }
    };
    let to_find = num_feasible_nodes_to_find(total);
    let mut feasible: Vec<&NodeInfo<'_>> = Vec::new();
    let mut rejections: Vec<(usize, Status)> = Vec::new();
    let mut processed = 0;
    for i in (0..total).map(|k| (start + k) % total) {
        if feasible.len() >= to_find {
            break;
        }
        processed += 1;
        let node = &snapshot.nodes[i];
        match filter::filter(pod, &state, node) {
            None => feasible.push(node),
            Some(status) => rejections.push((i, status)),
        }
    }
    if !feasible.is_empty() {
        let totals = score::total_scores(pod, snapshot, &feasible);
        if let Some(name) = score::pick(&feasible, &totals) {
            return (Ok(name), processed);
        }
    }
    let diagnosis = Diagnosis {
        num_all_nodes: total,
        postfilter_msg: postfilter(pod, snapshot, volumes, &rejections),
        statuses: rejections.into_iter().map(|(_, s)| s).collect(),
        ..Diagnosis::default()
    };
    let message = message::fit_error(&diagnosis);
    (Err(Unschedulable { message }), processed)
}

#[cfg(test)]
mod tests;
