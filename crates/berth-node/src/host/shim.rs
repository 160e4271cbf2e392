//! The shims: small processes, started from the `berth` binary itself (`berth shim …`), that
//! own a pod's sandbox or one container and outlive the agent, as containerd's shims outlive
//! a kubelet. They are plain synchronous code: namespaces must be entered while the process
//! is single-threaded.
//!
//! - `sandbox DIR`: new network, UTS and IPC namespaces with the pod's hostname; then waits
//!   for SIGTERM. Its namespaces are the pod's.
//! - `run DIR`: joins the sandbox's namespaces, creates a PID namespace, starts `init DIR`
//!   in it with piped output, writes that output to the CRI-format log and, when the
//!   container ends, its [`ExitRecord`].
//! - `init DIR`: becomes the container: its own mount namespace and root filesystem
//!   ([`super::rootfs`]), cgroups, user and groups, working directory; then `exec`s the
//!   program, which is PID 1 of the container.

use super::log::LogWriter;
use super::process;
use super::rootfs;
use super::spec::{ContainerSpec, ExitRecord, SandboxSpec, ShimRecord, files, read_json, write_json};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, setns, unshare};
use nix::unistd::{Gid, Uid, sethostname, setsid};
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{ChildStderr, ChildStdout, Command, Stdio};

/// File an `init` writes when it could not start the program.
const START_ERROR: &str = "start-error.txt";

/// Why a shim could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    /// The spec file is missing or malformed.
    #[error("reading {0}: missing or malformed")]
    Spec(String),
    /// A system call failed.
    #[error("{step}: {source}")]
    Sys {
        /// What was being done.
        step: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn sys(step: &'static str) -> impl FnOnce(nix::Error) -> ShimError {
    move |e| ShimError::Sys {
        step,
        source: std::io::Error::from(e),
    }
}

fn io(step: &'static str) -> impl FnOnce(std::io::Error) -> ShimError {
    move |source| ShimError::Sys { step, source }
}

fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn own_record(pid: i32) -> ShimRecord {
    let me = std::process::id() as i32;
    ShimRecord {
        shim_pid: me,
        shim_start: process::start_time(me).unwrap_or(0),
        pid,
        pid_start: process::start_time(pid).unwrap_or(0),
        started_at: now(),
    }
}

/// `berth shim sandbox DIR`.
pub fn sandbox(dir: &Path) -> Result<(), ShimError> {
    let _ = setsid();
    let spec: SandboxSpec = read_json(dir, files::SPEC)
        .ok_or_else(|| ShimError::Spec(dir.join(files::SPEC).display().to_string()))?;
    unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWIPC)
        .map_err(sys("creating the sandbox namespaces"))?;
    sethostname(&spec.hostname).map_err(sys("setting the hostname"))?;
    let me = std::process::id() as i32;
    write_json(dir, files::SHIM, &own_record(me)).map_err(io("writing the shim record"))?;
    loop {
        // SIGTERM's default action ends the sandbox.
        std::thread::park();
    }
}

fn join_sandbox(sandbox_pid: i32) -> Result<(), ShimError> {
    for (ns, flag) in [
        ("net", CloneFlags::CLONE_NEWNET),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("ipc", CloneFlags::CLONE_NEWIPC),
    ] {
        let file = std::fs::File::open(format!("/proc/{sandbox_pid}/ns/{ns}"))
            .map_err(io("opening the sandbox's namespaces (is the sandbox running?)"))?;
        setns(file, flag).map_err(sys("joining the sandbox's namespaces"))?;
    }
    Ok(())
}

