//! Unit tests of the capacity-enforcing drivers' pure parts: sizes, remaining steps, mount and
//! loop-device parsing, expansion decisions and statuses.

use super::driver::*;
use super::expand::{self, ExpandDecision};
use super::mounts::{loop_devices, mount_points};
use super::steps::{Observed, Step, StepError, remaining};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::json;
use std::path::{Path, PathBuf};

#[test]
fn quantities_parse_to_bytes_rounding_up() {
    assert_eq!(parse_bytes("100Mi"), Some(100 << 20));
    assert_eq!(parse_bytes("1Gi"), Some(1 << 30));
    assert_eq!(parse_bytes("1.5Gi"), Some(3 << 29));
    assert_eq!(parse_bytes("100M"), Some(100_000_000));
    assert_eq!(parse_bytes("2k"), Some(2000));
    assert_eq!(parse_bytes("4096"), Some(4096));
    assert_eq!(parse_bytes("0.1"), Some(1), "a fraction of a byte is a byte");
    assert_eq!(parse_bytes("1e3"), None);
    assert_eq!(parse_bytes("100m"), None, "milli-bytes are no size");
    assert_eq!(parse_bytes(""), None);
    assert_eq!(parse_bytes("Mi"), None);
}

#[test]
fn bytes_are_written_with_the_largest_binary_suffix() {
    assert_eq!(format_bytes(100 << 20), "100Mi");
    assert_eq!(format_bytes(1 << 30), "1Gi");
    assert_eq!(format_bytes(1536 << 20), "1536Mi");
    assert_eq!(format_bytes(1000), "1000");
    assert_eq!(format_bytes(0), "0");
}

#[test]
fn capacities_are_whole_mib_and_xfs_has_a_floor() {
    assert_eq!(Driver::Ext4.capacity(100 << 20), 100 << 20);
    assert_eq!(Driver::Ext4.capacity((100 << 20) + 1), 101 << 20);
    assert_eq!(Driver::Ext4.capacity(1), MIB);
    assert_eq!(Driver::Ext4.capacity(0), MIB);
    assert_eq!(Driver::Xfs.capacity(100 << 20), XFS_MIN);
    assert_eq!(Driver::Xfs.capacity(400 << 20), 400 << 20);
    assert_eq!(Driver::Btrfs.capacity(10 << 20), 10 << 20);
}

#[test]
fn drivers_parse_and_place_their_volumes() {
    assert_eq!(Driver::parse(None), Some(Driver::Dir));
    for name in SUPPORTED_DRIVERS {
        assert_eq!(Driver::parse(Some(name)).map(Driver::name), Some(*name));
    }
    assert_eq!(Driver::parse(Some("zfs")), None);
    let root = Path::new("/v");
    assert_eq!(Driver::Ext4.local_path(root, "pvc-1"), PathBuf::from("/v/pvc-1"));
    assert_eq!(
        Driver::Btrfs.local_path(root, "pvc-1"),
        PathBuf::from("/v/btrfs/pvc-1")
    );
    assert_eq!(image_path(root, "pvc-1"), PathBuf::from("/v/images/pvc-1.img"));
    assert_eq!(Driver::Xfs.image_fs(), Some("xfs"));
    assert_eq!(Driver::Btrfs.image_fs(), None);
}

fn obs(image_len: Option<u64>, fs: Option<&str>, dev: Option<&str>, mounted: bool) -> Observed {
    Observed {
        image_len,
        fs_type: fs.map(String::from),
        loop_device: dev.map(String::from),
        mounted,
    }
}

