//! Volumes end to end: the default StorageClass, the PV controller's binding of static volumes,
//! the node provisioner's `dir` volumes (real directories under
//! `<data-dir>/nodes/<node>/volumes`, pods are simulated) and reclaim (`Delete` removes the
//! data, `Retain` keeps it and leaves the volume Released).

use crate::harness::{Berth, EVENTUALLY, wait_for};
use std::path::PathBuf;

/// An `Immediate` class of Berth's local provisioner (the controller picks the node).
fn immediate_class(name: &str, reclaim: &str) -> String {
    format!(
        "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: {name}}}
provisioner: berth.dev/local
parameters: {{driver: dir}}
reclaimPolicy: {reclaim}
volumeBindingMode: Immediate
"
    )
}

fn claim(name: &str, class: Option<&str>, size: &str) -> String {
    let class = class
        .map(|c| format!("storageClassName: \"{c}\", "))
        .unwrap_or_default();
    format!(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}}}
spec: {{{class}accessModes: [ReadWriteOnce], resources: {{requests: {{storage: {size}}}}}}}
"
    )
}

fn phase(k: &Berth, kind: &str, name: &str) -> String {
    k.kubectl(&["get", kind, name, "-o", "jsonpath={.status.phase}"])
        .stdout
}

fn wait_phase(k: &Berth, kind: &str, name: &str, want: &str) {
    wait_for(&format!("{kind} {name} to be {want}"), EVENTUALLY, || {
        phase(k, kind, name) == want
    });
}

/// The volume directory of `volume` on node-1.
fn volume_dir(k: &Berth, volume: &str) -> PathBuf {
    k.data_dir().join("nodes/node-1/volumes").join(volume)
}

fn events(k: &Berth, kind: &str, name: &str) -> String {
    k.kubectl_ok(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.kind={kind},involvedObject.name={name}"),
        "-o",
        "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
    ])
}

