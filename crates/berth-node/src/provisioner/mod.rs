//! The node-side `berth.dev/local` provisioner, one per node agent, serving that node only
//! (distributed provisioning, like external-provisioner's node-deployment mode or
//! local-path-provisioner): it creates a volume for each claim the PV controller or the
//! scheduler assigned to this node (`volume.kubernetes.io/selected-node`), and deletes the data
//! and then the PersistentVolume of its released `Delete` volumes.
//!
//! - [`decide`]: the pure decisions;
//! - [`run`]: the shell (reflectors over claims, volumes and classes; the filesystem).
//!
//! Drivers (`StorageClass.parameters.driver`, see [`driver`]): `dir` (a directory
//! `<volume root>/pvc-<claim uid>`, exposed as `spec.local.path`), `ext4` and `xfs` (a sparse
//! image of the real capacity, loop-mounted at that path: the kernel enforces the size) and
//! `btrfs` (a subvolume of a per-node pool with a qgroup limit). Others are reported with
//! `ProvisioningFailed`. The driver is recorded on the volume (`berth.dev/driver`) so that
//! deletion, the remount at start-up and [`expand`] know what to do.
//!
//! Online expansion ([`expand`]): when a bound claim asks for more than its volume holds and
//! its class has `allowVolumeExpansion`, the node that owns the volume grows it while mounted
//! and then records the new size on the volume and the claim.
//!
//! Crash safety: every step is idempotent and re-derived from the API on each pass. The
//! volume name is deterministic, so a crash between creating the directory and creating the
//! PersistentVolume is finished by the next pass (the directory exists already; an existing
//! volume means done). A marker `<volume root>/<name>.provisioning` brackets those two steps;
//! at start-up a marker without a volume marks an orphan directory, which is removed.
//! Deletion removes the directory first and the volume second, so a crash in between leaves a
//! Released volume whose (absent) directory is removed again. Image volumes bring themselves up
//! step by step from what is observed ([`steps`]): an existing image is reused, a formatted one
//! never re-formatted, an attached loop device reused, a mounted one left alone; at start-up
//! every image volume of this node is mounted again the same way. Named crash points
//! (`berth_api::crashpoint`, e.g. `provision:after-mkfs`, `expand:after-image-grow`,
//! `delete:after-unmount`) sit between the steps, so the end-to-end crash tests can kill the
//! agent at each of them.

pub mod decide;
pub mod driver;
pub mod expand;
pub mod mounts;
mod resize;
pub mod steps;
pub mod volumes;

#[cfg(test)]
mod capacity_tests;
#[cfg(test)]
mod tests;

