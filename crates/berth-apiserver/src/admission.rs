//! Admission: the cluster's policies on writes, run after defaulting and before validation
//! and storage. Plugins run in order; the first denial wins.
//!
//! Built in now: [`NamespaceLifecycle`] (no content in missing or terminating namespaces;
//! `default`, `kube-system` and `kube-public` cannot be deleted). `admission_limits`
//! (LimitRanger) and `admission_quota` (ResourceQuota) plug in here; pod security later.

use crate::auth::UserInfo;
use berth_api::registry::ResourceType;
use berth_api::status::{ApiError, GroupResource};
use serde_json::Value;

/// The kind of write being admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// POST, or apply that creates.
    Create,
    /// PUT or PATCH.
    Update,
    /// DELETE.
    Delete,
}

/// Everything a plugin knows about the write.
#[derive(Debug)]
pub struct AdmissionRequest<'a> {
    /// What is happening.
    pub operation: Operation,
    /// The resource type.
    pub rt: &'static ResourceType,
    /// The subresource, if any (`status`, `scale`).
    pub subresource: Option<&'a str>,
    /// Namespace ("" for cluster-scoped).
    pub namespace: &'a str,
    /// Object name.
    pub name: &'a str,
    /// Who asks.
    pub user: &'a UserInfo,
    /// The stored object before an update or delete.
    pub old: Option<&'a Value>,
    /// Whether this is a dry run.
    pub dry_run: bool,
}

/// Read access to current objects for plugins.
pub trait ObjectLookup {
    /// One object, by type, namespace and name.
    fn get_object(&self, rt: &'static ResourceType, namespace: &str, name: &str) -> Option<Value>;
    /// Every object of a type (all namespaces).
    fn list_objects(&self, rt: &'static ResourceType) -> Vec<Value>;
}

/// One admission plugin.
#[async_trait::async_trait]
pub trait AdmissionPlugin: Send + Sync {
    /// The plugin's name, for logs.
    fn name(&self) -> &'static str;
    /// Admits (possibly mutating `obj`) or denies the write.
    fn admit(
        &self,
        req: &AdmissionRequest<'_>,
        obj: &mut Value,
        lookup: &dyn ObjectLookup,
    ) -> Result<(), ApiError>;

    /// Runs after every plugin admitted the write, just before it is stored: a validating
    /// plugin that must record something first (quota charging usage) does it here.
    async fn commit(&self, _req: &AdmissionRequest<'_>, _obj: &Value) -> Result<(), ApiError> {
        Ok(())
    }
}

/// Namespaces that always exist and cannot be deleted.
pub const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// Kubernetes' `NamespaceLifecycle` plugin.
#[derive(Debug, Default)]
pub struct NamespaceLifecycle;

impl AdmissionPlugin for NamespaceLifecycle {
    fn name(&self) -> &'static str {
        "NamespaceLifecycle"
    }

    fn admit(
        &self,
        req: &AdmissionRequest<'_>,
        _obj: &mut Value,
        lookup: &dyn ObjectLookup,
    ) -> Result<(), ApiError> {
        let gr = req.rt.group_resource();
        if req.rt.kind == "Namespace" && req.rt.group.is_empty() {
            if req.operation == Operation::Delete && IMMORTAL_NAMESPACES.contains(&req.name) {
                return Err(ApiError::forbidden(
                    &gr,
                    req.name,
                    "this namespace may not be deleted",
                ));
            }
            return Ok(());
        }
        if !req.rt.namespaced || req.operation != Operation::Create {
            return Ok(());
        }
        let Some(ns_rt) = berth_api::registry::lookup("", "v1", "namespaces") else {
            return Ok(());
        };
        match lookup.get_object(ns_rt, "", req.namespace) {
            None => Err(ApiError::not_found(
                &GroupResource::new("", "namespaces"),
                req.namespace,
            )),
            Some(ns) => {
                let terminating = berth_api::meta::is_deleting(&ns)
                    || ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
                if terminating {
                    Err(ApiError::forbidden(
                        &gr,
                        req.name,
                        &format!(
                            "unable to create new content in namespace {} because it is being terminated",
                            req.namespace
                        ),
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }
}
