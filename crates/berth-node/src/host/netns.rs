//! Connections made from inside a pod's network namespace, as the kubelet's probes and the
//! CRI's port-forward make them: a short-lived thread joins the namespace, connects, and
//! hands the socket back (a socket stays in the namespace it was created in).

use nix::sched::{CloneFlags, setns};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

/// Connects to `addr` from inside the network namespace at `netns` (e.g. `/proc/<pid>/ns/net`).
pub async fn connect(
    netns: PathBuf,
    addr: SocketAddr,
    timeout: Duration,
) -> std::io::Result<tokio::net::TcpStream> {
    let stream = tokio::task::spawn_blocking(move || -> std::io::Result<TcpStream> {
        // A thread of its own: joining a namespace changes only the calling thread, and
        // this thread ends with the task (blocking-pool threads are reused, so join and
        // leave explicitly).
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&netns)?;
            setns(ns, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)?;
            let stream = TcpStream::connect_timeout(&addr, timeout)?;
            stream.set_nonblocking(true)?;
            Ok(stream)
        })
        .join()
        .map_err(|_| std::io::Error::other("the connecting thread panicked"))?
    })
    .await
    .map_err(std::io::Error::other)??;
    tokio::net::TcpStream::from_std(stream)
}