use berth_api::crashpoint;
use decide::{ClaimDecision, NodeIdentity, PENDING_SUFFIX, decide_claim, should_delete, sweep, volume_name};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{
    Event, EventSource, ObjectReference, PersistentVolume, PersistentVolumeClaim,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::reflector::Store;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How often the provisioner re-examines everything without a change.
const RESYNC: Duration = Duration::from_secs(10);

/// Why a provisioning or deletion step failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionerError {
    /// A filesystem step failed.
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
    /// An API call failed.
    #[error(transparent)]
    Api(#[from] kube::Error),
    /// A volume operation (image, mount, loop device, btrfs) failed.
    #[error(transparent)]
    Volume(volumes::VolumeError),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ProvisionerError + use<> {
    let path = path.to_path_buf();
    move |source| ProvisionerError::Io { action, path, source }
}

fn watch_into<K>(client: &Client, tx: tokio::sync::mpsc::UnboundedSender<()>) -> Store<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + k8s_openapi::serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store::<K>();
    let stream = reflector(
        writer,
        watcher(Api::<K>::all(client.clone()), watcher::Config::default()),
    )
    .default_backoff()
    .touched_objects()
    .map(|_| ());
    tokio::spawn(stream.for_each(move |()| {
        let _ = tx.send(());
        async {}
    }));
    store
}

struct Provisioner {
    client: Client,
    node: NodeIdentity,
    root: PathBuf,
    component: String,
    /// Events already recorded (object uid, reason, message): each is recorded once.
    emitted: HashSet<(String, &'static str, String)>,
}

/// Runs the provisioner for `node_name` with volumes under `volume_root` until the API goes
/// away.
pub async fn run(client: Client, node_name: String, zone: Option<String>, volume_root: PathBuf) {
    let root = std::path::absolute(&volume_root).unwrap_or(volume_root);
    if let Err(e) = tokio::fs::create_dir_all(&root).await {
        tracing::error!(root = %root.display(), error = %e, "cannot create the volume root; provisioner stopped");
        return;
    }
    let mut p = Provisioner {
        component: format!("{}_{node_name}", decide::PROVISIONER),
        client,
        node: NodeIdentity {
            name: node_name,
            zone,
        },
        root,
        emitted: HashSet::new(),
    };
    p.sweep_orphans().await;
    p.remount_all().await;
    let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
    let claims = watch_into::<PersistentVolumeClaim>(&p.client, tx.clone());
    let volumes = watch_into::<PersistentVolume>(&p.client, tx.clone());
    let classes = watch_into::<StorageClass>(&p.client, tx);
    let mut resync = tokio::time::interval(RESYNC);
    tracing::info!(node = %p.node.name, root = %p.root.display(), "volume provisioner started");
    loop {
        tokio::select! {
            change = changes.recv() => if change.is_none() { return },
            _ = resync.tick() => {}
        }
        berth_informer::settle_channel(
            Duration::from_millis(10),
            Duration::from_millis(100),
            &mut changes,
        )
        .await;
        if claims.wait_until_ready().await.is_err()
            || volumes.wait_until_ready().await.is_err()
            || classes.wait_until_ready().await.is_err()
        {
            continue;
        }
        // Looked up by name once per pass, not searched for each claim.
        let volume_list = volumes.state();
        let by_name: HashMap<String, &Arc<PersistentVolume>> =
            volume_list.iter().map(|v| (v.name_any(), v)).collect();
        let class_list = classes.state();
        let live: HashSet<String> = (claims.state().iter().filter_map(|c| c.uid()))
            .chain(volumes.state().iter().filter_map(|v| v.uid()))
            .collect();
        p.emitted.retain(|(uid, _, _)| live.contains(uid));
        for claim in claims.state() {
            let class = class_list
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(decide::claim_class(&claim)))
                .cloned();
            let name = volume_name(&claim);
            let decision = decide_claim(
                &claim,
                class.as_deref(),
                by_name.contains_key(&name),
                &p.node,
                &p.root.to_string_lossy(),
            );
            let pool_size = class.as_deref().map_or(driver::DEFAULT_POOL_SIZE, pool_size);
            p.act_on_claim(&claim, decision, pool_size).await;
            let bound = claim.spec.as_ref().and_then(|s| s.volume_name.clone());
            if let Some(volume) = bound.and_then(|b| by_name.get(&b).map(|v| Arc::clone(v))) {
                let decision = expand::decide(&claim, &volume, class.as_deref(), &p.node.name);
                p.act_on_size(&claim, &volume, decision).await;
            }
        }
        for volume in volumes.state() {
            if should_delete(&volume, &p.node.name)
                && let Err(e) = p.delete(&volume).await
            {
                tracing::warn!(volume = %volume.name_any(), error = %e, "deleting a volume failed; will retry");
                let message = e.to_string();
                p.event(&reference(&*volume), "Warning", "VolumeFailedDelete", message)
                    .await;
            }
        }
    }
}

/// The btrfs pool size a class asks for (`parameters.poolSize`), or the default.
fn pool_size(class: &StorageClass) -> u64 {
    class
        .parameters
        .as_ref()
        .and_then(|p| p.get("poolSize"))
        .and_then(|s| driver::parse_bytes(s))
        .unwrap_or(driver::DEFAULT_POOL_SIZE)
}

/// Runs a blocking volume operation off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, volumes::VolumeError> + Send + 'static,
) -> Result<T, ProvisionerError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ProvisionerError::Volume),
        Err(e) => Err(ProvisionerError::Volume(volumes::VolumeError::Io {
            action: "running",
            path: PathBuf::from("a volume task"),
            source: std::io::Error::other(e.to_string()),
        })),
    }
}

