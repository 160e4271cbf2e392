//! Component tests of the node streaming server: the real `serve` on a loopback port with a
//! fake runtime, driven over raw HTTP/1.1 and a WebSocket client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use berth_stream::{ContainerRef, PodRef, PodStreams, StreamError};
use futures::{SinkExt, StreamExt};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const TOKEN: &str = "secret-token";

/// A runtime whose containers run host commands and whose only log file is `log`.
struct Fake {
    log: PathBuf,
}

#[async_trait::async_trait]
impl PodStreams for Fake {
    async fn exec_command(
        &self,
        c: &ContainerRef,
        command: &[String],
    ) -> Result<tokio::process::Command, StreamError> {
        if c.container != "app" {
            return Err(StreamError::NotFound(format!(
                "container not found ({:?})",
                c.container
            )));
        }
        let mut cmd = tokio::process::Command::new(&command[0]);
        cmd.args(&command[1..]);
        Ok(cmd)
    }

    async fn port_forward(&self, _p: &PodRef, port: u16) -> Result<tokio::net::TcpStream, StreamError> {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| StreamError::Internal(e.to_string()))
    }

    async fn log_file(&self, c: &ContainerRef, previous: bool) -> Result<Option<PathBuf>, StreamError> {
        if previous {
            return Err(StreamError::BadRequest(format!(
                "previous terminated container {:?} in pod {:?} not found",
                c.container, c.pod.name
            )));
        }
        Ok(Some(self.log.clone()))
    }
}

async fn start(dir: &tempfile::TempDir) -> u16 {
    let log = dir.path().join("0.log");
    std::fs::write(
        &log,
        "2026-01-01T00:00:01Z stdout F one\n2026-01-01T00:00:02.25Z stderr F two\n2026-01-01T00:00:03Z stdout F three\n",
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(berth_stream::serve(
        listener,
        Arc::new(Fake { log }),
        TOKEN.to_string(),
    ));
    port
}

/// Sends a GET and returns (status, body).
async fn get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: node\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    // Streamed bodies are chunked: keep only the chunk payloads.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    (status, body)
}

#[tokio::test]
async fn requests_need_the_bearer_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(&dir).await;
    assert_eq!(get(port, "/containerLogs/default/p/app", None).await.0, 401);
    assert_eq!(
        get(port, "/containerLogs/default/p/app", Some("wrong")).await.0,
        401
    );
    assert_eq!(
        get(port, "/containerLogs/default/p/app", Some(TOKEN)).await.0,
        200
    );
    assert_eq!(get(port, "/nothing/here", Some(TOKEN)).await.0, 404);
}

#[tokio::test]
async fn container_logs_apply_the_kubelets_options() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(&dir).await;
    let logs = |q: &'static str| async move {
        get(port, &format!("/containerLogs/default/p/app{q}"), Some(TOKEN)).await
    };
    assert_eq!(logs("").await, (200, "one\ntwo\nthree\n".to_string()));
    assert_eq!(logs("?tailLines=2").await.1, "two\nthree\n");
    assert_eq!(
        logs("?tailLines=1&timestamps=true").await.1,
        "2026-01-01T00:00:03Z three\n"
    );
    assert_eq!(
        logs("?sinceTime=2026-01-01T00:00:02Z&timestamps=true").await.1,
        "2026-01-01T00:00:02.25Z two\n2026-01-01T00:00:03Z three\n"
    );
    assert_eq!(logs("?limitBytes=5").await.1, "one\nt");
    let (code, body) = logs("?previous=true").await;
    assert_eq!(code, 400);
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(
        status["message"],
        "previous terminated container \"app\" in pod \"p\" not found"
    );
    let (code, body) = logs("?tailLines=x").await;
    assert_eq!(code, 400, "{body}");
}

async fn ws_exec(
    port: u16,
    query: &str,
    protocols: &str,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let mut req = format!("ws://127.0.0.1:{port}/exec/default/p/uid-1/app?{query}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {TOKEN}").parse().unwrap());
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (ws, resp) = tokio_tungstenite::client_async(req, tcp).await.unwrap();
    assert_eq!(
        resp.headers()["sec-websocket-protocol"],
        protocols.split(',').next().unwrap().trim()
    );
    ws
}

/// Reads channel messages until the server closes; returns them per channel.
async fn collect(ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> [Vec<u8>; 4] {
    let mut ch: [Vec<u8>; 4] = Default::default();
    while let Some(Ok(m)) = ws.next().await {
        match m {
            Message::Binary(b) if !b.is_empty() && b[0] < 4 => ch[b[0] as usize].extend_from_slice(&b[1..]),
            Message::Close(frame) => {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(1000), "a normal closure");
                break;
            }
            _ => {}
        }
    }
    ch
}

#[tokio::test]
async fn websocket_v5_exec_streams_channels_and_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(&dir).await;
    let q =
        "command=sh&command=-c&command=cat%3B+echo+oops+%3E%262%3B+exit+7&stdin=true&stdout=true&stderr=true";
    let mut ws = ws_exec(port, q, "v5.channel.k8s.io, v4.channel.k8s.io").await;
    ws.send(Message::Binary(vec![0, b'h', b'i', b'\n'].into()))
        .await
        .unwrap();
    ws.send(Message::Binary(vec![255, 0].into())).await.unwrap();
    let ch = collect(&mut ws).await;
    assert_eq!(String::from_utf8_lossy(&ch[1]), "hi\n");
    assert_eq!(String::from_utf8_lossy(&ch[2]), "oops\n");
    let status: serde_json::Value = serde_json::from_slice(&ch[3]).unwrap();
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["reason"], "ExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "7");
}

