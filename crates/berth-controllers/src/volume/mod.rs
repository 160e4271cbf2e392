//! The PersistentVolume controller (kube-controller-manager's `persistentvolume-binder`):
//! binds claims to volumes, keeps the phases of both, hands claims without a volume to their
//! class's provisioner, and applies a released volume's reclaim policy.
//!
//! - [`matching`]: pure matching rules (class, size, access modes, volume mode, selector, node
//!   affinity, default class);
//! - [`plan`]: pure decisions, one claim or one volume at a time ([`plan::sync_claim`],
//!   [`plan::sync_volume`]);
//! - [`controller`]: the kube-rs shell ([`run`]).
//!
//! Dynamic provisioning of `berth.dev/local` volumes (and their deletion) happens on the nodes,
//! in `berth_node::provisioner`.

pub mod controller;
pub mod matching;
pub mod plan;

#[cfg(test)]
mod tests;

pub use controller::run;

/// Set on a claim once binding finished (`pv.kubernetes.io/bind-completed: "yes"`).
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// Set on a claim or a volume whose binding the controller made.
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// The provisioner that created a volume.
pub const ANN_DYNAMICALLY_PROVISIONED: &str = "pv.kubernetes.io/provisioned-by";
/// The provisioner that should provision a claim.
pub const ANN_STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
/// The deprecated form of [`ANN_STORAGE_PROVISIONER`], still written by Kubernetes.
pub const ANN_BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
/// The node a claim's volume should be provisioned on.
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// Berth's node-local provisioner.
pub const LOCAL_PROVISIONER: &str = "berth.dev/local";
/// The component name on the controller's events.
pub const COMPONENT: &str = "persistentvolume-controller";
