//! The node provisioner's pure decisions: which claims this node provisions and the
//! PersistentVolume it creates for each, which volumes it deletes, and which directories under
//! its volume root are orphans. The rules follow `sig-storage-lib-external-provisioner`'s
//! `shouldProvision` / `shouldDelete` in node-deployment mode: a claim is this node's when it
//! names `berth.dev/local` as its provisioner and this node as its selected node.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Berth's node-local provisioner name.
pub const PROVISIONER: &str = "berth.dev/local";
/// The provisioner a claim asks for.
pub const ANN_STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
/// The deprecated form of [`ANN_STORAGE_PROVISIONER`].
pub const ANN_BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
/// The node a claim's volume goes to.
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// The provisioner that created a volume.
pub const ANN_PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
pub use super::driver::SUPPORTED_DRIVERS;
use super::driver::{ANN_DRIVER, Driver, format_bytes, parse_bytes};

/// The node this provisioner runs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// The node's name (`kubernetes.io/hostname`).
    pub name: String,
    /// The node's zone (`topology.kubernetes.io/zone`), if any.
    pub zone: Option<String>,
}

/// What to do about one claim.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimDecision {
    /// Not this node's claim, or nothing left to do.
    Skip,
    /// Create the directory [`volume_name`] under the volume root, then this volume.
    Provision(Box<PersistentVolume>),
    /// Report `ProvisioningFailed` with this message and retry later.
    Fail(String),
}

fn annotation<'a>(
    meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<&'a str> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// The deterministic volume (and directory) name of a claim: `pvc-<claim uid>`, as Kubernetes
/// names provisioned volumes, so a retried provisioning finds its earlier work.
pub fn volume_name(claim: &PersistentVolumeClaim) -> String {
    format!("pvc-{}", claim.metadata.uid.as_deref().unwrap_or(""))
}

/// The claim's storage class: the beta annotation first, then `spec.storageClassName`.
pub fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    annotation(&claim.metadata, "volume.beta.kubernetes.io/storage-class")
        .or_else(|| claim.spec.as_ref().and_then(|s| s.storage_class_name.as_deref()))
        .unwrap_or("")
}

/// Whether the claim waits for this node's provisioner: `berth.dev/local` is its provisioner,
/// this node its selected node, it has no volume yet and is not being deleted.
pub fn is_ours(claim: &PersistentVolumeClaim, node: &NodeIdentity) -> bool {
    let provisioner = annotation(&claim.metadata, ANN_STORAGE_PROVISIONER)
        .or_else(|| annotation(&claim.metadata, ANN_BETA_STORAGE_PROVISIONER));
    provisioner == Some(PROVISIONER)
        && annotation(&claim.metadata, ANN_SELECTED_NODE) == Some(node.name.as_str())
        && claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .unwrap_or("")
            .is_empty()
        && claim.metadata.deletion_timestamp.is_none()
        && claim.metadata.uid.as_deref().is_some_and(|u| !u.is_empty())
}

/// The driver a class names (`parameters.driver`, `dir` when absent), if supported.
pub fn class_driver(class: &StorageClass) -> Option<Driver> {
    Driver::parse(
        class
            .parameters
            .as_ref()
            .and_then(|p| p.get("driver"))
            .map(String::as_str),
    )
}

