//! The kubelet-like HTTP server a node agent runs: `/exec/{ns}/{pod}[/{uid}]/{container}`,
//! `/attach/…`, `/portForward/{ns}/{pod}[/{uid}]` and `/containerLogs/{ns}/{pod}/{container}`
//! (plus Berth's optional `podUID` query parameter), each behind `Authorization: Bearer
//! <token>`. Exec and attach upgrade to WebSocket (`v5`…`channel.k8s.io`) or SPDY/3.1
//! (`v4.channel.k8s.io`); port-forward to SPDY/3.1 or WebSocket-tunnelled SPDY. `GET
//! /metrics` serves the text of the process's [`MetricsSource`] (the kubelet's metrics).

use crate::backend::{ContainerRef, PodRef, PodStreams, StreamError};
use crate::logs::{self, LogOptions};
use crate::portforward;
use crate::remotecommand::{self, ExecOptions};
use crate::ws;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

type Body = BoxBody<Bytes, Infallible>;

/// Renders a node's metrics in the Prometheus text format (version 0.0.4).
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

static METRICS: std::sync::OnceLock<MetricsSource> = std::sync::OnceLock::new();

/// Sets what `GET /metrics` answers on every streaming server of this process (empty until
/// set); the first call wins.
pub fn set_metrics_source(source: MetricsSource) {
    let _ = METRICS.set(source);
}

fn full(code: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = code;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn error_response(e: &StreamError) -> Response<Body> {
    let code = StatusCode::from_u16(e.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    full(
        code,
        "application/json",
        serde_json::to_vec(&e.to_status()).unwrap_or_default(),
    )
}

/// Serves the streaming API on `listener` until it fails; every request must carry
/// `Authorization: Bearer <token>`.
pub async fn serve(listener: TcpListener, backend: Arc<dyn PodStreams>, token: String) {
    let token = Arc::new(token);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "stream server accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let backend = backend.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let backend = backend.clone();
                let token = token.clone();
                async move { Ok::<_, Infallible>(handle(req, backend, &token).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades()
                .await
            {
                tracing::debug!(%peer, error = %e, "stream connection ended with an error");
            }
        });
    }
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !token.is_empty() && t.trim() == token)
}

fn query_param(q: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn handle(mut req: Request<Incoming>, backend: Arc<dyn PodStreams>, token: &str) -> Response<Body> {
    if !authorized(req.headers(), token) {
        return full(
            StatusCode::UNAUTHORIZED,
            "text/plain; charset=utf-8",
            "Unauthorized",
        );
    }
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let segs: Vec<String> = path.trim_matches('/').split('/').map(percent_decode).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let pod = |ns: &str, name: &str, uid: &str| PodRef {
        namespace: ns.to_string(),
        name: name.to_string(),
        uid: uid.to_string(),
    };
    let container = |p: PodRef, c: &str| ContainerRef {
        pod: p,
        container: c.to_string(),
    };
    match segs.as_slice() {
        [verb @ ("exec" | "attach"), ns, name, c] | [verb @ ("exec" | "attach"), ns, name, _, c]
            if !c.is_empty() =>
        {
            let uid = if segs.len() == 5 { segs[3] } else { "" };
            let target = container(pod(ns, name, uid), c);
            let opts = ExecOptions::from_query(query.as_deref());
            remote_command(&mut req, backend, target, opts, *verb == "attach").await
        }
        ["portForward", ns, name] | ["portForward", ns, name, _] => {
            let uid = segs.get(3).copied().unwrap_or("");
            port_forward(&mut req, backend, pod(ns, name, uid)).await
        }
        ["metrics"] if req.method() == http::Method::GET => full(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            METRICS.get().map(|render| render()).unwrap_or_default(),
        ),
        ["containerLogs", ns, name, c] => {
            let uid = query_param(query.as_deref(), "podUID").unwrap_or_default();
            let target = container(pod(ns, name, &uid), c);
            container_logs(backend, target, query.as_deref()).await
        }
        _ => full(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found",
        ),
    }
}

fn percent_decode(s: &str) -> String {
    let plus_safe = s.replace('+', "%2B");
    form_urlencoded::parse(format!("x={plus_safe}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn switching(headers: &[(&'static str, String)]) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::new()).boxed());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            r.headers_mut().append(*k, v);
        }
    }
    r
}

/// The protocols offered in `X-Stream-Protocol-Version` (SPDY upgrades).
fn offered_stream_protocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("x-stream-protocol-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .collect()
}

fn is_spdy(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("SPDY/3.1"))
}

fn websocket_switch(headers: &HeaderMap, protocol: &str) -> Option<Response<Body>> {
    let accept = ws::accept_key(headers)?;
    Some(switching(&[
        ("connection", "Upgrade".into()),
        ("upgrade", "websocket".into()),
        ("sec-websocket-accept", accept),
        ("sec-websocket-protocol", protocol.into()),
    ]))
}

fn bad_request(msg: impl Into<String>) -> Response<Body> {
    error_response(&StreamError::BadRequest(msg.into()))
}

