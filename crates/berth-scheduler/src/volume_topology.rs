//! Volume topology: what the pod's claims require of a node, computed purely from the pod,
//! the claims, the volumes and the storage classes (the `VolumeBinding` plugin's PreFilter
//! and the inputs of its Filter).
//!
//! - A missing, lost or terminating claim fails the pod outright, with Kubernetes' message.
//! - A bound claim (`volumeName` set and the bind completed) restricts nodes to its volume's
//!   `nodeAffinity.required`.
//! - An unbound claim whose class binds `WaitForFirstConsumer` can use a node when an
//!   Available volume of its class that fits the claim is reachable from there, or when the
//!   class can provision (not `kubernetes.io/no-provisioner`) in that node's topology
//!   (`allowedTopologies`).
//! - Any other unbound claim is "immediate": the pod waits until the claim is bound.

use crate::selectors::Labels;
use berth_api::validation::quantity;
use k8s_openapi::api::core::v1::{
    NodeSelector, PersistentVolume, PersistentVolumeClaim, Pod, TopologySelectorTerm,
};
use k8s_openapi::api::storage::v1::StorageClass;

/// The annotation the PV controller sets once it has bound a claim.
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// The claim annotation that names the node the scheduler chose for a delayed-binding claim.
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// The beta annotation that names a claim's class instead of `spec.storageClassName`.
pub const ANN_BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";
/// The provisioner name of classes that cannot provision.
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// Why the pod cannot be scheduled at all because of its claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreFilterFailure {
    /// A claim the pod names does not exist, is lost or is being deleted.
    Claim(String),
    /// "pod has unbound immediate PersistentVolumeClaims".
    UnboundImmediate,
}

impl PreFilterFailure {
    /// The message, in Kubernetes' words.
    pub fn message(&self) -> String {
        match self {
            PreFilterFailure::Claim(m) => m.clone(),
            PreFilterFailure::UnboundImmediate => "pod has unbound immediate PersistentVolumeClaims".into(),
        }
    }
}

/// A bound claim and the node affinity of its volume.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundClaim {
    /// The claim's name.
    pub claim: String,
    /// The volume's `spec.nodeAffinity.required`; `None` inside when the volume has none,
    /// outer `None` when the volume does not exist.
    pub volume_affinity: Option<Option<NodeSelector>>,
}

/// An unbound claim whose class delays binding until a pod uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct DelayedClaim {
    /// The claim's name.
    pub claim: String,
    /// The node affinity of each Available volume that could be bound to the claim (`None`:
    /// reachable from every node).
    pub candidates: Vec<Option<NodeSelector>>,
    /// Whether the class can provision a new volume.
    pub provisionable: bool,
    /// The class's `allowedTopologies` (empty: everywhere).
    pub allowed_topologies: Vec<TopologySelectorTerm>,
}

/// What the pod's claims require of a node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolumeTopology {
    /// Set when the pod cannot be scheduled anywhere because of a claim.
    pub failure: Option<PreFilterFailure>,
    /// The message of `failure`, as the PreFilter step reports it.
    pub prefilter_failure: Option<String>,
    /// Bound claims.
    pub bound: Vec<BoundClaim>,
    /// Unbound claims of `WaitForFirstConsumer` classes.
    pub delayed: Vec<DelayedClaim>,
}

impl VolumeTopology {
    fn failed(failure: PreFilterFailure) -> VolumeTopology {
        VolumeTopology {
            prefilter_failure: Some(failure.message()),
            failure: Some(failure),
            ..VolumeTopology::default()
        }
    }

    /// The same topology with an "unbound immediate claims" failure ignored, the other claims'
    /// constraints kept (Berth's transitional leniency for clusters that do not bind such
    /// claims yet; see [`crate::binder::Options`]).
    pub fn ignoring_unbound_immediate(mut self) -> VolumeTopology {
        if self.failure == Some(PreFilterFailure::UnboundImmediate) {
            self.failure = None;
            self.prefilter_failure = None;
        }
        self
    }
}

