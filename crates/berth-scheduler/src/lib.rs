//! Berth's scheduler: [`placement`] decides where a pod goes (a pure function of the pod,
//! the nodes and the pods already placed); [`binder`] watches unscheduled pods and nodes
//! and posts `pods/binding` through the API, or records why a pod cannot be placed.
//!
//! Filters today: node readiness, `spec.unschedulable`, `nodeSelector`. Scoring: fewest
//! pods. Affinity, spreading, taints, resources and volume topology come with issue 5.

pub mod binder;
pub mod placement;
