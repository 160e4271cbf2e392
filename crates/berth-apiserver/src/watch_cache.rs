//! The watch cache, Kubernetes' `Cacher` in small: one [`Hub`] per served resource type keeps
//! every object of the type decoded once (its JSON as served and the [`SelectorAttrs`] that
//! label and field selectors read), follows the store's events for the type, and hands each
//! event, decoded once, to the watchers that can want it.
//!
//! What it buys: a store event costs one decode however many clients watch the type, a
//! watcher with `spec.nodeName=<node>` (every kubelet's pod watch) is woken only for pods of
//! its node (Kubernetes' indexed trigger for pods), and a LIST evaluates selectors on the
//! cached attributes and copies the cached JSON instead of decoding every stored object.
//!
//! Consistency rules:
//! - a hub starts from a full list of its type at some revision and applies the store's
//!   events after it in order, so its objects are exactly the store's as of
//!   [`Watchers::dispatched`];
//! - LIST keeps reading the store (consistent at its revision) and only borrows a cached
//!   object whose revision is the one the store returned, so a lagging hub never serves a
//!   stale object;
//! - a watcher registers under the same lock that dispatch takes, at revision `D`: every
//!   event after `D` reaches its channel; events between its start revision and `D` come
//!   from the store's history ([`berth_store::Store::events_since`]); revisions it has seen
//!   are skipped, so each event is delivered once.

use crate::lifecycle;
use berth_api::registry::ResourceType;
use berth_api::selector::{FieldSelector, SelectorAttrs};
use berth_api::status::ApiError;
use berth_store::{EventKind, KeyValue, Store, StoreError, WatchEvent};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;

mod served_json;
pub(crate) use served_json::ServedJson;

/// Events a watcher may fall behind by before it is closed (its client re-watches from the
/// last revision it saw, as after any closed watch). Slots are allocated only when used.
const WATCHER_BUFFER: usize = 65_536;

/// The field whose exact value in a watch's field selector picks the watchers an event goes
/// to (Kubernetes' `pod.NodeNameTriggerFunc`): pods by node.
fn trigger_field(rt: &ResourceType) -> Option<&'static str> {
    (rt.group.is_empty() && rt.kind == "Pod").then_some("spec.nodeName")
}

/// One object as the cache keeps it.
#[derive(Debug)]
pub(crate) struct CachedObject {
    /// Its store key.
    pub key: Arc<str>,
    /// The revision it is rendered at (its `metadata.resourceVersion`).
    pub revision: u64,
    /// The object as served: converted from storage, `resourceVersion` set, JSON (sharing
    /// the store's value where it can, [`ServedJson`]).
    pub json: ServedJson,
    /// What selectors read ([`SelectorAttrs`]).
    pub attrs: SelectorAttrs,
}

impl CachedObject {
    /// Decodes a stored value once.
    pub(crate) fn build(rt: &ResourceType, kv: &KeyValue) -> Result<Self, ApiError> {
        let obj = lifecycle::decode(rt, kv)?;
        let json =
            serde_json::to_vec(&obj).map_err(|e| ApiError::internal(format!("encoding {}: {e}", kv.key)))?;
        Ok(Self {
            key: kv.key.clone(),
            revision: kv.mod_revision,
            json: ServedJson::new(&kv.value, json, kv.mod_revision),
            attrs: SelectorAttrs::of(rt, &obj),
        })
    }

    /// The whole object, decoded again (for Table, YAML and metadata-only answers).
    pub(crate) fn value(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(&self.json.to_vec())
            .map_err(|e| ApiError::internal(format!("cached object {} is corrupt: {e}", self.key)))
    }

    fn trigger(&self, field: Option<&str>) -> Option<&str> {
        Some(self.attrs.field(field?))
    }
}

/// One store event with its objects decoded.
#[derive(Debug)]
pub(crate) struct CachedEvent {
    pub kind: EventKind,
    pub revision: u64,
    /// The new object (for a delete: the last state, at the deletion's revision).
    pub object: Arc<CachedObject>,
    /// The object before the change (absent for a create).
    pub prev: Option<Arc<CachedObject>>,
}

