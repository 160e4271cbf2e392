//! The PV controller's kube-rs shell: shared informers of volumes, claims, classes, nodes and
//! pods feed one loop that, on every relevant change (a pod only when it mounts claims, a node
//! only when its labels change) (and every 15 seconds, Kubernetes' resync period),
//! syncs every volume and then every claim (oldest first) through [`super::plan`] and runs the
//! plans.
//!
//! Guarantees: every write is a `PUT` carrying the `resourceVersion` the decision was made on,
//! so a decision on stale state fails with a conflict and is re-planned on the next pass; after
//! each successful write the pass's snapshot is updated, so later decisions of the same pass
//! see it (Kubernetes' `storeVolumeUpdate`/`storeClaimUpdate`). Events are recorded once per
//! object, reason and message for the life of the process (Kubernetes' recorder aggregates
//! repeats into a count instead). After each write of a bind or a reclaim the shell passes a
//! named crash point ([`super::plan::crash_point_after`]), for the crash tests.

use super::COMPONENT;
use super::plan::{Action, World, claim_key, crash_point_after, sync_claim, sync_volume};
use berth_informer::Informers;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, PostParams};
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Kubernetes' `--pvclaimbinder-sync-period` default.
const RESYNC: Duration = Duration::from_secs(15);

/// Which store allocation each entry of a map was copied from (see [`refresh`]).
type Sources<K> = HashMap<String, Arc<K>>;

/// Brings `map` up to the cache `store`: an object whose cached allocation is the one its
/// entry was copied from keeps its entry (an unchanged object, or one this shell has written
/// since: its entry then holds the newer version the write returned); any other object is
/// copied anew, and vanished ones are removed. Copies only what changed, instead of every
/// object at every pass.
fn refresh<K>(
    store: &Store<K>,
    key: impl Fn(&K) -> String,
    map: &mut std::collections::BTreeMap<String, K>,
    sources: &mut Sources<K>,
) where
    K: Clone + kube::Resource<DynamicType = ()> + 'static,
{
    let mut next: Sources<K> = HashMap::with_capacity(sources.len());
    for object in store.state() {
        let k = key(&object);
        let unchanged = sources.get(&k).is_some_and(|old| Arc::ptr_eq(old, &object)) && map.contains_key(&k);
        if !unchanged {
            map.insert(k.clone(), (*object).clone());
        }
        next.insert(k, object);
    }
    map.retain(|k, _| next.contains_key(k));
    *sources = next;
}

/// The shell's copy of the caches the planner reads, kept between passes.
#[derive(Default)]
struct Mirror {
    world: World,
    volumes: Sources<PersistentVolume>,
    claims: Sources<PersistentVolumeClaim>,
    classes: Sources<StorageClass>,
    nodes: Sources<Node>,
}

impl Mirror {
    fn refresh(
        &mut self,
        volumes: &Store<PersistentVolume>,
        claims: &Store<PersistentVolumeClaim>,
        classes: &Store<StorageClass>,
        nodes: &Store<Node>,
        pods: &Store<Pod>,
    ) {
        let w = &mut self.world;
        refresh(volumes, |v| v.name_any(), &mut w.volumes, &mut self.volumes);
        refresh(
            claims,
            |c| claim_key(&c.namespace().unwrap_or_default(), &c.name_any()),
            &mut w.claims,
            &mut self.claims,
        );
        refresh(classes, |c| c.name_any(), &mut w.classes, &mut self.classes);
        refresh(nodes, |n| n.name_any(), &mut w.nodes, &mut self.nodes);
        // Only pods that mount claims matter to binding (shared, never copied: the planner
        // only reads them).
        w.pods = pods.state().into_iter().filter(|p| mounts_claims(p)).collect();
    }
}

/// Whether the pod has a claim volume (a `persistentVolumeClaim` or an `ephemeral` one).
fn mounts_claims(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .is_some_and(|v| {
            v.iter()
                .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some())
        })
}

