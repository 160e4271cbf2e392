//! The `axum::Router` serving the whole API, with authentication in front of it.

use crate::auth::{Authentication, Credentials, UserInfo};
use crate::discovery;
use crate::error::status_response;
use crate::handlers::{self, ResourceRequest, render};
use crate::negotiate::{self, Output};
use crate::openapi;
use crate::path::{self, ApiPath};
use crate::query::Query;
use crate::state::ApiState;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use berth_api::status::ApiError;
use futures::FutureExt;
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::json;
use std::sync::Arc;

/// The identity of in-process clients, set by [`in_process`]; never reachable from the wire.
#[derive(Debug, Clone)]
struct InProcessUser(UserInfo);

/// Builds the API router over `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .route("/metrics", get(crate::metrics::serve))
        .route("/openapi/v3", get(openapi_index))
        .route("/openapi/v3/{*path}", get(openapi_document))
        .route("/api", any(api))
        .route("/api/{*rest}", any(api))
        .route("/apis", any(api))
        .route("/apis/{*rest}", any(api))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

/// Wraps a router for in-process clients (controllers, node agents): their requests carry
/// `user` and skip token authentication, and go through everything else unchanged.
pub fn in_process(router: Router, user: UserInfo) -> Router {
    router.layer(axum::middleware::map_request(move |mut req: Request| {
        let user = user.clone();
        async move {
            req.extensions_mut().insert(InProcessUser(user));
            req
        }
    }))
}

const PUBLIC_PATHS: [&str; 4] = ["/version", "/healthz", "/livez", "/readyz"];

async fn authenticate(State(state): State<Arc<ApiState>>, mut req: Request, next: Next) -> Response {
    let user = if let Some(InProcessUser(u)) = req.extensions().get::<InProcessUser>() {
        u.clone()
    } else {
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        match state.authenticator.authenticate(Credentials { bearer }) {
            Authentication::User(u) => u,
            Authentication::Anonymous if PUBLIC_PATHS.contains(&req.uri().path()) => UserInfo::anonymous(),
            Authentication::Anonymous | Authentication::Invalid => {
                return status_response(&ApiError::unauthorized());
            }
        }
    };
    req.extensions_mut().insert(user);
    next.run(req).await
}

async fn ok() -> Response {
    let mut r = (StatusCode::OK, "ok").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn not_found() -> Response {
    status_response(&ApiError::not_found_path())
}

async fn version(State(state): State<Arc<ApiState>>) -> Response {
    let git_version = &state.options.git_version;
    let minor = git_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .unwrap_or("32");
    let body = json!({
        "major": "1",
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": env!("CARGO_PKG_VERSION"),
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
    });
    render(200, &body, Output::Json, &[])
}

async fn openapi_index() -> Response {
    render(200, &openapi::index(), Output::Json, &[])
}

async fn openapi_document(
    axum::extract::Path(path): axum::extract::Path<String>,
    uri: http::Uri,
) -> Response {
    let Some(doc) = openapi::documents().iter().find(|d| d.path == path) else {
        return status_response(&ApiError::not_found_path());
    };
    let mut r = (StatusCode::OK, doc.body.clone()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let hash_matches = uri
        .query()
        .is_some_and(|q| q.contains(&format!("hash={}", doc.hash)));
    if hash_matches {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
    } else {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", doc.hash)) {
        h.insert(header::ETAG, v);
    }
    r
}

async fn api(State(state): State<Arc<ApiState>>, req: Request) -> Response {
    if let Some(target) = crate::pod_streams::parse_path(req.uri().path()) {
        return crate::node_proxy::serve(&state, target, req).await;
    }
    let (parts, body) = req.into_parts();
    let fut = async {
        let user = parts
            .extensions
            .get::<UserInfo>()
            .cloned()
            .unwrap_or_else(UserInfo::anonymous);
        let parsed = match path::parse(parts.uri.path()) {
            Ok(p) => p,
            Err(e) => return status_response(&e),
        };
        if !matches!(parsed, ApiPath::Object(_))
            && parts.method != Method::GET
            && parts.method != Method::HEAD
        {
            return status_response(&ApiError::method_not_supported(
                &berth_api::status::GroupResource::new("", ""),
                parts.method.as_str(),
            ));
        }
        let aggregated = negotiate::aggregated_discovery(&parts.headers);
        match parsed {
            ApiPath::CoreVersions | ApiPath::Groups => {
                let core = parsed == ApiPath::CoreVersions;
                if let Some(v) = aggregated {
                    let mut r = render(200, &discovery::aggregated(core, v), Output::Json, &[]);
                    let ct = format!("application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList");
                    if let Ok(hv) = HeaderValue::from_str(&ct) {
                        r.headers_mut().insert(header::CONTENT_TYPE, hv);
                    }
                    return r;
                }
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("127.0.0.1:6443");
                let body = if core {
                    discovery::core_versions(host)
                } else {
                    discovery::group_list()
                };
                render(200, &body, Output::Json, &[])
            }
            ApiPath::Group(g) => render(200, &discovery::group(&g), Output::Json, &[]),
            ApiPath::Resources { group, version } => render(
                200,
                &discovery::resource_list(&group, &version),
                Output::Json,
                &[],
            ),
            ApiPath::Object(target) => {
                let query = match Query::parse(parts.uri.query()) {
                    Ok(q) => q,
                    Err(e) => return status_response(&e),
                };
                let req = ResourceRequest {
                    state: &state,
                    user: &user,
                    method: &parts.method,
                    headers: &parts.headers,
                    target,
                    query,
                };
                handlers::serve(req, body).await
            }
        }
    };
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(_) => {
            tracing::error!(path = %parts.uri.path(), "request handler panicked");
            status_response(&ApiError::internal("the request handler failed unexpectedly"))
        }
    }
}
