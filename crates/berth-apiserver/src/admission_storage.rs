//! Storage admission plugins, as Kubernetes' `DefaultStorageClass` and
//! `StorageObjectInUseProtection`:
//! - a claim created without `spec.storageClassName` gets the default StorageClass (the one
//!   annotated `storageclass.kubernetes.io/is-default-class: "true"`, the newest if several);
//!   `storageClassName: ""` explicitly asks for no class and is left alone;
//! - new claims get the `kubernetes.io/pvc-protection` finalizer and new volumes the
//!   `kubernetes.io/pv-protection` finalizer, which the protection controller removes once
//!   nothing uses them.

use crate::admission::{AdmissionPlugin, AdmissionRequest, ObjectLookup, Operation};
use berth_api::status::ApiError;
use serde_json::{Value, json};

/// The annotation that marks the default StorageClass.
pub const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
/// The finalizer protecting claims in use.
pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
/// The finalizer protecting bound volumes.
pub const PV_PROTECTION: &str = "kubernetes.io/pv-protection";

fn is_core(req: &AdmissionRequest<'_>, kind: &str) -> bool {
    req.rt.group.is_empty() && req.rt.kind == kind && req.subresource.is_none()
}

fn add_finalizer(obj: &mut Value, finalizer: &str) {
    let Some(md) = berth_api::meta::metadata_mut(obj) else {
        return;
    };
    let list = md.entry("finalizers").or_insert_with(|| json!([]));
    if let Some(items) = list.as_array_mut()
        && !items.iter().any(|f| f == finalizer)
    {
        items.push(json!(finalizer));
    }
}

/// Picks the default class among StorageClasses: annotated `"true"`, newest first, then by name.
pub fn default_class(classes: &[Value]) -> Option<String> {
    classes
        .iter()
        .filter(|c| {
            c.pointer(&format!(
                "/metadata/annotations/{}",
                DEFAULT_CLASS_ANNOTATION.replace('/', "~1")
            )) == Some(&json!("true"))
        })
        .max_by(|a, b| {
            let key = |c: &Value| {
                (
                    c.pointer("/metadata/creationTimestamp")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    c.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            };
            let (ka, kb) = (key(a), key(b));
            // Newest wins; among equals the first name in order wins.
            ka.0.cmp(&kb.0).then(kb.1.cmp(&ka.1))
        })
        .and_then(|c| {
            c.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
}

/// `DefaultStorageClass`.
#[derive(Debug, Default)]
pub struct DefaultStorageClass;

impl AdmissionPlugin for DefaultStorageClass {
    fn name(&self) -> &'static str {
        "DefaultStorageClass"
    }

    fn admit(
        &self,
        req: &AdmissionRequest<'_>,
        obj: &mut Value,
        lookup: &dyn ObjectLookup,
    ) -> Result<(), ApiError> {
        if req.operation != Operation::Create || !is_core(req, "PersistentVolumeClaim") {
            return Ok(());
        }
        if obj
            .pointer("/spec/storageClassName")
            .is_some_and(|v| !v.is_null())
        {
            return Ok(());
        }
        let Some(rt) = berth_api::registry::lookup("storage.k8s.io", "v1", "storageclasses") else {
            return Ok(());
        };
        if let (Some(class), Some(spec)) = (
            default_class(&lookup.list_objects(rt)),
            obj.get_mut("spec").and_then(Value::as_object_mut),
        ) {
            spec.insert("storageClassName".into(), json!(class));
        }
        Ok(())
    }
}

/// `StorageObjectInUseProtection`.
#[derive(Debug, Default)]
pub struct StorageObjectInUseProtection;

impl AdmissionPlugin for StorageObjectInUseProtection {
    fn name(&self) -> &'static str {
        "StorageObjectInUseProtection"
    }

    fn admit(
        &self,
        req: &AdmissionRequest<'_>,
        obj: &mut Value,
        _lookup: &dyn ObjectLookup,
    ) -> Result<(), ApiError> {
        if req.operation != Operation::Create {
            return Ok(());
        }
        if is_core(req, "PersistentVolumeClaim") {
            add_finalizer(obj, PVC_PROTECTION);
        } else if is_core(req, "PersistentVolume") {
            add_finalizer(obj, PV_PROTECTION);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, created: &str, default: bool) -> Value {
        let mut c = json!({"metadata": {"name": name, "creationTimestamp": created}});
        if default {
            c["metadata"]["annotations"] = json!({DEFAULT_CLASS_ANNOTATION: "true"});
        }
        c
    }

    #[test]
    fn newest_default_class_wins() {
        let classes = vec![
            class("old", "2026-01-01T00:00:00Z", true),
            class("new", "2026-02-01T00:00:00Z", true),
            class("plain", "2026-03-01T00:00:00Z", false),
        ];
        assert_eq!(default_class(&classes), Some("new".to_string()));
        assert_eq!(default_class(&classes[2..]), None);
    }

    #[test]
    fn finalizers_are_added_once() {
        let mut pvc = json!({"metadata": {"finalizers": [PVC_PROTECTION]}});
        add_finalizer(&mut pvc, PVC_PROTECTION);
        assert_eq!(pvc["metadata"]["finalizers"], json!([PVC_PROTECTION]));
        let mut pv = json!({"metadata": {}});
        add_finalizer(&mut pv, PV_PROTECTION);
        assert_eq!(pv["metadata"]["finalizers"], json!([PV_PROTECTION]));
    }
}
