//! `PodTopologySpread`: `DoNotSchedule` constraints filter nodes where placing the pod would
//! make its domain exceed `maxSkew` over the least-loaded domain; `ScheduleAnyway`
//! constraints score nodes with fewer matching pods higher.
//!
//! Counting follows kube-scheduler 1.32: only nodes carrying every constraint's topology key
//! take part; `nodeAffinityPolicy` (default `Honor`) and `nodeTaintsPolicy` (default
//! `Ignore`) decide whether nodes the pod could not go to still count; terminating pods and
//! pods of other namespaces never count; `matchLabelKeys` adds the pod's own label values to
//! the selector; with fewer eligible domains than `minDomains` the global minimum is 0. No
//! default (system) constraints apply to pods without constraints.

use super::Status;
use super::node_affinity::required_matches;
use super::taints::first_untolerated;
use crate::selectors::{Labels, label_selector_matches};
use crate::snapshot::{NodeInfo, Snapshot};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use std::collections::{BTreeMap, BTreeSet};

/// Placing the pod on the node would exceed a constraint's `maxSkew`.
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
/// The node lacks a constraint's topology key.
pub const REASON_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// The hostname label, whose domains are single nodes.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";

/// Which constraints a computation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hardness {
    /// `whenUnsatisfiable: DoNotSchedule` (the filter).
    DoNotSchedule,
    /// `whenUnsatisfiable: ScheduleAnyway` (the score).
    ScheduleAnyway,
}

/// One constraint, resolved for the pod.
#[derive(Debug, Clone)]
pub struct Constraint {
    max_skew: i64,
    min_domains: usize,
    topology_key: String,
    selector: Option<LabelSelector>,
    honor_node_affinity: bool,
    honor_node_taints: bool,
}

/// The pod's constraints of the given hardness.
pub fn constraints(pod: &Pod, hardness: Hardness) -> Vec<Constraint> {
    let want = match hardness {
        Hardness::DoNotSchedule => "DoNotSchedule",
        Hardness::ScheduleAnyway => "ScheduleAnyway",
    };
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    pod.spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.when_unsatisfiable == want)
        .map(|c| {
            let mut selector = c.label_selector.clone();
            for key in c.match_label_keys.iter().flatten() {
                if let (Some(sel), Some(value)) = (selector.as_mut(), labels.get(key)) {
                    sel.match_expressions
                        .get_or_insert_with(Vec::new)
                        .push(LabelSelectorRequirement {
                            key: key.clone(),
                            operator: "In".into(),
                            values: Some(vec![value.clone()]),
                        });
                }
            }
            Constraint {
                max_skew: i64::from(c.max_skew),
                min_domains: usize::try_from(c.min_domains.unwrap_or(1)).unwrap_or(1),
                topology_key: c.topology_key.clone(),
                selector,
                honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
                honor_node_taints: c.node_taints_policy.as_deref() == Some("Honor"),
            }
        })
        .collect()
}

fn has_all_keys(labels: &Labels, constraints: &[Constraint]) -> bool {
    constraints.iter().all(|c| labels.contains_key(&c.topology_key))
}

fn included(c: &Constraint, pod: &Pod, node: &NodeInfo<'_>) -> bool {
    (!c.honor_node_affinity || required_matches(pod, node.name, &node.labels))
        && (!c.honor_node_taints || first_untolerated(pod, &node.taints).is_none())
}

