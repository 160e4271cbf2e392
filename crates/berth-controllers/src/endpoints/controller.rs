//! The kube-rs shell of both endpoint controllers: shared informers of Services, Pods, Nodes
//! and the controller's output kind feed caches and a queue of service keys; one worker
//! drains the queue, runs the planner on the caches and writes the plan.
//!
//! After writing, the worker waits (up to two seconds) until its own cache shows the write,
//! so the next plan never sees a slice it just created as missing (Kubernetes' endpoint
//! slice tracker solves the same problem with expected generations).

use super::endpoints_plan::{EndpointsAction, plan_endpoints};
use super::slices_plan::{LABEL_MANAGED_BY, LABEL_SERVICE_NAME, plan_slices};
use crate::resources::is_gone_or_conflict;
use berth_informer::{Informer, Informers, Object};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// A service's namespace and name.
type Key = (String, String);

/// How long a failed sync waits before it is retried.
const RETRY: Duration = Duration::from_millis(500);
/// How long the worker waits for its cache to show its own writes.
const SETTLE: Duration = Duration::from_secs(2);

/// Why a sync failed; it is retried after [`RETRY`].
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// An API call failed.
    #[error("{action}: {source}")]
    Api {
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
}

fn api_err(action: impl Into<String>) -> impl FnOnce(kube::Error) -> SyncError {
    let action = action.into();
    move |source| SyncError::Api { action, source }
}

/// Follows `informer`: every change is mapped to service keys and queued; returns its cache.
fn reflect<K: Object>(
    informer: Informer<K>,
    tx: UnboundedSender<Key>,
    mut keys: impl FnMut(&K) -> Vec<Key> + Send + 'static,
) -> Store<K> {
    let store = informer.store();
    let mut changes = informer.subscribe();
    tokio::spawn(async move {
        while let Some(change) = changes.next().await {
            for k in keys(change.object()) {
                let _ = tx.send(k);
            }
        }
    });
    store
}

fn key_of<K: Resource>(o: &K) -> Key {
    (
        o.meta().namespace.clone().unwrap_or_default(),
        o.meta().name.clone().unwrap_or_default(),
    )
}

fn obj_ref<K: Resource<DynamicType = ()>>(key: &Key) -> ObjectRef<K> {
    ObjectRef::new(&key.1).within(&key.0)
}

/// The caches every sync reads.
struct Caches {
    services: Store<Service>,
    pods: Store<Pod>,
    service_informer: Informer<Service>,
    pod_informer: Informer<Pod>,
}

impl Caches {
    fn start(informers: &Informers, tx: &UnboundedSender<Key>) -> Caches {
        let service_informer = informers.get::<Service>();
        let pod_informer = informers.get::<Pod>();
        let services = reflect(service_informer.clone(), tx.clone(), |s| vec![key_of(s)]);
        let svc_cache = services.clone();
        let pods = reflect(pod_informer.clone(), tx.clone(), move |p| {
            services_in(&svc_cache, p.metadata.namespace.as_deref().unwrap_or(""))
        });
        Caches {
            services,
            pods,
            service_informer,
            pod_informer,
        }
    }

    fn pods_in(&self, namespace: &str) -> Vec<Arc<Pod>> {
        self.pods
            .state()
            .into_iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(namespace))
            .collect()
    }

    async fn synced(&self) {
        self.service_informer.synced().await;
        self.pod_informer.synced().await;
    }
}

/// Keys of every cached service in a namespace whose endpoints the controllers manage (a pod
/// may have joined or left any of them). Pods never change what a service without a selector
/// (or an `ExternalName` one) gets: the controllers leave its endpoints alone, as Kubernetes'
/// do.
fn services_in(services: &Store<Service>, namespace: &str) -> Vec<Key> {
    services
        .state()
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(namespace))
        .filter(|s| super::pods::managed_selector(s).is_some())
        .map(|s| key_of(&**s))
        .collect()
}

