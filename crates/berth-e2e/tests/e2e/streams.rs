//! `kubectl exec / cp / port-forward / logs` through the API server's pod streaming
//! subresources to the node agent's streaming server (simulated runtime: commands run on the
//! host, port-forward reaches host ports), over both transports kubectl 1.32 speaks:
//! WebSocket (its default) and SPDY/3.1 (forced with `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`
//! and `KUBECTL_PORT_FORWARD_WEBSOCKETS=false`).

use crate::harness::{Berth, EVENTUALLY, Output, run_process, wait_for};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The transports kubectl can use, as the environment that selects them.
const TRANSPORTS: [(&str, &[(&str, &str)]); 2] = [
    ("websocket", &[]),
    (
        "spdy",
        &[
            ("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false"),
            ("KUBECTL_PORT_FORWARD_WEBSOCKETS", "false"),
        ],
    ),
];

fn pod_yaml(name: &str, containers: &[&str]) -> String {
    let mut y = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n");
    for c in containers {
        y.push_str(&format!(
            "  - name: {c}\n    image: busybox\n    command: [\"sleep\", \"3600\"]\n"
        ));
    }
    y
}

/// Creates a one-container pod and waits until it runs.
fn running_pod(b: &Berth, name: &str, containers: &[&str]) {
    b.apply_ok(&pod_yaml(name, containers));
    wait_for(&format!("pod {name} to run"), EVENTUALLY, || {
        b.jsonpath(&["pod", name], "{.status.phase}") == "Running"
    });
}

