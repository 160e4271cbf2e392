use super::*;
use berth_api::quantity::Quantity;
use serde_json::json;

fn now() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().expect("time")
}

fn list(pairs: &[(&str, &str)]) -> ResourceList {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity::parse(v).expect(v)))
        .collect()
}

fn quota(name: &str, hard: &[(&str, &str)], used: &[(&str, &str)]) -> QuotaView {
    QuotaView {
        name: name.into(),
        hard: list(hard),
        used: list(used),
        scopes: Vec::new(),
    }
}

fn claim(class: &str, storage: &str) -> Value {
    json!({"metadata": {"name": "data-web-2"},
        "spec": {"storageClassName": class, "resources": {"requests": {"storage": storage}}}})
}

fn create<'a>(group: &'a str, resource: &'a str, object: &'a Value) -> Write<'a> {
    Write {
        group,
        resource,
        object,
        old: None,
        now: now(),
    }
}

fn storage_quota() -> QuotaView {
    quota(
        "storage",
        &[("requests.storage", "250Mi"), ("persistentvolumeclaims", "3")],
        &[("requests.storage", "200Mi"), ("persistentvolumeclaims", "2")],
    )
}

#[test]
fn a_claim_past_the_storage_limit_is_denied_with_kubernetes_message() {
    let pvc = claim("standard", "100Mi");
    assert_eq!(
        check(&[storage_quota()], &create("", "persistentvolumeclaims", &pvc)),
        Err(
            "exceeded quota: storage, requested: requests.storage=100Mi, used: requests.storage=200Mi, \
             limited: requests.storage=250Mi"
                .into()
        )
    );
}

#[test]
fn a_claim_within_limits_is_charged() {
    let pvc = claim("standard", "50Mi");
    let out = check(&[storage_quota()], &create("", "persistentvolumeclaims", &pvc)).expect("admitted");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, 0);
    assert_eq!(
        pretty_print(&out[0].1),
        "persistentvolumeclaims=3,requests.storage=250Mi"
    );
}

#[test]
fn every_exceeded_resource_is_listed() {
    let q = quota(
        "q",
        &[("requests.storage", "1Gi"), ("persistentvolumeclaims", "1")],
        &[("requests.storage", "1Gi"), ("persistentvolumeclaims", "1")],
    );
    let pvc = claim("", "1Mi");
    assert_eq!(
        check(&[q], &create("", "persistentvolumeclaims", &pvc)),
        Err(
            "exceeded quota: q, requested: persistentvolumeclaims=1,requests.storage=1Mi, \
             used: persistentvolumeclaims=1,requests.storage=1Gi, limited: persistentvolumeclaims=1,requests.storage=1Gi"
                .into()
        )
    );
}

#[test]
fn per_class_quotas_cover_only_their_class() {
    let q = quota(
        "gold",
        &[
            ("gold.storageclass.storage.k8s.io/requests.storage", "1Gi"),
            ("gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1"),
        ],
        &[
            ("gold.storageclass.storage.k8s.io/requests.storage", "0"),
            ("gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1"),
        ],
    );
    let silver = claim("silver", "5Gi");
    assert_eq!(
        check(
            std::slice::from_ref(&q),
            &create("", "persistentvolumeclaims", &silver)
        ),
        Ok(vec![])
    );
    let gold = claim("gold", "2Gi");
    assert_eq!(
        check(&[q], &create("", "persistentvolumeclaims", &gold)),
        Err(
            "exceeded quota: gold, requested: gold.storageclass.storage.k8s.io/persistentvolumeclaims=1,\
             gold.storageclass.storage.k8s.io/requests.storage=2Gi, used: \
             gold.storageclass.storage.k8s.io/persistentvolumeclaims=1,gold.storageclass.storage.k8s.io/requests.storage=0, \
             limited: gold.storageclass.storage.k8s.io/persistentvolumeclaims=1,\
             gold.storageclass.storage.k8s.io/requests.storage=1Gi"
                .into()
        )
    );
}

