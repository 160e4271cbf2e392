//! The node-side effects of the capacity-enforcing drivers: image files, `mkfs`, loop
//! devices, mounts, btrfs subvolumes and qgroups, growing and tearing down. Every function is
//! idempotent: it observes first and does only what is missing (see [`super::steps`]), so a
//! retry after a crash at any point converges. Synchronous (the agent runs them in blocking
//! tasks).

use super::driver::{Driver, image_path, pool_image, pool_mount};
use super::mounts::{self, CommandError, run};
use super::steps::{Observed, Step, StepError, remaining};
use berth_api::crashpoint;
use std::path::{Path, PathBuf};

/// Why a volume operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// A tool failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The observed state forbids going on.
    #[error(transparent)]
    Step(#[from] StepError),
    /// A filesystem call failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> VolumeError + use<> {
    let path = path.to_path_buf();
    move |source| VolumeError::Io { action, path, source }
}

/// The filesystem type `blkid` finds in `image`, if any.
fn fs_type(image: &Path) -> Option<String> {
    run("blkid", &["-o", "value", "-s", "TYPE", &image.to_string_lossy()])
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn observe(image: &Path, dir: &Path) -> Result<Observed, VolumeError> {
    let image_len = match std::fs::metadata(image) {
        Ok(m) => Some(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io("reading", image)(e)),
    };
    let loop_device = match image_len {
        Some(_) => mounts::loops_of(image)?.into_iter().next(),
        None => None,
    };
    Ok(Observed {
        image_len,
        fs_type: image_len.and(fs_type(image)),
        loop_device,
        mounted: mounts::is_mounted(dir),
    })
}

fn mkfs(fs: &str, image: &Path) -> Result<(), VolumeError> {
    let image = image.to_string_lossy();
    match fs {
        // No reserved blocks: the claim's whole size is the pod's.
        "ext4" => run("mkfs.ext4", &["-q", "-F", "-m", "0", &image])?,
        "xfs" => run("mkfs.xfs", &["-q", "-f", &image])?,
        _ => run("mkfs.btrfs", &["-q", "-f", &image])?,
    };
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), VolumeError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io("setting the mode of", path))
}

/// Brings the image `image` holding `fs` up, mounted at `dir`: creates it (of `create_len`
/// bytes, sparse) when asked to and absent, formats it unless `blkid` finds `fs` on it,
/// attaches it to a loop device unless one holds it already, and mounts it unless mounted.
/// With `create_len` `None` a missing image is left missing (a remount of nothing).
pub fn ensure_mounted(
    image: &Path,
    dir: &Path,
    fs: &str,
    create_len: Option<u64>,
) -> Result<(), VolumeError> {
    let obs = observe(image, dir)?;
    let mut device = obs.loop_device.clone();
    for step in remaining(&obs, fs, create_len)? {
        match step {
            Step::CreateImage(len) => {
                if let Some(parent) = image.parent() {
                    std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
                }
                let file = std::fs::File::create(image).map_err(io("creating", image))?;
                file.set_len(len).map_err(io("sizing", image))?;
                file.sync_all().map_err(io("syncing", image))?;
                crashpoint::reached("provision:after-create-image");
            }
            Step::Format => {
                mkfs(fs, image)?;
                crashpoint::reached("provision:after-mkfs");
            }
            Step::Attach => {
                device = Some(mounts::attach(image)?);
                crashpoint::reached("provision:after-attach");
            }
            Step::Mount => {
                std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
                let dev = device.clone().unwrap_or_default();
                if fs == "ext4" {
                    grow_ext4_offline(&dev)?;
                }
                run("mount", &["-t", fs, &dev, &dir.to_string_lossy()])?;
                tracing::info!(image = %image.display(), device = %dev, path = %dir.display(), "mounted a volume");
                crashpoint::reached("provision:after-mount");
            }
        }
    }
    Ok(())
}

/// Grows an unmounted ext4 to its device when the device is larger: an expansion whose
/// online resize could not run (no `CAP_SYS_RESOURCE`) finishes before the next mount, as
/// kubelet finishes it when the pod restarts. `e2fsck -f` first, as `resize2fs` demands.
fn grow_ext4_offline(dev: &str) -> Result<(), VolumeError> {
    let Some(fs_size) = super::steps::ext4_size(&run("dumpe2fs", &["-h", dev])?) else {
        return Ok(());
    };
    let device_size: u64 = run("blockdev", &["--getsize64", dev])?
        .trim()
        .parse()
        .unwrap_or(0);
    if device_size <= fs_size {
        return Ok(());
    }
    // e2fsck exits 1 when it corrected something: the filesystem is consistent then too.
    let status = std::process::Command::new("e2fsck")
        .args(["-f", "-p", dev])
        .output()
        .map_err(|source| CommandError::Spawn {
            program: "e2fsck".into(),
            source,
        })?;
    if status.status.code().is_none_or(|c| c > 1) {
        return Err(CommandError::Failed {
            command: format!("e2fsck -f -p {dev}"),
            stderr: String::from_utf8_lossy(&status.stderr).trim().to_string(),
        }
        .into());
    }
    run("resize2fs", &[dev])?;
    tracing::info!(
        device = dev,
        from = fs_size,
        to = device_size,
        "grew an ext4 volume before mounting it"
    );
    Ok(())
}

