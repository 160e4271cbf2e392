//! Shared informers, client-go's `SharedInformerFactory` for Berth's in-process controllers:
//! one watch and one cache per resource type, however many controllers read the type.
//!
//! Why: every controller used to run its own reflector, so a pod was decoded and held once per
//! controller (the scheduler, the StatefulSet, endpoint, slice, volume, protection and quota
//! controllers), about 10 KB each. With [`Informers`] it is held once, and every event is
//! decoded once.
//!
//! What it guarantees a subscriber (the rules a reflector gave each controller before):
//! - the cache ([`Informer::store`]) is updated before the change is sent, so a consumer woken
//!   by a change never reads an older object than the change;
//! - a subscriber that joins late first receives every cached object as [`Change::Applied`];
//! - after the watch re-lists (a reconnect past the server's history), subscribers receive the
//!   difference: objects that are new or changed as `Applied`, objects that vanished as
//!   [`Change::Deleted`] (a plain reflector forgets those silently);
//! - [`Informer::controlled_by`] answers from an index kept in step with the cache;
//! - `managedFields` are stripped before caching (Kubernetes' controller manager and scheduler
//!   do the same with `TransformStripManagedFields`): no controller reads them.
//!
//! Everything still goes through the API: an informer is a `watch` like any client's. A
//! controller run as its own process builds its own [`Informers`] from its client.
//!
//! [`memo`] keeps values derived from cached objects while an object is unchanged.

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::mpsc;

pub mod memo;
mod subscription;
use subscription::Publisher;
pub use subscription::Subscription;

/// What an informer can cache: a typed, cluster-wide listable Kubernetes object.
pub trait Object:
    Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
}

impl<K> Object for K where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
}

/// One change a subscriber is told about.
#[derive(Debug)]
pub enum Change<K> {
    /// The object was created or changed (or was already cached when the subscriber joined).
    Applied(Arc<K>),
    /// The object was deleted (its last state).
    Deleted(Arc<K>),
}

impl<K> Change<K> {
    /// The object the change is about.
    pub fn object(&self) -> &Arc<K> {
        match self {
            Change::Applied(o) | Change::Deleted(o) => o,
        }
    }

    /// The object, owned.
    pub fn into_object(self) -> Arc<K> {
        match self {
            Change::Applied(o) | Change::Deleted(o) => o,
        }
    }
}

/// The informers of one client, started on first use.
pub struct Informers {
    client: Client,
    started: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl Informers {
    /// Informers reading through `client`; nothing is watched until [`Informers::get`].
    pub fn new(client: Client) -> Self {
        Self {
            client,
            started: Mutex::new(HashMap::new()),
        }
    }

    /// The client the informers watch with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The informer of `K`, watching every namespace; started (within the current Tokio
    /// runtime) the first time it is asked for.
    pub fn get<K: Object>(&self) -> Informer<K> {
        let mut started = lock(&self.started);
        if let Some(existing) = started
            .get(&TypeId::of::<K>())
            .and_then(|b| b.downcast_ref::<Informer<K>>())
        {
            return existing.clone();
        }
        let informer = Informer::<K>::detached();
        tokio::spawn(informer.clone().follow(Api::<K>::all(self.client.clone())));
        started.insert(TypeId::of::<K>(), Box::new(informer.clone()));
        informer
    }
}

/// One type's cache and its subscribers.
pub struct Informer<K: Object> {
    shared: Arc<Shared<K>>,
}

impl<K: Object> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

struct Shared<K: Object> {
    reader: Store<K>,
    /// Whether the first list has completed, for any number of waiters (kube's
    /// `Store::wait_until_ready` wakes only the last task that polled it, so two controllers
    /// waiting on one shared store would leave the first asleep for ever).
    synced: tokio::sync::watch::Sender<bool>,
    index: RwLock<Index<K>>,
    state: Mutex<State<K>>,
}

/// The cached objects by namespace and controller: (namespace, the uid of the owner
/// reference with `controller: true`, "" for none) to name to object. Kept in step with the
/// cache, so a controller finds the objects it owns (and the orphans it may adopt) without a
/// scan of the whole type.
struct Index<K> {
    by_controller: HashMap<(String, String), HashMap<String, Arc<K>>>,
}

impl<K: Object> Index<K> {
    fn key(obj: &K) -> ((String, String), String) {
        let meta = obj.meta();
        let controller = meta
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true))
            .map(|r| r.uid.clone())
            .unwrap_or_default();
        (
            (meta.namespace.clone().unwrap_or_default(), controller),
            meta.name.clone().unwrap_or_default(),
        )
    }

    fn remove(&mut self, obj: &K) {
        let (group, name) = Self::key(obj);
        if let Some(members) = self.by_controller.get_mut(&group) {
            members.remove(&name);
            if members.is_empty() {
                self.by_controller.remove(&group);
            }
        }
    }

    fn insert(&mut self, obj: Arc<K>) {
        let (group, name) = Self::key(&obj);
        self.by_controller.entry(group).or_default().insert(name, obj);
    }
}

