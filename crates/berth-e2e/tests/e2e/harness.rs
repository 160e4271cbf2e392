//! The harness: one real `berth server` per test, the real `kubectl` and `curl` driving it,
//! and polling helpers.
//!
//! Every test calls [`Berth::start`], which picks a free port, starts the binary on a fresh
//! temporary data directory, waits for the kubeconfig and `/readyz`, and gives each test its
//! own `HOME` (so kubectl's discovery and OpenAPI caches never leak between tests). Dropping
//! the [`Berth`] kills the server; when the test is panicking, the server log's path and tail
//! are printed and the temporary directory is kept for inspection.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a started server may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for one kubectl/curl/python invocation (a hung client fails the test, not the suite).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time allowed for eventually-consistent effects (controllers, watches).
pub const EVENTUALLY: Duration = Duration::from_secs(20);

/// The berth binary: `$BERTH_BIN`, else `target/debug/berth` of this workspace (or of `$CARGO_TARGET_DIR`).
pub fn berth_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BERTH_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("debug/berth");
    assert!(
        bin.exists(),
        "the berth binary is missing at {}: run `cargo build -p berth` before the e2e suite, or set BERTH_BIN",
        bin.display()
    );
    bin
}

/// The kubectl to drive (`$KUBECTL`, default `kubectl` from `PATH`).
fn kubectl_bin() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string())
}

/// Result of a finished client process.
#[derive(Debug, Clone)]
pub struct Output {
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// Exit code (-1 when killed by a signal or by the harness timeout).
    pub code: i32,
}

impl Output {
    /// Whether the process exited with 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// Result of a raw HTTP request made with curl.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status code (0 when curl could not get a response at all).
    pub status: u16,
    /// Response body.
    pub body: String,
    /// curl's exit code (0 on a completed transfer).
    pub curl_code: i32,
    /// curl's stderr.
    pub curl_stderr: String,
}

impl HttpResponse {
    /// The body parsed as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}), status {} (curl exit {}: {}): {}",
                self.status, self.curl_code, self.curl_stderr, self.body
            )
        })
    }
}

/// Runs `cmd` with optional stdin, capturing output, killing it after `timeout`.
pub fn run_process(mut cmd: Command, stdin: Option<Vec<u8>>, timeout: Duration) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let desc = format!("{cmd:?}");
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {desc}: {e}"));
    let writer = stdin.map(|data| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        thread::spawn(move || {
            // The process may exit (or reject the input) before reading all of it.
            let _ = pipe.write_all(&data);
        })
    });
    let out_reader = read_all_in_thread(child.stdout.take().expect("stdout is piped"));
    let err_reader = read_all_in_thread(child.stderr.take().expect("stderr is piped"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for {desc}: {e}"),
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out_reader.join().unwrap_or_default();
    let mut stderr = err_reader.join().unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!("\n[harness: killed after {timeout:?}: {desc}]"));
    }
    Output {
        stdout,
        stderr,
        code: status.and_then(|s| s.code()).unwrap_or(-1),
    }
}

