//! Label and node selector matching with Kubernetes' semantics: `metav1.LabelSelector`
//! (`LabelSelectorAsSelector`), `NodeSelectorTerm`s (`nodeaffinity.NodeSelector`) and
//! `TopologySelectorTerm`s (`MatchTopologySelectorTerms`).

use k8s_openapi::api::core::v1::{
    NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, TopologySelectorTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// Labels of an object (empty when it has none).
pub type Labels = BTreeMap<String, String>;

/// Whether `selector` matches `labels`. A missing selector matches nothing and an empty one
/// matches everything, as `LabelSelectorAsSelector` makes them; an unknown operator or an
/// `In`/`NotIn` without values makes the selector invalid, which matches nothing.
pub fn label_selector_matches(selector: Option<&LabelSelector>, labels: &Labels) -> bool {
    let Some(selector) = selector else {
        return false;
    };
    let by_labels = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    by_labels
        && selector.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            let value = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => !values.is_empty() && value.is_some_and(|v| values.contains(v)),
                "NotIn" => !values.is_empty() && value.is_none_or(|v| !values.contains(v)),
                "Exists" => values.is_empty() && value.is_some(),
                "DoesNotExist" => values.is_empty() && value.is_none(),
                _ => false,
            }
        })
}

/// Whether one `NodeSelectorRequirement` over labels holds (`In`, `NotIn`, `Exists`,
/// `DoesNotExist`, and the integer comparisons `Gt`/`Lt` with exactly one value).
pub fn requirement_matches(req: &NodeSelectorRequirement, labels: &Labels) -> bool {
    let values = req.values.as_deref().unwrap_or_default();
    let value = labels.get(&req.key);
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let [bound] = values else { return false };
            let (Some(Ok(have)), Ok(bound)) = (value.map(|v| v.parse::<i64>()), bound.parse::<i64>()) else {
                return false;
            };
            if req.operator == "Gt" {
                have > bound
            } else {
                have < bound
            }
        }
        _ => false,
    }
}

/// Whether a `matchFields` requirement holds for a node named `name` (only `metadata.name`
/// with `In`/`NotIn` is a valid field requirement).
fn field_requirement_matches(req: &NodeSelectorRequirement, name: &str) -> bool {
    if req.key != "metadata.name" {
        return false;
    }
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "In" => values.len() == 1 && values[0] == name,
        "NotIn" => values.len() == 1 && values[0] != name,
        _ => false,
    }
}

/// Whether one term matches a node: its expressions and its fields all hold; a term with
/// neither matches nothing.
pub fn term_matches(term: &NodeSelectorTerm, node_name: &str, labels: &Labels) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs.iter().all(|r| requirement_matches(r, labels))
        && fields.iter().all(|r| field_requirement_matches(r, node_name))
}

/// Whether a `NodeSelector` matches a node: any of its terms matches.
pub fn node_selector_matches(selector: &NodeSelector, node_name: &str, labels: &Labels) -> bool {
    selector
        .node_selector_terms
        .iter()
        .any(|t| term_matches(t, node_name, labels))
}

/// `MatchTopologySelectorTerms`: no terms match every node; otherwise any non-empty term whose
/// every expression has the node's label value among its values (an empty term selects nothing).
pub fn topology_terms_match(terms: &[TopologySelectorTerm], labels: &Labels) -> bool {
    terms.is_empty()
        || terms.iter().any(|t| {
            let exprs = t.match_label_expressions.as_deref().unwrap_or_default();
            !exprs.is_empty()
                && exprs
                    .iter()
                    .all(|e| labels.get(&e.key).is_some_and(|v| e.values.contains(v)))
        })
}

#[cfg(test)]
mod tests;