struct State<K: Object> {
    writer: Writer<K>,
    /// Whether the first list has completed (the cache holds the whole type).
    synced: bool,
    subscribers: Vec<Publisher<K>>,
}

impl<K: Object> State<K> {
    fn send(&mut self, change: impl Fn() -> Change<K>) {
        if self.subscribers.is_empty() {
            return;
        }
        let key = subscription::key_of(&change());
        self.subscribers.retain(|s| s.publish(key.clone(), change()));
    }
}

impl<K: Object> Informer<K> {
    /// An informer fed by [`Informer::apply`] only (no watch of its own).
    pub fn detached() -> Self {
        let writer = Writer::<K>::default();
        Self {
            shared: Arc::new(Shared {
                reader: writer.as_reader(),
                synced: tokio::sync::watch::Sender::new(false),
                index: RwLock::new(Index {
                    by_controller: HashMap::new(),
                }),
                state: Mutex::new(State {
                    writer,
                    synced: false,
                    subscribers: Vec::new(),
                }),
            }),
        }
    }

    /// The cache: every object of the type as of the last change sent.
    ///
    /// Wait for it with [`Informer::synced`], never with `Store::wait_until_ready`: the store
    /// is shared, and kube's readiness signal wakes only one of several waiting tasks.
    pub fn store(&self) -> Store<K> {
        self.shared.reader.clone()
    }

    /// Returns once the first list has completed (at once after that), however many tasks
    /// wait at the same time.
    pub async fn synced(&self) {
        let mut rx = self.shared.synced.subscribe();
        // The sender lives as long as `self`, so the wait cannot fail.
        let _ = rx.wait_for(|synced| *synced).await;
    }

