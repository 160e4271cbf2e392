//! The pods bound to one node, as its agent reads them ([`NodePods`]), from one of two
//! sources:
//!
//! - [`NodePods::watch`]: the node's own watch of `spec.nodeName=<node>`, what a kubelet runs
//!   (`berth agent`, an agent in its own process);
//! - [`NodePodsHub`]: for the many agents of one process (`berth server --nodes 1000`), one
//!   shared pod informer whose changes are dispatched by `spec.nodeName`. Each pod is then
//!   decoded and held once for the whole process (shared with the controllers and the
//!   scheduler) instead of once more per agent, and the API server serves one pod watch
//!   instead of one per node.
//!
//! Both go through the API (a watch); the agent cannot tell them apart.

use berth_informer::{Change, Informer, Informers};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;

/// One node's pods: a cache and a signal that it changed.
#[derive(Clone)]
pub struct NodePods {
    shared: Arc<View>,
}

struct View {
    /// The node's pods by uid.
    pods: RwLock<HashMap<String, Arc<Pod>>>,
    /// Whether the cache holds every pod of the node (the first list has completed).
    complete: AtomicBool,
    /// Bumped after every change.
    version: watch::Sender<u64>,
}

impl NodePods {
    fn empty(complete: bool) -> Self {
        Self {
            shared: Arc::new(View {
                pods: RwLock::new(HashMap::new()),
                complete: AtomicBool::new(complete),
                version: watch::Sender::new(0),
            }),
        }
    }

    /// The node's own watch of the pods bound to `node_name` (managed fields dropped: no agent
    /// path reads them). The watch stops once every handle is dropped.
    pub fn watch(client: Client, node_name: &str) -> Self {
        let view = Self::empty(false);
        let weak = Arc::downgrade(&view.shared);
        let selector = format!("spec.nodeName={node_name}");
        let stream = watcher(
            Api::<Pod>::all(client),
            watcher::Config::default().fields(&selector),
        )
        .default_backoff();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            let mut listing: HashMap<String, Arc<Pod>> = HashMap::new();
            while let Some(event) = stream.next().await {
                let Some(shared) = weak.upgrade() else { return };
                let view = NodePods { shared };
                match event {
                    Ok(watcher::Event::Apply(pod)) => view.insert(pod),
                    Ok(watcher::Event::Delete(pod)) => view.remove(&pod),
                    Ok(watcher::Event::Init) => listing.clear(),
                    Ok(watcher::Event::InitApply(pod)) => {
                        let pod = stripped(pod);
                        listing.insert(uid(&pod), Arc::new(pod));
                    }
                    Ok(watcher::Event::InitDone) => view.replace(std::mem::take(&mut listing)),
                    Err(e) => tracing::debug!(error = %e, "node pod watch error"),
                }
            }
        });
        view
    }

    /// Every cached pod of the node.
    pub fn state(&self) -> Vec<Arc<Pod>> {
        read(&self.shared.pods).values().cloned().collect()
    }

    /// Whether the cache holds every pod of the node (only a complete view may tear down pods
    /// that look gone).
    pub fn is_complete(&self) -> bool {
        self.shared.complete.load(Ordering::Acquire)
    }

    /// Yields once after each change (or batch of changes) from now on.
    pub fn changes(&self) -> WatchStream<u64> {
        WatchStream::from_changes(self.shared.version.subscribe())
    }

    fn insert(&self, pod: Pod) {
        self.insert_shared(Arc::new(stripped(pod)));
    }

    fn insert_shared(&self, pod: Arc<Pod>) {
        write(&self.shared.pods).insert(uid(&pod), pod);
        self.bump();
    }

    fn remove(&self, pod: &Pod) {
        write(&self.shared.pods).remove(&uid(pod));
        self.bump();
    }

    fn replace(&self, pods: HashMap<String, Arc<Pod>>) {
        *write(&self.shared.pods) = pods;
        self.mark_complete();
    }

    fn mark_complete(&self) {
        self.shared.complete.store(true, Ordering::Release);
        self.bump();
    }

    fn bump(&self) {
        self.shared.version.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// The pods of every node of a process, dispatched from one shared pod informer.
pub struct NodePodsHub {
    views: Mutex<HashMap<String, NodePods>>,
    /// The informer's first list has been dispatched: new views start complete.
    complete: AtomicBool,
}

impl NodePodsHub {
    /// Starts dispatching the pods of `informers` by node (within the current Tokio runtime).
    pub fn start(informers: &Informers) -> Arc<Self> {
        Self::dispatching(informers.get::<Pod>())
    }

    /// Starts dispatching `informer`'s pods by node.
    fn dispatching(informer: Informer<Pod>) -> Arc<Self> {
        let hub = Arc::new(Self {
            views: Mutex::new(HashMap::new()),
            complete: AtomicBool::new(false),
        });
        tokio::spawn(dispatch(Arc::downgrade(&hub), informer));
        hub
    }

    /// The pods bound to `node_name`.
    pub fn node(&self, node_name: &str) -> NodePods {
        let mut views = lock(&self.views);
        views
            .entry(node_name.to_string())
            .or_insert_with(|| NodePods::empty(self.complete.load(Ordering::Acquire)))
            .clone()
    }

    fn route(&self, change: Change<Pod>) {
        let pod = change.object();
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
            return;
        };
        let view = self.node(node);
        match change {
            Change::Applied(pod) => view.insert_shared(pod),
            Change::Deleted(pod) => view.remove(&pod),
        }
    }

    fn mark_complete(&self) {
        let views = lock(&self.views);
        self.complete.store(true, Ordering::Release);
        for view in views.values() {
            view.mark_complete();
        }
    }
}

/// Routes every change of `informer` to its node's view until the hub is dropped.
async fn dispatch(hub: Weak<NodePodsHub>, informer: Informer<Pod>) {
    informer.synced().await;
    // Subscribing after the first list queues every cached pod at once: dispatching what is
    // queued completes every view.
    let mut changes = informer.subscribe();
    {
        let Some(hub) = hub.upgrade() else { return };
        while let Some(Some(change)) = changes.next().now_or_never() {
            hub.route(change);
        }
        hub.mark_complete();
    }
    while let Some(change) = changes.next().await {
        let Some(hub) = hub.upgrade() else { return };
        hub.route(change);
    }
}

fn stripped(mut pod: Pod) -> Pod {
    pod.metadata.managed_fields = None;
    pod
}

fn uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
