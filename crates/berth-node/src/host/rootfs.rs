//! The container's root filesystem, built inside the container's own mount namespace just
//! before its program starts: the host's top-level directories, each seen through an
//! overlay whose upper layer is a per-container tmpfs (so a container reads the host's
//! programs but never changes a host file, and its writes vanish with it, as a container's
//! writable layer does), fresh `/proc`, `/tmp`, `/run` and `/dev/shm`, the host's `/dev` and
//! `/sys`, the pod's volumes at their mount paths, and the node's own state hidden.

use super::spec::Mount;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::unistd::pivot_root;
use std::path::{Path, PathBuf};

/// Why the root filesystem could not be built.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
pub struct RootfsError {
    step: String,
    #[source]
    source: std::io::Error,
}

fn fail(step: impl Into<String>) -> impl FnOnce(nix::Error) -> RootfsError {
    let step = step.into();
    move |e| RootfsError {
        step,
        source: std::io::Error::from(e),
    }
}

fn io_fail(step: impl Into<String>) -> impl FnOnce(std::io::Error) -> RootfsError {
    let step = step.into();
    move |source| RootfsError { step, source }
}

/// Top-level host entries a container does not get from the host.
const PRIVATE: &[&str] = &["proc", "sys", "dev", "tmp", "run", "lost+found", "boot"];

fn tmpfs(target: &Path, options: &str) -> Result<(), RootfsError> {
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(options),
    )
    .map_err(fail(format!("mounting a tmpfs on {}", target.display())))
}

fn bind(source: &Path, target: &Path, read_only: bool) -> Result<(), RootfsError> {
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(fail(format!(
        "binding {} to {}",
        source.display(),
        target.display()
    )))?;
    if read_only {
        mount(
            None::<&str>,
            target,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(fail(format!("making {} read-only", target.display())))?;
    }
    Ok(())
}

/// `path` inside `root` (`/data` → `<root>/data`).
fn inside(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// A host directory seen through an overlay with a private upper layer in `scratch`.
fn overlay_dir(host: &Path, target: &Path, scratch: &Path, name: &str) -> Result<(), RootfsError> {
    let upper = scratch.join("upper").join(name);
    let work = scratch.join("work").join(name);
    for d in [&upper, &work] {
        std::fs::create_dir_all(d).map_err(io_fail(format!("creating {}", d.display())))?;
    }
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        host.display(),
        upper.display(),
        work.display()
    );
    let overlaid = mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(options.as_str()),
    );
    match overlaid {
        Ok(()) => Ok(()),
        // Some filesystems cannot be an overlay's lower layer: share the directory instead.
        Err(_) => bind(host, target, false),
    }
}

/// Builds the root under `root` (an empty directory) and makes it the process's root.
pub fn enter(
    root: &Path,
    mounts: &[Mount],
    masked: &[PathBuf],
    working_dir: Option<&str>,
) -> Result<(), RootfsError> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(fail("making mounts private"))?;
    std::fs::create_dir_all(root).map_err(io_fail("creating the root directory"))?;
    tmpfs(root, "mode=755")?;
    let scratch = root.join(".berth-scratch");
    std::fs::create_dir_all(&scratch).map_err(io_fail("creating the scratch directory"))?;
    tmpfs(&scratch, "mode=700")?;

    let entries = std::fs::read_dir("/").map_err(io_fail("reading the host root"))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if PRIVATE.contains(&name.as_str()) {
            continue;
        }
        let host = entry.path();
        let target = root.join(&name);
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_symlink() {
            if let Ok(link) = std::fs::read_link(&host) {
                let _ = std::os::unix::fs::symlink(link, &target);
            }
        } else if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(io_fail(format!("creating /{name}")))?;
            overlay_dir(&host, &target, &scratch, &name)?;
        } else if kind.is_file() {
            std::fs::write(&target, b"").map_err(io_fail(format!("creating /{name}")))?;
            bind(&host, &target, true)?;
        }
    }

    for (name, mode) in [
        ("proc", 0o555),
        ("sys", 0o555),
        ("dev", 0o755),
        ("tmp", 0o1777),
        ("run", 0o755),
    ] {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).map_err(io_fail(format!("creating /{name}")))?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode));
    }
    mount(
        Some("proc"),
        &root.join("proc"),
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(fail("mounting /proc"))?;
    bind(Path::new("/sys"), &root.join("sys"), false)?;
    bind(Path::new("/dev"), &root.join("dev"), false)?;
    let shm = root.join("dev/shm");
    if shm.is_dir() {
        tmpfs(&shm, "mode=1777")?;
    }
    tmpfs(&root.join("tmp"), "mode=1777")?;
    tmpfs(&root.join("run"), "mode=755")?;

    for hidden in masked {
        let target = inside(root, &hidden.to_string_lossy());
        if target.is_dir() {
            tmpfs(&target, "mode=755,size=4k")?;
        }
    }

    for m in mounts {
        let target = inside(root, &m.target);
        if m.source.is_dir() {
            std::fs::create_dir_all(&target)
                .map_err(io_fail(format!("creating the mount point {}", m.target)))?;
        } else {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(io_fail(format!("creating the mount point {}", m.target)))?;
            }
            if !target.exists() {
                std::fs::write(&target, b"")
                    .map_err(io_fail(format!("creating the mount point {}", m.target)))?;
            }
        }
        bind(&m.source, &target, m.read_only)?;
    }

    let old = root.join(".berth-oldroot");
    std::fs::create_dir_all(&old).map_err(io_fail("creating the old-root directory"))?;
    pivot_root(root, &old).map_err(fail("pivot_root"))?;
    std::env::set_current_dir("/").map_err(io_fail("entering the new root"))?;
    umount2("/.berth-oldroot", MntFlags::MNT_DETACH).map_err(fail("detaching the host root"))?;
    let _ = std::fs::remove_dir("/.berth-oldroot");
    let _ = umount2("/.berth-scratch", MntFlags::MNT_DETACH);
    let _ = std::fs::remove_dir("/.berth-scratch");
    if let Some(dir) = working_dir {
        std::fs::create_dir_all(dir).map_err(io_fail(format!("creating the working directory {dir}")))?;
        std::env::set_current_dir(dir).map_err(io_fail(format!("entering the working directory {dir}")))?;
    }
    Ok(())
}
