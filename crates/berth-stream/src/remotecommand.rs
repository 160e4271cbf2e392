//! Kubernetes' remotecommand protocol (exec and attach), transport-independent: the options a
//! request carries, the session plumbing ([`SessionIo`]) that the WebSocket and SPDY
//! transports fill, running a command with pipes or a pty, and the final `metav1.Status`
//! exactly as the kubelet writes it (`NonZeroExitCode` with an `ExitCode` cause).

use crate::pty::{self, TermSize};
use crate::spdy;
use crate::ws::{self, channel};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::future::Future;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// How long the server waits for the client to open the SPDY streams it asked for.
const STREAM_CREATION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long output may keep draining after the process exited (a background child may hold
/// the pipes open forever).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// SPDY remotecommand protocols the server accepts, best first (`v5` over SPDY is `v4`).
pub const SPDY_PROTOCOLS: [&str; 2] = [ws::V4, ws::V5];

/// The query of an exec or attach request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// Attach stdin.
    pub stdin: bool,
    /// Attach stdout.
    pub stdout: bool,
    /// Attach stderr (never with a TTY: the terminal merges it into stdout).
    pub stderr: bool,
    /// Allocate a TTY.
    pub tty: bool,
    /// The command (exec only).
    pub command: Vec<String>,
}

fn truthy(v: &str) -> bool {
    matches!(v, "1" | "true" | "True" | "TRUE")
}

impl ExecOptions {
    /// Parses `stdin`, `stdout`, `stderr`, `tty` (`1`/`true`) and repeated `command`.
    pub fn from_query(q: Option<&str>) -> ExecOptions {
        let mut o = ExecOptions::default();
        for (k, v) in form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
            match &*k {
                "stdin" | "input" => o.stdin = truthy(&v),
                "stdout" | "output" => o.stdout = truthy(&v),
                "stderr" | "error" => o.stderr = truthy(&v),
                "tty" => o.tty = truthy(&v),
                "command" => o.command.push(v.into_owned()),
                _ => {}
            }
        }
        if o.tty {
            o.stderr = false;
        }
        o
    }
}

/// Output of the session, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Bytes for stdout.
    Stdout(Bytes),
    /// Bytes for stderr.
    Stderr(Bytes),
}

/// The client side of a session as the command runner sees it.
#[derive(Debug)]
pub struct SessionIo {
    /// Client stdin; ends at the client's EOF.
    pub stdin: Option<mpsc::UnboundedReceiver<Bytes>>,
    /// Terminal size changes.
    pub resize: Option<mpsc::UnboundedReceiver<TermSize>>,
    /// Output to the client; the transport writes the final status after this closes.
    pub output: mpsc::UnboundedSender<Output>,
}

/// The stdio of an already running container process, for `kubectl attach`.
pub struct AttachIo {
    /// The process's stdin, if it has one.
    pub stdin: Option<Box<dyn AsyncWrite + Send + Unpin>>,
    /// The process's output (the terminal's output with a TTY).
    pub stdout: Option<Box<dyn AsyncRead + Send + Unpin>>,
    /// The process's stderr.
    pub stderr: Option<Box<dyn AsyncRead + Send + Unpin>>,
    /// Applies a terminal size (TTY containers).
    pub resize: Option<Box<dyn Fn(TermSize) + Send + Sync>>,
}

impl std::fmt::Debug for AttachIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachIo").finish_non_exhaustive()
    }
}

/// `{"metadata":{},"status":"Success"}`.
pub fn success_status() -> Value {
    json!({"metadata": {}, "status": "Success"})
}

/// The kubelet's status for `command` exiting with `code != 0` (the message wraps
/// containerd's `error executing command [<argv>], exit code <n>`).
pub fn exit_code_status(command: &[String], code: i32) -> Value {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            command.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

/// `apierrors.NewInternalError(err)` as the kubelet writes it on the error stream.
pub fn internal_error_status(err: &str) -> Value {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("Internal error occurred: {err}"),
        "reason": "InternalError",
        "details": {"causes": [{"message": err}]},
        "code": 500,
    })
}

