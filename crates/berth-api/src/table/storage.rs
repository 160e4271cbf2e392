//! Printers for storage kinds: PersistentVolume, PersistentVolumeClaim and StorageClass.

use super::{AGE, Column, NAME, Printer, Row, age, arr_at, meta_map, str_at};
use serde_json::{Value, json};

/// The beta storage-class annotation, which wins over `spec.storageClassName`.
const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// `helper.GetAccessModesAsString`: `RWO,ROX,RWX,RWOP` in that order, duplicates dropped.
pub(crate) fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// The `storage` quantity of a resource list as stored (the zero quantity prints as `0`).
fn storage_quantity(obj: &Value, ptr: &str) -> String {
    match obj.pointer(ptr) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

fn storage_class(obj: &Value) -> String {
    let annotations = meta_map(obj, "annotations");
    if let Some((_, class)) = annotations
        .iter()
        .find(|(k, _)| *k == BETA_STORAGE_CLASS_ANNOTATION)
    {
        return (*class).to_string();
    }
    str_at(obj, "/spec/storageClassName").to_string()
}

fn unset_or(obj: &Value, ptr: &str) -> String {
    obj.pointer(ptr)
        .and_then(Value::as_str)
        .map_or_else(|| "<unset>".to_string(), str::to_string)
}

// ---------------------------------------------------------------------------------------------
// PersistentVolume

pub(crate) const PERSISTENT_VOLUME: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Capacity",
            "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
        ),
        Column::string(
            "Access Modes",
            "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes",
        ),
        Column::string(
            "Reclaim Policy",
            "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming",
        ),
        Column::string(
            "Status",
            "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase",
        ),
        Column::string(
            "Claim",
            "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding",
        ),
        Column::string("StorageClass", "StorageClass of the pv"),
        Column::string("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        Column::string(
            "Reason",
            "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
        ),
        AGE,
        Column::string(
            "VolumeMode",
            "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.",
        )
        .wide(),
    ],
    row: persistent_volume_row,
};

/// `printPersistentVolume`.
fn persistent_volume_row(pv: &Value, now: jiff::Timestamp) -> Row {
    let claim = match pv.pointer("/spec/claimRef") {
        Some(r) if r.is_object() => format!("{}/{}", str_at(r, "/namespace"), str_at(r, "/name")),
        _ => String::new(),
    };
    let phase = if crate::meta::is_deleting(pv) {
        "Terminating"
    } else {
        str_at(pv, "/status/phase")
    };
    Row::new(vec![
        json!(crate::meta::name(pv)),
        json!(storage_quantity(pv, "/spec/capacity/storage")),
        json!(access_modes(arr_at(pv, "/spec/accessModes"))),
        json!(str_at(pv, "/spec/persistentVolumeReclaimPolicy")),
        json!(phase),
        json!(claim),
        json!(storage_class(pv)),
        json!(unset_or(pv, "/spec/volumeAttributesClassName")),
        json!(str_at(pv, "/status/reason")),
        age(pv, now),
        json!(unset_or(pv, "/spec/volumeMode")),
    ])
}

// ---------------------------------------------------------------------------------------------
// PersistentVolumeClaim

pub(crate) const PERSISTENT_VOLUME_CLAIM: Printer = Printer {
    columns: &[
        NAME,
        Column::string("Status", "phase represents the current phase of PersistentVolumeClaim."),
        Column::string("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
        Column::string("Capacity", "capacity represents the actual resources of the underlying volume."),
        Column::string(
            "Access Modes",
            "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
        ),
        Column::string("StorageClass", "StorageClass of the pvc"),
        Column::string("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        AGE,
        Column::string(
            "VolumeMode",
            "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.",
        )
        .wide(),
    ],
    row: persistent_volume_claim_row,
};

/// `printPersistentVolumeClaim`: capacity and access modes only once bound to a volume.
fn persistent_volume_claim_row(pvc: &Value, now: jiff::Timestamp) -> Row {
    let phase = if crate::meta::is_deleting(pvc) {
        "Terminating"
    } else {
        str_at(pvc, "/status/phase")
    };
    let volume = str_at(pvc, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage_quantity(pvc, "/status/capacity/storage"),
            access_modes(arr_at(pvc, "/status/accessModes")),
        )
    };
    Row::new(vec![
        json!(crate::meta::name(pvc)),
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(storage_class(pvc)),
        json!(unset_or(pvc, "/spec/volumeAttributesClassName")),
        age(pvc, now),
        json!(unset_or(pvc, "/spec/volumeMode")),
    ])
}

// ---------------------------------------------------------------------------------------------
// StorageClass

pub(crate) const STORAGE_CLASS: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Provisioner",
            "provisioner indicates the type of the provisioner.",
        ),
        Column::string(
            "ReclaimPolicy",
            "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.",
        ),
        Column::string(
            "VolumeBindingMode",
            "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.",
        ),
        Column::string(
            "AllowVolumeExpansion",
            "allowVolumeExpansion shows whether the storage class allow volume expand.",
        ),
        AGE,
    ],
    row: storage_class_row,
};

/// `storageutil.IsDefaultAnnotation`.
pub(crate) fn is_default_class(sc: &Value) -> bool {
    meta_map(sc, "annotations").iter().any(|(k, v)| {
        (*k == "storageclass.kubernetes.io/is-default-class"
            || *k == "storageclass.beta.kubernetes.io/is-default-class")
            && *v == "true"
    })
}

/// `printStorageClass`.
fn storage_class_row(sc: &Value, now: jiff::Timestamp) -> Row {
    let mut name = crate::meta::name(sc).to_string();
    if is_default_class(sc) {
        name.push_str(" (default)");
    }
    let or = |ptr: &str, default: &str| match str_at(sc, ptr) {
        "" if sc.pointer(ptr).is_none_or(Value::is_null) => default.to_string(),
        v => v.to_string(),
    };
    Row::new(vec![
        json!(name),
        json!(str_at(sc, "/provisioner")),
        json!(or("/reclaimPolicy", "Delete")),
        json!(or("/volumeBindingMode", "Immediate")),
        json!(
            sc.get("allowVolumeExpansion")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        ),
        age(sc, now),
    ])
}
