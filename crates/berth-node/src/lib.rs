//! Berth's node agent, the kubelet's role: it registers its Node, renews the node's Lease in
//! `kube-node-lease`, and drives the pods bound to it, reporting their status through the
//! API. [`sim`] is the simulated runtime (no processes, like KWOK): every container runs at
//! once and is Ready unless the pod says otherwise through annotations.

pub mod agent;
pub mod host;
pub mod node;
pub mod node_pods;
pub mod provisioner;
pub mod sim;
pub mod sim_streams;
pub mod volume_stats;

pub use agent::{AgentConfig, HostSettings, NodeRuntime, run, run_with};
pub use node_pods::{NodePods, NodePodsHub};
