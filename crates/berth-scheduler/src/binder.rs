//! The binder, the scheduler's kube-rs shell: shared informers of nodes, pods, claims, volumes,
//! storage classes and namespaces; on every change (and once a minute) it runs
//! [`crate::placement::schedule`] for each pod that waits for the default scheduler, in
//! priority then creation order, and
//!
//! - binds it (`pods/binding`) and records `Scheduled` ("Successfully assigned ns/pod to
//!   node"), remembering it as assumed until the watch shows the binding;
//! - or, when the pod has unbound `WaitForFirstConsumer` claims, annotates them with
//!   `volume.kubernetes.io/selected-node` (what `VolumeBinding`'s PreBind does) and waits,
//!   assumed on that node, until the PV controller has bound them, then binds the pod;
//! - or sets `PodScheduled=False` (`Unschedulable`) and records `FailedScheduling` with the
//!   message, again only when the message changes or a minute has passed.

use crate::assumed::AssumedPods;
use crate::events::{EventType, Recorder};
use crate::placement::{Placement, Unschedulable, schedule_from, schedule_in};
use crate::selectors::Labels;
use crate::snapshot::{Cluster, Placed, PodRequests, Snapshot};
use crate::volume_topology::{ANN_SELECTED_NODE, VolumeTopology, compute};
use berth_informer::memo::IdentityMemo;
use berth_informer::{Informers, Object};
use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::{Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::reflector::Store;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scheduler name pods select by default.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

/// How often every pending pod is tried again even without a change.
const RESYNC: Duration = Duration::from_secs(60);
/// How soon a pass repeats after a failed API call.
const RETRY_SOON: Duration = Duration::from_secs(1);

/// Knobs of the binder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Options {
    /// Schedule pods whose Immediate-mode claims are still unbound as if those claims did not
    /// exist, instead of holding them with "pod has unbound immediate
    /// PersistentVolumeClaims" as Kubernetes does (the default, off).
    pub tolerate_unbound_immediate_claims: bool,
}

impl Options {
    /// Sets [`Options::tolerate_unbound_immediate_claims`].
    pub fn tolerate_unbound_immediate_claims(mut self, on: bool) -> Options {
        self.tolerate_unbound_immediate_claims = on;
        self
    }
}

