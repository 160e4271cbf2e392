//! Crash safety of `berth.dev/local` volumes at every step (issue 6): the server is started
//! with `BERTH_CRASH_AT=<point>` (`berth_api::crashpoint`), killed with `SIGKILL` by itself at
//! that point of provisioning, binding, expansion or deletion, and restarted without it on the
//! same data directory. After each restart the operation completes, every claim has exactly
//! one volume and no volume two claims, the node's volume root holds exactly the volumes the
//! API knows (no orphan directory, image, marker, mount or loop device), mounts are found and
//! re-used (one loop device and one mount per volume), and data written before the crash is
//! still there. Host runtime, one node, as root.

use crate::harness::{Berth, wait_for, wait_for_value};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a driven operation may take to reach its crash point.
const REACH: Duration = Duration::from_secs(60);
/// How long recovery may take after the restart.
const RECOVER: Duration = Duration::from_secs(60);

fn server() -> Berth {
    Berth::start_with(&["--runtime", "host"])
}

/// The node's volume root (`<data dir>/nodes/<node>/volumes`).
fn volume_root(k: &Berth) -> PathBuf {
    k.data_dir().join("nodes/node-1/volumes")
}

fn class(k: &Berth, name: &str, driver: &str) {
    k.apply_ok(&format!(
        r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: {name}}}
provisioner: berth.dev/local
parameters: {{driver: {driver}}}
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
reclaimPolicy: Delete
"#
    ));
}

/// Applies a claim and a pod that mounts it at `/data`; waits for nothing.
fn claim_and_pod(k: &Berth, name: &str, class: &str, size: &str) {
    k.apply_ok(&format!(
        r#"
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}}}
spec: {{accessModes: [ReadWriteOnce], storageClassName: {class}, resources: {{requests: {{storage: {size}}}}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: debian:bookworm
    command: ["sleep", "3600"]
    volumeMounts: [{{name: data, mountPath: /data}}]
  volumes: [{{name: data, persistentVolumeClaim: {{claimName: {name}}}}}]
"#
    ));
}

/// Restarts the server armed with `point`, runs `drive` (which must reach the point), waits
/// for the server to kill itself there, and restarts it unarmed on the same data directory.
fn crash_at(k: &mut Berth, point: &str, drive: impl FnOnce(&Berth)) {
    eprintln!("crash point {point}");
    k.set_server_env("BERTH_CRASH_AT", Some(point));
    k.restart();
    drive(k);
    let Some(status) = k.wait_exit(REACH) else {
        panic!(
            "the server never reached the crash point {point}\n{}",
            k.log_report()
        )
    };
    assert_eq!(
        status.signal(),
        Some(9),
        "{point}: killed by SIGKILL, got {status}"
    );
    let log = std::fs::read_to_string(k.log_path()).unwrap();
    assert!(
        log.contains(&format!(
            "berth: crash point {point} reached, killing the process"
        )),
        "{point}: the log says why the server died\n{}",
        k.log_report()
    );
    k.set_server_env("BERTH_CRASH_AT", None);
    k.restart();
}

fn exec(k: &Berth, pod: &str, script: &str) -> String {
    k.kubectl_ok(&["exec", pod, "--", "sh", "-c", script])
}

/// Waits for the pod to run again (or for the first time) and its claim to be bound; returns
/// the claim's volume.
fn wait_running_with_volume(k: &Berth, pod: &str) -> Value {
    wait_for(&format!("pod {pod} Ready"), RECOVER, || {
        k.jsonpath(&["pod", pod], "{.status.conditions[?(@.type=='Ready')].status}") == "True"
    });
    wait_for(&format!("claim {pod} Bound"), RECOVER, || {
        k.jsonpath(&["pvc", pod], "{.status.phase}") == "Bound"
    });
    let name = k.jsonpath(&["pvc", pod], "{.spec.volumeName}");
    k.get_json(&["pv", &name])
}

