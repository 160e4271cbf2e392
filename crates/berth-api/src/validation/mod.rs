//! Validation with Kubernetes' field paths and messages (Kubernetes 1.33 rules).
//!
//! This module owns the dispatch from a [`ResourceType`] to the per-kind validators and the
//! small helpers they share: typed reads from JSON, Go-style value rendering for messages
//! that print Go structs, and semantic equality (`apiequality.Semantic.DeepEqual`).
//! Per-kind rules live in the submodules; each mirrors the Kubernetes function it names.

mod core;
mod endpointslice;
mod meta;
pub mod names;
mod pod;
pub mod quantity;
mod runtimeclass;
mod service;
mod statefulset;
mod storage;

#[cfg(test)]
mod tests;

use crate::field::{ErrorType, FieldError, Path};
use crate::registry::ResourceType;
use serde_json::{Map, Value};

pub use names::{is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_qualified_name};

/// Validates an object being created.
pub fn validate_create(rt: &ResourceType, obj: &Value) -> Vec<FieldError> {
    if rt.create_only {
        return Vec::new();
    }
    let mut errs = meta::validate_object_meta(obj, rt.namespaced, name_fn(rt), &Path::new("metadata"));
    errs.extend(match (rt.group, rt.kind) {
        ("", "Pod") => pod::validate_pod(obj),
        ("", "Service") => service::validate_service(obj),
        ("", "Namespace") => core::validate_namespace(obj),
        ("", "ConfigMap") => core::validate_config_map(obj),
        ("", "Secret") => core::validate_secret(obj),
        ("", "PersistentVolumeClaim") => storage::validate_pvc(obj),
        ("", "PersistentVolume") => storage::validate_pv(obj),
        ("", "ResourceQuota") => core::validate_resource_quota(obj),
        ("", "LimitRange") => core::validate_limit_range(obj),
        ("", "Endpoints") => core::validate_endpoints(obj),
        ("", "Event") | ("events.k8s.io", "Event") => core::validate_event(obj),
        ("apps", "StatefulSet") => statefulset::validate_statefulset(obj),
        ("apps", "ControllerRevision") => statefulset::validate_controller_revision(obj),
        ("storage.k8s.io", "StorageClass") => storage::validate_storage_class(obj),
        ("coordination.k8s.io", "Lease") => core::validate_lease(obj),
        ("discovery.k8s.io", "EndpointSlice") => endpointslice::validate_endpoint_slice(obj),
        ("node.k8s.io", "RuntimeClass") => runtimeclass::validate_runtime_class(obj),
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => core::validate_rbac_rules(obj),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            core::validate_rbac_binding(obj)
        }
        _ => Vec::new(),
    });
    errs
}

/// Validates an update of `old` to `new`.
pub fn validate_update(rt: &ResourceType, new: &Value, old: &Value) -> Vec<FieldError> {
    if rt.create_only {
        return Vec::new();
    }
    let mut errs = meta::validate_object_meta_update(new, old, &Path::new("metadata"));
    errs.extend(match (rt.group, rt.kind) {
        ("", "Pod") => pod::validate_pod_update(new, old),
        ("", "Service") => service::validate_service_update(new, old),
        ("", "Namespace") => core::validate_namespace_update(new, old),
        ("", "ConfigMap") => core::validate_config_map_update(new, old),
        ("", "Secret") => core::validate_secret_update(new, old),
        ("", "PersistentVolumeClaim") => storage::validate_pvc_update(new, old),
        ("", "PersistentVolume") => storage::validate_pv_update(new, old),
        ("", "ResourceQuota") => core::validate_resource_quota(new),
        ("", "LimitRange") => core::validate_limit_range(new),
        ("", "Endpoints") => core::validate_endpoints(new),
        ("", "Event") | ("events.k8s.io", "Event") => core::validate_event(new),
        ("apps", "StatefulSet") => statefulset::validate_statefulset_update(new, old),
        ("apps", "ControllerRevision") => statefulset::validate_controller_revision_update(new, old),
        ("storage.k8s.io", "StorageClass") => storage::validate_storage_class_update(new, old),
        ("coordination.k8s.io", "Lease") => core::validate_lease(new),
        ("discovery.k8s.io", "EndpointSlice") => endpointslice::validate_endpoint_slice_update(new, old),
        ("node.k8s.io", "RuntimeClass") => runtimeclass::validate_runtime_class_update(new, old),
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => core::validate_rbac_rules(new),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            let mut e = core::validate_rbac_binding(new);
            e.extend(core::validate_role_ref_update(new, old));
            e
        }
        _ => Vec::new(),
    });
    errs
}

