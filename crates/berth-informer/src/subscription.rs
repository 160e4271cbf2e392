//! A subscriber's queue of changes, coalesced per object.
//!
//! Why: a plain channel holds every version of an object a slow subscriber has not read yet.
//! In a creation storm (100,000 pods, each created, bound, started and made Ready) a consumer
//! busy with a long pass would pin four typed copies of every pod, each about 10 KB; the
//! informer's cache holds one. Here a pending change is replaced by the next change of the
//! same object, so a subscriber's backlog holds at most one entry per object, and that entry
//! (for an `Applied`) is the cached object itself, not a copy.
//!
//! Ordering: changes come out in the order their objects first became pending. An object is
//! keyed by namespace, name and uid, so a deletion followed by a re-creation under the same
//! name are two entries, the deletion first, and a consumer that tracks objects by uid (the
//! garbage collector) still learns of the deletion. Every consumer is level-triggered: it
//! reads the latest state from the cache, which is updated before any change is queued.

use crate::{Change, Object};
use futures::task::AtomicWaker;
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

/// What identifies one object's pending change: namespace, name and uid.
type ObjectKey = Arc<(String, String, String)>;

/// The key of the object `change` is about.
pub(crate) fn key_of<K: Object>(change: &Change<K>) -> ObjectKey {
    let meta = change.object().meta();
    Arc::new((
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
        meta.uid.clone().unwrap_or_default(),
    ))
}

struct Pending<K> {
    /// Keys in the order their objects became pending; each key appears once.
    order: VecDeque<ObjectKey>,
    /// The latest change of each pending object.
    changes: HashMap<ObjectKey, Change<K>>,
    /// The subscriber was dropped: nothing more is queued.
    unsubscribed: bool,
    /// The informer is gone: the stream ends once drained.
    ended: bool,
}

struct Queue<K> {
    pending: Mutex<Pending<K>>,
    waker: AtomicWaker,
}

impl<K> Queue<K> {
    fn lock(&self) -> MutexGuard<'_, Pending<K>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The informer's end of one subscription.
pub(crate) struct Publisher<K> {
    queue: Arc<Queue<K>>,
}

impl<K> Publisher<K> {
    /// Queues `change` of the object `key`, replacing a pending change of the same object;
    /// `false` once the subscriber is gone.
    pub(crate) fn publish(&self, key: ObjectKey, change: Change<K>) -> bool {
        {
            let mut pending = self.queue.lock();
            if pending.unsubscribed {
                return false;
            }
            if pending.changes.insert(key.clone(), change).is_none() {
                pending.order.push_back(key);
            }
        }
        self.queue.waker.wake();
        true
    }
}

impl<K> Drop for Publisher<K> {
    fn drop(&mut self) {
        self.queue.lock().ended = true;
        self.queue.waker.wake();
    }
}

/// A subscriber's stream of changes ([`crate::Informer::subscribe`]).
pub struct Subscription<K> {
    queue: Arc<Queue<K>>,
}

impl<K> Subscription<K> {
    /// How many objects have a change waiting.
    pub fn pending(&self) -> usize {
        self.queue.lock().order.len()
    }
}

impl<K> Drop for Subscription<K> {
    fn drop(&mut self) {
        let mut pending = self.queue.lock();
        pending.unsubscribed = true;
        pending.order.clear();
        pending.changes.clear();
    }
}

impl<K> futures::Stream for Subscription<K> {
    type Item = Change<K>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Change<K>>> {
        // Register before looking, so a change queued in between wakes this task.
        self.queue.waker.register(cx.waker());
        let mut pending = self.queue.lock();
        while let Some(key) = pending.order.pop_front() {
            if let Some(change) = pending.changes.remove(&key) {
                return Poll::Ready(Some(change));
            }
        }
        if pending.ended {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}

/// A new subscription: the informer keeps the publisher, the subscriber the stream.
pub(crate) fn channel<K>() -> (Publisher<K>, Subscription<K>) {
    let queue = Arc::new(Queue {
        pending: Mutex::new(Pending {
            order: VecDeque::new(),
            changes: HashMap::new(),
            unsubscribed: false,
            ended: false,
        }),
        waker: AtomicWaker::new(),
    });
    (Publisher { queue: queue.clone() }, Subscription { queue })
}