    /// The cached objects of `namespace` whose controller (the owner reference with
    /// `controller: true`) has `uid`; with `uid` "" the objects there without a controller.
    pub fn controlled_by(&self, namespace: &str, uid: &str) -> Vec<Arc<K>> {
        read(&self.shared.index)
            .by_controller
            .get(&(namespace.to_string(), uid.to_string()))
            .map(|members| members.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every change from now on, preceded by every object already cached.
    ///
    /// A change still unread when the same object changes again is replaced by the newer one
    /// ([`Subscription`]), so a slow subscriber holds no old versions.
    pub fn subscribe(&self) -> Subscription<K> {
        let (publisher, subscription) = subscription::channel();
        let mut state = lock(&self.shared.state);
        if state.synced {
            for obj in self.shared.reader.state() {
                let change = Change::Applied(obj);
                publisher.publish(subscription::key_of(&change), change);
            }
        }
        state.subscribers.push(publisher);
        subscription
    }

    /// The objects of every change (for `Controller::owns_shared_stream` and friends).
    pub fn objects(&self) -> impl futures::Stream<Item = Arc<K>> + Send + 'static {
        self.subscribe().map(Change::into_object)
    }

    /// Sends `()` on `tx` for every change whose object `wanted` accepts (for controllers that
    /// re-plan from their caches on any relevant change), until `tx` closes. Returns the cache.
    pub fn notify(
        &self,
        tx: mpsc::UnboundedSender<()>,
        mut wanted: impl FnMut(&K) -> bool + Send + 'static,
    ) -> Store<K> {
        let mut changes = self.subscribe();
        tokio::spawn(async move {
            while let Some(change) = changes.next().await {
                if wanted(change.object()) && tx.send(()).is_err() {
                    return;
                }
            }
        });
        self.store()
    }

    /// Applies one watch event: the cache first, then every subscriber.
    pub fn apply(&self, mut event: watcher::Event<K>) {
        if let watcher::Event::Apply(o) | watcher::Event::InitApply(o) | watcher::Event::Delete(o) =
            &mut event
        {
            o.meta_mut().managed_fields = None;
        }
        let reader = &self.shared.reader;
        let mut state = lock(&self.shared.state);
        match &event {
            watcher::Event::Apply(obj) => {
                let key = ObjectRef::from_obj(obj);
                let previous = reader.get(&key);
                state.writer.apply_watcher_event(&event);
                let cached = reader.get(&key).unwrap_or_else(|| Arc::new(obj.clone()));
                {
                    let mut index = write(&self.shared.index);
                    if let Some(previous) = previous {
                        index.remove(&previous);
                    }
                    index.insert(cached.clone());
                }
                state.send(|| Change::Applied(cached.clone()));
            }
            watcher::Event::Delete(obj) => {
                if let Some(previous) = reader.get(&ObjectRef::from_obj(obj)) {
                    write(&self.shared.index).remove(&previous);
                }
                state.writer.apply_watcher_event(&event);
                let last = Arc::new(obj.clone());
                state.send(|| Change::Deleted(last.clone()));
            }
            watcher::Event::Init | watcher::Event::InitApply(_) => state.writer.apply_watcher_event(&event),
            watcher::Event::InitDone => {
                let before: HashMap<ObjectRef<K>, Arc<K>> = reader
                    .state()
                    .into_iter()
                    .map(|o| (ObjectRef::from_obj(o.as_ref()), o))
                    .collect();
                state.writer.apply_watcher_event(&event);
                state.synced = true;
                self.shared.synced.send_replace(true);
                let after = reader.state();
                {
                    let mut index = write(&self.shared.index);
                    index.by_controller.clear();
                    for obj in &after {
                        index.insert(obj.clone());
                    }
                }
                let mut kept = std::collections::HashSet::with_capacity(after.len());
                for obj in after {
                    let key = ObjectRef::from_obj(obj.as_ref());
                    let unchanged = before
                        .get(&key)
                        .is_some_and(|old| old.meta().resource_version == obj.meta().resource_version);
                    if !unchanged {
                        state.send(|| Change::Applied(obj.clone()));
                    }
                    kept.insert(key);
                }
                for (key, old) in before {
                    if !kept.contains(&key) {
                        state.send(|| Change::Deleted(old.clone()));
                    }
                }
            }
        }
    }

    /// Watches `api` for ever, applying every event (the watch re-lists and backs off on its
    /// own when the connection drops).
    async fn follow(self, api: Api<K>) {
        let stream = watcher(api, watcher::Config::default()).default_backoff();
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => self.apply(event),
                Err(e) => tracing::debug!(kind = %K::kind(&()), error = %e, "informer watch error"),
            }
        }
    }
}

/// Waits out a burst of changes before a consumer re-plans: takes changes from `changes`
/// until none comes for `quiet`, but for no longer than `at_most` in all, so a steady stream
/// of changes (a thousand pods being created) delays a pass by `at_most` instead of starving
/// it.
pub async fn settle<S: futures::Stream + Unpin>(quiet: Duration, at_most: Duration, changes: &mut S) {
    let deadline = tokio::time::Instant::now() + at_most;
    while let Some(wait) = next_wait(deadline, quiet) {
        if !matches!(tokio::time::timeout(wait, changes.next()).await, Ok(Some(_))) {
            return;
        }
    }
}

/// [`settle`] for a channel of changes.
pub async fn settle_channel<T>(quiet: Duration, at_most: Duration, changes: &mut mpsc::UnboundedReceiver<T>) {
    let deadline = tokio::time::Instant::now() + at_most;
    while let Some(wait) = next_wait(deadline, quiet) {
        if !matches!(tokio::time::timeout(wait, changes.recv()).await, Ok(Some(_))) {
            return;
        }
    }
}

/// How long the next wait of a settle may be; `None` once the deadline has passed.
fn next_wait(deadline: tokio::time::Instant, quiet: Duration) -> Option<Duration> {
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    (!left.is_zero()).then(|| quiet.min(left))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
