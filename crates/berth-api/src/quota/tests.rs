use super::*;

fn now() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().expect("time")
}

fn q(s: &str) -> Quantity {
    Quantity::parse(s).expect(s)
}

fn names(list: &ResourceList) -> Vec<&str> {
    list.keys().map(String::as_str).collect()
}

fn pod(containers: Value) -> Value {
    json!({"metadata": {"name": "p"}, "spec": {"containers": containers}})
}

#[test]
fn claim_usage_counts_storage_overall_and_per_class() {
    let pvc = json!({"spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "100Mi"}}}});
    let u = usage("", "persistentvolumeclaims", &pvc, now());
    assert_eq!(
        names(&u),
        [
            "count/persistentvolumeclaims",
            "fast.storageclass.storage.k8s.io/persistentvolumeclaims",
            "fast.storageclass.storage.k8s.io/requests.storage",
            "persistentvolumeclaims",
            "requests.storage",
        ]
    );
    assert_eq!(u["requests.storage"].to_string(), "100Mi");
    assert_eq!(u["fast.storageclass.storage.k8s.io/requests.storage"], q("100Mi"));
    assert_eq!(u["persistentvolumeclaims"], q("1"));
}

#[test]
fn claim_without_class_is_charged_only_overall() {
    let pvc = json!({"spec": {"storageClassName": "", "resources": {"requests": {"storage": "1Gi"}}}});
    let u = usage("", "persistentvolumeclaims", &pvc, now());
    assert_eq!(
        names(&u),
        [
            "count/persistentvolumeclaims",
            "persistentvolumeclaims",
            "requests.storage"
        ]
    );
}

#[test]
fn claim_charges_the_larger_of_request_and_allocation() {
    let pvc = json!({"spec": {"resources": {"requests": {"storage": "1Gi"}}},
        "status": {"allocatedResources": {"storage": "2Gi"}}});
    assert_eq!(
        usage("", "persistentvolumeclaims", &pvc, now())["requests.storage"],
        q("2Gi")
    );
    let beta = json!({"metadata": {"annotations": {"volume.beta.kubernetes.io/storage-class": "old"}},
        "spec": {"storageClassName": "new"}});
    assert_eq!(claim_class(&beta).as_deref(), Some("old"));
}

#[test]
fn pod_usage_sums_containers_and_takes_the_largest_init_container() {
    let mut p = pod(json!([
        {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1"}}},
        {"name": "b", "resources": {"requests": {"cpu": "200m", "memory": "64Mi"}}},
    ]));
    p["spec"]["initContainers"] = json!([{"name": "i", "resources": {"requests": {"cpu": "500m"}}}]);
    let u = usage("", "pods", &p, now());
    assert_eq!(u["pods"], q("1"));
    assert_eq!(u["count/pods"], q("1"));
    assert_eq!(u["requests.cpu"].to_string(), "500m");
    assert_eq!(u["cpu"], q("500m"));
    assert_eq!(u["requests.memory"].to_string(), "128Mi");
    assert_eq!(u["limits.cpu"].to_string(), "1");
    assert!(!u.contains_key("limits.memory"));
}

#[test]
fn pod_overhead_is_added() {
    let mut p = pod(json!([{"name": "a", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}}]));
    p["spec"]["overhead"] = json!({"cpu": "250m", "memory": "10Mi"});
    let u = usage("", "pods", &p, now());
    assert_eq!(u["requests.cpu"], q("1250m"));
    assert_eq!(u["requests.memory"], q("10Mi"));
    assert_eq!(u["limits.cpu"], q("1250m"));
    assert!(!u.contains_key("limits.memory"));
}

#[test]
fn terminal_and_expired_pods_count_only_as_objects() {
    for phase in ["Succeeded", "Failed"] {
        let mut p = pod(json!([{"name": "a", "resources": {"requests": {"cpu": "1"}}}]));
        p["status"] = json!({"phase": phase});
        assert_eq!(names(&usage("", "pods", &p, now())), ["count/pods"], "{phase}");
    }
    let mut deleting = pod(json!([]));
    deleting["metadata"]["deletionTimestamp"] = json!("2025-12-31T23:59:00Z");
    deleting["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    assert!(!pod_charged(&deleting, now()), "grace period ran out");
    deleting["metadata"]["deletionGracePeriodSeconds"] = json!(120);
    assert!(pod_charged(&deleting, now()), "still within its grace period");
    let mut running = pod(json!([]));
    running["status"] = json!({"phase": "Running"});
    assert!(pod_charged(&running, now()));
}

#[test]
fn service_usage_counts_node_ports_and_load_balancers() {
    let ports = json!([{"port": 80}, {"port": 443}]);
    let lb = json!({"spec": {"type": "LoadBalancer", "ports": ports}});
    let u = usage("", "services", &lb, now());
    assert_eq!(u["services"], q("1"));
    assert_eq!(u["services.loadbalancers"], q("1"));
    assert_eq!(u["services.nodeports"], q("2"));
    let np = json!({"spec": {"type": "NodePort", "ports": ports}});
    assert_eq!(usage("", "services", &np, now())["services.nodeports"], q("2"));
    let ip = json!({"spec": {"ports": ports}});
    let u = usage("", "services", &ip, now());
    assert_eq!(u["services.nodeports"], q("0"));
    assert_eq!(u["services.loadbalancers"], q("0"));
    let no_alloc =
        json!({"spec": {"type": "LoadBalancer", "ports": ports, "allocateLoadBalancerNodePorts": false}});
    assert_eq!(
        usage("", "services", &no_alloc, now())["services.nodeports"],
        q("0")
    );
}

#[test]
fn object_counts_use_count_names_and_legacy_names() {
    assert_eq!(
        names(&usage("apps", "statefulsets", &json!({}), now())),
        ["count/statefulsets.apps"]
    );
    assert_eq!(
        names(&usage("", "configmaps", &json!({}), now())),
        ["configmaps", "count/configmaps"]
    );
    assert_eq!(
        names(&usage("", "secrets", &json!({}), now())),
        ["count/secrets", "secrets"]
    );
    assert!(matches_resource(
        "apps",
        "statefulsets",
        "count/statefulsets.apps"
    ));
    assert!(!matches_resource(
        "apps",
        "statefulsets",
        "count/deployments.apps"
    ));
    assert!(matches_resource("", "configmaps", "configmaps"));
    assert!(matches_resource("", "configmaps", "count/configmaps"));
    assert!(!matches_resource("", "configmaps", "secrets"));
}

#[test]
fn matching_resources_per_evaluator() {
    for name in [
        "pods",
        "count/pods",
        "requests.cpu",
        "limits.memory",
        "cpu",
        "memory",
    ] {
        assert!(matches_resource("", "pods", name), "{name}");
    }
    assert!(!matches_resource("", "pods", "requests.storage"));
    for name in [
        "persistentvolumeclaims",
        "requests.storage",
        "count/persistentvolumeclaims",
        "gold.storageclass.storage.k8s.io/requests.storage",
        "gold.storageclass.storage.k8s.io/persistentvolumeclaims",
    ] {
        assert!(matches_resource("", "persistentvolumeclaims", name), "{name}");
    }
    assert!(!matches_resource("", "persistentvolumeclaims", "pods"));
    for name in [
        "services",
        "services.nodeports",
        "services.loadbalancers",
        "count/services",
    ] {
        assert!(matches_resource("", "services", name), "{name}");
    }
    assert!(handles("", "persistentvolumeclaims", true));
    assert!(handles("", "services", true));
    assert!(!handles("", "pods", true));
    assert!(!handles("", "configmaps", true));
    assert!(handles("", "configmaps", false));
}

#[test]
fn constraints_name_each_missing_resource_and_its_containers() {
    let p = pod(json!([
        {"name": "app", "resources": {"requests": {"cpu": "1"}}},
        {"name": "side"},
    ]));
    let required: BTreeSet<String> = ["requests.cpu", "limits.memory", "requests.storage", "pods"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        pod_constraints(&p, &required).as_deref(),
        Some("must specify limits.memory for: app,side; requests.cpu for: side")
    );
    let ok =
        pod(json!([{"name": "app", "resources": {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}}}]));
    assert_eq!(pod_constraints(&ok, &required), None);
    let only_pods: BTreeSet<String> = ["pods".to_string()].into();
    assert_eq!(pod_constraints(&p, &only_pods), None);
}

#[test]
fn list_arithmetic_and_printing() {
    let a = ResourceList::from([("requests.storage".into(), q("200Mi")), ("pods".into(), q("2"))]);
    let b = ResourceList::from([("requests.storage".into(), q("100Mi"))]);
    assert_eq!(pretty_print(&add(&a, &b)), "pods=2,requests.storage=300Mi");
    let d = subtract_non_negative(&b, &a);
    assert_eq!(pretty_print(&d), "requests.storage=0");
    let m = mask(&a, [&"pods".to_string(), &"cpu".to_string()]);
    assert_eq!(pretty_print(&m), "pods=2");
    let parsed = parse_list(Some(&json!({"a": "1Gi", "b": "junk"})));
    assert_eq!(pretty_print(&parsed), "a=1Gi");
    assert_eq!(list_to_json(&parsed), json!({"a": "1Gi"}));
}

#[test]
fn scopes_select_pods_only() {
    let scoped = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let best_effort = pod(json!([{"name": "a"}]));
    let mut burstable = pod(json!([{"name": "a", "resources": {"limits": {"memory": "1Gi"}}}]));
    assert!(scopes_match(&[], "", "configmaps", &json!({})));
    assert!(scopes_match(&scoped(&["BestEffort"]), "", "pods", &best_effort));
    assert!(!scopes_match(&scoped(&["BestEffort"]), "", "pods", &burstable));
    assert!(scopes_match(&scoped(&["NotBestEffort"]), "", "pods", &burstable));
    assert!(scopes_match(&scoped(&["NotTerminating"]), "", "pods", &burstable));
    burstable["spec"]["activeDeadlineSeconds"] = json!(30);
    assert!(scopes_match(
        &scoped(&["Terminating", "NotBestEffort"]),
        "",
        "pods",
        &burstable
    ));
    assert!(!scopes_match(
        &scoped(&["NotTerminating"]),
        "",
        "pods",
        &burstable
    ));
    assert!(!scopes_match(
        &scoped(&["BestEffort"]),
        "",
        "persistentvolumeclaims",
        &json!({})
    ));
    assert!(!scopes_match(
        &scoped(&["PriorityClass"]),
        "",
        "pods",
        &best_effort
    ));
    assert_eq!(
        quota_scopes(&json!({"spec": {"scopes": ["BestEffort"]}})),
        ["BestEffort"]
    );
}
