//! What an object costs against a ResourceQuota: the usage evaluators of Kubernetes'
//! `pkg/quota/v1/evaluator/core` (pods, persistentvolumeclaims, services) and the generic
//! object-count evaluator, as pure functions over JSON objects. The quota admission plugin
//! and the quota controller both measure with these.

use crate::quantity::Quantity;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// A `ResourceList`: resource name → quantity, sorted by name.
pub type ResourceList = BTreeMap<String, Quantity>;

/// The suffix of per-StorageClass quota names.
pub const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";

/// The resource names Kubernetes requires every container to set when a quota limits them.
pub const COMPUTE_VALIDATION_SET: [&str; 6] = [
    "cpu",
    "limits.cpu",
    "limits.memory",
    "memory",
    "requests.cpu",
    "requests.memory",
];

/// Parses a `ResourceList` from JSON, skipping values that are not quantities.
pub fn parse_list(v: Option<&Value>) -> ResourceList {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), Quantity::parse(v.as_str()?).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Renders a `ResourceList` as JSON with canonical quantities.
pub fn list_to_json(list: &ResourceList) -> Value {
    Value::Object(
        list.iter()
            .map(|(k, v)| (k.clone(), json!(v.to_string())))
            .collect::<Map<_, _>>(),
    )
}

/// `a + b` key by key (`quota.Add`).
pub fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        let sum = out.get(k).map_or(*v, |x| x.add(v));
        out.insert(k.clone(), sum);
    }
    out
}

/// `a - b` key by key, floored at zero (`quota.SubtractWithNonNegativeResult`).
pub fn subtract_non_negative(a: &ResourceList, b: &ResourceList) -> ResourceList {
    a.iter()
        .map(|(k, v)| {
            let d = b.get(k).map_or(*v, |x| v.sub(x));
            (k.clone(), if d.is_negative() { Quantity::ZERO } else { d })
        })
        .collect()
}

/// Only the entries whose names are in `names` (`quota.Mask`).
pub fn mask<'a>(list: &ResourceList, names: impl IntoIterator<Item = &'a String>) -> ResourceList {
    names
        .into_iter()
        .filter_map(|n| list.get(n).map(|q| (n.clone(), *q)))
        .collect()
}

/// The object-count name of a resource: `count/<resource>` or `count/<resource>.<group>`.
pub fn object_count_name(group: &str, resource: &str) -> String {
    if group.is_empty() {
        format!("count/{resource}")
    } else {
        format!("count/{resource}.{group}")
    }
}

/// The legacy count name Kubernetes also accepts for some core resources (`configmaps`).
fn legacy_count_name(group: &str, resource: &str) -> Option<&'static str> {
    if !group.is_empty() {
        return None;
    }
    match resource {
        "configmaps" => Some("configmaps"),
        "secrets" => Some("secrets"),
        "replicationcontrollers" => Some("replicationcontrollers"),
        "resourcequotas" => Some("resourcequotas"),
        _ => None,
    }
}

/// Which evaluator measures a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluator {
    /// Pods: count, compute requests and limits.
    Pods,
    /// PersistentVolumeClaims: count and storage, overall and per class.
    Claims,
    /// Services: count, load balancers, node ports.
    Services,
    /// Any other resource: its object count.
    ObjectCount,
}

/// The evaluator of `<resource>.<group>`.
pub fn evaluator(group: &str, resource: &str) -> Evaluator {
    match (group, resource) {
        ("", "pods") => Evaluator::Pods,
        ("", "persistentvolumeclaims") => Evaluator::Claims,
        ("", "services") => Evaluator::Services,
        _ => Evaluator::ObjectCount,
    }
}

/// Whether the evaluator of `<resource>.<group>` charges on this operation: pods and plain
/// object counts on create only, claims (storage expansion) and services on update too.
pub fn handles(group: &str, resource: &str, update: bool) -> bool {
    !update
        || matches!(
            evaluator(group, resource),
            Evaluator::Claims | Evaluator::Services
        )
}

