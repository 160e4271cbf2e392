//! The Endpoints controller's planner (`pkg/controller/endpoint/endpoints_controller.go`
//! `syncService`): from a service and the pods of its namespace, the `subsets` and labels
//! its Endpoints object should have, and whether to create, update, delete or leave it.

use super::pods::{self, Family, LABEL_HEADLESS};
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::borrow::Borrow;
use std::collections::BTreeMap;

/// The annotation of Endpoints used as leader-election locks, which the controller never
/// deletes.
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";

/// What to do with one service's Endpoints object.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointsAction {
    /// Nothing changed.
    Keep,
    /// Create this object.
    Create(Endpoints),
    /// Replace the stored object with this one (its `resourceVersion` is the stored one).
    Update(Endpoints),
    /// Delete the Endpoints of a service that no longer exists.
    Delete,
}

/// Decides what the Endpoints named after `service_name` should become.
///
/// `service` is `None` when the service does not exist (any more); `pods` may hold pods of
/// any namespace (only the service's are considered); `current` is the stored Endpoints.
pub fn plan_endpoints<P: Borrow<Pod>>(
    service: Option<&Service>,
    pods: &[P],
    current: Option<&Endpoints>,
) -> EndpointsAction {
    let Some(svc) = service else {
        let is_lock = current
            .and_then(|c| c.metadata.annotations.as_ref())
            .is_some_and(|a| a.contains_key(LEADER_ANNOTATION));
        return if current.is_some() && !is_lock {
            EndpointsAction::Delete
        } else {
            EndpointsAction::Keep
        };
    };
    let Some(selector) = pods::managed_selector(svc) else {
        return EndpointsAction::Keep;
    };
    let subsets = desired_subsets(svc, selector, pods);
    let labels = desired_labels(svc);
    match current {
        None => EndpointsAction::Create(Endpoints {
            metadata: ObjectMeta {
                name: svc.metadata.name.clone(),
                namespace: svc.metadata.namespace.clone(),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            subsets: (!subsets.is_empty()).then_some(subsets),
        }),
        Some(cur) => {
            let same_subsets = pods::canonical_of(&cur.subsets) == pods::canonical_of(&subsets);
            let same_labels = cur.metadata.labels.clone().unwrap_or_default() == labels;
            if same_subsets && same_labels {
                return EndpointsAction::Keep;
            }
            let mut next = cur.clone();
            next.metadata.labels = Some(labels);
            next.subsets = (!subsets.is_empty()).then_some(subsets);
            EndpointsAction::Update(next)
        }
    }
}

/// The service's labels, plus `service.kubernetes.io/headless` when it has no cluster IP.
fn desired_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    if pods::has_cluster_ip(svc) {
        labels.remove(LABEL_HEADLESS);
    } else {
        labels.insert(LABEL_HEADLESS.to_string(), String::new());
    }
    labels
}

/// One (address, port) contribution before repacking.
struct Contribution {
    address: EndpointAddress,
    ready: bool,
    /// `None` for a headless service without ports.
    port: Option<EndpointPort>,
}

/// The subsets of the service's Endpoints: one address per selected pod and service port,
/// ready pods (or all, with `publishNotReadyAddresses`) under `addresses`, the others under
/// `notReadyAddresses`, repacked as `endpoints.RepackSubsets` does.
pub fn desired_subsets<P: Borrow<Pod>>(
    svc: &Service,
    selector: &BTreeMap<String, String>,
    all_pods: &[P],
) -> Vec<EndpointSubset> {
    let publish = pods::publish_not_ready(svc);
    let family = pods::service_family(svc);
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let mut contributions = Vec::new();
    for pod in all_pods.iter().map(Borrow::borrow) {
        if !pods::selects(svc, selector, pod) || !pods::should_be_in_endpoints(pod, publish) {
            continue;
        }
        let Some(address) = address_for(pod, svc, family) else {
            continue;
        };
        let ready = publish || pods::is_ready(pod);
        if ports.is_empty() {
            if !pods::has_cluster_ip(svc) {
                contributions.push(Contribution {
                    address,
                    ready,
                    port: None,
                });
            }
            continue;
        }
        for sp in &ports {
            let Some(num) = pods::find_port(pod, sp) else {
                continue;
            };
            contributions.push(Contribution {
                address: address.clone(),
                ready,
                port: Some(EndpointPort {
                    name: sp.name.clone(),
                    port: num,
                    protocol: Some(pods::protocol(sp).to_string()),
                    app_protocol: sp.app_protocol.clone(),
                }),
            });
        }
    }
    repack(contributions)
}

/// `podToEndpointAddressForService` plus the hostname rule.
fn address_for(pod: &Pod, svc: &Service, family: Family) -> Option<EndpointAddress> {
    let ip = pods::pod_ip(pod, family)?;
    Some(EndpointAddress {
        ip,
        hostname: pods::hostname(pod, svc),
        node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".to_string()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..ObjectReference::default()
        }),
    })
}

/// The identity of an address (`addressKey`: IP and pod UID).
fn address_key(a: &EndpointAddress) -> (String, String) {
    let uid = a
        .target_ref
        .as_ref()
        .and_then(|r| r.uid.clone())
        .unwrap_or_default();
    (a.ip.clone(), uid)
}

/// A port's identity and order.
fn port_key(p: &Option<EndpointPort>) -> (String, i32, String) {
    match p {
        None => (String::new(), -1, String::new()),
        Some(p) => (
            p.name.clone().unwrap_or_default(),
            p.port,
            p.protocol.clone().unwrap_or_default(),
        ),
    }
}

/// `RepackSubsets`: maps every port to the addresses offering it (an address ready on any
/// contribution is ready), then groups ports by identical address sets. Berth orders
/// subsets by their first port and addresses by (IP, UID); Kubernetes orders by hashes.
fn repack(contributions: Vec<Contribution>) -> Vec<EndpointSubset> {
    type Addrs = BTreeMap<(String, String), (EndpointAddress, bool)>;
    let mut by_port: BTreeMap<(String, i32, String), (Option<EndpointPort>, Addrs)> = BTreeMap::new();
    for c in contributions {
        let entry = by_port
            .entry(port_key(&c.port))
            .or_insert_with(|| (c.port.clone(), BTreeMap::new()));
        let slot = entry
            .1
            .entry(address_key(&c.address))
            .or_insert_with(|| (c.address.clone(), false));
        slot.1 |= c.ready;
    }
    // Group ports by their address set (address keys and readiness).
    type AddrSetKey = Vec<((String, String), bool)>;
    let mut groups: Vec<(AddrSetKey, Vec<Option<EndpointPort>>, Addrs)> = Vec::new();
    for (_, (port, addrs)) in by_port {
        let key: Vec<((String, String), bool)> = addrs.iter().map(|(k, (_, r))| (k.clone(), *r)).collect();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(port),
            None => groups.push((key, vec![port], addrs)),
        }
    }
    groups
        .into_iter()
        .map(|(_, ports, addrs)| {
            let ports: Vec<EndpointPort> = ports.into_iter().flatten().collect();
            let (ready, not_ready): (Vec<_>, Vec<_>) = addrs.into_values().partition(|(_, r)| *r);
            let strip = |v: Vec<(EndpointAddress, bool)>| -> Option<Vec<EndpointAddress>> {
                (!v.is_empty()).then(|| v.into_iter().map(|(a, _)| a).collect())
            };
            EndpointSubset {
                addresses: strip(ready),
                not_ready_addresses: strip(not_ready),
                ports: (!ports.is_empty()).then_some(ports),
            }
        })
        .collect()
}
