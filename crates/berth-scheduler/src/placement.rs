//! Pure placement: filter nodes that can run a pod, then pick the least loaded one.

use k8s_openapi::api::core::v1::{Node, Pod};
use std::collections::{BTreeMap, HashMap};

/// Why no node fits, worded as Kubernetes' `FailedScheduling` events are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unschedulable {
    /// The event and condition message.
    pub message: String,
}

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn matches_selector(pod: &Pod, node: &Node) -> bool {
    let Some(selector) = pod.spec.as_ref().and_then(|s| s.node_selector.as_ref()) else {
        return true;
    };
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Chooses a node for `pod` among `nodes`, given how many pods each node already runs.
pub fn choose_node(
    pod: &Pod,
    nodes: &[Node],
    load: &HashMap<String, usize>,
) -> Result<String, Unschedulable> {
    let mut reasons: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut best: Option<(usize, &str)> = None;
    for node in nodes {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let reason = if !is_ready(node) {
            Some("node(s) were not ready")
        } else if node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false) {
            Some("node(s) were unschedulable")
        } else if !matches_selector(pod, node) {
            Some("node(s) didn't match Pod's node affinity/selector")
        } else {
            None
        };
        match reason {
            Some(r) => *reasons.entry(r).or_default() += 1,
            None => {
                let l = load.get(name).copied().unwrap_or(0);
                if best.is_none_or(|(bl, bn)| (l, name) < (bl, bn)) {
                    best = Some((l, name));
                }
            }
        }
    }
    match best {
        Some((_, name)) => Ok(name.to_string()),
        None => {
            let total = nodes.len();
            let detail: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
            let message = if detail.is_empty() {
                format!("0/{total} nodes are available.")
            } else {
                format!(
                    "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling.",
                    detail.join(", ")
                )
            };
            Err(Unschedulable { message })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, ready: bool, labels: serde_json::Value) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
        }))
        .expect("node")
    }

    fn pod(selector: serde_json::Value) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [], "nodeSelector": selector}}),
        )
        .expect("pod")
    }

    #[test]
    fn picks_the_least_loaded_ready_node() {
        let nodes = vec![
            node("a", true, json!({})),
            node("b", true, json!({})),
            node("c", false, json!({})),
        ];
        let load = HashMap::from([("a".to_string(), 3), ("b".to_string(), 1)]);
        assert_eq!(choose_node(&pod(json!({})), &nodes, &load), Ok("b".to_string()));
    }

    #[test]
    fn node_selector_filters_and_explains() {
        let nodes = vec![
            node("a", true, json!({"zone": "x"})),
            node("b", false, json!({"zone": "y"})),
        ];
        assert_eq!(
            choose_node(&pod(json!({"zone": "x"})), &nodes, &HashMap::new()),
            Ok("a".to_string())
        );
        let err = choose_node(&pod(json!({"zone": "z"})), &nodes, &HashMap::new()).expect_err("no fit");
        assert_eq!(
            err.message,
            "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were not ready. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn no_nodes_at_all() {
        let err = choose_node(&pod(json!({})), &[], &HashMap::new()).expect_err("no nodes");
        assert_eq!(err.message, "0/0 nodes are available.");
    }
}
