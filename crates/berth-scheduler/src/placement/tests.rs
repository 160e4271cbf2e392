use super::*;
use crate::testutil::{World, claim, class, node, node_with, pod, zoned};
use crate::volume_topology::compute;
use serde_json::json;

fn run(world: &World, p: &Pod) -> Result<String, Unschedulable> {
    world.cluster(|c| schedule(p, c, &VolumeTopology::default()))
}

fn message(world: &World, p: &Pod) -> String {
    run(world, p).expect_err("unschedulable").message
}

#[test]
fn no_nodes_at_all() {
    assert_eq!(
        message(&World::new(vec![]), &pod("p", json!({}), json!({}))),
        "no nodes available to schedule pods"
    );
}

#[test]
fn spreads_by_least_allocation_and_breaks_ties_by_name() {
    let w = World::new(vec![
        node("b", json!({})),
        node("a", json!({})),
        node("c", json!({})),
    ]);
    assert_eq!(run(&w, &pod("p", json!({}), json!({}))), Ok("a".to_string()));
    let busy = pod(
        "q",
        json!({}),
        json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "2"}}}]}),
    );
    let w = w.with("a", busy);
    assert_eq!(run(&w, &pod("p", json!({}), json!({}))), Ok("b".to_string()));
}

#[test]
fn selector_and_cordon_and_readiness_reasons_are_counted_and_sorted() {
    let w = World::new(vec![
        node("a", json!({"disk": "hdd"})),
        node_with(
            "b",
            json!({"disk": "ssd"}),
            json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
        ),
        node_with(
            "c",
            json!({"disk": "ssd"}),
            json!({"spec": {"unschedulable": true}}),
        ),
    ]);
    let p = pod("p", json!({}), json!({"nodeSelector": {"disk": "nvme"}}));
    assert_eq!(
        message(&w, &p),
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, \
         1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. \
         preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    );
}

#[test]
fn the_brief_example_insufficient_cpu_and_affinity() {
    // Histogram entries sort as strings: "1 Insufficient cpu" before "2 node(s)…".
    let w = World::new(vec![zoned("a", "x"), zoned("b", "y"), zoned("c", "y")]);
    let p = pod(
        "p",
        json!({}),
        json!({"nodeSelector": {"topology.kubernetes.io/zone": "x"},
               "containers": [{"name": "c", "resources": {"requests": {"cpu": "9"}}}]}),
    );
    assert_eq!(
        message(&w, &p),
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. \
         preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, \
         2 Preemption is not helpful for scheduling.."
    );
}

#[test]
fn preemption_reports_the_filter_when_evicting_lower_priority_pods_would_not_help() {
    let low = pod(
        "low",
        json!({}),
        json!({"priority": 0, "containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}),
    );
    let w = World::new(vec![node("a", json!({}))]).with("a", low);
    let p = pod(
        "p",
        json!({}),
        json!({"priority": 10, "containers": [{"name": "c", "resources": {"requests": {"cpu": "9"}}}]}),
    );
    assert_eq!(
        message(&w, &p),
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.."
    );
    // When evicting would make room, Kubernetes preempts instead: no preemption part.
    let p = pod(
        "p",
        json!({}),
        json!({"priority": 10, "containers": [{"name": "c", "resources": {"requests": {"cpu": "7500m"}}}]}),
    );
    assert_eq!(message(&w, &p), "0/1 nodes are available: 1 Insufficient cpu.");
}

#[test]
fn preemption_policy_never() {
    let w = World::new(vec![node("a", json!({}))]);
    let p = pod(
        "p",
        json!({}),
        json!({"preemptionPolicy": "Never", "containers": [{"name": "c", "resources": {"requests": {"cpu": "9"}}}]}),
    );
    assert_eq!(
        message(&w, &p),
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.."
    );
}

#[test]
fn prefilter_failures_replace_the_histogram() {
    let w = World::new(vec![node("a", json!({})), node("b", json!({}))]);
    let p = pod(
        "p",
        json!({}),
        json!({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}),
    );
    let topo = compute(&p, &[], &[], &[]);
    let err = w.cluster(|c| schedule(&p, c, &topo)).expect_err("missing claim");
    assert_eq!(
        err.message,
        "0/2 nodes are available: persistentvolumeclaim \"data\" not found. \
         preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
    );
    let c = claim(json!({"metadata": {"name": "data", "namespace": "default"},
        "spec": {"storageClassName": "fast", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}));
    let sc =
        class(json!({"metadata": {"name": "fast"}, "provisioner": "x", "volumeBindingMode": "Immediate"}));
    let topo = compute(&p, &[&c], &[], &[&sc]);
    let err = w.cluster(|cl| schedule(&p, cl, &topo)).expect_err("unbound");
    assert_eq!(
        err.message,
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. \
         preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
    );
}

#[test]
fn untolerated_taint_message_names_key_and_value() {
    let w = World::new(vec![
        node_with(
            "a",
            json!({}),
            json!({"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}),
        ),
        node_with(
            "b",
            json!({}),
            json!({"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}),
        ),
    ]);
    let p = pod("p", json!({}), json!({}));
    assert_eq!(
        message(&w, &p),
        "0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}. \
         preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
    );
    let tolerant = pod(
        "p",
        json!({}),
        json!({"tolerations": [{"key": "dedicated", "operator": "Exists"}]}),
    );
    assert_eq!(run(&w, &tolerant), Ok("a".to_string()));
}

#[test]
fn required_zone_anti_affinity_puts_one_pod_per_zone_then_refuses() {
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "topology.kubernetes.io/zone"}]}}});
    let mut w = World::new(vec![zoned("n1", "a"), zoned("n2", "b"), zoned("n3", "c")]);
    let mut zones = Vec::new();
    for i in 0..3 {
        let p = pod(&format!("db-{i}"), json!({"app": "db"}), anti.clone());
        let n = run(&w, &p).expect("fits");
        zones.push(n.clone());
        w = w.with(&n, p);
    }
    zones.sort();
    assert_eq!(zones, ["n1", "n2", "n3"]);
    let p = pod("db-3", json!({"app": "db"}), anti);
    assert_eq!(
        message(&w, &p),
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. \
         preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.."
    );
}

#[test]
fn preferred_node_affinity_wins_over_balance() {
    let w = World::new(vec![node("a", json!({})), node("b", json!({"disk": "ssd"}))]);
    let p = pod(
        "p",
        json!({}),
        json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}}),
    );
    assert_eq!(run(&w, &p), Ok("b".to_string()));
}

