//! Which steps of bringing up an image volume remain, given what is observed on the node.
//! Pure, so that a provisioning interrupted at any point (`kill -9`) and a remount at agent
//! start are the same computation: observe, then do only what is missing.

/// What the node shows of one image volume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The image file's length, if it exists.
    pub image_len: Option<u64>,
    /// The filesystem type `blkid` finds on the image, if any.
    pub fs_type: Option<String>,
    /// A loop device the image is attached to, if any (`losetup -j`).
    pub loop_device: Option<String>,
    /// Whether the volume's directory is a mount point (`/proc/self/mountinfo`).
    pub mounted: bool,
}

/// One step of bringing up an image volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the sparse image file of this length.
    CreateImage(u64),
    /// Make the filesystem on the image.
    Format,
    /// Attach the image to a free loop device.
    Attach,
    /// Mount the loop device on the volume's directory.
    Mount,
}

/// Why an image volume cannot be brought up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The image holds another filesystem than the driver's: never re-format data.
    #[error("the image holds a {found} filesystem, not {wanted}")]
    WrongFilesystem {
        /// The filesystem found.
        found: String,
        /// The driver's filesystem.
        wanted: String,
    },
}

/// The steps that remain to have the image volume of `fs` mounted. When `create_len` is
/// `None` the image must exist already (a remount): a missing image yields no step, as
/// there is nothing to mount.
pub fn remaining(obs: &Observed, fs: &str, create_len: Option<u64>) -> Result<Vec<Step>, StepError> {
    let mut steps = Vec::new();
    if obs.mounted {
        return Ok(steps);
    }
    match (obs.image_len, create_len) {
        (None, None) => return Ok(steps),
        (None, Some(len)) => {
            steps.push(Step::CreateImage(len));
            steps.push(Step::Format);
        }
        (Some(_), _) => match obs.fs_type.as_deref() {
            None => steps.push(Step::Format),
            Some(found) if found == fs => {}
            Some(found) => {
                return Err(StepError::WrongFilesystem {
                    found: found.to_string(),
                    wanted: fs.to_string(),
                });
            }
        },
    }
    if obs.loop_device.is_none() {
        steps.push(Step::Attach);
    }
    steps.push(Step::Mount);
    Ok(steps)
}

/// The size in bytes of the ext4 filesystem `dumpe2fs -h` describes (`Block count` ×
/// `Block size`).
pub fn ext4_size(dumpe2fs_header: &str) -> Option<u64> {
    let field = |key: &str| {
        dumpe2fs_header
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    field("Block count:")?.checked_mul(field("Block size:")?)
}