fn status_of_exit(command: &[String], status: std::io::Result<std::process::ExitStatus>) -> Value {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) if s.success() => success_status(),
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => exit_code_status(command, code),
            (None, Some(sig)) => {
                internal_error_status(&format!("error executing command in container: signal {sig}"))
            }
            (None, None) => internal_error_status("error executing command in container: unknown exit"),
        },
        Err(e) => internal_error_status(&format!("error executing command in container: {e}")),
    }
}

async fn pump_reader<R: AsyncRead + Unpin>(mut r: R, out: mpsc::UnboundedSender<Output>, err: bool) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match r.read(&mut buf).await {
            // EIO is how a pty master reports that every slave handle is closed.
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let b = Bytes::copy_from_slice(&buf[..n]);
                let msg = if err { Output::Stderr(b) } else { Output::Stdout(b) };
                if out.send(msg).is_err() {
                    return;
                }
            }
        }
    }
}

async fn pump_stdin<W: AsyncWrite + Unpin>(mut w: W, mut rx: mpsc::UnboundedReceiver<Bytes>) {
    while let Some(b) = rx.recv().await {
        if w.write_all(&b).await.is_err() || w.flush().await.is_err() {
            return;
        }
    }
    let _ = w.shutdown().await;
}

async fn drain(tasks: Vec<tokio::task::JoinHandle<()>>) {
    let all = futures::future::join_all(tasks);
    let _ = tokio::time::timeout(DRAIN_AFTER_EXIT, all).await;
}

/// Runs `cmd` attached to the session and returns the final status. With a TTY the command
/// runs under `setsid -c` on a new pty; otherwise stdio are pipes (or `/dev/null` for the
/// streams the client did not ask for). The process is killed if the future is dropped.
pub async fn exec(cmd: tokio::process::Command, opts: &ExecOptions, io: SessionIo) -> Value {
    if opts.tty {
        exec_tty(cmd, opts, io).await
    } else {
        exec_pipes(cmd, opts, io).await
    }
}

async fn exec_pipes(mut cmd: tokio::process::Command, opts: &ExecOptions, io: SessionIo) -> Value {
    let pipe = |on: bool| if on { Stdio::piped() } else { Stdio::null() };
    cmd.stdin(pipe(opts.stdin && io.stdin.is_some()))
        .stdout(pipe(opts.stdout))
        .stderr(pipe(opts.stderr))
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return internal_error_status(&format!("error executing command in container: {e}")),
    };
    if let (Some(w), Some(rx)) = (child.stdin.take(), io.stdin) {
        tokio::spawn(pump_stdin(w, rx));
    }
    let mut readers = Vec::new();
    if let Some(r) = child.stdout.take() {
        readers.push(tokio::spawn(pump_reader(r, io.output.clone(), false)));
    }
    if let Some(r) = child.stderr.take() {
        readers.push(tokio::spawn(pump_reader(r, io.output.clone(), true)));
    }
    let status = child.wait().await;
    drain(readers).await;
    status_of_exit(&opts.command, status)
}

async fn exec_tty(cmd: tokio::process::Command, opts: &ExecOptions, io: SessionIo) -> Value {
    let pty = match pty::open() {
        Ok(p) => p,
        Err(e) => {
            return internal_error_status(&format!(
                "error executing command in container: opening a pty: {e}"
            ));
        }
    };
    let mut cmd = pty::with_controlling_terminal(&cmd);
    let stdio = |f: &std::fs::File| f.try_clone().map(Stdio::from);
    let (i, o, e) = match (stdio(&pty.slave), stdio(&pty.slave), stdio(&pty.slave)) {
        (Ok(i), Ok(o), Ok(e)) => (i, o, e),
        _ => return internal_error_status("error executing command in container: duplicating the pty"),
    };
    cmd.stdin(i).stdout(o).stderr(e).kill_on_drop(true);
    let mut resize = io.resize;
    // Apply an initial size sent before the process starts.
    if let Some(rx) = resize.as_mut() {
        while let Ok(size) = rx.try_recv() {
            let _ = pty::resize(&pty.master, size);
        }
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return internal_error_status(&format!("error executing command in container: {e}")),
    };
    drop(pty.slave);
    let master = std::fs::File::from(pty.master);
    let (reader, writer, sizer) = match (master.try_clone(), master.try_clone()) {
        (Ok(r), Ok(w)) => (tokio::fs::File::from_std(r), tokio::fs::File::from_std(w), master),
        _ => return internal_error_status("error executing command in container: duplicating the pty"),
    };
    if let (true, Some(rx)) = (opts.stdin, io.stdin) {
        tokio::spawn(pump_stdin(writer, rx));
    }
    let resizer = resize.map(|mut rx| {
        tokio::spawn(async move {
            while let Some(size) = rx.recv().await {
                let _ = pty::resize(&sizer, size);
            }
        })
    });
    let readers = vec![tokio::spawn(pump_reader(reader, io.output.clone(), false))];
    let status = child.wait().await;
    drain(readers).await;
    if let Some(r) = resizer {
        r.abort();
    }
    status_of_exit(&opts.command, status)
}

