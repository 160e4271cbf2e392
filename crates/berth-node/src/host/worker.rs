//! One pod on the host runtime, driven as the kubelet's pod worker drives it: the sandbox
//! (namespaces + network), the volumes, the containers' runs and probes, the status, and on
//! deletion the graceful stop (preStop, SIGTERM, the grace period, SIGKILL) and clean-up.
//!
//! Everything a worker knows is on disk under the pod's directory (see [`super::spec`]), so
//! a worker started after an agent restart picks up running sandboxes and containers.

use super::lifecycle::{self, Action, Attempt, Finished, ProbeView};
use super::probe::{self, Outcome, ProbeTarget, Tracker};
use super::spec::{ContainerSpec, ExitRecord, Mount, SandboxSpec, ShimRecord, files, read_json, write_json};
use super::{HostRuntime, cgroup, env, etc, events, network, process, volumes};
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, PodStatus, Probe, Secret};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::{Api, ResourceExt};
use nix::sys::signal::Signal;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// A running sandbox.
#[derive(Debug, Clone)]
struct Sandbox {
    pid: i32,
    ip: String,
}

mod containers;
mod probes;
mod sandbox;

use containers::{attempts, release_cgroups};
use probes::RunProbes;

struct Worker {
    rt: Arc<HostRuntime>,
    dir: PathBuf,
    sandbox: Option<Sandbox>,
    probes: BTreeMap<String, RunProbes>,
    exited: Arc<Notify>,
    last_volume_error: Option<String>,
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn parse_time(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

fn all_containers(pod: &Pod) -> Vec<&Container> {
    pod.spec
        .as_ref()
        .map(|s| {
            s.init_containers
                .iter()
                .flatten()
                .chain(s.containers.iter())
                .collect()
        })
        .unwrap_or_default()
}

fn grace_period(pod: &Pod) -> i64 {
    pod.metadata
        .deletion_grace_period_seconds
        .or_else(|| pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds))
        .unwrap_or(30)
        .max(0)
}

impl Worker {
    async fn fetch_sources(&self, pod: &Pod) -> (BTreeMap<String, ConfigMap>, BTreeMap<String, Secret>) {
        let ns = pod.namespace().unwrap_or_default();
        let (cm_names, secret_names) = env::referenced_objects(pod);
        let mut config_maps = BTreeMap::new();
        let cms: Api<ConfigMap> = Api::namespaced(self.rt.client.clone(), &ns);
        for name in cm_names {
            if let Ok(Some(cm)) = cms.get_opt(&name).await {
                config_maps.insert(name, cm);
            }
        }
        let mut secrets = BTreeMap::new();
        let sapi: Api<Secret> = Api::namespaced(self.rt.client.clone(), &ns);
        for name in secret_names {
            if let Ok(Some(s)) = sapi.get_opt(&name).await {
                secrets.insert(name, s);
            }
        }
        (config_maps, secrets)
    }

