use super::*;
use serde_json::json;

fn t(s: u64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s as i64).expect("time")
}

fn pod(spec: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": "web-0", "namespace": "default", "uid": "u1"},
        "spec": spec,
    }))
    .expect("pod")
}

fn app() -> serde_json::Value {
    json!({"containers": [{"name": "app", "image": "busybox"}]})
}

fn run(id: &str, start: u64, end: Option<(u64, i32)>) -> Attempt {
    Attempt {
        id: id.into(),
        started_at: Some(t(start)),
        finished: end.map(|(at, code)| Finished {
            exit_code: code,
            at: t(at),
            start_error: None,
            oom_killed: false,
        }),
    }
}

struct Case {
    pod: Pod,
    history: BTreeMap<String, Vec<Attempt>>,
    probes: BTreeMap<String, ProbeView>,
    errors: BTreeMap<String, String>,
    ip: Option<&'static str>,
}

impl Case {
    fn new(spec: serde_json::Value) -> Self {
        Case {
            pod: pod(spec),
            history: BTreeMap::new(),
            probes: BTreeMap::new(),
            errors: BTreeMap::new(),
            ip: Some("10.244.0.5"),
        }
    }
    fn runs(mut self, name: &str, runs: Vec<Attempt>) -> Self {
        self.history.insert(name.into(), runs);
        self
    }
    fn probe(mut self, name: &str, v: ProbeView) -> Self {
        self.probes.insert(name.into(), v);
        self
    }
    fn plan(&self, now: u64) -> Plan {
        plan(&Observed {
            pod: &self.pod,
            now: t(now),
            host_ip: "127.0.0.1",
            pod_ip: self.ip,
            history: &self.history,
            probes: &self.probes,
            config_errors: &self.errors,
        })
    }
}

fn start(name: &str) -> Action {
    Action::Start { name: name.into() }
}

fn cond<'a>(p: &'a Plan, kind: &str) -> &'a PodCondition {
    p.status
        .conditions
        .as_ref()
        .and_then(|cs| cs.iter().find(|c| c.type_ == kind))
        .expect("condition")
}

fn state(p: &Plan, i: usize) -> &ContainerState {
    p.status.container_statuses.as_ref().expect("statuses")[i]
        .state
        .as_ref()
        .expect("state")
}

#[test]
fn a_new_pod_starts_its_container_once_the_sandbox_runs() {
    let mut c = Case::new(app());
    c.ip = None;
    let p = c.plan(0);
    assert!(p.actions.is_empty());
    assert_eq!(p.status.phase.as_deref(), Some("Pending"));
    assert_eq!(cond(&p, "PodReadyToStartContainers").status, "False");
    c.ip = Some("10.244.0.5");
    let p = c.plan(0);
    assert_eq!(p.actions, vec![start("app")]);
    let waiting = state(&p, 0).waiting.as_ref().expect("waiting");
    assert_eq!(waiting.reason.as_deref(), Some("ContainerCreating"));
    assert_eq!(p.status.pod_ip.as_deref(), Some("10.244.0.5"));
}

#[test]
fn a_running_container_without_probes_is_ready() {
    let p = Case::new(app())
        .runs("app", vec![run("a", 0, None)])
        .probe(
            "app",
            ProbeView {
                started: true,
                ready: true,
                failed: false,
            },
        )
        .plan(1);
    assert!(p.actions.is_empty());
    assert_eq!(p.status.phase.as_deref(), Some("Running"));
    assert_eq!(cond(&p, "Ready").status, "True");
    assert_eq!(cond(&p, "ContainersReady").status, "True");
    let cs = &p.status.container_statuses.as_ref().expect("statuses")[0];
    assert!(cs.ready);
    assert_eq!(cs.container_id.as_deref(), Some("berth://a"));
    assert_eq!(cs.restart_count, 0);
}

