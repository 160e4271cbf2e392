//! The node's metrics, the kubelet's `/metrics` in small: per-claim volume statistics
//! (`kubelet_volume_stats_*{namespace, persistentvolumeclaim}`) and Berth's provisioning
//! durations (`berth_volume_provisioning_duration_seconds{driver}`,
//! `berth_volume_provisioning_failures_total{driver}`).
//!
//! The metrics live in one process-wide registry, as the kubelet's live in Kubernetes'
//! `legacyregistry`: [`record_provisioning`] needs no handle, and [`render`] serves every
//! node agent of the process (the in-process nodes of `berth server` share it; a claim is
//! reported once).
//!
//! Volume statistics are computed as the kubelet computes them, refreshed in the background
//! every [`REFRESH`] (the kubelet: `--volume-stats-agg-period`, 1 minute) by [`run`], one
//! series per bound claim that a pod on the node mounts (ephemeral volumes included):
//! - a volume that is its own filesystem (the path is a mount point: loop-mounted ext4, xfs,
//!   btrfs) is measured like the kubelet's `MetricsStatFS` (`fs.Info`: `statfs` of the path;
//!   capacity = `f_blocks * f_bsize`, available = `f_bavail * f_bsize`, used =
//!   `(f_blocks - f_bfree) * f_bsize`, inodes = `f_files`, free = `f_ffree`);
//! - a `dir` volume shares the host's filesystem, so `statfs` would report the whole disk as
//!   used: it is measured like the kubelet's `MetricsDu` (emptyDir): capacity, available,
//!   inodes and free inodes from `statfs` of the filesystem, used bytes and used inodes
//!   from walking the directory (`fs.DiskUsage`: 512-byte blocks of each inode, hard links
//!   counted once, other filesystems not entered).

use crate::node_pods::NodePods;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::Api;
use kube::{Client, ResourceExt};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::time::Duration;

/// How often [`run`] measures the node's volumes.
pub const REFRESH: Duration = Duration::from_secs(10);

/// Buckets of the provisioning histogram (Kubernetes' `storage_operation_duration_seconds`).
pub const PROVISIONING_BUCKETS: [f64; 13] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 25.0, 50.0, 120.0, 300.0, 600.0,
];

/// A filesystem's figures as `statfs(2)` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatFs {
    /// `f_bsize`: the unit of the block counts (the kubelet multiplies by it).
    pub block_size: u64,
    /// `f_blocks`.
    pub blocks: u64,
    /// `f_bfree`.
    pub blocks_free: u64,
    /// `f_bavail`: free blocks available to unprivileged users.
    pub blocks_available: u64,
    /// `f_files`.
    pub files: u64,
    /// `f_ffree`.
    pub files_free: u64,
}

/// What a directory tree occupies (`fs.DiskUsage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Allocated bytes (512-byte blocks).
    pub bytes: u64,
    /// Inodes (files, directories, links), hard links once.
    pub inodes: u64,
}

/// The six figures of a volume, as the kubelet reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VolumeStats {
    /// `kubelet_volume_stats_capacity_bytes`.
    pub capacity_bytes: u64,
    /// `kubelet_volume_stats_available_bytes`.
    pub available_bytes: u64,
    /// `kubelet_volume_stats_used_bytes`.
    pub used_bytes: u64,
    /// `kubelet_volume_stats_inodes`.
    pub inodes: u64,
    /// `kubelet_volume_stats_inodes_free`.
    pub inodes_free: u64,
    /// `kubelet_volume_stats_inodes_used`.
    pub inodes_used: u64,
}

/// A volume that is its own filesystem: everything from `statfs` (the kubelet's `fs.Info`).
pub fn filesystem_stats(fs: &StatFs) -> VolumeStats {
    VolumeStats {
        capacity_bytes: fs.blocks.saturating_mul(fs.block_size),
        available_bytes: fs.blocks_available.saturating_mul(fs.block_size),
        used_bytes: fs
            .blocks
            .saturating_sub(fs.blocks_free)
            .saturating_mul(fs.block_size),
        inodes: fs.files,
        inodes_free: fs.files_free,
        inodes_used: fs.files.saturating_sub(fs.files_free),
    }
}

/// A directory on a shared filesystem: capacity and free figures from `statfs`, usage from
/// walking the directory (the kubelet's `MetricsDu`).
pub fn shared_filesystem_stats(fs: &StatFs, du: DiskUsage) -> VolumeStats {
    VolumeStats {
        used_bytes: du.bytes,
        inodes_used: du.inodes,
        ..filesystem_stats(fs)
    }
}

