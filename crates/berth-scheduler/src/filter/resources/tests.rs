use super::*;
use crate::filter::Code;
use crate::testutil::{World, node_with, pod};
use serde_json::json;

fn req(cpu: &str, mem: &str) -> serde_json::Value {
    json!({"requests": {"cpu": cpu, "memory": mem}})
}

#[test]
fn init_containers_count_as_their_maximum_against_the_sum_of_containers() {
    let p = pod(
        "p",
        json!({}),
        json!({
            "initContainers": [{"name": "i1", "resources": req("2", "1G")}, {"name": "i2", "resources": req("2", "3G")}],
            "containers": [{"name": "c1", "resources": req("2", "1G")}, {"name": "c2", "resources": req("1", "1G")}],
        }),
    );
    let r = pod_requests(&p, false);
    assert_eq!((r.milli_cpu, r.memory), (3000, 3_000_000_000));
}

#[test]
fn sidecars_add_to_containers_and_to_later_init_containers() {
    let p = pod(
        "p",
        json!({}),
        json!({
            "initContainers": [
                {"name": "side", "restartPolicy": "Always", "resources": req("1", "1Gi")},
                {"name": "init", "resources": req("3", "1Gi")},
            ],
            "containers": [{"name": "c", "resources": req("1", "1Gi")}],
        }),
    );
    let r = pod_requests(&p, false);
    // Sidecar + containers = 2 cpu; init while the sidecar runs = 4 cpu.
    assert_eq!(r.milli_cpu, 4000);
    assert_eq!(r.memory, 2 * 1024 * 1024 * 1024);
}

#[test]
fn overhead_adds_and_non_zero_defaults_apply_only_for_scoring() {
    let p = pod(
        "p",
        json!({}),
        json!({"overhead": {"cpu": "250m"}, "containers": [{"name": "c"}]}),
    );
    assert_eq!(pod_requests(&p, false).milli_cpu, 250);
    let nz = pod_requests(&p, true);
    assert_eq!((nz.milli_cpu, nz.memory), (350, DEFAULT_MEMORY_REQUEST));
}

fn small_node() -> k8s_openapi::api::core::v1::Node {
    node_with(
        "a",
        json!({}),
        json!({"status": {"allocatable": {"cpu": "2", "memory": "1Gi", "pods": "2", "ephemeral-storage": "1Gi", "example.com/gpu": "1"}}}),
    )
}

fn check(world: &World, p: &k8s_openapi::api::core::v1::Pod) -> Option<Status> {
    world.snapshot(p, |s| filter(&pod_requests(p, false), &s.nodes[0]))
}

#[test]
fn every_insufficient_resource_is_a_reason_in_kubernetes_order() {
    let resident = pod(
        "r",
        json!({}),
        json!({"containers": [{"name": "c", "resources": req("1", "512Mi")}]}),
    );
    let other = pod("o", json!({}), json!({}));
    let w = World::new(vec![small_node()])
        .with("a", resident)
        .with("a", other);
    let p = pod(
        "p",
        json!({}),
        json!({"containers": [{"name": "c", "resources": {"requests": {
        "cpu": "1500m", "memory": "600Mi", "ephemeral-storage": "2Gi", "example.com/gpu": "2"}}}]}),
    );
    assert_eq!(
        check(&w, &p),
        Some(Status {
            code: Code::Unschedulable,
            reasons: vec![
                "Too many pods".into(),
                "Insufficient cpu".into(),
                "Insufficient memory".into(),
                "Insufficient ephemeral-storage".into(),
                "Insufficient example.com/gpu".into(),
            ],
        })
    );
}

#[test]
fn exact_fit_passes_and_one_more_millicore_fails() {
    let w = World::new(vec![small_node()]);
    let fits = pod(
        "p",
        json!({}),
        json!({"containers": [{"name": "c", "resources": req("2", "1Gi")}]}),
    );
    assert_eq!(check(&w, &fits), None);
    let over = pod(
        "p",
        json!({}),
        json!({"containers": [{"name": "c", "resources": req("2001m", "1Gi")}]}),
    );
    assert_eq!(
        check(&w, &over).map(|s| s.reasons),
        Some(vec!["Insufficient cpu".to_string()])
    );
}

#[test]
fn pod_slots_count_even_without_requests() {
    let w = World::new(vec![small_node()])
        .with("a", pod("x", json!({}), json!({})))
        .with("a", pod("y", json!({}), json!({})));
    let p = pod("p", json!({}), json!({}));
    assert_eq!(
        check(&w, &p).map(|s| s.reasons),
        Some(vec!["Too many pods".to_string()])
    );
}

#[test]
fn unknown_extended_resource_is_insufficient() {
    let w = World::new(vec![small_node()]);
    let p = pod(
        "p",
        json!({}),
        json!({"containers": [{"name": "c", "resources": {"requests": {"example.com/fpga": "1"}}}]}),
    );
    assert_eq!(
        check(&w, &p).map(|s| s.reasons),
        Some(vec!["Insufficient example.com/fpga".to_string()])
    );
}
