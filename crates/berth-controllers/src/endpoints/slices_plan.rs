//! The EndpointSlice controller's planner (`staging/src/k8s.io/endpointslice/reconciler.go`,
//! simplified): from a service, the pods of its namespace, the nodes and the service's
//! existing slices, which slices to create, update and delete.
//!
//! Endpoints are grouped by their port set (named `targetPort`s may resolve differently per
//! pod) and packed at most [`MAX_ENDPOINTS_PER_SLICE`] to a slice. Existing slices with the
//! same ports are reused in name order, so a steady state writes nothing. A service with no
//! endpoints keeps one empty placeholder slice, as Kubernetes does.

use super::pods::{self, Family, LABEL_HEADLESS};
use k8s_openapi::api::core::v1::{Node, ObjectReference, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::borrow::Borrow;
use std::collections::BTreeMap;

/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// `discovery.LabelManagedBy`.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The controller's name in [`LABEL_MANAGED_BY`].
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// `--max-endpoints-per-slice` default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// The node label holding the zone.
const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// The writes that bring a service's slices to the desired state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlicePlan {
    /// New slices (named by `generateName`).
    pub create: Vec<EndpointSlice>,
    /// Changed slices, carrying the stored `resourceVersion`.
    pub update: Vec<EndpointSlice>,
    /// Names of slices to delete.
    pub delete: Vec<String>,
}

impl SlicePlan {
    /// Whether nothing needs writing.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

/// Whether a slice is one this controller manages for the service.
pub fn is_managed_slice_of(slice: &EndpointSlice, svc: &Service) -> bool {
    let labels = slice.metadata.labels.as_ref();
    slice.metadata.namespace == svc.metadata.namespace
        && labels.and_then(|l| l.get(LABEL_SERVICE_NAME)) == svc.metadata.name.as_ref()
        && labels.and_then(|l| l.get(LABEL_MANAGED_BY)).map(String::as_str) == Some(CONTROLLER_NAME)
}

/// Plans the slices of one service. `slices` may hold any slices (only the service's managed
/// ones are considered); `nodes` gives endpoint zones.
pub fn plan_slices<P: Borrow<Pod>>(
    svc: &Service,
    pods: &[P],
    nodes: &[Node],
    slices: &[EndpointSlice],
) -> SlicePlan {
    let Some(selector) = pods::managed_selector(svc) else {
        return SlicePlan::default();
    };
    let family = pods::service_family(svc);
    let mut existing: Vec<&EndpointSlice> = slices.iter().filter(|s| is_managed_slice_of(s, svc)).collect();
    existing.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));

    // Desired endpoints grouped by port set, in the order port sets first appear.
    let mut groups: Vec<(Vec<EndpointPort>, Vec<Endpoint>)> = Vec::new();
    let mut sorted: Vec<&Pod> = pods.iter().map(Borrow::borrow).collect();
    sorted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    for pod in sorted {
        if !pods::selects(svc, selector, pod) || !pods::should_be_in_endpoints(pod, true) {
            continue;
        }
        let Some(endpoint) = endpoint_for(pod, svc, family, nodes) else {
            continue;
        };
        let ports = ports_for(pod, svc);
        match groups.iter_mut().find(|g| g.0 == ports) {
            Some(g) => g.1.push(endpoint),
            None => groups.push((ports, vec![endpoint])),
        }
    }
    // Desired slices as (ports, endpoints); an empty placeholder when there is nothing.
    let mut desired: Vec<(Vec<EndpointPort>, Vec<Endpoint>)> = Vec::new();
    for (ports, endpoints) in groups {
        for chunk in endpoints.chunks(MAX_ENDPOINTS_PER_SLICE) {
            desired.push((ports.clone(), chunk.to_vec()));
        }
    }
    if desired.is_empty() {
        desired.push((Vec::new(), Vec::new()));
    }

    let labels = desired_labels(svc);
    let owner = owner_reference(svc);
    let mut plan = SlicePlan::default();
    let mut unused: Vec<&EndpointSlice> = existing
        .into_iter()
        .filter(|s| s.address_type == family.address_type())
        .collect();
    for s in slices.iter().filter(|s| is_managed_slice_of(s, svc)) {
        if s.address_type != family.address_type() {
            plan.delete.extend(s.metadata.name.clone());
        }
    }
    for (ports, endpoints) in desired {
        let same_ports = unused
            .iter()
            .position(|s| pods::canonical_of(&s.ports) == pods::canonical_of(&ports));
        match same_ports {
            Some(i) => {
                let cur = unused.remove(i);
                let want_endpoints = pods::canonical_of(&endpoints);
                let unchanged = pods::canonical_of(&cur.endpoints) == want_endpoints
                    && cur.metadata.labels.as_ref() == Some(&labels)
                    && cur.metadata.owner_references.as_ref() == Some(&vec![owner.clone()]);
                if !unchanged {
                    let mut next = cur.clone();
                    next.endpoints = endpoints;
                    next.metadata.labels = Some(labels.clone());
                    next.metadata.owner_references = Some(vec![owner.clone()]);
                    plan.update.push(next);
                }
            }
            None => plan.create.push(EndpointSlice {
                metadata: ObjectMeta {
                    generate_name: Some(slice_prefix(svc)),
                    namespace: svc.metadata.namespace.clone(),
                    labels: Some(labels.clone()),
                    owner_references: Some(vec![owner.clone()]),
                    ..ObjectMeta::default()
                },
                address_type: family.address_type().to_string(),
                endpoints,
                ports: Some(ports),
            }),
        }
    }
    // `finalize`: a create and a delete become an update of the slice that would have been
    // deleted, so slice names stay stable.
    while !plan.create.is_empty() && !unused.is_empty() {
        if let (Some(want), Some(reused)) = (plan.create.pop(), unused.pop()) {
            let mut slice = reused.clone();
            slice.metadata.labels = want.metadata.labels;
            slice.metadata.owner_references = want.metadata.owner_references;
            slice.endpoints = want.endpoints;
            slice.ports = want.ports;
            plan.update.push(slice);
        }
    }
    plan.delete
        .extend(unused.into_iter().filter_map(|s| s.metadata.name.clone()));
    plan
}

