//! A server-side SPDY/3.1 connection: accepts the streams the client opens (answering each
//! SYN_STREAM with a SYN_REPLY, as spdystream's server does), routes data frames to them,
//! answers PINGs, and serialises every outgoing frame through one writer task that owns the
//! header compressor.

use super::frame::{FLAG_FIN, Frame};
use super::headers::{Compressor, Decompressor, HeaderBlock};
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Largest data frame Berth sends.
const CHUNK: usize = 32 * 1024;

enum Out {
    Frame(Frame),
    Reply(u32),
    Shutdown,
}

/// The write side of one stream (clonable).
#[derive(Clone)]
pub struct StreamWriter {
    id: u32,
    tx: mpsc::UnboundedSender<Out>,
}

impl std::fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWriter").field("id", &self.id).finish()
    }
}

/// The connection is gone.
#[derive(Debug, thiserror::Error)]
#[error("the SPDY connection is closed")]
pub struct Closed;

impl StreamWriter {
    /// Sends `data` on the stream (split into frames of at most 32 KiB).
    pub fn write(&self, data: &[u8]) -> Result<(), Closed> {
        for chunk in data.chunks(CHUNK) {
            self.tx
                .send(Out::Frame(Frame::Data {
                    stream_id: self.id,
                    flags: 0,
                    data: Bytes::copy_from_slice(chunk),
                }))
                .map_err(|_| Closed)?;
        }
        Ok(())
    }

    /// Half-closes the stream (an empty data frame with FLAG_FIN).
    pub fn close(&self) {
        let _ = self.tx.send(Out::Frame(Frame::Data {
            stream_id: self.id,
            flags: FLAG_FIN,
            data: Bytes::new(),
        }));
    }

    /// Resets the stream (RST_STREAM CANCEL).
    pub fn reset(&self) {
        let _ = self.tx.send(Out::Frame(Frame::RstStream {
            stream_id: self.id,
            status: 5,
        }));
    }
}

/// A stream the client opened.
#[derive(Debug)]
pub struct SpdyStream {
    /// Stream id.
    pub id: u32,
    /// The SYN_STREAM's headers (names lower-cased).
    pub headers: HeaderBlock,
    /// Data from the client; ends when the client half-closes or resets the stream.
    pub data: mpsc::UnboundedReceiver<Bytes>,
    /// Writing to the client.
    pub writer: StreamWriter,
}

impl SpdyStream {
    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        super::headers::get(&self.headers, name)
    }
}