/// A name validation function: `(name, prefix) -> messages`, like Go's `ValidateNameFunc`.
pub(crate) type NameFn = fn(&str, bool) -> Vec<String>;

/// `maskTrailingDash`: names used as a generateName prefix may end in `-`.
fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') {
        format!("{}a", &name[..name.len() - 2])
    } else {
        name.to_string()
    }
}

/// `NameIsDNSSubdomain`.
pub(crate) fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1123_subdomain(&mask_trailing_dash(name))
    } else {
        is_dns1123_subdomain(name)
    }
}

/// `NameIsDNSLabel`.
pub(crate) fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1123_label(&mask_trailing_dash(name))
    } else {
        is_dns1123_label(name)
    }
}

/// `NameIsDNS1035Label`.
pub(crate) fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1035_label(&mask_trailing_dash(name))
    } else {
        is_dns1035_label(name)
    }
}

/// `path.ValidatePathSegmentName`.
pub(crate) fn name_is_path_segment(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        names::is_valid_path_segment_name(&name.replace('.', "a"))
    } else {
        names::is_valid_path_segment_name(name)
    }
}

/// The name rule Kubernetes uses for each kind.
fn name_fn(rt: &ResourceType) -> NameFn {
    match (rt.group, rt.kind) {
        ("", "Namespace") => name_is_dns_label,
        ("", "Service") => name_is_dns1035_label,
        ("apps", "StatefulSet") => name_is_dns_label,
        ("rbac.authorization.k8s.io", _) => name_is_path_segment,
        _ => name_is_dns_subdomain,
    }
}

/// Validates a `generateName` prefix for a resource (used by the API server before it
/// generates the name); returns messages as Kubernetes prints them after
/// `metadata.generateName: Invalid value: "...": `.
pub fn validate_generate_name(rt: &ResourceType, prefix: &str) -> Vec<String> {
    name_fn(rt)(prefix, true)
}

// ---------------------------------------------------------------------------------------
// JSON access helpers

/// `v[key]` unless absent or null.
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// `v[key]` as a string, or "".
pub(crate) fn get_str<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `v[key]` as an array (empty when absent).
pub(crate) fn get_arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `v[key]` as an object, if it is one.
pub(crate) fn get_obj<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

/// `v[key]` as an integer, if it is one.
pub(crate) fn get_i64(v: &Value, key: &str) -> Option<i64> {
    v.get(key)
        .and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)))
}

// ---------------------------------------------------------------------------------------
// Error helpers

/// `field.Invalid` whose bad value Kubernetes prints with Go's `%#v` (maps, structs):
/// `rendered` is that text, printed verbatim after `Invalid value: `.
pub(crate) fn invalid_raw(field: &Path, rendered: &str, detail: &str) -> FieldError {
    let detail = if detail.is_empty() {
        rendered.to_string()
    } else {
        format!("{rendered}: {detail}")
    };
    FieldError {
        kind: ErrorType::Invalid,
        field: field.into(),
        value: None,
        detail,
    }
}

/// `field.TooLong(path, _, max)` as Kubernetes 1.33 words it.
pub(crate) fn too_long(field: &Path, max: usize) -> FieldError {
    FieldError {
        kind: ErrorType::TooLong,
        field: field.into(),
        value: None,
        detail: format!("may not be more than {max} bytes"),
    }
}