fn kubectl_env(b: &Berth, env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = b.kubectl_command(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_process(cmd, stdin.map(|s| s.as_bytes().to_vec()), TIMEOUT)
}

#[test]
fn exec_delivers_stdout_stderr_and_the_exit_code() {
    let b = Berth::start();
    running_pod(&b, "shell", &["app"]);
    for (transport, env) in TRANSPORTS {
        let out = kubectl_env(
            &b,
            env,
            &[
                "exec",
                "shell",
                "--",
                "sh",
                "-c",
                "echo out; echo err >&2; exit 3",
            ],
            None,
        );
        assert_eq!(out.code, 3, "{transport}: exit code; stderr: {}", out.stderr);
        assert_eq!(out.stdout, "out\n", "{transport}: stdout");
        assert!(
            out.stderr.contains("err\n"),
            "{transport}: stderr: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("command terminated with exit code 3"),
            "{transport}: kubectl reports the exit code: {}",
            out.stderr
        );
        let ok = kubectl_env(
            &b,
            env,
            &["exec", "shell", "-c", "app", "--", "echo", "hello"],
            None,
        );
        assert_eq!(
            (ok.code, ok.stdout.as_str()),
            (0, "hello\n"),
            "{transport}: {}",
            ok.stderr
        );
    }
}

#[test]
fn exec_with_stdin_reads_until_the_clients_eof() {
    let b = Berth::start();
    running_pod(&b, "shell", &["app"]);
    for (transport, env) in TRANSPORTS {
        let out = kubectl_env(
            &b,
            env,
            &["exec", "-i", "shell", "--", "tr", "a-z", "A-Z"],
            Some("hello\nworld\n"),
        );
        assert_eq!(out.code, 0, "{transport}: {}", out.stderr);
        assert_eq!(out.stdout, "HELLO\nWORLD\n", "{transport}");
    }
}

/// Runs `args` (kubectl's) on a fresh pseudo-terminal of 40 rows by 100 columns; returns
/// everything the terminal showed and the exit code.
fn kubectl_on_a_terminal(b: &Berth, env: &[(&str, &str)], args: &[&str]) -> Output {
    const DRIVER: &str = r#"
import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
    let probe = b.kubectl_command(&[]);
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(DRIVER).arg(kubectl).args(args);
    for (k, v) in probe.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = probe.get_current_dir() {
        cmd.current_dir(dir);
    }
    run_process(cmd, None, TIMEOUT)
}

#[test]
fn exec_with_a_tty_gets_a_terminal_of_the_clients_size() {
    let b = Berth::start();
    running_pod(&b, "shell", &["app"]);
    for (transport, env) in TRANSPORTS {
        let out = kubectl_on_a_terminal(
            &b,
            env,
            &["exec", "-it", "shell", "--", "sh", "-c", "tty; stty size; exit 4"],
        );
        assert!(
            out.stdout.contains("/dev/pts/"),
            "{transport}: `tty` names a pty: {out:?}"
        );
        assert!(
            out.stdout.contains("40 100"),
            "{transport}: `stty size` shows the client's size: {out:?}"
        );
        assert_eq!(out.code, 4, "{transport}: {out:?}");
    }
}

#[test]
fn cp_copies_files_both_ways() {
    let b = Berth::start();
    running_pod(&b, "shell", &["app"]);
    for (transport, env) in TRANSPORTS {
        // The simulated pod shares the host's filesystem, so the test's scratch directory is
        // visible "inside" it.
        let inside = b.scratch(&format!("inside-{transport}"));
        std::fs::create_dir_all(&inside).expect("mkdir");
        let content = format!("copied over {transport}\n").repeat(2000);
        let local = b.write_file(&format!("local-{transport}.txt"), &content);
        let dest = format!("shell:{}/in.txt", inside.display());
        let out = kubectl_env(&b, env, &["cp", &local.display().to_string(), &dest], None);
        assert_eq!(out.code, 0, "{transport}: cp to the pod: {}", out.stderr);
        assert_eq!(
            std::fs::read_to_string(inside.join("in.txt")).expect("copied file"),
            content,
            "{transport}"
        );

        std::fs::write(inside.join("out.txt"), "from the pod\n").expect("write");
        let src = format!("shell:{}/out.txt", inside.display());
        let back = b.scratch(&format!("back-{transport}.txt"));
        let out = kubectl_env(&b, env, &["cp", &src, &back.display().to_string()], None);
        assert_eq!(out.code, 0, "{transport}: cp from the pod: {}", out.stderr);
        assert_eq!(
            std::fs::read_to_string(&back).expect("copied back"),
            "from the pod\n",
            "{transport}"
        );
    }
}

/// A child process whose stdout lines are collected; killed on drop.
struct Background {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Background {
    fn spawn(mut cmd: Command) -> Background {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning a background process");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sink = lines.clone();
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    sink.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(line);
                }
            });
        }
        Background { child, lines }
    }

    fn output(&self) -> String {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .join("\n")
    }

    fn wait_for(&self, what: &str, needle: &str) {
        let deadline = Instant::now() + EVENTUALLY;
        while !self.output().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; output:\n{}",
                self.output()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn curl(url: &str) -> Output {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "10", url]);
    run_process(cmd, None, TIMEOUT)
}