#[test]
fn expanding_a_claim_charges_only_the_growth() {
    let old = claim("standard", "100Mi");
    let new = claim("standard", "150Mi");
    let w = Write {
        old: Some(&old),
        ..create("", "persistentvolumeclaims", &new)
    };
    let q = quota(
        "storage",
        &[("requests.storage", "300Mi")],
        &[("requests.storage", "200Mi")],
    );
    let out = check(std::slice::from_ref(&q), &w).expect("admitted");
    assert_eq!(pretty_print(&out[0].1), "requests.storage=250Mi");
    let big = claim("standard", "250Mi");
    let w = Write {
        old: Some(&old),
        ..create("", "persistentvolumeclaims", &big)
    };
    assert_eq!(
        check(std::slice::from_ref(&q), &w),
        Err(
            "exceeded quota: storage, requested: requests.storage=150Mi, used: requests.storage=200Mi, \
             limited: requests.storage=300Mi"
                .into()
        )
    );
    let same = Write {
        old: Some(&old),
        ..create("", "persistentvolumeclaims", &old)
    };
    assert_eq!(
        check(&[q], &same),
        Ok(vec![]),
        "an update that grows nothing is not charged"
    );
}

#[test]
fn pod_updates_and_object_count_updates_are_not_charged() {
    let q = quota(
        "q",
        &[("pods", "0"), ("count/configmaps", "0")],
        &[("pods", "0"), ("count/configmaps", "0")],
    );
    let pod = json!({"spec": {"containers": [{"name": "a"}]}});
    let w = Write {
        old: Some(&pod),
        ..create("", "pods", &pod)
    };
    assert_eq!(check(std::slice::from_ref(&q), &w), Ok(vec![]));
    let cm = json!({});
    let w = Write {
        old: Some(&cm),
        ..create("", "configmaps", &cm)
    };
    assert_eq!(check(&[q], &w), Ok(vec![]));
}

#[test]
fn quotas_without_usage_yet_deny_with_status_unknown() {
    let q = quota(
        "fresh",
        &[("requests.storage", "1Gi"), ("persistentvolumeclaims", "2")],
        &[],
    );
    let pvc = claim("", "1Mi");
    assert_eq!(
        check(&[q], &create("", "persistentvolumeclaims", &pvc)),
        Err("status unknown for quota: fresh, resources: persistentvolumeclaims,requests.storage".into())
    );
}

#[test]
fn quotas_that_do_not_cover_the_resource_are_ignored() {
    let q = quota("pods-only", &[("pods", "0")], &[]);
    let pvc = claim("", "1Mi");
    assert_eq!(
        check(&[q], &create("", "persistentvolumeclaims", &pvc)),
        Ok(vec![])
    );
}

#[test]
fn object_counts_for_any_resource() {
    let q = quota(
        "counts",
        &[
            ("count/statefulsets.apps", "1"),
            ("configmaps", "2"),
            ("secrets", "1"),
        ],
        &[
            ("count/statefulsets.apps", "1"),
            ("configmaps", "1"),
            ("secrets", "0"),
        ],
    );
    let sts = json!({"metadata": {"name": "web"}});
    assert_eq!(
        check(std::slice::from_ref(&q), &create("apps", "statefulsets", &sts)),
        Err(
            "exceeded quota: counts, requested: count/statefulsets.apps=1, used: count/statefulsets.apps=1, \
             limited: count/statefulsets.apps=1"
                .into()
        )
    );
    let out = check(std::slice::from_ref(&q), &create("", "configmaps", &sts)).expect("admitted");
    assert_eq!(
        pretty_print(&out[0].1),
        "configmaps=2,count/statefulsets.apps=1,secrets=0"
    );
    let out = check(std::slice::from_ref(&q), &create("", "secrets", &sts)).expect("admitted");
    assert_eq!(
        pretty_print(&out[0].1),
        "configmaps=1,count/statefulsets.apps=1,secrets=1"
    );
    assert_eq!(check(&[q], &create("apps", "deployments", &sts)), Ok(vec![]));
}

