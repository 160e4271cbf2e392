//! Kubernetes' `LimitRanger` admission plugin: the LimitRanges of a namespace give new pods'
//! containers their default requests and limits (`default`, `defaultRequest` of `Container`
//! items, recorded in the `kubernetes.io/limit-ranger` annotation) and bound pods
//! (`Container` and `Pod` items: `min`, `max`, `maxLimitRequestRatio`) and claims
//! (`PersistentVolumeClaim` items: `min`, `max` of `storage`) with Kubernetes' messages.
//!
//! The decisions are the pure functions [`apply_defaults`], [`validate_pod`] and
//! [`validate_claim`]; [`LimitRanger`] reads the namespace's LimitRanges and applies them.

use crate::admission::{AdmissionPlugin, AdmissionRequest, ObjectLookup, Operation};
use berth_api::quantity::Quantity;
use berth_api::quota::{ResourceList, parse_list, pod_requests_limits};
use berth_api::status::ApiError;
use serde_json::{Value, json};

/// The annotation naming what LimitRanger defaulted.
pub const LIMIT_RANGER_ANNOTATION: &str = "kubernetes.io/limit-ranger";

fn items<'a>(limit_range: &'a Value, ty: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    limit_range
        .pointer("/spec/limits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |i| i.get("type").and_then(Value::as_str) == Some(ty))
}