/// Drains the queue forever, syncing each distinct key once per round.
async fn work<F, Fut>(tx: UnboundedSender<Key>, mut rx: tokio::sync::mpsc::UnboundedReceiver<Key>, sync: F)
where
    F: Fn(Key) -> Fut,
    Fut: Future<Output = Result<(), SyncError>>,
{
    while let Some(first) = rx.recv().await {
        let mut pending = BTreeSet::from([first]);
        while let Ok(k) = rx.try_recv() {
            pending.insert(k);
        }
        for key in pending {
            if let Err(e) = sync(key.clone()).await {
                tracing::debug!(error = %e, namespace = %key.0, service = %key.1, "endpoints sync will be retried");
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(RETRY).await;
                    let _ = tx.send(key);
                });
            }
        }
    }
}

/// Polls until `done` holds or [`SETTLE`] passes.
async fn settle(mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    while !done() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the Endpoints controller until the client's server goes away.
///
/// Guarantees: every service with a selector (except `ExternalName` ones) gets an
/// Endpoints object of the same name whose subsets follow its pods; Endpoints of deleted
/// services are deleted (leader-election locks excepted); nothing is written when the
/// stored object already matches.
pub async fn run_endpoints(informers: Arc<Informers>) {
    let client = informers.client().clone();
    let (tx, rx) = unbounded_channel();
    let caches = Caches::start(&informers, &tx);
    let endpoint_informer = informers.get::<Endpoints>();
    let endpoints = reflect(endpoint_informer.clone(), tx.clone(), |e| vec![key_of(e)]);
    caches.synced().await;
    endpoint_informer.synced().await;
    let caches = &caches;
    let endpoints = &endpoints;
    let client = &client;
    work(tx, rx, |key| async move {
        sync_endpoints(client, caches, endpoints, &key).await
    })
    .await;
}

async fn sync_endpoints(
    client: &Client,
    caches: &Caches,
    endpoints: &Store<Endpoints>,
    key: &Key,
) -> Result<(), SyncError> {
    let svc = caches.services.get(&obj_ref(key));
    let current = endpoints.get(&obj_ref(key));
    let pods = caches.pods_in(&key.0);
    let api: Api<Endpoints> = Api::namespaced(client.clone(), &key.0);
    let written = match plan_endpoints(svc.as_deref(), &pods, current.as_deref()) {
        EndpointsAction::Keep => return Ok(()),
        EndpointsAction::Create(ep) => match api.create(&PostParams::default(), &ep).await {
            Ok(ep) => ep.metadata.resource_version,
            Err(e) if is_gone_or_conflict(&e) => return Ok(()),
            Err(e) => return Err(api_err(format!("creating endpoints {}/{}", key.0, key.1))(e)),
        },
        EndpointsAction::Update(ep) => {
            api.replace(&key.1, &PostParams::default(), &ep)
                .await
                .map_err(api_err(format!("updating endpoints {}/{}", key.0, key.1)))?
                .metadata
                .resource_version
        }
        EndpointsAction::Delete => {
            let dp = DeleteParams {
                preconditions: current.as_ref().and_then(|c| c.metadata.uid.clone()).map(|uid| {
                    Preconditions {
                        uid: Some(uid),
                        resource_version: None,
                    }
                }),
                ..DeleteParams::default()
            };
            match api.delete(&key.1, &dp).await {
                Ok(_) => {}
                Err(e) if is_gone_or_conflict(&e) => {}
                Err(e) => return Err(api_err(format!("deleting endpoints {}/{}", key.0, key.1))(e)),
            }
            settle(|| endpoints.get(&obj_ref(key)).is_none()).await;
            return Ok(());
        }
    };
    settle(|| {
        endpoints
            .get(&obj_ref(key))
            .and_then(|e| e.metadata.resource_version.clone())
            == written
    })
    .await;
    Ok(())
}

/// Runs the EndpointSlice controller until the client's server goes away.
///
/// Guarantees: every service with a selector (except `ExternalName` ones) has managed
/// slices (`kubernetes.io/service-name`, `endpointslice.kubernetes.io/managed-by`, owned by
/// the service) holding one endpoint per pod with an IP, with ready/serving/terminating
/// conditions and zones; nothing is written when the stored slices already match.
pub async fn run_endpoint_slices(informers: Arc<Informers>) {
    let client = informers.client().clone();
    let (tx, rx) = unbounded_channel();
    let caches = Caches::start(&informers, &tx);
    let slice_informer = informers.get::<EndpointSlice>();
    let slices = reflect(slice_informer.clone(), tx.clone(), |s| {
        let labels = s.metadata.labels.as_ref();
        match (
            labels.and_then(|l| l.get(LABEL_SERVICE_NAME)),
            labels.and_then(|l| l.get(LABEL_MANAGED_BY)),
        ) {
            (Some(svc), Some(_)) => vec![(s.metadata.namespace.clone().unwrap_or_default(), svc.clone())],
            _ => Vec::new(),
        }
    });
    // Zones change rarely; node status updates should not re-plan every service.
    let svc_cache = caches.services.clone();
    let mut zones: BTreeMap<String, Option<String>> = BTreeMap::new();
    let node_informer = informers.get::<Node>();
    let nodes = reflect(node_informer.clone(), tx.clone(), move |n| {
        let zone = n
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("topology.kubernetes.io/zone"))
            .cloned();
        let name = n.metadata.name.clone().unwrap_or_default();
        if zones.insert(name, zone.clone()) == Some(zone) {
            return Vec::new();
        }
        svc_cache.state().iter().map(|s| key_of(&**s)).collect()
    });
    caches.synced().await;
    slice_informer.synced().await;
    node_informer.synced().await;
    let (caches, slices, nodes, client) = (&caches, &slices, &nodes, &client);
    work(tx, rx, |key| async move {
        sync_slices(client, caches, slices, nodes, &key).await
    })
    .await;
}