#[test]
fn port_forward_reaches_a_server_in_the_pod() {
    let b = Berth::start();
    running_pod(&b, "web", &["app"]);
    let site = b.scratch("site");
    std::fs::create_dir_all(&site).expect("mkdir");
    std::fs::write(site.join("hello.txt"), "hello through the tunnel\n").expect("write");
    let pod_port = free_port();
    let mut server = Command::new("python3");
    server
        .args(["-m", "http.server", "--bind", "127.0.0.1", &pod_port.to_string()])
        .current_dir(&site);
    let _server = Background::spawn(server);
    wait_for("the pod's http server", EVENTUALLY, || {
        std::net::TcpStream::connect(("127.0.0.1", pod_port)).is_ok()
    });
    for (transport, env) in TRANSPORTS {
        let local = free_port();
        let mut cmd = b.kubectl_command(&["port-forward", "pod/web", &format!("{local}:{pod_port}")]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let pf = Background::spawn(cmd);
        pf.wait_for(
            "port-forward to listen",
            &format!("Forwarding from 127.0.0.1:{local}"),
        );
        for attempt in 0..3 {
            let out = curl(&format!("http://127.0.0.1:{local}/hello.txt"));
            assert_eq!(
                (out.code, out.stdout.as_str()),
                (0, "hello through the tunnel\n"),
                "{transport}: request {attempt}: {}\nkubectl: {}",
                out.stderr,
                pf.output()
            );
        }
    }
}

#[test]
fn port_forward_to_a_closed_port_reports_the_kubelets_error() {
    let b = Berth::start();
    running_pod(&b, "web", &["app"]);
    let closed = free_port();
    for (transport, env) in TRANSPORTS {
        let local = free_port();
        let mut cmd = b.kubectl_command(&["port-forward", "pod/web", &format!("{local}:{closed}")]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let pf = Background::spawn(cmd);
        pf.wait_for(
            "port-forward to listen",
            &format!("Forwarding from 127.0.0.1:{local}"),
        );
        let out = curl(&format!("http://127.0.0.1:{local}/"));
        assert_ne!(out.code, 0, "{transport}: nothing listens behind the tunnel");
        pf.wait_for(
            &format!("{transport}: the forwarding error"),
            &format!("error forwarding port {closed} to pod web, uid "),
        );
    }
}

#[test]
fn container_names_are_validated_like_kubernetes() {
    let b = Berth::start();
    running_pod(&b, "two", &["a", "b"]);
    let out = b.kubectl_fails(&["get", "--raw", "/api/v1/namespaces/default/pods/two/log"]);
    assert!(
        out.stderr
            .contains("a container name must be specified for pod two, choose one of: [a b]"),
        "{}",
        out.stderr
    );
    let out = b.kubectl_fails(&["logs", "two", "-c", "nope"]);
    assert!(
        out.stderr
            .contains("error: container nope is not valid for pod two"),
        "{}",
        out.stderr
    );
    let out = b.kubectl_fails(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/pods/two/exec?container=a&stdout=true",
    ]);
    assert!(
        out.stderr
            .contains("you must specify at least one command for the container"),
        "{}",
        out.stderr
    );
    // The simulated containers write no log: an empty answer.
    assert_eq!(b.kubectl_ok(&["logs", "two", "-c", "a"]), "");
}

#[test]
fn streaming_needs_a_scheduled_running_container() {
    let b = Berth::start();
    b.apply_ok(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: nowhere\nspec:\n  nodeSelector:\n    no-such-label: \"x\"\n  containers:\n  - name: app\n    image: busybox\n",
    );
    let out = b.kubectl_fails(&["exec", "nowhere", "--", "true"]);
    assert!(
        out.stderr.contains("pod nowhere does not have a host assigned"),
        "exec on an unscheduled pod: {}",
        out.stderr
    );
    assert_eq!(
        b.kubectl_ok(&["logs", "nowhere"]),
        "",
        "an unscheduled pod has no log yet"
    );
}

#[test]
fn python_client_exec_reads_output_and_the_return_code() {
    const SCRIPT: &str = r#"
import sys
from kubernetes import client, config
from kubernetes.stream import stream
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
out = stream(v1.connect_get_namespaced_pod_exec, "shell", "default",
             command=["sh", "-c", "echo from-python"], stderr=True, stdin=False, stdout=True, tty=False)
print("out=" + out.strip())
resp = stream(v1.connect_get_namespaced_pod_exec, "shell", "default",
              command=["sh", "-c", "echo e >&2; exit 5"], stderr=True, stdin=False, stdout=True, tty=False,
              _preload_content=False)
resp.run_forever(timeout=20)
print("stderr=" + resp.read_stderr().strip())
print("rc=%s" % resp.returncode)
"#;
    let b = Berth::start();
    running_pod(&b, "shell", &["app"]);
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg(b.kubeconfig())
        .env("HOME", b.home());
    let out = run_process(cmd, None, TIMEOUT);
    assert!(out.success(), "python exec failed: {out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines, ["out=from-python", "stderr=e", "rc=5"], "{out:?}");
}
