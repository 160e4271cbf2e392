//! Storage validation: PersistentVolumeClaim and PersistentVolume (core) and StorageClass
//! (`pkg/apis/storage/validation/validation.go`), Kubernetes 1.33 rules with
//! RecoverVolumeExpansionFailure enabled.

use super::names::is_qualified_name;
use super::pod::spec_diff;
use super::quantity::{self, QUANTITY_FORMAT_ERR};
use super::statefulset::validate_label_selector;
use super::{get, get_arr, get_obj, get_str, immutable, name_is_dns_subdomain, sem_eq, sem_eq_opt, too_long};
use crate::field::{FieldError, Path};
use serde_json::{Map, Value};

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];
const VOLUME_MODES: &[&str] = &["Block", "Filesystem"];
/// The PVC spec immutability message, as Kubernetes 1.33 prints it (before the diff).
pub(crate) const PVC_SPEC_IMMUTABLE: &str = "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims";

fn quantity_str(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn access_modes(spec: &Value, path: &Path, required_detail: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let modes = get_arr(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required(path.child("accessModes"), required_detail));
    }
    let (mut rwop, mut other) = (false, false);
    for m in modes {
        let m = m.as_str().unwrap_or("");
        if !ACCESS_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                path.child("accessModes"),
                m,
                ACCESS_MODES,
            ));
        } else if m == "ReadWriteOncePod" {
            rwop = true;
        } else {
            other = true;
        }
    }
    if rwop && other {
        errs.push(FieldError::forbidden(
            path.child("accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    errs
}

/// `ValidatePersistentVolumeClaimSpec`.
pub(crate) fn validate_pvc_spec(spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = access_modes(spec, path, "at least 1 access mode is required");
    if let Some(sel) = get(spec, "selector") {
        errs.extend(validate_label_selector(sel, &path.child("selector")));
    }
    let sp = path.child("resources").key("storage");
    match spec
        .pointer("/resources/requests/storage")
        .filter(|v| !v.is_null())
    {
        None => errs.push(FieldError::required(&sp, "")),
        Some(q) => match quantity::parse_value(q) {
            None => errs.push(FieldError::invalid(&sp, quantity_str(q), QUANTITY_FORMAT_ERR)),
            Some(x) if x.0 <= 0 => errs.push(FieldError::invalid(
                &sp,
                quantity_str(q),
                "must be greater than zero",
            )),
            _ => {}
        },
    }
    let sc = get_str(spec, "storageClassName");
    if !sc.is_empty() {
        for m in name_is_dns_subdomain(sc, false) {
            errs.push(FieldError::invalid(path.child("storageClassName"), sc, m));
        }
    }
    if let Some(vm) = get(spec, "volumeMode").and_then(Value::as_str)
        && !VOLUME_MODES.contains(&vm)
    {
        errs.push(FieldError::not_supported(
            path.child("volumeMode"),
            vm,
            VOLUME_MODES,
        ));
    }
    errs
}

/// `ValidatePersistentVolumeClaim` (spec part).
pub(crate) fn validate_pvc(obj: &Value) -> Vec<FieldError> {
    let empty = Value::Object(Map::new());
    validate_pvc_spec(obj.get("spec").unwrap_or(&empty), &Path::new("spec"))
}

/// `ValidatePersistentVolumeClaimUpdate`.
pub(crate) fn validate_pvc_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate_pvc(new);
    let empty = Value::Object(Map::new());
    let ns = new.get("spec").unwrap_or(&empty);
    let os = old.get("spec").unwrap_or(&empty);
    let mut new_clone = ns.clone();
    let mut old_clone = os.clone();
    if get_str(os, "volumeName").is_empty()
        && let Some(m) = old_clone.as_object_mut()
    {
        match ns.get("volumeName") {
            Some(v) => m.insert("volumeName".to_string(), v.clone()),
            None => m.remove("volumeName"),
        };
    }
    // Setting a storage class on a claim that had none is allowed.
    if get(os, "storageClassName").is_none()
        && get(ns, "storageClassName").is_some()
        && let Some(m) = new_clone.as_object_mut()
    {
        m.remove("storageClassName");
    }
    let bound = new.pointer("/status/phase").and_then(Value::as_str) == Some("Bound");
    if bound {
        let old_storage = os.pointer("/resources/requests/storage").cloned();
        if let Some(req) = new_clone
            .pointer_mut("/resources/requests")
            .and_then(Value::as_object_mut)
        {
            match old_storage {
                Some(v) => req.insert("storage".to_string(), v),
                None => req.remove("storage"),
            };
        }
        if let Some(m) = new_clone.as_object_mut() {
            match os.get("volumeAttributesClassName") {
                Some(v) => m.insert("volumeAttributesClassName".to_string(), v.clone()),
                None => m.remove("volumeAttributesClassName"),
            };
        }
    }
    if !sem_eq(&new_clone, &old_clone, "spec") {
        errs.push(FieldError::forbidden(
            Path::new("spec"),
            format!("{PVC_SPEC_IMMUTABLE}\n{}", spec_diff(&old_clone, &new_clone)),
        ));
    }
    let parse = |v: Option<&Value>| v.and_then(quantity::parse_value).unwrap_or(quantity::Quantity(0));
    let old_size = parse(os.pointer("/resources/requests/storage"));
    let new_size = parse(ns.pointer("/resources/requests/storage"));
    let status_size = parse(old.pointer("/status/capacity/storage"));
    if new_size < old_size && new_size <= status_size {
        errs.push(FieldError::forbidden(
            Path::new("spec")
                .child("resources")
                .child("requests")
                .child("storage"),
            "field can not be less than status.capacity",
        ));
    }
    errs.extend(immutable(
        get(ns, "volumeMode"),
        get(os, "volumeMode"),
        &Path::new("volumeMode"),
    ));
    errs
}

/// Keys of a `PersistentVolumeSpec` that are not volume sources.
const PV_NON_SOURCE_KEYS: &[&str] = &[
    "accessModes",
    "capacity",
    "claimRef",
    "persistentVolumeReclaimPolicy",
    "storageClassName",
    "mountOptions",
    "volumeMode",
    "nodeAffinity",
    "volumeAttributesClassName",
];

/// `ValidatePersistentVolumeSpec` (non-inline).
pub(crate) fn validate_pv(obj: &Value) -> Vec<FieldError> {
    let empty = Value::Object(Map::new());
    let spec = obj.get("spec").unwrap_or(&empty);
    let path = Path::new("spec");
    let mut errs = access_modes(spec, &path, "");
    let cap = get_obj(spec, "capacity");
    if cap.is_none_or(Map::is_empty) {
        errs.push(FieldError::required(path.child("capacity"), ""));
    }
    if cap.is_none_or(|c| !c.contains_key("storage") || c.len() > 1) {
        let shown = cap.map(|c| Value::Object(c.clone())).unwrap_or(Value::Null);
        errs.push(FieldError::not_supported(
            path.child("capacity"),
            shown,
            &["storage"],
        ));
    }
    for (r, q) in cap.into_iter().flatten() {
        let p = path.child("capacity").key(r);
        match quantity::parse_value(q) {
            None => errs.push(FieldError::invalid(&p, quantity_str(q), QUANTITY_FORMAT_ERR)),
            Some(x) if x.0 <= 0 => errs.push(FieldError::invalid(
                &p,
                quantity_str(q),
                "must be greater than zero",
            )),
            _ => {}
        }
    }
    let rp = get_str(spec, "persistentVolumeReclaimPolicy");
    if !rp.is_empty() && !["Delete", "Recycle", "Retain"].contains(&rp) {
        errs.push(FieldError::not_supported(
            path.child("persistentVolumeReclaimPolicy"),
            rp,
            &["Delete", "Recycle", "Retain"],
        ));
    }
    let sc = get_str(spec, "storageClassName");
    if !sc.is_empty() {
        for m in name_is_dns_subdomain(sc, false) {
            errs.push(FieldError::invalid(path.child("storageClassName"), sc, m));
        }
    }
    if let Some(vm) = get(spec, "volumeMode").and_then(Value::as_str)
        && !VOLUME_MODES.contains(&vm)
    {
        errs.push(FieldError::not_supported(
            path.child("volumeMode"),
            vm,
            VOLUME_MODES,
        ));
    }
    let sources: Vec<&String> = spec
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| !PV_NON_SOURCE_KEYS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, _)| k)
        .collect();
    if sources.is_empty() {
        errs.push(FieldError::required(&path, "must specify a volume type"));
    }
    for extra in sources.iter().skip(1) {
        errs.push(FieldError::forbidden(
            path.child(extra),
            "may not specify more than 1 volume type",
        ));
    }
    if let Some(hp) = get(spec, "hostPath")
        && get_str(hp, "path").is_empty()
    {
        errs.push(FieldError::required(path.child("hostPath").child("path"), ""));
    }
    if let Some(l) = get(spec, "local")
        && get_str(l, "path").is_empty()
    {
        errs.push(FieldError::required(path.child("local").child("path"), ""));
    }
    errs
}