/// A server-side connection: its incoming streams and a way to close it.
pub struct Connection {
    /// Streams in the order the client opened them; ends when the connection does.
    pub incoming: mpsc::UnboundedReceiver<SpdyStream>,
    tx: mpsc::UnboundedSender<Out>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Connection {
    /// Starts serving SPDY on `io` (the upgraded connection).
    pub fn new<T>(io: T) -> Connection
    where
        T: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, write) = tokio::io::split(io);
        let (tx, rx) = mpsc::unbounded_channel();
        let (streams_tx, incoming) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(write, rx));
        tokio::spawn(read_loop(read, tx.clone(), streams_tx));
        Connection { incoming, tx }
    }

    /// Flushes everything queued so far, then closes the connection (GOAWAY and EOF).
    pub fn shutdown(&self) {
        let _ = self.tx.send(Out::Frame(Frame::GoAway {
            last_good_stream_id: 0,
            status: 0,
        }));
        let _ = self.tx.send(Out::Shutdown);
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(mut w: W, mut rx: mpsc::UnboundedReceiver<Out>) {
    let mut compressor = Compressor::default();
    let mut buf = BytesMut::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut shutdown = false;
        // Batch whatever is queued into one write.
        while let Some(out) = next.take() {
            match out {
                Out::Frame(f) => f.encode(&mut buf),
                Out::Reply(stream_id) => match compressor.compress(&[]) {
                    Ok(headers) => Frame::SynReply {
                        stream_id,
                        flags: 0,
                        headers: headers.into(),
                    }
                    .encode(&mut buf),
                    Err(e) => tracing::warn!(error = %e, "compressing SPDY headers"),
                },
                Out::Shutdown => shutdown = true,
            }
            if shutdown || buf.len() > 256 * 1024 {
                break;
            }
            next = rx.try_recv().ok();
        }
        if w.write_all(&buf).await.is_err() || w.flush().await.is_err() {
            return;
        }
        buf.clear();
        if shutdown {
            let _ = w.shutdown().await;
            return;
        }
    }
    let _ = w.shutdown().await;
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut r: R,
    tx: mpsc::UnboundedSender<Out>,
    streams: mpsc::UnboundedSender<SpdyStream>,
) {
    let mut decompressor = Decompressor::default();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut open: HashMap<u32, mpsc::UnboundedSender<Bytes>> = HashMap::new();
    loop {
        loop {
            let frame = match Frame::decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "bad SPDY frame; closing the connection");
                    return;
                }
            };
            match frame {
                Frame::SynStream {
                    stream_id,
                    flags,
                    headers,
                    ..
                } => {
                    let headers = match decompressor.decompress(&headers) {
                        Ok(h) => h,
                        Err(e) => {
                            tracing::debug!(error = %e, "bad SPDY header block; closing the connection");
                            return;
                        }
                    };
                    let (dtx, drx) = mpsc::unbounded_channel();
                    if flags & FLAG_FIN == 0 {
                        open.insert(stream_id, dtx);
                    }
                    let _ = tx.send(Out::Reply(stream_id));
                    let stream = SpdyStream {
                        id: stream_id,
                        headers,
                        data: drx,
                        writer: StreamWriter {
                            id: stream_id,
                            tx: tx.clone(),
                        },
                    };
                    if streams.send(stream).is_err() {
                        tracing::debug!(stream_id, "SPDY stream opened after the handler finished");
                    }
                }
                Frame::Data {
                    stream_id,
                    flags,
                    data,
                } => {
                    if let Some(s) = open.get(&stream_id)
                        && !data.is_empty()
                    {
                        let _ = s.send(data);
                    }
                    if flags & FLAG_FIN != 0 {
                        open.remove(&stream_id);
                    }
                }
                Frame::RstStream { stream_id, .. } => {
                    open.remove(&stream_id);
                }
                Frame::Headers { headers, .. } | Frame::SynReply { headers, .. } => {
                    // Keep the decompressor's window in step; the headers themselves are unused.
                    let _ = decompressor.decompress(&headers);
                }
                Frame::Ping { id } => {
                    let _ = tx.send(Out::Frame(Frame::Ping { id }));
                }
                Frame::GoAway { .. } => return,
                Frame::Settings { .. } | Frame::WindowUpdate { .. } | Frame::Unknown { .. } => {}
            }
        }
        match r.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spdy::headers::Compressor;

    /// A minimal SPDY client over one end of a duplex pipe.
    struct Client {
        io: tokio::io::DuplexStream,
        compressor: Compressor,
        decompressor: Decompressor,
        buf: BytesMut,
    }

    impl Client {
        async fn send(&mut self, f: Frame) {
            let mut b = BytesMut::new();
            f.encode(&mut b);
            self.io.write_all(&b).await.expect("write");
        }
        async fn open(&mut self, id: u32, headers: &[(&str, &str)]) {
            let h: HeaderBlock = headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let block = self.compressor.compress(&h).expect("compress");
            self.send(Frame::SynStream {
                stream_id: id,
                associated_to: 0,
                priority: 0,
                flags: 0,
                headers: block.into(),
            })
            .await;
        }
        async fn next(&mut self) -> Option<Frame> {
            loop {
                if let Some(f) = Frame::decode(&mut self.buf).expect("frame") {
                    return Some(f);
                }
                if self.io.read_buf(&mut self.buf).await.expect("read") == 0 {
                    return None;
                }
            }
        }
    }

    #[tokio::test]
    async fn streams_are_replied_to_and_carry_data_both_ways() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let mut conn = Connection::new(b);
        let mut client = Client {
            io: a,
            compressor: Compressor::default(),
            decompressor: Decompressor::default(),
            buf: BytesMut::new(),
        };
        client.open(1, &[("streamType", "stdin")]).await;
        client.open(3, &[("streamType", "stdout")]).await;
        let mut stdin = conn.incoming.recv().await.expect("stream 1");
        let stdout = conn.incoming.recv().await.expect("stream 3");
        assert_eq!((stdin.id, stdin.header("streamtype")), (1, Some("stdin")));
        assert_eq!((stdout.id, stdout.header("streamType")), (3, Some("stdout")));
        for want in [1, 3] {
            match client.next().await {
                Some(Frame::SynReply {
                    stream_id, headers, ..
                }) => {
                    assert_eq!(stream_id, want);
                    assert_eq!(
                        client.decompressor.decompress(&headers).expect("reply headers"),
                        vec![]
                    );
                }
                other => panic!("expected SYN_REPLY, got {other:?}"),
            }
        }
        client
            .send(Frame::Data {
                stream_id: 1,
                flags: 0,
                data: Bytes::from_static(b"in"),
            })
            .await;
        client
            .send(Frame::Data {
                stream_id: 1,
                flags: FLAG_FIN,
                data: Bytes::new(),
            })
            .await;
        assert_eq!(stdin.data.recv().await.as_deref(), Some(&b"in"[..]));
        assert_eq!(stdin.data.recv().await, None, "FIN ends the stream");
        client.send(Frame::Ping { id: 7 }).await;
        assert_eq!(client.next().await, Some(Frame::Ping { id: 7 }));
        stdout.writer.write(b"out").expect("write");
        stdout.writer.close();
        conn.shutdown();
        assert_eq!(
            client.next().await,
            Some(Frame::Data {
                stream_id: 3,
                flags: 0,
                data: Bytes::from_static(b"out")
            })
        );
        assert_eq!(
            client.next().await,
            Some(Frame::Data {
                stream_id: 3,
                flags: FLAG_FIN,
                data: Bytes::new()
            })
        );
        assert!(matches!(client.next().await, Some(Frame::GoAway { .. })));
        assert_eq!(client.next().await, None);
    }
}