#[tokio::test]
async fn websocket_v4_success_and_v1_text_errors() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(&dir).await;
    let mut ws = ws_exec(port, "command=echo&command=ok&stdout=true", "v4.channel.k8s.io").await;
    let ch = collect(&mut ws).await;
    assert_eq!(String::from_utf8_lossy(&ch[1]), "ok\n");
    assert_eq!(
        String::from_utf8_lossy(&ch[3]),
        r#"{"metadata":{},"status":"Success"}"#
    );
    let mut ws = ws_exec(port, "command=false&stdout=true", "channel.k8s.io").await;
    let ch = collect(&mut ws).await;
    assert_eq!(
        String::from_utf8_lossy(&ch[3]),
        "command terminated with non-zero exit code: error executing command [false], exit code 1"
    );
}

#[tokio::test]
async fn runtime_errors_and_bad_requests_are_plain_http_errors() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(&dir).await;
    let (code, body) = get(
        port,
        "/exec/default/p/other?command=true&stdout=true",
        Some(TOKEN),
    )
    .await;
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("container not found (\\\"other\\\")"), "{body}");
    let (code, body) = get(port, "/exec/default/p/app?command=true", Some(TOKEN)).await;
    assert_eq!(code, 400);
    assert!(
        body.contains("you must specify at least 1 of stdin, stdout, stderr"),
        "{body}"
    );
    let (code, body) = get(port, "/attach/default/p/app?stdout=true", Some(TOKEN)).await;
    assert_eq!(code, 501, "{body}");
    let (code, _) = get(port, "/exec/default/p/app?command=true&stdout=true", Some(TOKEN)).await;
    assert_eq!(code, 400, "an exec without an upgrade is refused");
}

#[tokio::test]
async fn spdy_v4_exec_replies_to_streams_and_writes_the_status_last() {
    use berth_stream::spdy::frame::{FLAG_FIN, Frame};
    use berth_stream::spdy::headers::{Compressor, Decompressor};
    use bytes::BytesMut;

    let dir = tempfile::tempdir().unwrap();
    let port = start(&dir).await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "POST /exec/default/p/app?command=sh&command=-c&command=echo+hi%3B+echo+no+%3E%262%3B+exit+2&stdout=true&stderr=true HTTP/1.1\r\n\
         Host: node\r\nAuthorization: Bearer {TOKEN}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
         X-Stream-Protocol-Version: v5.channel.k8s.io\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = BytesMut::new();
    let head_end = loop {
        s.read_buf(&mut buf).await.unwrap();
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(
        head.contains("x-stream-protocol-version: v4.channel.k8s.io"),
        "{head}"
    );
    let _ = buf.split_to(head_end);

    let mut compressor = Compressor::default();
    let mut out = BytesMut::new();
    for (id, kind) in [(1u32, "error"), (3, "stdout"), (5, "stderr")] {
        let h = compressor
            .compress(&[("streamType".to_string(), kind.to_string())])
            .unwrap();
        Frame::SynStream {
            stream_id: id,
            associated_to: 0,
            priority: 0,
            flags: FLAG_FIN,
            headers: h.into(),
        }
        .encode(&mut out);
    }
    s.write_all(&out).await.unwrap();

    let mut decompressor = Decompressor::default();
    let mut replies = Vec::new();
    let mut data: std::collections::BTreeMap<u32, Vec<u8>> = Default::default();
    let mut fins = Vec::new();
    loop {
        while let Some(f) = Frame::decode(&mut buf).unwrap() {
            match f {
                Frame::SynReply {
                    stream_id, headers, ..
                } => {
                    decompressor.decompress(&headers).unwrap();
                    replies.push(stream_id);
                }
                Frame::Data {
                    stream_id,
                    flags,
                    data: d,
                } => {
                    data.entry(stream_id).or_default().extend_from_slice(&d);
                    if flags & FLAG_FIN != 0 {
                        fins.push(stream_id);
                    }
                }
                _ => {}
            }
        }
        if s.read_buf(&mut buf).await.unwrap() == 0 {
            break;
        }
    }
    assert_eq!(replies, [1, 3, 5], "every stream is replied to, in order");
    assert_eq!(String::from_utf8_lossy(&data[&3]), "hi\n");
    assert_eq!(String::from_utf8_lossy(&data[&5]), "no\n");
    let status: serde_json::Value = serde_json::from_slice(&data[&1]).unwrap();
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "2");
    assert_eq!(fins.last(), Some(&1), "the error stream closes last: {fins:?}");
    assert!(fins.contains(&3) && fins.contains(&5));
}

#[tokio::test]
async fn metrics_serve_the_process_source_behind_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = start(&dir).await;
    berth_stream::set_metrics_source(Arc::new(|| {
        "kubelet_volume_stats_inodes{namespace=\"a\",persistentvolumeclaim=\"b\"} 7\n".to_string()
    }));
    assert_eq!(get(port, "/metrics", None).await.0, 401);
    let (status, body) = get(port, "/metrics", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "kubelet_volume_stats_inodes{namespace=\"a\",persistentvolumeclaim=\"b\"} 7\n"
    );
}
