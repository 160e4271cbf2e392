//! The service account controller: every active namespace has a `default` ServiceAccount,
//! created when the namespace appears and recreated if deleted, as Kubernetes'
//! `serviceaccount-controller` does.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, ResourceExt};
use std::collections::BTreeSet;
use std::time::Duration;

/// The ServiceAccount every namespace gets.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Namespaces that need a `default` account: active ones that lack it.
pub fn missing(active_namespaces: &BTreeSet<String>, having_default: &BTreeSet<String>) -> Vec<String> {
    active_namespaces.difference(having_default).cloned().collect()
}

/// Runs the controller.
pub async fn run(client: Client) {
    let (namespaces, ns_writer) = reflector::store::<Namespace>();
    let (accounts, sa_writer) = reflector::store::<ServiceAccount>();
    let ns_stream = reflector(
        ns_writer,
        watcher(Api::<Namespace>::all(client.clone()), watcher::Config::default()),
    )
    .default_backoff()
    .touched_objects()
    .map(|_| ());
    let sa_config = watcher::Config::default().fields(&format!("metadata.name={DEFAULT_ACCOUNT}"));
    let sa_stream = reflector(
        sa_writer,
        watcher(Api::<ServiceAccount>::all(client.clone()), sa_config),
    )
    .default_backoff()
    .touched_objects()
    .map(|_| ());
    // The reflectors are driven on their own tasks, so waiting for a cache never stalls them.
    let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
    for stream in [ns_stream.boxed(), sa_stream.boxed()] {
        let tx = tx.clone();
        tokio::spawn(stream.for_each(move |()| {
            let _ = tx.send(());
            async {}
        }));
    }
    drop(tx);
    while changes.recv().await.is_some() {
        berth_informer::settle_channel(
            Duration::from_millis(20),
            Duration::from_millis(200),
            &mut changes,
        )
        .await;
        if namespaces.wait_until_ready().await.is_err() || accounts.wait_until_ready().await.is_err() {
            continue;
        }
        let active: BTreeSet<String> = namespaces
            .state()
            .iter()
            .filter(|n| n.metadata.deletion_timestamp.is_none())
            .map(|n| n.name_any())
            .collect();
        let having: BTreeSet<String> = accounts.state().iter().filter_map(|a| a.namespace()).collect();
        for ns in missing(&active, &having) {
            let sa = ServiceAccount {
                metadata: ObjectMeta {
                    name: Some(DEFAULT_ACCOUNT.into()),
                    namespace: Some(ns.clone()),
                    ..ObjectMeta::default()
                },
                ..ServiceAccount::default()
            };
            match Api::<ServiceAccount>::namespaced(client.clone(), &ns)
                .create(&PostParams::default(), &sa)
                .await
            {
                Ok(_) => tracing::debug!(namespace = %ns, "created the default service account"),
                Err(kube::Error::Api(s)) if s.code == 409 || s.code == 403 || s.code == 404 => {}
                Err(e) => {
                    tracing::warn!(namespace = %ns, error = %e, "creating the default service account failed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_namespaces_without_an_account() {
        let active: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let having: BTreeSet<String> = ["b", "z"].iter().map(|s| s.to_string()).collect();
        assert_eq!(missing(&active, &having), vec!["a".to_string(), "c".to_string()]);
    }
}
