//! Pure matching rules between claims, volumes, classes and nodes, transcribed from
//! Kubernetes' `component-helpers/storage/volume` (`GetPersistentVolumeClaimClass`,
//! `CheckAccessModes`, `CheckVolumeModeMismatches`, `CheckNodeAffinity`, `FindMatchingVolume`)
//! and `pkg/controller/volume/persistentvolume/index.go` (`findBestMatchForClaim`).

use berth_api::selector::LabelSelector;
use berth_api::validation::quantity::{self, Quantity};
use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, PersistentVolume, PersistentVolumeClaim, TopologySelectorTerm,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The beta annotation that, when present, names the class instead of `storageClassName`.
pub const ANN_BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

fn annotation<'a>(
    meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<&'a str> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// `GetPersistentVolumeClaimClass`: the beta annotation first, then `spec.storageClassName`,
/// `""` when neither is set.
pub fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    if let Some(c) = annotation(&claim.metadata, ANN_BETA_STORAGE_CLASS) {
        return c;
    }
    claim
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

/// `GetPersistentVolumeClass`: the beta annotation first, then `spec.storageClassName`.
pub fn volume_class(volume: &PersistentVolume) -> &str {
    if let Some(c) = annotation(&volume.metadata, ANN_BETA_STORAGE_CLASS) {
        return c;
    }
    volume
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

fn parse_quantity(q: Option<&K8sQuantity>) -> Quantity {
    q.and_then(|q| quantity::parse(&q.0)).unwrap_or(Quantity(0))
}

/// The claim's requested `storage` (zero when absent or malformed).
pub fn requested_storage(claim: &PersistentVolumeClaim) -> Quantity {
    parse_quantity(
        claim
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage")),
    )
}

/// The volume's `capacity.storage` (zero when absent or malformed).
pub fn volume_capacity(volume: &PersistentVolume) -> Quantity {
    parse_quantity(
        volume
            .spec
            .as_ref()
            .and_then(|s| s.capacity.as_ref())
            .and_then(|c| c.get("storage")),
    )
}

fn modes(list: Option<&Vec<String>>) -> BTreeSet<String> {
    list.map(|l| l.iter().cloned().collect()).unwrap_or_default()
}

/// The claim's requested access modes.
pub fn claim_access_modes(claim: &PersistentVolumeClaim) -> BTreeSet<String> {
    modes(claim.spec.as_ref().and_then(|s| s.access_modes.as_ref()))
}

/// The volume's access modes.
pub fn volume_access_modes(volume: &PersistentVolume) -> BTreeSet<String> {
    modes(volume.spec.as_ref().and_then(|s| s.access_modes.as_ref()))
}

/// `CheckAccessModes`: every mode the claim asks for is one the volume offers.
pub fn access_modes_fit(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> bool {
    claim_access_modes(claim).is_subset(&volume_access_modes(volume))
}

/// `CheckVolumeModeMismatches`: `volumeMode` defaults to `Filesystem` on both sides.
pub fn volume_mode_mismatch(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> bool {
    let claim_mode = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_mode.as_deref())
        .unwrap_or("Filesystem");
    let volume_mode = volume
        .spec
        .as_ref()
        .and_then(|s| s.volume_mode.as_deref())
        .unwrap_or("Filesystem");
    claim_mode != volume_mode
}

/// `IsVolumeBoundToClaim`: the volume's `claimRef` names the claim (and its UID, when set).
pub fn is_volume_bound_to_claim(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(r) = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    r.name.as_deref() == claim.metadata.name.as_deref()
        && r.namespace.as_deref().unwrap_or("") == claim.metadata.namespace.as_deref().unwrap_or("")
        && (r.uid.as_deref().unwrap_or("").is_empty() || r.uid.as_deref() == claim.metadata.uid.as_deref())
}

fn requirement_matches(req: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = req.values.as_deref().unwrap_or(&[]);
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), [bound]) = (value.and_then(|v| v.parse::<i64>().ok()), values) else {
                return false;
            };
            let Ok(bound) = bound.parse::<i64>() else {
                return false;
            };
            if req.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// `CheckNodeAffinity`: a volume without `nodeAffinity.required` fits every node; otherwise one
/// of its terms must match the node's labels (and `metadata.name` for `matchFields`). A term
/// with no requirements matches nothing, as in Kubernetes.
pub fn node_affinity_fits(
    volume: &PersistentVolume,
    node_name: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    let Some(required) = volume
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
    else {
        return true;
    };
    required.node_selector_terms.iter().any(|term| {
        let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
        let fields = term.match_fields.as_deref().unwrap_or(&[]);
        if exprs.is_empty() && fields.is_empty() {
            return false;
        }
        exprs
            .iter()
            .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
            && fields.iter().all(|r| {
                let value = (r.key == "metadata.name").then_some(node_name);
                requirement_matches(r, value)
            })
    })
}

/// The node's labels, empty when it has none.
pub fn node_labels(node: &Node) -> BTreeMap<String, String> {
    node.metadata.labels.clone().unwrap_or_default()
}

/// Whether the node reports `Ready=True`.
pub fn node_is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether a node's labels satisfy a class's `allowedTopologies` (no terms: every node).
pub fn topology_allows(terms: Option<&Vec<TopologySelectorTerm>>, labels: &BTreeMap<String, String>) -> bool {
    let Some(terms) = terms.filter(|t| !t.is_empty()) else {
        return true;
    };
    terms.iter().any(|term| {
        term.match_label_expressions.iter().flatten().all(|e| {
            labels
                .get(&e.key)
                .is_some_and(|v| e.values.iter().any(|x| x == v))
        })
    })
}

fn selector_matches(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> Result<bool, String> {
    let Some(selector) = claim.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return Ok(true);
    };
    let as_json = serde_json::to_value(selector).map_err(|e| e.to_string())?;
    let selector = LabelSelector::from_label_selector_json(&as_json)?;
    let labels: Map<String, Value> = volume
        .metadata
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Ok(selector.matches_labels(&labels))
}

fn volume_phase(volume: &PersistentVolume) -> &str {
    volume
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// A node the match is evaluated for (the scheduler's path in Kubernetes; in Berth the claim's
/// `volume.kubernetes.io/selected-node`).
#[derive(Debug, Clone, Copy)]
pub struct TargetNode<'a> {
    /// The node's name.
    pub name: &'a str,
    /// The node's labels.
    pub labels: &'a BTreeMap<String, String>,
}

/// `FindMatchingVolume` over one set of candidate volumes: a volume pre-bound to the claim wins
/// at once (unless it does not fit `node`); otherwise the smallest Available volume of the
/// claim's class, size, volume mode and selector (and node, when given). With `delay_binding`
/// and no node, only pre-bound volumes are returned: the consumer's node decides.
pub fn find_matching_volume<'a>(
    claim: &PersistentVolumeClaim,
    volumes: &[&'a PersistentVolume],
    node: Option<TargetNode<'_>>,
    delay_binding: bool,
) -> Result<Option<&'a PersistentVolume>, String> {
    let requested = requested_storage(claim);
    let class = claim_class(claim);
    let mut smallest: Option<(&'a PersistentVolume, Quantity)> = None;
    for &volume in volumes {
        let claimed = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()).is_some();
        if claimed && !is_volume_bound_to_claim(volume, claim) {
            continue;
        }
        let capacity = volume_capacity(volume);
        if capacity < requested || volume_mode_mismatch(claim, volume) {
            continue;
        }
        if volume.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let node_fits = node.is_none_or(|n| node_affinity_fits(volume, n.name, n.labels));
        if is_volume_bound_to_claim(volume, claim) {
            return Ok(node_fits.then_some(volume));
        }
        if node.is_none() && delay_binding {
            continue;
        }
        if volume_phase(volume) != "Available" || !selector_matches(claim, volume)? {
            continue;
        }
        if volume_class(volume) != class || !node_fits {
            continue;
        }
        if node.is_some() && !access_modes_fit(claim, volume) {
            continue;
        }
        if smallest.is_none_or(|(_, q)| q > capacity) {
            smallest = Some((volume, capacity));
        }
    }
    Ok(smallest.map(|(v, _)| v))
}