fn local_path(pv: &Value) -> PathBuf {
    PathBuf::from(pv.pointer("/spec/local/path").and_then(Value::as_str).unwrap())
}

fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap()
        .to_string()
}

/// The mount points of this (the host's) mount namespace.
fn mounts() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(PathBuf::from)
        .collect()
}

/// The backing files of every attached loop device (`/sys/block/loop*/loop/backing_file`,
/// which `losetup -a` may shorten).
fn loop_backing_files() -> Vec<String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir("/sys/block").unwrap().flatten() {
        if !entry.file_name().to_string_lossy().starts_with("loop") {
            continue;
        }
        if let Ok(f) = std::fs::read_to_string(entry.path().join("loop/backing_file")) {
            files.push(f.trim().to_string());
        }
    }
    files
}

fn list(k: &Berth, kind: &str) -> Vec<Value> {
    let list = k.get_json(&[kind]);
    list["items"].as_array().cloned().unwrap_or_default()
}

/// The names in a directory (none when it does not exist).
fn names_in(dir: &Path) -> BTreeSet<String> {
    match std::fs::read_dir(dir) {
        Ok(d) => d
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
        Err(e) => panic!("reading {}: {e}", dir.display()),
    }
}

/// The whole-cluster invariants after a recovery: one volume per claim and one claim per
/// volume; the volume root holds exactly the provisioned volumes of the API, each an image with
/// one loop device, mounted once at its path; nothing else is mounted, attached or marked
/// under the root.
fn assert_consistent(k: &Berth, after: &str) {
    let volumes = list(k, "pv");
    let claims = list(k, "pvc");
    let mut by_claim: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pv in &volumes {
        if let Some(uid) = pv.pointer("/spec/claimRef/uid").and_then(Value::as_str) {
            by_claim.entry(uid.to_string()).or_default().push(name_of(pv));
        }
    }
    let mut bound_volumes = BTreeSet::new();
    for claim in &claims {
        let uid = claim.pointer("/metadata/uid").and_then(Value::as_str).unwrap();
        let refs = by_claim.get(uid).cloned().unwrap_or_default();
        assert!(
            refs.len() <= 1,
            "{after}: claim {} is referenced by volumes {refs:?}",
            name_of(claim)
        );
        let Some(volume) = claim
            .pointer("/spec/volumeName")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        assert_eq!(
            refs,
            [volume.to_string()],
            "{after}: claim {} names {volume}, whose claimRef must be it",
            name_of(claim)
        );
        assert!(
            bound_volumes.insert(volume.to_string()),
            "{after}: volume {volume} bound to two claims"
        );
    }

    let root = volume_root(k);
    let provisioned: BTreeSet<String> = volumes
        .iter()
        .filter(|pv| {
            pv.pointer("/metadata/annotations/pv.kubernetes.io~1provisioned-by")
                .and_then(Value::as_str)
                == Some("berth.dev/local")
        })
        .map(name_of)
        .collect();
    let mut entries = names_in(&root);
    entries.remove("images");
    assert_eq!(
        entries, provisioned,
        "{after}: the volume root holds exactly the provisioned volumes (no orphan, no marker)"
    );
    let images = names_in(&root.join("images"));
    let expected: BTreeSet<String> = provisioned.iter().map(|n| format!("{n}.img")).collect();
    assert_eq!(images, expected, "{after}: one image per volume");
    let mut under_root: Vec<PathBuf> = mounts().into_iter().filter(|m| m.starts_with(&root)).collect();
    under_root.sort();
    let expected: Vec<PathBuf> = provisioned.iter().map(|n| root.join(n)).collect();
    assert_eq!(
        under_root, expected,
        "{after}: each volume mounted once, nothing else"
    );
    let mut loops: Vec<String> = loop_backing_files()
        .into_iter()
        .filter(|f| f.starts_with(&*root.to_string_lossy()))
        .collect();
    loops.sort();
    let expected: Vec<String> = provisioned
        .iter()
        .map(|n| {
            root.join("images")
                .join(format!("{n}.img"))
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        loops, expected,
        "{after}: one loop device per image, none left over"
    );
}

/// The pod's `/data` is its volume's filesystem: a file written inside shows on the host.
fn assert_pod_writes_into(k: &Berth, pod: &str, pv: &Value) {
    exec(k, pod, &format!("echo {pod} > /data/written"));
    assert_eq!(
        std::fs::read_to_string(local_path(pv).join("written")).unwrap(),
        format!("{pod}\n"),
        "{pod}: /data is the mounted volume"
    );
}

/// Provisioning (`ext4`: marker, image, mkfs, loop device, mount, volume) and binding
/// (volume `Bound`, claim's `volumeName`) each crashed once, then deletion with `Delete`
/// reclaim (`Released`, unmount, detach, image removed, data removed, volume deleted) of the
/// same claims.
#[test]
fn a_crash_at_any_step_of_provisioning_binding_or_deletion_is_recovered() {
    let mut k = server();
    class(&k, "ext4", "ext4");
    let points = [
        "provision:after-marker",
        "provision:after-create-image",
        "provision:after-mkfs",
        "provision:after-attach",
        "provision:after-mount",
        "provision:after-pv-create",
        "bind:after-pv-bound",
        "bind:after-claim-volumename",
    ];
    let mut claims = Vec::new();
    for (i, point) in points.iter().enumerate() {
        let name = format!("c{i}");
        crash_at(&mut k, point, |k| claim_and_pod(k, &name, "ext4", "16Mi"));
        let pv = wait_running_with_volume(&k, &name);
        assert_eq!(pv.pointer("/spec/capacity/storage"), Some(&"16Mi".into()));
        assert_pod_writes_into(&k, &name, &pv);
        assert_consistent(&k, point);
        claims.push(name);
    }

    let points = [
        "reclaim:after-released",
        "delete:after-unmount",
        "delete:after-detach",
        "delete:after-remove-image",
        "delete:after-teardown",
        "delete:after-pv-delete",
    ];
    for (point, name) in points.iter().zip(&claims) {
        let volume = k.jsonpath(&["pvc", name], "{.spec.volumeName}");
        crash_at(&mut k, point, |k| {
            k.kubectl_ok(&["delete", "pod", name.as_str()]);
            k.kubectl_ok(&["delete", "pvc", name.as_str(), "--wait=false"]);
        });
        wait_for(&format!("{point}: volume {volume} deleted"), RECOVER, || {
            k.is_gone(&["pv", &volume])
        });
        assert!(k.is_gone(&["pvc", name]));
        assert_consistent(&k, point);
    }
    // The claims not deleted kept their data through every crash.
    for name in &claims[points.len()..] {
        assert_eq!(exec(&k, name, "cat /data/written"), format!("{name}\n"));
    }
}

/// A bind of a pre-made volume crashed between its two writes (the volume's `claimRef`
/// written, the claim's `volumeName` not), with a second claim that matches the volume as
/// well: after the restart the claim the volume names gets it, the other stays Pending.
#[test]
fn a_crash_between_the_two_writes_of_a_bind_binds_once() {
    let mut k = server();
    let path = k.scratch("static");
    std::fs::create_dir_all(&path).unwrap();
    k.apply_ok(
        r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: manual}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
"#,
    );
    crash_at(&mut k, "bind:after-pv-claimref", |k| {
        k.apply_ok(&format!(
            r#"
apiVersion: v1
kind: PersistentVolume
metadata: {{name: static}}
spec:
  capacity: {{storage: 10Mi}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual
  local: {{path: {}}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [node-1]}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: first}}
spec: {{accessModes: [ReadWriteOnce], storageClassName: manual, resources: {{requests: {{storage: 10Mi}}}}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: second}}
spec: {{accessModes: [ReadWriteOnce], storageClassName: manual, resources: {{requests: {{storage: 10Mi}}}}}}
"#,
            path.display()
        ));
    });
    wait_for("claim first Bound", RECOVER, || {
        k.jsonpath(&["pvc", "first"], "{.status.phase}") == "Bound"
    });
    assert_eq!(k.jsonpath(&["pvc", "first"], "{.spec.volumeName}"), "static");
    assert_eq!(
        k.jsonpath(&["pv", "static"], "{.spec.claimRef.uid}"),
        k.jsonpath(&["pvc", "first"], "{.metadata.uid}")
    );
    wait_for("pv static Bound", RECOVER, || {
        k.jsonpath(&["pv", "static"], "{.status.phase}") == "Bound"
    });
    // The passes after the bind must not hand the volume to the second claim as well.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(k.jsonpath(&["pvc", "second"], "{.status.phase}"), "Pending");
    assert_eq!(k.jsonpath(&["pvc", "second"], "{.spec.volumeName}"), "");
    assert_consistent(&k, "bind:after-pv-claimref");
}

