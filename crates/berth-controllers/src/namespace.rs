//! The namespace controller: when a namespace is being deleted, deletes everything in it,
//! then removes the `kubernetes` finalizer from `spec.finalizers` through the `finalize`
//! subresource, after which the API server removes the namespace.

use crate::resources::{api_for, is_gone_or_conflict, stored_types};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PostParams, PropagationPolicy};
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::BTreeSet;
use std::time::Duration;

/// The finalizer the namespace controller owns.
pub const KUBERNETES_FINALIZER: &str = "kubernetes";

/// What remains in a terminating namespace, and what to do about it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Objects to delete: (plural, group, name).
    pub delete: Vec<(String, String, String)>,
    /// Whether everything is gone and the namespace can be finalized.
    pub finalize: bool,
}

/// Plans the next step from what is left: `(group, plural, name, already_deleting)`.
pub fn plan(remaining: &[(String, String, String, bool)]) -> Plan {
    Plan {
        delete: remaining
            .iter()
            .filter(|r| !r.3)
            .map(|r| (r.1.clone(), r.0.clone(), r.2.clone()))
            .collect(),
        finalize: remaining.is_empty(),
    }
}

/// Runs the namespace controller.
pub async fn run(client: Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut stream = watcher(namespaces.clone(), watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut terminating: BTreeSet<String> = BTreeSet::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            ev = stream.next() => {
                match ev {
                    None => return,
                    Some(Ok(watcher::Event::Apply(ns) | watcher::Event::InitApply(ns))) => {
                        if ns.metadata.deletion_timestamp.is_some() && let Some(n) = ns.metadata.name {
                            terminating.insert(n);
                        }
                    }
                    Some(Ok(watcher::Event::Delete(ns))) => {
                        if let Some(n) = ns.metadata.name {
                            terminating.remove(&n);
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => tracing::debug!(error = %e, "namespace watch failed; retrying"),
                }
            }
            _ = tick.tick() => {
                let names: Vec<String> = terminating.iter().cloned().collect();
                for name in names {
                    match step(&client, &namespaces, &name).await {
                        Ok(true) => { terminating.remove(&name); }
                        Ok(false) => {}
                        Err(e) => tracing::warn!(namespace = %name, error = %e, "namespace cleanup failed; will retry"),
                    }
                }
            }
        }
    }
}

/// One cleanup pass; `Ok(true)` once the namespace has been finalized.
async fn step(client: &Client, namespaces: &Api<Namespace>, name: &str) -> Result<bool, kube::Error> {
    let mut remaining = Vec::new();
    for rt in stored_types().filter(|r| r.namespaced) {
        let list = api_for(client, rt, name).list(&ListParams::default()).await?;
        for o in list.items {
            remaining.push((
                rt.group.to_string(),
                rt.plural.to_string(),
                o.metadata.name.clone().unwrap_or_default(),
                o.metadata.deletion_timestamp.is_some(),
            ));
        }
    }
    let p = plan(&remaining);
    for (plural, group, obj) in &p.delete {
        let Some(rt) = stored_types().find(|r| r.plural == plural && r.group == group) else {
            continue;
        };
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match api_for(client, rt, name).delete(obj, &dp).await {
            Err(e) if !is_gone_or_conflict(&e) => return Err(e),
            _ => {}
        }
    }
    if !p.finalize {
        return Ok(false);
    }
    let Some(mut ns) = namespaces.get_opt(name).await? else {
        return Ok(true);
    };
    let spec = ns.spec.get_or_insert_with(Default::default);
    let finalizers: Vec<String> = spec
        .finalizers
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f != KUBERNETES_FINALIZER)
        .collect();
    spec.finalizers = Some(finalizers);
    match namespaces
        .replace_subresource("finalize", name, &PostParams::default(), &ns)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_gone_or_conflict(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finalizes_only_when_empty() {
        assert_eq!(
            plan(&[]),
            Plan {
                delete: vec![],
                finalize: true
            }
        );
        let left = vec![
            ("".to_string(), "configmaps".to_string(), "a".to_string(), false),
            (
                "apps".to_string(),
                "statefulsets".to_string(),
                "web".to_string(),
                true,
            ),
        ];
        assert_eq!(
            plan(&left),
            Plan {
                delete: vec![("configmaps".into(), "".into(), "a".into())],
                finalize: false
            }
        );
    }
}
