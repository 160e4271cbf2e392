//! The kubelet's pod lifecycle as a pure function: from a pod, what its containers did so
//! far (every attempt, from the shims' records) and what the probes say, decide which
//! containers to start or kill next and which status to report.
//!
//! Kubernetes' rules: init containers run one at a time, in order, each to success; then
//! every container starts; `restartPolicy` decides restarts, with the kubelet's back-off
//! (immediately, then 10 s doubling up to 5 min; reset after 10 min of running), shown as
//! `CrashLoopBackOff`; a failed liveness or startup probe kills the container; the phase
//! and the `Initialized`, `ContainersReady` and `Ready` conditions follow.

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// The longest back-off between restarts (the kubelet's `MaxContainerBackOff`).
pub const MAX_BACKOFF: SignedDuration = SignedDuration::from_secs(300);
/// The first back-off.
pub const INITIAL_BACKOFF: SignedDuration = SignedDuration::from_secs(10);
/// A container that ran this long resets its back-off.
pub const BACKOFF_RESET: SignedDuration = SignedDuration::from_secs(600);

/// How one run of a container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Exit code (128 + signal when signalled).
    pub exit_code: i32,
    /// When it ended.
    pub at: Timestamp,
    /// Why it could not start, when it could not.
    pub start_error: Option<String>,
    /// The OOM killer ended it.
    pub oom_killed: bool,
}

/// One run of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Container id (without the `berth://` scheme).
    pub id: String,
    /// When its process started (`None` while being created).
    pub started_at: Option<Timestamp>,
    /// How it ended, once it did.
    pub finished: Option<Finished>,
}

impl Attempt {
    fn running(&self) -> bool {
        self.started_at.is_some() && self.finished.is_none()
    }
    fn succeeded(&self) -> bool {
        self.finished
            .as_ref()
            .is_some_and(|f| f.exit_code == 0 && f.start_error.is_none())
    }
}

/// What the probes of a container's current run say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeView {
    /// The startup probe passed (or there is none).
    pub started: bool,
    /// The readiness probe passes (or there is none and it runs).
    pub ready: bool,
    /// The liveness or startup probe failed `failureThreshold` times: kill it.
    pub failed: bool,
}

/// What the shell observed of one pod.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    /// The pod as the API has it.
    pub pod: &'a Pod,
    /// Now.
    pub now: Timestamp,
    /// The node's address.
    pub host_ip: &'a str,
    /// The sandbox's pod IP, once the sandbox runs.
    pub pod_ip: Option<&'a str>,
    /// Every run of every container, oldest first, by container name.
    pub history: &'a BTreeMap<String, Vec<Attempt>>,
    /// Probe results of the current runs.
    pub probes: &'a BTreeMap<String, ProbeView>,
    /// Containers whose configuration cannot be made (`CreateContainerConfigError`).
    pub config_errors: &'a BTreeMap<String, String>,
}

/// What the shell should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start a new run of a container.
    Start {
        /// Container name.
        name: String,
    },
    /// Stop a container's current run (it failed its liveness or startup probe).
    Kill {
        /// Container name.
        name: String,
    },
}

/// The decision for one pod.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What to do now.
    pub actions: Vec<Action>,
    /// The status to report.
    pub status: PodStatus,
    /// When to look again at the latest (a back-off ends).
    pub wake_at: Option<Timestamp>,
}

fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

fn should_restart(policy: &str, last: &Attempt) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => !last.succeeded(),
        _ => true,
    }
}

fn should_restart_init(policy: &str, last: &Attempt) -> bool {
    policy != "Never" && !last.succeeded()
}

/// The back-off before the next run after `attempts` (all finished runs so far count).
pub fn backoff(attempts: &[Attempt]) -> SignedDuration {
    // Runs since the last one that lasted long enough to reset the back-off.
    let mut crashes = 0u32;
    for a in attempts.iter().rev() {
        let lasted = match (a.started_at, a.finished.as_ref()) {
            (Some(s), Some(f)) => f.at.duration_since(s),
            _ => SignedDuration::ZERO,
        };
        if lasted >= BACKOFF_RESET {
            break;
        }
        crashes += 1;
    }
    if crashes <= 1 {
        return SignedDuration::ZERO;
    }
    let factor = 1i64 << (crashes - 2).min(10);
    INITIAL_BACKOFF
        .checked_mul(factor as i32)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

fn time(t: Timestamp) -> Time {
    Time(t)
}

fn pod_key(pod: &Pod) -> String {
    format!(
        "{}_{}({})",
        pod.metadata.name.as_deref().unwrap_or(""),
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.uid.as_deref().unwrap_or("")
    )
}

fn terminated(a: &Attempt) -> Option<ContainerState> {
    let f = a.finished.as_ref()?;
    let reason = if f.start_error.is_some() {
        "StartError"
    } else if f.oom_killed {
        "OOMKilled"
    } else if f.exit_code == 0 {
        "Completed"
    } else {
        "Error"
    };
    Some(ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: f.exit_code,
            reason: Some(reason.into()),
            message: f.start_error.clone(),
            started_at: a.started_at.map(time),
            finished_at: Some(time(f.at)),
            container_id: Some(format!("berth://{}", a.id)),
            signal: None,
        }),
        ..ContainerState::default()
    })
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.into()),
            message,
        }),
        ..ContainerState::default()
    }
}