    fn write_etc_files(&self, pod: &Pod, ip: &str) -> Result<(), String> {
        let etc_dir = self.dir.join("etc");
        std::fs::create_dir_all(&etc_dir).map_err(|e| e.to_string())?;
        let (hostname, _) = etc::hostname(pod);
        std::fs::write(etc_dir.join("hosts"), etc::hosts(pod, ip)).map_err(|e| e.to_string())?;
        std::fs::write(etc_dir.join("hostname"), format!("{hostname}\n")).map_err(|e| e.to_string())?;
        std::fs::write(
            etc_dir.join("resolv.conf"),
            etc::resolv_conf(pod, network::DNS_ADDRESS),
        )
        .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// One pass over a live pod; returns when to look again.
    async fn sync(&mut self, pod: &Pod) -> Option<Timestamp> {
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        if matches!(phase, Some("Succeeded" | "Failed")) {
            self.finish(pod).await;
            return None;
        }
        if self.sandbox.is_some() && !self.sandbox_alive() {
            tracing::warn!(pod = %pod.name_any(), "the pod's sandbox died; restarting it and its containers");
            for c in all_containers(pod) {
                self.stop_container(pod, c, 0, None).await;
            }
            self.sandbox = None;
        }
        if self.sandbox.is_none() {
            match self.start_sandbox(pod).await {
                Ok(s) => self.sandbox = Some(s),
                Err(e) => {
                    events::emit(
                        &self.rt.client,
                        &self.rt.node_name,
                        pod,
                        "Warning",
                        "FailedCreatePodSandBox",
                        format!("Failed to create pod sandbox: {e}"),
                    )
                    .await;
                    return Some(
                        now()
                            .checked_add(SignedDuration::from_secs(5))
                            .unwrap_or_else(|_| now()),
                    );
                }
            }
        }
        let sandbox = self.sandbox.clone()?;
        let (config_maps, secrets) = self.fetch_sources(pod).await;
        let volume_paths =
            match volumes::prepare(&self.rt.client, pod, &self.dir, &config_maps, &secrets).await {
                Ok(paths) => {
                    self.last_volume_error = None;
                    Some(paths)
                }
                Err(e) => {
                    if self.last_volume_error.as_deref() != Some(e.as_str()) {
                        events::emit(
                            &self.rt.client,
                            &self.rt.node_name,
                            pod,
                            "Warning",
                            "FailedMount",
                            e.clone(),
                        )
                        .await;
                        self.last_volume_error = Some(e);
                    }
                    None
                }
            };
        if let Err(e) = self.write_etc_files(pod, &sandbox.ip) {
            tracing::warn!(error = %e, "writing the pod's /etc files failed");
        }

        let mut history = BTreeMap::new();
        for c in all_containers(pod) {
            history.insert(
                c.name.clone(),
                attempts(&self.containers_dir(&c.name))
                    .into_iter()
                    .map(|(_, _, a)| a)
                    .collect(),
            );
        }
        let probes = self.run_probes(pod, &sandbox).await;
        let env_sources_allocatable = BTreeMap::new();
        let sources = env::EnvSources {
            config_maps: &config_maps,
            secrets: &secrets,
            pod_ip: &sandbox.ip,
            host_ip: &self.rt.host_ip,
            node_allocatable: &env_sources_allocatable,
        };
        let mut envs = BTreeMap::new();
        let mut config_errors = BTreeMap::new();
        for c in all_containers(pod) {
            match env::container_env(pod, c, &sources) {
                Ok(e) => {
                    envs.insert(c.name.clone(), e);
                }
                Err(msg) => {
                    config_errors.insert(c.name.clone(), msg);
                }
            }
        }
        let pod_ip = volume_paths.as_ref().map(|_| sandbox.ip.as_str());
        let plan = lifecycle::plan(&lifecycle::Observed {
            pod,
            now: now(),
            host_ip: &self.rt.host_ip,
            pod_ip,
            history: &history,
            probes: &probes,
            config_errors: &config_errors,
        });
        let mut status = plan.status;
        if volume_paths.is_none() {
            // The sandbox runs but the pod is not ready to start containers yet; report its IP anyway.
            status.pod_ip = Some(sandbox.ip.clone());
            status.pod_ips = Some(vec![k8s_openapi::api::core::v1::PodIP {
                ip: sandbox.ip.clone(),
            }]);
        }
        self.report(pod, status).await;
        for action in plan.actions {
            match action {
                Action::Start { name } => {
                    let Some(c) = all_containers(pod).into_iter().find(|c| c.name == name) else {
                        continue;
                    };
                    let (Some(paths), Some(env)) = (volume_paths.as_ref(), envs.get(&name)) else {
                        continue;
                    };
                    let spec = match self.container_spec(pod, c, env.clone(), paths, &sandbox) {
                        Ok(s) => s,
                        Err(e) => {
                            events::emit(
                                &self.rt.client,
                                &self.rt.node_name,
                                pod,
                                "Warning",
                                "Failed",
                                format!("Error: {e}"),
                            )
                            .await;
                            continue;
                        }
                    };
                    let restarting = history.get(&name).is_some_and(|h| !h.is_empty());
                    if restarting && history.get(&name).is_some_and(|h| h.len() >= 2) {
                        events::emit(
                            &self.rt.client,
                            &self.rt.node_name,
                            pod,
                            "Warning",
                            "BackOff",
                            format!(
                                "Back-off restarting failed container {name} in pod {}_{}({})",
                                pod.name_any(),
                                pod.namespace().unwrap_or_default(),
                                pod.uid().unwrap_or_default()
                            ),
                        )
                        .await;
                    }
                    if let Err(e) = self.start_container(pod, c, spec).await {
                        events::emit(
                            &self.rt.client,
                            &self.rt.node_name,
                            pod,
                            "Warning",
                            "Failed",
                            format!("Error: {e}"),
                        )
                        .await;
                    }
                }
                Action::Kill { name } => {
                    let Some(c) = all_containers(pod).into_iter().find(|c| c.name == name) else {
                        continue;
                    };
                    events::emit(
                        &self.rt.client,
                        &self.rt.node_name,
                        pod,
                        "Normal",
                        "Killing",
                        format!("Container {name} failed liveness probe, will be restarted"),
                    )
                    .await;
                    let grace = pod
                        .spec
                        .as_ref()
                        .and_then(|s| s.termination_grace_period_seconds)
                        .unwrap_or(30);
                    self.stop_container(pod, c, grace, Some(&sandbox)).await;
                    self.probes.remove(&name);
                }
            }
        }
        let soon = now().checked_add(SignedDuration::from_secs(1)).ok();
        [plan.wake_at, self.next_probe(), soon]
            .into_iter()
            .flatten()
            .min()
    }

    async fn report(&self, pod: &Pod, status: PodStatus) {
        if pod.status.as_ref() == Some(&status) {
            return;
        }
        let api: Api<Pod> = Api::namespaced(self.rt.client.clone(), &pod.namespace().unwrap_or_default());
        let patch = json!({"status": status});
        if let Err(e) = api
            .patch_status(&pod.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::debug!(pod = %pod.name_any(), error = %e, "status update failed; will retry");
        }
    }

    /// Stops everything of the pod and removes its directory.
    async fn teardown(&mut self, pod: Option<&Pod>, grace: i64) {
        if let Some(pod) = pod {
            let sandbox = self.sandbox.clone();
            let containers: Vec<Container> = all_containers(pod).into_iter().cloned().collect();
            let stops = containers
                .iter()
                .map(|c| self.stop_container(pod, c, grace, sandbox.as_ref()));
            futures::future::join_all(stops).await;
        } else {
            // The pod is gone from the API: kill what is left.
            for run in std::fs::read_dir(self.dir.join("containers"))
                .into_iter()
                .flatten()
                .flatten()
            {
                if let Some((_, path, a)) = attempts(&run.path()).pop()
                    && a.finished.is_none()
                    && let Some(shim) = read_json::<ShimRecord>(&path, files::SHIM)
                {
                    process::signal(shim.pid, Signal::SIGKILL);
                }
            }
        }
        for c in std::fs::read_dir(self.dir.join("containers"))
            .into_iter()
            .flatten()
            .flatten()
        {
            for (_, run_dir, _) in attempts(&c.path()) {
                release_cgroups(&run_dir);
            }
        }
        let sandbox_dir = self.dir.join("sandbox");
        let uid = self
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shim: Option<ShimRecord> = read_json(&sandbox_dir, files::SHIM);
        let alive = shim
            .as_ref()
            .filter(|s| process::is_same_process(s.shim_pid, s.shim_start))
            .map(|s| s.pid);
        let _ = self.rt.network.del(&uid, alive).await;
        if let Some(s) = shim {
            process::signal(s.shim_pid, Signal::SIGKILL);
        }
        // Give the shims a moment to write their last records, then forget the pod.
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "removing the pod directory failed");
        }
        self.sandbox = None;
    }
}

