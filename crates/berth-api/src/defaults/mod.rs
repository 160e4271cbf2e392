//! Defaulting, as Kubernetes 1.33's `SetDefaults_*` functions (and the few registry-strategy
//! fields every client sees on a freshly created object, such as a Pod's `status.phase`) do.
//!
//! This module owns the dispatch from a [`ResourceType`] to the per-kind defaulters and the
//! small "set if unset" helpers they share. Defaulting is idempotent: applying it twice is
//! the same as applying it once.

mod core;
mod endpointslice;
pub(crate) mod pod;
mod statefulset;

#[cfg(test)]
mod tests;

use crate::registry::ResourceType;
use serde_json::{Map, Value};

/// Fills in defaults on an object about to be stored.
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (rt.group, rt.kind) {
        ("", "Pod") => pod::default_pod(obj),
        ("", "Service") => core::default_service(obj),
        ("", "Namespace") => core::default_namespace(obj),
        ("", "Secret") => core::default_secret(obj),
        ("", "PersistentVolume") => core::default_pv(obj),
        ("", "PersistentVolumeClaim") => core::default_pvc(obj),
        ("", "Endpoints") => core::default_endpoints(obj),
        ("", "LimitRange") => core::default_limit_range(obj),
        ("", "Node") => core::default_node(obj),
        ("apps", "StatefulSet") => statefulset::default_statefulset(obj),
        ("storage.k8s.io", "StorageClass") => core::default_storage_class(obj),
        ("discovery.k8s.io", "EndpointSlice") => endpointslice::default_endpoint_slice(obj),
        _ => {}
    }
}

/// The object at `obj[key]`, created as `{}` when absent or null. `None` if `obj` is not an
/// object or `obj[key]` holds a non-object.
pub(crate) fn obj_mut<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let m = obj.as_object_mut()?;
    let v = m.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if v.is_null() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut()
}

/// Sets `m[key]` when it is absent or null.
pub(crate) fn def_val(m: &mut Map<String, Value>, key: &str, val: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.to_string(), val);
    }
}

/// Sets the string `m[key]` when it is absent, null or empty.
pub(crate) fn def_str(m: &mut Map<String, Value>, key: &str, val: &str) {
    if m.get(key).is_none_or(|v| v.is_null() || v.as_str() == Some("")) {
        m.insert(key.to_string(), Value::String(val.to_string()));
    }
}

/// Sets the integer `m[key]` when it is absent, null or zero.
pub(crate) fn def_num(m: &mut Map<String, Value>, key: &str, val: i64) {
    if m.get(key).is_none_or(|v| v.is_null() || v.as_i64() == Some(0)) {
        m.insert(key.to_string(), Value::from(val));
    }
}
