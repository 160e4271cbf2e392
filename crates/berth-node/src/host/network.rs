//! Pod networking through the CNI reference plugins (Debian's `containernetworking-plugins`):
//! every pod's network namespace gets a veth pair onto the bridge `berth0` and an address
//! from its node's range of `10.244.0.0/16` (`host-local` IPAM, node N owns
//! `10.244.N.2`–`10.244.N.254`).
//!
//! The bridge does not live in the host's network namespace: each server has its own
//! namespace (`ip netns add berth-…`), so servers on one machine never share addresses and
//! nothing Berth configures touches the host's network. The bridge's namespace also carries
//! the cluster DNS address (`10.96.0.10`) on its loopback device, where the DNS server
//! listens; pods reach it through their default route.

use std::path::{Path, PathBuf};
use tokio::process::Command;

/// Where the CNI plugins are installed.
pub const CNI_BIN: &str = "/usr/lib/cni";
/// The cluster DNS address pods are given in `/etc/resolv.conf`.
pub const DNS_ADDRESS: &str = "10.96.0.10";
/// The bridge's address, every pod's gateway.
pub const GATEWAY: &str = "10.244.0.1";

/// Why the pod network could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A command could not run.
    #[error("running {command}: {source} (are iproute2 and containernetworking-plugins installed?)")]
    Spawn {
        /// The command.
        command: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A command failed.
    #[error("{command} failed: {output}")]
    Failed {
        /// The command.
        command: String,
        /// What it printed.
        output: String,
    },
    /// The plugin answered something unexpected.
    #[error("the CNI plugin returned no address: {0}")]
    NoAddress(String),
}

async fn run(mut cmd: Command, what: &str, stdin: Option<&[u8]>) -> Result<String, NetworkError> {
    use tokio::io::AsyncWriteExt;
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| NetworkError::Spawn {
        command: what.to_string(),
        source,
    })?;
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.unwrap_or_default()).await;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|source| NetworkError::Spawn {
            command: what.to_string(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(NetworkError::Failed {
            command: what.to_string(),
            output: format!("{stdout}{}", String::from_utf8_lossy(&out.stderr))
                .trim()
                .to_string(),
        })
    }
}

/// The name of the bridge namespace of the server whose data directory is `data_dir`.
pub fn namespace_name(data_dir: &Path) -> String {
    let canonical = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
    // FNV-1a: short, stable across runs and builds.
    let mut hash: u32 = 0x811c_9dc5;
    for b in canonical.to_string_lossy().bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("berth-{hash:08x}")
}

/// The path of a named network namespace.
pub fn namespace_path(name: &str) -> PathBuf {
    Path::new("/run/netns").join(name)
}

/// Creates the bridge namespace if it does not exist yet; idempotent.
pub async fn ensure_namespace(name: &str) -> Result<(), NetworkError> {
    if !namespace_path(name).exists() {
        let mut add = Command::new("ip");
        add.args(["netns", "add", name]);
        if let Err(e) = run(add, "ip netns add", None).await
            && !namespace_path(name).exists()
        {
            return Err(e);
        }
    }
    let mut lo = Command::new("ip");
    lo.args(["-n", name, "link", "set", "lo", "up"]);
    run(lo, "ip link set lo up", None).await?;
    let mut dns = Command::new("ip");
    dns.args([
        "-n",
        name,
        "addr",
        "replace",
        &format!("{DNS_ADDRESS}/32"),
        "dev",
        "lo",
    ]);
    run(dns, "ip addr replace (cluster DNS address)", None).await?;
    Ok(())
}

/// Removes the bridge namespace (and with it the bridge).
pub async fn remove_namespace(name: &str) -> Result<(), NetworkError> {
    if namespace_path(name).exists() {
        let mut del = Command::new("ip");
        del.args(["netns", "del", name]);
        run(del, "ip netns del", None).await?;
    }
    Ok(())
}

