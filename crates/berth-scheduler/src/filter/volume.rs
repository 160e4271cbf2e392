//! `VolumeBinding`'s Filter: bound claims need their volume reachable from the node; delayed
//! (`WaitForFirstConsumer`) claims need an Available volume reachable from the node or a class
//! that provisions in the node's topology. All failing reasons of a node are reported.

use super::{Code, Status};
use crate::selectors::{node_selector_matches, topology_terms_match};
use crate::snapshot::NodeInfo;
use crate::volume_topology::{DelayedClaim, VolumeTopology};

/// A bound volume's node affinity excludes the node (`ErrReasonNodeConflict`).
pub const REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// No volume can be bound or provisioned for a delayed claim (`ErrReasonBindConflict`).
pub const REASON_BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
/// A bound claim's volume does not exist (`ErrReasonPVNotExist`).
pub const REASON_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";

/// Whether a delayed claim can be satisfied on the node.
pub fn delayed_fits(claim: &DelayedClaim, node: &NodeInfo<'_>) -> bool {
    let reachable = |a: &Option<_>| match a {
        Some(sel) => node_selector_matches(sel, node.name, &node.labels),
        None => true,
    };
    claim.candidates.iter().any(reachable)
        || (claim.provisionable && topology_terms_match(&claim.allowed_topologies, &node.labels))
}

/// The filter (unresolvable when it fails).
pub fn filter(topology: &VolumeTopology, node: &NodeInfo<'_>) -> Option<Status> {
    let mut bound_ok = true;
    let mut pvs_found = true;
    for claim in &topology.bound {
        match &claim.volume_affinity {
            None => {
                pvs_found = false;
                break;
            }
            Some(Some(sel)) if !node_selector_matches(sel, node.name, &node.labels) => {
                bound_ok = false;
                break;
            }
            Some(_) => {}
        }
    }
    let unbound_ok = topology.delayed.iter().all(|c| delayed_fits(c, node));
    let mut reasons = Vec::new();
    if !bound_ok {
        reasons.push(REASON_NODE_CONFLICT.to_string());
    }
    if !unbound_ok {
        reasons.push(REASON_BIND_CONFLICT.to_string());
    }
    if !pvs_found {
        reasons.push(REASON_PV_NOT_EXIST.to_string());
    }
    (!reasons.is_empty()).then_some(Status {
        code: Code::Unresolvable,
        reasons,
    })
}

#[cfg(test)]
mod tests;
