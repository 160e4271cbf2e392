//! The garbage collector's shell: watches every served type, keeps the owner graph
//! ([`graph::Graph`]) up to date, and carries out its plans through the API.

pub mod graph;

use crate::resources::{api_for, is_gone_or_conflict, stored_types};
use berth_api::registry::{self, ResourceType};
use futures::StreamExt;
use graph::{Action, Graph, Node, ObjectRef, OwnerRef, Propagation};
use kube::Client;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::mpsc;

enum Msg {
    Init(usize),
    Apply(usize, Box<DynamicObject>),
    Delete(String),
    InitDone(usize),
}

fn node_of(rt: &ResourceType, o: &DynamicObject) -> Option<Node> {
    let md = &o.metadata;
    let uid = md.uid.clone()?;
    Some(Node {
        obj: ObjectRef {
            group: rt.group.to_string(),
            version: rt.version.to_string(),
            kind: rt.kind.to_string(),
            namespace: md.namespace.clone().unwrap_or_default(),
            name: md.name.clone().unwrap_or_default(),
            uid,
        },
        owners: md
            .owner_references
            .iter()
            .flatten()
            .map(|r| OwnerRef {
                api_version: r.api_version.clone(),
                kind: r.kind.clone(),
                name: r.name.clone(),
                uid: r.uid.clone(),
                block_owner_deletion: r.block_owner_deletion.unwrap_or(false),
            })
            .collect(),
        deleting: md.deletion_timestamp.is_some(),
        finalizers: md.finalizers.clone().unwrap_or_default(),
    })
}

/// Whether the collector follows objects of type `rt`: every stored type but events, which
/// Kubernetes' collector ignores too (`garbagecollector.DefaultIgnoredResources`): they are
/// the most numerous objects, short-lived, and nothing owns them.
fn collected(rt: &ResourceType) -> bool {
    !(rt.plural == "events" && (rt.group.is_empty() || rt.group == "events.k8s.io"))
}

/// Runs the garbage collector.
pub async fn run(client: Client) {
    let types: Vec<&'static ResourceType> = stored_types().filter(|rt| collected(rt)).collect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for (i, rt) in types.iter().enumerate() {
        let api = api_for(&client, rt, "");
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
            while let Some(ev) = stream.next().await {
                let msg = match ev {
                    Ok(watcher::Event::Init) => Msg::Init(i),
                    Ok(watcher::Event::InitApply(o) | watcher::Event::Apply(o)) => Msg::Apply(i, Box::new(o)),
                    Ok(watcher::Event::Delete(o)) => match o.metadata.uid {
                        Some(uid) => Msg::Delete(uid),
                        None => continue,
                    },
                    Ok(watcher::Event::InitDone) => Msg::InitDone(i),
                    Err(e) => {
                        tracing::debug!(error = %e, "garbage collector watch failed; retrying");
                        continue;
                    }
                };
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    let mut graph = Graph::default();
    let mut type_of: HashMap<String, usize> = HashMap::new();
    let mut relisting: HashMap<usize, HashSet<String>> = HashMap::new();
    let mut synced: HashSet<usize> = HashSet::new();
    let mut dirty: HashSet<String> = HashSet::new();
    let mut resync = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { return };
                let mut batch = vec![msg];
                while let Ok(m) = rx.try_recv() {
                    batch.push(m);
                }
                for m in batch {
                    match m {
                        Msg::Init(i) => {
                            relisting.insert(i, HashSet::new());
                        }
                        Msg::Apply(i, o) => {
                            if let Some(n) = node_of(types[i], &o) {
                                if let Some(seen) = relisting.get_mut(&i) {
                                    seen.insert(n.obj.uid.clone());
                                }
                                type_of.insert(n.obj.uid.clone(), i);
                                dirty.extend(graph.upsert(n));
                            }
                        }
                        Msg::Delete(uid) => {
                            type_of.remove(&uid);
                            dirty.extend(graph.remove(&uid));
                        }
                        Msg::InitDone(i) => {
                            if let Some(seen) = relisting.remove(&i) {
                                let stale: Vec<String> = type_of
                                    .iter()
                                    .filter(|(uid, t)| **t == i && !seen.contains(*uid))
                                    .map(|(uid, _)| uid.clone())
                                    .collect();
                                for uid in stale {
                                    type_of.remove(&uid);
                                    dirty.extend(graph.remove(&uid));
                                }
                            }
                            synced.insert(i);
                        }
                    }
                }
            }
            _ = resync.tick() => dirty.extend(graph.with_owners()),
        }
        if synced.len() < types.len() {
            continue;
        }
        let work: Vec<String> = dirty.drain().collect();
        for uid in work {
            for action in graph.plan(&uid) {
                if let Err(e) = execute(&client, &action).await {
                    tracing::warn!(error = %e, ?action, "garbage collector action failed; will retry");
                    dirty.insert(uid.clone());
                }
            }
        }
    }
}