/// Whether the quota resource `name` is one the evaluator of `<resource>.<group>` measures
/// (`MatchingResources`).
pub fn matches_resource(group: &str, resource: &str, name: &str) -> bool {
    if name == object_count_name(group, resource) || legacy_count_name(group, resource) == Some(name) {
        return true;
    }
    match evaluator(group, resource) {
        Evaluator::Pods => {
            matches!(
                name,
                "pods"
                    | "cpu"
                    | "memory"
                    | "ephemeral-storage"
                    | "requests.cpu"
                    | "requests.memory"
                    | "requests.ephemeral-storage"
                    | "limits.cpu"
                    | "limits.memory"
                    | "limits.ephemeral-storage"
            )
        }
        Evaluator::Claims => {
            matches!(name, "persistentvolumeclaims" | "requests.storage")
                || name.ends_with(&format!("{STORAGE_CLASS_SUFFIX}requests.storage"))
                || name.ends_with(&format!("{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"))
        }
        Evaluator::Services => matches!(name, "services" | "services.loadbalancers" | "services.nodeports"),
        Evaluator::ObjectCount => false,
    }
}

/// Whether a pod is charged for compute resources and `pods` (`QuotaV1Pod`): not when it
/// reached a terminal phase, nor when its deletion grace period has run out at `now`.
pub fn pod_charged(pod: &Value, now: jiff::Timestamp) -> bool {
    if matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    ) {
        return false;
    }
    let deletion = pod
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let grace = pod
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    if let (Some(at), Some(grace)) = (deletion, grace)
        && let Ok(deadline) = at.checked_add(jiff::SignedDuration::from_secs(grace))
        && now > deadline
    {
        return false;
    }
    true
}

fn container_lists(pod: &Value, field: &str) -> Vec<(ResourceList, ResourceList)> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        parse_list(c.pointer("/resources/requests")),
                        parse_list(c.pointer("/resources/limits")),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn max_list(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        if out.get(k).is_none_or(|x| v > x) {
            out.insert(k.clone(), *v);
        }
    }
    out
}

/// A pod's effective requests and limits (`PodRequests`, `PodLimits`): the sum over its
/// containers, at least the largest init container, plus the pod overhead.
pub fn pod_requests_limits(pod: &Value) -> (ResourceList, ResourceList) {
    let (mut req, mut lim) = (ResourceList::new(), ResourceList::new());
    for (r, l) in container_lists(pod, "containers") {
        req = add(&req, &r);
        lim = add(&lim, &l);
    }
    for (r, l) in container_lists(pod, "initContainers") {
        req = max_list(&req, &r);
        lim = max_list(&lim, &l);
    }
    let overhead = parse_list(pod.pointer("/spec/overhead"));
    if !overhead.is_empty() {
        req = add(&req, &overhead);
        // Kubernetes adds overhead to limits only for resources that have a limit.
        let masked = mask(&overhead, lim.keys().collect::<Vec<_>>());
        lim = add(&lim, &masked);
    }
    (req, lim)
}

/// `podComputeUsageHelper`: the quota names a set of requests and limits charges.
pub fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut out = ResourceList::from([("pods".to_string(), Quantity::from_units(1))]);
    for res in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(r) = requests.get(res) {
            out.insert(res.to_string(), *r);
            out.insert(format!("requests.{res}"), *r);
        }
        if let Some(l) = limits.get(res) {
            out.insert(format!("limits.{res}"), *l);
        }
    }
    out
}

/// The storage class of a claim: `spec.storageClassName`, else the beta annotation.
pub fn claim_class(pvc: &Value) -> Option<String> {
    let class = pvc
        .pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
        .or_else(|| pvc.pointer("/spec/storageClassName"))
        .and_then(Value::as_str)?;
    (!class.is_empty()).then(|| class.to_string())
}