/// `GetPersistentVolumeClaimClass`: the beta annotation first, then `spec.storageClassName`.
pub fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    claim
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANN_BETA_STORAGE_CLASS))
        .map(String::as_str)
        .or_else(|| claim.spec.as_ref().and_then(|s| s.storage_class_name.as_deref()))
        .unwrap_or("")
}

fn volume_class(pv: &PersistentVolume) -> &str {
    pv.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANN_BETA_STORAGE_CLASS))
        .map(String::as_str)
        .or_else(|| pv.spec.as_ref().and_then(|s| s.storage_class_name.as_deref()))
        .unwrap_or("")
}

/// Whether the claim is fully bound: `volumeName` is set and the PV controller finished
/// (`pv.kubernetes.io/bind-completed`, or phase `Bound`).
pub fn is_fully_bound(claim: &PersistentVolumeClaim) -> bool {
    let named = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .is_some_and(|v| !v.is_empty());
    let completed = claim
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(ANN_BIND_COMPLETED))
        || claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    named && completed
}

/// The claims the pod uses, in volume order: `(claim name, is a generic ephemeral volume)`.
pub fn pod_claims(pod: &Pod) -> Vec<(String, bool)> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| {
            if let Some(pvc) = &v.persistent_volume_claim {
                Some((pvc.claim_name.clone(), false))
            } else if v.ephemeral.is_some() {
                Some((format!("{pod_name}-{}", v.name), true))
            } else {
                None
            }
        })
        .collect()
}

fn storage(
    list: Option<
        &std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
) -> i128 {
    list.and_then(|l| l.get("storage"))
        .and_then(|q| quantity::parse(&q.0))
        .map_or(0, |q| q.0)
}

fn claimed_by(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> Option<bool> {
    let r = pv.spec.as_ref()?.claim_ref.as_ref()?;
    let same = r.name == claim.metadata.name
        && r.namespace == claim.metadata.namespace
        && (r.uid.is_none() || r.uid == claim.metadata.uid);
    Some(same)
}

fn selector_matches(claim: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    let Some(sel) = claim.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return true;
    };
    let labels: Labels = pv.metadata.labels.clone().unwrap_or_default();
    crate::selectors::label_selector_matches(Some(sel), &labels)
}

/// Whether `pv` could be bound to `claim` (class, size, volume mode, access modes, selector,
/// and either pre-bound to the claim or Available), whatever the node.
pub fn volume_fits_claim(claim: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    if pv.metadata.deletion_timestamp.is_some() {
        return false;
    }
    match claimed_by(pv, claim) {
        Some(false) => return false,
        Some(true) => {}
        None => {
            if pv.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Available") {
                return false;
            }
        }
    }
    let cspec = claim.spec.as_ref();
    let pspec = pv.spec.as_ref();
    let requested = storage(
        cspec
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref()),
    );
    let capacity = storage(pspec.and_then(|s| s.capacity.as_ref()));
    let mode = |m: Option<&String>| m.map_or("Filesystem", String::as_str).to_string();
    let modes_ok = cspec
        .and_then(|s| s.access_modes.as_ref())
        .into_iter()
        .flatten()
        .all(|m| {
            pspec
                .and_then(|s| s.access_modes.as_ref())
                .is_some_and(|pm| pm.contains(m))
        });
    volume_class(pv) == claim_class(claim)
        && capacity >= requested
        && mode(cspec.and_then(|s| s.volume_mode.as_ref()))
            == mode(pspec.and_then(|s| s.volume_mode.as_ref()))
        && modes_ok
        && selector_matches(claim, pv)
}

fn volume_affinity(pv: &PersistentVolume) -> Option<NodeSelector> {
    pv.spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.clone())
}

fn owned_by(claim: &PersistentVolumeClaim, pod: &Pod) -> bool {
    claim
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && Some(&o.uid) == pod.metadata.uid.as_ref())
}

