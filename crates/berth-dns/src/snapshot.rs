//! The DNS view of the cluster: namespaces, services and the ready endpoints of their
//! EndpointSlices, reduced to what [`crate::resolve`] needs. Built from API objects by
//! [`Snapshot::build`]; plain data, so tests construct it directly.

use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// CoreDNS's default TTL for every answer.
pub const DEFAULT_TTL: u32 = 5;
/// The cluster domain served.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// A service or endpoint port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The port's name (may be empty).
    pub name: String,
    /// The number; `-1` is CoreDNS's sentinel for "no ports declared".
    pub port: i32,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}

/// How a service answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceKind {
    /// A virtual IP per family (`spec.clusterIPs`).
    ClusterIp(Vec<IpAddr>),
    /// `clusterIP: None`: the endpoints' addresses.
    Headless,
    /// `type: ExternalName`: a CNAME to this name.
    ExternalName(String),
}

/// One service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// How it answers.
    pub kind: ServiceKind,
    /// Its ports.
    pub ports: Vec<Port>,
}

/// A ready endpoint address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointAddress {
    /// The IP.
    pub ip: IpAddr,
    /// The endpoint's `hostname` (empty when unset).
    pub hostname: String,
}

/// The ready endpoints of one EndpointSlice and the slice's ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointGroup {
    /// The slice's ports, or the single sentinel port `-1` when it has none.
    pub ports: Vec<Port>,
    /// The addresses of endpoints whose `ready` condition is true or unknown.
    pub addresses: Vec<EndpointAddress>,
}

/// Everything the resolver reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The zone served, without trailing dot (`cluster.local`).
    pub zone: String,
    /// TTL of answers.
    pub ttl: u32,
    /// The SOA serial (CoreDNS: the Unix time of the last change).
    pub serial: u32,
    /// Existing namespaces.
    pub namespaces: BTreeSet<String>,
    /// Services by (namespace, name).
    pub services: BTreeMap<(String, String), ServiceEntry>,
    /// Endpoint groups by (namespace, service name).
    pub endpoints: BTreeMap<(String, String), Vec<EndpointGroup>>,
}

impl Snapshot {
    /// An empty snapshot of `cluster.local` with the default TTL.
    pub fn empty() -> Snapshot {
        Snapshot {
            zone: CLUSTER_DOMAIN.to_string(),
            ttl: DEFAULT_TTL,
            serial: 0,
            namespaces: BTreeSet::new(),
            services: BTreeMap::new(),
            endpoints: BTreeMap::new(),
        }
    }

    /// Builds the snapshot from API objects (as CoreDNS's `object.ToService` and
    /// `EndpointSliceToEndpoints` do).
    pub fn build<'a>(
        namespaces: impl IntoIterator<Item = &'a Namespace>,
        services: impl IntoIterator<Item = &'a Service>,
        slices: impl IntoIterator<Item = &'a EndpointSlice>,
        serial: u32,
    ) -> Snapshot {
        let mut snap = Snapshot {
            serial,
            ..Snapshot::empty()
        };
        snap.namespaces = namespaces
            .into_iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        for svc in services {
            let (Some(ns), Some(name)) = (&svc.metadata.namespace, &svc.metadata.name) else {
                continue;
            };
            snap.services
                .insert((ns.clone(), name.clone()), service_entry(svc));
        }
        for slice in slices {
            let service = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"));
            let (Some(ns), Some(service)) = (&slice.metadata.namespace, service) else {
                continue;
            };
            snap.endpoints
                .entry((ns.clone(), service.clone()))
                .or_default()
                .push(endpoint_group(slice));
        }
        snap
    }
}

