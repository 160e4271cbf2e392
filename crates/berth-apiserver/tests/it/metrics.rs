//! `GET /metrics`: authenticated, and counting resource requests by verb, resource and code
//! with Kubernetes' labels.

use crate::support::{Api, TOKEN};
use axum::body::Body;
use berth_apiserver::auth::{TokenAuthenticator, UserInfo};
use berth_apiserver::{ApiState, ApiStateOptions};
use http::Request;
use serde_json::json;
use std::sync::Arc;
use tower::ServiceExt;

fn series(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn total(verb: &str, resource: &str, scope: &str, code: u16) -> String {
    format!(
        "apiserver_request_total{{code=\"{code}\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"{resource}\",scope=\"{scope}\",subresource=\"\",verb=\"{verb}\",version=\"v1\"}} "
    )
}

#[tokio::test]
async fn metrics_count_requests_by_verb_resource_and_code() {
    let api = Api::new().await;
    let cms = "/api/v1/namespaces/default/configmaps";
    assert_eq!(
        api.post(cms, &json!({"metadata": {"name": "a"}})).await.status,
        201
    );
    assert_eq!(
        api.post(cms, &json!({"metadata": {"name": "a"}})).await.status,
        409
    );
    for _ in 0..3 {
        assert_eq!(api.get(&format!("{cms}/a")).await.status, 200);
    }
    assert_eq!(api.get(&format!("{cms}/missing")).await.status, 404);
    assert_eq!(api.get(cms).await.status, 200);
    assert_eq!(api.get("/api/v1/configmaps").await.status, 200);
    let resp = api.get("/metrics").await;
    assert_eq!(resp.status, 200);
    let text = String::from_utf8(resp.raw).unwrap();
    let count = |verb, scope, code| series(&text, &total(verb, "configmaps", scope, code));
    assert_eq!(count("POST", "resource", 201), Some(1.0), "{text}");
    assert_eq!(count("POST", "resource", 409), Some(1.0));
    assert_eq!(count("GET", "resource", 200), Some(3.0));
    assert_eq!(count("GET", "resource", 404), Some(1.0));
    assert_eq!(count("LIST", "namespace", 200), Some(1.0));
    assert_eq!(count("LIST", "cluster", 200), Some(1.0));
    // The namespace created by the fixture.
    assert_eq!(
        series(&text, &total("POST", "namespaces", "resource", 201)),
        Some(1.0)
    );
    let gets = "apiserver_request_duration_seconds_count{component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"configmaps\",scope=\"resource\",subresource=\"\",verb=\"GET\",version=\"v1\"} ";
    assert_eq!(series(&text, gets), Some(4.0));
    assert_eq!(
        series(&text, "apiserver_storage_objects{resource=\"configmaps\"} "),
        Some(1.0)
    );
    assert!(
        series(
            &text,
            "apiserver_current_inflight_requests{request_kind=\"readOnly\"} "
        )
        .unwrap()
            >= 1.0,
        "the scrape itself is in flight"
    );
    // Non-resource paths are not request-metric series, as in Kubernetes.
    assert!(!text.contains("resource=\"\",scope=\"\""), "{text}");
}

#[tokio::test]
async fn metrics_need_authentication_and_unauthenticated_requests_are_not_counted() {
    let api = Api::new().await;
    let anonymous = Request::get("/metrics").body(Body::empty()).unwrap();
    let resp = api.send(anonymous).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.body["reason"], "Unauthorized");
    let bad = Request::get("/api/v1/namespaces/default/configmaps")
        .header("authorization", "Bearer wrong")
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.send(bad).await.status, 401);
    let text = String::from_utf8(api.get("/metrics").await.raw).unwrap();
    assert!(!text.contains("code=\"401\""), "{text}");
}

#[tokio::test]
async fn metrics_sources_are_appended_to_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = berth_store::SqliteStore::open(&dir.path().join("s.db"), Default::default()).unwrap();
    let admin = UserInfo {
        username: "admin".into(),
        uid: "1".into(),
        groups: vec!["system:masters".into()],
    };
    let state = ApiState::new(
        Arc::new(store),
        Arc::new(TokenAuthenticator::new([(TOKEN.to_string(), admin)])),
        ApiStateOptions::default(),
    )
    .with_metrics_source(Arc::new(|| {
        "kubelet_volume_stats_inodes{namespace=\"a\",persistentvolumeclaim=\"b\"} 7\n".to_string()
    }));
    let router = berth_apiserver::router(Arc::new(state));
    let req = Request::get("/metrics")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let resp = router.oneshot(req).await.unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        text.starts_with("# HELP apiserver_current_inflight_requests"),
        "{text}"
    );
    assert!(text.ends_with("kubelet_volume_stats_inodes{namespace=\"a\",persistentvolumeclaim=\"b\"} 7\n"));
}
