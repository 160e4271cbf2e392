//! SPDY/3.1 as Kubernetes uses it (moby/spdystream): frame encoding ([`frame`]), the
//! zlib-compressed name/value header blocks with SPDY's dictionary ([`headers`]), and a
//! server-side connection that multiplexes client-initiated streams ([`conn`]).

pub mod conn;
pub mod frame;
pub mod headers;

pub use conn::{Connection, SpdyStream, StreamWriter};