#[test]
fn the_default_class_exists_at_first_start_and_provisions_on_the_selected_node() {
    let k = Berth::start();
    let sc = k.kubectl_ok(&["get", "sc"]);
    let row: Vec<&str> = sc
        .lines()
        .find(|l| l.starts_with("standard"))
        .unwrap_or_else(|| panic!("no standard class: {sc}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        row[..6],
        [
            "standard",
            "(default)",
            "berth.dev/local",
            "Delete",
            "WaitForFirstConsumer",
            "true"
        ],
        "{sc}"
    );
    assert_eq!(k.jsonpath(&["sc", "standard"], "{.parameters.driver}"), "dir");

    k.apply_ok(&claim("data", None, "100Mi"));
    assert_eq!(
        k.jsonpath(&["pvc", "data"], "{.spec.storageClassName}"),
        "standard"
    );
    wait_for("the WaitForFirstConsumer event", EVENTUALLY, || {
        events(&k, "PersistentVolumeClaim", "data")
            .contains("WaitForFirstConsumer: waiting for first consumer to be created before binding")
    });
    assert_eq!(phase(&k, "pvc", "data"), "Pending");

    // What the scheduler does for a pod using the claim: name the node.
    k.kubectl_ok(&[
        "annotate",
        "pvc",
        "data",
        "volume.kubernetes.io/selected-node=node-1",
    ]);
    wait_phase(&k, "pvc", "data", "Bound");
    let uid = k.jsonpath(&["pvc", "data"], "{.metadata.uid}");
    let volume = format!("pvc-{uid}");
    assert_eq!(k.jsonpath(&["pvc", "data"], "{.spec.volumeName}"), volume);
    assert_eq!(
        k.jsonpath(&["pvc", "data"], "{.status.capacity.storage}"),
        "100Mi"
    );
    assert_eq!(
        k.jsonpath(
            &["pvc", "data"],
            "{.metadata.annotations.volume\\.kubernetes\\.io/storage-provisioner}"
        ),
        "berth.dev/local"
    );
    let dir = volume_dir(&k, &volume);
    assert_eq!(
        k.jsonpath(&["pv", &volume], "{.spec.local.path}"),
        dir.to_string_lossy()
    );
    assert!(dir.is_dir(), "{} is not a directory", dir.display());
    assert_eq!(
        k.jsonpath(
            &["pv", &volume],
            "{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}"
        ),
        "node-1"
    );
    let log = events(&k, "PersistentVolumeClaim", "data");
    for line in [
        "ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'berth.dev/local' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.".to_string(),
        "Provisioning: External provisioner is provisioning volume for claim \"default/data\"".to_string(),
        format!("ProvisioningSucceeded: Successfully provisioned volume {volume}"),
    ] {
        assert!(log.contains(&line), "missing {line:?} in:\n{log}");
    }
}

/// The whole `WaitForFirstConsumer` path with the scheduler: it names the node of each pod's
/// claim, the node provisioner creates the volume there, the PV controller binds it, and only
/// then is the pod bound.
#[test]
fn statefulset_claims_of_the_default_class_follow_their_pods() {
    let k = Berth::start();
    k.apply_ok(
        "apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: app, image: postgres}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 100Mi}}}
",
    );
    for i in 0..2 {
        let claim = format!("data-db-{i}");
        let pod = format!("db-{i}");
        wait_for(&format!("claim {claim}"), EVENTUALLY, || {
            k.kubectl(&["get", "pvc", &claim]).success()
        });
        wait_phase(&k, "pvc", &claim, "Bound");
        wait_phase(&k, "pod", &pod, "Running");
        assert_eq!(
            k.jsonpath(&["pvc", &claim], "{.spec.storageClassName}"),
            "standard"
        );
        let node = k.jsonpath(&["pod", &pod], "{.spec.nodeName}");
        assert_eq!(
            k.jsonpath(
                &["pvc", &claim],
                "{.metadata.annotations.volume\\.kubernetes\\.io/selected-node}"
            ),
            node
        );
        let volume = k.jsonpath(&["pvc", &claim], "{.spec.volumeName}");
        assert_eq!(
            k.jsonpath(
                &["pv", &volume],
                "{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}"
            ),
            node
        );
        assert!(volume_dir(&k, &volume).is_dir(), "no directory for {volume}");
    }
}

#[test]
fn a_deleted_default_class_is_not_recreated_by_a_restart() {
    let mut k = Berth::start();
    k.apply_ok(&immediate_class("mine", "Delete"));
    k.kubectl_ok(&["delete", "sc", "standard"]);
    k.restart();
    assert!(k.is_gone(&["sc", "standard"]));
}

#[test]
fn a_statefulset_gets_bound_local_volumes() {
    let k = Berth::start();
    k.apply_ok(&immediate_class("local-now", "Delete"));
    k.apply_ok(
        "apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 3
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {storageClassName: local-now, accessModes: [ReadWriteOnce], resources: {requests: {storage: 100Mi}}}
",
    );
    for i in 0..3 {
        let name = format!("data-web-{i}");
        wait_for(&format!("claim {name}"), EVENTUALLY, || {
            k.kubectl(&["get", "pvc", &name]).success()
        });
        wait_phase(&k, "pvc", &name, "Bound");
        let volume = k.jsonpath(&["pvc", &name], "{.spec.volumeName}");
        assert_eq!(
            k.jsonpath(
                &["pvc", &name],
                "{.metadata.annotations.pv\\.kubernetes\\.io/bind-completed}"
            ),
            "yes"
        );
        assert_eq!(phase(&k, "pv", &volume), "Bound");
        assert_eq!(k.jsonpath(&["pv", &volume], "{.spec.claimRef.name}"), name);
        assert_eq!(k.jsonpath(&["pv", &volume], "{.spec.capacity.storage}"), "100Mi");
        assert_eq!(
            k.jsonpath(&["pv", &volume], "{.spec.persistentVolumeReclaimPolicy}"),
            "Delete"
        );
        assert_eq!(
            k.jsonpath(
                &["pv", &volume],
                "{.metadata.annotations.pv\\.kubernetes\\.io/provisioned-by}"
            ),
            "berth.dev/local"
        );
        assert_eq!(
            k.jsonpath(
                &["pv", &volume],
                "{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key}"
            ),
            "kubernetes.io/hostname"
        );
        assert!(volume_dir(&k, &volume).is_dir(), "no directory for {volume}");
    }
    let table = k.kubectl_ok(&["get", "pvc"]);
    assert_eq!(table.matches("Bound").count(), 3, "{table}");
}

#[test]
fn static_volumes_bind_by_class_size_and_access_modes() {
    let k = Berth::start();
    k.apply_ok(
        "apiVersion: v1
kind: PersistentVolume
metadata: {name: small}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], storageClassName: \"\", hostPath: {path: /tmp/berth-small}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: big}
spec: {capacity: {storage: 5Gi}, accessModes: [ReadWriteOnce], storageClassName: \"\", hostPath: {path: /tmp/berth-big}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: shared}
spec: {capacity: {storage: 3Gi}, accessModes: [ReadWriteMany], storageClassName: \"\", hostPath: {path: /tmp/berth-shared}}
",
    );
    for pv in ["small", "big", "shared"] {
        wait_phase(&k, "pv", pv, "Available");
    }
    k.apply_ok(&claim("two", Some(""), "2Gi"));
    wait_phase(&k, "pvc", "two", "Bound");
    assert_eq!(
        k.jsonpath(&["pvc", "two"], "{.spec.volumeName}"),
        "big",
        "the smallest ReadWriteOnce volume that fits"
    );
    assert_eq!(k.jsonpath(&["pvc", "two"], "{.status.capacity.storage}"), "5Gi");
    assert_eq!(
        k.jsonpath(&["pvc", "two"], "{.status.accessModes[0]}"),
        "ReadWriteOnce"
    );
    wait_phase(&k, "pv", "big", "Bound");
    assert_eq!(
        k.jsonpath(&["pv", "big"], "{.spec.claimRef.namespace}/{.spec.claimRef.name}"),
        "default/two"
    );
    assert_eq!(
        k.jsonpath(
            &["pv", "big"],
            "{.metadata.annotations.pv\\.kubernetes\\.io/bound-by-controller}"
        ),
        "yes"
    );

    k.apply_ok(&claim("huge", Some(""), "10Gi"));
    wait_for("the FailedBinding event", EVENTUALLY, || {
        events(&k, "PersistentVolumeClaim", "huge").contains(
            "FailedBinding: no persistent volumes available for this claim and no storage class is set",
        )
    });
    assert_eq!(phase(&k, "pvc", "huge"), "Pending");

    // A claim naming its volume gets it, whatever its size.
    k.apply_ok(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: named}
spec: {storageClassName: \"\", volumeName: small, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
",
    );
    wait_phase(&k, "pvc", "named", "Bound");
    assert_eq!(k.jsonpath(&["pv", "small"], "{.spec.claimRef.name}"), "named");
    let columns = k.kubectl_ok(&["get", "pv", "small", "--no-headers"]);
    assert!(
        columns.contains("Bound") && columns.contains("default/named"),
        "{columns}"
    );
}

#[test]
fn deleting_a_claim_of_a_delete_class_removes_its_volume_and_data() {
    let k = Berth::start();
    k.apply_ok(&immediate_class("scratch", "Delete"));
    k.apply_ok(&claim("tmp", Some("scratch"), "100Mi"));
    wait_phase(&k, "pvc", "tmp", "Bound");
    let volume = k.jsonpath(&["pvc", "tmp"], "{.spec.volumeName}");
    let dir = volume_dir(&k, &volume);
    assert!(dir.is_dir());
    std::fs::write(dir.join("file"), "data").expect("writing into the volume");
    k.kubectl_ok(&["delete", "pvc", "tmp"]);
    wait_for("the volume to be deleted", EVENTUALLY, || {
        k.is_gone(&["pv", &volume])
    });
    assert!(!dir.exists(), "{} survived its volume", dir.display());
}

#[test]
fn a_retained_volume_is_released_and_keeps_its_data() {
    let k = Berth::start();
    k.apply_ok(&immediate_class("keep", "Retain"));
    k.apply_ok(&claim("precious", Some("keep"), "100Mi"));
    wait_phase(&k, "pvc", "precious", "Bound");
    let volume = k.jsonpath(&["pvc", "precious"], "{.spec.volumeName}");
    let dir = volume_dir(&k, &volume);
    std::fs::write(dir.join("file"), "data").expect("writing into the volume");
    k.kubectl_ok(&["delete", "pvc", "precious"]);
    wait_phase(&k, "pv", &volume, "Released");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(phase(&k, "pv", &volume), "Released");
    assert_eq!(
        std::fs::read_to_string(dir.join("file")).expect("the data is kept"),
        "data"
    );
}

#[test]
fn a_static_volume_with_delete_policy_fails_without_a_deleter() {
    let k = Berth::start();
    k.apply_ok(
        "apiVersion: v1
kind: PersistentVolume
metadata: {name: manual}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], storageClassName: \"\",
       persistentVolumeReclaimPolicy: Delete, hostPath: {path: /tmp/berth-manual}}
",
    );
    k.apply_ok(&claim("user", Some(""), "1Gi"));
    wait_phase(&k, "pvc", "user", "Bound");
    k.kubectl_ok(&["delete", "pvc", "user"]);
    wait_phase(&k, "pv", "manual", "Failed");
    let message =
        "error getting deleter volume plugin for volume \"manual\": no deletable volume plugin matched";
    assert_eq!(k.jsonpath(&["pv", "manual"], "{.status.message}"), message);
    assert!(
        events(&k, "PersistentVolume", "manual").contains(&format!("VolumeFailedDelete: {message}")),
        "{}",
        events(&k, "PersistentVolume", "manual")
    );
}

