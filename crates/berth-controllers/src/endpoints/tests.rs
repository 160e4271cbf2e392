//! Unit tests of both planners: selection, readiness, hostnames, ports, headless labels,
//! publishNotReadyAddresses, terminating pods, slices' conditions, zones, reuse and
//! placeholders, and "no write when nothing changed".

use super::*;
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::{Value, json};

/// No pods (a typed empty slice for the generic planners).
const NO_PODS: &[Pod] = &[];

fn svc(spec: Value) -> Service {
    let mut base = json!({"selector": {"app": "web"}, "clusterIP": "10.96.0.10",
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]});
    if let (Some(b), Some(s)) = (base.as_object_mut(), spec.as_object()) {
        for (k, v) in s {
            b.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(
        json!({"metadata": {"name": "web", "namespace": "default", "uid": "svc-uid",
        "labels": {"team": "a"}}, "spec": base}),
    )
    .expect("service")
}

fn headless() -> Service {
    svc(json!({"clusterIP": "None"}))
}

/// A ready pod `name` with IP `ip`, labels app=web, on node-1.
fn pod(name: &str, ip: &str) -> Pod {
    pod_with(name, ip, json!({}))
}

fn pod_with(name: &str, ip: &str, patch: Value) -> Pod {
    let mut p = json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "x",
            "ports": [{"name": "web", "containerPort": 8080}, {"name": "udp", "containerPort": 53, "protocol": "UDP"}]}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True"}]}
    });
    merge(&mut p, &patch);
    serde_json::from_value(p).expect("pod")
}

fn merge(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b.clone(),
    }
}

fn not_ready() -> Value {
    json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}})
}

fn terminating() -> Value {
    json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}})
}

fn sts_pod(ordinal: usize, ip: &str) -> Pod {
    pod_with(
        &format!("web-{ordinal}"),
        ip,
        json!({"spec": {"hostname": format!("web-{ordinal}"), "subdomain": "web"}}),
    )
}

fn created(action: EndpointsAction) -> Endpoints {
    match action {
        EndpointsAction::Create(e) => e,
        other => panic!("expected create, got {other:?}"),
    }
}

fn ips(addresses: &Option<Vec<k8s_openapi::api::core::v1::EndpointAddress>>) -> Vec<String> {
    addresses.iter().flatten().map(|a| a.ip.clone()).collect()
}

// ---------------------------------------------------------------------------------------
// Endpoints

#[test]
fn ready_pods_become_addresses_with_node_and_target_ref() {
    let ep = created(plan_endpoints(
        Some(&svc(json!({}))),
        &[pod("a", "10.244.0.2"), pod("b", "10.244.0.3")],
        None,
    ));
    assert_eq!(ep.metadata.name.as_deref(), Some("web"));
    assert_eq!(ep.metadata.namespace.as_deref(), Some("default"));
    let subsets = ep.subsets.expect("subsets");
    assert_eq!(subsets.len(), 1);
    assert_eq!(ips(&subsets[0].addresses), ["10.244.0.2", "10.244.0.3"]);
    assert_eq!(subsets[0].not_ready_addresses, None);
    let a = &subsets[0].addresses.as_ref().expect("addresses")[0];
    assert_eq!(a.node_name.as_deref(), Some("node-1"));
    let r = a.target_ref.as_ref().expect("targetRef");
    assert_eq!(
        (
            r.kind.as_deref(),
            r.name.as_deref(),
            r.namespace.as_deref(),
            r.uid.as_deref()
        ),
        (Some("Pod"), Some("a"), Some("default"), Some("uid-a"))
    );
    let ports = subsets[0].ports.as_ref().expect("ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(
        (
            ports[0].name.as_deref(),
            ports[0].port,
            ports[0].protocol.as_deref()
        ),
        (Some("http"), 8080, Some("TCP"))
    );
    assert_eq!(
        ep.metadata.labels,
        Some([("team".to_string(), "a".to_string())].into())
    );
}

