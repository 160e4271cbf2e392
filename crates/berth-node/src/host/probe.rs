//! Probes as the kubelet runs them: `exec` (a command inside the container, success on exit
//! code 0), `httpGet` (a GET from the node to the pod, success on 200–399) and `tcpSocket`
//! (a connection opens), each within `timeoutSeconds`; and the bookkeeping of
//! `initialDelaySeconds`, `periodSeconds`, `successThreshold` and `failureThreshold`.

use super::netns;
use k8s_openapi::api::core::v1::Probe;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where a probe runs.
#[derive(Debug, Clone)]
pub struct ProbeTarget {
    /// The container's main process (host pid), for `exec`.
    pub pid: i32,
    /// The pod's network namespace.
    pub netns: PathBuf,
    /// The pod IP.
    pub pod_ip: String,
    /// The container's declared ports (name → number), for named ports.
    pub ports: Vec<(String, i32)>,
    /// The container's environment (exec probes run with it).
    pub env: Vec<(String, String)>,
    /// The container's user, for exec probes.
    pub uid: Option<u32>,
    /// The container's group, for exec probes.
    pub gid: Option<u32>,
}

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Passed.
    Success,
    /// Failed, with the kubelet's message.
    Failure(String),
}

fn port(p: &IntOrString, target: &ProbeTarget) -> Result<u16, String> {
    match p {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("invalid port number: {n}")),
        IntOrString::String(name) => target
            .ports
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, p)| u16::try_from(*p).ok())
            .ok_or_else(|| format!("couldn't find port: {name}")),
    }
}

async fn exec(command: &[String], target: &ProbeTarget, timeout: Duration) -> Outcome {
    let mut cmd = tokio::process::Command::new("/usr/bin/nsenter");
    cmd.arg("-t")
        .arg(target.pid.to_string())
        .args(["-m", "-u", "-i", "-n", "-p", "-r", "-w"]);
    if let Some(gid) = target.gid {
        cmd.arg(format!("--setgid={gid}"));
    }
    if let Some(uid) = target.uid {
        cmd.arg(format!("--setuid={uid}"));
    }
    cmd.arg("--")
        .args(command)
        .env_clear()
        .envs(target.env.iter().cloned())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    match tokio::time::timeout(timeout, cmd.output()).await {
        Err(_) => Outcome::Failure(format!("command {command:?} timed out")),
        Ok(Err(e)) => Outcome::Failure(e.to_string()),
        Ok(Ok(out)) if out.status.success() => Outcome::Success,
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            Outcome::Failure(text.trim_end().to_string())
        }
    }
}

