//! The host runtime: pods as real processes in their own namespaces, driven by the real
//! kubectl. Results are read back through `hostPath` volumes the test owns and through the
//! pods' status, so each check sees what the container really did.

use crate::harness::{Berth, wait_for, wait_for_value};
use serde_json::Value;
use std::time::Duration;

fn host() -> Berth {
    Berth::start_with(&["--runtime", "host"])
}

fn container_status(k: &Berth, pod: &str) -> Value {
    k.get_json(&["pod", pod])
        .pointer("/status/containerStatuses/0")
        .cloned()
        .unwrap_or(Value::Null)
}

fn wait_ready(k: &Berth, pod: &str, timeout: Duration) {
    wait_for(&format!("pod {pod} Ready"), timeout, || {
        k.jsonpath(&["pod", pod], "{.status.conditions[?(@.type=='Ready')].status}") == "True"
    });
}

#[test]
fn a_pod_runs_isolated_with_its_own_hostname_network_and_files() {
    let k = host();
    let out = k.scratch("out");
    std::fs::create_dir_all(&out).unwrap();
    k.apply_ok(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: isolated, labels: {{app: iso}}}}
spec:
  hostname: web-0
  subdomain: web
  containers:
  - name: app
    image: debian:bookworm
    command: ["sh", "-c"]
    args:
    - |
      hostname > /out/hostname
      cat /etc/hosts > /out/hosts
      cat /etc/resolv.conf > /out/resolv
      echo "$POD_NAME $POD_IP $GREETING" > /out/env
      echo $$$$ > /out/pid
      touch /scratch/mine && ls /scratch > /out/scratch
      ls {data} > /out/data 2>&1 || echo hidden > /out/data
      touch /usr/berth-was-here 2>/out/usr-write || true
      exec sleep 3600
    env:
    - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
    - {{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}
    - {{name: GREETING, value: "hello $(POD_NAME)"}}
    volumeMounts:
    - {{name: out, mountPath: /out}}
    - {{name: scratch, mountPath: /scratch}}
  volumes:
  - {{name: out, hostPath: {{path: {out}}}}}
  - {{name: scratch, emptyDir: {{}}}}
"#,
        out = out.display(),
        data = k.data_dir().display(),
    ));
    wait_ready(&k, "isolated", Duration::from_secs(30));
    let pod = k.get_json(&["pod", "isolated"]);
    let ip = pod
        .pointer("/status/podIP")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    assert!(ip.starts_with("10.244.0."), "pod IP {ip}");
    assert_eq!(pod.pointer("/status/phase"), Some(&"Running".into()));
    let read = |name: &str| -> String {
        wait_for_value(&format!("/out/{name}"), Duration::from_secs(10), || {
            std::fs::read_to_string(out.join(name))
                .ok()
                .filter(|s| !s.is_empty())
        })
    };
    assert_eq!(read("hostname").trim(), "web-0");
    assert!(read("hosts").contains(&format!("{ip}\tweb-0.web.default.svc.cluster.local\tweb-0")));
    assert!(read("resolv").contains("search default.svc.cluster.local svc.cluster.local cluster.local"));
    assert_eq!(read("env").trim(), format!("isolated {ip} hello isolated"));
    // PID 1 of its own PID namespace.
    assert_eq!(read("pid").trim(), "1");
    assert_eq!(read("scratch").trim(), "mine");
    // The server's data directory (other pods' volumes) is hidden from containers.
    assert!(
        !read("data").contains("store.db"),
        "data dir visible: {}",
        read("data")
    );
    // Writes to the host's directories land in the container's own layer.
    wait_for("the /usr write attempt", Duration::from_secs(10), || {
        out.join("usr-write").exists()
    });
    assert!(!std::path::Path::new("/usr/berth-was-here").exists());
}

#[test]
fn a_killed_process_restarts_and_a_crashing_one_backs_off() {
    let k = host();
    let marker = format!("berth-e2e-restart-{}", std::process::id());
    k.apply_ok(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: restarts}}
spec:
  containers:
  - name: app
    image: debian:bookworm
    command: ["sh", "-c", "echo run; sleep 3600; : {marker}"]
---
apiVersion: v1
kind: Pod
metadata: {{name: crasher}}
spec:
  containers:
  - name: app
    image: debian:bookworm
    command: ["sh", "-c", "echo crashing; exit 3"]