#[test]
fn unselected_other_namespace_ipless_and_terminal_pods_are_skipped() {
    let other_ns = pod_with("x", "10.244.0.9", json!({"metadata": {"namespace": "other"}}));
    let other_app = pod_with("y", "10.244.0.8", json!({"metadata": {"labels": {"app": "db"}}}));
    let no_ip = pod_with("z", "", json!({"status": {"podIPs": []}}));
    let done = pod_with("d", "10.244.0.7", json!({"status": {"phase": "Succeeded"}}));
    let failed = pod_with("f", "10.244.0.6", json!({"status": {"phase": "Failed"}}));
    let ep = created(plan_endpoints(
        Some(&svc(json!({}))),
        &[other_ns, other_app, no_ip, done, failed, pod("a", "10.244.0.2")],
        None,
    ));
    assert_eq!(ips(&ep.subsets.expect("subsets")[0].addresses), ["10.244.0.2"]);
}

#[test]
fn not_ready_pods_go_to_not_ready_addresses() {
    let ep = created(plan_endpoints(
        Some(&svc(json!({}))),
        &[pod("a", "10.244.0.2"), pod_with("b", "10.244.0.3", not_ready())],
        None,
    ));
    let subsets = ep.subsets.expect("subsets");
    assert_eq!(subsets.len(), 1);
    assert_eq!(ips(&subsets[0].addresses), ["10.244.0.2"]);
    assert_eq!(ips(&subsets[0].not_ready_addresses), ["10.244.0.3"]);
}

#[test]
fn publish_not_ready_addresses_makes_every_pod_ready_and_keeps_terminating_ones() {
    let s = svc(json!({"publishNotReadyAddresses": true}));
    let pods = [
        pod("a", "10.244.0.2"),
        pod_with("b", "10.244.0.3", not_ready()),
        pod_with("c", "10.244.0.4", terminating()),
    ];
    let subsets = created(plan_endpoints(Some(&s), &pods, None))
        .subsets
        .expect("subsets");
    assert_eq!(
        ips(&subsets[0].addresses),
        ["10.244.0.2", "10.244.0.3", "10.244.0.4"]
    );
    assert_eq!(subsets[0].not_ready_addresses, None);
}

#[test]
fn terminating_pods_are_excluded_from_endpoints() {
    let pods = [pod("a", "10.244.0.2"), pod_with("c", "10.244.0.4", terminating())];
    let subsets = created(plan_endpoints(Some(&svc(json!({}))), &pods, None))
        .subsets
        .expect("subsets");
    assert_eq!(ips(&subsets[0].addresses), ["10.244.0.2"]);
    assert_eq!(subsets[0].not_ready_addresses, None);
}

#[test]
fn statefulset_pods_get_hostnames_only_under_their_subdomain() {
    let s = headless();
    let wrong_subdomain = pod_with(
        "x",
        "10.244.0.9",
        json!({"spec": {"hostname": "x", "subdomain": "other"}}),
    );
    let pods = [
        sts_pod(0, "10.244.0.2"),
        sts_pod(1, "10.244.0.3"),
        wrong_subdomain,
    ];
    let ep = created(plan_endpoints(Some(&s), &pods, None));
    let addresses = ep.subsets.expect("subsets")[0]
        .addresses
        .clone()
        .expect("addresses");
    let hostnames: Vec<Option<&str>> = addresses.iter().map(|a| a.hostname.as_deref()).collect();
    assert_eq!(hostnames, [Some("web-0"), Some("web-1"), None]);
}

#[test]
fn headless_services_carry_the_headless_label_and_may_have_no_ports() {
    let s = svc(json!({"clusterIP": "None", "ports": []}));
    let ep = created(plan_endpoints(Some(&s), &[pod("a", "10.244.0.2")], None));
    let labels = ep.metadata.labels.expect("labels");
    assert_eq!(
        labels.get("service.kubernetes.io/headless").map(String::as_str),
        Some("")
    );
    let subsets = ep.subsets.expect("subsets");
    assert_eq!(ips(&subsets[0].addresses), ["10.244.0.2"]);
    assert_eq!(subsets[0].ports, None);
    // A cluster-IP service without ports publishes nothing.
    let s = svc(json!({"ports": []}));
    assert_eq!(
        created(plan_endpoints(Some(&s), &[pod("a", "10.244.0.2")], None)).subsets,
        None
    );
}

