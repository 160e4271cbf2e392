//! The simulated runtime: a pure function from a pod (and its last reported status) to the
//! status a kubelet would report if its containers had started instantly.
//!
//! Annotations steer it, for tests and benchmarks:
//! - `sim.berth.dev/ready: "false"` keeps every container running but not Ready (flip it to
//!   `"true"` to release readiness);
//! - `sim.berth.dev/exit-code: "N"` makes the containers terminate with exit code N: with
//!   `restartPolicy: Always` (or `OnFailure` and N ≠ 0) they crash-loop (`CrashLoopBackOff`,
//!   not Ready, phase Running); otherwise the pod ends `Succeeded` (N = 0) or `Failed`.
//!
//! Condition transition times are kept while a condition's status is unchanged, so
//! `minReadySeconds` measures real readiness time.

use serde_json::{Map, Value, json};

/// Annotation that holds readiness back when `"false"`.
pub const READY_ANNOTATION: &str = "sim.berth.dev/ready";
/// Annotation that makes containers exit with the given code.
pub const EXIT_CODE_ANNOTATION: &str = "sim.berth.dev/exit-code";

fn annotation<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

fn container_names(pod: &Value, field: &str) -> Vec<(String, String)> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("").to_string(),
                        c["image"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The time a condition of `kind` last changed, kept when its status stays `status`.
fn transition_time(old: &Value, kind: &str, status: &str, now: &str) -> String {
    old.pointer("/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind))
        .filter(|c| c["status"] == status)
        .and_then(|c| c["lastTransitionTime"].as_str())
        .unwrap_or(now)
        .to_string()
}

fn condition(old: &Value, kind: &str, ok: bool, now: &str, reason: Option<&str>) -> Value {
    let status = if ok { "True" } else { "False" };
    let mut c = json!({
        "type": kind,
        "status": status,
        "lastProbeTime": null,
        "lastTransitionTime": transition_time(old, kind, status, now),
    });
    if let (Some(r), Some(m)) = (reason, c.as_object_mut()) {
        m.insert("reason".into(), json!(r));
    }
    c
}

/// The status the simulated kubelet reports for `pod` at `now` (RFC 3339), given the
/// node's and the pod's IPs.
pub fn pod_status(pod: &Value, now: &str, host_ip: &str, pod_ip: &str) -> Value {
    let old = pod.get("status").cloned().unwrap_or_else(|| json!({}));
    let uid = pod.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("");
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let namespace = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let restart_policy = pod
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Always");
    let ready_wanted = annotation(pod, READY_ANNOTATION) != Some("false");
    let exit_code: Option<i64> = annotation(pod, EXIT_CODE_ANNOTATION).and_then(|v| v.trim().parse().ok());
    let started_at = old
        .get("startTime")
        .and_then(Value::as_str)
        .unwrap_or(now)
        .to_string();
    let restarts = matches!(
        (exit_code, restart_policy),
        (Some(_), "Always") | (Some(1..), "OnFailure") | (Some(..=-1), "OnFailure")
    );
    let terminal = exit_code.is_some() && !restarts;
    let containers = container_names(pod, "containers");
    let mut statuses = Vec::new();
    for (cname, image) in &containers {
        let id = format!("sim://{uid}-{cname}");
        let mut s = Map::new();
        s.insert("name".into(), json!(cname));
        s.insert("image".into(), json!(image));
        s.insert("imageID".into(), json!(format!("sim://{image}")));
        s.insert("containerID".into(), json!(id));
        match exit_code {
            Some(code) if restarts => {
                let reason = if code == 0 { "Completed" } else { "Error" };
                s.insert(
                    "state".into(),
                    json!({"waiting": {"reason": "CrashLoopBackOff",
                        "message": format!("back-off 10s restarting failed container={cname} pod={name}_{namespace}({uid})")}}),
                );
                s.insert(
                    "lastState".into(),
                    json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": started_at,
                        "finishedAt": started_at, "containerID": id}}),
                );
                s.insert("ready".into(), json!(false));
                s.insert("started".into(), json!(false));
                s.insert("restartCount".into(), json!(1));
            }
            Some(code) => {
                let reason = if code == 0 { "Completed" } else { "Error" };
                s.insert(
                    "state".into(),
                    json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": started_at,
                        "finishedAt": started_at, "containerID": id}}),
                );
                s.insert("lastState".into(), json!({}));
                s.insert("ready".into(), json!(false));
                s.insert("started".into(), json!(false));
                s.insert("restartCount".into(), json!(0));
            }
            None => {
                s.insert("state".into(), json!({"running": {"startedAt": started_at}}));
                s.insert("lastState".into(), json!({}));
                s.insert("ready".into(), json!(ready_wanted));
                s.insert("started".into(), json!(true));
                s.insert("restartCount".into(), json!(0));
            }
        }
        statuses.push(Value::Object(s));
    }
    let init: Vec<Value> = container_names(pod, "initContainers")
        .into_iter()
        .map(|(cname, image)| {
            let id = format!("sim://{uid}-{cname}");
            json!({"name": cname, "image": image, "imageID": format!("sim://{image}"), "containerID": id,
                   "ready": true, "started": false, "restartCount": 0, "lastState": {},
                   "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started_at,
                             "finishedAt": started_at, "containerID": id}}})
        })
        .collect();
    let all_ready = !terminal && statuses.iter().all(|s| s["ready"] == true) && !statuses.is_empty();
    let phase = match exit_code {
        Some(0) if terminal => "Succeeded",
        Some(_) if terminal => "Failed",
        _ => "Running",
    };
    let not_ready_reason = if terminal {
        "PodCompleted"
    } else {
        "ContainersNotReady"
    };
    let mut conditions = vec![
        condition(&old, "PodReadyToStartContainers", !terminal, now, None),
        condition(&old, "Initialized", true, now, None),
        condition(
            &old,
            "Ready",
            all_ready,
            now,
            (!all_ready).then_some(not_ready_reason),
        ),
        condition(
            &old,
            "ContainersReady",
            all_ready,
            now,
            (!all_ready).then_some(not_ready_reason),
        ),
        condition(&old, "PodScheduled", true, now, None),
    ];
    if terminal && let Some(c) = conditions.first_mut() {
        *c = condition(&old, "PodReadyToStartContainers", false, now, None);
    }
    let mut status = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": started_at,
        "containerStatuses": statuses,
    });
    if !init.is_empty() {
        status["initContainerStatuses"] = json!(init);
    }
    if let Some(q) = old.get("qosClass") {
        status["qosClass"] = q.clone();
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(annotations: Value, restart: &str) -> Value {
        json!({
            "metadata": {"name": "web-0", "namespace": "default", "uid": "u1", "annotations": annotations},
            "spec": {"restartPolicy": restart, "nodeName": "node-1",
                     "containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        })
    }

    fn cond<'a>(status: &'a Value, kind: &str) -> &'a Value {
        status["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == kind))
            .unwrap_or(&Value::Null)
    }

    #[test]
    fn containers_run_and_are_ready_at_once() {
        let s = pod_status(&pod(json!({}), "Always"), "T1", "127.0.0.1", "10.244.0.5");
        assert_eq!(s["phase"], "Running");
        assert_eq!(cond(&s, "Ready")["status"], "True");
        assert_eq!(s["containerStatuses"][0]["ready"], true);
        assert_eq!(s["podIP"], "10.244.0.5");
        assert_eq!(s["qosClass"], "BestEffort");
    }

    #[test]
    fn readiness_is_held_by_annotation_and_released() {
        let mut p = pod(json!({READY_ANNOTATION: "false"}), "Always");
        let s1 = pod_status(&p, "T1", "h", "ip");
        assert_eq!(cond(&s1, "Ready")["status"], "False");
        assert_eq!(cond(&s1, "Ready")["reason"], "ContainersNotReady");
        p["status"] = s1;
        p["metadata"]["annotations"][READY_ANNOTATION] = json!("true");
        let s2 = pod_status(&p, "T2", "h", "ip");
        assert_eq!(cond(&s2, "Ready")["status"], "True");
        assert_eq!(cond(&s2, "Ready")["lastTransitionTime"], "T2");
        // A condition that did not change keeps its transition time.
        assert_eq!(cond(&s2, "PodScheduled")["lastTransitionTime"], "T1");
        p["status"] = s2;
        let s3 = pod_status(&p, "T3", "h", "ip");
        assert_eq!(cond(&s3, "Ready")["lastTransitionTime"], "T2");
        assert_eq!(s3["startTime"], "T1");
    }

    #[test]
    fn exit_code_crash_loops_under_always() {
        let s = pod_status(&pod(json!({EXIT_CODE_ANNOTATION: "3"}), "Always"), "T", "h", "ip");
        assert_eq!(s["phase"], "Running");
        assert_eq!(
            s["containerStatuses"][0]["state"]["waiting"]["reason"],
            "CrashLoopBackOff"
        );
        assert_eq!(
            s["containerStatuses"][0]["lastState"]["terminated"]["exitCode"],
            3
        );
        assert_eq!(cond(&s, "Ready")["status"], "False");
    }

    #[test]
    fn exit_code_ends_the_pod_under_never() {
        let failed = pod_status(&pod(json!({EXIT_CODE_ANNOTATION: "2"}), "Never"), "T", "h", "ip");
        assert_eq!(failed["phase"], "Failed");
        assert_eq!(
            failed["containerStatuses"][0]["state"]["terminated"]["reason"],
            "Error"
        );
        let ok = pod_status(
            &pod(json!({EXIT_CODE_ANNOTATION: "0"}), "OnFailure"),
            "T",
            "h",
            "ip",
        );
        assert_eq!(ok["phase"], "Succeeded");
        assert_eq!(cond(&ok, "Ready")["reason"], "PodCompleted");
    }
}