/// Decides about one claim. `class` is the claim's StorageClass (if it exists); `volume_exists`
/// whether a volume named [`volume_name`] exists already; `root` is the node's volume root,
/// under which the driver places the volume (its `spec.local.path`).
pub fn decide_claim(
    claim: &PersistentVolumeClaim,
    class: Option<&StorageClass>,
    volume_exists: bool,
    node: &NodeIdentity,
    root: &str,
) -> ClaimDecision {
    if !is_ours(claim, node) || volume_exists {
        return ClaimDecision::Skip;
    }
    let Some(class) = class.filter(|c| c.provisioner == PROVISIONER) else {
        return ClaimDecision::Skip;
    };
    let class_name = class.metadata.name.as_deref().unwrap_or("");
    let fail = |why: String| {
        ClaimDecision::Fail(format!(
            "failed to provision volume with StorageClass {class_name:?}: {why}"
        ))
    };
    let Some(driver) = class_driver(class) else {
        let named = class
            .parameters
            .as_ref()
            .and_then(|p| p.get("driver"))
            .cloned()
            .unwrap_or_default();
        return fail(format!(
            "driver {named:?} is not supported yet by {PROVISIONER} (supported: {})",
            SUPPORTED_DRIVERS.join(", ")
        ));
    };
    let driver_name = driver.name();
    let spec = claim.spec.clone().unwrap_or_default();
    if spec.selector.is_some() {
        return fail("claim Selector is not supported".into());
    }
    let mode = spec.volume_mode.as_deref().unwrap_or("Filesystem");
    if mode != "Filesystem" {
        return fail(format!(
            "volumeMode {mode:?} is not supported by the {driver_name} driver"
        ));
    }
    let Some(storage) = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
    else {
        return fail("the claim requests no storage".into());
    };
    // The image drivers report the real (rounded-up) size, as a CSI driver does; `dir`
    // enforces nothing and repeats the request.
    let capacity = match driver {
        Driver::Dir => storage.0.clone(),
        _ => match parse_bytes(&storage.0) {
            Some(bytes) if bytes > 0 => format_bytes(driver.capacity(bytes)),
            _ => return fail(format!("invalid storage request {:?}", storage.0)),
        },
    };
    let path = driver.local_path(std::path::Path::new(root), &volume_name(claim));
    let mut topology =
        vec![json!({"key": "kubernetes.io/hostname", "operator": "In", "values": [node.name]})];
    if let Some(zone) = &node.zone {
        topology.push(json!({"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}));
    }
    let mut pv: Value = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": volume_name(claim), "annotations": {ANN_PROVISIONED_BY: PROVISIONER, ANN_DRIVER: driver_name}},
        "spec": {
            "capacity": {"storage": capacity},
            "accessModes": spec.access_modes.clone().unwrap_or_default(),
            "persistentVolumeReclaimPolicy": class.reclaim_policy.as_deref().unwrap_or("Delete"),
            "storageClassName": class_name,
            "volumeMode": mode,
            "claimRef": {
                "kind": "PersistentVolumeClaim", "apiVersion": "v1",
                "namespace": claim.metadata.namespace, "name": claim.metadata.name,
                "uid": claim.metadata.uid, "resourceVersion": claim.metadata.resource_version,
            },
            "local": {"path": path.to_string_lossy()},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": topology}]}},
        },
    });
    if let Some(options) = class.mount_options.as_ref().filter(|o| !o.is_empty()) {
        pv["spec"]["mountOptions"] = json!(options);
    }
    match serde_json::from_value(pv) {
        Ok(pv) => ClaimDecision::Provision(Box::new(pv)),
        Err(e) => fail(e.to_string()),
    }
}

/// Whether the node names this node in a volume's required node affinity
/// (`kubernetes.io/hostname In [node]`).
pub fn pinned_to(volume: &PersistentVolume, node: &str) -> bool {
    volume
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
        .is_some_and(|r| {
            r.node_selector_terms.iter().any(|t| {
                t.match_expressions.iter().flatten().any(|e| {
                    e.key == "kubernetes.io/hostname"
                        && e.operator == "In"
                        && e.values.iter().flatten().any(|v| v == node)
                })
            })
        })
}

/// `shouldDelete`: a Released volume this provisioner made on this node, whose reclaim policy
/// is `Delete`, and whose deletion was not issued yet.
pub fn should_delete(volume: &PersistentVolume, node: &str) -> bool {
    let spec = volume.spec.as_ref();
    volume.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released")
        && spec.and_then(|s| s.persistent_volume_reclaim_policy.as_deref()) == Some("Delete")
        && annotation(&volume.metadata, ANN_PROVISIONED_BY) == Some(PROVISIONER)
        && volume.metadata.deletion_timestamp.is_none()
        && pinned_to(volume, node)
}

/// Whether `name` can be a directory under the volume root: one plain path component.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

/// The suffix of the marker file `<volume root>/<volume name>.provisioning`, written before the
/// volume's directory is created and removed once its PersistentVolume exists.
pub const PENDING_SUFFIX: &str = ".provisioning";

/// What to clean under the volume root at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Volumes (directory, image, mount, subvolume) of provisionings that crashed before their
    /// PersistentVolume was created.
    pub remove_dirs: Vec<String>,
    /// Marker files to remove (their provisioning finished, or is being undone).
    pub remove_markers: Vec<String>,
}

/// The start-up sweep over the names in the volume root: a marker whose volume exists is
/// stale; a marker without a volume is an orphan, and so is its directory. A directory without
/// a marker and without a volume is kept: it holds a `Retain` volume's data whose
/// PersistentVolume an administrator deleted, which Kubernetes never reclaims on its own.
pub fn sweep(entries: &[String], volumes: &BTreeSet<String>) -> Sweep {
    let mut out = Sweep::default();
    for marker in entries.iter().filter(|e| e.ends_with(PENDING_SUFFIX)) {
        let base = &marker[..marker.len() - PENDING_SUFFIX.len()];
        if !base.starts_with("pvc-") || !is_plain_name(base) {
            continue;
        }
        // The volume's data may live outside `entries` (an image, a btrfs subvolume):
        // tearing down is idempotent, so every unfinished provisioning is undone.
        if !volumes.contains(base) {
            out.remove_dirs.push(base.to_string());
        }
        out.remove_markers.push(marker.clone());
    }
    out
}
