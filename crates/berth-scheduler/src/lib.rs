//! Berth's scheduler: [`placement`] decides where a pod goes (a pure function of the pod, the
//! nodes, the pods already placed, namespace labels and the pod's [`volume_topology`]), and
//! [`binder`] watches the cluster, posts `pods/binding` through the API, or records why a pod
//! cannot be placed.
//!
//! The filters and scores are those of kube-scheduler 1.32's default profile that matter for
//! Berth: `NodeUnschedulable`, `TaintToleration`, `NodeAffinity`, `NodeResourcesFit`,
//! `VolumeBinding`, `PodTopologySpread`, `InterPodAffinity` (see [`filter`] and [`score`]);
//! messages are Kubernetes' own (see [`message`]).

pub mod assumed;
pub mod binder;
pub mod events;
pub mod filter;
pub mod message;
pub mod placement;
pub mod score;
pub mod selectors;
pub mod snapshot;
pub mod volume_topology;

#[cfg(test)]
mod testutil;