/// What a watcher's channel carries.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// An event of the type.
    Event(Arc<CachedEvent>),
    /// Every event up to this revision has been sent (for bookmarks).
    Progress(u64),
    /// The hub lost its place in the store's history; the watcher must end with 410.
    Expired,
}

struct Entry {
    /// The store-key prefix of the watcher's namespace, if it watches one.
    namespace_prefix: Option<String>,
    tx: mpsc::Sender<Item>,
}

impl Entry {
    fn wants(&self, ev: &CachedEvent) -> bool {
        self.namespace_prefix
            .as_deref()
            .is_none_or(|p| ev.object.key.starts_with(p))
    }
}

/// The registered watchers of one hub.
#[derive(Default)]
struct Watchers {
    /// Every event with a revision up to this one has been dispatched.
    dispatched: u64,
    next_id: u64,
    untriggered: HashMap<u64, Entry>,
    by_trigger: HashMap<String, HashMap<u64, Entry>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The cache of one served resource type.
pub(crate) struct Hub {
    rt: &'static ResourceType,
    trigger: Option<&'static str>,
    objects: RwLock<HashMap<Arc<str>, Arc<CachedObject>>>,
    watchers: Mutex<Watchers>,
}

/// A watcher's registration; dropping it unregisters.
pub(crate) struct Subscription {
    hub: Arc<Hub>,
    id: u64,
    trigger: Option<String>,
    /// The revision the hub had dispatched when the watcher registered.
    pub registered_at: u64,
    pub rx: mpsc::Receiver<Item>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut w = lock(&self.hub.watchers);
        match &self.trigger {
            None => {
                w.untriggered.remove(&self.id);
            }
            Some(t) => {
                if let Some(set) = w.by_trigger.get_mut(t) {
                    set.remove(&self.id);
                    if set.is_empty() {
                        w.by_trigger.remove(t);
                    }
                }
            }
        }
    }
}

impl Hub {
    /// The cached object for a stored value, when the cache has it at that revision; else
    /// decoded now (not cached: the hub's own events keep the cache).
    pub(crate) fn object(&self, kv: &KeyValue) -> Result<Arc<CachedObject>, ApiError> {
        if let Some(o) = self.cached(kv) {
            return Ok(o);
        }
        CachedObject::build(self.rt, kv).map(Arc::new)
    }

    fn cached(&self, kv: &KeyValue) -> Option<Arc<CachedObject>> {
        let objects = self.objects.read().unwrap_or_else(PoisonError::into_inner);
        objects
            .get(&kv.key)
            .filter(|o| o.revision == kv.mod_revision)
            .cloned()
    }