/// Drives one pod until it is gone from the API (`None` on the channel or the sender dropped).
pub async fn run(rt: Arc<HostRuntime>, dir: PathBuf, mut pods: watch::Receiver<Option<Pod>>) {
    let mut w = Worker {
        rt,
        dir,
        sandbox: None,
        probes: BTreeMap::new(),
        exited: Arc::new(Notify::new()),
        last_volume_error: None,
    };
    if let Err(e) = std::fs::create_dir_all(&w.dir) {
        tracing::warn!(dir = %w.dir.display(), error = %e, "creating the pod directory failed");
    }
    if let Some(pod) = pods.borrow().as_ref() {
        let record = json!({"namespace": pod.namespace(), "name": pod.name_any()});
        if let Err(e) = write_json(&w.dir, super::POD_RECORD, &record) {
            tracing::warn!(dir = %w.dir.display(), error = %e, "recording the pod's name failed");
        }
    }
    w.adopt_sandbox();
    loop {
        let pod = pods.borrow_and_update().clone();
        let Some(pod) = pod else {
            w.teardown(None, 0).await;
            return;
        };
        if pod.metadata.deletion_timestamp.is_some() {
            let grace = grace_period(&pod);
            w.teardown(Some(&pod), grace).await;
            let api: Api<Pod> = Api::namespaced(w.rt.client.clone(), &pod.namespace().unwrap_or_default());
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: pod.uid(),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            if let Err(e) = api.delete(&pod.name_any(), &dp).await {
                tracing::debug!(pod = %pod.name_any(), error = %e, "finishing the deletion failed");
            }
            // Wait for the API to drop the pod.
            while pods.changed().await.is_ok() {
                if pods.borrow().is_none() {
                    break;
                }
            }
            return;
        }
        let wake = w.sync(&pod).await;
        let sleep_for = match wake {
            None => Duration::from_secs(1),
            Some(t) => Duration::try_from(t.duration_since(now()))
                .unwrap_or(Duration::from_millis(10))
                .clamp(Duration::from_millis(10), Duration::from_secs(1)),
        };
        tokio::select! {
            changed = pods.changed() => if changed.is_err() {
                w.teardown(None, 0).await;
                return;
            },
            _ = w.exited.notified() => {}
            _ = tokio::time::sleep(sleep_for) => {}
        }
    }
}
