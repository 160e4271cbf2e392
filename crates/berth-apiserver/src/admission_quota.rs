//! Kubernetes' `ResourceQuota` admission plugin: a write that would take a namespace's usage
//! past a quota's `status.hard` is denied (403, `exceeded quota: …`), and an admitted write
//! is charged to `status.used` of every quota covering it before it is stored.
//!
//! [`check`] is the pure decision (Kubernetes' `CheckRequest`): which quotas cover the object,
//! the `must specify` constraints on pods, the `status unknown` guard for quotas the
//! controller has not measured yet, and the new usage. [`ResourceQuotaAdmission::commit`]
//! charges: it writes each quota's new `status.used` with a compare-and-swap on the quota's
//! store revision, re-reads and re-checks the quotas whose write lost a race, so two
//! concurrent creates cannot both slip under a limit. As in Kubernetes, a charge is not given
//! back if the object's own write then fails; the quota controller's recalculation corrects
//! it. Dry runs are checked but not charged.

use crate::admission::{AdmissionPlugin, AdmissionRequest, ObjectLookup, Operation};
use crate::keys::collection_prefix;
use berth_api::quota::{
    ResourceList, add, handles, list_to_json, mask, matches_resource, parse_list, pod_constraints,
    pretty_print, quota_scopes, scopes_match, subtract_non_negative, usage,
};
use berth_api::status::{ApiError, GroupResource};
use berth_store::{Store, StoreError};
use bytes::Bytes;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How many times a lost compare-and-swap on a quota is retried.
const CHARGE_ATTEMPTS: usize = 10;

/// A quota as admission sees it: `status.hard` and `status.used`, plus its scopes.
#[derive(Debug, Clone)]
pub struct QuotaView {
    /// The quota's name.
    pub name: String,
    /// `status.hard`.
    pub hard: ResourceList,
    /// `status.used`.
    pub used: ResourceList,
    /// `spec.scopes`.
    pub scopes: Vec<String>,
}

impl QuotaView {
    /// Reads a ResourceQuota object.
    pub fn from_object(quota: &Value) -> Self {
        Self {
            name: berth_api::meta::name(quota).to_string(),
            hard: parse_list(quota.pointer("/status/hard")),
            used: parse_list(quota.pointer("/status/used")),
            scopes: quota_scopes(quota),
        }
    }
}

/// The write being checked.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// API group of the resource.
    pub group: &'a str,
    /// Plural resource name.
    pub resource: &'a str,
    /// The object as it would be stored.
    pub object: &'a Value,
    /// The stored object of an update.
    pub old: Option<&'a Value>,
    /// When the write happens (deleted pods past their grace period are not charged).
    pub now: jiff::Timestamp,
}

/// Kubernetes' `CheckRequest`: `Ok` with the new `status.used` of each quota the write
/// charges (by index into `quotas`), or the denial's message (what follows "is forbidden: ").
pub fn check(quotas: &[QuotaView], w: &Write<'_>) -> Result<Vec<(usize, ResourceList)>, String> {
    if !handles(w.group, w.resource, w.old.is_some()) {
        return Ok(Vec::new());
    }
    let mut interesting = Vec::new();
    for (i, quota) in quotas.iter().enumerate() {
        let restricted: BTreeSet<String> = quota
            .hard
            .keys()
            .filter(|n| matches_resource(w.group, w.resource, n))
            .cloned()
            .collect();
        if restricted.is_empty() || !scopes_match(&quota.scopes, w.group, w.resource, w.object) {
            continue;
        }
        if (w.group, w.resource) == ("", "pods")
            && let Some(missing) = pod_constraints(w.object, &restricted)
        {
            return Err(format!("failed quota: {}: {missing}", quota.name));
        }
        if restricted.iter().any(|r| !quota.used.contains_key(r)) {
            return Err(format!(
                "status unknown for quota: {}, resources: {}",
                quota.name,
                restricted.iter().cloned().collect::<Vec<_>>().join(",")
            ));
        }
        interesting.push(i);
    }
    if interesting.is_empty() {
        return Ok(Vec::new());
    }
    let input = usage(w.group, w.resource, w.object, w.now);
    let negative: Vec<&str> = input
        .iter()
        .filter(|(_, q)| q.is_negative())
        .map(|(k, _)| k.as_str())
        .collect();
    if !negative.is_empty() {
        return Err(format!(
            "quota usage is negative for resource(s): {}",
            negative.join(",")
        ));
    }
    let delta = match w.old {
        Some(old) => subtract_non_negative(&input, &usage(w.group, w.resource, old, w.now)),
        None => input,
    };
    let delta: ResourceList = delta.into_iter().filter(|(_, q)| !q.is_zero()).collect();
    if delta.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for i in interesting {
        let quota = &quotas[i];
        let requested = mask(&delta, quota.hard.keys());
        if requested.is_empty() {
            continue;
        }
        let new_used = add(&quota.used, &requested);
        let exceeded: Vec<&String> = requested
            .keys()
            .filter(|k| matches!((new_used.get(*k), quota.hard.get(*k)), (Some(u), Some(h)) if u > h))
            .collect();
        if !exceeded.is_empty() {
            return Err(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                quota.name,
                pretty_print(&mask(&requested, exceeded.iter().copied())),
                pretty_print(&mask(&quota.used, exceeded.iter().copied())),
                pretty_print(&mask(&quota.hard, exceeded.iter().copied())),
            ));
        }
        out.push((i, new_used));
    }
    Ok(out)
}

