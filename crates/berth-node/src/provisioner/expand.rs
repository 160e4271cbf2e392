//! Online expansion, decided purely: whether a bound claim's request outgrew its volume on this
//! node, and the claim statuses Kubernetes' external-resizer and kubelet write on the way
//! (`allocatedResources`, `allocatedResourceStatuses`, the `Resizing` and
//! `FileSystemResizePending` conditions), with their events' wording.

use super::decide::{ANN_PROVISIONED_BY, PROVISIONER, pinned_to};
use super::driver::{ANN_DRIVER, Driver, format_bytes, parse_bytes};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{Value, json};

/// The `FileSystemResizePending` condition's message (external-resizer).
pub const FS_RESIZE_PENDING_MESSAGE: &str =
    "Waiting for user to (re-)start a pod to finish file system resize of volume on node.";
/// The expand controller's `ExternalExpanding` message.
pub const EXTERNAL_EXPANDING_MESSAGE: &str = "waiting for an external controller to expand this PVC";
/// The external-resizer's `FileSystemResizeRequired` message.
pub const FS_RESIZE_REQUIRED_MESSAGE: &str = "Require file system resize of volume on node";
/// The external-resizer's `VolumeResizeSuccessful` message.
pub const RESIZE_SUCCEEDED_MESSAGE: &str = "Resize volume succeeded";

/// What to do about one bound claim's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandDecision {
    /// Nothing: not this node's volume, not expandable, or nothing asked.
    Skip,
    /// Grow the volume from `from` to `to` bytes (`to` is the driver's real capacity).
    Expand {
        /// The volume's driver.
        driver: Driver,
        /// The volume's capacity now.
        from: u64,
        /// The capacity to reach.
        to: u64,
    },
    /// The volume has grown; the claim's status still has to say so.
    Finish {
        /// The volume's capacity.
        capacity: u64,
    },
}

fn annotation<'a>(pv: &'a PersistentVolume, key: &str) -> Option<&'a str> {
    pv.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

fn storage(
    map: Option<&std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Option<u64> {
    map.and_then(|m| m.get("storage")).and_then(|q| parse_bytes(&q.0))
}

/// Whether a claim's status still shows a resize in progress.
pub fn resize_in_progress(claim: &PersistentVolumeClaim) -> bool {
    let status = claim.status.as_ref();
    status.and_then(|s| s.conditions.as_ref()).is_some_and(|c| {
        c.iter()
            .any(|c| c.type_ == "Resizing" || c.type_ == "FileSystemResizePending")
    }) || status
        .and_then(|s| s.allocated_resource_statuses.as_ref())
        .is_some_and(|s| !s.is_empty())
}

/// Decides about a claim and the volume it is bound to. Only the node the volume is pinned to
/// acts, only on volumes `berth.dev/local` made with a capacity-enforcing driver, and only when
/// the class allows expansion.
pub fn decide(
    claim: &PersistentVolumeClaim,
    volume: &PersistentVolume,
    class: Option<&StorageClass>,
    node: &str,
) -> ExpandDecision {
    let Some(spec) = volume.spec.as_ref() else {
        return ExpandDecision::Skip;
    };
    let bound = claim.spec.as_ref().and_then(|s| s.volume_name.as_deref()) == volume.metadata.name.as_deref()
        && spec.claim_ref.as_ref().and_then(|r| r.uid.as_deref()).is_some()
        && spec.claim_ref.as_ref().and_then(|r| r.uid.as_deref()) == claim.metadata.uid.as_deref()
        && claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    let driver = Driver::parse(annotation(volume, ANN_DRIVER)).filter(|d| *d != Driver::Dir);
    let (Some(driver), true) = (driver, bound) else {
        return ExpandDecision::Skip;
    };
    if annotation(volume, ANN_PROVISIONED_BY) != Some(PROVISIONER)
        || !pinned_to(volume, node)
        || claim.metadata.deletion_timestamp.is_some()
    {
        return ExpandDecision::Skip;
    }
    let Some(capacity) = storage(spec.capacity.as_ref()) else {
        return ExpandDecision::Skip;
    };
    let requested = storage(
        claim
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref()),
    )
    .unwrap_or(0);
    let allowed = class.is_some_and(|c| c.allow_volume_expansion == Some(true));
    if requested > capacity && allowed {
        return ExpandDecision::Expand {
            driver,
            from: capacity,
            to: driver.capacity(requested),
        };
    }
    let claim_capacity = storage(claim.status.as_ref().and_then(|s| s.capacity.as_ref()));
    if requested <= capacity && (claim_capacity != Some(capacity) || resize_in_progress(claim)) {
        return ExpandDecision::Finish { capacity };
    }
    ExpandDecision::Skip
}

/// The claim status merge patch when the resizer starts: `Resizing`, the new allocation.
pub fn resizing_patch(to: u64, now: &str) -> Value {
    json!({"status": {
        "allocatedResources": {"storage": format_bytes(to)},
        "allocatedResourceStatuses": {"storage": "ControllerResizeInProgress"},
        "conditions": [{"type": "Resizing", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}],
    }})
}

/// The claim status merge patch once the device grew and the filesystem has to follow.
pub fn fs_pending_patch(now: &str) -> Value {
    json!({"status": {
        "allocatedResourceStatuses": {"storage": "NodeResizePending"},
        "conditions": [{"type": "FileSystemResizePending", "status": "True", "lastProbeTime": null,
                        "lastTransitionTime": now, "message": FS_RESIZE_PENDING_MESSAGE}],
    }})
}

/// The claim status merge patch when the expansion is done: the new capacity, no conditions.
pub fn done_patch(capacity: u64) -> Value {
    json!({"status": {
        "capacity": {"storage": format_bytes(capacity)},
        "allocatedResources": {"storage": format_bytes(capacity)},
        "allocatedResourceStatuses": null,
        "conditions": null,
    }})
}

/// The volume merge patch recording its new capacity.
pub fn volume_patch(capacity: u64) -> Value {
    json!({"spec": {"capacity": {"storage": format_bytes(capacity)}}})
}

/// The `FileSystemResizeSuccessful` message kubelet writes (`GenerateMsg`).
pub fn fs_resize_succeeded_message(volume: &str, node: &str) -> String {
    format!("MountVolume.NodeExpandVolume succeeded for volume {volume:?} {node}")
}

/// The `FileSystemResizeFailed` message kubelet writes (`GenerateError`: no node name).
pub fn fs_resize_failed_message(volume: &str, error: &str) -> String {
    format!("MountVolume.NodeExpandVolume failed for volume {volume:?} : {error}")
}

/// The external-resizer's `Resizing` message.
pub fn resizing_message(volume: &str) -> String {
    format!("External resizer is resizing volume {volume}")
}
