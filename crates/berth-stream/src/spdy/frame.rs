//! SPDY/3.1 frames: the 8-byte control and data frame headers and the control frames
//! Kubernetes' streams exchange (SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY,
//! HEADERS, WINDOW_UPDATE). Header blocks stay compressed here; see [`super::headers`].

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The SPDY version Kubernetes speaks.
pub const VERSION: u16 = 3;
/// FLAG_FIN: the sender will send nothing more on the stream.
pub const FLAG_FIN: u8 = 0x01;
/// Largest payload a frame's 24-bit length can carry.
pub const MAX_PAYLOAD: usize = 0x00ff_ffff;

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A data frame.
    Data {
        /// Stream id.
        stream_id: u32,
        /// Flags (FLAG_FIN).
        flags: u8,
        /// Payload.
        data: Bytes,
    },
    /// SYN_STREAM: the peer opens a stream.
    SynStream {
        /// Stream id.
        stream_id: u32,
        /// Associated stream id.
        associated_to: u32,
        /// Priority (0..7).
        priority: u8,
        /// Flags (FLAG_FIN, FLAG_UNIDIRECTIONAL).
        flags: u8,
        /// Compressed header block.
        headers: Bytes,
    },
    /// SYN_REPLY: the answer to a SYN_STREAM.
    SynReply {
        /// Stream id.
        stream_id: u32,
        /// Flags.
        flags: u8,
        /// Compressed header block.
        headers: Bytes,
    },
    /// RST_STREAM: abnormal stream termination.
    RstStream {
        /// Stream id.
        stream_id: u32,
        /// Status code.
        status: u32,
    },
    /// SETTINGS (ignored by Berth, kept for completeness).
    Settings {
        /// Flags.
        flags: u8,
        /// (flags, id, value) entries.
        entries: Vec<(u8, u32, u32)>,
    },
    /// PING, answered with the same id.
    Ping {
        /// Ping id.
        id: u32,
    },
    /// GOAWAY: the peer is closing the connection.
    GoAway {
        /// Last stream id the sender processed.
        last_good_stream_id: u32,
        /// Status code.
        status: u32,
    },
    /// HEADERS: more headers for a stream.
    Headers {
        /// Stream id.
        stream_id: u32,
        /// Flags.
        flags: u8,
        /// Compressed header block.
        headers: Bytes,
    },
    /// WINDOW_UPDATE (flow control is not enforced, as in spdystream).
    WindowUpdate {
        /// Stream id.
        stream_id: u32,
        /// Window delta.
        delta: u32,
    },
    /// A control frame of a type Berth does not know (skipped).
    Unknown {
        /// Frame type.
        kind: u16,
    },
}

/// Why bytes are not a valid frame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// A control frame of another SPDY version.
    #[error("unsupported SPDY version {0}")]
    Version(u16),
    /// A control frame shorter than its type requires.
    #[error("truncated SPDY control frame of type {0}")]
    Truncated(u16),
}

const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const SETTINGS: u16 = 4;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const HEADERS: u16 = 8;
const WINDOW_UPDATE: u16 = 9;

fn put_control(out: &mut BytesMut, kind: u16, flags: u8, payload: &[u8]) {
    out.put_u16(0x8000 | VERSION);
    out.put_u16(kind);
    out.put_u32((u32::from(flags) << 24) | (payload.len() as u32 & 0x00ff_ffff));
    out.put_slice(payload);
}