    /// The objects of many stored values, holding the cache's lock once.
    pub(crate) fn objects(&self, kvs: &[KeyValue]) -> Result<Vec<Arc<CachedObject>>, ApiError> {
        let mut out: Vec<Option<Arc<CachedObject>>> = {
            let objects = self.objects.read().unwrap_or_else(PoisonError::into_inner);
            kvs.iter()
                .map(|kv| {
                    objects
                        .get(&kv.key)
                        .filter(|o| o.revision == kv.mod_revision)
                        .cloned()
                })
                .collect()
        };
        for (slot, kv) in out.iter_mut().zip(kvs) {
            if slot.is_none() {
                *slot = Some(Arc::new(CachedObject::build(self.rt, kv)?));
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// A store event with its objects, from the cache where it has them.
    pub(crate) fn event(&self, ev: &WatchEvent) -> Result<CachedEvent, ApiError> {
        let object = match ev.kind {
            EventKind::Deleted => Arc::new(CachedObject::build(self.rt, &ev.kv)?),
            _ => self.object(&ev.kv)?,
        };
        let prev = match &ev.prev {
            Some(p) => Some(self.object(p)?),
            None => None,
        };
        Ok(CachedEvent {
            kind: ev.kind,
            revision: ev.revision(),
            object,
            prev,
        })
    }

    /// Registers a watcher of `namespace_prefix` (all namespaces when `None`) with field
    /// selector `fields`; when that demands one value of the type's trigger field, only
    /// events of objects with that value (before or after the change) reach it.
    pub(crate) fn subscribe(
        self: &Arc<Self>,
        namespace_prefix: Option<String>,
        fields: &FieldSelector,
    ) -> Subscription {
        let trigger = self
            .trigger
            .and_then(|f| fields.requires_exact_match(f))
            .map(str::to_string);
        let (tx, rx) = mpsc::channel(WATCHER_BUFFER);
        let entry = Entry { namespace_prefix, tx };
        let mut w = lock(&self.watchers);
        let id = w.next_id;
        w.next_id += 1;
        match &trigger {
            None => {
                w.untriggered.insert(id, entry);
            }
            Some(t) => {
                w.by_trigger.entry(t.clone()).or_default().insert(id, entry);
            }
        }
        Subscription {
            hub: self.clone(),
            id,
            trigger,
            registered_at: w.dispatched,
            rx,
        }
    }

    /// Applies one event to the cache and hands it to the watchers that may want it. A
    /// watcher whose buffer is full is dropped (its watch ends; the client re-watches).
    fn dispatch(&self, ev: CachedEvent) {
        {
            let mut objects = self.objects.write().unwrap_or_else(PoisonError::into_inner);
            match ev.kind {
                EventKind::Deleted => {
                    objects.remove(&ev.object.key);
                }
                _ => {
                    objects.insert(ev.object.key.clone(), ev.object.clone());
                }
            }
        }
        let revision = ev.revision;
        let now = ev.object.trigger(self.trigger).map(str::to_string);
        let before = ev
            .prev
            .as_ref()
            .and_then(|p| p.trigger(self.trigger))
            .map(str::to_string);
        let ev = Arc::new(ev);
        let mut w = lock(&self.watchers);
        let send = |entries: &mut HashMap<u64, Entry>| {
            entries.retain(|_, e| {
                if !e.wants(&ev) {
                    return !e.tx.is_closed();
                }
                e.tx.try_send(Item::Event(ev.clone())).is_ok()
            });
        };
        send(&mut w.untriggered);
        let mut targets = vec![now];
        if before != targets[0] {
            targets.push(before);
        }
        for t in targets.into_iter().flatten() {
            if let Some(set) = w.by_trigger.get_mut(&t) {
                send(set);
            }
        }
        w.dispatched = revision;
    }

    /// Marks every revision up to `revision` as dispatched and tells the watchers.
    fn progress(&self, revision: u64) {
        let mut w = lock(&self.watchers);
        if revision <= w.dispatched {
            return;
        }
        w.dispatched = revision;
        let item = Item::Progress(revision);
        w.untriggered.retain(|_, e| e.tx.try_send(item.clone()).is_ok());
        for set in w.by_trigger.values_mut() {
            set.retain(|_, e| e.tx.try_send(item.clone()).is_ok());
        }
    }

    /// Ends every watcher with `Expired` (the hub's place in history is lost).
    fn expire_all(&self, revision: u64) {
        let mut w = lock(&self.watchers);
        for e in w.untriggered.values() {
            let _ = e.tx.try_send(Item::Expired);
        }
        for set in w.by_trigger.values() {
            for e in set.values() {
                let _ = e.tx.try_send(Item::Expired);
            }
        }
        w.untriggered.clear();
        w.by_trigger.clear();
        w.dispatched = w.dispatched.max(revision);
    }
}

/// A resource type's identity: group, version, plural.
type TypeKey = (&'static str, &'static str, &'static str);

/// Every hub of one API server.
pub(crate) struct WatchCache {
    store: Arc<dyn Store>,
    progress_interval: Duration,
    hubs: Mutex<HashMap<TypeKey, Arc<Hub>>>,
}

impl WatchCache {
    pub(crate) fn new(store: Arc<dyn Store>, progress_interval: Duration) -> Self {
        Self {
            store,
            progress_interval,
            hubs: Mutex::new(HashMap::new()),
        }
    }

    /// The hub of `rt`, started on first use (a full list of the type, then its events).
    /// Must be called within a Tokio runtime.
    pub(crate) fn hub(&self, rt: &'static ResourceType) -> Result<Arc<Hub>, ApiError> {
        let mut hubs = lock(&self.hubs);
        if let Some(h) = hubs.get(&(rt.group, rt.version, rt.plural)) {
            return Ok(h.clone());
        }
        let prefix = crate::keys::collection_prefix(rt, None);
        let page = self
            .store
            .list(&prefix, None, 0, None)
            .map_err(|e| crate::error::store_failure(e).0)?;
        let mut objects = HashMap::with_capacity(page.items.len());
        for kv in &page.items {
            objects.insert(kv.key.clone(), Arc::new(CachedObject::build(rt, kv)?));
        }
        let hub = Arc::new(Hub {
            rt,
            trigger: trigger_field(rt),
            objects: RwLock::new(objects),
            watchers: Mutex::new(Watchers {
                dispatched: page.revision,
                ..Watchers::default()
            }),
        });
        let stream = self
            .store
            .watch(&prefix, page.revision)
            .map_err(|e| crate::error::store_failure(e).0)?;
        tokio::spawn(follow(
            hub.clone(),
            self.store.clone(),
            prefix,
            stream,
            self.progress_interval,
        ));
        hubs.insert((rt.group, rt.version, rt.plural), hub.clone());
        Ok(hub)
    }
}

/// The hub's task: applies the store's events of the type in order; when idle, advances the
/// dispatched revision to the store's (no event of the type is pending up to it).
async fn follow(
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    prefix: String,
    mut stream: berth_store::WatchStream,
    progress_interval: Duration,
) {
    let mut ticker = tokio::time::interval(progress_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = tokio::select! {
            ev = stream.next() => ev,
            _ = ticker.tick() => {
                // Every event up to `current` has been broadcast before the store advanced
                // its revision; once none waits for us, we are caught up to it.
                let current = store.current_revision();
                match stream.try_next() {
                    Ok(None) => {
                        hub.progress(current);
                        continue;
                    }
                    Ok(Some(ev)) => Some(Ok(ev)),
                    Err(e) => Some(Err(e)),
                }
            }
        };
        match next {
            None | Some(Err(StoreError::Closed)) => return,
            Some(Ok(ev)) => match hub.event(&ev) {
                Ok(cached) => hub.dispatch(cached),
                Err(e) => tracing::warn!(error = %e.message, "watch cache: undecodable event skipped"),
            },
            Some(Err(_)) => {
                // Fell behind the live events: pick up again from the history, or, when that
                // is gone too, end every watcher with 410 and start over from now.
                let from = lock(&hub.watchers).dispatched;
                match store.watch(&prefix, from) {
                    Ok(s) => stream = s,
                    Err(_) => {
                        let now = store.current_revision();
                        tracing::warn!(prefix = %prefix, from, now, "watch cache fell behind the store's history; watchers must re-list");
                        let Ok(page) = store.list(&prefix, None, 0, None) else {
                            continue;
                        };
                        {
                            let mut objects = hub.objects.write().unwrap_or_else(PoisonError::into_inner);
                            objects.clear();
                            for kv in &page.items {
                                if let Ok(o) = CachedObject::build(hub.rt, kv) {
                                    objects.insert(kv.key.clone(), Arc::new(o));
                                }
                            }
                        }
                        hub.expire_all(page.revision);
                        match store.watch(&prefix, page.revision) {
                            Ok(s) => stream = s,
                            Err(e) => {
                                tracing::error!(error = %e, "watch cache cannot follow the store");
                                return;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