/// A volume's driver, from its `berth.dev/driver` annotation (`dir` when absent).
fn volume_driver(pv: &PersistentVolume) -> Option<driver::Driver> {
    driver::Driver::parse(pv.annotations().get(driver::ANN_DRIVER).map(String::as_str))
}

fn reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    let mut r = obj.object_ref(&());
    r.resource_version = None;
    r
}

impl Provisioner {
    /// Removes directories of provisionings that crashed before their volume existed.
    async fn sweep_orphans(&self) {
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        let mut attempts = 0;
        let volumes = loop {
            match api.list(&ListParams::default()).await {
                Ok(list) => {
                    break list
                        .items
                        .iter()
                        .map(ResourceExt::name_any)
                        .collect::<BTreeSet<_>>();
                }
                Err(e) if attempts < 50 => {
                    attempts += 1;
                    tracing::debug!(error = %e, "listing volumes for the orphan sweep failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "skipping the orphan sweep: volumes cannot be listed");
                    return;
                }
            }
        };
        let Ok(mut dir) = tokio::fs::read_dir(&self.root).await else {
            return;
        };
        let mut entries = Vec::new();
        while let Ok(Some(entry)) = dir.next_entry().await {
            entries.push(entry.file_name().to_string_lossy().into_owned());
        }
        let plan = sweep(&entries, &volumes);
        for d in plan.remove_dirs {
            let root = self.root.clone();
            let name = d.clone();
            match blocking(move || volumes::teardown(&root, &name)).await {
                Ok(()) => tracing::info!(volume = %d, "removed an orphan volume"),
                Err(e) => tracing::warn!(volume = %d, error = %e, "removing an orphan volume failed"),
            }
        }
        for m in plan.remove_markers {
            let _ = tokio::fs::remove_file(self.root.join(m)).await;
        }
    }

    /// Mounts again every image or btrfs volume this node provisioned (after a reboot or a
    /// `berth reset`); what is mounted already is left alone.
    async fn remount_all(&self) {
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        let Ok(list) = api.list(&ListParams::default()).await else {
            tracing::warn!("skipping the remount: volumes cannot be listed");
            return;
        };
        for pv in list.items {
            let Some(driver) = volume_driver(&pv).filter(|d| *d != driver::Driver::Dir) else {
                continue;
            };
            let name = pv.name_any();
            if pv
                .annotations()
                .get(decide::ANN_PROVISIONED_BY)
                .map(String::as_str)
                != Some(decide::PROVISIONER)
                || !decide::pinned_to(&pv, &self.node.name)
                || !decide::is_plain_name(&name)
            {
                continue;
            }
            let root = self.root.clone();
            let n = name.clone();
            let remount = move || volumes::ensure(driver, &root, &n, None, driver::DEFAULT_POOL_SIZE);
            if let Err(e) = blocking(remount).await {
                tracing::warn!(volume = %name, error = %e, "mounting a volume again failed");
            }
        }
    }

    async fn act_on_claim(&mut self, claim: &PersistentVolumeClaim, decision: ClaimDecision, pool_size: u64) {
        match decision {
            ClaimDecision::Skip => {}
            ClaimDecision::Fail(message) => {
                self.event(&reference(claim), "Warning", "ProvisioningFailed", message)
                    .await;
            }
            ClaimDecision::Provision(pv) => {
                let key = format!("{}/{}", claim.namespace().unwrap_or_default(), claim.name_any());
                self.event(
                    &reference(claim),
                    "Normal",
                    "Provisioning",
                    format!("External provisioner is provisioning volume for claim {key:?}"),
                )
                .await;
                let started = std::time::Instant::now();
                let result = self.provision(&pv, pool_size).await;
                crate::volume_stats::record_provisioning(
                    volume_driver(&pv).map_or("dir", driver::Driver::name),
                    started.elapsed().as_secs_f64(),
                    result.is_ok(),
                );
                match result {
                    Ok(()) => {
                        tracing::info!(claim = %key, volume = %pv.name_any(), "provisioned a volume");
                        self.event(
                            &reference(claim),
                            "Normal",
                            "ProvisioningSucceeded",
                            format!("Successfully provisioned volume {}", pv.name_any()),
                        )
                        .await;
                    }
                    Err(e) => {
                        tracing::warn!(claim = %key, error = %e, "provisioning failed; will retry");
                        let class = pv
                            .spec
                            .as_ref()
                            .and_then(|s| s.storage_class_name.clone())
                            .unwrap_or_default();
                        let message = format!("failed to provision volume with StorageClass {class:?}: {e}");
                        self.event(&reference(claim), "Warning", "ProvisioningFailed", message)
                            .await;
                    }
                }
            }
        }
    }

    /// Marker, directory, volume, marker removed: each step idempotent.
    async fn provision(&self, pv: &PersistentVolume, pool_size: u64) -> Result<(), ProvisionerError> {
        let name = pv.name_any();
        if !decide::is_plain_name(&name) {
            return Err(ProvisionerError::Io {
                action: "refusing the volume name",
                path: PathBuf::from(name),
                source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
            });
        }
        let marker = self.root.join(format!("{name}{PENDING_SUFFIX}"));
        let dir = self.root.join(&name);
        tokio::fs::write(&marker, b"")
            .await
            .map_err(io("writing", &marker))?;
        crashpoint::reached("provision:after-marker");
        match volume_driver(pv) {
            Some(driver::Driver::Dir) | None => {
                tokio::fs::create_dir_all(&dir)
                    .await
                    .map_err(io("creating", &dir))?;
                // Any user of the pod may write the volume, as with local-path-provisioner.
                set_mode(&dir, 0o777)
                    .await
                    .map_err(io("setting the mode of", &dir))?;
            }
            Some(driver) => {
                let bytes = pv
                    .spec
                    .as_ref()
                    .and_then(|s| s.capacity.as_ref())
                    .and_then(|c| c.get("storage"))
                    .and_then(|q| driver::parse_bytes(&q.0))
                    .unwrap_or(driver::MIB);
                let root = self.root.clone();
                let n = name.clone();
                blocking(move || volumes::ensure(driver, &root, &n, Some(bytes), pool_size)).await?;
            }
        }
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        match api.create(&PostParams::default(), pv).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
        // The volume exists, its claim is not bound yet and the marker is still there.
        crashpoint::reached("provision:after-pv-create");
        let _ = tokio::fs::remove_file(&marker).await;
        Ok(())
    }

    /// Directory first, then the volume.
    async fn delete(&self, pv: &PersistentVolume) -> Result<(), ProvisionerError> {
        let name = pv.name_any();
        if !decide::is_plain_name(&name) {
            return Ok(());
        }
        let root = self.root.clone();
        let n = name.clone();
        blocking(move || volumes::teardown(&root, &n)).await?;
        // The data is gone, the volume (and its finalizer) not yet.
        crashpoint::reached("delete:after-teardown");
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        let dp = DeleteParams {
            preconditions: pv.uid().map(|uid| kube::api::Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&name, &dp).await {
            Ok(_) => {
                // Deleted, its `pv-protection` finalizer not removed yet.
                crashpoint::reached("delete:after-pv-delete");
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Records an event once per object, reason and message.
    async fn event(
        &mut self,
        regarding: &ObjectReference,
        type_: &str,
        reason: &'static str,
        message: String,
    ) {
        let uid = regarding.uid.clone().unwrap_or_default();
        if !self.emitted.insert((uid, reason, message.clone())) {
            return;
        }
        let now = k8s_openapi::jiff::Timestamp::now();
        let namespace = regarding.namespace.clone().unwrap_or_else(|| "default".into());
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!(
                    "{}.{:x}",
                    regarding.name.as_deref().unwrap_or("volume"),
                    now.as_nanosecond()
                )),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: regarding.clone(),
            reason: Some(reason.to_string()),
            message: Some(message),
            type_: Some(type_.to_string()),
            source: Some(EventSource {
                component: Some(self.component.clone()),
                host: None,
            }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            count: Some(1),
            reporting_component: Some(self.component.clone()),
            reporting_instance: Some(self.node.name.clone()),
            ..Event::default()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        if let Err(e) = api.create(&PostParams::default(), &event).await {
            tracing::debug!(reason, error = %e, "recording a provisioner event failed");
        }
    }
}

async fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).await
}