/// Fills containers' missing requests and limits from the `Container` items' `defaultRequest`
/// and `default` (`mergePodResourceRequirements`), and records what it set.
pub fn apply_defaults(limit_range: &Value, pod: &mut Value) {
    let (mut limits, mut requests) = (ResourceList::new(), ResourceList::new());
    let (mut raw_limits, mut raw_requests) = (serde_json::Map::new(), serde_json::Map::new());
    for item in items(limit_range, "Container") {
        // The last item wins, as `defaultContainerResourceRequirements` replaces the lists.
        if let Some(d) = item.get("defaultRequest").and_then(Value::as_object) {
            requests = parse_list(item.get("defaultRequest"));
            raw_requests = d.clone();
        }
        if let Some(d) = item.get("default").and_then(Value::as_object) {
            limits = parse_list(item.get("default"));
            raw_limits = d.clone();
        }
    }
    if limits.is_empty() && requests.is_empty() {
        return;
    }
    let mut notes = Vec::new();
    for (field, prefix) in [("containers", "container"), ("initContainers", "init container")] {
        let Some(containers) = pod
            .pointer_mut(&format!("/spec/{field}"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for c in containers.iter_mut().filter_map(Value::as_object_mut) {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            let resources = c.entry("resources").or_insert_with(|| json!({}));
            let Some(resources) = resources.as_object_mut() else {
                continue;
            };
            let mut set = |key: &str, defaults: &ResourceList, raw: &serde_json::Map<String, Value>| {
                let list = resources.entry(key).or_insert_with(|| json!({}));
                if !list.is_object() {
                    *list = json!({});
                }
                let mut names = Vec::new();
                if let Some(list) = list.as_object_mut() {
                    for k in defaults.keys() {
                        if !list.contains_key(k)
                            && let Some(v) = raw.get(k)
                        {
                            list.insert(k.clone(), v.clone());
                            names.push(k.clone());
                        }
                    }
                }
                names
            };
            let set_limits = set("limits", &limits, &raw_limits);
            let set_requests = set("requests", &requests, &raw_requests);
            for key in ["limits", "requests"] {
                if resources
                    .get(key)
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.is_empty())
                {
                    resources.remove(key);
                }
            }
            if !set_requests.is_empty() {
                notes.push(format!("{} request for {prefix} {name}", set_requests.join(", ")));
            }
            if !set_limits.is_empty() {
                notes.push(format!("{} limit for {prefix} {name}", set_limits.join(", ")));
            }
        }
    }
    if notes.is_empty() {
        return;
    }
    if let Some(md) = berth_api::meta::metadata_mut(pod) {
        let annotations = md.entry("annotations").or_insert_with(|| json!({}));
        if !annotations.is_object() {
            *annotations = json!({});
        }
        if let Some(a) = annotations.as_object_mut() {
            a.insert(
                LIMIT_RANGER_ANNOTATION.into(),
                json!(format!("LimitRanger plugin set: {}", notes.join("; "))),
            );
        }
    }
}

fn min_constraint(
    ty: &str,
    res: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let Some(req) = request.get(res) else {
        return Some(format!(
            "minimum {res} usage per {ty} is {enforced}.  No request is specified"
        ));
    };
    if req < enforced {
        return Some(format!(
            "minimum {res} usage per {ty} is {enforced}, but request is {req}"
        ));
    }
    match limit.get(res) {
        Some(lim) if lim < enforced => Some(format!(
            "minimum {res} usage per {ty} is {enforced}, but limit is {lim}"
        )),
        _ => None,
    }
}

fn max_constraint(
    ty: &str,
    res: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let Some(lim) = limit.get(res) else {
        return Some(format!(
            "maximum {res} usage per {ty} is {enforced}.  No limit is specified"
        ));
    };
    if lim > enforced {
        return Some(format!(
            "maximum {res} usage per {ty} is {enforced}, but limit is {lim}"
        ));
    }
    match request.get(res) {
        Some(req) if req > enforced => Some(format!(
            "maximum {res} usage per {ty} is {enforced}, but request is {req}"
        )),
        _ => None,
    }
}

fn max_request_constraint(
    ty: &str,
    res: &str,
    enforced: &Quantity,
    request: &ResourceList,
) -> Option<String> {
    match request.get(res) {
        None => Some(format!(
            "maximum {res} usage per {ty} is {enforced}.  No request is specified"
        )),
        Some(req) if req > enforced => Some(format!(
            "maximum {res} usage per {ty} is {enforced}, but request is {req}"
        )),
        Some(_) => None,
    }
}

fn ratio_constraint(
    ty: &str,
    res: &str,
    enforced: &Quantity,
    request: &ResourceList,
    limit: &ResourceList,
) -> Option<String> {
    let req = request.get(res).filter(|q| !q.is_zero());
    let lim = limit.get(res).filter(|q| !q.is_zero());
    let Some(req) = req else {
        return Some(format!(
            "{res} max limit to request ratio per {ty} is {enforced}, but no request is specified or request is 0"
        ));
    };
    let Some(lim) = lim else {
        return Some(format!(
            "{res} max limit to request ratio per {ty} is {enforced}, but no limit is specified or limit is 0"
        ));
    };
    // lim / req > enforced, exactly: lim × 10^9 > enforced × req (all in nanos).
    if lim.nanos().saturating_mul(1_000_000_000) > enforced.nanos().saturating_mul(req.nanos()) {
        let ratio = lim.nanos() as f64 / req.nanos() as f64;
        return Some(format!(
            "{res} max limit to request ratio per {ty} is {enforced}, but provided ratio is {ratio:.6}"
        ));
    }
    None
}

fn check_item(item: &Value, ty: &str, request: &ResourceList, limit: &ResourceList, errs: &mut Vec<String>) {
    for (res, v) in parse_list(item.get("min")) {
        errs.extend(min_constraint(ty, &res, &v, request, limit));
    }
    for (res, v) in parse_list(item.get("max")) {
        errs.extend(max_constraint(ty, &res, &v, request, limit));
    }
    for (res, v) in parse_list(item.get("maxLimitRequestRatio")) {
        errs.extend(ratio_constraint(ty, &res, &v, request, limit));
    }
}

/// Go's `utilerrors.NewAggregate(errs).Error()`: one message alone, several in brackets.
fn aggregate(errs: Vec<String>) -> Option<String> {
    let mut unique: Vec<String> = Vec::new();
    for e in errs {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    match unique.len() {
        0 => None,
        1 => unique.pop(),
        _ => Some(format!("[{}]", unique.join(", "))),
    }
}

/// `PodValidateLimitFunc`: the pod's containers against `Container` items, its total
/// against `Pod` items. `None` admits; else the message after "is forbidden: ".
pub fn validate_pod(limit_range: &Value, pod: &Value) -> Option<String> {
    let mut errs = Vec::new();
    for item in limit_range
        .pointer("/spec/limits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match item.get("type").and_then(Value::as_str) {
            Some("Container") => {
                for field in ["containers", "initContainers"] {
                    for c in pod
                        .pointer(&format!("/spec/{field}"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let req = parse_list(c.pointer("/resources/requests"));
                        let lim = parse_list(c.pointer("/resources/limits"));
                        check_item(item, "Container", &req, &lim, &mut errs);
                    }
                }
            }
            Some("Pod") => {
                let (req, lim) = pod_requests_limits(pod);
                check_item(item, "Pod", &req, &lim, &mut errs);
            }
            _ => {}
        }
    }
    aggregate(errs)
}

/// `PersistentVolumeClaimValidateLimitFunc`: the claim's requests against
/// `PersistentVolumeClaim` items' `min` and `max`.
pub fn validate_claim(limit_range: &Value, pvc: &Value) -> Option<String> {
    let mut errs = Vec::new();
    let requests = parse_list(pvc.pointer("/spec/resources/requests"));
    for item in items(limit_range, "PersistentVolumeClaim") {
        for (res, v) in parse_list(item.get("min")) {
            errs.extend(min_constraint(
                "PersistentVolumeClaim",
                &res,
                &v,
                &requests,
                &ResourceList::new(),
            ));
        }
        for (res, v) in parse_list(item.get("max")) {
            errs.extend(max_request_constraint(
                "PersistentVolumeClaim",
                &res,
                &v,
                &requests,
            ));
        }
    }
    aggregate(errs)
}

/// The `LimitRanger` plugin.
#[derive(Debug, Default)]
pub struct LimitRanger;

impl AdmissionPlugin for LimitRanger {
    fn name(&self) -> &'static str {
        "LimitRanger"
    }

    fn admit(
        &self,
        req: &AdmissionRequest<'_>,
        obj: &mut Value,
        lookup: &dyn ObjectLookup,
    ) -> Result<(), ApiError> {
        if req.subresource.is_some() || !req.rt.group.is_empty() {
            return Ok(());
        }
        let pod = match (req.rt.kind, req.operation) {
            ("Pod", Operation::Create) => true,
            ("PersistentVolumeClaim", Operation::Create | Operation::Update) => false,
            _ => return Ok(()),
        };
        let Some(rt) = berth_api::registry::lookup("", "v1", "limitranges") else {
            return Ok(());
        };
        let mut ranges: Vec<Value> = lookup
            .list_objects(rt)
            .into_iter()
            .filter(|l| berth_api::meta::namespace(l) == req.namespace)
            .collect();
        ranges.sort_by(|a, b| berth_api::meta::name(a).cmp(berth_api::meta::name(b)));
        // Kubernetes mutates with every LimitRange first, then validates against each.
        if pod {
            for range in &ranges {
                apply_defaults(range, obj);
            }
        }
        for range in &ranges {
            let denial = if pod {
                validate_pod(range, obj)
            } else {
                validate_claim(range, obj)
            };
            if let Some(why) = denial {
                return Err(ApiError::forbidden(&req.rt.group_resource(), req.name, &why));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
