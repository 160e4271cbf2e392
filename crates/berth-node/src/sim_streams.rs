//! The streaming backend of the simulated runtime, and starting a node's streaming server.
//!
//! The simulated runtime has no containers and no isolation: `kubectl exec` runs the command
//! as a plain process on the host (in `/`, with the agent's environment), port-forward
//! connects to `127.0.0.1:<port>` on the host, and logs are empty (the simulated containers
//! write none).

use berth_stream::{ContainerRef, PodRef, PodStreams, StreamError};
use std::path::PathBuf;
use std::sync::Arc;

/// [`PodStreams`] for simulated pods.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimStreams;

#[async_trait::async_trait]
impl PodStreams for SimStreams {
    async fn exec_command(
        &self,
        _c: &ContainerRef,
        command: &[String],
    ) -> Result<tokio::process::Command, StreamError> {
        let (program, args) = command.split_first().ok_or_else(|| {
            StreamError::BadRequest("you must specify at least one command for the container".into())
        })?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args).current_dir("/");
        Ok(cmd)
    }

    async fn port_forward(&self, _p: &PodRef, port: u16) -> Result<tokio::net::TcpStream, StreamError> {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| StreamError::Internal(format!("dial tcp 127.0.0.1:{port}: {e}")))
    }

    async fn log_file(&self, _c: &ContainerRef, _previous: bool) -> Result<Option<PathBuf>, StreamError> {
        Ok(None)
    }
}

/// Binds `127.0.0.1:0`, serves [`berth_stream::serve`] there with `backend` and `token`, and
/// returns the port (the Node's `daemonEndpoints.kubeletEndpoint.Port`).
pub async fn start_server(backend: Arc<dyn PodStreams>, token: String) -> std::io::Result<u16> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(berth_stream::serve(listener, backend, token));
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container() -> ContainerRef {
        ContainerRef {
            pod: PodRef {
                namespace: "default".into(),
                name: "p".into(),
                uid: "u".into(),
            },
            container: "c".into(),
        }
    }

    #[tokio::test]
    async fn exec_runs_the_command_on_the_host() {
        let mut cmd = SimStreams
            .exec_command(&container(), &["sh".into(), "-c".into(), "pwd".into()])
            .await
            .expect("command");
        let out = cmd.output().await.expect("run");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "/\n");
        assert!(SimStreams.exec_command(&container(), &[]).await.is_err());
    }

    #[tokio::test]
    async fn port_forward_reaches_host_ports_and_logs_are_empty() {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let port = l.local_addr().expect("addr").port();
        assert!(SimStreams.port_forward(&container().pod, port).await.is_ok());
        // A port held by a socket that is bound but not listening: refused, and no other
        // process can take it meanwhile (a dropped listener's port could be reused).
        let closed = tokio::net::TcpSocket::new_v4().expect("socket");
        closed.bind(([127, 0, 0, 1], 0).into()).expect("bind");
        let closed_port = closed.local_addr().expect("addr").port();
        assert!(
            SimStreams
                .port_forward(&container().pod, closed_port)
                .await
                .is_err()
        );
        drop(l);
        assert_eq!(
            SimStreams.log_file(&container(), false).await.expect("logs"),
            None
        );
    }
}