#[test]
fn named_target_ports_resolve_per_pod_and_unresolvable_ones_are_skipped() {
    let s = svc(json!({"ports": [
        {"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"},
        {"name": "dns", "port": 53, "targetPort": "udp", "protocol": "UDP"},
        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}]}));
    let other_port = pod_with(
        "b",
        "10.244.0.3",
        json!({"spec": {"containers": [{"name": "c", "image": "x",
        "ports": [{"name": "web", "containerPort": 9000}]}]}}),
    );
    let subsets = created(plan_endpoints(
        Some(&s),
        &[pod("a", "10.244.0.2"), other_port],
        None,
    ))
    .subsets
    .expect("subsets");
    type Subset = (Vec<String>, Vec<(String, i32, String)>);
    let mut got: Vec<Subset> = subsets
        .iter()
        .map(|ss| {
            (
                ips(&ss.addresses),
                ss.ports
                    .iter()
                    .flatten()
                    .map(|p| {
                        (
                            p.name.clone().unwrap_or_default(),
                            p.port,
                            p.protocol.clone().unwrap_or_default(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                vec!["10.244.0.2".to_string()],
                vec![
                    ("dns".to_string(), 53, "UDP".to_string()),
                    ("http".to_string(), 8080, "TCP".to_string())
                ]
            ),
            (
                vec!["10.244.0.3".to_string()],
                vec![("http".to_string(), 9000, "TCP".to_string())]
            ),
        ]
    );
}

#[test]
fn services_without_selector_and_external_names_are_left_alone() {
    let mut no_selector = svc(json!({}));
    if let Some(spec) = no_selector.spec.as_mut() {
        spec.selector = None;
    }
    assert_eq!(
        plan_endpoints(Some(&no_selector), &[pod("a", "10.244.0.2")], None),
        EndpointsAction::Keep
    );
    let external = svc(json!({"type": "ExternalName", "externalName": "db.example.com"}));
    assert_eq!(
        plan_endpoints(Some(&external), &[pod("a", "10.244.0.2")], None),
        EndpointsAction::Keep
    );
}

#[test]
fn nothing_is_written_when_nothing_changed() {
    let s = svc(json!({}));
    let pods = [pod("b", "10.244.0.3"), pod_with("a", "10.244.0.2", not_ready())];
    let mut stored = created(plan_endpoints(Some(&s), &pods, None));
    stored.metadata.resource_version = Some("42".to_string());
    stored.metadata.uid = Some("ep-uid".to_string());
    // Round-tripped through JSON as the API returns it.
    let stored: Endpoints = serde_json::from_value(serde_json::to_value(&stored).expect("json")).expect("ep");
    assert_eq!(
        plan_endpoints(Some(&s), &pods, Some(&stored)),
        EndpointsAction::Keep
    );
    // Pod order does not matter.
    let reversed = [pods[1].clone(), pods[0].clone()];
    assert_eq!(
        plan_endpoints(Some(&s), &reversed, Some(&stored)),
        EndpointsAction::Keep
    );
}

#[test]
fn a_change_updates_the_stored_object_in_place() {
    let s = svc(json!({}));
    let mut stored = created(plan_endpoints(Some(&s), &[pod("a", "10.244.0.2")], None));
    stored.metadata.resource_version = Some("42".to_string());
    let pods = [pod_with("a", "10.244.0.2", not_ready())];
    match plan_endpoints(Some(&s), &pods, Some(&stored)) {
        EndpointsAction::Update(ep) => {
            assert_eq!(ep.metadata.resource_version.as_deref(), Some("42"));
            let subsets = ep.subsets.expect("subsets");
            assert_eq!(subsets[0].addresses, None);
            assert_eq!(ips(&subsets[0].not_ready_addresses), ["10.244.0.2"]);
        }
        other => panic!("expected update, got {other:?}"),
    }
    // A label change on the service is an update too.
    let mut relabelled = s.clone();
    relabelled.metadata.labels = Some([("team".to_string(), "b".to_string())].into());
    assert!(matches!(
        plan_endpoints(Some(&relabelled), &[pod("a", "10.244.0.2")], Some(&stored)),
        EndpointsAction::Update(_)
    ));
}

#[test]
fn endpoints_of_deleted_services_are_deleted_except_leader_locks() {
    let stored: Endpoints =
        serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "default"}})).expect("ep");
    assert_eq!(
        plan_endpoints(None, NO_PODS, Some(&stored)),
        EndpointsAction::Delete
    );
    assert_eq!(plan_endpoints(None, NO_PODS, None), EndpointsAction::Keep);
    let lock: Endpoints = serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "default",
        "annotations": {"control-plane.alpha.kubernetes.io/leader": "{}"}}}))
    .expect("ep");
    assert_eq!(plan_endpoints(None, NO_PODS, Some(&lock)), EndpointsAction::Keep);
}