/// Errors of one binder action.
#[derive(Debug, thiserror::Error)]
pub enum BinderError {
    /// An API call failed.
    #[error("{action} for pod {pod}")]
    Api {
        /// What was attempted.
        action: &'static str,
        /// `namespace/name` of the pod.
        pod: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
}

/// Whether the pod waits for this scheduler: no node yet, our scheduler name, no scheduling
/// gates, not finished, not being deleted.
pub fn waits_for_us(pod: &Pod) -> bool {
    let spec = pod.spec.as_ref();
    let unbound = spec.and_then(|s| s.node_name.as_deref()).unwrap_or("").is_empty();
    let ours = spec
        .and_then(|s| s.scheduler_name.as_deref())
        .unwrap_or(DEFAULT_SCHEDULER)
        == DEFAULT_SCHEDULER;
    let gated = spec
        .and_then(|s| s.scheduling_gates.as_ref())
        .is_some_and(|g| !g.is_empty());
    unbound
        && ours
        && !gated
        && !crate::snapshot::is_terminal(pod)
        && pod.metadata.deletion_timestamp.is_none()
}

/// The scheduling queue's order (`PrioritySort`): higher priority first, then older first,
/// then by namespace and name.
pub fn queue_order(a: &Pod, b: &Pod) -> std::cmp::Ordering {
    let prio = |p: &Pod| p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
    prio(b)
        .cmp(&prio(a))
        .then_with(|| {
            let t = |p: &Pod| p.metadata.creation_timestamp.clone().map(|t| t.0);
            t(a).cmp(&t(b))
        })
        .then_with(|| a.metadata.namespace.cmp(&b.metadata.namespace))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

fn pod_key(pod: &Pod) -> String {
    format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any())
}

/// The cache of `K` and a stream that yields on each of its changes.
fn watch<K: Object>(informers: &Informers) -> (Store<K>, BoxStream<'static, ()>) {
    let informer = informers.get::<K>();
    (informer.store(), informer.subscribe().map(|_| ()).boxed())
}

/// The caches the binder reads.
struct Caches {
    nodes: Store<Node>,
    pods: Store<Pod>,
    claims: Store<PersistentVolumeClaim>,
    volumes: Store<PersistentVolume>,
    classes: Store<StorageClass>,
    namespaces: Store<Namespace>,
}

/// Runs the binder with the default [`Options`] until the API goes away.
pub async fn run(informers: Arc<Informers>) {
    run_with(informers, Options::default()).await;
}

/// Runs the binder until the API goes away, reading through the (possibly shared)
/// `informers`.
pub async fn run_with(informers: Arc<Informers>, options: Options) {
    let client = informers.client().clone();
    let (nodes, s1) = watch::<Node>(&informers);
    let (pods, s2) = watch::<Pod>(&informers);
    let (claims, s3) = watch::<PersistentVolumeClaim>(&informers);
    let (volumes, s4) = watch::<PersistentVolume>(&informers);
    let (classes, s5) = watch::<StorageClass>(&informers);
    let (namespaces, s6) = watch::<Namespace>(&informers);
    let caches = Caches {
        nodes,
        pods,
        claims,
        volumes,
        classes,
        namespaces,
    };
    let mut changes = futures::stream::select_all([s1, s2, s3, s4, s5, s6]);
    let recorder = Recorder::new(client.clone(), DEFAULT_SCHEDULER);
    let mut binder = Binder {
        client,
        recorder,
        options,
        assumed: AssumedPods::default(),
        reported: HashMap::new(),
        next_start: 0,
        requests: IdentityMemo::default(),
    };
    let mut resync = tokio::time::interval(RESYNC);
    let mut soon = false;
    loop {
        let retry = tokio::time::sleep(if soon { RETRY_SOON } else { RESYNC });
        tokio::select! {
            change = changes.next() => if change.is_none() { return },
            _ = resync.tick() => binder.reported.clear(),
            _ = retry, if soon => {},
        }
        // Let bursts of events settle into one pass.
        berth_informer::settle(Duration::from_millis(5), Duration::from_millis(100), &mut changes).await;
        soon = binder.pass(&caches).await;
    }
}

struct Binder {
    client: Client,
    recorder: Recorder,
    options: Options,
    assumed: AssumedPods,
    /// The last FailedScheduling message recorded per pod.
    reported: HashMap<String, String>,
    /// Where the next cycle starts filtering (kube-scheduler's `nextStartNodeIndex`).
    next_start: usize,
    /// The requests of each placed pod, per pod version.
    requests: IdentityMemo<Pod, PodRequests>,
}

impl Binder {
    /// One pass over the pending pods; returns whether an API call failed (retry soon).
    async fn pass(&mut self, caches: &Caches) -> bool {
        let now = Instant::now();
        let all_pods = caches.pods.state();
        self.assumed.reconcile(all_pods.iter().map(|p| &**p), now);
        let waiting: std::collections::HashSet<String> = all_pods
            .iter()
            .filter(|p| waits_for_us(p))
            .map(|p| pod_key(p))
            .collect();
        self.reported.retain(|k, _| waiting.contains(k));
        let mut pending: Vec<Arc<Pod>> = all_pods
            .iter()
            .filter(|p| waits_for_us(p))
            .filter(|p| self.assumed.get(p).is_none_or(|a| a.waiting_for_volumes))
            .cloned()
            .collect();
        if pending.is_empty() {
            // Most changes (a pod turning Ready, a node's heartbeat) leave nothing to place:
            // no snapshot of every bound pod for them.
            return false;
        }
        pending.sort_by(|a, b| queue_order(a, b));
        let nodes: Vec<Node> = caches.nodes.state().iter().map(|n| (**n).clone()).collect();
        let claims = caches.claims.state();
        let volumes = caches.volumes.state();
        let classes = caches.classes.state();
        let namespace_labels: BTreeMap<String, Labels> = caches
            .namespaces
            .state()
            .iter()
            .map(|n| (n.name_any(), n.metadata.labels.clone().unwrap_or_default()))
            .collect();
        let mut failed = false;
        // Bound pods do not change during a pass (the cache is a snapshot); the pods this pass
        // places are in the assumed cache.
        let bound: Vec<(String, Arc<Pod>)> = all_pods
            .iter()
            .filter_map(|p| {
                let node = p.spec.as_ref()?.node_name.clone().filter(|n| !n.is_empty())?;
                Some((node, p.clone()))
            })
            .collect();
        let pvs: Vec<&PersistentVolume> = volumes.iter().map(|v| &**v).collect();
        let scs: Vec<&StorageClass> = classes.iter().map(|c| &**c).collect();
        // One snapshot for the whole pass: the bound pods, the assumed ones, and each pod this
        // pass places as it is placed (kube-scheduler's cache, updated on assume).
        let assumed: Vec<(String, Arc<Pod>)> = self
            .assumed
            .iter()
            .map(|a| (a.node.clone(), a.pod.clone()))
            .collect();
        // Each placed pod's requests are parsed once per pod version, not at every pass.
        let mut requests = std::mem::take(&mut self.requests);
        for (_, pod) in bound.iter().chain(assumed.iter()) {
            requests.get_or_derive(pod, PodRequests::of);
        }
        requests.sweep();
        let placed: Vec<Placed<'_>> = bound
            .iter()
            .chain(assumed.iter())
            .map(|(node, pod)| Placed {
                node,
                pod,
                requests: requests.get(pod),
            })
            .collect();
        let cluster = Cluster {
            nodes: &nodes,
            placed: &placed,
            namespace_labels: &namespace_labels,
        };
        let mut snapshot = Snapshot::of(&cluster);
        // The claims of each namespace, gathered once per pass.
        let mut claims_by_namespace: BTreeMap<&str, Vec<&PersistentVolumeClaim>> = BTreeMap::new();
        for c in &claims {
            claims_by_namespace
                .entry(c.metadata.namespace.as_deref().unwrap_or_default())
                .or_default()
                .push(&**c);
        }
        let no_claims = Vec::new();
        for pod in &pending {
            let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
            let pod_claims: &[&PersistentVolumeClaim] = claims_by_namespace.get(ns).unwrap_or(&no_claims);
            let mut topology = compute(pod, pod_claims, &pvs, &scs);
            if self.options.tolerate_unbound_immediate_claims {
                topology = topology.ignoring_unbound_immediate();
            }
            // A pod assumed while its claims bind is counted in the snapshot; it is not its own
            // neighbour. (Only an assumed pod can be counted: pending pods are not bound.)
            let was_assumed = self.assumed.get(pod).is_some();
            let start = self.next_start;
            let decision = if was_assumed && snapshot.counts(pod) {
                let mut without = snapshot.clone();
                without.remove(pod);
                decide(pod, &without, &topology, pod_claims, start)
            } else {
                decide(pod, &snapshot, &topology, pod_claims, start)
            };
            if !snapshot.nodes.is_empty() {
                self.next_start = (start + decision.processed) % snapshot.nodes.len();
            }
            let result = match decision.result {
                Ok(node) => {
                    let placed = self.place(pod, &node, &topology, pod_claims, now).await;
                    if placed.is_ok() && !was_assumed {
                        snapshot.add(&node, pod);
                    }
                    placed
                }
                Err(why) => self.report(pod, &why).await,
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, cause = ?std::error::Error::source(&e), "scheduler action failed; will retry");
                failed = true;
            }
        }
        self.requests = requests;
        failed
    }

