//! The volume drivers of `berth.dev/local` (`StorageClass.parameters.driver`) and their pure
//! rules: where a volume lives, what capacity a request really gets, and how sizes are written.
//!
//! - `dir`: a plain directory `<root>/pvc-<uid>`; no capacity is enforced.
//! - `ext4`, `xfs`: a sparse image `<root>/images/pvc-<uid>.img` of the real capacity,
//!   formatted, attached to a loop device and mounted at `<root>/pvc-<uid>`; the kernel
//!   enforces the size.
//! - `btrfs`: a subvolume `<root>/btrfs/pvc-<uid>` of one per-node pool, with a qgroup limit.
//!
//! Capacities are rounded up as a CSI driver does (to whole MiB; `xfs` to its 300 MiB floor)
//! and the PersistentVolume reports the real size, never the request.

use std::path::{Path, PathBuf};

/// The annotation that records a volume's driver on its PersistentVolume.
pub const ANN_DRIVER: &str = "berth.dev/driver";
/// One MiB.
pub const MIB: u64 = 1 << 20;
/// The smallest filesystem `mkfs.xfs` makes (xfsprogs ≥ 5.19).
pub const XFS_MIN: u64 = 300 * MIB;
/// The btrfs pool's size when the class does not say (`parameters.poolSize`).
pub const DEFAULT_POOL_SIZE: u64 = 10 << 30;

/// A volume driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// A directory; no capacity enforced.
    Dir,
    /// A loop-mounted ext4 image.
    Ext4,
    /// A loop-mounted xfs image.
    Xfs,
    /// A btrfs subvolume with a qgroup limit.
    Btrfs,
}

/// The names [`Driver::parse`] accepts.
pub const SUPPORTED_DRIVERS: &[&str] = &["dir", "ext4", "xfs", "btrfs"];

impl Driver {
    /// The driver named by `parameters.driver` (`dir` when absent).
    pub fn parse(name: Option<&str>) -> Option<Driver> {
        match name.unwrap_or("dir") {
            "dir" => Some(Driver::Dir),
            "ext4" => Some(Driver::Ext4),
            "xfs" => Some(Driver::Xfs),
            "btrfs" => Some(Driver::Btrfs),
            _ => None,
        }
    }

    /// The driver's name, as written in classes and in [`ANN_DRIVER`].
    pub fn name(self) -> &'static str {
        match self {
            Driver::Dir => "dir",
            Driver::Ext4 => "ext4",
            Driver::Xfs => "xfs",
            Driver::Btrfs => "btrfs",
        }
    }

    /// The filesystem type of an image driver (`ext4`, `xfs`), none for the others.
    pub fn image_fs(self) -> Option<&'static str> {
        match self {
            Driver::Ext4 => Some("ext4"),
            Driver::Xfs => Some("xfs"),
            Driver::Dir | Driver::Btrfs => None,
        }
    }

    /// The real capacity of a request of `requested` bytes: whole MiB, at least one, and at
    /// least the filesystem's floor.
    pub fn capacity(self, requested: u64) -> u64 {
        let mib = requested.div_ceil(MIB).max(1) * MIB;
        match self {
            Driver::Xfs => mib.max(XFS_MIN),
            Driver::Dir | Driver::Ext4 | Driver::Btrfs => mib,
        }
    }

    /// The volume's `spec.local.path` for the volume `name` under `root`.
    pub fn local_path(self, root: &Path, name: &str) -> PathBuf {
        match self {
            Driver::Btrfs => root.join("btrfs").join(name),
            Driver::Dir | Driver::Ext4 | Driver::Xfs => root.join(name),
        }
    }
}

/// The image file of volume `name` under `root`.
pub fn image_path(root: &Path, name: &str) -> PathBuf {
    root.join("images").join(format!("{name}.img"))
}

/// The btrfs pool's image under `root`.
pub fn pool_image(root: &Path) -> PathBuf {
    root.join("btrfs-pool.img")
}

/// Where the btrfs pool is mounted under `root`.
pub fn pool_mount(root: &Path) -> PathBuf {
    root.join("btrfs")
}

/// Parses a Kubernetes quantity into bytes, rounding fractions up (`100Mi`, `1G`, `1.5Gi`,
/// `500000`). Exponent forms and milli-units are not storage sizes and give `None`.
pub fn parse_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let multiplier: u64 = match suffix {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "P" => 1_000_000_000_000_000,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut bytes = whole.checked_mul(multiplier)?;
    if !fraction.is_empty() {
        let digits = u32::try_from(fraction.len()).ok().filter(|d| *d <= 18)?;
        let scale = 10u128.pow(digits);
        let part = u128::from(fraction.parse::<u64>().ok()?) * u128::from(multiplier);
        bytes = bytes.checked_add(u64::try_from(part.div_ceil(scale)).ok()?)?;
    }
    Some(bytes)
}

/// Writes bytes as Kubernetes writes a quantity: the largest binary suffix that divides it.
pub fn format_bytes(bytes: u64) -> String {
    for (shift, suffix) in [(50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")] {
        if bytes != 0 && bytes.is_multiple_of(1u64 << shift) {
            return format!("{}{suffix}", bytes >> shift);
        }
    }
    bytes.to_string()
}