fn rt_of(obj: &ObjectRef) -> Option<&'static ResourceType> {
    registry::lookup_kind(&obj.group, &obj.kind)
}

async fn execute(client: &Client, action: &Action) -> Result<(), kube::Error> {
    let result = match action {
        Action::Delete { target, propagation } => delete(client, target, *propagation).await,
        Action::DeleteIfOwnersAbsent { target, owners } => {
            for owner in owners {
                let (group, _) = registry::split_api_version(&owner.api_version);
                let Some(rt) = registry::lookup_kind(group, &owner.kind) else {
                    // An owner of a kind Berth does not serve cannot be checked: keep the dependent.
                    return Ok(());
                };
                let namespace = if rt.namespaced {
                    target.namespace.as_str()
                } else {
                    ""
                };
                match api_for(client, rt, namespace).get_opt(&owner.name).await? {
                    Some(live) if live.metadata.uid.as_deref() == Some(owner.uid.as_str()) => return Ok(()),
                    _ => {}
                }
            }
            tracing::info!(kind = %target.kind, namespace = %target.namespace, name = %target.name, "deleting object whose owners are gone");
            delete(client, target, Propagation::Background).await
        }
        Action::RemoveOwnerRefs { target, owner_uids } => {
            let Some(rt) = rt_of(target) else { return Ok(()) };
            let refs: Vec<serde_json::Value> = owner_uids
                .iter()
                .map(|u| json!({"$patch": "delete", "uid": u}))
                .collect();
            let patch = json!({"metadata": {"ownerReferences": refs, "uid": target.uid}});
            api_for(client, rt, &target.namespace)
                .patch(&target.name, &PatchParams::default(), &Patch::Strategic(patch))
                .await
                .map(|_| ())
        }
        Action::RemoveFinalizer { target, finalizer } => {
            let Some(rt) = rt_of(target) else { return Ok(()) };
            let patch =
                json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [finalizer], "uid": target.uid}});
            api_for(client, rt, &target.namespace)
                .patch(&target.name, &PatchParams::default(), &Patch::Strategic(patch))
                .await
                .map(|_| ())
        }
    };
    match result {
        Err(e) if is_gone_or_conflict(&e) => Ok(()),
        other => other,
    }
}

async fn delete(client: &Client, target: &ObjectRef, propagation: Propagation) -> Result<(), kube::Error> {
    let Some(rt) = rt_of(target) else { return Ok(()) };
    let dp = DeleteParams {
        propagation_policy: Some(match propagation {
            Propagation::Background => PropagationPolicy::Background,
            Propagation::Foreground => PropagationPolicy::Foreground,
        }),
        preconditions: Some(Preconditions {
            uid: Some(target.uid.clone()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    api_for(client, rt, &target.namespace)
        .delete(&target.name, &dp)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::collected;
    use berth_api::registry::lookup;

    #[test]
    fn events_of_either_group_are_ignored_and_everything_else_is_collected() {
        let rt = |g, v, p| lookup(g, v, p).expect("served");
        assert!(!collected(rt("", "v1", "events")));
        assert!(!collected(rt("events.k8s.io", "v1", "events")));
        assert!(collected(rt("", "v1", "pods")));
        assert!(collected(rt("apps", "v1", "controllerrevisions")));
        assert!(collected(rt("", "v1", "persistentvolumeclaims")));
    }
}
