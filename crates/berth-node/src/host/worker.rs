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

/// The sandbox's network record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct NetworkRecord {
    ip: String,
}

/// The probe trackers of one container run.
#[derive(Debug, Default)]
struct RunProbes {
    attempt: String,
    startup: Option<Tracker>,
    readiness: Option<Tracker>,
    liveness: Option<Tracker>,
}

/// A running sandbox.
#[derive(Debug, Clone)]
struct Sandbox {
    pid: i32,
    ip: String,
}

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

/// The runs of one container, oldest first, read from its directory.
fn attempts(dir: &Path) -> Vec<(u32, PathBuf, Attempt)> {
    let mut out: Vec<(u32, PathBuf, Attempt)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n: u32 = e.file_name().to_str()?.parse().ok()?;
            let path = e.path();
            let id = std::fs::read_to_string(path.join("id")).unwrap_or_default();
            let shim: Option<ShimRecord> = read_json(&path, files::SHIM);
            let exit: Option<ExitRecord> = read_json(&path, files::EXIT);
            let finished = match (&shim, exit) {
                (_, Some(x)) => Some(Finished {
                    exit_code: x.exit_code,
                    at: parse_time(&x.finished_at).unwrap_or_else(now),
                    start_error: x.message,
                    oom_killed: x.oom_killed,
                }),
                (Some(s), None) if !process::is_same_process(s.shim_pid, s.shim_start) => Some(Finished {
                    exit_code: 137,
                    at: now(),
                    start_error: None,
                    oom_killed: false,
                }),
                _ => None,
            };
            let started_at = shim.as_ref().and_then(|s| parse_time(&s.started_at));
            Some((
                n,
                path,
                Attempt {
                    id: id.trim().to_string(),
                    started_at,
                    finished,
                },
            ))
        })
        .collect();
    out.sort_by_key(|(n, _, _)| *n);
    out
}

/// Runs `probe` if it is due and returns its verdict (`None`: none yet, or no probe);
/// failures are worded for the `Unhealthy` event as the kubelet words them.
async fn due_probe(
    probe: Option<&Probe>,
    tracker: Option<&mut Tracker>,
    target: &ProbeTarget,
    now: Timestamp,
    kind: &str,
    messages: &mut Vec<String>,
    stop_once_passed: bool,
) -> Option<bool> {
    let (probe, tracker) = (probe?, tracker?);
    let settled = stop_once_passed && tracker.passing == Some(true);
    if !settled && tracker.due <= now {
        let outcome = probe::run(probe, target).await;
        if let Outcome::Failure(m) = &outcome {
            messages.push(format!("{kind} probe failed: {m}"));
        }
        tracker.record(probe, &outcome, now);
    }
    tracker.passing
}

