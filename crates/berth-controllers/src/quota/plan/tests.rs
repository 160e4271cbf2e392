use super::*;

fn now() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().expect("time")
}

fn quota(hard: Value, used: Option<Value>) -> Value {
    let mut q = json!({"metadata": {"name": "q", "namespace": "ns"}, "spec": {"hard": hard}});
    if let Some(u) = used {
        q["status"] = json!({"hard": hard, "used": u});
    }
    q
}

fn claim(class: &str, storage: &str) -> Value {
    json!({"spec": {"storageClassName": class, "resources": {"requests": {"storage": storage}}}})
}

fn pod(phase: &str, cpu: &str) -> Value {
    json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": cpu}}}]},
        "status": {"phase": phase}})
}

#[test]
fn storage_usage_sums_claims_overall_and_per_class() {
    let q = quota(
        json!({"requests.storage": "1Gi", "persistentvolumeclaims": "5",
            "gold.storageclass.storage.k8s.io/requests.storage": "500Mi"}),
        None,
    );
    let claims = [
        claim("gold", "100Mi"),
        claim("silver", "100Mi"),
        claim("gold", "50Mi"),
    ];
    let cols = [Collection {
        group: "",
        resource: "persistentvolumeclaims",
        objects: claims.iter().collect(),
    }];
    assert_eq!(
        desired_status(&q, &cols, now()),
        json!({
            "hard": {"requests.storage": "1Gi", "persistentvolumeclaims": "5",
                "gold.storageclass.storage.k8s.io/requests.storage": "500Mi"},
            "used": {"requests.storage": "250Mi", "persistentvolumeclaims": "3",
                "gold.storageclass.storage.k8s.io/requests.storage": "150Mi"},
        })
    );
}

#[test]
fn no_objects_means_zero_usage() {
    let q = quota(json!({"pods": "2", "requests.storage": "1Gi"}), None);
    let cols = [
        Collection {
            group: "",
            resource: "pods",
            objects: vec![],
        },
        Collection {
            group: "",
            resource: "persistentvolumeclaims",
            objects: vec![],
        },
    ];
    assert_eq!(
        desired_status(&q, &cols, now())["used"],
        json!({"pods": "0", "requests.storage": "0"})
    );
}

#[test]
fn terminal_pods_do_not_count_but_stay_objects() {
    let q = quota(
        json!({"pods": "10", "count/pods": "10", "requests.cpu": "4"}),
        None,
    );
    let pods = [
        pod("Running", "500m"),
        pod("Succeeded", "1"),
        pod("Failed", "1"),
        pod("Pending", "250m"),
    ];
    let cols = [Collection {
        group: "",
        resource: "pods",
        objects: pods.iter().collect(),
    }];
    assert_eq!(
        desired_status(&q, &cols, now())["used"],
        json!({"pods": "2", "count/pods": "4", "requests.cpu": "750m"})
    );
}

#[test]
fn object_counts_and_unmeasured_resources() {
    let q = quota(
        json!({"count/statefulsets.apps": "2", "configmaps": "5", "count/widgets.example.com": "1"}),
        Some(json!({"count/widgets.example.com": "1", "configmaps": "4"})),
    );
    let sts = [json!({}), json!({})];
    let cms = [json!({})];
    let cols = [
        Collection {
            group: "apps",
            resource: "statefulsets",
            objects: sts.iter().collect(),
        },
        Collection {
            group: "",
            resource: "configmaps",
            objects: cms.iter().collect(),
        },
    ];
    assert_eq!(
        desired_status(&q, &cols, now())["used"],
        json!({"count/statefulsets.apps": "2", "configmaps": "1", "count/widgets.example.com": "1"}),
        "what no collection measures keeps its last usage"
    );
}

#[test]
fn resources_dropped_from_hard_drop_from_used() {
    let mut q = quota(json!({"pods": "1"}), Some(json!({"pods": "0", "services": "3"})));
    q["status"]["hard"] = json!({"pods": "1", "services": "5"});
    let cols = [Collection {
        group: "",
        resource: "pods",
        objects: vec![],
    }];
    let desired = desired_status(&q, &cols, now());
    assert_eq!(desired, json!({"hard": {"pods": "1"}, "used": {"pods": "0"}}));
    assert!(needs_update(&q, &desired));
}

#[test]
fn scoped_quotas_count_matching_pods_only() {
    let mut q = quota(json!({"pods": "5"}), None);
    q["spec"]["scopes"] = json!(["BestEffort"]);
    let best_effort = json!({"spec": {"containers": [{"name": "a"}]}});
    let pods = [best_effort, pod("Running", "1")];
    let cols = [Collection {
        group: "",
        resource: "pods",
        objects: pods.iter().collect(),
    }];
    assert_eq!(desired_status(&q, &cols, now())["used"], json!({"pods": "1"}));
}

#[test]
fn update_only_when_status_changes_numerically() {
    let q = quota(
        json!({"requests.storage": "1Gi"}),
        Some(json!({"requests.storage": "1024Mi"})),
    );
    let same = json!({"hard": {"requests.storage": "1Gi"}, "used": {"requests.storage": "1Gi"}});
    assert!(!needs_update(&q, &same));
    let more = json!({"hard": {"requests.storage": "1Gi"}, "used": {"requests.storage": "2Gi"}});
    assert!(needs_update(&q, &more));
    let fresh = quota(json!({"pods": "1"}), None);
    assert!(needs_update(
        &fresh,
        &json!({"hard": {"pods": "1"}, "used": {"pods": "0"}})
    ));
}