/// Runs the controller until the client's server goes away.
pub async fn run(informers: Arc<Informers>) {
    let client = informers.client().clone();
    let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
    let volumes = informers.get::<PersistentVolume>().notify(tx.clone(), |_| true);
    let claims = informers
        .get::<PersistentVolumeClaim>()
        .notify(tx.clone(), |_| true);
    let classes = informers.get::<StorageClass>().notify(tx.clone(), |_| true);
    // Binding reads a node's labels (topology) only; status heartbeats are no change to it.
    let mut node_labels: HashMap<String, Option<std::collections::BTreeMap<String, String>>> = HashMap::new();
    let nodes = informers.get::<Node>().notify(tx.clone(), move |n| {
        node_labels.insert(n.name_any(), n.metadata.labels.clone()) != Some(n.metadata.labels.clone())
    });
    // Only pods that mount claims take part in binding.
    let pods = informers.get::<Pod>().notify(tx.clone(), mounts_claims);
    drop(tx);
    let mut emitted: HashSet<(String, &'static str, String)> = HashSet::new();
    let mut mirror = Mirror::default();
    let mut resync = tokio::time::interval(RESYNC);
    loop {
        tokio::select! {
            change = changes.recv() => if change.is_none() { return },
            _ = resync.tick() => {}
        }
        berth_informer::settle_channel(
            Duration::from_millis(10),
            Duration::from_millis(200),
            &mut changes,
        )
        .await;
        informers.get::<PersistentVolume>().synced().await;
        informers.get::<PersistentVolumeClaim>().synced().await;
        informers.get::<StorageClass>().synced().await;
        informers.get::<Node>().synced().await;
        informers.get::<Pod>().synced().await;
        mirror.refresh(&volumes, &claims, &classes, &nodes, &pods);
        let world = &mut mirror.world;
        let live: HashSet<&str> = (world.volumes.values().map(|v| &v.metadata))
            .chain(world.claims.values().map(|c| &c.metadata))
            .filter_map(|m| m.uid.as_deref())
            .collect();
        emitted.retain(|(uid, _, _)| live.contains(uid.as_str()));
        sync_all(&client, world, &mut emitted).await;
    }
}

/// One pass: every volume, then every claim (oldest first).
async fn sync_all(client: &Client, world: &mut World, emitted: &mut HashSet<(String, &'static str, String)>) {
    let names: Vec<String> = world.volumes.keys().cloned().collect();
    for name in names {
        let Some(volume) = world.volumes.get(&name) else {
            continue;
        };
        let plan = sync_volume(volume, world, k8s_openapi::jiff::Timestamp::now());
        run_plan(client, plan.actions, world, emitted).await;
        if let Some(e) = plan.error {
            tracing::debug!(volume = %name, error = %e, "volume sync failed");
        }
    }
    let mut keys: Vec<(Option<k8s_openapi::jiff::Timestamp>, String)> = world
        .claims
        .iter()
        .map(|(k, c)| (c.metadata.creation_timestamp.as_ref().map(|t| t.0), k.clone()))
        .collect();
    keys.sort();
    for (_, key) in keys {
        let Some(claim) = world.claims.get(&key) else {
            continue;
        };
        let plan = sync_claim(claim, world, k8s_openapi::jiff::Timestamp::now());
        run_plan(client, plan.actions, world, emitted).await;
        if let Some(e) = plan.error {
            tracing::debug!(claim = %key, error = %e, "claim sync failed");
        }
    }
}

/// Runs the actions in order, stopping at the first failed write.
async fn run_plan(
    client: &Client,
    actions: Vec<Action>,
    world: &mut World,
    emitted: &mut HashSet<(String, &'static str, String)>,
) {
    let pp = PostParams::default();
    // resourceVersions written earlier in this plan, by object key.
    let mut written: HashMap<String, Option<String>> = HashMap::new();
    for action in actions {
        let crash_point = crash_point_after(&action);
        let result = match action {
            Action::UpdateVolume(mut v) => {
                let key = format!("pv/{}", v.name_any());
                if let Some(rv) = written.get(&key) {
                    v.metadata.resource_version = rv.clone();
                }
                let api: Api<PersistentVolume> = Api::all(client.clone());
                api.replace(&v.name_any(), &pp, &v).await.map(|new| {
                    written.insert(key, new.metadata.resource_version.clone());
                    world.volumes.insert(new.name_any(), new);
                })
            }
            Action::UpdateVolumeStatus(mut v) => {
                let key = format!("pv/{}", v.name_any());
                if let Some(rv) = written.get(&key) {
                    v.metadata.resource_version = rv.clone();
                }
                let api: Api<PersistentVolume> = Api::all(client.clone());
                api.replace_status(&v.name_any(), &pp, &v).await.map(|new| {
                    written.insert(key, new.metadata.resource_version.clone());
                    world.volumes.insert(new.name_any(), new);
                })
            }
            Action::UpdateClaim(mut c) => {
                let ns = c.namespace().unwrap_or_default();
                let key = format!("pvc/{ns}/{}", c.name_any());
                if let Some(rv) = written.get(&key) {
                    c.metadata.resource_version = rv.clone();
                }
                let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
                api.replace(&c.name_any(), &pp, &c).await.map(|new| {
                    written.insert(key, new.metadata.resource_version.clone());
                    world.claims.insert(claim_key(&ns, &new.name_any()), new);
                })
            }
            Action::UpdateClaimStatus(mut c) => {
                let ns = c.namespace().unwrap_or_default();
                let key = format!("pvc/{ns}/{}", c.name_any());
                if let Some(rv) = written.get(&key) {
                    c.metadata.resource_version = rv.clone();
                }
                let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
                api.replace_status(&c.name_any(), &pp, &c).await.map(|new| {
                    written.insert(key, new.metadata.resource_version.clone());
                    world.claims.insert(claim_key(&ns, &new.name_any()), new);
                })
            }
            Action::Event(ev) => {
                let uid = ev.regarding.uid.clone().unwrap_or_default();
                if emitted.insert((uid, ev.reason, ev.message.clone())) {
                    let r = crate::recorder::record(
                        client,
                        COMPONENT,
                        &ev.regarding,
                        ev.type_,
                        ev.reason,
                        &ev.message,
                    )
                    .await;
                    if let Err(e) = r {
                        tracing::debug!(reason = ev.reason, error = %e, "recording an event failed");
                    }
                }
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, "volume controller write failed; will re-plan");
            return;
        }
        if let Some(point) = crash_point {
            berth_api::crashpoint::reached(point);
        }
    }
}