fn service_entry(svc: &Service) -> ServiceEntry {
    let spec = svc.spec.clone().unwrap_or_default();
    let ports = spec
        .ports
        .iter()
        .flatten()
        .map(|p| Port {
            name: p.name.clone().unwrap_or_default(),
            port: p.port,
            protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
        })
        .collect();
    let ips: Vec<String> = match (&spec.cluster_ips, &spec.cluster_ip) {
        (Some(ips), _) if !ips.is_empty() => ips.clone(),
        (_, Some(ip)) if !ip.is_empty() => vec![ip.clone()],
        _ => Vec::new(),
    };
    let kind = if spec.type_.as_deref() == Some("ExternalName") {
        ServiceKind::ExternalName(spec.external_name.unwrap_or_default())
    } else if ips.first().map(String::as_str) == Some("None") {
        ServiceKind::Headless
    } else {
        ServiceKind::ClusterIp(ips.iter().filter_map(|ip| ip.parse().ok()).collect())
    };
    ServiceEntry { kind, ports }
}

fn endpoint_group(slice: &EndpointSlice) -> EndpointGroup {
    let mut ports: Vec<Port> = slice
        .ports
        .iter()
        .flatten()
        .map(|p| Port {
            name: p.name.clone().unwrap_or_default(),
            port: p.port.unwrap_or(-1),
            protocol: p.protocol.clone().unwrap_or_default(),
        })
        .collect();
    if ports.is_empty() {
        ports.push(Port {
            name: String::new(),
            port: -1,
            protocol: String::new(),
        });
    }
    let addresses = slice
        .endpoints
        .iter()
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .flat_map(|e| {
            e.addresses.iter().filter_map(|a| {
                Some(EndpointAddress {
                    ip: a.parse().ok()?,
                    hostname: e.hostname.clone().unwrap_or_default(),
                })
            })
        })
        .collect();
    EndpointGroup { ports, addresses }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("object")
    }

    #[test]
    fn build_reads_kinds_ready_endpoints_and_sentinel_ports() {
        let ns: Namespace = obj(json!({"metadata": {"name": "default"}}));
        let web: Service = obj(json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"name": "http", "port": 80}]}}));
        let api: Service = obj(json!({"metadata": {"name": "api", "namespace": "default"},
            "spec": {"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"], "ports": [{"port": 443, "protocol": "TCP"}]}}));
        let ext: Service = obj(json!({"metadata": {"name": "ext", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com"}}));
        let slice: EndpointSlice = obj(json!({"metadata": {"name": "web-abcde", "namespace": "default",
        "labels": {"kubernetes.io/service-name": "web"}}, "addressType": "IPv4",
        "endpoints": [
            {"addresses": ["10.244.0.2"], "hostname": "web-0", "conditions": {"ready": true}},
            {"addresses": ["10.244.0.3"], "hostname": "web-1", "conditions": {"ready": false}},
            {"addresses": ["10.244.0.4"]}
        ]}));
        let unlabelled: EndpointSlice = obj(json!({"metadata": {"name": "x", "namespace": "default"},
            "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.9.9"]}]}));
        let snap = Snapshot::build([&ns], [&web, &api, &ext], [&slice, &unlabelled], 42);
        assert_eq!(snap.serial, 42);
        assert_eq!(snap.ttl, 5);
        assert!(snap.namespaces.contains("default"));
        let key = |n: &str| ("default".to_string(), n.to_string());
        assert_eq!(snap.services[&key("web")].kind, ServiceKind::Headless);
        assert_eq!(
            snap.services[&key("api")].kind,
            ServiceKind::ClusterIp(vec!["10.96.0.5".parse().expect("ip")])
        );
        assert_eq!(
            snap.services[&key("ext")].kind,
            ServiceKind::ExternalName("db.example.com".to_string())
        );
        assert_eq!(snap.services[&key("api")].ports[0].name, "");
        let groups = &snap.endpoints[&key("web")];
        assert_eq!(groups.len(), 1);
        // Not-ready endpoints are left out; an unknown condition counts as ready.
        let ips: Vec<String> = groups[0].addresses.iter().map(|a| a.ip.to_string()).collect();
        assert_eq!(ips, ["10.244.0.2", "10.244.0.4"]);
        assert_eq!(groups[0].addresses[0].hostname, "web-0");
        assert_eq!(
            groups[0].ports,
            [Port {
                name: String::new(),
                port: -1,
                protocol: String::new()
            }]
        );
        assert_eq!(snap.endpoints.len(), 1);
    }
}