/// The `ResourceQuota` plugin; it charges quotas through the store directly.
pub struct ResourceQuotaAdmission {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for ResourceQuotaAdmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceQuotaAdmission").finish_non_exhaustive()
    }
}

impl ResourceQuotaAdmission {
    /// The plugin over the server's store.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

fn quota_gr() -> GroupResource {
    GroupResource::new("", "resourcequotas")
}

/// A namespace's quotas as stored: (key, revision, stored JSON).
fn stored_quotas(store: &dyn Store, namespace: &str) -> Result<Vec<(String, u64, Value)>, ApiError> {
    let Some(rt) = berth_api::registry::lookup("", "v1", "resourcequotas") else {
        return Ok(Vec::new());
    };
    let page = store
        .list(&collection_prefix(rt, Some(namespace)), None, 0, None)
        .map_err(ApiError::internal)?;
    page.items
        .iter()
        .map(|kv| {
            let v: Value = serde_json::from_slice(&kv.value)
                .map_err(|e| ApiError::internal(format!("stored object {} is corrupt: {e}", kv.key)))?;
            Ok((kv.key.to_string(), kv.mod_revision, v))
        })
        .collect()
}

#[async_trait::async_trait]
impl AdmissionPlugin for ResourceQuotaAdmission {
    fn name(&self) -> &'static str {
        "ResourceQuota"
    }

    fn admit(
        &self,
        _req: &AdmissionRequest<'_>,
        _obj: &mut Value,
        _lookup: &dyn ObjectLookup,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    async fn commit(&self, req: &AdmissionRequest<'_>, obj: &Value) -> Result<(), ApiError> {
        if req.subresource.is_some()
            || !req.rt.namespaced
            || req.namespace.is_empty()
            || req.operation == Operation::Delete
            || !handles(req.rt.group, req.rt.plural, req.old.is_some())
        {
            return Ok(());
        }
        let write = Write {
            group: req.rt.group,
            resource: req.rt.plural,
            object: obj,
            old: req.old,
            now: jiff::Timestamp::now(),
        };
        let forbidden = |why: String| ApiError::forbidden(&req.rt.group_resource(), req.name, &why);
        // Quotas already charged by an earlier attempt are not charged again.
        let mut charged: BTreeSet<String> = BTreeSet::new();
        let mut last_conflict = String::new();
        for _ in 0..CHARGE_ATTEMPTS {
            let stored: Vec<(String, u64, Value)> = stored_quotas(self.store.as_ref(), req.namespace)?
                .into_iter()
                .filter(|(_, _, q)| !charged.contains(berth_api::meta::name(q)))
                .collect();
            let views: Vec<QuotaView> = stored.iter().map(|(_, _, q)| QuotaView::from_object(q)).collect();
            let updates = check(&views, &write).map_err(forbidden)?;
            if req.dry_run || updates.is_empty() {
                return Ok(());
            }
            let mut lost = false;
            for (i, used) in updates {
                let (key, revision, quota) = &stored[i];
                let mut quota = quota.clone();
                if let Some(status) = quota.get_mut("status").and_then(Value::as_object_mut) {
                    status.insert("used".into(), list_to_json(&used));
                }
                let bytes = serde_json::to_vec(&quota).map_err(ApiError::internal)?;
                match self.store.update(key, Bytes::from(bytes), Some(*revision)).await {
                    Ok(_) => {
                        charged.insert(views[i].name.clone());
                    }
                    Err(StoreError::Conflict { .. } | StoreError::NotFound(_)) => {
                        last_conflict.clone_from(&views[i].name);
                        lost = true;
                    }
                    Err(e) => return Err(ApiError::internal(e)),
                }
            }
            if !lost {
                return Ok(());
            }
        }
        Err(ApiError::stale(&quota_gr(), &last_conflict))
    }
}

#[cfg(test)]
mod tests;