    /// Binds the pod, or first hands its delayed claims to the volume binder.
    async fn place(
        &mut self,
        pod: &Arc<Pod>,
        node: &str,
        topology: &VolumeTopology,
        claims: &[&PersistentVolumeClaim],
        now: Instant,
    ) -> Result<(), BinderError> {
        let key = pod_key(pod);
        if !topology.delayed.is_empty() {
            for claim in &topology.delayed {
                let selected = claims
                    .iter()
                    .find(|c| c.name_any() == claim.claim)
                    .and_then(|c| c.annotations().get(ANN_SELECTED_NODE).cloned());
                if selected.as_deref() != Some(node) {
                    select_node(&self.client, pod, &claim.claim, node).await?;
                }
            }
            self.assumed.assume(pod.clone(), node, true, now);
            return Ok(());
        }
        bind(&self.client, pod, node).await?;
        self.assumed.assume(pod.clone(), node, false, now);
        self.reported.remove(&key);
        let note = format!("Successfully assigned {key} to {node}");
        let published = self
            .recorder
            .publish(
                &pod.object_ref(&()),
                EventType::Normal,
                "Scheduled",
                "Binding",
                &note,
            )
            .await;
        if let Err(e) = published {
            tracing::debug!(pod = %key, error = %e, "recording Scheduled failed");
        }
        Ok(())
    }