fn read_all_in_thread(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Polls `f` every 100 ms until it returns `Some`, panicking with `what` after `timeout`.
pub fn wait_for_value<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `f` every 100 ms until it returns true, panicking with `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    wait_for_value(what, timeout, || f().then_some(()));
}

/// Splits kubectl's human-readable table output into whitespace-separated cells per line.
pub fn table(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A free TCP port on 127.0.0.1 (bound, read and released).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port");
    l.local_addr().expect("reading the ephemeral port").port()
}

/// A cheap, clonable handle for raw HTTPS requests with the admin token (usable from threads).
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    token: String,
    http1: bool,
}

impl Api {
    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same handle forcing HTTP/1.1 (curl otherwise negotiates HTTP/2 through ALPN).
    pub fn http1(mut self) -> Api {
        self.http1 = true;
        self
    }

    /// The admin bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Sends a request with curl. `auth` adds the admin bearer token; `content_type: None`
    /// sends no `Content-Type` header at all.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
        auth: bool,
    ) -> HttpResponse {
        const MARK: &str = "\n@@berth-e2e-status@@";
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-k", "--max-time", "30", "-X", method, "-o", "-", "-w"])
            .arg(format!("{MARK}%{{http_code}}"));
        if self.http1 {
            cmd.arg("--http1.1");
        }
        if auth {
            cmd.arg("-H").arg(format!("Authorization: Bearer {}", self.token));
        }
        // curl adds a form Content-Type to bodies unless told otherwise; "Content-Type:" removes it.
        cmd.arg("-H")
            .arg(format!("Content-Type: {}", content_type.unwrap_or("")));
        if body.is_some() {
            cmd.args(["--data-binary", "@-"]);
        }
        cmd.arg(self.url(path));
        let out = run_process(cmd, body.map(<[u8]>::to_vec), PROCESS_TIMEOUT);
        let (body, status) = match out.stdout.rsplit_once(MARK) {
            Some((b, s)) => (b.to_string(), s.trim().parse().unwrap_or(0)),
            None => (out.stdout.clone(), 0),
        };
        HttpResponse {
            status,
            body,
            curl_code: out.code,
            curl_stderr: out.stderr,
        }
    }

    /// Sends `value` as `application/json` with the admin token.
    pub fn send_json(&self, method: &str, path: &str, value: &Value) -> HttpResponse {
        self.request(
            method,
            path,
            Some("application/json"),
            Some(value.to_string().as_bytes()),
            true,
        )
    }

    /// GET with the admin token.
    pub fn get(&self, path: &str) -> HttpResponse {
        self.request("GET", path, None, None, true)
    }
}

/// A running `berth server` owned by one test.
pub struct Berth {
    /// Temporary root holding `data/`, `home/`, `server.log` and scratch files; kept on failure.
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    port: u16,
    child: Option<Child>,
    token: String,
    test: String,
    /// Extra `berth server` flags.
    flags: Vec<String>,
    /// Extra environment variables of the server.
    env: Vec<(String, String)>,
}

impl Berth {
    /// Starts a server (simulated runtime) on a fresh data directory and waits until it is ready.
    pub fn start() -> Berth {
        Berth::start_with(&[])
    }

    /// Starts a server with extra `berth server` flags (`--runtime sim` unless they name a
    /// runtime) and waits until it is ready.
    pub fn start_with(flags: &[&str]) -> Berth {
        let dir = tempfile::Builder::new()
            .prefix("berth-e2e-")
            .tempdir()
            .expect("creating a temporary directory");
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("home")).expect("creating HOME");
        let test = thread::current().name().unwrap_or("unnamed").to_string();
        let mut berth = Berth {
            dir: Some(dir),
            root,
            port: 0,
            child: None,
            token: String::new(),
            test,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            env: Vec::new(),
        };
        berth.boot(None);
        berth
    }

    /// Spawns the server (on `port`, or a fresh one) and waits for readiness, retrying with
    /// another port when the chosen one was taken in between.
    fn boot(&mut self, port: Option<u16>) {
        let mut try_port = port;
        for attempt in 0..4 {
            let p = try_port.unwrap_or_else(free_port);
            let _ = std::fs::remove_file(self.kubeconfig());
            self.spawn(p);
            match self.wait_ready() {
                Ok(()) => return,
                Err(e) if e.contains("listening on") && attempt < 3 => {
                    self.kill9();
                    try_port = None;
                }
                Err(e) => panic!("berth did not become ready: {e}\n{}", self.log_report()),
            }
        }
        panic!("berth could not find a free port\n{}", self.log_report());
    }

    fn spawn(&mut self, port: u16) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("opening the server log");
        let log2 = log.try_clone().expect("cloning the server log handle");
        let child = Command::new(berth_bin())
            .arg("server")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(if self.flags.iter().any(|f| f.starts_with("--runtime")) {
                &[][..]
            } else {
                &["--runtime", "sim"][..]
            })
            .args(&self.flags)
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", berth_bin().display()));
        self.child = Some(child);
        self.port = port;
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while !self.kubeconfig().exists() {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
                return Err(format!(
                    "server exited with {status} before writing its kubeconfig: {log}"
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("no kubeconfig after {READY_TIMEOUT:?}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
        let kubeconfig = std::fs::read_to_string(self.kubeconfig()).map_err(|e| e.to_string())?;
        self.token = kubeconfig
            .lines()
            .find_map(|l| l.trim().strip_prefix("token:"))
            .map(|t| t.trim().to_string())
            .ok_or_else(|| format!("no token in the kubeconfig:\n{kubeconfig}"))?;
        loop {
            let out = self.kubectl(&["get", "--raw", "/readyz"]);
            if out.success() && out.stdout.trim() == "ok" {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("/readyz never said ok: {out:?}"));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9` the server (no graceful shutdown).
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sets the server's environment variable `key` (removes it with `None`) for its next
    /// starts ([`Berth::restart`]).
    pub fn set_server_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(k, _)| k != key);
        if let Some(v) = value {
            self.env.push((key.to_string(), v.to_string()));
        }
    }

    /// Waits up to `timeout` for the server to exit on its own; its exit status, or `None`
    /// when it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if status.is_some() {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the server again on the same data directory (and the same port if possible).
    pub fn restart(&mut self) {
        self.kill9();
        self.boot(Some(self.port));
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The admin kubeconfig the server wrote.
    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir().join("kubeconfig")
    }

    /// The per-test `HOME` kubectl runs with.
    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    /// A scratch path inside the test's temporary directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes `content` to a scratch file and returns its path.
    pub fn write_file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.scratch(name);
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        p
    }

    /// The server log (stdout and stderr of every run of the server).
    pub fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// A raw-HTTP handle with the admin token.
    pub fn api(&self) -> Api {
        Api {
            base: format!("https://127.0.0.1:{}", self.port),
            token: self.token.clone(),
            http1: false,
        }
    }

    /// The path and the last lines of the server log, for failure messages.
    pub fn log_report(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!(
            "--- server log {} (last 40 lines) ---\n{tail}\n---",
            self.log_path().display()
        )
    }

    /// A `kubectl` command with this server's kubeconfig and the test's own `HOME`.
    pub fn kubectl_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(kubectl_bin());
        cmd.args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", self.home())
            .current_dir(&self.root);
        cmd
    }

    /// Runs kubectl and returns its output, whatever the exit code.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        run_process(self.kubectl_command(args), None, PROCESS_TIMEOUT)
    }

    /// Runs kubectl with `stdin`.
    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> Output {
        run_process(
            self.kubectl_command(args),
            Some(stdin.as_bytes().to_vec()),
            PROCESS_TIMEOUT,
        )
    }

    /// Runs kubectl, asserting exit code 0; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        self.assert_ok(args, &out);
        out.stdout
    }

    /// Runs kubectl expecting failure; returns the output.
    pub fn kubectl_fails(&self, args: &[&str]) -> Output {
        let out = self.kubectl(args);
        assert!(
            !out.success(),
            "expected `kubectl {}` to fail, but it succeeded:\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.stdout,
            out.stderr
        );
        out
    }

    fn assert_ok(&self, args: &[&str], out: &Output) {
        assert!(
            out.success(),
            "`kubectl {}` exited {}:\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.code,
            out.stdout,
            out.stderr
        );
    }

    /// `kubectl apply -f -` with `yaml` on stdin.
    pub fn apply_yaml(&self, yaml: &str) -> Output {
        self.kubectl_stdin(&["apply", "-f", "-"], yaml)
    }

    /// `kubectl apply -f -`, asserting success; returns stdout.
    pub fn apply_ok(&self, yaml: &str) -> String {
        let out = self.apply_yaml(yaml);
        self.assert_ok(&["apply", "-f", "-"], &out);
        out.stdout
    }

    /// `kubectl get <args> -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        let stdout = self.kubectl_ok(&all);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("kubectl {all:?} printed non-JSON ({e}): {stdout}"))
    }

    /// `kubectl get <args> -o jsonpath=<path>`.
    pub fn jsonpath(&self, args: &[&str], path: &str) -> String {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        let jp = format!("jsonpath={path}");
        all.extend_from_slice(&["-o", &jp]);
        self.kubectl_ok(&all)
    }

    /// Whether `kubectl get <args>` answers NotFound (asserting that any failure is exactly that).
    pub fn is_gone(&self, args: &[&str]) -> bool {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        let out = self.kubectl(&all);
        if out.success() {
            return false;
        }
        assert!(
            out.stderr.contains("Error from server (NotFound)"),
            "kubectl {all:?} failed with something other than NotFound: {}",
            out.stderr
        );
        true
    }

    /// Starts a long-running kubectl (e.g. `get -w`) whose stdout lines are collected as they arrive.
    pub fn spawn_kubectl(&self, args: &[&str]) -> Streaming {
        let mut cmd = self.kubectl_command(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning kubectl {args:?}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stdout = child.stdout.take().expect("stdout is piped");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(line);
            }
        });
        let stderr = read_all_in_thread(child.stderr.take().expect("stderr is piped"));
        Streaming {
            child,
            lines,
            stderr: Some(stderr),
            desc: format!("kubectl {}", args.join(" ")),
        }
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        self.kill9();
        // Pods of the host runtime outlive the server by design: stop them and remove
        // their network namespace.
        let _ = Command::new(berth_bin())
            .arg("reset")
            .arg("--data-dir")
            .arg(self.data_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if thread::panicking() {
            eprintln!("[{}] {}", self.test, self.log_report());
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!("[{}] kept the test directory {}", self.test, kept.display());
            }
        }
    }
}

/// A running kubectl whose stdout lines are being collected; killed on drop.
pub struct Streaming {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Option<thread::JoinHandle<String>>,
    desc: String,
}

impl Streaming {
    /// The stdout lines received so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until at least `n` lines satisfy `pred`; returns all lines seen.
    pub fn wait_for_lines(&mut self, what: &str, n: usize, pred: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + EVENTUALLY;
        loop {
            let lines = self.lines();
            if lines.iter().filter(|l| pred(l)).count() >= n {
                return lines;
            }
            if Instant::now() > deadline || matches!(self.child.try_wait(), Ok(Some(_))) {
                let exited = self.child.try_wait().ok().flatten();
                let stderr = self.stop();
                panic!(
                    "waiting for {what} from `{}` (exited: {exited:?}); lines so far:\n{}\nstderr: {stderr}",
                    self.desc,
                    lines.join("\n")
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process and returns its stderr.
    pub fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