#[test]
fn a_pod_ready_for_one_port_and_listed_twice_is_one_address() {
    let s = svc(json!({"ports": [
        {"name": "a", "port": 80, "targetPort": 8080, "protocol": "TCP"},
        {"name": "b", "port": 81, "targetPort": 8081, "protocol": "TCP"}]}));
    let subsets = created(plan_endpoints(Some(&s), &[pod("a", "10.244.0.2")], None))
        .subsets
        .expect("subsets");
    assert_eq!(subsets.len(), 1);
    assert_eq!(ips(&subsets[0].addresses), ["10.244.0.2"]);
    assert_eq!(subsets[0].ports.as_ref().map(Vec::len), Some(2));
}

// ---------------------------------------------------------------------------------------
// EndpointSlices

fn node(name: &str, zone: Option<&str>) -> Node {
    let labels = zone
        .map(|z| json!({"topology.kubernetes.io/zone": z}))
        .unwrap_or(json!({}));
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).expect("node")
}

fn only_create(plan: SlicePlan) -> EndpointSlice {
    assert!(plan.update.is_empty() && plan.delete.is_empty(), "{plan:?}");
    assert_eq!(plan.create.len(), 1, "{plan:?}");
    plan.create.into_iter().next().expect("one")
}

/// The slice as the API would store it: named, versioned, JSON round-tripped.
fn stored(mut slice: EndpointSlice, name: &str) -> EndpointSlice {
    slice.metadata.name = Some(name.to_string());
    slice.metadata.generate_name = None;
    slice.metadata.resource_version = Some("7".to_string());
    serde_json::from_value(serde_json::to_value(&slice).expect("json")).expect("slice")
}

