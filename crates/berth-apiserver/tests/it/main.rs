//! Component tests: the API router over a real embedded store, driven in-process with
//! `tower::ServiceExt::oneshot` (no sockets, no TLS). One binary, one module per area.
#![allow(clippy::unwrap_used)]

mod fuzz;
mod metrics;
mod semantics;
mod support;
