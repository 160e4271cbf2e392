//! The `host` runtime: pods as real processes on this machine, each container's command run
//! from the host's filesystem (images are recorded, not pulled) in the pod's own network,
//! UTS and IPC namespaces and the container's own PID and mount namespaces, with the pod's
//! volumes at their mount paths. A kubelet in small:
//!
//! - [`shim`]: the processes that own sandboxes and containers and outlive the agent;
//! - [`rootfs`], [`network`], [`volumes`], [`etc`], [`env`], [`projection`]: what a
//!   container sees;
//! - [`lifecycle`] (pure) and [`worker`]: what to start, restart, kill and report;
//! - [`probe`], [`netns`]: probes and connections from inside a pod's network;
//! - [`log`]: CRI-format container logs.
//!
//! A node's state lives under its root: `pods/<uid>/sandbox/…` and
//! `pods/<uid>/containers/<name>/<run>/…`.

pub mod cgroup;
pub mod dns;
pub mod env;
pub mod etc;
pub mod events;
pub mod lifecycle;
pub mod log;
pub mod netns;
pub mod network;
pub mod probe;
pub mod process;
pub mod projection;
pub mod rootfs;
pub mod shim;
pub mod spec;
pub mod streams;
pub mod volumes;
pub mod worker;

use k8s_openapi::api::core::v1::Pod;
use kube::{Client, ResourceExt};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// One node's host runtime.
pub struct HostRuntime {
    /// The API.
    pub client: Client,
    /// The node's name.
    pub node_name: String,
    /// The node's address as reported in pod status.
    pub host_ip: String,
    /// The node's state directory.
    pub root: PathBuf,
    /// The pod network.
    pub network: network::PodNetwork,
    /// Host directories hidden from containers (the server's data directory).
    pub masked: Vec<PathBuf>,
    /// The `berth` binary the shims are started from.
    pub berth_exe: PathBuf,
}

/// Starts, updates and stops pod workers as the set of pods bound to the node changes.
pub struct PodWorkers {
    rt: Arc<HostRuntime>,
    workers: HashMap<String, watch::Sender<Option<Pod>>>,
}

impl PodWorkers {
    /// Workers for `rt`; pods left on disk by an earlier agent are adopted by the first
    /// [`PodWorkers::sync`] (or torn down if the API no longer has them).
    pub fn new(rt: Arc<HostRuntime>) -> Self {
        Self {
            rt,
            workers: HashMap::new(),
        }
    }

    fn pods_dir(&self) -> PathBuf {
        self.rt.root.join("pods")
    }

    fn spawn(&mut self, uid: &str, pod: Option<Pod>) {
        let (tx, rx) = watch::channel(pod);
        let dir = self.pods_dir().join(uid);
        tokio::spawn(worker::run(self.rt.clone(), dir, rx));
        self.workers.insert(uid.to_string(), tx);
    }

    /// Brings the workers in line with `pods` (every pod bound to this node).
    pub fn sync(&mut self, pods: &[Arc<Pod>]) {
        let mut live = std::collections::HashSet::new();
        for pod in pods {
            let Some(uid) = pod.uid() else { continue };
            live.insert(uid.clone());
            match self.workers.get(&uid) {
                Some(tx) => {
                    if tx.borrow().as_ref() != Some(pod.as_ref()) {
                        let _ = tx.send(Some(pod.as_ref().clone()));
                    }
                }
                None => self.spawn(&uid, Some(pod.as_ref().clone())),
            }
        }
        // Pods on disk with no pod in the API (deleted while the agent was away).
        if let Ok(entries) = std::fs::read_dir(self.pods_dir()) {
            for e in entries.flatten() {
                let uid = e.file_name().to_string_lossy().into_owned();
                if !live.contains(&uid) && !self.workers.contains_key(&uid) {
                    self.spawn(&uid, None);
                }
            }
        }
        self.workers.retain(|uid, tx| {
            if live.contains(uid) {
                true
            } else {
                let _ = tx.send(None);
                false
            }
        });
    }
}

/// The file in a pod's directory naming the pod (`{"namespace": …, "name": …}`).
pub const POD_RECORD: &str = "pod.json";

/// The namespace and name of the pod whose directory is `dir`.
pub fn pod_dir_record(dir: &std::path::Path) -> Option<(String, String)> {
    let v: serde_json::Value = spec::read_json(dir, POD_RECORD)?;
    Some((
        v["namespace"].as_str()?.to_string(),
        v["name"].as_str()?.to_string(),
    ))
}

/// Stops every sandbox and container under a node root (for `berth reset`): kills the
/// shims' processes and releases nothing else (the caller removes the directories and
/// the bridge namespace).
pub fn kill_all(root: &std::path::Path) {
    use nix::sys::signal::Signal;
    let Ok(pods) = std::fs::read_dir(root.join("pods")) else {
        return;
    };
    for pod in pods.flatten() {
        let mut dirs = vec![pod.path().join("sandbox")];
        for c in std::fs::read_dir(pod.path().join("containers"))
            .into_iter()
            .flatten()
            .flatten()
        {
            for run in std::fs::read_dir(c.path()).into_iter().flatten().flatten() {
                dirs.push(run.path());
            }
        }
        for d in dirs {
            if let Some(s) = spec::read_json::<spec::ShimRecord>(&d, spec::files::SHIM) {
                if process::is_same_process(s.pid, s.pid_start) {
                    process::signal(s.pid, Signal::SIGKILL);
                }
                if process::is_same_process(s.shim_pid, s.shim_start) {
                    process::signal(s.shim_pid, Signal::SIGKILL);
                }
            }
        }
    }
}