/// Where one container stands, and what it needs.
struct ContainerView {
    status: ContainerStatus,
    start: bool,
    kill: bool,
    wake_at: Option<Timestamp>,
    /// Ended for good (no restart coming).
    done: bool,
    /// Ended for good with a failure.
    failed: bool,
}

fn view(
    c: &Container,
    attempts: &[Attempt],
    obs: &Observed<'_>,
    policy: &str,
    init: bool,
    may_start: bool,
    waiting_reason: &str,
) -> ContainerView {
    let probe = obs.probes.get(&c.name).copied().unwrap_or_default();
    let mut status = ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        image_id: c.image.clone().unwrap_or_default(),
        restart_count: attempts.len().saturating_sub(1) as i32,
        ..ContainerStatus::default()
    };
    let mut out = ContainerView {
        status: ContainerStatus::default(),
        start: false,
        kill: false,
        wake_at: None,
        done: false,
        failed: false,
    };
    let Some(last) = attempts.last() else {
        status.state = Some(match obs.config_errors.get(&c.name) {
            Some(msg) => waiting("CreateContainerConfigError", Some(msg.clone())),
            None => waiting(waiting_reason, None),
        });
        status.started = Some(false);
        out.start = may_start && !obs.config_errors.contains_key(&c.name);
        out.status = status;
        return out;
    };
    if attempts.len() > 1 {
        status.last_state = terminated(&attempts[attempts.len() - 2]);
    }
    status.container_id = Some(format!("berth://{}", last.id));
    if last.running() {
        status.state = Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: last.started_at.map(time),
            }),
            ..ContainerState::default()
        });
        status.started = Some(probe.started);
        status.ready = !init && probe.started && probe.ready;
        out.kill = probe.failed;
    } else if last.finished.is_none() {
        status.state = Some(waiting("ContainerCreating", None));
        status.started = Some(false);
    } else {
        let restart = if init {
            should_restart_init(policy, last)
        } else {
            should_restart(policy, last)
        };
        status.started = Some(false);
        if restart && may_start && !obs.config_errors.contains_key(&c.name) {
            let delay = backoff(attempts);
            let finished_at = last.finished.as_ref().map(|f| f.at).unwrap_or(obs.now);
            let due = finished_at.checked_add(delay).unwrap_or(obs.now);
            if due <= obs.now {
                out.start = true;
                status.state = terminated(last);
            } else {
                status.state = Some(waiting(
                    "CrashLoopBackOff",
                    Some(format!(
                        "back-off {}s restarting failed container={} pod={}",
                        delay.as_secs(),
                        c.name,
                        pod_key(obs.pod)
                    )),
                ));
                status.last_state = terminated(last);
                out.wake_at = Some(due);
            }
        } else if restart {
            status.state = Some(match obs.config_errors.get(&c.name) {
                Some(msg) => waiting("CreateContainerConfigError", Some(msg.clone())),
                None => waiting(waiting_reason, None),
            });
            status.last_state = terminated(last);
        } else {
            status.state = terminated(last);
            out.done = true;
            out.failed = !last.succeeded();
        }
    }
    out.status = status;
    out
}

fn condition(
    old: Option<&PodStatus>,
    kind: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: Timestamp,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    let since = old
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == kind))
        .filter(|c| c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or(Time(now));
    PodCondition {
        type_: kind.into(),
        status: status.into(),
        last_transition_time: Some(since),
        reason: reason.map(str::to_string),
        message,
        ..PodCondition::default()
    }
}

fn names_list(names: &[String]) -> String {
    format!("[{}]", names.join(" "))
}