impl Frame {
    /// Appends the wire encoding of the frame to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        let mut p = BytesMut::new();
        match self {
            Frame::Data {
                stream_id,
                flags,
                data,
            } => {
                out.put_u32(stream_id & 0x7fff_ffff);
                out.put_u32((u32::from(*flags) << 24) | (data.len() as u32 & 0x00ff_ffff));
                out.put_slice(data);
            }
            Frame::SynStream {
                stream_id,
                associated_to,
                priority,
                flags,
                headers,
            } => {
                p.put_u32(stream_id & 0x7fff_ffff);
                p.put_u32(associated_to & 0x7fff_ffff);
                p.put_u8((priority & 0x7) << 5);
                p.put_u8(0);
                p.put_slice(headers);
                put_control(out, SYN_STREAM, *flags, &p);
            }
            Frame::SynReply {
                stream_id,
                flags,
                headers,
            } => {
                p.put_u32(stream_id & 0x7fff_ffff);
                p.put_slice(headers);
                put_control(out, SYN_REPLY, *flags, &p);
            }
            Frame::RstStream { stream_id, status } => {
                p.put_u32(stream_id & 0x7fff_ffff);
                p.put_u32(*status);
                put_control(out, RST_STREAM, 0, &p);
            }
            Frame::Settings { flags, entries } => {
                p.put_u32(entries.len() as u32);
                for (f, id, v) in entries {
                    p.put_u32((u32::from(*f) << 24) | (id & 0x00ff_ffff));
                    p.put_u32(*v);
                }
                put_control(out, SETTINGS, *flags, &p);
            }
            Frame::Ping { id } => put_control(out, PING, 0, &id.to_be_bytes()),
            Frame::GoAway {
                last_good_stream_id,
                status,
            } => {
                p.put_u32(last_good_stream_id & 0x7fff_ffff);
                p.put_u32(*status);
                put_control(out, GOAWAY, 0, &p);
            }
            Frame::Headers {
                stream_id,
                flags,
                headers,
            } => {
                p.put_u32(stream_id & 0x7fff_ffff);
                p.put_slice(headers);
                put_control(out, HEADERS, *flags, &p);
            }
            Frame::WindowUpdate { stream_id, delta } => {
                p.put_u32(stream_id & 0x7fff_ffff);
                p.put_u32(delta & 0x7fff_ffff);
                put_control(out, WINDOW_UPDATE, 0, &p);
            }
            Frame::Unknown { kind } => put_control(out, *kind, 0, &[]),
        }
    }

    /// Decodes one frame from the front of `buf`, consuming it; `Ok(None)` when `buf` does not
    /// yet hold a whole frame.
    pub fn decode(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if buf.len() < 8 {
            return Ok(None);
        }
        let len = (u32::from_be_bytes([0, buf[5], buf[6], buf[7]])) as usize;
        if buf.len() < 8 + len {
            return Ok(None);
        }
        let control = buf[0] & 0x80 != 0;
        let flags = buf[4];
        if !control {
            let stream_id = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) & 0x7fff_ffff;
            buf.advance(8);
            let data = buf.split_to(len).freeze();
            return Ok(Some(Frame::Data {
                stream_id,
                flags,
                data,
            }));
        }
        let version = u16::from_be_bytes([buf[0], buf[1]]) & 0x7fff;
        let kind = u16::from_be_bytes([buf[2], buf[3]]);
        buf.advance(8);
        let mut p = buf.split_to(len).freeze();
        if version != VERSION {
            return Err(FrameError::Version(version));
        }
        let need = |n: usize, p: &Bytes| {
            if p.len() < n {
                Err(FrameError::Truncated(kind))
            } else {
                Ok(())
            }
        };
        let frame = match kind {
            SYN_STREAM => {
                need(10, &p)?;
                let stream_id = p.get_u32() & 0x7fff_ffff;
                let associated_to = p.get_u32() & 0x7fff_ffff;
                let priority = p.get_u8() >> 5;
                p.advance(1);
                Frame::SynStream {
                    stream_id,
                    associated_to,
                    priority,
                    flags,
                    headers: p,
                }
            }
            SYN_REPLY => {
                need(4, &p)?;
                let stream_id = p.get_u32() & 0x7fff_ffff;
                Frame::SynReply {
                    stream_id,
                    flags,
                    headers: p,
                }
            }
            RST_STREAM => {
                need(8, &p)?;
                Frame::RstStream {
                    stream_id: p.get_u32() & 0x7fff_ffff,
                    status: p.get_u32(),
                }
            }
            SETTINGS => {
                need(4, &p)?;
                let n = p.get_u32() as usize;
                need(n.saturating_mul(8), &p)?;
                let entries = (0..n)
                    .map(|_| {
                        let head = p.get_u32();
                        ((head >> 24) as u8, head & 0x00ff_ffff, p.get_u32())
                    })
                    .collect();
                Frame::Settings { flags, entries }
            }
            PING => {
                need(4, &p)?;
                Frame::Ping { id: p.get_u32() }
            }
            GOAWAY => {
                need(8, &p)?;
                Frame::GoAway {
                    last_good_stream_id: p.get_u32() & 0x7fff_ffff,
                    status: p.get_u32(),
                }
            }
            HEADERS => {
                need(4, &p)?;
                let stream_id = p.get_u32() & 0x7fff_ffff;
                Frame::Headers {
                    stream_id,
                    flags,
                    headers: p,
                }
            }
            WINDOW_UPDATE => {
                need(8, &p)?;
                Frame::WindowUpdate {
                    stream_id: p.get_u32() & 0x7fff_ffff,
                    delta: p.get_u32() & 0x7fff_ffff,
                }
            }
            other => Frame::Unknown { kind: other },
        };
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(f: Frame) {
        let mut buf = BytesMut::new();
        f.encode(&mut buf);
        let whole = buf.clone();
        // Every strict prefix is incomplete.
        for cut in 0..whole.len() {
            let mut part = BytesMut::from(&whole[..cut]);
            assert_eq!(
                Frame::decode(&mut part),
                Ok(None),
                "prefix of {cut} bytes of {f:?}"
            );
        }
        buf.put_slice(b"next");
        assert_eq!(Frame::decode(&mut buf), Ok(Some(f)));
        assert_eq!(&buf[..], b"next");
    }

    #[test]
    fn frames_round_trip() {
        round_trip(Frame::Data {
            stream_id: 5,
            flags: FLAG_FIN,
            data: Bytes::from_static(b"hello"),
        });
        round_trip(Frame::Data {
            stream_id: 7,
            flags: 0,
            data: Bytes::new(),
        });
        round_trip(Frame::SynStream {
            stream_id: 1,
            associated_to: 0,
            priority: 3,
            flags: 0,
            headers: Bytes::from_static(b"\x78\x01hdr"),
        });
        round_trip(Frame::SynReply {
            stream_id: 3,
            flags: FLAG_FIN,
            headers: Bytes::from_static(b"x"),
        });
        round_trip(Frame::RstStream {
            stream_id: 9,
            status: 5,
        });
        round_trip(Frame::Settings {
            flags: 0,
            entries: vec![(1, 7, 65536), (0, 4, 100)],
        });
        round_trip(Frame::Ping { id: 0xdead_beef });
        round_trip(Frame::GoAway {
            last_good_stream_id: 11,
            status: 0,
        });
        round_trip(Frame::Headers {
            stream_id: 1,
            flags: 0,
            headers: Bytes::from_static(b"abc"),
        });
        round_trip(Frame::WindowUpdate {
            stream_id: 1,
            delta: 4096,
        });
    }

    #[test]
    fn wire_layout_matches_the_spec() {
        let mut buf = BytesMut::new();
        Frame::Ping { id: 1 }.encode(&mut buf);
        assert_eq!(
            &buf[..],
            &[0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]
        );
        let mut buf = BytesMut::new();
        Frame::Data {
            stream_id: 3,
            flags: FLAG_FIN,
            data: Bytes::from_static(b"ab"),
        }
        .encode(&mut buf);
        assert_eq!(&buf[..], &[0, 0, 0, 3, 0x01, 0, 0, 2, b'a', b'b']);
    }

    #[test]
    fn other_versions_and_truncated_frames_are_errors() {
        let mut buf = BytesMut::from(&[0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1][..]);
        assert_eq!(Frame::decode(&mut buf), Err(FrameError::Version(2)));
        let mut buf = BytesMut::from(&[0x80, 0x03, 0x00, 0x03, 0, 0, 0, 2, 0, 1][..]);
        assert_eq!(Frame::decode(&mut buf), Err(FrameError::Truncated(3)));
    }
}