/// Attaches the session to a running process's stdio; the status is Success when its output
/// ends.
pub async fn attach(a: AttachIo, opts: &ExecOptions, io: SessionIo) -> Value {
    if let (true, Some(w), Some(rx)) = (opts.stdin, a.stdin, io.stdin) {
        tokio::spawn(pump_stdin(w, rx));
    }
    if let (Some(f), Some(mut rx)) = (a.resize, io.resize) {
        tokio::spawn(async move {
            while let Some(size) = rx.recv().await {
                f(size);
            }
        });
    }
    let mut readers = Vec::new();
    if let (true, Some(r)) = (opts.stdout, a.stdout) {
        readers.push(tokio::spawn(pump_reader(r, io.output.clone(), false)));
    }
    if let (true, Some(r)) = (opts.stderr, a.stderr) {
        readers.push(tokio::spawn(pump_reader(r, io.output.clone(), true)));
    }
    futures::future::join_all(readers).await;
    success_status()
}

fn status_bytes(protocol: &str, status: &Value) -> Vec<u8> {
    if ws::status_is_json(protocol) {
        serde_json::to_vec(status).unwrap_or_default()
    } else if status["status"] == "Success" {
        Vec::new()
    } else {
        status["message"].as_str().unwrap_or("").as_bytes().to_vec()
    }
}

