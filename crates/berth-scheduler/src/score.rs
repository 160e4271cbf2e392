//! Scoring the feasible nodes as the default profile does, each plugin normalized to 0–100
//! and weighted: `TaintToleration` (3, fewer untolerated `PreferNoSchedule` taints),
//! `NodeAffinity` (2, preferred terms), `NodeResourcesFit` (1, least allocated cpu and
//! memory), `NodeResourcesBalancedAllocation` (1), `PodTopologySpread` (2, `ScheduleAnyway`)
//! and `InterPodAffinity` (2, preferred terms). The highest total wins; ties go to the node
//! whose name sorts first (Kubernetes picks among ties at random).

use crate::filter::resources::{Resources, pod_requests, requested_on};
use crate::filter::{inter_pod_affinity, node_affinity, taints, topology_spread};
use crate::snapshot::{NodeInfo, Snapshot};
use k8s_openapi::api::core::v1::Pod;

/// The best score a plugin gives.
pub const MAX_NODE_SCORE: i64 = 100;

/// `DefaultNormalizeScore`: scale to 0–100 by the maximum; `reverse` flips the scale.
pub fn default_normalize(raw: &[i64], reverse: bool) -> Vec<i64> {
    let max = raw.iter().copied().max().unwrap_or(0).max(0);
    if max == 0 {
        return vec![if reverse { MAX_NODE_SCORE } else { 0 }; raw.len()];
    }
    raw.iter()
        .map(|s| {
            let s = MAX_NODE_SCORE * s / max;
            if reverse { MAX_NODE_SCORE - s } else { s }
        })
        .collect()
}

/// `InterPodAffinity`'s normalization: min–max scaling to 0–100 (all 0 when equal).
pub fn min_max_normalize(raw: &[i64]) -> Vec<i64> {
    let (Some(&min), Some(&max)) = (raw.iter().min(), raw.iter().max()) else {
        return Vec::new();
    };
    raw.iter()
        .map(|s| {
            if max > min {
                ((MAX_NODE_SCORE * (s - min)) as f64 / (max - min) as f64) as i64
            } else {
                0
            }
        })
        .collect()
}

fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        0
    } else {
        (capacity - requested) * MAX_NODE_SCORE / capacity
    }
}

/// `LeastAllocated` over cpu and memory (weight 1 each), with the non-zero request defaults.
pub fn least_allocated(pod_request: &Resources, node: &NodeInfo<'_>) -> i64 {
    let (alloc, _) = &node.allocatable;
    let used = requested_on(node, true);
    let pairs = [
        (used.milli_cpu + pod_request.milli_cpu, alloc.milli_cpu),
        (used.memory + pod_request.memory, alloc.memory),
    ];
    let (sum, n) = pairs
        .iter()
        .filter(|(_, a)| *a != 0)
        .fold((0, 0), |(s, n), (r, a)| (s + least_requested(*r, *a), n + 1));
    if n == 0 { 0 } else { sum / n }
}

/// `BalancedAllocation`: 100 × (1 − the spread of the cpu and memory fractions).
pub fn balanced_allocation(pod_request: &Resources, node: &NodeInfo<'_>) -> i64 {
    let (alloc, _) = &node.allocatable;
    let used = requested_on(node, false);
    let fractions: Vec<f64> = [
        (used.milli_cpu + pod_request.milli_cpu, alloc.milli_cpu),
        (used.memory + pod_request.memory, alloc.memory),
    ]
    .iter()
    .filter(|(_, a)| *a != 0)
    .map(|(r, a)| (*r as f64 / *a as f64).min(1.0))
    .collect();
    let std = match fractions.as_slice() {
        [a, b] => ((a - b) / 2.0).abs(),
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// The weighted total score of each feasible node, in their order.
pub fn total_scores(pod: &Pod, snapshot: &Snapshot<'_>, feasible: &[&NodeInfo<'_>]) -> Vec<i64> {
    let non_zero = pod_requests(pod, true);
    let actual = pod_requests(pod, false);
    let taint_raw: Vec<i64> = feasible
        .iter()
        .map(|n| taints::intolerable_prefer_no_schedule(pod, n))
        .collect();
    let affinity_raw: Vec<i64> = feasible
        .iter()
        .map(|n| node_affinity::preferred_score(pod, n))
        .collect();
    let topo = inter_pod_affinity::topology_scores(pod, snapshot);
    let taint = default_normalize(&taint_raw, true);
    let affinity = default_normalize(&affinity_raw, false);
    let pod_affinity = if topo.is_empty() {
        vec![0; feasible.len()]
    } else {
        let raw: Vec<i64> = feasible
            .iter()
            .map(|n| inter_pod_affinity::node_score(&topo, n))
            .collect();
        min_max_normalize(&raw)
    };
    let spread = topology_spread::scores(pod, snapshot, feasible);
    let balance_applies = actual.milli_cpu != 0 || actual.memory != 0;
    feasible
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let balanced = if balance_applies {
                balanced_allocation(&actual, n)
            } else {
                0
            };
            3 * taint[i]
                + 2 * affinity[i]
                + least_allocated(&non_zero, n)
                + balanced
                + 2 * spread[i]
                + 2 * pod_affinity[i]
        })
        .collect()
}

/// The chosen node: the highest total, ties broken by name.
pub fn pick(feasible: &[&NodeInfo<'_>], totals: &[i64]) -> Option<String> {
    feasible
        .iter()
        .zip(totals)
        .max_by(|(a, sa), (b, sb)| sa.cmp(sb).then_with(|| b.name.cmp(a.name)))
        .map(|(n, _)| n.name.to_string())
}

#[cfg(test)]
mod tests;