"#
    ));
    wait_ready(&k, "restarts", Duration::from_secs(30));
    let killed = std::process::Command::new("pkill")
        .args(["-KILL", "-f", &format!("sh -c echo run; sleep 3600; : {marker}")])
        .status()
        .unwrap();
    assert!(killed.success(), "no process to kill");
    let status = wait_for_value("a restart", Duration::from_secs(30), || {
        let s = container_status(&k, "restarts");
        (s["restartCount"] == 1 && s["state"]["running"].is_object()).then_some(s)
    });
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 137);
    assert_eq!(status["lastState"]["terminated"]["reason"], "Error");

    let status = wait_for_value("CrashLoopBackOff", Duration::from_secs(40), || {
        let s = container_status(&k, "crasher");
        (s["state"]["waiting"]["reason"] == "CrashLoopBackOff").then_some(s)
    });
    assert!(status["restartCount"].as_i64().unwrap() >= 1);
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 3);
    let table = k.kubectl_ok(&["get", "pod", "crasher"]);
    assert!(table.contains("CrashLoopBackOff"), "{table}");
}

#[test]
fn a_readiness_probe_holds_back_the_next_ordinal() {
    let k = host();
    let gate = k.scratch("gate");
    std::fs::create_dir_all(&gate).unwrap();
    k.apply_ok(&format!(
        r#"
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec: {{clusterIP: None, selector: {{app: web}}, ports: [{{port: 80}}]}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: web}}
spec:
  serviceName: web
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: app
        image: debian:bookworm
        command: ["sleep", "3600"]
        readinessProbe:
          exec: {{command: ["sh", "-c", "test -e /gate/$(hostname)"]}}
          periodSeconds: 1
        volumeMounts: [{{name: gate, mountPath: /gate}}]
      volumes:
      - {{name: gate, hostPath: {{path: {gate}}}}}
"#,
        gate = gate.display()
    ));
    wait_for("web-0 Running", Duration::from_secs(30), || {
        k.jsonpath(&["pod", "web-0"], "{.status.phase}") == "Running"
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        k.kubectl(&["get", "pod", "web-1"]).stdout.is_empty(),
        "web-1 was created before web-0 was Ready"
    );
    let ready = k.jsonpath(
        &["pod", "web-0"],
        "{.status.conditions[?(@.type=='Ready')].status}",
    );
    assert_eq!(ready, "False");
    std::fs::write(gate.join("web-0"), b"").unwrap();
    wait_ready(&k, "web-0", Duration::from_secs(20));
    wait_for("web-1 created", Duration::from_secs(20), || {
        k.kubectl(&["get", "pod", "web-1"]).success()
    });
}

#[test]
fn deleting_a_pod_runs_its_sigterm_handler_within_the_grace_period() {
    let k = host();
    let out = k.scratch("term");
    std::fs::create_dir_all(&out).unwrap();
    k.apply_ok(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: graceful}}
spec:
  terminationGracePeriodSeconds: 20
  containers:
  - name: app
    image: debian:bookworm
    command: ["sh", "-c", "trap 'echo term > /out/signal; exit 0' TERM; while true; do sleep 0.2; done"]
    volumeMounts: [{{name: out, mountPath: /out}}]
  volumes:
  - {{name: out, hostPath: {{path: {out}}}}}
"#,
        out = out.display()
    ));
    wait_ready(&k, "graceful", Duration::from_secs(30));
    k.kubectl_ok(&["delete", "pod", "graceful", "--wait=false"]);
    wait_for("the pod gone", Duration::from_secs(25), || {
        k.is_gone(&["pod", "graceful"])
    });
    assert_eq!(
        std::fs::read_to_string(out.join("signal")).unwrap().trim(),
        "term"
    );
}

#[test]
fn pods_keep_running_across_a_server_restart() {
    let mut k = host();
    let out = k.scratch("restart");
    std::fs::create_dir_all(&out).unwrap();
    k.apply_ok(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: survivor}}
spec:
  containers:
  - name: app
    image: debian:bookworm
    command: ["sh", "-c", "date +%s%N > /out/started; exec sleep 3600"]
    volumeMounts: [{{name: out, mountPath: /out}}]
  volumes:
  - {{name: out, hostPath: {{path: {out}}}}}
