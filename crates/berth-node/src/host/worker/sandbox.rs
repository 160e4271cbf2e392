//! The pod sandbox: the shim that holds the pod's network, UTS and IPC namespaces, its
//! address from the pod network, found again after an agent restart, and stopped when the
//! pod is finished.

use super::*;

/// The sandbox's network record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct NetworkRecord {
    pub(super) ip: String,
}

impl Worker {
    /// Finds a sandbox left by an earlier agent, if it still runs.
    pub(super) fn adopt_sandbox(&mut self) {
        let dir = self.dir.join("sandbox");
        let shim: Option<ShimRecord> = read_json(&dir, files::SHIM);
        let net: Option<NetworkRecord> = read_json(&dir, "network.json");
        if let (Some(shim), Some(net)) = (shim, net)
            && process::is_same_process(shim.shim_pid, shim.shim_start)
        {
            self.sandbox = Some(Sandbox {
                pid: shim.pid,
                ip: net.ip,
            });
        }
    }

    pub(super) fn sandbox_alive(&self) -> bool {
        let dir = self.dir.join("sandbox");
        match (read_json::<ShimRecord>(&dir, files::SHIM), &self.sandbox) {
            (Some(s), Some(_)) => process::is_same_process(s.shim_pid, s.shim_start),
            _ => false,
        }
    }

    pub(super) async fn start_sandbox(&mut self, pod: &Pod) -> Result<Sandbox, String> {
        let dir = self.dir.join("sandbox");
        if let Some(old) = read_json::<ShimRecord>(&dir, files::SHIM) {
            // The old sandbox died: release its address before making a new one.
            let _ = self.rt.network.del(&pod.uid().unwrap_or_default(), None).await;
            let _ = std::fs::remove_file(dir.join(files::SHIM));
            process::signal(old.shim_pid, Signal::SIGKILL);
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating the sandbox directory: {e}"))?;
        let (hostname, _) = etc::hostname(pod);
        write_json(&dir, files::SPEC, &SandboxSpec { hostname }).map_err(|e| e.to_string())?;
        let mut child = tokio::process::Command::new(&self.rt.berth_exe)
            .args(["shim", "sandbox"])
            .arg(&dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the sandbox: {e}"))?;
        let shim = loop {
            if let Some(s) = read_json::<ShimRecord>(&dir, files::SHIM) {
                break s;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the sandbox exited at start ({status})"));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        let ip = self
            .rt
            .network
            .add(&pod.uid().unwrap_or_default(), shim.pid)
            .await
            .map_err(|e| format!("setting up the pod network: {e}"))?;
        write_json(&dir, "network.json", &NetworkRecord { ip: ip.clone() }).map_err(|e| e.to_string())?;
        Ok(Sandbox { pid: shim.pid, ip })
    }

    /// Stops the sandbox of a pod whose containers all ended for good, as the kubelet does
    /// for a `Succeeded` or `Failed` pod; its directory (and logs) stay until it is deleted.
    pub(super) async fn finish(&mut self, pod: &Pod) {
        let dir = self.dir.join("sandbox");
        if let Some(s) = read_json::<ShimRecord>(&dir, files::SHIM) {
            let alive = process::is_same_process(s.shim_pid, s.shim_start).then_some(s.pid);
            let _ = self.rt.network.del(&pod.uid().unwrap_or_default(), alive).await;
            process::signal(s.shim_pid, Signal::SIGKILL);
            let _ = std::fs::remove_file(dir.join(files::SHIM));
        }
        self.sandbox = None;
    }
}
