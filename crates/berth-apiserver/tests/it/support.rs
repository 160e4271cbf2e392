//! A router over a fresh store, and a small request helper.

use axum::Router;
use axum::body::Body;
use berth_apiserver::auth::{TokenAuthenticator, UserInfo};
use berth_apiserver::{ApiState, ApiStateOptions};
use berth_store::{SqliteStore, SqliteStoreOptions};
use http::{Method, Request};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// The admin token of test servers.
pub const TOKEN: &str = "test-token";

/// A router over a store in a temporary directory (kept alive by the returned guard).
pub struct Api {
    pub router: Router,
    _dir: tempfile::TempDir,
}

/// A response: status and parsed JSON body (Null when not JSON).
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Api {
    pub async fn new() -> Self {
        Self::with_history(20_000).await
    }

    pub async fn with_history(history: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(
            &dir.path().join("s.db"),
            SqliteStoreOptions {
                history,
                max_batch: 64,
            },
        )
        .unwrap();
        let admin = UserInfo {
            username: "admin".into(),
            uid: "1".into(),
            groups: vec!["system:masters".into()],
        };
        let authn = TokenAuthenticator::new([(TOKEN.to_string(), admin)]);
        let state = Arc::new(ApiState::new(
            Arc::new(store),
            Arc::new(authn),
            ApiStateOptions::default(),
        ));
        let api = Self {
            router: berth_apiserver::router(state),
            _dir: dir,
        };
        let ns = api
            .call(
                "POST",
                "/api/v1/namespaces",
                Some(r#"{"metadata":{"name":"default"}}"#),
                None,
            )
            .await;
        assert_eq!(ns.status, 201);
        api
    }

    /// Sends a request with the admin token; `content_type` defaults to JSON.
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        body: Option<&str>,
        content_type: Option<&str>,
    ) -> Resp {
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(uri)
            .header("authorization", format!("Bearer {TOKEN}"));
        if body.is_some() {
            b = b.header("content-type", content_type.unwrap_or("application/json"));
        }
        let req = b
            .body(
                body.map(|s| Body::from(s.to_string()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        self.send(req).await
    }

    /// Sends any request.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let raw = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
            .await
            .unwrap()
            .to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Resp { status, body, raw }
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.call("GET", uri, None, None).await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> Resp {
        self.call("POST", uri, Some(&body.to_string()), None).await
    }
}