/// Provisions (or re-mounts, with `create` `None`) the volume `name` of an image or btrfs
/// driver under `root`, with `bytes` its real capacity. `pool_size` sizes a new btrfs pool.
pub fn ensure(
    driver: Driver,
    root: &Path,
    name: &str,
    create: Option<u64>,
    pool_size: u64,
) -> Result<(), VolumeError> {
    match driver {
        Driver::Dir => Ok(()),
        Driver::Ext4 | Driver::Xfs => {
            let fs = driver.image_fs().unwrap_or("ext4");
            let dir = root.join(name);
            ensure_mounted(&image_path(root, name), &dir, fs, create)?;
            if mounts::is_mounted(&dir) {
                // Any user of the pod may write the volume, as with the `dir` driver.
                set_mode(&dir, 0o777)?;
            }
            Ok(())
        }
        Driver::Btrfs => {
            let pool = pool_mount(root);
            // A remount (`create` none) never makes a new, empty pool.
            ensure_mounted(&pool_image(root), &pool, "btrfs", create.map(|_| pool_size))?;
            let Some(bytes) = create else { return Ok(()) };
            run("btrfs", &["quota", "enable", &pool.to_string_lossy()])?;
            let sub = pool.join(name);
            if !sub.exists() {
                run("btrfs", &["subvolume", "create", &sub.to_string_lossy()])?;
            }
            run(
                "btrfs",
                &["qgroup", "limit", &bytes.to_string(), &sub.to_string_lossy()],
            )?;
            set_mode(&sub, 0o777)
        }
    }
}

/// The controller half of an expansion: the image grows to `bytes` and its loop devices see
/// it (`losetup -c`); btrfs raises the qgroup limit, which is the whole expansion. Returns
/// whether the filesystem must still grow on the node.
pub fn expand_device(driver: Driver, root: &Path, name: &str, bytes: u64) -> Result<bool, VolumeError> {
    match driver {
        Driver::Dir => Ok(false),
        Driver::Btrfs => {
            let sub = pool_mount(root).join(name);
            run(
                "btrfs",
                &["qgroup", "limit", &bytes.to_string(), &sub.to_string_lossy()],
            )?;
            Ok(false)
        }
        Driver::Ext4 | Driver::Xfs => {
            let image = image_path(root, name);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&image)
                .map_err(io("opening", &image))?;
            let len = file.metadata().map_err(io("reading", &image))?.len();
            if len < bytes {
                file.set_len(bytes).map_err(io("growing", &image))?;
                file.sync_all().map_err(io("syncing", &image))?;
                // The image is bigger; its loop device does not know yet.
                crashpoint::reached("expand:after-image-grow");
            }
            for dev in mounts::loops_of(&image)? {
                run("losetup", &["-c", &dev])?;
            }
            Ok(true)
        }
    }
}

/// The node half of an expansion: the mounted filesystem grows to its device, online
/// (`resize2fs` needs `CAP_SYS_RESOURCE` for that; `xfs_growfs` works on the mount point).
pub fn expand_filesystem(driver: Driver, root: &Path, name: &str) -> Result<(), VolumeError> {
    let dir = root.join(name);
    match driver {
        Driver::Ext4 => {
            let image = image_path(root, name);
            let dev = mounts::loops_of(&image)?.into_iter().next().unwrap_or_default();
            run("resize2fs", &[&dev])?;
        }
        Driver::Xfs => {
            run("xfs_growfs", &[&dir.to_string_lossy()])?;
        }
        Driver::Dir | Driver::Btrfs => {}
    }
    Ok(())
}

/// Removes the volume `name` whatever its driver: unmount, detach the loop device, remove the
/// image, delete the btrfs subvolume, remove the directory. Each step tolerates its work being
/// done already.
pub fn teardown(root: &Path, name: &str) -> Result<(), VolumeError> {
    let dir = root.join(name);
    mounts::unmount_all(&dir)?;
    crashpoint::reached("delete:after-unmount");
    let image = image_path(root, name);
    mounts::detach_all(&image)?;
    crashpoint::reached("delete:after-detach");
    match std::fs::remove_file(&image) {
        Ok(()) => tracing::info!(image = %image.display(), "removed a volume image"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("removing", &image)(e)),
    }
    crashpoint::reached("delete:after-remove-image");
    let sub = pool_mount(root).join(name);
    if sub.exists() && mounts::is_mounted(&pool_mount(root)) {
        run("btrfs", &["subvolume", "delete", &sub.to_string_lossy()])?;
    }
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => tracing::info!(path = %dir.display(), "removed a released volume's data"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("removing", &dir)(e)),
    }
    Ok(())
}

/// Whether a volume's `spec.local.path` is ready to be bind-mounted into a pod: always for
/// `dir` volumes; for the image and btrfs drivers only once their filesystem is mounted there
/// (after a reboot or a `berth reset` the agent mounts them again at start-up, and a pod that
/// bound the bare directory before would write beside the volume, not into it).
pub fn is_ready(pv: &k8s_openapi::api::core::v1::PersistentVolume) -> bool {
    let annotations = pv.metadata.annotations.as_ref();
    let driver = Driver::parse(
        annotations
            .and_then(|a| a.get(super::driver::ANN_DRIVER))
            .map(String::as_str),
    );
    let Some(path) = pv
        .spec
        .as_ref()
        .and_then(|s| s.local.as_ref())
        .map(|l| Path::new(&l.path))
    else {
        return true;
    };
    match driver {
        Some(Driver::Ext4 | Driver::Xfs) => mounts::is_mounted(path),
        Some(Driver::Btrfs) => path.parent().is_some_and(mounts::is_mounted),
        Some(Driver::Dir) | None => true,
    }
}
