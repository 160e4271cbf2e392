//! The Endpoints and EndpointSlice controllers: the network identity of a service's pods.
//!
//! Both are a pure planner plus a kube-rs shell. [`plan_endpoints`] turns a service and the
//! pods it selects into the `subsets` of its Endpoints object; [`plan_slices`] turns them
//! (and the nodes, for zones) into EndpointSlices. [`run_endpoints`] and
//! [`run_endpoint_slices`] watch Services, Pods, Nodes and the controllers' outputs and
//! apply the plans, writing nothing when nothing changed. Services without a selector and
//! `ExternalName` services are left alone; pods without an IP are skipped; a pod's
//! `spec.hostname` is published when its `spec.subdomain` names the service (StatefulSet
//! pods' DNS names).

mod controller;
mod endpoints_plan;
pub mod pods;
mod slices_plan;

#[cfg(test)]
mod tests;

pub use controller::{SyncError, run_endpoint_slices, run_endpoints};
pub use endpoints_plan::{EndpointsAction, desired_subsets, plan_endpoints};
pub use slices_plan::{
    CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MAX_ENDPOINTS_PER_SLICE, SlicePlan,
    is_managed_slice_of, plan_slices,
};
