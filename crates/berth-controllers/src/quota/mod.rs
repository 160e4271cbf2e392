//! The ResourceQuota controller (Kubernetes' `resourcequota` controller): keeps every quota's
//! `status.hard` equal to `spec.hard` and recalculates `status.used` from the objects in its
//! namespace, so usage charged by admission comes back down after deletions.
//!
//! [`plan`] is the pure part; [`run`] is the shell: one reflector per measured resource
//! (pods, claims, services, configmaps, secrets, statefulsets, quotas, and the other
//! workload kinds Berth serves) whose changes trigger a resync of every quota, plus a
//! periodic resync. Status is written with `replace_status` carrying the quota's
//! resourceVersion, so a write racing admission's charge fails with 409 and is redone from
//! fresh state.

pub mod plan;

use crate::resources::{api_for, api_resource};
use berth_api::registry::{RESOURCES, ResourceType};
use futures::StreamExt;
use kube::api::{DynamicObject, PostParams};
use kube::runtime::reflector::{self, Store, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use plan::{Collection, desired_status, needs_update};
use serde_json::Value;
use std::time::Duration;

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

/// Runs the controller until the client's server goes away.
pub async fn run(client: Client) {
    let Some(quota_rt) = served("", "resourcequotas") else {
        return;
    };
    let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut stores: Vec<(&'static ResourceType, Store<DynamicObject>)> = Vec::new();
    for (group, plural) in MEASURED {
        let Some(rt) = served(group, plural) else { continue };
        let writer = reflector::store::Writer::<DynamicObject>::new(api_resource(rt));
        stores.push((rt, writer.as_reader()));
        let stream = reflector(
            writer,
            watcher(api_for(&client, rt, ""), watcher::Config::default()),
        )
        .default_backoff()
        .touched_objects()
        .map(|_| ());
        let tx = tx.clone();
        tokio::spawn(stream.for_each(move |()| {
            let _ = tx.send(());
            async {}
        }));
    }
    drop(tx);
    let Some(quotas) = stores
        .iter()
        .find(|(rt, _)| std::ptr::eq(*rt, quota_rt))
        .map(|(_, s)| s.clone())
    else {
        return;
    };
    let mut resync = tokio::time::interval(RESYNC);
    loop {
        tokio::select! {
            change = changes.recv() => if change.is_none() { return },
            _ = resync.tick() => {}
        }
        while let Ok(Some(())) = tokio::time::timeout(Duration::from_millis(20), changes.recv()).await {}
        let mut ready = true;
        for (_, s) in &stores {
            ready &= s.wait_until_ready().await.is_ok();
        }
        if !ready {
            continue;
        }
        sync_all(&client, quota_rt, &quotas, &stores).await;
    }
}

/// Recalculates every quota and writes the statuses that changed.
async fn sync_all(
    client: &Client,
    quota_rt: &'static ResourceType,
    quotas: &Store<DynamicObject>,
    stores: &[(&'static ResourceType, Store<DynamicObject>)],
) {
    let quota_list = quotas.state();
    if quota_list.is_empty() {
        return;
    }
    // Only the namespaces that have quotas are measured.
    let namespaces: std::collections::BTreeSet<String> = quota_list
        .iter()
        .map(|q| q.namespace().unwrap_or_default())
        .collect();
    let snapshot: Vec<(&'static ResourceType, Vec<(String, Value)>)> = stores
        .iter()
        .map(|(rt, s)| {
            let objs = s
                .state()
                .iter()
                .filter_map(|o| {
                    let ns = o.namespace().unwrap_or_default();
                    namespaces.contains(&ns).then(|| (ns, to_json(o)))
                })
                .collect();
            (*rt, objs)
        })
        .collect();
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
