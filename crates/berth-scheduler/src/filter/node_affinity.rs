//! `NodeAffinity`: `spec.nodeSelector` and the required node affinity filter nodes; the
//! preferred terms' weights feed the score.

use super::Status;
use crate::selectors::{Labels, node_selector_matches, term_matches};
use crate::snapshot::NodeInfo;
use k8s_openapi::api::core::v1::{NodeAffinity, Pod};

/// The reason a node fails `nodeSelector` or required node affinity.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

fn node_affinity(pod: &Pod) -> Option<&NodeAffinity> {
    pod.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
}

/// `GetRequiredNodeAffinity(pod).Match(node)`: every `nodeSelector` pair is a node label, and
/// the required node selector (when set) matches the node.
pub fn required_matches(pod: &Pod, node_name: &str, labels: &Labels) -> bool {
    let selector_ok = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.as_ref())
        .is_none_or(|sel| sel.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let affinity_ok = node_affinity(pod)
        .and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())
        .is_none_or(|sel| node_selector_matches(sel, node_name, labels));
    selector_ok && affinity_ok
}

/// The filter: "node(s) didn't match Pod's node affinity/selector" (unresolvable).
pub fn filter(pod: &Pod, node: &NodeInfo<'_>) -> Option<Status> {
    (!required_matches(pod, node.name, &node.labels)).then(|| Status::unresolvable(REASON))
}

/// The raw score: the sum of the weights of the preferred terms the node matches.
pub fn preferred_score(pod: &Pod, node: &NodeInfo<'_>) -> i64 {
    node_affinity(pod)
        .and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref())
        .into_iter()
        .flatten()
        .filter(|t| t.weight != 0 && term_matches(&t.preference, node.name, &node.labels))
        .map(|t| i64::from(t.weight))
        .sum()
}

#[cfg(test)]
mod tests;