fn grow(k: &Berth, claim: &str, size: &str) {
    k.kubectl_ok(&[
        "patch",
        "pvc",
        claim,
        "-p",
        &format!(r#"{{"spec":{{"resources":{{"requests":{{"storage":"{size}"}}}}}}}}"#),
    ]);
}

/// The size in MB of the filesystem at `path`, as `df -m` shows it on the host.
fn df_mb(path: &Path) -> u64 {
    let out = Command::new("df").arg("-m").arg(path).output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    out.lines()
        .last()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("df -m {}: {out:?}", path.display()))
}

/// Online expansion crashed at each step (claim `Resizing`, image grown, loop device grown,
/// filesystem grown, volume's capacity written): the claim reaches its new size, the
/// filesystem has it, and the pod's data is intact. `xfs`, whose online grow needs no
/// `CAP_SYS_RESOURCE` (ext4's does, which some machines withhold).
#[test]
fn a_crash_at_any_step_of_an_expansion_is_recovered() {
    let mut k = server();
    class(&k, "xfs", "xfs");
    claim_and_pod(&k, "grown", "xfs", "300Mi");
    let pv = wait_running_with_volume(&k, "grown");
    let path = local_path(&pv);
    exec(
        &k,
        "grown",
        "head -c 1048576 /dev/urandom > /data/blob; sha256sum /data/blob > /data/sum",
    );
    let mut before = df_mb(&path);
    let points = [
        "expand:after-resizing-status",
        "expand:after-image-grow",
        "expand:after-device-grow",
        "expand:after-fs-resize",
        "expand:after-pv-capacity",
    ];
    for (i, point) in points.iter().enumerate() {
        let size = format!("{}Mi", 400 + 100 * i);
        crash_at(&mut k, point, |k| grow(k, "grown", &size));
        wait_for(&format!("{point}: claim at {size}"), RECOVER, || {
            k.jsonpath(&["pvc", "grown"], "{.status.capacity.storage}") == size
        });
        assert_eq!(
            k.jsonpath(&["pv", &name_of(&pv)], "{.spec.capacity.storage}"),
            size
        );
        wait_for(&format!("{point}: resize conditions cleared"), RECOVER, || {
            k.jsonpath(&["pvc", "grown"], "{.status.conditions}").is_empty()
        });
        assert_eq!(
            k.jsonpath(&["pvc", "grown"], "{.status.allocatedResourceStatuses}"),
            ""
        );
        let after = df_mb(&path);
        assert!(
            after >= before + 90,
            "{point}: df -m says {before} before, {after} after"
        );
        before = after;
        // The pod outlived the server; its data is intact.
        let check = wait_for_value(&format!("{point}: exec in grown"), RECOVER, || {
            let out = k.kubectl(&["exec", "grown", "--", "sha256sum", "-c", "/data/sum"]);
            out.success().then_some(out.stdout)
        });
        assert_eq!(check, "/data/blob: OK\n", "{point}");
        assert_consistent(&k, point);
    }
}
