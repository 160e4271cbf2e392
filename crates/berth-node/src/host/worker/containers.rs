//! Container runs: their records on disk, the spec a shim runs (argv, env, user, mounts,
//! cgroups), starting a run and stopping one gracefully (preStop, SIGTERM, grace, SIGKILL).

use super::*;

/// The runs of one container, oldest first, read from its directory.
pub(super) fn attempts(dir: &Path) -> Vec<(u32, PathBuf, Attempt)> {
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

/// Removes the cgroups of a finished run.
pub(super) fn release_cgroups(run_dir: &Path) {
    if run_dir.join(files::EXIT).exists()
        && let Some(spec) = read_json::<ContainerSpec>(run_dir, files::SPEC)
    {
        cgroup::remove(&spec.cgroups);
    }
}

impl Worker {
    pub(super) fn containers_dir(&self, name: &str) -> PathBuf {
        self.dir.join("containers").join(name)
    }

    pub(super) fn current_run(&self, name: &str) -> Option<(PathBuf, Attempt, ShimRecord)> {
        let (_, path, attempt) = attempts(&self.containers_dir(name)).pop()?;
        let shim: ShimRecord = read_json(&path, files::SHIM)?;
        Some((path, attempt, shim))
    }

    pub(super) fn container_spec(
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

    pub(super) async fn start_container(
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
    pub(super) async fn stop_container(
        &self,
        pod: &Pod,
        c: &Container,
        grace: i64,
        sandbox: Option<&Sandbox>,
    ) {
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
}