/// Serves one session over an upgraded WebSocket that negotiated `protocol`
/// (`v5`/`v4`/`v3`/`v2`/`channel.k8s.io`): `run` gets the session, its returned status goes
/// to the error channel after all output, then the socket closes. If the client goes away
/// first, `run` is dropped (killing the process).
pub async fn serve_websocket<S, F, Fut>(
    ws: WebSocketStream<S>,
    protocol: &'static str,
    opts: ExecOptions,
    run: F,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: FnOnce(SessionIo) -> Fut,
    Fut: Future<Output = Value>,
{
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Output>();
    let (stdin_tx, stdin_rx) = mpsc::unbounded_channel();
    let (resize_tx, resize_rx) = mpsc::unbounded_channel();
    let io = SessionIo {
        stdin: opts.stdin.then_some(stdin_rx),
        resize: (opts.tty && ws::has_resize(protocol)).then_some(resize_rx),
        output: out_tx,
    };
    // The lowest writable channel gets an empty message first, as the kubelet does, to tell
    // the client the streams are ready.
    let ready = if opts.stdout {
        channel::STDOUT
    } else if opts.stderr {
        channel::STDERR
    } else {
        channel::ERROR
    };
    if sink
        .send(Message::Binary(Bytes::from(vec![ready])))
        .await
        .is_err()
    {
        return;
    }
    let reader = async move {
        let mut stdin_tx = Some(stdin_tx);
        while let Some(Ok(msg)) = stream.next().await {
            let data = match msg {
                Message::Binary(b) => b,
                Message::Close(_) => break,
                _ => continue,
            };
            match ws::decode(&data) {
                Some((channel::STDIN, d)) => {
                    if let Some(tx) = &stdin_tx {
                        let _ = tx.send(Bytes::copy_from_slice(d));
                    }
                }
                Some((channel::RESIZE, d)) => {
                    if let Ok(size) = serde_json::from_slice::<TermSize>(d) {
                        let _ = resize_tx.send(size);
                    }
                }
                Some((channel::CLOSE, [channel::STDIN, ..])) if protocol == ws::V5 => stdin_tx = None,
                _ => {}
            }
        }
    };
    let writer = async {
        while let Some(o) = out_rx.recv().await {
            let m = match o {
                Output::Stdout(b) => ws::encode(channel::STDOUT, &b),
                Output::Stderr(b) => ws::encode(channel::STDERR, &b),
            };
            if sink.send(Message::Binary(m.into())).await.is_err() {
                return false;
            }
        }
        true
    };
    let session = async {
        let status = run(io).await;
        (status, writer.await)
    };
    tokio::select! {
        (status, open) = session => {
            if open {
                let msg = ws::encode(channel::ERROR, &status_bytes(protocol, &status));
                let _ = sink.send(Message::Binary(msg.into())).await;
                let _ = sink.send(Message::Close(Some(crate::ws::normal_close()))).await;
                let _ = sink.flush().await;
            }
        }
        _ = reader => {
            tracing::debug!("exec client disconnected before the command finished");
        }
    }
}

/// Serves one session over an upgraded SPDY connection (`v4.channel.k8s.io`): waits for the
/// client's streams (`error`, and `stdin`/`stdout`/`stderr`/`resize` as requested), runs
/// `run`, writes the status to the error stream and closes the connection.
pub async fn serve_spdy<T, F, Fut>(io: T, opts: ExecOptions, run: F)
where
    T: AsyncRead + AsyncWrite + Send + 'static,
    F: FnOnce(SessionIo) -> Fut,
    Fut: Future<Output = Value>,
{
    let mut conn = spdy::Connection::new(io);
    let mut streams: std::collections::HashMap<String, spdy::SpdyStream> = Default::default();
    let expected = |s: &std::collections::HashMap<String, spdy::SpdyStream>| {
        s.contains_key("error")
            && (!opts.stdin || s.contains_key("stdin"))
            && (!opts.stdout || s.contains_key("stdout"))
            && (!opts.stderr || s.contains_key("stderr"))
            && (!opts.tty || s.contains_key("resize"))
    };
    let deadline = tokio::time::Instant::now() + STREAM_CREATION_TIMEOUT;
    while !expected(&streams) {
        match tokio::time::timeout_at(deadline, conn.incoming.recv()).await {
            Ok(Some(s)) => {
                let kind = s.header("streamtype").unwrap_or("").to_string();
                streams.insert(kind, s);
            }
            Ok(None) => return,
            Err(_) => {
                tracing::debug!("timed out waiting for the client's SPDY streams");
                conn.shutdown();
                return;
            }
        }
    }
    let Some(error) = streams.remove("error") else {
        return;
    };
    let stdout = streams.remove("stdout").map(|s| s.writer);
    let stderr = streams.remove("stderr").map(|s| s.writer);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Output>();
    let resize = streams.remove("resize").map(|mut s| {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            while let Some(b) = s.data.recv().await {
                buf.extend_from_slice(&b);
                let mut it = serde_json::Deserializer::from_slice(&buf).into_iter::<TermSize>();
                let mut used = 0;
                while let Some(Ok(size)) = it.next() {
                    used = it.byte_offset();
                    let _ = tx.send(size);
                }
                buf.drain(..used);
            }
        });
        rx
    });
    let session = SessionIo {
        stdin: streams.remove("stdin").filter(|_| opts.stdin).map(|s| s.data),
        resize,
        output: out_tx,
    };
    let writer = async {
        while let Some(o) = out_rx.recv().await {
            let (w, b) = match o {
                Output::Stdout(b) => (stdout.as_ref(), b),
                Output::Stderr(b) => (stderr.as_ref(), b),
            };
            if let Some(w) = w {
                let _ = w.write(&b);
            }
        }
    };
    let status = async {
        let status = run(session).await;
        writer.await;
        status
    }
    .await;
    if let Some(w) = &stdout {
        w.close();
    }
    if let Some(w) = &stderr {
        w.close();
    }
    let _ = error.writer.write(&status_bytes(ws::V4, &status));
    error.writer.close();
    conn.shutdown();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> (
        SessionIo,
        mpsc::UnboundedSender<Bytes>,
        mpsc::UnboundedReceiver<Output>,
    ) {
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        (
            SessionIo {
                stdin: Some(in_rx),
                resize: None,
                output: out_tx,
            },
            in_tx,
            out_rx,
        )
    }

    fn collect(rx: &mut mpsc::UnboundedReceiver<Output>) -> (String, String) {
        let (mut o, mut e) = (String::new(), String::new());
        while let Ok(m) = rx.try_recv() {
            match m {
                Output::Stdout(b) => o.push_str(&String::from_utf8_lossy(&b)),
                Output::Stderr(b) => e.push_str(&String::from_utf8_lossy(&b)),
            }
        }
        (o, e)
    }

    #[test]
    fn query_parsing() {
        let o = ExecOptions::from_query(Some(
            "command=sh&command=-c&command=echo+hi&stdin=true&stdout=1&stderr=true",
        ));
        assert_eq!(o.command, ["sh", "-c", "echo hi"]);
        assert!(o.stdin && o.stdout && o.stderr && !o.tty);
        let o = ExecOptions::from_query(Some("tty=true&stderr=true&stdout=true"));
        assert!(o.tty && !o.stderr, "a TTY has no separate stderr");
    }

    #[test]
    fn statuses_match_the_kubelets() {
        assert_eq!(
            serde_json::to_string(&success_status()).expect("json"),
            r#"{"metadata":{},"status":"Success"}"#
        );
        let s = exit_code_status(&["sh".into(), "-c".into(), "exit 3".into()], 3);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(
            s["details"]["causes"][0],
            json!({"reason": "ExitCode", "message": "3"})
        );
        let message =
            "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3";
        assert_eq!(s["message"], message);
        assert_eq!(status_bytes(ws::V1, &s), message.as_bytes());
        assert!(status_bytes(ws::V2, &success_status()).is_empty());
    }

    #[tokio::test]
    async fn exec_with_pipes_reports_output_and_exit_code() {
        let (io, in_tx, mut out) = session();
        in_tx.send(Bytes::from_static(b"from stdin\n")).expect("stdin");
        drop(in_tx);
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args(["-c", "cat; echo err >&2; exit 3"]);
        let opts = ExecOptions {
            stdin: true,
            stdout: true,
            stderr: true,
            tty: false,
            command: vec!["sh".into(), "-c".into(), "cat; echo err >&2; exit 3".into()],
        };
        let status = exec(cmd, &opts, io).await;
        assert_eq!(status, exit_code_status(&opts.command, 3));
        assert_eq!(collect(&mut out), ("from stdin\n".into(), "err\n".into()));
    }

    #[tokio::test]
    async fn exec_of_a_missing_program_is_an_internal_error() {
        let (io, _in, _out) = session();
        let cmd = tokio::process::Command::new("/nonexistent/berth-test");
        let status = exec(
            cmd,
            &ExecOptions {
                stdout: true,
                ..Default::default()
            },
            io,
        )
        .await;
        assert_eq!(status["reason"], "InternalError");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.contains("error executing command in container"))
        );
    }

    #[tokio::test]
    async fn exec_with_a_tty_has_a_controlling_terminal_of_the_requested_size() {
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let (out_tx, mut out) = mpsc::unbounded_channel();
        let (rs_tx, rs_rx) = mpsc::unbounded_channel();
        rs_tx
            .send(TermSize {
                width: 100,
                height: 30,
            })
            .expect("resize");
        let io = SessionIo {
            stdin: Some(in_rx),
            resize: Some(rs_rx),
            output: out_tx,
        };
        drop(in_tx);
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args(["-c", "stty size; tty >/dev/null && echo has-tty"]);
        let opts = ExecOptions {
            stdin: true,
            stdout: true,
            stderr: false,
            tty: true,
            command: vec![],
        };
        let status = exec(cmd, &opts, io).await;
        assert_eq!(status, success_status());
        let (o, _) = collect(&mut out);
        assert!(o.contains("30 100"), "stty size printed {o:?}");
        assert!(o.contains("has-tty"), "{o:?}");
    }
}
