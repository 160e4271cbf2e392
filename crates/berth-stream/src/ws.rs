//! WebSocket pieces of Kubernetes' streaming protocols: subprotocol negotiation, the
//! handshake answer, the channel framing of `channel.k8s.io` (`v1`–`v5`: each binary
//! message is one channel byte followed by data; `v5` adds the close signal on channel 255),
//! and the tunnel that carries a raw SPDY byte stream in binary messages
//! (`SPDY/3.1+portforward.k8s.io`).

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::HeaderMap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// `v5.channel.k8s.io`: v4 plus the stream close signal (kubectl 1.30+).
pub const V5: &str = "v5.channel.k8s.io";
/// `v4.channel.k8s.io`: errors on channel 3 as `metav1.Status` JSON, resize on channel 4.
pub const V4: &str = "v4.channel.k8s.io";
/// `v3.channel.k8s.io`: resize on channel 4, errors as text.
pub const V3: &str = "v3.channel.k8s.io";
/// `v2.channel.k8s.io`: errors as text.
pub const V2: &str = "v2.channel.k8s.io";
/// `channel.k8s.io`: the original channel protocol.
pub const V1: &str = "channel.k8s.io";
/// Port-forward's SPDY tunnelled through WebSocket binary messages.
pub const TUNNEL_PORTFORWARD: &str = "SPDY/3.1+portforward.k8s.io";
/// The channel protocols the exec/attach server speaks, best first.
pub const CHANNEL_PROTOCOLS: [&str; 5] = [V5, V4, V3, V2, V1];

/// Channel numbers of the remotecommand protocols.
pub mod channel {
    /// Client → server: standard input.
    pub const STDIN: u8 = 0;
    /// Server → client: standard output.
    pub const STDOUT: u8 = 1;
    /// Server → client: standard error.
    pub const STDERR: u8 = 2;
    /// Server → client: the final status (v4+: `metav1.Status` JSON).
    pub const ERROR: u8 = 3;
    /// Client → server: terminal size JSON (`{"Width":80,"Height":24}`).
    pub const RESIZE: u8 = 4;
    /// v5: "close the channel named by the payload's byte".
    pub const CLOSE: u8 = 255;
}

/// A close frame with status 1000 (normal closure), which Go's gorilla/websocket clients
/// read as a clean EOF (a close without a status is an error to them).
pub fn normal_close() -> tokio_tungstenite::tungstenite::protocol::CloseFrame {
    tokio_tungstenite::tungstenite::protocol::CloseFrame {
        code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal,
        reason: "".into(),
    }
}

/// Whether the request asks for a WebSocket upgrade.
pub fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The first subprotocol the client offers (in its order of preference) that `supported`
/// contains, as Kubernetes' `wsstream` negotiates.
pub fn negotiate(headers: &HeaderMap, supported: &[&'static str]) -> Option<&'static str> {
    headers
        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| supported.iter().find(|s| **s == p).copied())
}

/// The `Sec-WebSocket-Accept` answer to the client's `Sec-WebSocket-Key`.
pub fn accept_key(headers: &HeaderMap) -> Option<String> {
    let key = headers.get(http::header::SEC_WEBSOCKET_KEY)?;
    Some(tokio_tungstenite::tungstenite::handshake::derive_accept_key(
        key.as_bytes(),
    ))
}

/// One channel message: the channel byte, then the data.
pub fn encode(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(data.len() + 1);
    m.push(channel);
    m.extend_from_slice(data);
    m
}

/// Splits a channel message into its channel and data (`None` for an empty message).
pub fn decode(message: &[u8]) -> Option<(u8, &[u8])> {
    message.split_first().map(|(c, d)| (*c, d))
}

/// Whether `protocol` sends the final status as `metav1.Status` JSON (v4, v5).
pub fn status_is_json(protocol: &str) -> bool {
    protocol == V4 || protocol == V5
}

/// Whether `protocol` has a resize channel (v3+).
pub fn has_resize(protocol: &str) -> bool {
    protocol == V3 || protocol == V4 || protocol == V5
}

/// Turns a WebSocket that tunnels a byte stream in binary messages into a local byte stream:
/// bytes written to the returned end go out as one binary message per write; binary
/// messages received are readable from it. A close frame or EOF on either side ends both.
pub fn tunnel<S>(ws: WebSocketStream<S>) -> tokio::io::DuplexStream
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (local, mut remote) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        let (mut sink, mut stream) = ws.split();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            tokio::select! {
                msg = stream.next() => match msg {
                    Some(Ok(Message::Binary(b))) => {
                        if remote.write_all(&b).await.is_err() { break; }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Text(_))) => break,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                },
                n = remote.read(&mut buf) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if sink.send(Message::Binary(Bytes::copy_from_slice(&buf[..n]))).await.is_err() { break; }
                    }
                },
            }
        }
        let _ = sink.send(Message::Close(Some(crate::ws::normal_close()))).await;
        let _ = sink.close().await;
        let _ = remote.shutdown().await;
    });
    local
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn negotiation_follows_the_clients_order() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("v5.channel.k8s.io, v4.channel.k8s.io,channel.k8s.io"),
        );
        assert_eq!(negotiate(&h, &CHANNEL_PROTOCOLS), Some(V5));
        assert_eq!(negotiate(&h, &[V1, V4]), Some(V4));
        assert_eq!(negotiate(&h, &[TUNNEL_PORTFORWARD]), None);
        let mut h = HeaderMap::new();
        h.append(
            http::header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("base64.channel.k8s.io"),
        );
        h.append(
            http::header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("channel.k8s.io"),
        );
        assert_eq!(negotiate(&h, &CHANNEL_PROTOCOLS), Some(V1));
    }

    #[test]
    fn accept_key_is_rfc6455s() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        assert_eq!(accept_key(&h).as_deref(), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    }

    #[test]
    fn channel_framing() {
        assert_eq!(encode(channel::STDOUT, b"hi"), vec![1, b'h', b'i']);
        assert_eq!(encode(channel::ERROR, b""), vec![3]);
        assert_eq!(decode(&[0, b'x']), Some((channel::STDIN, &b"x"[..])));
        assert_eq!(decode(&[255, 0]), Some((channel::CLOSE, &[0u8][..])));
        assert_eq!(decode(&[]), None);
        assert!(status_is_json(V5) && status_is_json(V4) && !status_is_json(V3));
        assert!(has_resize(V3) && !has_resize(V2) && !has_resize(V1));
    }

    #[test]
    fn upgrade_detection() {
        let mut h = HeaderMap::new();
        assert!(!is_websocket(&h));
        h.insert(http::header::UPGRADE, HeaderValue::from_static("WebSocket"));
        assert!(is_websocket(&h));
        h.insert(http::header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        assert!(!is_websocket(&h));
    }
}