"#,
        out = out.display()
    ));
    wait_ready(&k, "survivor", Duration::from_secs(30));
    let before = container_status(&k, "survivor");
    let started = std::fs::read_to_string(out.join("started")).unwrap();
    k.kill9();
    k.restart();
    std::thread::sleep(Duration::from_secs(3));
    wait_ready(&k, "survivor", Duration::from_secs(30));
    let after = container_status(&k, "survivor");
    assert_eq!(after["containerID"], before["containerID"]);
    assert_eq!(after["restartCount"], 0);
    assert_eq!(std::fs::read_to_string(out.join("started")).unwrap(), started);
}

#[test]
fn a_remote_agent_joins_and_runs_pods_bound_to_it() {
    let k = host();
    let agent_dir = k.scratch("agent");
    let url = k.get_json(&["endpoints", "kubernetes"]);
    let ip = url
        .pointer("/subsets/0/addresses/0/ip")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    let port = url
        .pointer("/subsets/0/ports/0/port")
        .and_then(Value::as_i64)
        .unwrap();
    let token = std::fs::read_to_string(k.data_dir().join("pki/admin.token")).unwrap();
    let mut agent = std::process::Command::new(crate::harness::berth_bin())
        .args([
            "agent",
            "--server",
            &format!("https://{ip}:{port}"),
            "--node-name",
            "remote-1",
            "--zone",
            "z9",
        ])
        .arg("--token")
        .arg(token.trim())
        .arg("--certificate-authority")
        .arg(k.data_dir().join("pki/ca.crt"))
        .arg("--data-dir")
        .arg(&agent_dir)
        .args(["--pod-subnet", "50"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("node remote-1 Ready", Duration::from_secs(30), || {
        k.kubectl(&[
            "get",
            "node",
            "remote-1",
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
        ])
        .stdout
            == "True"
    });
    assert_eq!(
        k.jsonpath(
            &["node", "remote-1"],
            "{.metadata.labels.topology\\.kubernetes\\.io/zone}"
        ),
        "z9"
    );
    k.apply_ok(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: far}
spec:
  nodeSelector: {kubernetes.io/hostname: remote-1}
  containers:
  - {name: app, image: debian:bookworm, command: ["sleep", "3600"]}
"#,
    );
    wait_ready(&k, "far", Duration::from_secs(30));
    let pod = k.get_json(&["pod", "far"]);
    assert_eq!(pod.pointer("/spec/nodeName"), Some(&"remote-1".into()));
    let ip = pod.pointer("/status/podIP").and_then(Value::as_str).unwrap();
    assert!(ip.starts_with("10.244.50."), "pod IP {ip}");
    let _ = agent.kill();
    let _ = agent.wait();
    let reset = std::process::Command::new(crate::harness::berth_bin())
        .arg("reset")
        .arg("--data-dir")
        .arg(&agent_dir)
        .status()
        .unwrap();
    assert!(reset.success());
}

#[test]
fn a_runtime_class_with_the_sim_handler_simulates_the_pod_on_a_host_node() {
    let k = host();
    k.apply_ok(
        r#"
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: simulated}
handler: sim
---
apiVersion: v1
kind: Pod
metadata: {name: pretend}
spec:
  runtimeClassName: simulated
  containers:
  - {name: app, image: registry.example/not-on-this-host:1}
"#,
    );
    wait_ready(&k, "pretend", Duration::from_secs(30));
    let pods_dir = k.data_dir().join("nodes/node-1/pods");
    let on_disk = std::fs::read_dir(&pods_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(on_disk, 0, "a simulated pod left host-runtime state");
}

#[test]
fn exec_logs_and_port_forward_reach_inside_the_pod() {
    let k = host();
    let marker = format!("berth-e2e-web-{}", std::process::id());
    k.apply_ok(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  containers:
  - name: app
    image: python:3
    command: ["sh", "-c", "echo starting run; cd /tmp && echo hello-from-pod > index.html && python3 -m http.server 8000; : {marker}"]
    env: [{{name: FOO, value: bar}}]
"#
    ));
    wait_ready(&k, "web", Duration::from_secs(30));
    // exec runs inside the container: its environment, its PID namespace.
    let out = k.kubectl_ok(&["exec", "web", "--", "sh", "-c", "echo $FOO; cat /proc/1/comm"]);
    assert_eq!(out, "bar\nsh\n");
    // cp goes through tar inside the container, both ways.
    let local = k.write_file("to-pod.txt", "copied in\n");
    k.kubectl_ok(&["cp", &local.display().to_string(), "web:/tmp/in.txt"]);
    assert_eq!(
        k.kubectl_ok(&["exec", "web", "--", "cat", "/tmp/in.txt"]),
        "copied in\n"
    );
    let back = k.scratch("from-pod.html");
    k.kubectl_ok(&["cp", "web:/tmp/index.html", &back.display().to_string()]);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "hello-from-pod\n");
    // logs -f streams what the container writes.
    let mut follow = k.spawn_kubectl(&["logs", "-f", "web"]);
    follow.wait_for_lines("the first line", 1, |l| l == "starting run");
    follow.stop();
    // exec -it gets a terminal.
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", "kubectl exec -it web -- tty", "/dev/null"])
        .env("KUBECONFIG", k.kubeconfig())
        .env("HOME", k.home());
    let tty = crate::harness::run_process(cmd, None, Duration::from_secs(30));
    assert!(tty.stdout.contains("/dev/pts/"), "exec -it: {tty:?}");
    // port-forward reaches the pod's own loopback.
    let mut pf = k.spawn_kubectl(&["port-forward", "pod/web", ":8000"]);
    let lines = pf.wait_for_lines("the forwarding address", 1, |l| {
        l.starts_with("Forwarding from 127.0.0.1:")
    });
    let port = lines[0]
        .trim_start_matches("Forwarding from 127.0.0.1:")
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let body = wait_for_value("a page through port-forward", Duration::from_secs(15), || {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "--max-time",
                "5",
                &format!("http://127.0.0.1:{port}/index.html"),
            ])
            .output()
            .ok()?;
        let body = String::from_utf8_lossy(&out.stdout).into_owned();
        (!body.is_empty()).then_some(body)
    });
    assert_eq!(body, "hello-from-pod\n");
    pf.stop();
    // The server's request log reaches `kubectl logs`; after a restart `--previous` has it.
    wait_for("the request in the log", Duration::from_secs(15), || {
        k.kubectl_ok(&["logs", "web"]).contains("GET /index.html")
    });
    let killed = std::process::Command::new("pkill")
        .args(["-KILL", "-f", &marker])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_for("a restart", Duration::from_secs(30), || {
        container_status(&k, "web")["restartCount"] == 1
            && container_status(&k, "web")["state"]["running"].is_object()
    });
    let previous = k.kubectl_ok(&["logs", "web", "--previous"]);
    assert!(
        previous.contains("starting run") && previous.contains("GET /index.html"),
        "{previous}"
    );
    let tail = k.kubectl_ok(&["logs", "web", "--tail", "1"]);
    assert_eq!(tail.lines().count(), 1);
}