async fn sync_slices(
    client: &Client,
    caches: &Caches,
    slices: &Store<EndpointSlice>,
    nodes: &Store<Node>,
    key: &Key,
) -> Result<(), SyncError> {
    // A deleted service's slices go with it through their owner reference (garbage collector).
    let Some(svc) = caches.services.get(&obj_ref(key)) else {
        return Ok(());
    };
    let pods = caches.pods_in(&key.0);
    let nodes: Vec<Node> = nodes.state().iter().map(|n| (**n).clone()).collect();
    let existing: Vec<EndpointSlice> = slices
        .state()
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(key.0.as_str()))
        .map(|s| (**s).clone())
        .collect();
    let plan = plan_slices(&svc, &pods, &nodes, &existing);
    if plan.is_empty() {
        return Ok(());
    }
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), &key.0);
    let mut expect: Vec<(String, Option<String>)> = Vec::new();
    for slice in &plan.create {
        let created = api
            .create(&PostParams::default(), slice)
            .await
            .map_err(api_err(format!(
                "creating endpoint slice for {}/{}",
                key.0, key.1
            )))?;
        expect.push((
            created.metadata.name.unwrap_or_default(),
            created.metadata.resource_version,
        ));
    }
    for slice in &plan.update {
        let name = slice.metadata.name.clone().unwrap_or_default();
        let updated = api
            .replace(&name, &PostParams::default(), slice)
            .await
            .map_err(api_err(format!("updating endpoint slice {}/{name}", key.0)))?;
        expect.push((name, updated.metadata.resource_version));
    }
    for name in &plan.delete {
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => expect.push((name.clone(), None)),
            Err(e) if is_gone_or_conflict(&e) => {}
            Err(e) => return Err(api_err(format!("deleting endpoint slice {}/{name}", key.0))(e)),
        }
    }
    settle(|| {
        expect.iter().all(|(name, rv)| {
            let cached = slices.get(&ObjectRef::new(name).within(&key.0));
            match rv {
                None => cached.is_none(),
                Some(rv) => cached.and_then(|s| s.metadata.resource_version.clone()).as_ref() == Some(rv),
            }
        })
    })
    .await;
    Ok(())
}