#[test]
fn provisioning_resumes_where_it_stopped() {
    use Step::*;
    let len = Some(100 << 20);
    let dev = Some("/dev/loop3");
    assert_eq!(
        remaining(&obs(None, None, None, false), "ext4", len),
        Ok(vec![CreateImage(100 << 20), Format, Attach, Mount]),
        "nothing yet"
    );
    assert_eq!(
        remaining(&obs(len, None, None, false), "ext4", len),
        Ok(vec![Format, Attach, Mount]),
        "crashed after the image"
    );
    assert_eq!(
        remaining(&obs(len, Some("ext4"), None, false), "ext4", len),
        Ok(vec![Attach, Mount]),
        "formatted: never formatted again"
    );
    assert_eq!(
        remaining(&obs(len, Some("ext4"), dev, false), "ext4", len),
        Ok(vec![Mount]),
        "the loop device is reused"
    );
    assert_eq!(
        remaining(&obs(len, Some("ext4"), dev, true), "ext4", len),
        Ok(vec![])
    );
    assert_eq!(
        remaining(&obs(len, Some("xfs"), None, false), "ext4", len),
        Err(StepError::WrongFilesystem {
            found: "xfs".into(),
            wanted: "ext4".into()
        }),
        "another filesystem's data is never overwritten"
    );
}

#[test]
fn a_remount_never_creates_an_image() {
    use Step::*;
    assert_eq!(remaining(&obs(None, None, None, false), "xfs", None), Ok(vec![]));
    assert_eq!(
        remaining(&obs(Some(1), Some("xfs"), None, false), "xfs", None),
        Ok(vec![Attach, Mount])
    );
    assert_eq!(
        remaining(&obs(Some(1), Some("xfs"), Some("/dev/loop0"), false), "xfs", None),
        Ok(vec![Mount])
    );
}

#[test]
fn an_ext4_header_gives_the_filesystem_size() {
    let header = "Filesystem volume name:   <none>\nBlock count:              25600\nReserved block count:     0\n\
                  Block size:               4096\n";
    assert_eq!(super::steps::ext4_size(header), Some(100 << 20));
    assert_eq!(super::steps::ext4_size("Block size: 4096\n"), None);
}

#[test]
fn mountinfo_and_losetup_output_parse() {
    let info = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                98 22 7:3 / /data/my\\040vols/pvc-1 rw,relatime shared:50 - ext4 /dev/loop3 rw\n";
    assert_eq!(
        mount_points(info),
        [PathBuf::from("/"), PathBuf::from("/data/my vols/pvc-1")]
    );
    let out = "/dev/loop3: [2049]:1234 (/data/images/pvc-1.img)\n/dev/loop7: [2049]:1234 (/data/images/pvc-1.img)\n";
    assert_eq!(loop_devices(out), ["/dev/loop3", "/dev/loop7"]);
    assert!(loop_devices("").is_empty());
}

fn class(expand: bool) -> StorageClass {
    serde_json::from_value(
        json!({"metadata": {"name": "ext4"}, "provisioner": "berth.dev/local",
        "parameters": {"driver": "ext4"}, "allowVolumeExpansion": expand}),
    )
    .expect("class")
}

fn volume(capacity: &str, driver: &str, node: &str) -> PersistentVolume {
    serde_json::from_value(json!({
        "metadata": {"name": "pvc-1", "annotations": {"pv.kubernetes.io/provisioned-by": "berth.dev/local",
                                                      "berth.dev/driver": driver}},
        "spec": {"capacity": {"storage": capacity}, "claimRef": {"name": "data", "namespace": "ns", "uid": "u1"},
                 "local": {"path": "/v/pvc-1"},
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}},
    }))
    .expect("volume")
}

fn claim(request: &str, status: serde_json::Value) -> PersistentVolumeClaim {
    let mut v = json!({
        "metadata": {"name": "data", "namespace": "ns", "uid": "u1"},
        "spec": {"volumeName": "pvc-1", "resources": {"requests": {"storage": request}}},
        "status": {"phase": "Bound", "capacity": {"storage": "100Mi"}},
    });
    if let (Some(s), Some(extra)) = (v["status"].as_object_mut(), status.as_object()) {
        s.extend(extra.clone());
    }
    serde_json::from_value(v).expect("claim")
}

