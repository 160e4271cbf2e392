//! The `FailedScheduling` message, as kube-scheduler 1.32's `FitError.Error()` writes it:
//! `0/N nodes are available:` then either the PreFilter message or the histogram of per-node
//! reasons (`"<count> <reason>"` strings sorted as strings, joined by `, `), each followed by
//! `.`, then the PostFilter (preemption) message followed by `.` (the preemption message is
//! itself a `FitError` ending in `.`, hence the `..` Kubernetes prints).

use crate::filter::Status;
use std::collections::BTreeMap;

/// The message when the cluster has no nodes (`ErrNoNodesAvailable`).
pub const NO_NODES: &str = "no nodes available to schedule pods";
/// The preemption reason of nodes where evicting pods cannot help.
pub const PREEMPTION_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
/// The preemption reason of nodes without lower-priority pods.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
/// The preemption message of pods with `preemptionPolicy: Never`.
pub const NOT_ELIGIBLE_NEVER: &str = "not eligible due to preemptionPolicy=Never.";

/// What one scheduling attempt found, for the message.
#[derive(Debug, Clone, Default)]
pub struct Diagnosis {
    /// How many nodes the cluster has.
    pub num_all_nodes: usize,
    /// The PreFilter failure (replaces the per-node reasons).
    pub prefilter_msg: Option<String>,
    /// The statuses of the nodes that rejected the pod.
    pub statuses: Vec<Status>,
    /// Nodes absent from `statuses` count this reason (the framework's "absent nodes status").
    pub absent_reason: Option<String>,
    /// The PostFilter message (`preemption: …`).
    pub postfilter_msg: Option<String>,
}

/// `"<count> <reason>"` for every distinct reason, sorted as Go's `sort.Strings` sorts them.
pub fn histogram(d: &Diagnosis) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &d.statuses {
        for r in &s.reasons {
            *counts.entry(r.as_str()).or_default() += 1;
        }
    }
    if let Some(reason) = &d.absent_reason
        && d.statuses.len() < d.num_all_nodes
    {
        *counts.entry(reason.as_str()).or_default() += d.num_all_nodes - d.statuses.len();
    }
    let mut out: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    out.sort();
    out
}

/// `FitError.Error()`.
pub fn fit_error(d: &Diagnosis) -> String {
    let mut msg = format!("0/{} nodes are available:", d.num_all_nodes);
    match &d.prefilter_msg {
        Some(pre) => msg.push_str(&format!(" {pre}.")),
        None => {
            let h = histogram(d);
            if !h.is_empty() {
                msg.push_str(&format!(" {}.", h.join(", ")));
            }
        }
    }
    if let Some(post) = &d.postfilter_msg {
        msg.push_str(&format!(" {post}."));
    }
    msg
}

/// The preemption plugin's message when no node has preemption candidates: a `FitError` over
/// the nodes where preemption was tried (`tried`), the others counting "Preemption is not
/// helpful for scheduling".
pub fn preemption(num_all_nodes: usize, tried: Vec<Status>) -> String {
    let inner = Diagnosis {
        num_all_nodes,
        statuses: tried,
        absent_reason: Some(PREEMPTION_NOT_HELPFUL.into()),
        ..Diagnosis::default()
    };
    format!("preemption: {}", fit_error(&inner))
}

#[cfg(test)]
mod tests;