/// `getEndpointSlicePrefix`: `<service>-`, or `slice-` when that is no valid name prefix.
fn slice_prefix(svc: &Service) -> String {
    let prefix = format!("{}-", svc.metadata.name.as_deref().unwrap_or(""));
    let rt = berth_api::registry::lookup_kind("discovery.k8s.io", "EndpointSlice");
    match rt {
        Some(rt) if berth_api::validation::validate_generate_name(rt, &prefix).is_empty() => prefix,
        _ => "slice-".to_string(),
    }
}

/// `setEndpointSliceLabels`: the service's labels without the reserved keys, the headless
/// label for services without a cluster IP, the service name and the managing controller.
fn desired_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = svc
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| ![LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !pods::has_cluster_ip(svc) {
        labels.insert(LABEL_HEADLESS.to_string(), String::new());
    }
    labels.insert(
        LABEL_SERVICE_NAME.to_string(),
        svc.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(LABEL_MANAGED_BY.to_string(), CONTROLLER_NAME.to_string());
    labels
}

/// `metav1.NewControllerRef(service)`.
fn owner_reference(svc: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".to_string(),
        kind: "Service".to_string(),
        name: svc.metadata.name.clone().unwrap_or_default(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `podToEndpoint`: the pod's address, its conditions, node, zone, hostname and reference.
fn endpoint_for(pod: &Pod, svc: &Service, family: Family, nodes: &[Node]) -> Option<Endpoint> {
    let ip = pods::pod_ip(pod, family)?;
    let serving = pods::is_ready(pod);
    let terminating = pods::is_terminating(pod);
    let ready = pods::publish_not_ready(svc) || (serving && !terminating);
    let node_name = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty());
    let zone = node_name.as_ref().and_then(|n| {
        nodes
            .iter()
            .find(|node| node.metadata.name.as_ref() == Some(n))
            .and_then(|node| node.metadata.labels.as_ref())
            .and_then(|l| l.get(LABEL_ZONE))
            .filter(|z| !z.is_empty())
            .cloned()
    });
    Some(Endpoint {
        addresses: vec![ip],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: pods::hostname(pod, svc),
        node_name,
        zone,
        target_ref: Some(ObjectReference {
            kind: Some("Pod".to_string()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..ObjectReference::default()
        }),
        ..Endpoint::default()
    })
}

/// `getEndpointPorts`: one port per service port the pod resolves.
fn ports_for(pod: &Pod, svc: &Service) -> Vec<EndpointPort> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|sp| {
            let port = pods::find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(port),
                protocol: Some(pods::protocol(sp).to_string()),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}
