use super::*;

fn range(limits: Value) -> Value {
    json!({"metadata": {"name": "lr", "namespace": "ns"}, "spec": {"limits": limits}})
}

fn claim(storage: Option<&str>) -> Value {
    let mut c = json!({"metadata": {"name": "big"}, "spec": {"resources": {}}});
    if let Some(s) = storage {
        c["spec"]["resources"]["requests"] = json!({"storage": s});
    }
    c
}

fn pvc_range() -> Value {
    range(json!([{"type": "PersistentVolumeClaim", "min": {"storage": "10Mi"}, "max": {"storage": "1Gi"}}]))
}

#[test]
fn claims_above_max_or_below_min_are_denied_with_kubernetes_messages() {
    assert_eq!(
        validate_claim(&pvc_range(), &claim(Some("2Gi"))).as_deref(),
        Some("maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 2Gi")
    );
    assert_eq!(
        validate_claim(&pvc_range(), &claim(Some("1Mi"))).as_deref(),
        Some("minimum storage usage per PersistentVolumeClaim is 10Mi, but request is 1Mi")
    );
    assert_eq!(
        validate_claim(&pvc_range(), &claim(Some("1Gi"))),
        None,
        "max is inclusive"
    );
    assert_eq!(
        validate_claim(&pvc_range(), &claim(Some("10Mi"))),
        None,
        "min is inclusive"
    );
    assert_eq!(
        validate_claim(&pvc_range(), &claim(Some("1024Mi"))),
        None,
        "compared numerically"
    );
    assert_eq!(
        validate_claim(&pvc_range(), &claim(None)).as_deref(),
        Some(
            "[minimum storage usage per PersistentVolumeClaim is 10Mi.  No request is specified, \
             maximum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified]"
        )
    );
    let containers_only = range(json!([{"type": "Container", "max": {"cpu": "1"}}]));
    assert_eq!(validate_claim(&containers_only, &claim(Some("5Ti"))), None);
}

fn pod(resources: Value) -> Value {
    json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "resources": resources}]}})
}

#[test]
fn defaults_fill_missing_requests_and_limits_and_are_annotated() {
    let lr = range(json!([{"type": "Container",
        "default": {"cpu": "500m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]));
    let mut p = pod(json!({"limits": {"cpu": "2"}}));
    apply_defaults(&lr, &mut p);
    assert_eq!(
        p["spec"]["containers"][0]["resources"],
        json!({"limits": {"cpu": "2", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}})
    );
    assert_eq!(
        p["metadata"]["annotations"][LIMIT_RANGER_ANNOTATION],
        "LimitRanger plugin set: cpu, memory request for container app; memory limit for container app"
    );
    let mut init = json!({"metadata": {"name": "p"}, "spec": {"containers": [],
        "initContainers": [{"name": "setup"}]}});
    apply_defaults(&lr, &mut init);
    assert_eq!(
        init["metadata"]["annotations"][LIMIT_RANGER_ANNOTATION],
        "LimitRanger plugin set: cpu, memory request for init container setup; cpu, memory limit for init container setup"
    );
}

#[test]
fn nothing_to_default_leaves_the_pod_alone() {
    let lr = range(json!([{"type": "Container", "default": {"cpu": "1"}}]));
    let mut p = pod(json!({"limits": {"cpu": "2"}}));
    let before = p.clone();
    apply_defaults(&lr, &mut p);
    assert_eq!(p, before);
    let none = range(json!([{"type": "Pod", "max": {"cpu": "1"}}]));
    apply_defaults(&none, &mut p);
    assert_eq!(p, before);
}

#[test]
fn container_min_max_and_ratio() {
    let lr = range(
        json!([{"type": "Container", "min": {"cpu": "100m"}, "max": {"cpu": "1"},
        "maxLimitRequestRatio": {"cpu": "2"}}]),
    );
    assert_eq!(
        validate_pod(
            &lr,
            &pod(json!({"requests": {"cpu": "200m"}, "limits": {"cpu": "2"}}))
        )
        .as_deref(),
        Some(
            "[maximum cpu usage per Container is 1, but limit is 2, \
             cpu max limit to request ratio per Container is 2, but provided ratio is 10.000000]"
        )
    );
    assert_eq!(
        validate_pod(
            &lr,
            &pod(json!({"requests": {"cpu": "50m"}, "limits": {"cpu": "100m"}}))
        )
        .as_deref(),
        Some("minimum cpu usage per Container is 100m, but request is 50m")
    );
    assert_eq!(
        validate_pod(
            &lr,
            &pod(json!({"requests": {"cpu": "500m"}, "limits": {"cpu": "1"}}))
        ),
        None
    );
    assert_eq!(
        validate_pod(&lr, &pod(json!({"requests": {"cpu": "500m"}}))).as_deref(),
        Some(
            "[maximum cpu usage per Container is 1.  No limit is specified, \
             cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0]"
        )
    );
    let min_limit = range(json!([{"type": "Container", "min": {"memory": "64Mi"}}]));
    assert_eq!(
        validate_pod(
            &min_limit,
            &pod(json!({"requests": {"memory": "64Mi"}, "limits": {"memory": "32Mi"}}))
        )
        .as_deref(),
        Some("minimum memory usage per Container is 64Mi, but limit is 32Mi")
    );
    assert_eq!(
        validate_pod(&min_limit, &pod(json!({}))).as_deref(),
        Some("minimum memory usage per Container is 64Mi.  No request is specified")
    );
    let max_req = range(json!([{"type": "Container", "max": {"memory": "1Gi"}}]));
    assert_eq!(
        validate_pod(
            &max_req,
            &pod(json!({"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}))
        )
        .as_deref(),
        Some("maximum memory usage per Container is 1Gi, but request is 2Gi")
    );
    let ratio = range(json!([{"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}]));
    assert_eq!(
        validate_pod(&ratio, &pod(json!({"limits": {"cpu": "1"}}))).as_deref(),
        Some(
            "cpu max limit to request ratio per Container is 2, but no request is specified or request is 0"
        )
    );
}

#[test]
fn pod_items_bound_the_sum_of_containers() {
    let lr = range(json!([{"type": "Pod", "max": {"memory": "1Gi"}}]));
    let p = json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "resources": {"requests": {"memory": "512Mi"}, "limits": {"memory": "768Mi"}}},
        {"name": "b", "resources": {"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}},
    ]}});
    assert_eq!(
        validate_pod(&lr, &p).as_deref(),
        Some("maximum memory usage per Pod is 1Gi, but limit is 1280Mi")
    );
}

#[test]
fn repeated_messages_are_reported_once() {
    assert_eq!(aggregate(vec!["a".into(), "a".into()]).as_deref(), Some("a"));
    assert_eq!(aggregate(vec![]), None);
}