#[test]
fn a_grown_request_expands_the_owning_nodes_volume() {
    let c = claim("200Mi", json!({}));
    let v = volume("100Mi", "ext4", "node-1");
    assert_eq!(
        expand::decide(&c, &v, Some(&class(true)), "node-1"),
        ExpandDecision::Expand {
            driver: Driver::Ext4,
            from: 100 << 20,
            to: 200 << 20
        }
    );
    assert_eq!(
        expand::decide(&c, &v, Some(&class(false)), "node-1"),
        ExpandDecision::Skip,
        "the class forbids expansion"
    );
    assert_eq!(
        expand::decide(&c, &v, None, "node-1"),
        ExpandDecision::Skip,
        "no class"
    );
    assert_eq!(
        expand::decide(&c, &v, Some(&class(true)), "node-2"),
        ExpandDecision::Skip,
        "another node's volume"
    );
    assert_eq!(
        expand::decide(
            &c,
            &volume("100Mi", "dir", "node-1"),
            Some(&class(true)),
            "node-1"
        ),
        ExpandDecision::Skip,
        "dir volumes enforce no size"
    );
    let other = claim("200Mi", json!({}));
    let mut other = other;
    other.metadata.uid = Some("u2".into());
    assert_eq!(
        expand::decide(&other, &v, Some(&class(true)), "node-1"),
        ExpandDecision::Skip,
        "not the volume's claim"
    );
    assert_eq!(
        expand::decide(&claim("200M", json!({})), &v, Some(&class(true)), "node-1"),
        ExpandDecision::Expand {
            driver: Driver::Ext4,
            from: 100 << 20,
            to: 191 << 20
        },
        "the target is the driver's real capacity"
    );
}

#[test]
fn a_grown_volume_finishes_the_claims_status() {
    let v = volume("200Mi", "ext4", "node-1");
    let sc = class(true);
    assert_eq!(
        expand::decide(&claim("200Mi", json!({})), &v, Some(&sc), "node-1"),
        ExpandDecision::Finish { capacity: 200 << 20 },
        "the claim still says 100Mi"
    );
    let done = claim("200Mi", json!({"capacity": {"storage": "200Mi"}}));
    assert_eq!(
        expand::decide(&done, &v, Some(&sc), "node-1"),
        ExpandDecision::Skip
    );
    let pending = claim(
        "200Mi",
        json!({"capacity": {"storage": "200Mi"},
               "conditions": [{"type": "FileSystemResizePending", "status": "True"}]}),
    );
    assert!(expand::resize_in_progress(&pending));
    assert_eq!(
        expand::decide(&pending, &v, Some(&sc), "node-1"),
        ExpandDecision::Finish { capacity: 200 << 20 }
    );
}

#[test]
fn resize_statuses_match_the_resizers() {
    assert_eq!(
        expand::resizing_patch(200 << 20, "2026-01-01T00:00:00Z"),
        json!({"status": {"allocatedResources": {"storage": "200Mi"},
               "allocatedResourceStatuses": {"storage": "ControllerResizeInProgress"},
               "conditions": [{"type": "Resizing", "status": "True", "lastProbeTime": null,
                               "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
    );
    let pending = expand::fs_pending_patch("t");
    assert_eq!(
        pending["status"]["conditions"][0]["type"],
        "FileSystemResizePending"
    );
    assert_eq!(
        pending["status"]["conditions"][0]["message"],
        "Waiting for user to (re-)start a pod to finish file system resize of volume on node."
    );
    assert_eq!(
        pending["status"]["allocatedResourceStatuses"]["storage"],
        "NodeResizePending"
    );
    let done = expand::done_patch(200 << 20);
    assert_eq!(done["status"]["capacity"]["storage"], "200Mi");
    assert!(done["status"]["conditions"].is_null());
    assert_eq!(
        expand::fs_resize_succeeded_message("pvc-1", "node-1"),
        "MountVolume.NodeExpandVolume succeeded for volume \"pvc-1\" node-1"
    );
    assert_eq!(
        expand::resizing_message("pvc-1"),
        "External resizer is resizing volume pvc-1"
    );
}