/// Decides the next step for a pod whose sandbox runs (`obs.pod_ip` is set) or is coming.
pub fn plan(obs: &Observed<'_>) -> Plan {
    let pod = obs.pod;
    let empty = Vec::new();
    let spec = pod.spec.as_ref();
    let inits = spec.and_then(|s| s.init_containers.as_ref()).unwrap_or(&empty);
    let containers = spec.map(|s| &s.containers).unwrap_or(&empty);
    let policy = restart_policy(pod);
    let sandbox_ready = obs.pod_ip.is_some();
    let no_history = Vec::new();
    let history = |name: &str| obs.history.get(name).unwrap_or(&no_history).as_slice();

    let mut actions = Vec::new();
    let mut wake_at: Option<Timestamp> = None;
    let mut init_statuses = Vec::new();
    let mut initialized = true;
    let mut init_failed = false;
    let mut incomplete = Vec::new();
    for c in inits {
        let attempts = history(&c.name);
        let complete = attempts.last().is_some_and(Attempt::succeeded);
        let may_start = sandbox_ready && initialized && !complete;
        let v = view(c, attempts, obs, policy, true, may_start, "PodInitializing");
        if v.start {
            actions.push(Action::Start { name: c.name.clone() });
        }
        if v.kill {
            actions.push(Action::Kill { name: c.name.clone() });
        }
        wake_at = min_time(wake_at, v.wake_at);
        init_failed |= v.failed;
        let mut status = v.status;
        if !complete {
            if !initialized && attempts.is_empty() {
                status.state = Some(waiting("PodInitializing", None));
            }
            incomplete.push(c.name.clone());
            initialized = false;
        } else {
            status.ready = true;
        }
        init_statuses.push(status);
    }

    let mut statuses = Vec::new();
    let mut unready = Vec::new();
    let mut all_done = !containers.is_empty();
    let mut any_failed = false;
    let mut all_started = true;
    let reason = if initialized {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    for c in containers {
        let attempts = history(&c.name);
        let may_start = sandbox_ready && initialized && !init_failed;
        let v = view(c, attempts, obs, policy, false, may_start, reason);
        if v.start {
            actions.push(Action::Start { name: c.name.clone() });
        }
        if v.kill {
            actions.push(Action::Kill { name: c.name.clone() });
        }
        wake_at = min_time(wake_at, v.wake_at);
        all_done &= v.done;
        any_failed |= v.failed;
        all_started &= attempts.iter().any(|a| a.started_at.is_some());
        if !v.status.ready {
            unready.push(c.name.clone());
        }
        statuses.push(v.status);
    }

    let phase = if init_failed || (all_done && any_failed) {
        "Failed"
    } else if all_done {
        "Succeeded"
    } else if initialized && all_started {
        "Running"
    } else {
        "Pending"
    };
    let old = pod.status.as_ref();
    let now = obs.now;
    let finished = phase == "Succeeded" || phase == "Failed";
    let containers_ready = unready.is_empty() && !finished;
    let (ready_reason, ready_message) = if finished {
        (Some("PodCompleted"), None)
    } else if containers_ready {
        (None, None)
    } else {
        (
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: {}",
                names_list(&unready)
            )),
        )
    };
    let mut conditions = vec![
        condition(old, "PodReadyToStartContainers", sandbox_ready, None, None, now),
        if initialized || finished && !init_failed {
            condition(old, "Initialized", true, None, None, now)
        } else {
            condition(
                old,
                "Initialized",
                false,
                Some("ContainersNotInitialized"),
                Some(format!(
                    "containers with incomplete status: {}",
                    names_list(&incomplete)
                )),
                now,
            )
        },
        condition(
            old,
            "Ready",
            containers_ready,
            ready_reason,
            ready_message.clone(),
            now,
        ),
        condition(
            old,
            "ContainersReady",
            containers_ready,
            ready_reason,
            ready_message,
            now,
        ),
    ];
    let scheduled = old
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
        .cloned()
        .unwrap_or_else(|| condition(None, "PodScheduled", true, None, None, now));
    conditions.push(scheduled);

    let status = PodStatus {
        phase: Some(phase.into()),
        conditions: Some(conditions),
        host_ip: Some(obs.host_ip.into()),
        host_ips: Some(vec![k8s_openapi::api::core::v1::HostIP {
            ip: obs.host_ip.into(),
        }]),
        pod_ip: obs.pod_ip.map(str::to_string),
        pod_ips: obs.pod_ip.map(|ip| vec![PodIP { ip: ip.into() }]),
        start_time: old.and_then(|s| s.start_time.clone()).or(Some(Time(now))),
        init_container_statuses: (!inits.is_empty()).then_some(init_statuses),
        container_statuses: Some(statuses),
        qos_class: Some(qos_class(pod).into()),
        ..PodStatus::default()
    };
    Plan {
        actions,
        status,
        wake_at,
    }
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The pod's QoS class, as the kubelet computes it.
pub fn qos_class(pod: &Pod) -> &'static str {
    let Some(spec) = pod.spec.as_ref() else {
        return "BestEffort";
    };
    let all: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in &all {
        let req = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        let lim = c.resources.as_ref().and_then(|r| r.limits.as_ref());
        for resource in ["cpu", "memory"] {
            let r = req
                .and_then(|m| m.get(resource))
                .or_else(|| lim.and_then(|m| m.get(resource)));
            let l = lim.and_then(|m| m.get(resource));
            any |= r.is_some() || l.is_some();
            if l.is_none() || r != l {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests;
