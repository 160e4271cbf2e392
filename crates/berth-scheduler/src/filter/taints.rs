//! `NodeUnschedulable` and `TaintToleration`: a cordoned node takes only pods that tolerate
//! `node.kubernetes.io/unschedulable:NoSchedule`; `NoSchedule` and `NoExecute` taints keep
//! out pods that do not tolerate them (`PreferNoSchedule` only lowers the score, see
//! [`crate::score`]).

use super::Status;
use crate::snapshot::{NodeInfo, TAINT_UNSCHEDULABLE};
use k8s_openapi::api::core::v1::{Pod, Taint, Toleration};

/// `Toleration.ToleratesTaint`: effect and key match when set (an empty key needs `Exists`),
/// and the operator `Equal` (or empty) compares values while `Exists` accepts any.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("") {
        "" | "Equal" => toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// The pod's tolerations.
pub fn tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default()
}

/// Whether any of `tolerations` tolerates `taint`.
pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// The first `NoSchedule`/`NoExecute` taint of `taints` the pod does not tolerate.
pub fn first_untolerated<'t>(pod: &Pod, taints: &'t [Taint]) -> Option<&'t Taint> {
    let tols = tolerations(pod);
    taints
        .iter()
        .find(|t| (t.effect == "NoSchedule" || t.effect == "NoExecute") && !tolerated(tols, t))
}

/// `NodeUnschedulable`: "node(s) were unschedulable" (unresolvable) for a cordoned node the
/// pod does not tolerate.
pub fn filter_unschedulable(pod: &Pod, node: &NodeInfo<'_>) -> Option<Status> {
    let cordoned = node
        .node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    let taint = Taint {
        key: TAINT_UNSCHEDULABLE.into(),
        effect: "NoSchedule".into(),
        ..Taint::default()
    };
    (cordoned && !tolerated(tolerations(pod), &taint))
        .then(|| Status::unresolvable("node(s) were unschedulable"))
}

/// `TaintToleration`: "node(s) had untolerated taint {key: value}" (unresolvable) naming the
/// first untolerated taint, as kube-scheduler 1.32 words it.
pub fn filter(pod: &Pod, node: &NodeInfo<'_>) -> Option<Status> {
    first_untolerated(pod, &node.taints).map(|t| {
        Status::unresolvable(format!(
            "node(s) had untolerated taint {{{}: {}}}",
            t.key,
            t.value.as_deref().unwrap_or("")
        ))
    })
}

/// How many `PreferNoSchedule` taints of the node the pod does not tolerate (tolerations with
/// an empty effect or `PreferNoSchedule` count), for scoring.
pub fn intolerable_prefer_no_schedule(pod: &Pod, node: &NodeInfo<'_>) -> i64 {
    let tols: Vec<&Toleration> = tolerations(pod)
        .iter()
        .filter(|t| matches!(t.effect.as_deref(), None | Some("") | Some("PreferNoSchedule")))
        .collect();
    let count = node
        .taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule" && !tols.iter().any(|tol| tolerates(tol, t)))
        .count();
    i64::try_from(count).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
