//! The cluster DNS server of a pod network: [`berth_dns`] answering on `10.96.0.10:53` inside
//! the bridge's network namespace, where every pod's default route leads. The sockets are
//! created from a thread that joined that namespace (a socket stays in the namespace it was
//! created in), so the server itself runs on the agent's ordinary runtime.

use super::network::{DNS_ADDRESS, namespace_path};
use nix::sched::{CloneFlags, setns};
use std::net::SocketAddr;

/// Binds the DNS sockets in the bridge namespace `namespace` and serves `cluster.local`
/// from the cluster `client` reaches, in the background.
pub async fn start(namespace: &str, client: kube::Client) -> std::io::Result<()> {
    let path = namespace_path(namespace);
    let addr: SocketAddr = format!("{DNS_ADDRESS}:53")
        .parse()
        .map_err(|_| std::io::Error::other("invalid DNS address"))?;
    let (udp, tcp) = std::thread::spawn(
        move || -> std::io::Result<(std::net::UdpSocket, std::net::TcpListener)> {
            let ns = std::fs::File::open(&path)?;
            setns(ns, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)?;
            let udp = std::net::UdpSocket::bind(addr)?;
            let tcp = std::net::TcpListener::bind(addr)?;
            udp.set_nonblocking(true)?;
            tcp.set_nonblocking(true)?;
            Ok((udp, tcp))
        },
    )
    .join()
    .map_err(|_| std::io::Error::other("the DNS socket thread panicked"))??;
    let udp = tokio::net::UdpSocket::from_std(udp)?;
    let tcp = tokio::net::TcpListener::from_std(tcp)?;
    tokio::spawn(async move {
        if let Err(e) = berth_dns::serve(udp, tcp, client).await {
            tracing::error!(error = %e, "the cluster DNS server stopped");
        }
    });
    tracing::info!(address = %addr, "cluster DNS serving in the pod network");
    Ok(())
}
