//! The files the agent and its shims share: what a sandbox or container is to run
//! (`spec.json`, written by the agent) and what became of it (`shim.json` while it runs,
//! `exit.json` once it ended, written by the shim). The agent never holds these facts only
//! in memory, so a restarted agent finds every sandbox and container again.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How a file or directory from the host appears inside a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Host path (a directory or a file).
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// What `berth shim sandbox` sets up: the pod's network, UTS and IPC namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSpec {
    /// The pod's hostname (`web-0`).
    pub hostname: String,
}

/// What `berth shim run` starts inside a pod's sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// Program and arguments (`command` + `args`, variables expanded).
    pub argv: Vec<String>,
    /// Environment, in order.
    pub env: Vec<(String, String)>,
    /// Working directory inside the container.
    pub working_dir: Option<String>,
    /// User id to run as.
    pub uid: Option<u32>,
    /// Group id to run as.
    pub gid: Option<u32>,
    /// Supplementary groups (fsGroup, supplementalGroups).
    pub groups: Vec<u32>,
    /// Process id of the pod's sandbox (its namespaces are joined).
    pub sandbox_pid: i32,
    /// Volumes and the pod's `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`.
    pub mounts: Vec<Mount>,
    /// Host directories hidden from the container (the node's state).
    pub masked: Vec<PathBuf>,
    /// cgroup directories (one per controller) the container joins, if any.
    pub cgroups: Vec<PathBuf>,
}

/// Written by a shim once its child runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShimRecord {
    /// The shim's process id.
    pub shim_pid: i32,
    /// The shim's start time (clock ticks since boot) to tell a reused pid apart.
    pub shim_start: u64,
    /// The container's (or sandbox's) main process id, as seen from the host.
    pub pid: i32,
    /// That process's start time, to tell a reused pid apart.
    #[serde(default)]
    pub pid_start: u64,
    /// When it started (RFC 3339).
    pub started_at: String,
}

/// Written by a shim when its child ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// Exit code (128 + signal for a signalled process, as Kubernetes reports it).
    pub exit_code: i32,
    /// The signal that ended it, if any.
    pub signal: Option<i32>,
    /// When it ended (RFC 3339).
    pub finished_at: String,
    /// Why, when the shim could not even start the program (e.g. not found).
    pub message: Option<String>,
    /// The kernel's OOM killer ended it (its memory limit was reached).
    #[serde(default)]
    pub oom_killed: bool,
}

/// File names inside a sandbox or container directory.
pub mod files {
    /// The spec the shim reads.
    pub const SPEC: &str = "spec.json";
    /// [`super::ShimRecord`].
    pub const SHIM: &str = "shim.json";
    /// [`super::ExitRecord`].
    pub const EXIT: &str = "exit.json";
    /// The CRI-format log.
    pub const LOG: &str = "container.log";
}

/// Writes `value` as JSON to `dir/name` atomically (temporary file, fsync, rename).
pub fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))
}

/// Reads `dir/name` as JSON; `None` when it does not exist or is unreadable.
pub fn read_json<T: for<'de> Deserialize<'de>>(dir: &Path, name: &str) -> Option<T> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exit = ExitRecord {
            exit_code: 137,
            signal: Some(9),
            finished_at: "2026-01-01T00:00:00Z".into(),
            message: None,
            oom_killed: false,
        };
        write_json(dir.path(), files::EXIT, &exit).expect("write");
        assert_eq!(read_json::<ExitRecord>(dir.path(), files::EXIT), Some(exit));
        assert_eq!(read_json::<ExitRecord>(dir.path(), "missing.json"), None);
    }
}
