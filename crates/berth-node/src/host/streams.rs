//! The host runtime's answers to `kubectl exec`, `port-forward` and `logs`: commands run in
//! the container's namespaces through `nsenter` (util-linux) with the container's user and
//! environment, connections open from inside the pod's network namespace, and logs are the
//! shims' CRI files, one per container run.

use super::netns;
use super::spec::{ContainerSpec, ShimRecord, files, read_json};
use super::{pod_dir_record, process};
use berth_stream::{ContainerRef, PodRef, PodStreams, StreamError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Streams of one node's host-runtime pods.
#[derive(Debug, Clone)]
pub struct HostStreams {
    /// The node's state directory (`pods/<uid>/…` below it).
    pub root: PathBuf,
}

impl HostStreams {
    fn pod_dir(&self, pod: &PodRef) -> Result<PathBuf, StreamError> {
        let pods = self.root.join("pods");
        if !pod.uid.is_empty() {
            let dir = pods.join(&pod.uid);
            if dir.is_dir() {
                return Ok(dir);
            }
        }
        std::fs::read_dir(&pods)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|dir| pod_dir_record(dir).is_some_and(|(ns, name)| ns == pod.namespace && name == pod.name))
            .ok_or_else(|| StreamError::NotFound(format!("pod {:?} is not running on this node", pod.name)))
    }

    /// The runs of a container, oldest first.
    fn runs(&self, c: &ContainerRef) -> Result<Vec<PathBuf>, StreamError> {
        let dir = self.pod_dir(&c.pod)?.join("containers").join(&c.container);
        let mut runs: Vec<(u32, PathBuf)> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
            .collect();
        runs.sort();
        Ok(runs.into_iter().map(|(_, p)| p).collect())
    }

    fn running(&self, c: &ContainerRef) -> Result<(ShimRecord, ContainerSpec), StreamError> {
        let waiting = || {
            StreamError::BadRequest(format!(
                "container {:?} in pod {:?} is not running",
                c.container, c.pod.name
            ))
        };
        let run = self.runs(c)?.pop().ok_or_else(waiting)?;
        let shim: ShimRecord = read_json(&run, files::SHIM).ok_or_else(waiting)?;
        if run.join(files::EXIT).exists() || !process::is_same_process(shim.pid, shim.pid_start) {
            return Err(waiting());
        }
        let spec: ContainerSpec = read_json(&run, files::SPEC).ok_or_else(waiting)?;
        Ok((shim, spec))
    }
}

fn sandbox_pid(pod_dir: &Path) -> Option<i32> {
    let shim: ShimRecord = read_json(&pod_dir.join("sandbox"), files::SHIM)?;
    process::is_same_process(shim.shim_pid, shim.shim_start).then_some(shim.pid)
}

#[async_trait::async_trait]
impl PodStreams for HostStreams {
    async fn exec_command(
        &self,
        c: &ContainerRef,
        command: &[String],
    ) -> Result<tokio::process::Command, StreamError> {
        let (shim, spec) = self.running(c)?;
        let mut cmd = tokio::process::Command::new("/usr/bin/nsenter");
        cmd.arg("-t")
            .arg(shim.pid.to_string())
            .args(["-m", "-u", "-i", "-n", "-p", "-r", "-w"]);
        if let Some(gid) = spec.gid {
            cmd.arg(format!("--setgid={gid}"));
        }
        if let Some(uid) = spec.uid {
            cmd.arg(format!("--setuid={uid}"));
        }
        cmd.arg("--").args(command);
        cmd.env_clear().envs(spec.env.iter().cloned());
        Ok(cmd)
    }

    async fn port_forward(&self, p: &PodRef, port: u16) -> Result<tokio::net::TcpStream, StreamError> {
        let dir = self.pod_dir(p)?;
        let pid = sandbox_pid(&dir)
            .ok_or_else(|| StreamError::BadRequest(format!("pod {:?} has no running sandbox", p.name)))?;
        let netns = PathBuf::from(format!("/proc/{pid}/ns/net"));
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        netns::connect(netns, addr, Duration::from_secs(5)).await.map_err(|e| {
            StreamError::Internal(format!(
                "error forwarding port {port} to pod {}, uid : failed to connect to localhost:{port} inside namespace: {e}",
                p.name
            ))
        })
    }

    async fn log_file(&self, c: &ContainerRef, previous: bool) -> Result<Option<PathBuf>, StreamError> {
        let mut runs = self.runs(c)?;
        if previous {
            if runs.len() < 2 {
                return Err(StreamError::BadRequest(format!(
                    "previous terminated container {:?} in pod {:?} not found",
                    c.container, c.pod.name
                )));
            }
            runs.pop();
        }
        Ok(runs.pop().map(|r| r.join(files::LOG)).filter(|p| p.exists()))
    }
}
