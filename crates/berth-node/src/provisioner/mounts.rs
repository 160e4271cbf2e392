//! Mounts and loop devices, through util-linux's tools (`losetup`, `mount`, `umount`) and
//! `/proc/self/mountinfo`. Parsing is pure; the rest runs the tools and reports their
//! stderr on failure. Synchronous, so `berth reset` can use it without a runtime; the agent
//! calls it from blocking tasks.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tool that failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The tool could not be started (not installed?).
    #[error("running {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The tool exited unsuccessfully.
    #[error("{command} failed: {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its standard error, trimmed.
        stderr: String,
    },
}

/// Runs `program args…` and returns its standard output.
pub fn run(program: &str, args: &[&str]) -> Result<String, CommandError> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|source| CommandError::Spawn {
            program: program.to_string(),
            source,
        })?;
    if !out.status.success() {
        let mut stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if stderr.is_empty() {
            stderr = format!("exit status {}", out.status);
        }
        return Err(CommandError::Failed {
            command: format!("{program} {}", args.join(" ")),
            stderr,
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(code) = field
                .get(i + 1..i + 4)
                .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount points (field 5) of a `/proc/<pid>/mountinfo` text, in mount order.
pub fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape(p)))
        .collect()
}

/// The loop devices of `losetup -j <file>` output (`/dev/loop3: [2049]:123 (/x.img)`).
pub fn loop_devices(losetup_j: &str) -> Vec<String> {
    losetup_j
        .lines()
        .filter_map(|l| l.split_once(':').map(|(dev, _)| dev.trim().to_string()))
        .filter(|d| d.starts_with("/dev/"))
        .collect()
}

/// The current mount points of this process's namespace.
pub fn current_mounts() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| mount_points(&t))
        .unwrap_or_default()
}

/// Whether `path` is a mount point now.
pub fn is_mounted(path: &Path) -> bool {
    current_mounts().iter().any(|m| m == path)
}

/// The loop devices `image` is attached to.
pub fn loops_of(image: &Path) -> Result<Vec<String>, CommandError> {
    Ok(loop_devices(&run("losetup", &["-j", &image.to_string_lossy()])?))
}

/// Attaches `image` to a free loop device and returns the device.
pub fn attach(image: &Path) -> Result<String, CommandError> {
    Ok(run("losetup", &["--find", "--show", &image.to_string_lossy()])?
        .trim()
        .to_string())
}

/// Unmounts every mount at `path` (stacked mounts included). Absent mounts are no error.
pub fn unmount_all(path: &Path) -> Result<(), CommandError> {
    while is_mounted(path) {
        run("umount", &[&path.to_string_lossy()])?;
    }
    Ok(())
}

/// Detaches every loop device of `image`.
pub fn detach_all(image: &Path) -> Result<(), CommandError> {
    if !image.exists() {
        return Ok(());
    }
    for dev in loops_of(image)? {
        run("losetup", &["-d", &dev])?;
    }
    Ok(())
}

/// Unmounts everything mounted under `root` (deepest first) and detaches the loop devices of
/// every image file under it: what `berth reset` does for one node's volumes. Returns how
/// many mounts were removed.
pub fn release_tree(root: &Path) -> Result<usize, CommandError> {
    let mut under: Vec<PathBuf> = current_mounts()
        .into_iter()
        .filter(|m| m.starts_with(root))
        .collect();
    under.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    for m in &under {
        // Lazily, so a mount still held by an exiting container does not stop the reset.
        run("umount", &["-l", &m.to_string_lossy()])?;
    }
    let mut images = vec![root.join("btrfs-pool.img")];
    if let Ok(dir) = std::fs::read_dir(root.join("images")) {
        images.extend(dir.flatten().map(|e| e.path()));
    }
    images.retain(|i| i.extension().is_some_and(|e| e == "img"));
    for image in &images {
        detach_all(image)?;
    }
    wait_detached(&images, RELEASE_WAIT);
    Ok(under.len())
}

/// How long [`release_tree`] waits for the kernel to let go of detached loop devices.
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits until no image of `images` is attached to a loop device, for at most `limit`.
///
/// A loop device whose filesystem is still mounted somewhere (a lazily unmounted mount that
/// a just-killed container's namespace still holds) is only marked to clear itself; the
/// kernel detaches it once the last holder exits. Waiting for that makes a reset finished
/// when it returns. Gives up with a warning after `limit`: the devices then clear on their
/// own once their holders are gone.
fn wait_detached(images: &[PathBuf], limit: std::time::Duration) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let attached: Vec<&PathBuf> = images
            .iter()
            .filter(|i| i.exists() && loops_of(i).is_ok_and(|l| !l.is_empty()))
            .collect();
        if attached.is_empty() {
            return;
        }
        if std::time::Instant::now() >= deadline {
            tracing::warn!(images = ?attached, "loop devices are still held; they detach once their last user exits");
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