#[test]
fn a_slice_has_the_labels_owner_and_name_prefix_kubernetes_gives_it() {
    let slice = only_create(plan_slices(&headless(), &[sts_pod(0, "10.244.0.2")], &[], &[]));
    assert_eq!(slice.metadata.generate_name.as_deref(), Some("web-"));
    assert_eq!(slice.address_type, "IPv4");
    let labels = slice.metadata.labels.clone().expect("labels");
    assert_eq!(
        labels.get("kubernetes.io/service-name").map(String::as_str),
        Some("web")
    );
    assert_eq!(
        labels
            .get("endpointslice.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("endpointslice-controller.k8s.io")
    );
    assert_eq!(
        labels.get("service.kubernetes.io/headless").map(String::as_str),
        Some("")
    );
    assert_eq!(labels.get("team").map(String::as_str), Some("a"));
    let owner = &slice.metadata.owner_references.clone().expect("owners")[0];
    assert_eq!(
        (
            owner.api_version.as_str(),
            owner.kind.as_str(),
            owner.name.as_str(),
            owner.uid.as_str()
        ),
        ("v1", "Service", "web", "svc-uid")
    );
    assert_eq!(
        (owner.controller, owner.block_owner_deletion),
        (Some(true), Some(true))
    );
    let ports = slice.ports.clone().expect("ports");
    assert_eq!(
        (
            ports[0].name.as_deref(),
            ports[0].port,
            ports[0].protocol.as_deref()
        ),
        (Some("http"), Some(8080), Some("TCP"))
    );
    let ep = &slice.endpoints[0];
    assert_eq!(ep.addresses, ["10.244.0.2"]);
    assert_eq!(ep.hostname.as_deref(), Some("web-0"));
    assert_eq!(ep.node_name.as_deref(), Some("node-1"));
    assert_eq!(
        ep.target_ref.as_ref().and_then(|r| r.name.as_deref()),
        Some("web-0")
    );
    // A cluster-IP service's slices have no headless label.
    let slice = only_create(plan_slices(&svc(json!({})), &[pod("a", "10.244.0.2")], &[], &[]));
    assert!(
        !slice
            .metadata
            .labels
            .expect("labels")
            .contains_key("service.kubernetes.io/headless")
    );
}

#[test]
fn conditions_follow_readiness_termination_and_publish_not_ready() {
    let pods = [
        pod("a", "10.244.0.2"),
        pod_with("b", "10.244.0.3", not_ready()),
        pod_with("c", "10.244.0.4", terminating()),
    ];
    let conds = |s: &Service| -> Vec<(bool, bool, bool)> {
        only_create(plan_slices(s, &pods, &[], &[]))
            .endpoints
            .iter()
            .map(|e| {
                let c = e.conditions.clone().expect("conditions");
                (
                    c.ready.expect("ready"),
                    c.serving.expect("serving"),
                    c.terminating.expect("terminating"),
                )
            })
            .collect()
    };
    // (ready, serving, terminating); terminating pods stay in slices, never ready.
    assert_eq!(
        conds(&svc(json!({}))),
        [(true, true, false), (false, false, false), (false, true, true)]
    );
    assert_eq!(
        conds(&svc(json!({"publishNotReadyAddresses": true}))),
        [(true, true, false), (true, false, false), (true, true, true)]
    );
}

#[test]
fn zones_come_from_the_node_label() {
    let pods = [
        pod("a", "10.244.0.2"),
        pod_with("b", "10.244.0.3", json!({"spec": {"nodeName": "node-2"}})),
    ];
    let nodes = [node("node-1", Some("zone-a")), node("node-2", None)];
    let slice = only_create(plan_slices(&svc(json!({})), &pods, &nodes, &[]));
    let zones: Vec<Option<&str>> = slice.endpoints.iter().map(|e| e.zone.as_deref()).collect();
    assert_eq!(zones, [Some("zone-a"), None]);
}

#[test]
fn no_endpoints_means_one_empty_placeholder() {
    let slice = only_create(plan_slices(&svc(json!({})), NO_PODS, &[], &[]));
    assert!(slice.endpoints.is_empty());
    assert_eq!(slice.ports, Some(Vec::new()));
    let placeholder = stored(slice, "web-aaaaa");
    assert!(plan_slices(&svc(json!({})), NO_PODS, &[], std::slice::from_ref(&placeholder)).is_empty());
    // The first endpoint's slice takes over the placeholder (a create and a delete become
    // an update, as Kubernetes' `finalize` does).
    let plan = plan_slices(&svc(json!({})), &[pod("a", "10.244.0.2")], &[], &[placeholder]);
    assert!(plan.create.is_empty() && plan.delete.is_empty(), "{plan:?}");
    assert_eq!(plan.update.len(), 1);
    assert_eq!(plan.update[0].metadata.name.as_deref(), Some("web-aaaaa"));
    assert_eq!(plan.update[0].endpoints[0].addresses, ["10.244.0.2"]);
    assert_eq!(plan.update[0].ports.as_ref().map(Vec::len), Some(1));
    // And back to a placeholder when the last pod goes.
    let full = stored(plan.update[0].clone(), "web-aaaaa");
    let plan = plan_slices(&svc(json!({})), NO_PODS, &[], &[full]);
    assert_eq!(plan.update.len(), 1);
    assert!(plan.update[0].endpoints.is_empty());
}

#[test]
fn steady_state_writes_nothing_and_changes_update_in_place() {
    let s = headless();
    let pods = [sts_pod(0, "10.244.0.2"), sts_pod(1, "10.244.0.3")];
    let slice = stored(only_create(plan_slices(&s, &pods, &[], &[])), "web-x1y2z");
    assert!(plan_slices(&s, &pods, &[], std::slice::from_ref(&slice)).is_empty());
    let changed = [
        sts_pod(0, "10.244.0.2"),
        pod_with("web-1", "10.244.0.3", not_ready()),
    ];
    let plan = plan_slices(&s, &changed, &[], &[slice]);
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    assert_eq!(plan.update.len(), 1);
    assert_eq!(plan.update[0].metadata.name.as_deref(), Some("web-x1y2z"));
    assert_eq!(plan.update[0].metadata.resource_version.as_deref(), Some("7"));
    assert_eq!(
        plan.update[0].endpoints[1]
            .conditions
            .as_ref()
            .and_then(|c| c.ready),
        Some(false)
    );
}

#[test]
fn other_services_and_unmanaged_slices_are_ignored() {
    let s = svc(json!({}));
    let mut foreign = stored(only_create(plan_slices(&s, NO_PODS, &[], &[])), "web-mine");
    if let Some(l) = foreign.metadata.labels.as_mut() {
        l.insert(
            "endpointslice.kubernetes.io/managed-by".to_string(),
            "someone-else".to_string(),
        );
    }
    let mut other_svc = stored(only_create(plan_slices(&s, NO_PODS, &[], &[])), "db-abcde");
    if let Some(l) = other_svc.metadata.labels.as_mut() {
        l.insert("kubernetes.io/service-name".to_string(), "db".to_string());
    }
    let plan = plan_slices(&s, NO_PODS, &[], &[foreign, other_svc]);
    assert_eq!(plan.create.len(), 1);
    assert!(plan.delete.is_empty());
}

#[test]
fn endpoints_are_grouped_by_port_set_and_chunked() {
    let s = svc(json!({"ports": [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]}));
    let mut pods: Vec<Pod> = (0..150)
        .map(|i| {
            pod(
                &format!("p{i:03}"),
                &format!("10.244.{}.{}", i / 200, i % 200 + 1),
            )
        })
        .collect();
    pods.push(pod_with(
        "q",
        "10.244.9.9",
        json!({"spec": {"containers": [{"name": "c", "image": "x",
        "ports": [{"name": "web", "containerPort": 9000}]}]}}),
    ));
    let plan = plan_slices(&s, &pods, &[], &[]);
    let mut sizes: Vec<(Option<i32>, usize)> = plan
        .create
        .iter()
        .map(|sl| (sl.ports.as_ref().and_then(|p| p[0].port), sl.endpoints.len()))
        .collect();
    sizes.sort();
    assert_eq!(sizes, [(Some(8080), 50), (Some(8080), 100), (Some(9000), 1)]);
}

#[test]
fn surplus_and_wrong_family_slices_are_deleted() {
    let s = svc(json!({}));
    let one = stored(
        only_create(plan_slices(&s, &[pod("a", "10.244.0.2")], &[], &[])),
        "web-aaaaa",
    );
    let two = stored(one.clone(), "web-bbbbb");
    let mut v6 = stored(one.clone(), "web-ccccc");
    v6.address_type = "IPv6".to_string();
    let plan = plan_slices(&s, &[pod("a", "10.244.0.2")], &[], &[two, v6, one]);
    assert!(plan.create.is_empty() && plan.update.is_empty());
    let mut deleted = plan.delete.clone();
    deleted.sort();
    assert_eq!(deleted, ["web-bbbbb", "web-ccccc"]);
}

#[test]
fn slices_skip_services_without_selector() {
    let external = svc(json!({"type": "ExternalName", "externalName": "db.example.com"}));
    assert!(plan_slices(&external, &[pod("a", "10.244.0.2")], &[], &[]).is_empty());
}
