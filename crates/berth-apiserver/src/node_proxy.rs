//! The I/O side of the pod streaming subresources: authorizes, reads the pod and its Node,
//! applies [`crate::pod_streams`]' checks, then proxies the request to the node's streaming
//! server (plain HTTP/1.1 with the node bearer token from `ApiStateOptions`). Upgrades
//! (WebSocket, SPDY) are forwarded and the two upgraded connections spliced; log bodies are
//! streamed through as they come.

use crate::auth::{Attributes, UserInfo};
use crate::error::status_response;
use crate::keys::object_key;
use crate::pod_streams::{self, StreamKind, StreamTarget};
use crate::state::ApiState;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use berth_api::registry;
use berth_api::status::{ApiError, GroupResource};
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// Request headers that describe the client hop, not the request.
const HOP_HEADERS: [&str; 5] = [
    "host",
    "authorization",
    "content-length",
    "transfer-encoding",
    "keep-alive",
];

/// Serves one `pods/{exec,attach,portforward,log}` request.
pub(crate) async fn serve(state: &ApiState, target: StreamTarget, req: Request) -> Response {
    match serve_inner(state, target, req).await {
        Ok(r) => r,
        Err(e) => status_response(&e),
    }
}

fn load(state: &ApiState, plural: &str, namespace: &str, name: &str) -> Result<Value, ApiError> {
    let rt = registry::lookup("", "v1", plural).ok_or_else(ApiError::not_found_path)?;
    let kv = state
        .store
        .get(&object_key(rt, namespace, name))
        .ok_or_else(|| ApiError::not_found(&rt.group_resource(), name))?;
    crate::lifecycle::decode(rt, &kv)
}

async fn serve_inner(state: &ApiState, target: StreamTarget, mut req: Request) -> Result<Response, ApiError> {
    let kind = target.kind;
    let gr = GroupResource::new("", &format!("pods/{}", kind.subresource()));
    let allowed = match kind {
        StreamKind::Log => req.method() == Method::GET,
        _ => req.method() == Method::GET || req.method() == Method::POST,
    };
    if !allowed {
        return Err(ApiError::method_not_supported(&gr, req.method().as_str()));
    }
    let user = req
        .extensions()
        .get::<UserInfo>()
        .cloned()
        .unwrap_or_else(UserInfo::anonymous);
    let verb = if kind == StreamKind::Log { "get" } else { "create" };
    let attrs = Attributes {
        verb: verb.to_string(),
        group: String::new(),
        resource: "pods".to_string(),
        subresource: kind.subresource().to_string(),
        namespace: target.namespace.clone(),
        name: target.pod.clone(),
    };
    if let Err(reason) = state.authorizer.authorize(&user, &attrs) {
        let mut why = format!(
            "User {:?} cannot {verb} resource \"pods/{}\" in API group \"\" in the namespace {:?}",
            user.username,
            kind.subresource(),
            target.namespace
        );
        if !reason.is_empty() {
            why.push_str(&format!(": {reason}"));
        }
        return Err(ApiError::forbidden(
            &GroupResource::new("", "pods"),
            &target.pod,
            &why,
        ));
    }
    let pod = load(state, "pods", &target.namespace, &target.pod)?;
    let query = req.uri().query().map(str::to_string);
    let container = match kind {
        StreamKind::PortForward => String::new(),
        _ => {
            let c = pod_streams::container_for(
                &pod,
                pod_streams::query_param(query.as_deref(), "container").as_deref(),
            )?;
            if kind == StreamKind::Exec && pod_streams::query_params(query.as_deref(), "command").is_empty() {
                return Err(ApiError::bad_request(
                    "you must specify at least one command for the container",
                ));
            }
            c
        }
    };
    let node_name = pod["spec"]["nodeName"].as_str().unwrap_or_default().to_string();
    if node_name.is_empty() {
        if kind == StreamKind::Log {
            // Kubernetes answers an unscheduled pod's log with an empty body.
            return Ok(text_response(StatusCode::OK, Bytes::new()));
        }
        return Err(ApiError::bad_request(format!(
            "pod {} does not have a host assigned",
            target.pod
        )));
    }
    if kind != StreamKind::PortForward {
        let previous = kind == StreamKind::Log
            && pod_streams::query_param(query.as_deref(), "previous")
                .is_some_and(|v| v == "true" || v == "1");
        pod_streams::check_container_state(&pod, &container, previous)?;
    }
    let node = load(state, "nodes", "", &node_name)?;
    let (host, port) = pod_streams::node_endpoint(&node)?;
    let path = pod_streams::node_path(kind, &pod, &container, query.as_deref());
    proxy(&mut req, &host, port, &path, &state.options.node_stream_token).await
}

fn text_response(code: StatusCode, body: Bytes) -> Response {
    let mut r = (code, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

fn dial_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("error dialing backend: {e}"))
}

async fn proxy(
    req: &mut Request,
    host: &str,
    port: u16,
    path: &str,
    token: &str,
) -> Result<Response, ApiError> {
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(dial_error)?;
    let _ = tcp.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(dial_error)?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "node stream connection ended with an error");
        }
    });
    let mut upstream = http::Request::builder().method(req.method().clone()).uri(path);
    for (k, v) in req.headers() {
        if !HOP_HEADERS.contains(&k.as_str()) {
            upstream = upstream.header(k, v);
        }
    }
    let upstream = upstream
        .header(header::HOST, format!("{host}:{port}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(|e| ApiError::internal(format!("building the node request: {e}")))?;
    let client_upgrade = hyper::upgrade::on(&mut *req);
    let mut resp = sender.send_request(upstream).await.map_err(dial_error)?;
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let node_upgrade = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            match tokio::join!(client_upgrade, node_upgrade) {
                (Ok(client), Ok(node)) => {
                    let (mut client, mut node) = (TokioIo::new(client), TokioIo::new(node));
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut node).await;
                }
                (c, n) => tracing::debug!(client = c.is_ok(), node = n.is_ok(), "stream upgrade failed"),
            }
        });
        let mut out = Response::new(Body::empty());
        *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        for (k, v) in resp.headers() {
            out.headers_mut().append(k, v.clone());
        }
        return Ok(out);
    }
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(Body::new(body));
    *out.status_mut() = parts.status;
    for (k, v) in &parts.headers {
        if k != header::TRANSFER_ENCODING && k != header::CONNECTION {
            out.headers_mut().append(k, v.clone());
        }
    }
    Ok(out)
}