/// Computes what the pod's claims require. `claims` are the claims of the pod's namespace
/// (others are ignored), `volumes` and `classes` all PersistentVolumes and StorageClasses.
pub fn compute(
    pod: &Pod,
    claims: &[&PersistentVolumeClaim],
    volumes: &[&PersistentVolume],
    classes: &[&StorageClass],
) -> VolumeTopology {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let find = |name: &str| {
        claims.iter().copied().find(|c| {
            c.metadata.name.as_deref() == Some(name) && c.metadata.namespace.as_deref().unwrap_or("") == ns
        })
    };
    let used = pod_claims(pod);
    // `podHasPVCs`: every claim must exist, not be lost, not be terminating.
    let mut found = Vec::new();
    for (name, ephemeral) in &used {
        let Some(claim) = find(name) else {
            return VolumeTopology::failed(PreFilterFailure::Claim(if *ephemeral {
                format!(
                    "waiting for ephemeral volume controller to create the persistentvolumeclaim \"{name}\""
                )
            } else {
                format!("persistentvolumeclaim \"{name}\" not found")
            }));
        };
        if claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Lost") {
            let volume = claim
                .spec
                .as_ref()
                .and_then(|s| s.volume_name.clone())
                .unwrap_or_default();
            return VolumeTopology::failed(PreFilterFailure::Claim(format!(
                "persistentvolumeclaim \"{name}\" bound to non-existent persistentvolume \"{volume}\""
            )));
        }
        if claim.metadata.deletion_timestamp.is_some() {
            return VolumeTopology::failed(PreFilterFailure::Claim(format!(
                "persistentvolumeclaim \"{name}\" is being deleted"
            )));
        }
        if *ephemeral && !owned_by(claim, pod) {
            return VolumeTopology::failed(PreFilterFailure::Claim(format!(
                "PVC {ns}/{name} was not created for pod {ns}/{} (pod is not owner)",
                pod.metadata.name.as_deref().unwrap_or("")
            )));
        }
        found.push((name.clone(), claim));
    }
    let mut topology = VolumeTopology::default();
    let mut unbound_immediate = false;
    for (name, claim) in found {
        if is_fully_bound(claim) {
            let volume_name = claim
                .spec
                .as_ref()
                .and_then(|s| s.volume_name.as_deref())
                .unwrap_or("");
            let pv = volumes
                .iter()
                .find(|v| v.metadata.name.as_deref() == Some(volume_name));
            topology.bound.push(BoundClaim {
                claim: name,
                volume_affinity: pv.map(|pv| volume_affinity(pv)),
            });
            continue;
        }
        let class_name = claim_class(claim);
        let class = classes
            .iter()
            .find(|c| !class_name.is_empty() && c.metadata.name.as_deref() == Some(class_name));
        let delayed = class.is_some_and(|c| c.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer"));
        let prebound = claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .is_some_and(|v| !v.is_empty());
        match class {
            Some(class) if delayed && !prebound => topology.delayed.push(DelayedClaim {
                claim: name,
                candidates: volumes
                    .iter()
                    .filter(|pv| volume_fits_claim(claim, pv))
                    .map(|pv| volume_affinity(pv))
                    .collect(),
                provisionable: class.provisioner != NO_PROVISIONER,
                allowed_topologies: class.allowed_topologies.clone().unwrap_or_default(),
            }),
            _ => unbound_immediate = true,
        }
    }
    if unbound_immediate {
        let failure = PreFilterFailure::UnboundImmediate;
        topology.prefilter_failure = Some(failure.message());
        topology.failure = Some(failure);
    }
    topology
}

/// The unbound `WaitForFirstConsumer` claims of the pod: the ones to annotate with
/// `volume.kubernetes.io/selected-node` before binding it.
pub fn claims_to_select_node(topology: &VolumeTopology) -> Vec<String> {
    topology.delayed.iter().map(|d| d.claim.clone()).collect()
}

#[cfg(test)]
mod tests;
