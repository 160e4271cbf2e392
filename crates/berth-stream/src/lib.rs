//! The streaming plumbing between `kubectl logs / exec / attach / port-forward / cp` and a
//! container runtime: the kubelet-like HTTP server a node agent runs ([`serve`]), the
//! protocols it speaks (WebSocket `v5`/`v4.channel.k8s.io`, SPDY/3.1 remotecommand and
//! `portforward.k8s.io`, SPDY tunnelled in WebSocket), the CRI log reader, and the
//! [`PodStreams`] trait a runtime implements to answer "how do I run a command in this
//! container, connect to this port, where is this log file".
//!
//! The crate knows no Kubernetes client and no store; the API server proxies its
//! `pods/exec|attach|portforward|log` subresources to [`serve`] over plain HTTP with a bearer
//! token.

mod backend;
pub mod logs;
pub mod portforward;
pub mod pty;
pub mod remotecommand;
mod server;
pub mod spdy;
pub mod ws;

pub use backend::{ContainerRef, PodRef, PodStreams, StreamError};
pub use server::{MetricsSource, serve, set_metrics_source};