#[test]
fn a_failing_readiness_probe_keeps_the_pod_unready() {
    let p = Case::new(app())
        .runs("app", vec![run("a", 0, None)])
        .probe(
            "app",
            ProbeView {
                started: true,
                ready: false,
                failed: false,
            },
        )
        .plan(1);
    assert_eq!(p.status.phase.as_deref(), Some("Running"));
    let ready = cond(&p, "Ready");
    assert_eq!(ready.status, "False");
    assert_eq!(ready.reason.as_deref(), Some("ContainersNotReady"));
    assert_eq!(
        ready.message.as_deref(),
        Some("containers with unready status: [app]")
    );
}

#[test]
fn a_failed_liveness_probe_kills_the_container() {
    let p = Case::new(app())
        .runs("app", vec![run("a", 0, None)])
        .probe(
            "app",
            ProbeView {
                started: true,
                ready: true,
                failed: true,
            },
        )
        .plan(1);
    assert_eq!(p.actions, vec![Action::Kill { name: "app".into() }]);
}

#[test]
fn the_first_crash_restarts_at_once_then_back_off_doubles() {
    let c = Case::new(app()).runs("app", vec![run("a", 0, Some((1, 1)))]);
    let p = c.plan(1);
    assert_eq!(p.actions, vec![start("app")]);

    let c = Case::new(app()).runs("app", vec![run("a", 0, Some((1, 1))), run("b", 1, Some((2, 1)))]);
    let p = c.plan(3);
    assert!(p.actions.is_empty());
    let w = state(&p, 0).waiting.as_ref().expect("waiting");
    assert_eq!(w.reason.as_deref(), Some("CrashLoopBackOff"));
    assert_eq!(
        w.message.as_deref(),
        Some("back-off 10s restarting failed container=app pod=web-0_default(u1)")
    );
    assert_eq!(p.wake_at, Some(t(12)));
    let cs = &p.status.container_statuses.as_ref().expect("statuses")[0];
    assert_eq!(cs.restart_count, 1);
    let last = cs
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .expect("last state");
    assert_eq!((last.exit_code, last.reason.as_deref()), (1, Some("Error")));
    assert_eq!(p.status.phase.as_deref(), Some("Running"));
    assert_eq!(c.plan(12).actions, vec![start("app")]);
}

#[test]
fn back_off_caps_at_five_minutes_and_resets_after_a_long_run() {
    let crashes: Vec<Attempt> = (0..12)
        .map(|i| run(&format!("r{i}"), i, Some((i + 1, 1))))
        .collect();
    assert_eq!(backoff(&crashes), MAX_BACKOFF);
    let mut long = crashes.clone();
    long.push(run("long", 100, Some((100 + 601, 1))));
    assert_eq!(backoff(&long), SignedDuration::ZERO);
    assert_eq!(backoff(&crashes[..3]), SignedDuration::from_secs(20));
}

#[test]
fn restart_policies_decide_whether_a_finished_container_comes_back() {
    let mut spec = app();
    spec["restartPolicy"] = json!("OnFailure");
    let ok = Case::new(spec.clone())
        .runs("app", vec![run("a", 0, Some((1, 0)))])
        .plan(2);
    assert!(ok.actions.is_empty());
    assert_eq!(ok.status.phase.as_deref(), Some("Succeeded"));
    assert_eq!(cond(&ok, "Ready").reason.as_deref(), Some("PodCompleted"));
    let failed = Case::new(spec)
        .runs("app", vec![run("a", 0, Some((1, 2)))])
        .plan(2);
    assert_eq!(failed.actions, vec![start("app")]);

    let mut never = app();
    never["restartPolicy"] = json!("Never");
    let p = Case::new(never)
        .runs("app", vec![run("a", 0, Some((1, 2)))])
        .plan(2);
    assert!(p.actions.is_empty());
    assert_eq!(p.status.phase.as_deref(), Some("Failed"));
    let term = state(&p, 0).terminated.as_ref().expect("terminated");
    assert_eq!((term.exit_code, term.reason.as_deref()), (2, Some("Error")));
}