/// `findBestMatchForClaim`: volumes are indexed by their access-mode set; the sets that contain
/// every mode the claim asks for are tried from the fewest modes up, and the first set with a
/// match wins (so a `ReadWriteOnce` claim prefers a `ReadWriteOnce` volume to a larger-moded one).
pub fn find_best_match<'a>(
    claim: &PersistentVolumeClaim,
    volumes: &[&'a PersistentVolume],
    node: Option<TargetNode<'_>>,
    delay_binding: bool,
) -> Result<Option<&'a PersistentVolume>, String> {
    let wanted = claim_access_modes(claim);
    let mut by_modes: BTreeMap<(usize, Vec<String>), Vec<&'a PersistentVolume>> = BTreeMap::new();
    for &v in volumes {
        let offered = volume_access_modes(v);
        if wanted.is_subset(&offered) {
            by_modes
                .entry((offered.len(), offered.into_iter().collect()))
                .or_default()
                .push(v);
        }
    }
    for candidates in by_modes.values() {
        if let Some(v) = find_matching_volume(claim, candidates, node, delay_binding)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// `GetDefaultClass`: among classes annotated `storageclass.kubernetes.io/is-default-class:
/// "true"` (or the beta annotation), the newest (ties: the first name).
pub fn default_class(classes: &[&StorageClass]) -> Option<String> {
    classes
        .iter()
        .filter(|c| {
            [
                "storageclass.kubernetes.io/is-default-class",
                "storageclass.beta.kubernetes.io/is-default-class",
            ]
            .iter()
            .any(|k| annotation(&c.metadata, k) == Some("true"))
        })
        .max_by(|a, b| {
            let ta = a.metadata.creation_timestamp.as_ref().map(|t| t.0);
            let tb = b.metadata.creation_timestamp.as_ref().map(|t| t.0);
            ta.cmp(&tb).then_with(|| b.metadata.name.cmp(&a.metadata.name))
        })
        .and_then(|c| c.metadata.name.clone())
}
