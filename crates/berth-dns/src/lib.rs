//! Berth's cluster DNS server: the records CoreDNS's `kubernetes` plugin serves for the
//! `cluster.local` zone, answered with hickory.
//!
//! - [`snapshot`]: the DNS view of the cluster (namespaces, services, ready endpoints);
//! - [`resolve`](mod@resolve): the pure resolver, one question → one [`Response`];
//! - [`server`]: the hickory request handler;
//! - [`watch`]: the kube-rs shell keeping the snapshot current.
//!
//! [`serve`] is the entry point: the caller binds the sockets (inside the pods' network
//! namespace) and passes them in.

pub mod resolve;
pub mod server;
pub mod snapshot;
pub mod watch;

pub use resolve::{Query, Response, resolve};
pub use server::{Handler, SharedSnapshot};
pub use snapshot::{CLUSTER_DOMAIN, DEFAULT_TTL, Snapshot};

use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long an idle TCP connection is kept.
const TCP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the DNS server stopped.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The hickory server failed.
    #[error("dns server: {0}")]
    Server(#[from] hickory_proto::ProtoError),
}

/// Serves `cluster.local` on the given sockets from the cluster `client` reaches, until the
/// server fails. Answers SERVFAIL until Namespaces, Services and EndpointSlices are cached.
pub async fn serve(
    udp: tokio::net::UdpSocket,
    tcp: tokio::net::TcpListener,
    client: kube::Client,
) -> Result<(), DnsError> {
    let shared: SharedSnapshot = Arc::new(RwLock::new(None));
    let watcher = tokio::spawn(watch::maintain(client, shared.clone()));
    let result = serve_snapshot(udp, tcp, shared).await;
    watcher.abort();
    result
}

/// Serves whatever snapshot `shared` holds (tests and callers that build snapshots
/// themselves).
pub async fn serve_snapshot(
    udp: tokio::net::UdpSocket,
    tcp: tokio::net::TcpListener,
    shared: SharedSnapshot,
) -> Result<(), DnsError> {
    let mut server = hickory_server::ServerFuture::new(Handler::new(shared));
    server.register_socket(udp);
    server.register_listener(tcp, TCP_TIMEOUT);
    server.block_until_done().await?;
    Ok(())
}