async fn remote_command(
    req: &mut Request<Incoming>,
    backend: Arc<dyn PodStreams>,
    target: ContainerRef,
    opts: ExecOptions,
    attach: bool,
) -> Response<Body> {
    if !opts.stdin && !opts.stdout && !opts.stderr {
        return bad_request("you must specify at least 1 of stdin, stdout, stderr");
    }
    if !attach && opts.command.is_empty() {
        return bad_request("you must specify at least one command for the container");
    }
    // Resolve the runtime side first so errors become plain HTTP errors, as the kubelet's do.
    enum Work {
        Exec(tokio::process::Command),
        Attach(remotecommand::AttachIo),
    }
    let work = if attach {
        backend.attach(&target).await.map(Work::Attach)
    } else {
        backend.exec_command(&target, &opts.command).await.map(Work::Exec)
    };
    let work = match work {
        Ok(w) => w,
        Err(e) => return error_response(&e),
    };
    let run = move |o: ExecOptions| {
        move |io: remotecommand::SessionIo| async move {
            match work {
                Work::Exec(cmd) => remotecommand::exec(cmd, &o, io).await,
                Work::Attach(a) => remotecommand::attach(a, &o, io).await,
            }
        }
    };
    let on_upgrade = hyper::upgrade::on(&mut *req);
    if ws::is_websocket(req.headers()) {
        let Some(protocol) = ws::negotiate(req.headers(), &ws::CHANNEL_PROTOCOLS) else {
            return bad_request("unable to negotiate a WebSocket subprotocol for remote command");
        };
        let Some(resp) = websocket_switch(req.headers(), protocol) else {
            return bad_request("missing Sec-WebSocket-Key");
        };
        tokio::spawn(async move {
            let Some(io) = upgraded(on_upgrade).await else {
                return;
            };
            let ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
            let f = run(opts.clone());
            remotecommand::serve_websocket(ws, protocol, opts, f).await;
        });
        return resp;
    }
    if is_spdy(req.headers()) {
        let offered = offered_stream_protocols(req.headers());
        let Some(protocol) = remotecommand::SPDY_PROTOCOLS
            .iter()
            .find(|p| offered.iter().any(|o| o == *p))
        else {
            return bad_request(format!(
                "unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server supports {:?}",
                remotecommand::SPDY_PROTOCOLS
            ));
        };
        let resp = switching(&[
            ("connection", "Upgrade".into()),
            ("upgrade", "SPDY/3.1".into()),
            ("x-stream-protocol-version", (*protocol).into()),
        ]);
        tokio::spawn(async move {
            let Some(io) = upgraded(on_upgrade).await else {
                return;
            };
            let f = run(opts.clone());
            remotecommand::serve_spdy(io, opts, f).await;
        });
        return resp;
    }
    bad_request("Upgrade request required")
}

async fn upgraded(on: hyper::upgrade::OnUpgrade) -> Option<TokioIo<Upgraded>> {
    match on.await {
        Ok(u) => Some(TokioIo::new(u)),
        Err(e) => {
            tracing::debug!(error = %e, "connection upgrade failed");
            None
        }
    }
}

async fn port_forward(
    req: &mut Request<Incoming>,
    backend: Arc<dyn PodStreams>,
    pod: PodRef,
) -> Response<Body> {
    let on_upgrade = hyper::upgrade::on(&mut *req);
    if ws::is_websocket(req.headers()) {
        if ws::negotiate(req.headers(), &[ws::TUNNEL_PORTFORWARD]).is_none() {
            return bad_request(
                "unable to negotiate the port-forward WebSocket subprotocol (want SPDY/3.1+portforward.k8s.io)",
            );
        }
        let Some(resp) = websocket_switch(req.headers(), ws::TUNNEL_PORTFORWARD) else {
            return bad_request("missing Sec-WebSocket-Key");
        };
        tokio::spawn(async move {
            let Some(io) = upgraded(on_upgrade).await else {
                return;
            };
            let socket = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
            portforward::serve_spdy(ws::tunnel(socket), backend, pod).await;
        });
        return resp;
    }
    if is_spdy(req.headers()) {
        let offered = offered_stream_protocols(req.headers());
        if !offered.is_empty() && !offered.iter().any(|o| o == portforward::PROTOCOL) {
            return bad_request(format!(
                "unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server supports [\"{}\"]",
                portforward::PROTOCOL
            ));
        }
        let resp = switching(&[
            ("connection", "Upgrade".into()),
            ("upgrade", "SPDY/3.1".into()),
            ("x-stream-protocol-version", portforward::PROTOCOL.into()),
        ]);
        tokio::spawn(async move {
            let Some(io) = upgraded(on_upgrade).await else {
                return;
            };
            portforward::serve_spdy(io, backend, pod).await;
        });
        return resp;
    }
    bad_request("Upgrade request required")
}

async fn container_logs(
    backend: Arc<dyn PodStreams>,
    target: ContainerRef,
    query: Option<&str>,
) -> Response<Body> {
    let opts = match LogOptions::from_query(query, jiff::Timestamp::now()) {
        Ok(o) => o,
        Err(e) => return error_response(&e),
    };
    let path = match backend.log_file(&target, opts.previous).await {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        if let Err(e) = logs::stream(path, opts, tx).await {
            tracing::debug!(error = %e, "reading a container log failed");
        }
    });
    let body = StreamBody::new(futures::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|o| o.map(|b| Ok::<_, Infallible>(Frame::data(b))))
    }));
    let mut r = Response::new(BodyExt::boxed(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}