/// Crash safety at start-up: a directory whose provisioning never created its volume (its
/// marker is still there) is removed; a directory without a marker (a retained volume's data
/// whose PersistentVolume was deleted) is kept; volumes survive a restart.
#[test]
fn a_restart_sweeps_unfinished_provisionings_only() {
    let mut k = Berth::start();
    k.apply_ok(&immediate_class("local-now", "Delete"));
    k.apply_ok(&claim("kept", Some("local-now"), "100Mi"));
    wait_phase(&k, "pvc", "kept", "Bound");
    let volume = k.jsonpath(&["pvc", "kept"], "{.spec.volumeName}");
    let root = k.data_dir().join("nodes/node-1/volumes");
    std::fs::create_dir_all(root.join("pvc-crashed")).expect("orphan");
    std::fs::write(root.join("pvc-crashed.provisioning"), "").expect("marker");
    std::fs::create_dir_all(root.join("pvc-retained")).expect("retained data");
    k.restart();
    wait_for("the orphan sweep", EVENTUALLY, || {
        !root.join("pvc-crashed").exists()
    });
    assert!(!root.join("pvc-crashed.provisioning").exists());
    assert!(root.join("pvc-retained").is_dir());
    assert!(root.join(&volume).is_dir());
    assert_eq!(phase(&k, "pvc", "kept"), "Bound");
}