/// A claim, as the volume-stats labels name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimRef {
    /// The claim's namespace.
    pub namespace: String,
    /// The claim's name.
    pub name: String,
}

/// The claims mounted by the pods given (the pods of one node): `persistentVolumeClaim`
/// volumes and ephemeral volumes (claim `<pod>-<volume>`) of pods not yet finished, once each.
pub fn mounted_claims<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> BTreeSet<ClaimRef> {
    let mut out = BTreeSet::new();
    for pod in pods {
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        if matches!(phase, Some("Succeeded" | "Failed")) {
            continue;
        }
        let namespace = pod.namespace().unwrap_or_default();
        for v in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            let name = if let Some(c) = &v.persistent_volume_claim {
                c.claim_name.clone()
            } else if v.ephemeral.is_some() {
                format!("{}-{}", pod.name_any(), v.name)
            } else {
                continue;
            };
            out.insert(ClaimRef {
                namespace: namespace.clone(),
                name,
            });
        }
    }
    out
}

/// The volume a claim is bound to (`Bound`, with `spec.volumeName`).
pub fn bound_volume(claim: &PersistentVolumeClaim) -> Option<&str> {
    let bound = claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .filter(|v| bound && !v.is_empty())
}

/// Where a volume's data lives on its node (`spec.local.path` or `spec.hostPath.path`).
pub fn volume_path(volume: &PersistentVolume) -> Option<PathBuf> {
    let spec = volume.spec.as_ref()?;
    spec.local
        .as_ref()
        .map(|l| l.path.as_str())
        .or(spec.host_path.as_ref().map(|h| h.path.as_str()))
        .map(PathBuf::from)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DriverLabels {
    driver: String,
}

type Samples = BTreeMap<ClaimRef, VolumeStats>;

/// The six `kubelet_volume_stats_*` families over the samples of every node.
#[derive(Debug, Default)]
struct VolumeStatsCollector(RwLock<BTreeMap<String, Samples>>);

/// A series: name, help text, and its figure.
type Series = (&'static str, &'static str, fn(&VolumeStats) -> u64);

const SERIES: [Series; 6] = [
    (
        "kubelet_volume_stats_available_bytes",
        "[ALPHA] Number of available bytes in the volume",
        |s| s.available_bytes,
    ),
    (
        "kubelet_volume_stats_capacity_bytes",
        "[ALPHA] Capacity in bytes of the volume",
        |s| s.capacity_bytes,
    ),
    (
        "kubelet_volume_stats_inodes",
        "[ALPHA] Maximum number of inodes in the volume",
        |s| s.inodes,
    ),
    (
        "kubelet_volume_stats_inodes_free",
        "[ALPHA] Number of free inodes in the volume",
        |s| s.inodes_free,
    ),
    (
        "kubelet_volume_stats_inodes_used",
        "[ALPHA] Number of used inodes in the volume",
        |s| s.inodes_used,
    ),
    (
        "kubelet_volume_stats_used_bytes",
        "[ALPHA] Number of used bytes in the volume",
        |s| s.used_bytes,
    ),
];

fn encode_volume_stats(samples: &Samples, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
    for (name, help, value) in SERIES {
        let mut e = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (claim, stats) in samples {
            // In Go's (sorted) label order.
            let labels = [
                ("namespace", claim.namespace.as_str()),
                ("persistentvolumeclaim", claim.name.as_str()),
            ];
            let v = i64::try_from(value(stats)).unwrap_or(i64::MAX);
            e.encode_family(&labels)?.encode_gauge(&v)?;
        }
    }
    Ok(())
}

impl Collector for VolumeStatsCollector {
    fn encode(&self, encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let nodes = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let mut all = Samples::new();
        for samples in nodes.values() {
            for (claim, stats) in samples {
                all.entry(claim.clone()).or_insert(*stats);
            }
        }
        encode_volume_stats(&all, encoder)
    }
}

/// A metric with an exact help text (the registry would append a period).
#[derive(Debug)]
struct Described<M> {
    name: &'static str,
    help: &'static str,
    metric: M,
}

impl<M: EncodeMetric + std::fmt::Debug + Send + Sync + 'static> Collector for Described<M> {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let e = encoder.encode_descriptor(self.name, self.help, None, self.metric.metric_type())?;
        self.metric.encode(e)
    }
}

fn provisioning_histogram() -> Histogram {
    Histogram::new(PROVISIONING_BUCKETS)
}