/// Copies the container's stdout and stderr into the log until both end. Single-threaded:
/// a process that created a PID namespace for its children may not start threads.
fn copy_to_log(mut out: Option<ChildStdout>, mut err: Option<ChildStderr>, log: &mut LogWriter) {
    let mut buf = vec![0u8; 16 * 1024];
    while out.is_some() || err.is_some() {
        let (out_ready, err_ready) = {
            let mut fds = Vec::new();
            if let Some(o) = &out {
                fds.push(PollFd::new(o.as_fd(), PollFlags::POLLIN));
            }
            if let Some(e) = &err {
                fds.push(PollFd::new(e.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
            let ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
            let first = fds.first().is_some_and(ready);
            let second = fds.get(1).is_some_and(ready);
            if out.is_some() {
                (first, second)
            } else {
                (false, first)
            }
        };
        if out_ready && let Some(o) = out.as_mut() {
            match o.read(&mut buf) {
                Ok(0) | Err(_) => {
                    log.flush_partial("stdout");
                    out = None;
                }
                Ok(n) => log.write("stdout", &buf[..n]),
            }
        }
        if err_ready && let Some(e) = err.as_mut() {
            match e.read(&mut buf) {
                Ok(0) | Err(_) => {
                    log.flush_partial("stderr");
                    err = None;
                }
                Ok(n) => log.write("stderr", &buf[..n]),
            }
        }
    }
}

/// `berth shim run DIR`.
pub fn run(dir: &Path) -> Result<(), ShimError> {
    let _ = setsid();
    let spec: ContainerSpec = read_json(dir, files::SPEC)
        .ok_or_else(|| ShimError::Spec(dir.join(files::SPEC).display().to_string()))?;
    let mut log = LogWriter::open(&dir.join(files::LOG)).map_err(io("opening the container log"))?;
    let started = join_sandbox(spec.sandbox_pid)
        .and_then(|()| unshare(CloneFlags::CLONE_NEWPID).map_err(sys("creating the PID namespace")))
        .and_then(|()| {
            let exe = std::env::current_exe().map_err(io("finding the berth binary"))?;
            Command::new(exe)
                .args(["shim", "init"])
                .arg(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(io("starting the container"))
        });
    let mut child = match started {
        Ok(child) => child,
        Err(e) => {
            let exit = ExitRecord {
                exit_code: 128,
                signal: None,
                finished_at: now(),
                message: Some(e.to_string()),
                oom_killed: false,
            };
            write_json(dir, files::EXIT, &exit).map_err(io("writing the exit record"))?;
            return Err(e);
        }
    };
    write_json(dir, files::SHIM, &own_record(child.id() as i32)).map_err(io("writing the shim record"))?;
    copy_to_log(child.stdout.take(), child.stderr.take(), &mut log);
    let status = child.wait().map_err(io("waiting for the container"))?;
    let start_error = std::fs::read_to_string(dir.join(START_ERROR))
        .ok()
        .filter(|m| !m.trim().is_empty());
    let exit = ExitRecord {
        exit_code: status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(255),
        signal: status.signal(),
        finished_at: now(),
        message: start_error,
        oom_killed: status.signal() == Some(9) && super::cgroup::oom_killed(&spec.cgroups),
    };
    log.finish();
    // Tells `kubectl logs -f` that this run's log is complete.
    let _ = std::fs::write(berth_stream::logs::done_marker(&dir.join(files::LOG)), b"");
    write_json(dir, files::EXIT, &exit).map_err(io("writing the exit record"))
}

/// `berth shim init DIR`: never returns on success (the program replaces it).
pub fn init(dir: &Path) -> Result<(), ShimError> {
    let spec: ContainerSpec = read_json(dir, files::SPEC)
        .ok_or_else(|| ShimError::Spec(dir.join(files::SPEC).display().to_string()))?;
    // Opened before the root changes: afterwards the state directory is out of sight.
    let mut error_file =
        std::fs::File::create(dir.join(START_ERROR)).map_err(io("creating the error file"))?;
    let result = prepare(dir, &spec).map(|()| exec(&spec));
    let message = match result {
        Ok(e) | Err(e) => e.to_string(),
    };
    use std::io::Write;
    let _ = error_file.write_all(message.as_bytes());
    let _ = error_file.sync_all();
    eprintln!("berth: {message}");
    std::process::exit(128);
}

fn prepare(dir: &Path, spec: &ContainerSpec) -> Result<(), ShimError> {
    for cgroup in &spec.cgroups {
        let _ = std::fs::write(cgroup.join("cgroup.procs"), b"0");
    }
    unshare(CloneFlags::CLONE_NEWNS).map_err(sys("creating the mount namespace"))?;
    rootfs::enter(
        &dir.join("rootfs"),
        &spec.mounts,
        &spec.masked,
        spec.working_dir.as_deref(),
    )
    .map_err(|e| ShimError::Sys {
        step: "building the root filesystem",
        source: std::io::Error::other(e.to_string()),
    })?;
    if let Some(gid) = spec.gid {
        let groups: Vec<Gid> = std::iter::once(gid)
            .chain(spec.groups.iter().copied())
            .map(Gid::from_raw)
            .collect();
        nix::unistd::setgroups(&groups).map_err(sys("setting supplementary groups"))?;
        nix::unistd::setgid(Gid::from_raw(gid)).map_err(sys("setting the group"))?;
    } else if !spec.groups.is_empty() {
        let groups: Vec<Gid> = std::iter::once(0)
            .chain(spec.groups.iter().copied())
            .map(Gid::from_raw)
            .collect();
        nix::unistd::setgroups(&groups).map_err(sys("setting supplementary groups"))?;
    }
    if let Some(uid) = spec.uid {
        nix::unistd::setuid(Uid::from_raw(uid)).map_err(sys("setting the user"))?;
    }
    Ok(())
}

/// Replaces this process with the container's program; returns only the error.
fn exec(spec: &ContainerSpec) -> ShimError {
    let Some((program, args)) = spec.argv.split_first() else {
        return ShimError::Sys {
            step: "starting the container",
            source: std::io::Error::other("no command given and images are not pulled: set `command`"),
        };
    };
    let err = Command::new(program)
        .args(args)
        .env_clear()
        .envs(spec.env.iter().cloned())
        .exec();
    let source = if err.kind() == std::io::ErrorKind::NotFound {
        std::io::Error::other(format!("exec: \"{program}\": executable file not found in $PATH"))
    } else {
        err
    };
    ShimError::Sys {
        step: "starting the container",
        source,
    }
}