#[test]
fn pods_need_requests_when_compute_is_limited() {
    let q = quota(
        "compute",
        &[("requests.cpu", "1"), ("limits.memory", "1Gi"), ("pods", "10")],
        &[("requests.cpu", "0"), ("limits.memory", "0"), ("pods", "0")],
    );
    let bare = json!({"spec": {"containers": [{"name": "app"}]}});
    assert_eq!(
        check(std::slice::from_ref(&q), &create("", "pods", &bare)),
        Err("failed quota: compute: must specify limits.memory for: app; requests.cpu for: app".into())
    );
    let big = json!({"spec": {"containers": [{"name": "app",
        "resources": {"requests": {"cpu": "1500m"}, "limits": {"memory": "512Mi"}}}]}});
    assert_eq!(
        check(std::slice::from_ref(&q), &create("", "pods", &big)),
        Err("exceeded quota: compute, requested: requests.cpu=1500m, used: requests.cpu=0, limited: requests.cpu=1".into())
    );
    let fits = json!({"spec": {"containers": [{"name": "app",
        "resources": {"requests": {"cpu": "500m"}, "limits": {"memory": "512Mi"}}}]}});
    let out = check(&[q], &create("", "pods", &fits)).expect("admitted");
    assert_eq!(
        pretty_print(&out[0].1),
        "limits.memory=512Mi,pods=1,requests.cpu=500m"
    );
}

#[test]
fn the_pods_count_is_limited() {
    let q = quota("pods", &[("pods", "2")], &[("pods", "2")]);
    let pod = json!({"spec": {"containers": [{"name": "app"}]}});
    assert_eq!(
        check(&[q], &create("", "pods", &pod)),
        Err("exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2".into())
    );
}

#[test]
fn every_covering_quota_is_charged_and_the_first_excess_denies() {
    let a = quota("a", &[("pods", "5")], &[("pods", "1")]);
    let b = quota(
        "b",
        &[("pods", "5"), ("count/pods", "5")],
        &[("pods", "2"), ("count/pods", "2")],
    );
    let pod = json!({"spec": {"containers": [{"name": "app"}]}});
    let out = check(&[a.clone(), b], &create("", "pods", &pod)).expect("admitted");
    assert_eq!(out.len(), 2);
    assert_eq!(pretty_print(&out[0].1), "pods=2");
    assert_eq!(pretty_print(&out[1].1), "count/pods=3,pods=3");
    let full = quota("full", &[("pods", "2")], &[("pods", "2")]);
    assert!(check(&[a, full], &create("", "pods", &pod)).is_err());
}

