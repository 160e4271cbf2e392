//! The runtime seam: what a container runtime must answer for the streaming server, and the
//! errors it may give.

use async_trait::async_trait;
use std::path::PathBuf;

/// A pod on this node, as the API server names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRef {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// Pod UID (empty when the caller does not know it).
    pub uid: String,
}

/// One container of a pod on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRef {
    /// The pod.
    pub pod: PodRef,
    /// Container name.
    pub container: String,
}

/// Why a streaming request cannot be served; rendered as the Kubernetes error kubectl shows.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The pod or container is not running on this node (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed or the container is in the wrong state (HTTP 400), e.g.
    /// `container "x" in pod "y" is waiting to start: ContainerCreating`.
    #[error("{0}")]
    BadRequest(String),
    /// The runtime does not support this operation (HTTP 501), e.g. attach on a runtime
    /// without a process to attach to.
    #[error("{0}")]
    NotSupported(String),
    /// Anything else the runtime failed at (HTTP 500).
    #[error("{0}")]
    Internal(String),
}

impl StreamError {
    /// The HTTP status code of this error.
    pub fn code(&self) -> u16 {
        match self {
            StreamError::NotFound(_) => 404,
            StreamError::BadRequest(_) => 400,
            StreamError::NotSupported(_) => 501,
            StreamError::Internal(_) => 500,
        }
    }

    /// The `metav1.Status` reason of this error.
    pub fn reason(&self) -> &'static str {
        match self {
            StreamError::NotFound(_) => "NotFound",
            StreamError::BadRequest(_) => "BadRequest",
            StreamError::NotSupported(_) => "NotImplemented",
            StreamError::Internal(_) => "InternalError",
        }
    }

    /// The error as a `metav1.Status` JSON object.
    pub fn to_status(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code(),
        })
    }
}

/// What a container runtime provides to the streaming server. Implementations must be cheap
/// to call concurrently; every method is called once per client request.
#[async_trait]
pub trait PodStreams: Send + Sync + 'static {
    /// The command that runs `command` inside the container (the host runtime returns an
    /// `nsenter …` command). The server sets its stdio (pipes, or a pty under `setsid -c`
    /// for TTY sessions) and spawns it.
    async fn exec_command(
        &self,
        c: &ContainerRef,
        command: &[String],
    ) -> Result<tokio::process::Command, StreamError>;

    /// A TCP connection to `port` inside the pod's network namespace.
    async fn port_forward(&self, p: &PodRef, port: u16) -> Result<tokio::net::TcpStream, StreamError>;

    /// The CRI-format log file of the container's current (or `previous`) instance; `Ok(None)`
    /// when the container has written no log (an empty answer).
    ///
    /// Follow contract: `kubectl logs -f` keeps reading while the file grows and stops once
    /// the runtime has created the sibling marker `<log file>.done` (see
    /// [`crate::logs::done_marker`]) and everything up to the end of the file was sent. A
    /// runtime creates the marker when the container instance exits.
    async fn log_file(&self, c: &ContainerRef, previous: bool) -> Result<Option<PathBuf>, StreamError>;

    /// The stdio of the container's main process for `kubectl attach`. The default answers
    /// that attaching is not supported.
    async fn attach(&self, c: &ContainerRef) -> Result<crate::remotecommand::AttachIo, StreamError> {
        Err(StreamError::NotSupported(format!(
            "attach to container {:?} in pod {:?} is not supported by this runtime",
            c.container, c.pod.name
        )))
    }
}