fn count_matching(node: &NodeInfo<'_>, c: &Constraint, namespace: &str) -> i64 {
    let empty = Labels::new();
    let n = node
        .pods
        .iter()
        .filter(|p| {
            p.metadata.deletion_timestamp.is_none()
                && p.metadata.namespace.as_deref().unwrap_or("") == namespace
                && label_selector_matches(c.selector.as_ref(), p.metadata.labels.as_ref().unwrap_or(&empty))
        })
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The filter's state: per constraint, matching pods per domain of the eligible nodes.
#[derive(Debug, Clone, Default)]
pub struct PreState {
    constraints: Vec<Constraint>,
    /// Per constraint: topology value → matching pods.
    counts: Vec<BTreeMap<String, i64>>,
}

impl PreState {
    /// Counts over `snapshot` for the pod's constraints of the given hardness.
    pub fn new(pod: &Pod, snapshot: &Snapshot<'_>, hardness: Hardness) -> PreState {
        let constraints = constraints(pod, hardness);
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let mut counts = vec![BTreeMap::new(); constraints.len()];
        for node in &snapshot.nodes {
            if !has_all_keys(&node.labels, &constraints) {
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if !included(c, pod, node) {
                    continue;
                }
                let value = node.labels.get(&c.topology_key).cloned().unwrap_or_default();
                *counts[i].entry(value).or_default() += count_matching(node, c, ns);
            }
        }
        PreState { constraints, counts }
    }

    fn min_match(&self, i: usize) -> i64 {
        let domains = &self.counts[i];
        if domains.len() < self.constraints[i].min_domains {
            return 0;
        }
        domains.values().copied().min().unwrap_or(i64::from(i32::MAX))
    }
}

/// The filter (`DoNotSchedule` constraints): a node without a constraint's key is
/// unresolvable; `matching + self - min > maxSkew` is `Unschedulable`.
pub fn filter(pod: &Pod, s: &PreState, node: &NodeInfo<'_>) -> Option<Status> {
    let empty = Labels::new();
    let pod_labels = pod.metadata.labels.as_ref().unwrap_or(&empty);
    for (i, c) in s.constraints.iter().enumerate() {
        let Some(value) = node.labels.get(&c.topology_key) else {
            return Some(Status::unresolvable(REASON_MISSING_LABEL));
        };
        let self_match = i64::from(label_selector_matches(c.selector.as_ref(), pod_labels));
        let matching = s.counts[i].get(value).copied().unwrap_or(0);
        if matching + self_match - s.min_match(i) > c.max_skew {
            return Some(Status::unschedulable(REASON));
        }
    }
    None
}

/// Normalized `ScheduleAnyway` scores (0–100) for `feasible` nodes, in their order; all zero
/// when the pod has no such constraint.
pub fn scores(pod: &Pod, snapshot: &Snapshot<'_>, feasible: &[&NodeInfo<'_>]) -> Vec<i64> {
    let constraints = constraints(pod, Hardness::ScheduleAnyway);
    if constraints.is_empty() {
        return vec![0; feasible.len()];
    }
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let ignored: BTreeSet<&str> = feasible
        .iter()
        .filter(|n| !has_all_keys(&n.labels, &constraints))
        .map(|n| n.name)
        .collect();
    // Domains among the feasible nodes, per constraint.
    let mut domains: Vec<BTreeMap<String, i64>> = vec![BTreeMap::new(); constraints.len()];
    for n in feasible.iter().filter(|n| !ignored.contains(n.name)) {
        for (i, c) in constraints.iter().enumerate() {
            if c.topology_key != LABEL_HOSTNAME {
                domains[i].insert(n.labels.get(&c.topology_key).cloned().unwrap_or_default(), 0);
            }
        }
    }
    let weights: Vec<f64> = constraints
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let size = if c.topology_key == LABEL_HOSTNAME {
                feasible.len() - ignored.len()
            } else {
                domains[i].len()
            };
            ((size + 2) as f64).ln()
        })
        .collect();
    for node in &snapshot.nodes {
        if !has_all_keys(&node.labels, &constraints) {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if c.topology_key == LABEL_HOSTNAME || !included(c, pod, node) {
                continue;
            }
            let value = node.labels.get(&c.topology_key).cloned().unwrap_or_default();
            if let Some(count) = domains[i].get_mut(&value) {
                *count += count_matching(node, c, ns);
            }
        }
    }
    let raw: Vec<Option<i64>> = feasible
        .iter()
        .map(|n| {
            if ignored.contains(n.name) {
                return None;
            }
            let mut score = 0.0;
            for (i, c) in constraints.iter().enumerate() {
                if let Some(value) = n.labels.get(&c.topology_key) {
                    let count = if c.topology_key == LABEL_HOSTNAME {
                        count_matching(n, c, ns)
                    } else {
                        domains[i].get(value).copied().unwrap_or(0)
                    };
                    score += count as f64 * weights[i] + (c.max_skew - 1) as f64;
                }
            }
            Some(score.round() as i64)
        })
        .collect();
    let valid = raw.iter().flatten();
    let min = valid.clone().copied().min().unwrap_or(0);
    let max = valid.copied().max().unwrap_or(0).max(0);
    raw.iter()
        .map(|r| match r {
            None => 0,
            Some(_) if max == 0 => 100,
            Some(s) => 100 * (max + min - s) / max,
        })
        .collect()
}

#[cfg(test)]
mod tests;