struct NodeMetrics {
    registry: Registry,
    provisioning: Family<DriverLabels, Histogram, fn() -> Histogram>,
    failures: Family<DriverLabels, Counter>,
    volumes: Arc<VolumeStatsCollector>,
}

static METRICS: LazyLock<NodeMetrics> = LazyLock::new(|| {
    let provisioning: Family<DriverLabels, Histogram, fn() -> Histogram> =
        Family::new_with_constructor(provisioning_histogram);
    let failures = Family::<DriverLabels, Counter>::default();
    let volumes = Arc::new(VolumeStatsCollector::default());
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Described {
        name: "berth_volume_provisioning_duration_seconds",
        help: "Duration in seconds of successful volume provisioning (volume created and PersistentVolume stored), by driver",
        metric: provisioning.clone(),
    }));
    registry.register_collector(Box::new(Described {
        name: "berth_volume_provisioning_failures",
        help: "Number of failed volume provisioning attempts, by driver",
        metric: failures.clone(),
    }));
    registry.register_collector(Box::new(volumes.clone()));
    NodeMetrics {
        registry,
        provisioning,
        failures,
        volumes,
    }
});

/// Records one provisioning attempt of `driver` (`dir`, `ext4`, …) that took `seconds`: a
/// success is observed in `berth_volume_provisioning_duration_seconds`, a failure counted in
/// `berth_volume_provisioning_failures_total`.
pub fn record_provisioning(driver: &str, seconds: f64, ok: bool) {
    let labels = DriverLabels {
        driver: driver.to_string(),
    };
    if ok {
        METRICS.provisioning.get_or_create(&labels).observe(seconds);
    } else {
        METRICS.failures.get_or_create(&labels).inc();
    }
}

/// The process's node metrics in the Prometheus text format (version 0.0.4).
pub fn render() -> String {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &METRICS.registry) {
        tracing::warn!(error = %e, "encoding the node metrics failed");
    }
    out
}

fn statfs(path: &Path) -> std::io::Result<StatFs> {
    let s = nix::sys::statfs::statfs(path).map_err(std::io::Error::from)?;
    Ok(StatFs {
        block_size: u64::try_from(s.block_size()).unwrap_or(0),
        blocks: s.blocks(),
        blocks_free: s.blocks_free(),
        blocks_available: s.blocks_available(),
        files: s.files(),
        files_free: s.files_free(),
    })
}