/// `ValidatePersistentVolumeUpdate`: the volume source and `volumeMode` are immutable.
pub(crate) fn validate_pv_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate_pv(new);
    let empty = Value::Object(Map::new());
    let ns = new.get("spec").unwrap_or(&empty);
    let os = old.get("spec").unwrap_or(&empty);
    let source = |s: &Value| -> Value {
        Value::Object(
            s.as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| !PV_NON_SOURCE_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    };
    let (nsrc, osrc) = (source(ns), source(os));
    if !sem_eq(&nsrc, &osrc, "") {
        errs.push(FieldError::forbidden(
            Path::new("spec").child("persistentvolumesource"),
            format!(
                "spec.persistentvolumesource is immutable after creation\n{}",
                spec_diff(&osrc, &nsrc)
            ),
        ));
    }
    errs.extend(immutable(
        get(ns, "volumeMode"),
        get(os, "volumeMode"),
        &Path::new("volumeMode"),
    ));
    errs
}

const MAX_PROVISIONER_PARAMETER_SIZE: usize = 256 * 1024;
const MAX_PROVISIONER_PARAMETER_LEN: usize = 512;

/// `ValidateStorageClass`.
pub(crate) fn validate_storage_class(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let prov = get_str(obj, "provisioner");
    if prov.is_empty() {
        errs.push(FieldError::required(Path::new("provisioner"), ""));
    } else {
        errs.extend(
            is_qualified_name(&prov.to_lowercase())
                .into_iter()
                .map(|m| FieldError::invalid(Path::new("provisioner"), prov, m)),
        );
    }
    if let Some(params) = get_obj(obj, "parameters") {
        let pp = Path::new("parameters");
        if params.len() > MAX_PROVISIONER_PARAMETER_LEN {
            errs.push(too_long(&pp, MAX_PROVISIONER_PARAMETER_LEN));
        } else {
            let mut total = 0;
            for (k, v) in params {
                if k.is_empty() {
                    errs.push(FieldError::invalid(&pp, k.as_str(), "field can not be empty."));
                }
                total += k.len() + v.as_str().map_or(0, str::len);
            }
            if total > MAX_PROVISIONER_PARAMETER_SIZE {
                errs.push(too_long(&pp, MAX_PROVISIONER_PARAMETER_SIZE));
            }
        }
    }
    if let Some(rp) = get(obj, "reclaimPolicy").and_then(Value::as_str)
        && !rp.is_empty()
        && rp != "Delete"
        && rp != "Retain"
    {
        errs.push(FieldError::not_supported(
            Path::new("reclaimPolicy"),
            rp,
            &["Delete", "Retain"],
        ));
    }
    match get(obj, "volumeBindingMode").and_then(Value::as_str) {
        None => errs.push(FieldError::required(Path::new("volumeBindingMode"), "")),
        Some(m) if m != "Immediate" && m != "WaitForFirstConsumer" => errs.push(FieldError::not_supported(
            Path::new("volumeBindingMode"),
            m,
            &["Immediate", "WaitForFirstConsumer"],
        )),
        _ => {}
    }
    errs
}

/// `ValidateStorageClassUpdate`.
pub(crate) fn validate_storage_class_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !sem_eq_opt(get(new, "parameters"), get(old, "parameters"), "") {
        errs.push(FieldError::forbidden(
            Path::new("parameters"),
            "updates to parameters are forbidden.",
        ));
    }
    if get_str(new, "provisioner") != get_str(old, "provisioner") {
        errs.push(FieldError::forbidden(
            Path::new("provisioner"),
            "updates to provisioner are forbidden.",
        ));
    }
    if get_str(new, "reclaimPolicy") != get_str(old, "reclaimPolicy") {
        errs.push(FieldError::forbidden(
            Path::new("reclaimPolicy"),
            "updates to reclaimPolicy are forbidden.",
        ));
    }
    errs.extend(immutable(
        get(new, "volumeBindingMode"),
        get(old, "volumeBindingMode"),
        &Path::new("volumeBindingMode"),
    ));
    errs.extend(validate_storage_class(new));
    errs
}
