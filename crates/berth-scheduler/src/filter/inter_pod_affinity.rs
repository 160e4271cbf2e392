//! `InterPodAffinity`: the pod's required affinity and anti-affinity against the pods already
//! placed, the symmetric rule (existing pods' required anti-affinity repels the pod), and the
//! preferred terms' contribution to the score, over any topology key.
//!
//! A term selects pods by label selector within its namespaces: the listed `namespaces`, plus
//! the namespaces whose labels match `namespaceSelector`; with neither, the namespace of the
//! pod that owns the term. `matchLabelKeys`/`mismatchLabelKeys` add `In`/`NotIn` requirements
//! on the owning pod's label values.

use super::Status;
use crate::selectors::{Labels, label_selector_matches};
use crate::snapshot::{NodeInfo, Snapshot};
use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The pod's required affinity is not met on the node.
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// The pod's required anti-affinity is violated on the node.
pub const REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
/// Placing the pod on the node would violate an existing pod's required anti-affinity.
pub const REASON_EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";

/// The weight of an existing pod's required affinity term in the score (`hardPodAffinityWeight`).
pub const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

/// A pod affinity term resolved against the pod that owns it.
#[derive(Debug, Clone)]
pub struct Term {
    namespaces: BTreeSet<String>,
    namespace_selector: Option<LabelSelector>,
    selector: Option<LabelSelector>,
    /// The topology key.
    pub topology_key: String,
}

impl Term {
    /// Resolves `term` as written in `owner`'s spec.
    pub fn new(owner: &Pod, term: &PodAffinityTerm) -> Term {
        let owner_ns = owner.metadata.namespace.clone().unwrap_or_default();
        let listed = term.namespaces.clone().unwrap_or_default();
        let namespaces = if listed.is_empty() && term.namespace_selector.is_none() {
            BTreeSet::from([owner_ns])
        } else {
            listed.into_iter().collect()
        };
        let mut selector = term.label_selector.clone();
        let owner_labels = owner.metadata.labels.clone().unwrap_or_default();
        for (keys, op) in [
            (&term.match_label_keys, "In"),
            (&term.mismatch_label_keys, "NotIn"),
        ] {
            for key in keys.iter().flatten() {
                if let (Some(sel), Some(value)) = (selector.as_mut(), owner_labels.get(key)) {
                    sel.match_expressions
                        .get_or_insert_with(Vec::new)
                        .push(LabelSelectorRequirement {
                            key: key.clone(),
                            operator: op.into(),
                            values: Some(vec![value.clone()]),
                        });
                }
            }
        }
        Term {
            namespaces,
            namespace_selector: term.namespace_selector.clone(),
            selector,
            topology_key: term.topology_key.clone(),
        }
    }

    /// `AffinityTerm.Matches`: `pod` is in one of the term's namespaces and its labels match.
    pub fn matches(&self, pod: &Pod, namespace_labels: &BTreeMap<String, Labels>) -> bool {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let empty = Labels::new();
        let in_ns = self.namespaces.contains(ns)
            || label_selector_matches(
                self.namespace_selector.as_ref(),
                namespace_labels.get(ns).unwrap_or(&empty),
            );
        in_ns
            && label_selector_matches(
                self.selector.as_ref(),
                pod.metadata.labels.as_ref().unwrap_or(&empty),
            )
    }
}

/// The pod's terms of one kind, resolved.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    /// Required affinity.
    pub affinity: Vec<Term>,
    /// Required anti-affinity.
    pub anti_affinity: Vec<Term>,
    /// Preferred affinity with weights.
    pub preferred_affinity: Vec<(i64, Term)>,
    /// Preferred anti-affinity with weights.
    pub preferred_anti_affinity: Vec<(i64, Term)>,
}

impl Terms {
    /// Resolves all of `pod`'s pod affinity terms.
    pub fn of(pod: &Pod) -> Terms {
        let aff = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
        let pa = aff.and_then(|a| a.pod_affinity.as_ref());
        let paa = aff.and_then(|a| a.pod_anti_affinity.as_ref());
        let req =
            |v: Option<&Vec<PodAffinityTerm>>| v.into_iter().flatten().map(|t| Term::new(pod, t)).collect();
        let pref = |v: Option<&Vec<k8s_openapi::api::core::v1::WeightedPodAffinityTerm>>| {
            v.into_iter()
                .flatten()
                .map(|w| (i64::from(w.weight), Term::new(pod, &w.pod_affinity_term)))
                .collect()
        };
        Terms {
            affinity: req(pa.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())),
            anti_affinity: req(
                paa.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())
            ),
            preferred_affinity: pref(
                pa.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref()),
            ),
            preferred_anti_affinity: pref(
                paa.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref()),
            ),
        }
    }
}

type TopologyCounts = HashMap<(String, String), i64>;

/// What the filter needs, counted once over all placed pods.
#[derive(Debug, Clone, Default)]
pub struct PreState {
    terms: Terms,
    /// Topology pairs of nodes whose pods' required anti-affinity matches the incoming pod.
    existing_anti_affinity: TopologyCounts,
    /// Topology pairs holding pods that match all of the incoming pod's affinity terms.
    affinity: TopologyCounts,
    /// Topology pairs holding pods that match one of the incoming pod's anti-affinity terms.
    anti_affinity: TopologyCounts,
    /// Whether the pod matches all of its own affinity terms (the first of a group may go anywhere).
    matches_own_affinity: bool,
}

fn pair(node: &NodeInfo<'_>, key: &str) -> Option<(String, String)> {
    node.labels.get(key).map(|v| (key.to_string(), v.clone()))
}