/// `fs.DiskUsage`: walks `root` without leaving its filesystem.
pub fn disk_usage(root: &Path) -> std::io::Result<DiskUsage> {
    let device = std::fs::symlink_metadata(root)?.dev();
    let mut usage = DiskUsage::default();
    let mut seen_links = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if meta.dev() != device {
            continue;
        }
        if meta.nlink() <= 1 || seen_links.insert(meta.ino()) {
            usage.bytes = usage.bytes.saturating_add(meta.blocks().saturating_mul(512));
            usage.inodes += 1;
        }
        if meta.is_dir() {
            match std::fs::read_dir(&path) {
                Ok(entries) => stack.extend(entries.flatten().map(|e| e.path())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(usage)
}

/// Measures the volume at `path`: its own filesystem when it is a mount point, else a
/// directory of a shared one (see the module documentation).
pub fn measure(path: &Path) -> std::io::Result<VolumeStats> {
    let fs = statfs(path)?;
    let own_device = std::fs::metadata(path)?.dev();
    let parent_device = match path.parent() {
        Some(p) => std::fs::metadata(p)?.dev(),
        None => own_device,
    };
    if own_device != parent_device {
        Ok(filesystem_stats(&fs))
    } else {
        Ok(shared_filesystem_stats(&fs, disk_usage(path)?))
    }
}

async fn collect(client: &Client, pods: &NodePods) -> Result<Samples, kube::Error> {
    // The agent's own cache of the pods bound to the node, as the kubelet reads its pod
    // manager: no LIST of the cluster's pods every period.
    let pods = pods.state();
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let mut samples = Samples::new();
    for claim in mounted_claims(pods.iter().map(|p| &**p)) {
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &claim.namespace);
        let Some(pvc) = claims.get_opt(&claim.name).await? else {
            continue;
        };
        let Some(name) = bound_volume(&pvc) else {
            continue;
        };
        let Some(path) = volumes.get_opt(name).await?.as_ref().and_then(volume_path) else {
            continue;
        };
        match tokio::task::spawn_blocking(move || measure(&path)).await {
            Ok(Ok(stats)) => {
                samples.insert(claim, stats);
            }
            Ok(Err(e)) => {
                tracing::debug!(claim = %claim.name, error = %e, "measuring a volume failed")
            }
            Err(e) => tracing::debug!(error = %e, "the volume measurement task failed"),
        }
    }
    Ok(samples)
}

/// Measures the volumes mounted by the pods in `pods` (the agent's cache of the pods bound
/// to `node_name`) every [`REFRESH`], for [`render`], until the process ends; also makes the
/// node streaming servers of the process answer `GET /metrics` with [`render`].
pub async fn run(client: Client, node_name: String, pods: NodePods) {
    berth_stream::set_metrics_source(Arc::new(render));
    let mut tick = tokio::time::interval(REFRESH);
    loop {
        tick.tick().await;
        while !pods.is_complete() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        match collect(&client, &pods).await {
            Ok(samples) => {
                let mut nodes = METRICS.volumes.0.write().unwrap_or_else(PoisonError::into_inner);
                nodes.insert(node_name.clone(), samples);
            }
            Err(e) => tracing::debug!(node = %node_name, error = %e, "collecting volume stats failed"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const FS: StatFs = StatFs {
        block_size: 4096,
        blocks: 1000,
        blocks_free: 600,
        blocks_available: 550,
        files: 256,
        files_free: 200,
    };

    #[test]
    fn a_filesystem_is_measured_like_fs_info() {
        assert_eq!(
            filesystem_stats(&FS),
            VolumeStats {
                capacity_bytes: 4_096_000,
                available_bytes: 2_252_800,
                used_bytes: 1_638_400,
                inodes: 256,
                inodes_free: 200,
                inodes_used: 56,
            }
        );
        let odd = StatFs {
            blocks_free: 2000,
            files_free: 300,
            ..FS
        };
        assert_eq!(filesystem_stats(&odd).used_bytes, 0);
        assert_eq!(filesystem_stats(&odd).inodes_used, 0);
    }

    #[test]
    fn a_shared_directory_takes_usage_from_du() {
        let du = DiskUsage {
            bytes: 10 << 20,
            inodes: 3,
        };
        let s = shared_filesystem_stats(&FS, du);
        assert_eq!((s.used_bytes, s.inodes_used), (10 << 20, 3));
        assert_eq!(
            (s.capacity_bytes, s.available_bytes, s.inodes, s.inodes_free),
            (4_096_000, 2_252_800, 256, 200)
        );
    }

    fn pod(ns: &str, name: &str, phase: &str, volumes: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"namespace": ns, "name": name},
            "spec": {"containers": [{"name": "c"}], "volumes": volumes},
            "status": {"phase": phase},
        }))
        .unwrap()
    }

    #[test]
    fn claims_of_running_pods_are_listed_once() {
        let pods = [
            pod(
                "a",
                "p1",
                "Running",
                json!([{"name": "data", "persistentVolumeClaim": {"claimName": "c1"}},
                       {"name": "tmp", "emptyDir": {}},
                       {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]),
            ),
            pod(
                "a",
                "p2",
                "Pending",
                json!([{"name": "data", "persistentVolumeClaim": {"claimName": "c1"}}]),
            ),
            pod(
                "b",
                "p3",
                "Running",
                json!([{"name": "data", "persistentVolumeClaim": {"claimName": "c1"}}]),
            ),
            pod(
                "a",
                "done",
                "Succeeded",
                json!([{"name": "data", "persistentVolumeClaim": {"claimName": "old"}}]),
            ),
        ];
        let got: Vec<(String, String)> = mounted_claims(&pods)
            .into_iter()
            .map(|c| (c.namespace, c.name))
            .collect();
        let want = [("a", "c1"), ("a", "p1-eph"), ("b", "c1")];
        assert_eq!(got, want.map(|(n, c)| (n.to_string(), c.to_string())));
    }

    #[test]
    fn only_bound_claims_have_a_volume_and_volumes_have_a_path() {
        let claim = |phase: &str, volume: &str| -> PersistentVolumeClaim {
            serde_json::from_value(json!({"metadata": {"name": "c"},
                "spec": {"volumeName": volume}, "status": {"phase": phase}}))
            .unwrap()
        };
        assert_eq!(bound_volume(&claim("Bound", "pvc-1")), Some("pvc-1"));
        assert_eq!(bound_volume(&claim("Pending", "pvc-1")), None);
        assert_eq!(bound_volume(&claim("Bound", "")), None);
        let pv = |spec: serde_json::Value| -> PersistentVolume {
            serde_json::from_value(json!({"metadata": {"name": "v"}, "spec": spec})).unwrap()
        };
        assert_eq!(
            volume_path(&pv(json!({"local": {"path": "/data/pvc-1"}}))),
            Some(PathBuf::from("/data/pvc-1"))
        );
        assert_eq!(
            volume_path(&pv(json!({"hostPath": {"path": "/h"}}))),
            Some(PathBuf::from("/h"))
        );
        assert_eq!(
            volume_path(&pv(json!({"nfs": {"server": "s", "path": "/"}}))),
            None
        );
    }

    #[test]
    fn volume_stats_render_with_the_kubelet_names_and_labels() {
        let mut samples = Samples::new();
        let claim = ClaimRef {
            namespace: "default".into(),
            name: "data-web-0".into(),
        };
        samples.insert(claim, filesystem_stats(&FS));
        let collector = VolumeStatsCollector::default();
        collector
            .0
            .write()
            .unwrap()
            .insert("node-1".into(), samples.clone());
        // Another node reporting the same claim does not duplicate its series.
        collector.0.write().unwrap().insert("node-2".into(), samples);
        let mut registry = Registry::default();
        registry.register_collector(Box::new(collector));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        let labels = r#"{namespace="default",persistentvolumeclaim="data-web-0"}"#;
        let want = [
            "# HELP kubelet_volume_stats_available_bytes [ALPHA] Number of available bytes in the volume"
                .to_string(),
            "# TYPE kubelet_volume_stats_available_bytes gauge".into(),
            format!("kubelet_volume_stats_available_bytes{labels} 2252800"),
            "# HELP kubelet_volume_stats_capacity_bytes [ALPHA] Capacity in bytes of the volume".into(),
            "# TYPE kubelet_volume_stats_capacity_bytes gauge".into(),
            format!("kubelet_volume_stats_capacity_bytes{labels} 4096000"),
            "# HELP kubelet_volume_stats_inodes [ALPHA] Maximum number of inodes in the volume".into(),
            "# TYPE kubelet_volume_stats_inodes gauge".into(),
            format!("kubelet_volume_stats_inodes{labels} 256"),
            "# HELP kubelet_volume_stats_inodes_free [ALPHA] Number of free inodes in the volume".into(),
            "# TYPE kubelet_volume_stats_inodes_free gauge".into(),
            format!("kubelet_volume_stats_inodes_free{labels} 200"),
            "# HELP kubelet_volume_stats_inodes_used [ALPHA] Number of used inodes in the volume".into(),
            "# TYPE kubelet_volume_stats_inodes_used gauge".into(),
            format!("kubelet_volume_stats_inodes_used{labels} 56"),
            "# HELP kubelet_volume_stats_used_bytes [ALPHA] Number of used bytes in the volume".into(),
            "# TYPE kubelet_volume_stats_used_bytes gauge".into(),
            format!("kubelet_volume_stats_used_bytes{labels} 1638400"),
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), want);
    }

    #[test]
    fn disk_usage_counts_blocks_and_inodes_with_hard_links_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![7u8; 1 << 20]).unwrap();
        std::fs::hard_link(dir.path().join("a"), dir.path().join("b")).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/c"), b"x").unwrap();
        let du = disk_usage(dir.path()).unwrap();
        assert_eq!(du.inodes, 4, "root, a (= b), sub, sub/c");
        assert!(du.bytes >= 1 << 20, "{du:?}");
        assert!(du.bytes < 2 << 20, "the hard link is not counted twice: {du:?}");
        let stats = measure(dir.path()).unwrap();
        assert_eq!((stats.used_bytes, stats.inodes_used), (du.bytes, du.inodes));
        assert!(stats.capacity_bytes >= stats.available_bytes && stats.capacity_bytes > 0);
    }

    #[test]
    fn provisioning_is_recorded_by_driver() {
        record_provisioning("test-driver", 0.3, true);
        record_provisioning("test-driver", 0.3, false);
        record_provisioning("test-driver", 0.3, false);
        let text = render();
        let bucket = r#"berth_volume_provisioning_duration_seconds_bucket{driver="test-driver",le="0.5"} 1"#;
        assert!(text.contains(bucket), "{text}");
        assert!(text.contains(
            r#"berth_volume_provisioning_duration_seconds_bucket{driver="test-driver",le="0.25"} 0"#
        ));
        assert!(
            text.contains(r#"berth_volume_provisioning_failures_total{driver="test-driver"} 2"#),
            "{text}"
        );
        assert!(text.contains("# TYPE berth_volume_provisioning_duration_seconds histogram\n"));
    }
}
