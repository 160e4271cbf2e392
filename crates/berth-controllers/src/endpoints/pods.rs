//! What both endpoint controllers ask of a pod and a service (`pkg/controller/util/endpoint`
//! and `staging/.../endpointslice/util`): selection, membership, readiness, hostname and
//! port resolution.

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The label both controllers put on the objects of a headless service.
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";

/// An IP family, as `spec.ipFamilies` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `IPv4`.
    V4,
    /// `IPv6`.
    V6,
}

impl Family {
    /// The EndpointSlice `addressType` of this family.
    pub fn address_type(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// The service's primary IP family (`spec.ipFamilies[0]`, IPv4 when unset).
pub fn service_family(svc: &Service) -> Family {
    match svc
        .spec
        .as_ref()
        .and_then(|s| s.ip_families.as_ref())
        .and_then(|f| f.first())
        .map(String::as_str)
    {
        Some("IPv6") => Family::V6,
        _ => Family::V4,
    }
}

/// The selector of a service the controllers manage: `None` for `ExternalName` services and
/// services without a selector (their endpoints are someone else's business).
pub fn managed_selector(svc: &Service) -> Option<&BTreeMap<String, String>> {
    let spec = svc.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    spec.selector.as_ref()
}

/// Whether the pod is in the service's namespace and carries every selector label.
/// (Kubernetes parses the map with `AsSelectorPreValidated`, so an empty selector selects
/// every pod of the namespace.)
pub fn selects(svc: &Service, selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    if pod.metadata.namespace != svc.metadata.namespace {
        return false;
    }
    let labels = pod.metadata.labels.as_ref();
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// `ShouldPodBeInEndpoints`: not terminal, has an IP, and not terminating unless
/// `include_terminating`.
pub fn should_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return false;
    }
    let has_ip = status.is_some_and(|s| {
        s.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty())
            || s.pod_ips.as_ref().is_some_and(|ips| !ips.is_empty())
    });
    if !has_ip {
        return false;
    }
    include_terminating || pod.metadata.deletion_timestamp.is_none()
}

/// `IsPodReady`: the `Ready` condition is `True`.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// Whether the pod is being deleted.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// The pod's IP of the given family (`status.podIPs`, else `status.podIP`).
pub fn pod_ip(pod: &Pod, family: Family) -> Option<String> {
    let status = pod.status.as_ref()?;
    let candidates = status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.as_str())
        .chain(status.pod_ip.as_deref());
    for ip in candidates {
        let ok = match ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => family == Family::V4,
            Ok(IpAddr::V6(_)) => family == Family::V6,
            Err(_) => false,
        };
        if ok {
            return Some(ip.to_string());
        }
    }
    None
}

/// `ShouldSetHostname`: the pod names a hostname and its subdomain is this service.
pub fn hostname(pod: &Pod, svc: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    let same_subdomain = spec.subdomain.as_deref() == svc.metadata.name.as_deref();
    let same_namespace = pod.metadata.namespace == svc.metadata.namespace;
    (same_subdomain && same_namespace).then(|| hostname.to_string())
}

/// The protocol of a service port (`TCP` when unset, as defaulting makes it).
pub fn protocol(port: &ServicePort) -> &str {
    port.protocol.as_deref().unwrap_or("TCP")
}

/// `FindPort`: the pod's port for a service port. A named `targetPort` is looked up among
/// the containers' (and restartable init containers') ports of the same protocol; a numeric
/// one is used as is; an absent one means `port`.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match &port.target_port {
        Some(IntOrString::String(name)) => {
            let spec = pod.spec.as_ref()?;
            let sidecars = spec
                .init_containers
                .iter()
                .flatten()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"));
            spec.containers
                .iter()
                .chain(sidecars)
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol(port)
                })
                .map(|p| p.container_port)
        }
        Some(IntOrString::Int(n)) if *n != 0 => Some(*n),
        _ => Some(port.port),
    }
}

/// `IsServiceIPSet`: a cluster IP other than `None`.
pub fn has_cluster_ip(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .is_some_and(|ip| !ip.is_empty() && ip != "None")
}

/// `spec.publishNotReadyAddresses`.
pub fn publish_not_ready(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
}

/// Removes nulls, empty arrays and empty objects recursively, so two objects compare equal
/// whether a list is absent or empty (the API may drop either).
pub fn canonical(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, canonical(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn is_empty(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// [`canonical`] of any serializable value.
pub fn canonical_of<T: serde::Serialize>(v: &T) -> serde_json::Value {
    canonical(serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
}
