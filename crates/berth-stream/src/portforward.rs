//! `portforward.k8s.io` over SPDY (directly, or tunnelled in WebSocket): the client opens an
//! `error` and a `data` stream per connection, tied by the `requestID` header and naming the
//! `port`; the server connects to that port in the pod and copies bytes both ways, writing any
//! failure as text to the error stream, as the kubelet does.

use crate::backend::{PodRef, PodStreams};
use crate::spdy::{self, SpdyStream};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The port-forward protocol name (SPDY `X-Stream-Protocol-Version`).
pub const PROTOCOL: &str = "portforward.k8s.io";

#[derive(Default)]
struct Pair {
    error: Option<SpdyStream>,
    data: Option<SpdyStream>,
}

/// The kubelet's message for a failed forward.
pub fn forward_error(port: &str, pod: &PodRef, err: &dyn std::fmt::Display) -> String {
    format!(
        "error forwarding port {port} to pod {}, uid {}: {err}",
        pod.name, pod.uid
    )
}

/// Serves port-forward streams on an upgraded connection until the client closes it.
pub async fn serve_spdy<T>(io: T, backend: Arc<dyn PodStreams>, pod: PodRef)
where
    T: AsyncRead + AsyncWrite + Send + 'static,
{
    let mut conn = spdy::Connection::new(io);
    let mut pairs: HashMap<String, Pair> = HashMap::new();
    while let Some(stream) = conn.incoming.recv().await {
        let id = stream.header("requestid").unwrap_or("").to_string();
        let kind = stream.header("streamtype").unwrap_or("").to_string();
        let pair = pairs.entry(id.clone()).or_default();
        match kind.as_str() {
            "error" => pair.error = Some(stream),
            "data" => pair.data = Some(stream),
            other => {
                tracing::debug!(stream_type = other, "unknown port-forward stream type");
                stream.writer.reset();
                continue;
            }
        }
        if pair.error.is_some()
            && pair.data.is_some()
            && let Some(Pair {
                error: Some(e),
                data: Some(d),
            }) = pairs.remove(&id)
        {
            tokio::spawn(forward(backend.clone(), pod.clone(), e, d));
        }
    }
}

async fn forward(backend: Arc<dyn PodStreams>, pod: PodRef, error: SpdyStream, mut data: SpdyStream) {
    let port_text = data.header("port").unwrap_or("").to_string();
    let port = match port_text.parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => {
            let msg = forward_error(&port_text, &pod, &format!("invalid port {port_text:?}"));
            let _ = error.writer.write(msg.as_bytes());
            error.writer.close();
            data.writer.close();
            return;
        }
    };
    let tcp = match backend.port_forward(&pod, port).await {
        Ok(t) => t,
        Err(e) => {
            let _ = error.writer.write(forward_error(&port_text, &pod, &e).as_bytes());
            error.writer.close();
            data.writer.close();
            return;
        }
    };
    let _ = tcp.set_nodelay(true);
    let (mut rd, mut wr) = tcp.into_split();
    let inbound = async {
        while let Some(b) = data.data.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    };
    let writer = data.writer.clone();
    let outbound = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    if writer.write(&buf[..n]).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = error.writer.write(forward_error(&port_text, &pod, &e).as_bytes());
                    break;
                }
            }
        }
        writer.close();
    };
    tokio::join!(inbound, outbound);
    error.writer.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_wording_is_the_kubelets() {
        let pod = PodRef {
            namespace: "default".into(),
            name: "web-0".into(),
            uid: "u-1".into(),
        };
        assert_eq!(
            forward_error("8080", &pod, &"connection refused"),
            "error forwarding port 8080 to pod web-0, uid u-1: connection refused"
        );
    }
}
