//! Probes of the current runs: when each is due, what it says, and the `Unhealthy` events.

use super::*;

/// The probe trackers of one container run.
#[derive(Debug, Default)]
pub(super) struct RunProbes {
    pub(super) attempt: String,
    pub(super) startup: Option<Tracker>,
    pub(super) readiness: Option<Tracker>,
    pub(super) liveness: Option<Tracker>,
}

/// Runs `probe` if it is due and returns its verdict (`None`: none yet, or no probe);
/// failures are worded for the `Unhealthy` event as the kubelet words them.
pub(super) async fn due_probe(
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

impl Worker {
    pub(super) fn probe_target(&self, c: &Container, pid: i32, sandbox: &Sandbox) -> ProbeTarget {
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
    pub(super) async fn run_probes(&mut self, pod: &Pod, sandbox: &Sandbox) -> BTreeMap<String, ProbeView> {
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
    pub(super) fn next_probe(&self) -> Option<Timestamp> {
        self.probes
            .values()
            .flat_map(|p| [&p.startup, &p.readiness, &p.liveness])
            .flatten()
            .map(|t| t.due)
            .min()
    }
}
