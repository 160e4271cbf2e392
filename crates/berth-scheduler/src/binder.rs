//! The binder: keeps caches of nodes and pods, and for every pod that waits for a node and
//! names the default scheduler, asks [`crate::placement::choose_node`] and posts
//! `pods/binding`; when nothing fits, sets `PodScheduled=False` (`Unschedulable`) and records
//! a `FailedScheduling` event, then tries again later.

use crate::placement::{Unschedulable, choose_node};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// The scheduler name pods select by default.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

fn waits_for_us(pod: &Pod) -> bool {
    let spec = pod.spec.as_ref();
    let unbound = spec.and_then(|s| s.node_name.as_deref()).unwrap_or("").is_empty();
    let ours = spec
        .and_then(|s| s.scheduler_name.as_deref())
        .unwrap_or(DEFAULT_SCHEDULER)
        == DEFAULT_SCHEDULER;
    let terminal = matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    );
    unbound && ours && !terminal && pod.metadata.deletion_timestamp.is_none()
}

/// Runs the binder until the API goes away.
pub async fn run(client: Client) {
    let (nodes, node_writer) = reflector::store::<Node>();
    let (pods, pod_writer) = reflector::store::<Pod>();
    let node_stream = reflector(
        node_writer,
        watcher(Api::<Node>::all(client.clone()), watcher::Config::default()),
    )
    .default_backoff()
    .touched_objects()
    .map(|_| ())
    .boxed();
    let pod_stream = reflector(
        pod_writer,
        watcher(Api::<Pod>::all(client.clone()), watcher::Config::default()),
    )
    .default_backoff()
    .touched_objects()
    .map(|_| ())
    .boxed();
    let mut changes = futures::stream::select(node_stream, pod_stream);
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: DEFAULT_SCHEDULER.into(),
            instance: None,
        },
    );
    let mut retry = tokio::time::interval(Duration::from_secs(5));
    let mut reported: HashMap<String, String> = HashMap::new();
    loop {
        tokio::select! {
            change = changes.next() => if change.is_none() { return },
            _ = retry.tick() => reported.clear(),
        }
        // Let bursts of events settle into one pass.
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(5), changes.next()).await {}
        let all_nodes: Vec<Node> = nodes.state().iter().map(|n| (**n).clone()).collect();
        let mut load: HashMap<String, usize> = HashMap::new();
        let mut pending = Vec::new();
        for pod in pods.state() {
            match pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty())
            {
                Some(node) => *load.entry(node).or_default() += 1,
                None if waits_for_us(&pod) => pending.push(pod),
                None => {}
            }
        }
        pending.sort_by_key(|p| p.metadata.creation_timestamp.clone().map(|t| t.0));
        for pod in pending {
            let key = format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any());
            match choose_node(&pod, &all_nodes, &load) {
                Ok(node) => {
                    if let Err(e) = bind(&client, &pod, &node).await {
                        tracing::debug!(pod = %key, error = %e, "binding failed; will retry");
                        continue;
                    }
                    *load.entry(node).or_default() += 1;
                }
                Err(why) => {
                    if reported.get(&key) == Some(&why.message) {
                        continue;
                    }
                    if let Err(e) = report_unschedulable(&client, &recorder, &pod, &why).await {
                        tracing::debug!(pod = %key, error = %e, "recording FailedScheduling failed");
                    }
                    reported.insert(key, why.message);
                }
            }
        }
    }
}

async fn bind(client: &Client, pod: &Pod, node: &str) -> Result<(), kube::Error> {
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let binding = json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": pod.name_any(), "namespace": ns, "uid": pod.uid()},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    let _: serde_json::Value = api
        .create_subresource("binding", &pod.name_any(), &PostParams::default(), &binding)
        .await?;
    tracing::debug!(pod = %pod.name_any(), node, "bound pod");
    Ok(())
}

async fn report_unschedulable(
    client: &Client,
    recorder: &Recorder,
    pod: &Pod,
    why: &Unschedulable,
) -> Result<(), kube::Error> {
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let status = json!({"status": {"conditions": [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": why.message, "lastProbeTime": null,
        "lastTransitionTime": k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }]}});
    api.patch_status(
        &pod.name_any(),
        &PatchParams::default(),
        &Patch::Strategic(status),
    )
    .await?;
    let event = Event {
        type_: EventType::Warning,
        reason: "FailedScheduling".into(),
        note: Some(why.message.clone()),
        action: "Scheduling".into(),
        secondary: None,
    };
    recorder.publish(&event, &pod.object_ref(&())).await
}