/// One node's view of the pod network.
#[derive(Debug, Clone)]
pub struct PodNetwork {
    /// The bridge namespace's name.
    pub namespace: String,
    /// The node's range: `10.244.<subnet>.0/24`.
    pub subnet: u8,
    /// Where `host-local` keeps its allocations.
    pub ipam_dir: PathBuf,
}

impl PodNetwork {
    fn config(&self) -> String {
        serde_json::json!({
            "cniVersion": "1.0.0",
            "name": "berth",
            "type": "bridge",
            "bridge": "berth0",
            "isGateway": true,
            "hairpinMode": true,
            "ipam": {
                "type": "host-local",
                "dataDir": self.ipam_dir,
                "ranges": [[{
                    "subnet": "10.244.0.0/16",
                    "rangeStart": format!("10.244.{}.2", self.subnet),
                    "rangeEnd": format!("10.244.{}.254", self.subnet),
                    "gateway": GATEWAY,
                }]],
                "routes": [{"dst": "0.0.0.0/0"}],
            },
        })
        .to_string()
    }

    fn plugin(&self, plugin: &str, command: &str, id: &str, netns: &str) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", namespace_path(&self.namespace).display()))
            .arg(Path::new(CNI_BIN).join(plugin))
            .env("CNI_COMMAND", command)
            .env("CNI_CONTAINERID", id)
            .env("CNI_NETNS", netns)
            .env("CNI_IFNAME", "eth0")
            .env("CNI_PATH", CNI_BIN);
        cmd
    }

    /// Connects the network namespace of process `sandbox_pid` and returns its address.
    pub async fn add(&self, id: &str, sandbox_pid: i32) -> Result<String, NetworkError> {
        let netns = format!("/proc/{sandbox_pid}/ns/net");
        let lo = serde_json::json!({"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}).to_string();
        run(
            self.plugin("loopback", "ADD", id, &netns),
            "CNI loopback ADD",
            Some(lo.as_bytes()),
        )
        .await?;
        let out = run(
            self.plugin("bridge", "ADD", id, &netns),
            "CNI bridge ADD",
            Some(self.config().as_bytes()),
        )
        .await?;
        let result: serde_json::Value =
            serde_json::from_str(&out).map_err(|_| NetworkError::NoAddress(out.clone()))?;
        result
            .pointer("/ips/0/address")
            .and_then(|a| a.as_str())
            .and_then(|a| a.split('/').next())
            .map(str::to_string)
            .ok_or(NetworkError::NoAddress(out))
    }

    /// Disconnects a pod and releases its address; `sandbox_pid` is `None` once the sandbox is gone.
    pub async fn del(&self, id: &str, sandbox_pid: Option<i32>) -> Result<(), NetworkError> {
        let netns = sandbox_pid
            .map(|p| format!("/proc/{p}/ns/net"))
            .unwrap_or_default();
        run(
            self.plugin("bridge", "DEL", id, &netns),
            "CNI bridge DEL",
            Some(self.config().as_bytes()),
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_names_are_stable_and_distinct() {
        let a = namespace_name(Path::new("/nonexistent/a"));
        assert_eq!(a, namespace_name(Path::new("/nonexistent/a")));
        assert_ne!(a, namespace_name(Path::new("/nonexistent/b")));
        assert!(a.starts_with("berth-") && a.len() == 14);
    }

    #[test]
    fn each_node_allocates_from_its_own_range() {
        let net = PodNetwork {
            namespace: "berth-x".into(),
            subnet: 3,
            ipam_dir: "/tmp/ipam".into(),
        };
        let config: serde_json::Value = serde_json::from_str(&net.config()).expect("json");
        assert_eq!(
            config.pointer("/ipam/ranges/0/0/rangeStart"),
            Some(&"10.244.3.2".into())
        );
        assert_eq!(config.pointer("/ipam/ranges/0/0/gateway"), Some(&GATEWAY.into()));
    }
}
