//! The ResourceQuota controller's pure planner (Kubernetes' `syncResourceQuota`): a quota's
//! status is `hard` = `spec.hard` and `used` = the usage of the objects in its namespace,
//! measured for every hard resource some measured collection covers. Resources no measured
//! collection covers keep the usage they had.

use berth_api::quantity::Quantity;
use berth_api::quota::{
    ResourceList, list_to_json, mask, matches_resource, parse_list, quota_scopes, scopes_match, usage,
};
use serde_json::{Value, json};

/// The objects of one resource in a quota's namespace.
#[derive(Debug, Clone)]
pub struct Collection<'a> {
    /// API group.
    pub group: &'a str,
    /// Plural resource name.
    pub resource: &'a str,
    /// The objects.
    pub objects: Vec<&'a Value>,
}

/// The status the quota should have.
pub fn desired_status(quota: &Value, collections: &[Collection<'_>], now: jiff::Timestamp) -> Value {
    let hard = parse_list(quota.pointer("/spec/hard"));
    let scopes = quota_scopes(quota);
    let mut used = parse_list(quota.pointer("/status/used"));
    for c in collections {
        let matched: Vec<&String> = hard
            .keys()
            .filter(|n| matches_resource(c.group, c.resource, n))
            .collect();
        if matched.is_empty() {
            continue;
        }
        let mut sum: ResourceList = matched.iter().map(|n| ((*n).clone(), Quantity::ZERO)).collect();
        for o in c
            .objects
            .iter()
            .filter(|o| scopes_match(&scopes, c.group, c.resource, o))
        {
            let u = usage(c.group, c.resource, o, now);
            for (name, total) in sum.iter_mut() {
                if let Some(q) = u.get(name) {
                    *total = total.add(q);
                }
            }
        }
        used.extend(sum);
    }
    let used = mask(&used, hard.keys());
    json!({"hard": list_to_json(&hard), "used": list_to_json(&used)})
}

/// Whether the stored status differs from `desired` (quantities compared numerically, so
/// `1Gi` and `1024Mi` are the same).
pub fn needs_update(quota: &Value, desired: &Value) -> bool {
    ["hard", "used"].iter().any(|k| {
        parse_list(quota.pointer(&format!("/status/{k}"))) != parse_list(desired.get(*k))
            || quota
                .pointer(&format!("/status/{k}"))
                .and_then(Value::as_object)
                .map_or(0, |m| m.len())
                != desired.get(*k).and_then(Value::as_object).map_or(0, |m| m.len())
    })
}

#[cfg(test)]
mod tests;