impl PreState {
    /// Counts over `snapshot` for scheduling `pod`.
    pub fn new(pod: &Pod, snapshot: &Snapshot<'_>) -> PreState {
        let ns_labels = snapshot.namespace_labels;
        let terms = Terms::of(pod);
        let mut s = PreState {
            matches_own_affinity: !terms.affinity.is_empty()
                && terms.affinity.iter().all(|t| t.matches(pod, ns_labels)),
            ..PreState::default()
        };
        // Without terms of its own, the pod only meets the terms of pods that have some.
        let own_terms = !terms.affinity.is_empty() || !terms.anti_affinity.is_empty();
        for node in &snapshot.nodes {
            let existing_pods = if own_terms {
                &node.pods
            } else {
                &node.with_affinity
            };
            for existing in existing_pods {
                for t in Terms::of(existing).anti_affinity {
                    if t.matches(pod, ns_labels)
                        && let Some(p) = pair(node, &t.topology_key)
                    {
                        *s.existing_anti_affinity.entry(p).or_default() += 1;
                    }
                }
                if !terms.affinity.is_empty() && terms.affinity.iter().all(|t| t.matches(existing, ns_labels))
                {
                    for t in &terms.affinity {
                        if let Some(p) = pair(node, &t.topology_key) {
                            *s.affinity.entry(p).or_default() += 1;
                        }
                    }
                }
                for t in &terms.anti_affinity {
                    if t.matches(existing, ns_labels)
                        && let Some(p) = pair(node, &t.topology_key)
                    {
                        *s.anti_affinity.entry(p).or_default() += 1;
                    }
                }
            }
        }
        s.terms = terms;
        s
    }
}

fn satisfies_affinity(s: &PreState, node: &NodeInfo<'_>) -> bool {
    let mut pods_exist = true;
    for t in &s.terms.affinity {
        match pair(node, &t.topology_key) {
            Some(p) => {
                if s.affinity.get(&p).copied().unwrap_or(0) <= 0 {
                    pods_exist = false;
                }
            }
            None => return false,
        }
    }
    // The first pod of a group with affinity to itself may go to any node with the keys.
    pods_exist || (s.affinity.is_empty() && s.matches_own_affinity)
}

fn satisfies_anti_affinity(s: &PreState, node: &NodeInfo<'_>) -> bool {
    s.terms.anti_affinity.iter().all(|t| {
        pair(node, &t.topology_key).is_none_or(|p| s.anti_affinity.get(&p).copied().unwrap_or(0) <= 0)
    })
}

fn satisfies_existing_anti_affinity(s: &PreState, node: &NodeInfo<'_>) -> bool {
    s.existing_anti_affinity.is_empty()
        || node.labels.iter().all(|(k, v)| {
            s.existing_anti_affinity
                .get(&(k.clone(), v.clone()))
                .copied()
                .unwrap_or(0)
                <= 0
        })
}

/// The filter: affinity (unresolvable), then anti-affinity, then existing pods' anti-affinity
/// (both `Unschedulable`: evicting the matching pods would help).
pub fn filter(s: &PreState, node: &NodeInfo<'_>) -> Option<Status> {
    if !satisfies_affinity(s, node) {
        Some(Status::unresolvable(REASON_AFFINITY))
    } else if !satisfies_anti_affinity(s, node) {
        Some(Status::unschedulable(REASON_ANTI_AFFINITY))
    } else if !satisfies_existing_anti_affinity(s, node) {
        Some(Status::unschedulable(REASON_EXISTING_ANTI_AFFINITY))
    } else {
        None
    }
}

/// Raw preferred scores per topology pair: the incoming pod's preferred terms matched by
/// placed pods (affinity adds, anti-affinity subtracts), and placed pods' required affinity
/// (weight 1) and preferred terms matched by the incoming pod.
pub fn topology_scores(pod: &Pod, snapshot: &Snapshot<'_>) -> TopologyCounts {
    let ns_labels = snapshot.namespace_labels;
    let own = Terms::of(pod);
    let mut scores = TopologyCounts::new();
    let mut add = |node: &NodeInfo<'_>, key: &str, w: i64| {
        if let Some(p) = pair(node, key) {
            *scores.entry(p).or_default() += w;
        }
    };
    for node in &snapshot.nodes {
        if node.labels.is_empty() {
            continue;
        }
        let own_terms = !own.preferred_affinity.is_empty() || !own.preferred_anti_affinity.is_empty();
        let existing_pods = if own_terms {
            &node.pods
        } else {
            &node.with_affinity
        };
        for existing in existing_pods {
            for (w, t) in &own.preferred_affinity {
                if t.matches(existing, ns_labels) {
                    add(node, &t.topology_key, *w);
                }
            }
            for (w, t) in &own.preferred_anti_affinity {
                if t.matches(existing, ns_labels) {
                    add(node, &t.topology_key, -*w);
                }
            }
            let theirs = Terms::of(existing);
            for t in &theirs.affinity {
                if t.matches(pod, ns_labels) {
                    add(node, &t.topology_key, HARD_POD_AFFINITY_WEIGHT);
                }
            }
            for (w, t) in &theirs.preferred_affinity {
                if t.matches(pod, ns_labels) {
                    add(node, &t.topology_key, *w);
                }
            }
            for (w, t) in &theirs.preferred_anti_affinity {
                if t.matches(pod, ns_labels) {
                    add(node, &t.topology_key, -*w);
                }
            }
        }
    }
    scores
}

/// A node's raw score: the sum of the scores of its topology pairs.
pub fn node_score(scores: &TopologyCounts, node: &NodeInfo<'_>) -> i64 {
    node.labels
        .iter()
        .filter_map(|(k, v)| scores.get(&(k.clone(), v.clone())))
        .sum()
}

#[cfg(test)]
mod tests;