    /// Records why the pod cannot be placed (once per distinct message between resyncs).
    async fn report(&mut self, pod: &Arc<Pod>, why: &Unschedulable) -> Result<(), BinderError> {
        let key = pod_key(pod);
        self.assumed.forget(pod);
        if self.reported.get(&key) == Some(&why.message) {
            return Ok(());
        }
        report_unschedulable(&self.client, &mut self.recorder, pod, why).await?;
        self.reported.insert(key, why.message.clone());
        Ok(())
    }
}

/// Placement, preferring the node the pod's delayed claims were already handed to when it
/// still fits (so a retry does not move claims the volume binder is provisioning); else a
/// cycle over the nodes from `start` on (see [`Placement::processed`]).
fn decide(
    pod: &Pod,
    snapshot: &Snapshot<'_>,
    topology: &VolumeTopology,
    claims: &[&PersistentVolumeClaim],
    start: usize,
) -> Placement {
    let selected = topology.delayed.iter().find_map(|d| {
        claims
            .iter()
            .find(|c| c.name_any() == d.claim)
            .and_then(|c| c.annotations().get(ANN_SELECTED_NODE).cloned())
    });
    if let Some(name) = selected {
        let narrowed = snapshot.only(&name);
        if !narrowed.nodes.is_empty()
            && let Ok(node) = schedule_in(pod, &narrowed, topology)
        {
            return Placement {
                result: Ok(node),
                processed: 0,
            };
        }
    }
    schedule_from(pod, snapshot, topology, start)
}

async fn select_node(client: &Client, pod: &Pod, claim: &str, node: &str) -> Result<(), BinderError> {
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
    let patch = json!({"metadata": {"annotations": {ANN_SELECTED_NODE: node}}});
    api.patch(claim, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|source| BinderError::Api {
            action: "selecting the node of a claim",
            pod: pod_key(pod),
            source,
        })?;
    tracing::debug!(pod = %pod_key(pod), claim, node, "selected node for claim");
    Ok(())
}

async fn bind(client: &Client, pod: &Pod, node: &str) -> Result<(), BinderError> {
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let binding = json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": pod.name_any(), "namespace": ns, "uid": pod.uid()},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    let _: serde_json::Value = api
        .create_subresource("binding", &pod.name_any(), &PostParams::default(), &binding)
        .await
        .map_err(|source| BinderError::Api {
            action: "binding",
            pod: pod_key(pod),
            source,
        })?;
    tracing::debug!(pod = %pod_key(pod), node, "bound pod");
    Ok(())
}

async fn report_unschedulable(
    client: &Client,
    recorder: &mut Recorder,
    pod: &Pod,
    why: &Unschedulable,
) -> Result<(), BinderError> {
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
    .await
    .map_err(|source| BinderError::Api {
        action: "setting PodScheduled=False",
        pod: pod_key(pod),
        source,
    })?;
    recorder
        .publish(
            &pod.object_ref(&()),
            EventType::Warning,
            "FailedScheduling",
            "Scheduling",
            &why.message,
        )
        .await
        .map_err(|source| BinderError::Api {
            action: "recording FailedScheduling",
            pod: pod_key(pod),
            source,
        })
}

#[cfg(test)]
mod tests;