#[test]
fn init_containers_run_one_at_a_time_before_the_containers() {
    let spec = json!({
        "initContainers": [{"name": "one", "image": "x"}, {"name": "two", "image": "x"}],
        "containers": [{"name": "app", "image": "x"}],
    });
    let p = Case::new(spec.clone()).plan(0);
    assert_eq!(p.actions, vec![start("one")]);
    assert_eq!(p.status.phase.as_deref(), Some("Pending"));
    let init = cond(&p, "Initialized");
    assert_eq!(init.status, "False");
    assert_eq!(
        init.message.as_deref(),
        Some("containers with incomplete status: [one two]")
    );
    assert_eq!(
        state(&p, 0).waiting.as_ref().and_then(|w| w.reason.as_deref()),
        Some("PodInitializing")
    );

    let running = Case::new(spec.clone())
        .runs("one", vec![run("1", 0, None)])
        .plan(1);
    assert!(running.actions.is_empty());

    let p = Case::new(spec.clone())
        .runs("one", vec![run("1", 0, Some((1, 0)))])
        .plan(2);
    assert_eq!(p.actions, vec![start("two")]);

    let p = Case::new(spec)
        .runs("one", vec![run("1", 0, Some((1, 0)))])
        .runs("two", vec![run("2", 1, Some((2, 0)))])
        .plan(3);
    assert_eq!(p.actions, vec![start("app")]);
    assert_eq!(cond(&p, "Initialized").status, "True");
}

#[test]
fn a_failed_init_container_retries_or_fails_the_pod() {
    let spec = json!({
        "initContainers": [{"name": "init", "image": "x"}],
        "containers": [{"name": "app", "image": "x"}],
    });
    let p = Case::new(spec.clone())
        .runs("init", vec![run("1", 0, Some((1, 1)))])
        .plan(2);
    assert_eq!(p.actions, vec![start("init")]);

    let mut never = spec;
    never["restartPolicy"] = json!("Never");
    let p = Case::new(never)
        .runs("init", vec![run("1", 0, Some((1, 1)))])
        .plan(2);
    assert!(p.actions.is_empty());
    assert_eq!(p.status.phase.as_deref(), Some("Failed"));
}

#[test]
fn a_configuration_error_keeps_the_container_waiting() {
    let mut c = Case::new(app());
    c.errors
        .insert("app".into(), "configmap \"cfg\" not found".into());
    let p = c.plan(0);
    assert!(p.actions.is_empty());
    let w = state(&p, 0).waiting.as_ref().expect("waiting");
    assert_eq!(w.reason.as_deref(), Some("CreateContainerConfigError"));
    assert_eq!(w.message.as_deref(), Some("configmap \"cfg\" not found"));
}

#[test]
fn a_start_error_is_reported_as_such() {
    let attempt = Attempt {
        id: "a".into(),
        started_at: None,
        finished: Some(Finished {
            exit_code: 128,
            at: t(1),
            start_error: Some("exec: \"nope\": executable file not found in $PATH".into()),
            oom_killed: false,
        }),
    };
    let mut never = app();
    never["restartPolicy"] = json!("Never");
    let p = Case::new(never).runs("app", vec![attempt]).plan(2);
    let term = state(&p, 0).terminated.as_ref().expect("terminated");
    assert_eq!(term.reason.as_deref(), Some("StartError"));
    assert!(
        term.message
            .as_deref()
            .is_some_and(|m| m.contains("executable file not found"))
    );
}

#[test]
fn condition_times_are_kept_while_their_status_holds() {
    let c = Case::new(app()).runs("app", vec![run("a", 0, None)]).probe(
        "app",
        ProbeView {
            started: true,
            ready: true,
            failed: false,
        },
    );
    let first = c.plan(5);
    let mut c2 = c;
    c2.pod.status = Some(first.status.clone());
    let later = c2.plan(50);
    assert_eq!(
        cond(&later, "Ready").last_transition_time,
        cond(&first, "Ready").last_transition_time
    );
    assert_eq!(later.status.start_time, first.status.start_time);
}

#[test]
fn qos_classes_follow_requests_and_limits() {
    assert_eq!(qos_class(&pod(app())), "BestEffort");
    let g = pod(json!({"containers": [{"name": "a", "resources": {
        "limits": {"cpu": "1", "memory": "1Gi"}}}]}));
    assert_eq!(qos_class(&g), "Guaranteed");
    let b = pod(json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}));
    assert_eq!(qos_class(&b), "Burstable");
}