#[test]
fn prefer_no_schedule_taint_steers_away() {
    let w = World::new(vec![
        node_with(
            "a",
            json!({}),
            json!({"spec": {"taints": [{"key": "k", "effect": "PreferNoSchedule"}]}}),
        ),
        node("b", json!({})),
    ]);
    assert_eq!(run(&w, &pod("p", json!({}), json!({}))), Ok("b".to_string()));
}

#[test]
fn assumed_pods_count_like_bound_ones_and_the_pod_itself_is_ignored() {
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]}}});
    let p = pod("db-0", json!({"app": "db"}), anti);
    // The pod itself, already assumed on "a", does not repel itself.
    let w = World::new(vec![node("a", json!({}))]).with("a", p.clone());
    assert_eq!(run(&w, &p), Ok("a".to_string()));
}

#[test]
fn terminal_pods_free_their_resources() {
    let mut done = pod(
        "done",
        json!({}),
        json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "8"}}}]}),
    );
    done.status = Some(crate::testutil::from(json!({"phase": "Succeeded"})));
    let w = World::new(vec![node("a", json!({}))]).with("a", done);
    let p = pod(
        "p",
        json!({}),
        json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}),
    );
    assert_eq!(run(&w, &p), Ok("a".to_string()));
}

#[test]
fn feasible_nodes_to_find_follow_kube_schedulers_adaptive_percentage() {
    // kube-scheduler's TestNumFeasibleNodesToFind, with percentageOfNodesToScore unset.
    for (nodes, want) in [
        (0, 0),
        (10, 10),
        (99, 99),
        (100, 100),
        (150, 100),
        (300, 144),
        (1000, 420),
        (5000, 500),
        (6000, 300),
        (10000, 500),
    ] {
        assert_eq!(num_feasible_nodes_to_find(nodes), want, "{nodes} nodes");
    }
}

#[test]
fn a_cycle_filters_nodes_from_its_start_until_enough_fit() {
    // 300 nodes: a cycle stops after 144 feasible ones, and the next starts where it stopped.
    let nodes: Vec<k8s_openapi::api::core::v1::Node> =
        (0..300).map(|i| node(&format!("n{i:03}"), json!({}))).collect();
    let w = World::new(nodes);
    let p = pod("p", json!({}), json!({}));
    w.snapshot(&p, |s| {
        let first = schedule_from(&p, s, &VolumeTopology::default(), 0);
        assert_eq!(first.processed, 144);
        assert_eq!(first.result, Ok("n000".to_string()), "ties go to the first name");
        let next = schedule_from(&p, s, &VolumeTopology::default(), 144);
        assert_eq!(next.processed, 144);
        assert_eq!(next.result, Ok("n144".to_string()));
        let wrapped = schedule_from(&p, s, &VolumeTopology::default(), 288);
        assert_eq!(
            wrapped.result,
            Ok("n000".to_string()),
            "wraps around past the last node"
        );
    });
    // Nothing fits: every node is filtered, and the message counts them all.
    let impossible = pod("p", json!({}), json!({"nodeSelector": {"disk": "ssd"}}));
    w.snapshot(&impossible, |s| {
        let none = schedule_from(&impossible, s, &VolumeTopology::default(), 17);
        assert_eq!(none.processed, 300);
        assert_eq!(
            none.result.expect_err("unschedulable").message,
            "0/300 nodes are available: 300 node(s) didn't match Pod's node affinity/selector. \
             preemption: 0/300 nodes are available: 300 Preemption is not helpful for scheduling.."
        );
    });
}

#[test]
fn known_requests_count_as_the_pods_own() {
    use crate::snapshot::{Cluster, Placed, PodRequests};
    let nodes = vec![node("a", json!({}))];
    let busy = pod(
        "q",
        json!({}),
        json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}]}),
    );
    let idle = pod("r", json!({}), json!({"containers": [{"name": "c"}]}));
    let known: Vec<PodRequests> = [&busy, &idle].iter().map(|p| PodRequests::of(p)).collect();
    let labels = std::collections::BTreeMap::new();
    let sums = |with_known: bool| {
        let placed: Vec<Placed<'_>> = [&busy, &idle]
            .iter()
            .zip(&known)
            .map(|(p, r)| Placed {
                node: "a",
                pod: p,
                requests: with_known.then_some(r),
            })
            .collect();
        let cluster = Cluster {
            nodes: &nodes,
            placed: &placed,
            namespace_labels: &labels,
        };
        let s = Snapshot::of(&cluster);
        (
            s.nodes[0].requested.clone(),
            s.nodes[0].requested_non_zero.clone(),
        )
    };
    let (requested, non_zero) = sums(true);
    assert_eq!((requested.clone(), non_zero.clone()), sums(false));
    assert_eq!(requested.milli_cpu, 2000);
    assert_eq!(
        non_zero.milli_cpu, 2100,
        "the idle pod counts the scorer's default"
    );
}