/// What one object costs (`Evaluator.Usage`). `now` decides whether a deleted pod's grace
/// period has run out.
pub fn usage(group: &str, resource: &str, obj: &Value, now: jiff::Timestamp) -> ResourceList {
    let one = Quantity::from_units(1);
    let mut out = ResourceList::from([(object_count_name(group, resource), one)]);
    if let Some(legacy) = legacy_count_name(group, resource) {
        out.insert(legacy.to_string(), one);
    }
    match evaluator(group, resource) {
        Evaluator::Pods => {
            if pod_charged(obj, now) {
                let (req, lim) = pod_requests_limits(obj);
                out = add(&out, &compute_usage(&req, &lim));
            }
        }
        Evaluator::Claims => {
            out.insert("persistentvolumeclaims".into(), one);
            let class = claim_class(obj);
            if let Some(c) = &class {
                out.insert(format!("{c}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"), one);
            }
            let requested = parse_list(obj.pointer("/spec/resources/requests")).remove("storage");
            let allocated = parse_list(obj.pointer("/status/allocatedResources")).remove("storage");
            let storage = match (requested, allocated) {
                (Some(r), Some(a)) if a > r => Some(a),
                (Some(r), _) => Some(r),
                (None, a) => a,
            };
            if let Some(s) = storage {
                out.insert("requests.storage".into(), s);
                if let Some(c) = &class {
                    out.insert(format!("{c}{STORAGE_CLASS_SUFFIX}requests.storage"), s);
                }
            }
        }
        Evaluator::Services => {
            out.insert("services".into(), one);
            let ty = obj
                .pointer("/spec/type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP");
            let ports = obj
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map_or(0, Vec::len) as i64;
            match ty {
                "NodePort" => {
                    out.insert("services.nodeports".into(), Quantity::from_units(ports));
                    out.insert("services.loadbalancers".into(), Quantity::ZERO);
                }
                "LoadBalancer" => {
                    let allocate = obj
                        .pointer("/spec/allocateLoadBalancerNodePorts")
                        .and_then(Value::as_bool)
                        .unwrap_or(true);
                    let node_ports = if allocate { ports } else { 0 };
                    out.insert("services.nodeports".into(), Quantity::from_units(node_ports));
                    out.insert("services.loadbalancers".into(), one);
                }
                _ => {
                    out.insert("services.nodeports".into(), Quantity::ZERO);
                    out.insert("services.loadbalancers".into(), Quantity::ZERO);
                }
            }
        }
        Evaluator::ObjectCount => {}
    }
    out
}

/// The compute resources a pod lacks for a quota that limits `required`
/// (`podEvaluator.Constraints`): `None` when every container sets them, else Kubernetes'
/// message, e.g. `must specify limits.cpu for: app; requests.memory for: app,sidecar`.
pub fn pod_constraints(pod: &Value, required: &BTreeSet<String>) -> Option<String> {
    let required: BTreeSet<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|r| COMPUTE_VALIDATION_SET.contains(r))
        .collect();
    let mut missing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for field in ["containers", "initContainers"] {
        for c in pod
            .pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let used = compute_usage(
                &parse_list(c.pointer("/resources/requests")),
                &parse_list(c.pointer("/resources/limits")),
            );
            let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            for r in &required {
                if !used.contains_key(*r) {
                    missing.entry(r).or_default().insert(name.clone());
                }
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(r, names)| format!("{r} for: {}", names.iter().cloned().collect::<Vec<_>>().join(",")))
        .collect();
    Some(format!("must specify {}", parts.join("; ")))
}

fn best_effort(pod: &Value) -> bool {
    ["containers", "initContainers"].iter().all(|f| {
        pod.pointer(&format!("/spec/{f}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .all(|c| {
                ["requests", "limits"].iter().all(|k| {
                    let list = parse_list(c.pointer(&format!("/resources/{k}")));
                    !list.contains_key("cpu") && !list.contains_key("memory")
                })
            })
    })
}

/// Whether a quota's `spec.scopes` select an object: scoped quotas select pods only
/// (`Terminating`, `NotTerminating`, `BestEffort`, `NotBestEffort`; other scopes select
/// nothing in Berth).
pub fn scopes_match(scopes: &[String], group: &str, resource: &str, obj: &Value) -> bool {
    if scopes.is_empty() {
        return true;
    }
    if (group, resource) != ("", "pods") {
        return false;
    }
    let terminating = obj
        .pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0);
    scopes.iter().all(|s| match s.as_str() {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => best_effort(obj),
        "NotBestEffort" => !best_effort(obj),
        _ => false,
    })
}

/// A quota's `spec.scopes`.
pub fn quota_scopes(quota: &Value) -> Vec<String> {
    quota
        .pointer("/spec/scopes")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Kubernetes' `prettyPrint`: `name=quantity` pairs sorted by name, joined by commas.
pub fn pretty_print(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests;
