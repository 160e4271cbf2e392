//! Pseudo-terminals for TTY sessions, through rustix's safe wrappers: open a pty pair, set
//! its window size, and wrap a command so it runs as a session leader with the pty as its
//! controlling terminal (`setsid -c`, util-linux).

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

/// A terminal size in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct TermSize {
    /// Columns.
    #[serde(rename = "Width")]
    pub width: u16,
    /// Rows.
    #[serde(rename = "Height")]
    pub height: u16,
}

/// An open pty pair.
#[derive(Debug)]
pub struct Pty {
    /// The controlling side, kept by the server.
    pub master: OwnedFd,
    /// The terminal side, handed to the process as its stdio.
    pub slave: File,
}

/// Opens a new pty pair.
pub fn open() -> std::io::Result<Pty> {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let name = ptsname(&master, Vec::new())?;
    let path = std::path::PathBuf::from(std::ffi::OsStr::new(&*String::from_utf8_lossy(name.as_bytes())));
    let slave = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    Ok(Pty { master, slave })
}

/// Sets the window size of the terminal behind `fd` (either side of the pair).
pub fn resize(fd: impl AsFd, size: TermSize) -> std::io::Result<()> {
    tcsetwinsize(
        fd,
        Winsize {
            ws_row: size.height,
            ws_col: size.width,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )?;
    Ok(())
}

/// `cmd` rewrapped as `setsid -c <program> <args…>` (same environment and directory), so the
/// process gets its stdin terminal as controlling terminal.
pub fn with_controlling_terminal(cmd: &tokio::process::Command) -> tokio::process::Command {
    let std = cmd.as_std();
    // An absolute path: the wrapped command may carry a container's PATH without /usr/bin.
    let setsid = if std::path::Path::new("/usr/bin/setsid").exists() {
        "/usr/bin/setsid"
    } else {
        "setsid"
    };
    let mut wrapped = tokio::process::Command::new(setsid);
    wrapped.arg("-c").arg(std.get_program()).args(std.get_args());
    for (k, v) in std.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(dir) = std.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pty_reports_the_size_it_was_given() {
        let pty = open().expect("openpty");
        resize(
            &pty.master,
            TermSize {
                width: 123,
                height: 45,
            },
        )
        .expect("resize");
        let ws = rustix::termios::tcgetwinsize(&pty.slave).expect("get size");
        assert_eq!((ws.ws_col, ws.ws_row), (123, 45));
    }

    #[test]
    fn the_wrapper_keeps_program_arguments_and_environment() {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args(["-c", "tty"]).env("A", "1").current_dir("/tmp");
        let w = with_controlling_terminal(&cmd);
        let s = w.as_std();
        assert!(s.get_program().to_string_lossy().ends_with("setsid"));
        let args: Vec<_> = s.get_args().collect();
        assert_eq!(args, ["-c", "sh", "-c", "tty"]);
        assert_eq!(
            s.get_envs().collect::<Vec<_>>(),
            vec![(std::ffi::OsStr::new("A"), Some(std::ffi::OsStr::new("1")))]
        );
        assert_eq!(s.get_current_dir(), Some(std::path::Path::new("/tmp")));
    }

    #[test]
    fn resize_messages_parse() {
        let s: TermSize = serde_json::from_str(r#"{"Width":80,"Height":24}"#).expect("json");
        assert_eq!(
            s,
            TermSize {
                width: 80,
                height: 24
            }
        );
    }
}