/// `ValidateNonnegativeField`.
pub(crate) fn nonnegative(value: i64, path: &Path) -> Vec<FieldError> {
    if value < 0 {
        vec![FieldError::invalid(
            path,
            value,
            "must be greater than or equal to 0",
        )]
    } else {
        Vec::new()
    }
}

/// `ValidateImmutableField` for JSON values compared semantically.
pub(crate) fn immutable(new: Option<&Value>, old: Option<&Value>, path: &Path) -> Vec<FieldError> {
    if sem_eq_opt(new, old, "") {
        Vec::new()
    } else {
        vec![FieldError::invalid(
            path,
            new.cloned().unwrap_or(Value::Null),
            "field is immutable",
        )]
    }
}

/// Go's `%q` for a string (close enough for the ASCII Kubernetes names contain).
pub(crate) fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// Go's `%#v` of a `map[string]string`: keys sorted, `map[string]string(nil)` when absent.
pub(crate) fn go_string_map(v: Option<&Value>) -> String {
    match v.and_then(Value::as_object) {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        go_quote(k),
                        go_quote(m.get(*k).and_then(Value::as_str).unwrap_or(""))
                    )
                })
                .collect();
            format!("map[string]string{{{}}}", parts.join(", "))
        }
    }
}

/// Go's `%#v` of a `*metav1.LabelSelector` dereferenced.
pub(crate) fn go_label_selector(sel: &Value) -> String {
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => {
            let parts: Vec<String> = a
                .iter()
                .map(|e| {
                    let values = match e.get("values").and_then(Value::as_array) {
                        None => "[]string(nil)".to_string(),
                        Some(vs) => {
                            let q: Vec<String> =
                                vs.iter().map(|x| go_quote(x.as_str().unwrap_or(""))).collect();
                            format!("[]string{{{}}}", q.join(", "))
                        }
                    };
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(get_str(e, "key")),
                        go_quote(get_str(e, "operator")),
                        values
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", parts.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(sel.get("matchLabels")),
        exprs
    )
}

/// Go's `%#v` of an `intstr.IntOrString`.
pub(crate) fn go_int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => format!("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}", go_quote(s)),
        other => format!(
            "intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}",
            other.as_i64().unwrap_or(0)
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Semantic equality

fn is_empty_like(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

/// Keys whose members are resource quantities.
fn is_quantity_map_key(k: &str) -> bool {
    matches!(
        k,
        "requests"
            | "limits"
            | "capacity"
            | "hard"
            | "allocatable"
            | "overhead"
            | "default"
            | "defaultRequest"
            | "max"
            | "min"
            | "maxLimitRequestRatio"
    )
}

/// `apiequality.Semantic.DeepEqual` over JSON: absent, null, `[]` and `{}` are equal, numbers
/// compare by value, and members of resource lists compare as quantities (`1Gi` == `1024Mi`).
pub(crate) fn sem_eq_opt(a: Option<&Value>, b: Option<&Value>, parent: &str) -> bool {
    if is_empty_like(a) && is_empty_like(b) {
        return true;
    }
    match (a, b) {
        (Some(a), Some(b)) => sem_eq(a, b, parent),
        _ => false,
    }
}

/// See [`sem_eq_opt`].
pub(crate) fn sem_eq(a: &Value, b: &Value, parent: &str) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let quantity_members = is_quantity_map_key(parent);
            x.keys().chain(y.keys()).all(|k| {
                let (va, vb) = (x.get(k), y.get(k));
                if quantity_members
                    && let (Some(qa), Some(qb)) = (
                        va.and_then(quantity::parse_value),
                        vb.and_then(quantity::parse_value),
                    )
                {
                    return qa == qb;
                }
                sem_eq_opt(va, vb, k)
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| sem_eq(p, q, parent))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
