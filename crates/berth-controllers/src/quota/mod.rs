//! The ResourceQuota controller (Kubernetes' `resourcequota` controller): keeps every quota's
//! `status.hard` equal to `spec.hard` and recalculates `status.used` from the objects in its
//! namespace, so usage charged by admission comes back down after deletions.
//!
//! [`plan`] is the pure part; [`run`] is the shell: the measured resources (pods, claims,
//! services and statefulsets from the shared informers; configmaps, secrets, quotas and the
//! other workload kinds Berth serves from reflectors of their own) wake a resync of every
//! quota when an object changes in a namespace that has a quota, plus a periodic resync. Status is written with `replace_status` carrying the quota's
//! resourceVersion, so a write racing admission's charge fails with 409 and is redone from
//! fresh state.

pub mod plan;

use crate::resources::{api_for, api_resource};
use berth_api::registry::{RESOURCES, ResourceType};
use berth_informer::{Informers, Object};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Service};
use kube::api::{DynamicObject, PostParams};
use kube::runtime::reflector::{self, Store, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use plan::{Collection, desired_status, needs_update};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// The resources whose usage the controller measures (those the registry serves).
pub const MEASURED: [(&str, &str); 12] = [
    ("", "pods"),
    ("", "persistentvolumeclaims"),
    ("", "services"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "resourcequotas"),
    ("", "replicationcontrollers"),
    ("apps", "statefulsets"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
];

/// How often every quota is recalculated even without changes (Kubernetes: 5 minutes).
const RESYNC: Duration = Duration::from_secs(30);

fn served(group: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural && !r.create_only)
}

fn to_json(o: &DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

/// Reads a measured resource's objects in the given namespaces, with their namespace.
type ObjectsIn = Box<dyn Fn(&BTreeSet<String>) -> Vec<(String, Value)> + Send + Sync>;

/// The objects of one measured resource, as the planner reads them (JSON).
struct Measured {
    rt: &'static ResourceType,
    /// The objects in the given namespaces, with their namespace.
    objects: ObjectsIn,
}

/// A measured resource read from the shared typed informer (the kinds other controllers
/// cache anyway: no second copy of every pod).
fn typed<K: Object + serde::Serialize>(
    informers: &Informers,
    rt: &'static ResourceType,
    tx: &UnboundedSender<()>,
    quotas: &Store<DynamicObject>,
) -> (Measured, Store<K>) {
    let quotas = quotas.clone();
    let store = informers.get::<K>().notify(tx.clone(), move |o| {
        has_quota(&quotas, o.meta().namespace.as_deref())
    });
    let reader = store.clone();
    let objects = Box::new(move |namespaces: &BTreeSet<String>| {
        reader
            .state()
            .iter()
            .filter_map(|o| {
                let ns = o.meta().namespace.clone().unwrap_or_default();
                namespaces
                    .contains(&ns)
                    .then(|| (ns, serde_json::to_value(&**o).unwrap_or(Value::Null)))
            })
            .collect()
    });
    (Measured { rt, objects }, store)
}

/// Whether a quota lives in `namespace` (changes elsewhere cannot move any quota's usage).
fn has_quota(quotas: &Store<DynamicObject>, namespace: Option<&str>) -> bool {
    quotas
        .state()
        .iter()
        .any(|q| q.metadata.namespace.as_deref() == namespace)
}

/// A measured resource with its own reflector of untyped objects.
fn dynamic(
    client: &Client,
    rt: &'static ResourceType,
    tx: Option<UnboundedSender<()>>,
) -> (Measured, Store<DynamicObject>) {
    let writer = reflector::store::Writer::<DynamicObject>::new(api_resource(rt));
    let store = writer.as_reader();
    let stream = reflector(
        writer,
        watcher(api_for(client, rt, ""), watcher::Config::default()),
    )
    .default_backoff()
    .touched_objects();
    tokio::spawn(stream.for_each(move |_| {
        if let Some(tx) = &tx {
            let _ = tx.send(());
        }
        async {}
    }));
    let reader = store.clone();
    let objects = Box::new(move |namespaces: &BTreeSet<String>| {
        reader
            .state()
            .iter()
            .filter_map(|o| {
                let ns = o.namespace().unwrap_or_default();
                namespaces.contains(&ns).then(|| (ns, to_json(o)))
            })
            .collect()
    });
    (Measured { rt, objects }, store)
}

/// Runs the controller until the client's server goes away.
pub async fn run(informers: Arc<Informers>) {
    let client = informers.client().clone();
    let Some(quota_rt) = served("", "resourcequotas") else {
        return;
    };
    let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (quota_source, quotas) = dynamic(&client, quota_rt, Some(tx.clone()));
    let mut ready: Vec<futures::future::BoxFuture<'static, bool>> = Vec::new();
    let waiting = quotas.clone();
    ready.push(Box::pin(async move { waiting.wait_until_ready().await.is_ok() }));
    let mut sources = vec![quota_source];
    for (group, plural) in MEASURED {
        let Some(rt) = served(group, plural) else { continue };
        if std::ptr::eq(rt, quota_rt) {
            continue;
        }
        macro_rules! typed_source {
            ($k:ty) => {{
                let (m, _) = typed::<$k>(&informers, rt, &tx, &quotas);
                let informer = informers.get::<$k>();
                ready.push(Box::pin(async move {
                    informer.synced().await;
                    true
                }));
                m
            }};
        }
        let source = match (group, plural) {
            ("", "pods") => typed_source!(Pod),
            ("", "persistentvolumeclaims") => typed_source!(PersistentVolumeClaim),
            ("", "services") => typed_source!(Service),
            ("apps", "statefulsets") => typed_source!(StatefulSet),
            _ => {
                let (m, store) = dynamic(&client, rt, Some(tx.clone()));
                ready.push(Box::pin(async move { store.wait_until_ready().await.is_ok() }));
                m
            }
        };
        sources.push(source);
    }
    drop(tx);
    if !futures::future::join_all(ready).await.into_iter().all(|ok| ok) {
        return;
    }
    let mut resync = tokio::time::interval(RESYNC);
    loop {
        tokio::select! {
            change = changes.recv() => if change.is_none() { return },
            _ = resync.tick() => {}
        }
        berth_informer::settle_channel(
            Duration::from_millis(20),
            Duration::from_millis(200),
            &mut changes,
        )
        .await;
        sync_all(&client, quota_rt, &quotas, &sources).await;
    }
}

/// Recalculates every quota and writes the statuses that changed.
async fn sync_all(
    client: &Client,
    quota_rt: &'static ResourceType,
    quotas: &Store<DynamicObject>,
    sources: &[Measured],
) {
    let quota_list = quotas.state();
    if quota_list.is_empty() {
        return;
    }
    // Only the namespaces that have quotas are measured.
    let namespaces: BTreeSet<String> = quota_list
        .iter()
        .map(|q| q.namespace().unwrap_or_default())
        .collect();
    let snapshot: Vec<(&'static ResourceType, Vec<(String, Value)>)> =
        sources.iter().map(|m| (m.rt, (m.objects)(&namespaces))).collect();
    let now = jiff::Timestamp::now();
    for quota in quota_list {
        let ns = quota.namespace().unwrap_or_default();
        let quota_json = to_json(&quota);
        let collections: Vec<Collection<'_>> = snapshot
            .iter()
            .map(|(rt, objs)| Collection {
                group: rt.group,
                resource: rt.plural,
                objects: objs.iter().filter(|(n, _)| *n == ns).map(|(_, o)| o).collect(),
            })
            .collect();
        let desired = desired_status(&quota_json, &collections, now);
        if !needs_update(&quota_json, &desired) {
            continue;
        }
        let mut updated = (*quota).clone();
        if let Some(map) = updated.data.as_object_mut() {
            map.insert("status".into(), desired);
        }
        let api = api_for(client, quota_rt, &ns);
        match api
            .replace_status(&quota.name_any(), &PostParams::default(), &updated)
            .await
        {
            Ok(_) => {}
            Err(e) if crate::resources::is_gone_or_conflict(&e) => {}
            Err(e) => tracing::debug!(quota = %quota.name_any(), error = %e, "updating quota status failed"),
        }
    }
}