/// Issue 5's whole story on one StatefulSet: identity, own volumes, DNS between pods,
/// graceful replacement with the same data, and survival of a server restart.
#[test]
fn statefulset_pods_have_stable_identity_storage_and_dns() {
    let mut k = host();
    k.apply_ok(
        r#"
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: None, selector: {app: web}, ports: [{name: http, port: 8000}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: app
        image: python:3
        command: ["sh", "-c"]
        args:
        - |
          trap 'echo "$(hostname) got SIGTERM" > /data/terminated; exit 0' TERM
          hostname > /data/hostname
          echo "$(hostname)" >> /data/boots
          touch /data/only-$(hostname)
          cd /data && python3 -m http.server 8000 &
          wait
        ports: [{name: http, containerPort: 8000}]
        readinessProbe: {httpGet: {path: /hostname, port: http}, periodSeconds: 1}
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 100Mi}}}
"#,
    );
    wait_for("3 ready replicas", Duration::from_secs(90), || {
        k.jsonpath(&["statefulset", "web"], "{.status.readyReplicas}") == "3"
    });
    let exec = |k: &Berth, pod: &str, script: &str| k.kubectl_ok(&["exec", pod, "--", "sh", "-c", script]);
    let mut ips = Vec::new();
    for i in 0..3 {
        let pod = format!("web-{i}");
        assert_eq!(exec(&k, &pod, "cat /data/hostname").trim(), pod);
        // Its own claim only: no other pod's files.
        assert_eq!(
            exec(&k, &pod, "ls /data | grep only-").trim(),
            format!("only-{pod}")
        );
        assert_eq!(
            k.jsonpath(&["pvc", &format!("data-{pod}")], "{.status.phase}"),
            "Bound"
        );
        ips.push(k.jsonpath(&["pod", &pod], "{.status.podIP}"));
    }
    // Stable DNS names resolve to pod IPs, and pods reach each other over them.
    for (i, ip) in ips.iter().enumerate() {
        let resolved = exec(&k, "web-0", &format!("getent hosts web-{i}.web | cut -d' ' -f1"));
        assert_eq!(resolved.trim(), ip);
    }
    let fetched = exec(
        &k,
        "web-0",
        "python3 -c \"import urllib.request;print(urllib.request.urlopen('http://web-2.web.default.svc.cluster.local:8000/hostname').read().decode().strip())\"",
    );
    assert_eq!(fetched.trim(), "web-2");
    let headless = exec(&k, "web-0", "getent ahostsv4 web | cut -d' ' -f1 | sort -u");
    let mut sorted = ips.clone();
    sorted.sort();
    assert_eq!(headless.lines().map(str::to_string).collect::<Vec<_>>(), sorted);

    // A deleted pod comes back with the same name and data, after its SIGTERM handler ran.
    let old_uid = k.jsonpath(&["pod", "web-1"], "{.metadata.uid}");
    k.kubectl_ok(&["delete", "pod", "web-1", "--wait=false"]);
    wait_for("web-1 replaced and Ready", Duration::from_secs(60), || {
        let uid = k
            .kubectl(&["get", "pod", "web-1", "-o", "jsonpath={.metadata.uid}"])
            .stdout;
        !uid.is_empty()
            && uid != old_uid
            && k.kubectl(&[
                "get",
                "pod",
                "web-1",
                "-o",
                "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            ])
            .stdout
                == "True"
    });
    assert_eq!(
        exec(&k, "web-1", "cat /data/terminated").trim(),
        "web-1 got SIGTERM"
    );
    assert_eq!(exec(&k, "web-1", "cat /data/boots"), "web-1\nweb-1\n");

    // Pods and data survive a server restart.
    let ids: Vec<Value> = (0..3)
        .map(|i| container_status(&k, &format!("web-{i}"))["containerID"].clone())
        .collect();
    k.kill9();
    k.restart();
    wait_for(
        "3 ready replicas after the restart",
        Duration::from_secs(60),
        || k.jsonpath(&["statefulset", "web"], "{.status.readyReplicas}") == "3",
    );
    for (i, id) in ids.iter().enumerate() {
        let pod = format!("web-{i}");
        assert_eq!(
            &container_status(&k, &pod)["containerID"],
            id,
            "{pod} was restarted"
        );
        assert_eq!(exec(&k, &pod, "cat /data/hostname").trim(), pod);
    }
}

#[test]
fn security_context_limits_and_completion_apply() {
    let k = host();
    k.apply_ok(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: unprivileged}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}
  containers:
  - name: app
    image: debian:bookworm
    command: ["sh", "-c", "id -u; id -g; id -G; touch /data/f && stat -c %g /data; sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: hungry}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: python:3
    command: ["python3", "-c", "b = bytearray(512 * 1024 * 1024); import time; time.sleep(30)"]
    resources: {limits: {memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: job}
spec:
  restartPolicy: Never
  containers:
  - {name: app, image: debian:bookworm, command: ["sh", "-c", "echo done"]}
"#,
    );
    let log = wait_for_value("the unprivileged pod's output", Duration::from_secs(30), || {
        let out = k.kubectl(&["logs", "unprivileged"]).stdout;
        (out.lines().count() >= 4).then_some(out)
    });
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[0], "1000");
    assert_eq!(lines[1], "3000");
    assert!(lines[2].split(' ').any(|g| g == "2000"), "groups: {}", lines[2]);
    assert_eq!(lines[3], "2000", "the volume belongs to the fsGroup");

    let term = wait_for_value("the OOM kill", Duration::from_secs(30), || {
        let t = container_status(&k, "hungry")["state"]["terminated"].clone();
        t.is_object().then_some(t)
    });
    assert_eq!(term["exitCode"], 137);
    assert_eq!(term["reason"], "OOMKilled");

    wait_for("the job Succeeded", Duration::from_secs(30), || {
        k.jsonpath(&["pod", "job"], "{.status.phase}") == "Succeeded"
    });
    assert_eq!(
        container_status(&k, "job")["state"]["terminated"]["reason"],
        "Completed"
    );
    assert_eq!(k.kubectl_ok(&["logs", "job"]), "done\n");
}