#[test]
fn scoped_quotas_select_pods_by_scope() {
    let mut q = quota("be", &[("pods", "0")], &[("pods", "0")]);
    q.scopes = vec!["BestEffort".into()];
    let best_effort = json!({"spec": {"containers": [{"name": "app"}]}});
    let burstable =
        json!({"spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "1"}}}]}});
    assert!(check(std::slice::from_ref(&q), &create("", "pods", &best_effort)).is_err());
    assert_eq!(
        check(std::slice::from_ref(&q), &create("", "pods", &burstable)),
        Ok(vec![])
    );
    let pvc = claim("", "1Mi");
    let mut pvc_quota = quota(
        "p",
        &[("persistentvolumeclaims", "0")],
        &[("persistentvolumeclaims", "0")],
    );
    pvc_quota.scopes = vec!["BestEffort".into()];
    assert_eq!(
        check(&[pvc_quota], &create("", "persistentvolumeclaims", &pvc)),
        Ok(vec![])
    );
}

#[test]
fn quota_views_read_status() {
    let v = QuotaView::from_object(&json!({"metadata": {"name": "q"},
        "spec": {"hard": {"pods": "9"}, "scopes": ["NotTerminating"]},
        "status": {"hard": {"pods": "3"}, "used": {"pods": "1"}}}));
    assert_eq!(v.name, "q");
    assert_eq!(
        pretty_print(&v.hard),
        "pods=3",
        "admission enforces status.hard, as Kubernetes"
    );
    assert_eq!(pretty_print(&v.used), "pods=1");
    assert_eq!(v.scopes, ["NotTerminating"]);
}

/// Many concurrent creates against one quota through the real store: the quota's revision
/// compare-and-swap lets exactly `hard` of them through, and `status.used` ends at `hard`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_cannot_both_slip_under_the_limit() {
    use crate::auth::UserInfo;
    use berth_store::{SqliteStore, SqliteStoreOptions};

    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(
            &dir.path().join("s.db"),
            SqliteStoreOptions {
                history: 1000,
                max_batch: 64,
            },
        )
        .expect("store"),
    );
    let quota_rt = berth_api::registry::lookup("", "v1", "resourcequotas").expect("quotas");
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "few", "namespace": "ns"},
        "spec": {"hard": {"count/configmaps": "3"}},
        "status": {"hard": {"count/configmaps": "3"}, "used": {"count/configmaps": "0"}}});
    store
        .create(
            &crate::keys::object_key(quota_rt, "ns", "few"),
            Bytes::from(serde_json::to_vec(&quota).expect("json")),
        )
        .await
        .expect("quota stored");
    let plugin = Arc::new(ResourceQuotaAdmission::new(store.clone()));
    let cm_rt = berth_api::registry::lookup("", "v1", "configmaps").expect("configmaps");
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let plugin = plugin.clone();
            tokio::spawn(async move {
                let user = UserInfo {
                    username: "admin".into(),
                    uid: "1".into(),
                    groups: vec![],
                };
                let name = format!("cm-{i}");
                let req = AdmissionRequest {
                    operation: Operation::Create,
                    rt: cm_rt,
                    subresource: None,
                    namespace: "ns",
                    name: &name,
                    user: &user,
                    old: None,
                    dry_run: false,
                };
                plugin.commit(&req, &json!({"metadata": {"name": name}})).await
            })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => admitted += 1,
            Err(e) => assert!(
                e.message
                    .contains("exceeded quota: few, requested: count/configmaps=1"),
                "{}",
                e.message
            ),
        }
    }
    assert_eq!(admitted, 3);
    let stored: Value = serde_json::from_slice(
        &store
            .get(&crate::keys::object_key(quota_rt, "ns", "few"))
            .expect("quota")
            .value,
    )
    .expect("json");
    assert_eq!(stored["status"]["used"], json!({"count/configmaps": "3"}));
}

#[tokio::test]
async fn dry_runs_are_checked_but_not_charged() {
    use crate::auth::UserInfo;
    use berth_store::{SqliteStore, SqliteStoreOptions};

    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(
            &dir.path().join("s.db"),
            SqliteStoreOptions {
                history: 1000,
                max_batch: 64,
            },
        )
        .expect("store"),
    );
    let quota_rt = berth_api::registry::lookup("", "v1", "resourcequotas").expect("quotas");
    let key = crate::keys::object_key(quota_rt, "ns", "one");
    let quota = json!({"metadata": {"name": "one", "namespace": "ns"},
        "status": {"hard": {"secrets": "1"}, "used": {"secrets": "0"}}});
    store
        .create(&key, Bytes::from(serde_json::to_vec(&quota).expect("json")))
        .await
        .expect("quota stored");
    let plugin = ResourceQuotaAdmission::new(store.clone());
    let rt = berth_api::registry::lookup("", "v1", "secrets").expect("secrets");
    let user = UserInfo {
        username: "admin".into(),
        uid: "1".into(),
        groups: vec![],
    };
    let req = |dry_run| AdmissionRequest {
        operation: Operation::Create,
        rt,
        subresource: None,
        namespace: "ns",
        name: "s",
        user: &user,
        old: None,
        dry_run,
    };
    let secret = json!({"metadata": {"name": "s"}});
    plugin
        .commit(&req(true), &secret)
        .await
        .expect("dry run admitted");
    let used = |s: &Arc<dyn Store>| -> Value {
        serde_json::from_slice::<Value>(&s.get(&key).expect("quota").value).expect("json")["status"]["used"]
            .clone()
    };
    assert_eq!(used(&store), json!({"secrets": "0"}));
    plugin.commit(&req(false), &secret).await.expect("admitted");
    assert_eq!(used(&store), json!({"secrets": "1"}));
    let err = plugin
        .commit(&req(true), &secret)
        .await
        .expect_err("dry run over the limit");
    assert_eq!(err.code, 403);
}
