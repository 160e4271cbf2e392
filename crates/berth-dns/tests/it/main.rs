//! Component tests of the DNS server: a fixed snapshot served on real loopback sockets and
//! queried over UDP and TCP with hickory-proto messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod wire;