async fn http_get(host: &str, port: u16, path: &str, target: &ProbeTarget, timeout: Duration) -> Outcome {
    let url = format!("http://{host}:{port}{path}");
    let result = tokio::time::timeout(timeout, async {
        let addr: SocketAddr = format!("{host}:{port}").parse().map_err(|_| format!("invalid address {host}:{port}"))?;
        let mut stream = netns::connect(target.netns.clone(), addr, timeout)
            .await
            .map_err(|e| format!("Get \"{url}\": dial tcp {addr}: connect: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut head = vec![0u8; 1024];
        let n = stream.read(&mut head).await.map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&head[..n]);
        let code: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("Get \"{url}\": malformed HTTP response"))?;
        if (200..400).contains(&code) {
            Ok(())
        } else {
            Err(format!("HTTP probe failed with statuscode: {code}"))
        }
    })
    .await;
    match result {
        Ok(Ok(())) => Outcome::Success,
        Ok(Err(msg)) => Outcome::Failure(msg),
        Err(_) => Outcome::Failure(format!(
            "Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
    }
}

async fn tcp(host: &str, port: u16, target: &ProbeTarget, timeout: Duration) -> Outcome {
    let Ok(addr) = format!("{host}:{port}").parse::<SocketAddr>() else {
        return Outcome::Failure(format!("invalid address {host}:{port}"));
    };
    match netns::connect(target.netns.clone(), addr, timeout).await {
        Ok(_) => Outcome::Success,
        Err(e) => Outcome::Failure(format!("dial tcp {addr}: connect: {e}")),
    }
}

/// Runs `probe` once against `target`.
pub async fn run(probe: &Probe, target: &ProbeTarget) -> Outcome {
    let timeout = Duration::from_secs(probe.timeout_seconds.unwrap_or(1).max(1) as u64);
    if let Some(e) = &probe.exec {
        return exec(e.command.as_deref().unwrap_or_default(), target, timeout).await;
    }
    if let Some(h) = &probe.http_get {
        let port = match port(&h.port, target) {
            Ok(p) => p,
            Err(e) => return Outcome::Failure(e),
        };
        let host = h.host.clone().unwrap_or_else(|| target.pod_ip.clone());
        let path = h.path.clone().unwrap_or_else(|| "/".into());
        return http_get(&host, port, &path, target, timeout).await;
    }
    if let Some(t) = &probe.tcp_socket {
        let port = match port(&t.port, target) {
            Ok(p) => p,
            Err(e) => return Outcome::Failure(e),
        };
        let host = t.host.clone().unwrap_or_else(|| target.pod_ip.clone());
        return tcp(&host, port, target, timeout).await;
    }
    Outcome::Failure("unsupported probe handler (grpc is not supported)".into())
}

/// The running tally of one probe on one container run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    /// When the probe next runs.
    pub due: Timestamp,
    /// Consecutive successes.
    pub successes: i32,
    /// Consecutive failures.
    pub failures: i32,
    /// The current verdict (`None`: no verdict yet).
    pub passing: Option<bool>,
}

impl Tracker {
    /// A tracker for a run that started at `started`.
    pub fn new(probe: &Probe, started: Timestamp) -> Self {
        let delay = SignedDuration::from_secs(i64::from(probe.initial_delay_seconds.unwrap_or(0).max(0)));
        Self {
            due: started.checked_add(delay).unwrap_or(started),
            successes: 0,
            failures: 0,
            passing: None,
        }
    }

    /// Records an outcome at `now`; returns whether the verdict changed.
    pub fn record(&mut self, probe: &Probe, outcome: &Outcome, now: Timestamp) -> bool {
        let period = SignedDuration::from_secs(i64::from(probe.period_seconds.unwrap_or(10).max(1)));
        self.due = now.checked_add(period).unwrap_or(now);
        let before = self.passing;
        match outcome {
            Outcome::Success => {
                self.successes += 1;
                self.failures = 0;
                if self.successes >= probe.success_threshold.unwrap_or(1).max(1) {
                    self.passing = Some(true);
                }
            }
            Outcome::Failure(_) => {
                self.failures += 1;
                self.successes = 0;
                if self.failures >= probe.failure_threshold.unwrap_or(3).max(1) {
                    self.passing = Some(false);
                }
            }
        }
        before != self.passing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(success: i32, failure: i32) -> Probe {
        Probe {
            success_threshold: Some(success),
            failure_threshold: Some(failure),
            period_seconds: Some(2),
            initial_delay_seconds: Some(5),
            ..Probe::default()
        }
    }

    #[test]
    fn first_run_waits_for_the_initial_delay() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let t = Tracker::new(&probe(1, 3), t0);
        assert_eq!(t.due, "2026-01-01T00:00:05Z".parse().expect("time"));
        assert_eq!(t.passing, None);
    }

    #[test]
    fn verdicts_change_only_at_the_thresholds() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let p = probe(2, 3);
        let mut t = Tracker::new(&p, t0);
        assert!(!t.record(&p, &Outcome::Success, t0));
        assert!(t.record(&p, &Outcome::Success, t0));
        assert_eq!(t.passing, Some(true));
        assert_eq!(t.due, "2026-01-01T00:00:02Z".parse().expect("time"));
        let fail = Outcome::Failure("no".into());
        assert!(!t.record(&p, &fail, t0));
        assert!(!t.record(&p, &fail, t0));
        assert!(t.record(&p, &fail, t0));
        assert_eq!(t.passing, Some(false));
        // One success is not enough to pass again with successThreshold 2.
        assert!(!t.record(&p, &Outcome::Success, t0));
        assert_eq!(t.passing, Some(false));
    }

    #[test]
    fn named_ports_resolve_through_the_container_ports() {
        let target = ProbeTarget {
            pid: 1,
            netns: PathBuf::from("/proc/1/ns/net"),
            pod_ip: "10.0.0.1".into(),
            ports: vec![("http".into(), 8080)],
            env: Vec::new(),
            uid: None,
            gid: None,
        };
        assert_eq!(port(&IntOrString::String("http".into()), &target), Ok(8080));
        assert_eq!(port(&IntOrString::Int(81), &target), Ok(81));
        assert_eq!(
            port(&IntOrString::String("nope".into()), &target),
            Err("couldn't find port: nope".into())
        );
    }
}