/// Removes the cgroups of a finished run.
fn release_cgroups(run_dir: &Path) {
    if run_dir.join(files::EXIT).exists()
        && let Some(spec) = read_json::<ContainerSpec>(run_dir, files::SPEC)
    {
        cgroup::remove(&spec.cgroups);
    }
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
    fn containers_dir(&self, name: &str) -> PathBuf {
        self.dir.join("containers").join(name)
    }

    fn current_run(&self, name: &str) -> Option<(PathBuf, Attempt, ShimRecord)> {
        let (_, path, attempt) = attempts(&self.containers_dir(name)).pop()?;
        let shim: ShimRecord = read_json(&path, files::SHIM)?;
        Some((path, attempt, shim))
    }

    /// Finds a sandbox left by an earlier agent, if it still runs.
    fn adopt_sandbox(&mut self) {
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

    fn sandbox_alive(&self) -> bool {
        let dir = self.dir.join("sandbox");
        match (read_json::<ShimRecord>(&dir, files::SHIM), &self.sandbox) {
            (Some(s), Some(_)) => process::is_same_process(s.shim_pid, s.shim_start),
            _ => false,
        }
    }

    async fn start_sandbox(&mut self, pod: &Pod) -> Result<Sandbox, String> {
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

    fn container_spec(
        &self,
        pod: &Pod,
        c: &Container,
        env: Vec<(String, String)>,
        volume_paths: &volumes::VolumePaths,
        sandbox: &Sandbox,
    ) -> Result<ContainerSpec, String> {
        let argv = env::container_argv(c, &env);
        let pod_sc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
        let sc = c.security_context.as_ref();
        let uid = sc
            .and_then(|s| s.run_as_user)
            .or(pod_sc.and_then(|s| s.run_as_user));
        let gid = sc
            .and_then(|s| s.run_as_group)
            .or(pod_sc.and_then(|s| s.run_as_group));
        let mut groups: Vec<u32> = pod_sc
            .and_then(|s| s.supplemental_groups.clone())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|g| u32::try_from(g).ok())
            .collect();
        if let Some(fs) = pod_sc
            .and_then(|s| s.fs_group)
            .and_then(|g| u32::try_from(g).ok())
        {
            groups.push(fs);
        }
        let mut mounts = Vec::new();
        let mut targets = Vec::new();
        for vm in c.volume_mounts.iter().flatten() {
            let Some(source) = volume_paths.get(&vm.name) else {
                return Err(format!(
                    "volume \"{}\" not found for mount {}",
                    vm.name, vm.mount_path
                ));
            };
            let mut source = source.clone();
            if let Some(sub) = vm.sub_path.as_deref().filter(|s| !s.is_empty()) {
                if sub.split('/').any(|p| p == "..") || sub.starts_with('/') {
                    return Err(format!("invalid subPath \"{sub}\""));
                }
                source = source.join(sub);
                if !source.exists() {
                    std::fs::create_dir_all(&source).map_err(|e| e.to_string())?;
                }
            }
            targets.push(vm.mount_path.clone());
            mounts.push(Mount {
                source,
                target: vm.mount_path.clone(),
                read_only: vm.read_only.unwrap_or(false),
            });
        }
        let etc_dir = self.dir.join("etc");
        for (file, target) in [
            ("hosts", "/etc/hosts"),
            ("hostname", "/etc/hostname"),
            ("resolv.conf", "/etc/resolv.conf"),
        ] {
            if !targets.iter().any(|t| t == target) {
                mounts.push(Mount {
                    source: etc_dir.join(file),
                    target: target.into(),
                    read_only: false,
                });
            }
        }
        Ok(ContainerSpec {
            argv,
            env,
            working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
            uid: uid.and_then(|u| u32::try_from(u).ok()),
            gid: gid.and_then(|g| u32::try_from(g).ok()),
            groups,
            sandbox_pid: sandbox.pid,
            mounts,
            masked: self.rt.masked.clone(),
            cgroups: Vec::new(),
        })
    }

    async fn start_container(
        &mut self,
        pod: &Pod,
        c: &Container,
        mut spec: ContainerSpec,
    ) -> Result<(), String> {
        let base = self.containers_dir(&c.name);
        let runs = attempts(&base);
        for (_, run_dir, _) in &runs {
            release_cgroups(run_dir);
        }
        let next = runs.last().map(|(n, _, _)| n + 1).unwrap_or(0);
        let dir = base.join(next.to_string());
        spec.cgroups = cgroup::create(
            &format!("{}/{}-{next}", pod.uid().unwrap_or_default(), c.name),
            cgroup::Limits::of(c.resources.as_ref()),
        );
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating the container directory: {e}"))?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        std::fs::write(dir.join("id"), &id).map_err(|e| e.to_string())?;
        write_json(&dir, files::SPEC, &spec).map_err(|e| e.to_string())?;
        let image = c.image.clone().unwrap_or_default();
        events::emit(
            &self.rt.client,
            &self.rt.node_name,
            pod,
            "Normal",
            "Pulled",
            format!("Container image \"{image}\" already present on machine"),
        )
        .await;
        let mut child = tokio::process::Command::new(&self.rt.berth_exe)
            .args(["shim", "run"])
            .arg(&dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the container shim: {e}"))?;
        events::emit(
            &self.rt.client,
            &self.rt.node_name,
            pod,
            "Normal",
            "Created",
            format!("Created container: {}", c.name),
        )
        .await;
        // Wait until the program runs (or failed to), so the status never shows a run
        // without a start time.
        for _ in 0..2000 {
            if dir.join(files::SHIM).exists() || dir.join(files::EXIT).exists() {
                break;
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let exited = self.exited.clone();
        tokio::spawn(async move {
            let _ = child.wait().await;
            exited.notify_one();
        });
        events::emit(
            &self.rt.client,
            &self.rt.node_name,
            pod,
            "Normal",
            "Started",
            format!("Started container {}", c.name),
        )
        .await;
        Ok(())
    }

    /// Stops a container's current run: preStop, SIGTERM, then SIGKILL after `grace`.
    async fn stop_container(&self, pod: &Pod, c: &Container, grace: i64, sandbox: Option<&Sandbox>) {
        let Some((dir, attempt, shim)) = self.current_run(&c.name) else {
            return;
        };
        if attempt.finished.is_some() {
            return;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(grace as u64);
        if let (Some(pre_stop), Some(sandbox)) =
            (c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()), sandbox)
        {
            let probe = Probe {
                exec: pre_stop.exec.clone(),
                http_get: pre_stop.http_get.clone(),
                tcp_socket: pre_stop.tcp_socket.clone(),
                timeout_seconds: Some(grace.max(1) as i32),
                ..Probe::default()
            };
            let target = self.probe_target(c, shim.pid, sandbox);
            if let Some(sleep) = &pre_stop.sleep {
                let _ = tokio::time::timeout_at(
                    deadline,
                    tokio::time::sleep(Duration::from_secs(sleep.seconds.max(0) as u64)),
                )
                .await;
            } else if let Ok(Outcome::Failure(msg)) =
                tokio::time::timeout_at(deadline, probe::run(&probe, &target)).await
            {
                events::emit(
                    &self.rt.client,
                    &self.rt.node_name,
                    pod,
                    "Warning",
                    "FailedPreStopHook",
                    format!("PreStopHook failed: {msg}"),
                )
                .await;
            }
        }
        events::emit(
            &self.rt.client,
            &self.rt.node_name,
            pod,
            "Normal",
            "Killing",
            format!("Stopping container {}", c.name),
        )
        .await;
        process::signal(shim.pid, Signal::SIGTERM);
        let exited = |dir: &Path| {
            dir.join(files::EXIT).exists() || !process::is_same_process(shim.shim_pid, shim.shim_start)
        };
        while tokio::time::Instant::now() < deadline && !exited(&dir) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if !exited(&dir) {
            process::signal(shim.pid, Signal::SIGKILL);
            for _ in 0..100 {
                if exited(&dir) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    fn probe_target(&self, c: &Container, pid: i32, sandbox: &Sandbox) -> ProbeTarget {
        // The current run's spec: exec probes see the container's environment and user.
        let spec = self
            .current_run(&c.name)
            .and_then(|(dir, _, _)| read_json::<ContainerSpec>(&dir, files::SPEC));
        ProbeTarget {
            pid,
            env: spec.as_ref().map(|s| s.env.clone()).unwrap_or_default(),
            uid: spec.as_ref().and_then(|s| s.uid),
            gid: spec.as_ref().and_then(|s| s.gid),
            netns: PathBuf::from(format!("/proc/{}/ns/net", sandbox.pid)),
            pod_ip: sandbox.ip.clone(),
            ports: c
                .ports
                .iter()
                .flatten()
                .filter_map(|p| Some((p.name.clone()?, p.container_port)))
                .collect(),
        }
    }

    /// Runs the probes that are due and returns what they say.
    async fn run_probes(&mut self, pod: &Pod, sandbox: &Sandbox) -> BTreeMap<String, ProbeView> {
        let mut views = BTreeMap::new();
        let containers = pod
            .spec
            .as_ref()
            .map(|s| s.containers.clone())
            .unwrap_or_default();
        for c in &containers {
            let Some((_, attempt, shim)) = self.current_run(&c.name) else {
                continue;
            };
            let Some(started) = attempt.started_at.filter(|_| attempt.finished.is_none()) else {
                continue;
            };
            let entry = self.probes.entry(c.name.clone()).or_default();
            if entry.attempt != attempt.id {
                *entry = RunProbes {
                    attempt: attempt.id.clone(),
                    startup: c.startup_probe.as_ref().map(|p| Tracker::new(p, started)),
                    readiness: c.readiness_probe.as_ref().map(|p| Tracker::new(p, started)),
                    liveness: c.liveness_probe.as_ref().map(|p| Tracker::new(p, started)),
                };
            }
            let target = self.probe_target(c, shim.pid, sandbox);
            let t = now();
            let mut messages = Vec::new();
            let entry = self.probes.entry(c.name.clone()).or_default();
            let mut ready = false;
            let mut live_failed = false;
            // A startup probe stops once it passed; the others wait for it.
            let startup = due_probe(
                c.startup_probe.as_ref(),
                entry.startup.as_mut(),
                &target,
                t,
                "Startup",
                &mut messages,
                true,
            )
            .await;
            let started_ok = startup != Some(false) && (c.startup_probe.is_none() || startup == Some(true));
            let startup_failed = startup == Some(false);
            if started_ok {
                let readiness = due_probe(
                    c.readiness_probe.as_ref(),
                    entry.readiness.as_mut(),
                    &target,
                    t,
                    "Readiness",
                    &mut messages,
                    false,
                )
                .await;
                ready = c.readiness_probe.is_none() || readiness == Some(true);
                let liveness = due_probe(
                    c.liveness_probe.as_ref(),
                    entry.liveness.as_mut(),
                    &target,
                    t,
                    "Liveness",
                    &mut messages,
                    false,
                )
                .await;
                live_failed = liveness == Some(false);
            }
            for m in messages {
                events::emit(
                    &self.rt.client,
                    &self.rt.node_name,
                    pod,
                    "Warning",
                    "Unhealthy",
                    m,
                )
                .await;
            }
            views.insert(
                c.name.clone(),
                ProbeView {
                    started: started_ok,
                    ready,
                    failed: live_failed || startup_failed,
                },
            );
        }
        views
    }

    /// The next time a probe is due, so the worker wakes for it.
    fn next_probe(&self) -> Option<Timestamp> {
        self.probes
            .values()
            .flat_map(|p| [&p.startup, &p.readiness, &p.liveness])
            .flatten()
            .map(|t| t.due)
            .min()
    }

    /// Stops the sandbox of a pod whose containers all ended for good, as the kubelet does
    /// for a `Succeeded` or `Failed` pod; its directory (and logs) stay until it is deleted.
    async fn finish(&mut self, pod: &Pod) {
        let dir = self.dir.join("sandbox");
        if let Some(s) = read_json::<ShimRecord>(&dir, files::SHIM) {
            let alive = process::is_same_process(s.shim_pid, s.shim_start).then_some(s.pid);
            let _ = self.rt.network.del(&pod.uid().unwrap_or_default(), alive).await;
            process::signal(s.shim_pid, Signal::SIGKILL);
            let _ = std::fs::remove_file(dir.join(files::SHIM));
        }
        self.sandbox = None;
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
