//! The assumed-pod cache: pods the binder has placed (bound, or waiting for their volumes to
//! be bound) but that the watch does not show on a node yet, so that pods scheduled in quick
//! succession see each other (anti-affinity and spreading across a StatefulSet created in
//! `Parallel` depend on it). Pure: callers pass the clock in.

use k8s_openapi::api::core::v1::Pod;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a bound pod stays assumed when the watch never shows its binding.
pub const BOUND_TTL: Duration = Duration::from_secs(30);
/// How long a pod waiting for its volumes to be bound stays assumed (`bindTimeoutSeconds`).
pub const VOLUME_WAIT_TTL: Duration = Duration::from_secs(600);

/// One assumed pod.
#[derive(Debug, Clone)]
pub struct Assumed {
    /// The node it was placed on.
    pub node: String,
    /// The pod as it was scheduled.
    pub pod: Arc<Pod>,
    /// When it was assumed.
    pub since: Instant,
    /// Whether it waits for its delayed-binding claims (not bound to the node yet).
    pub waiting_for_volumes: bool,
}

/// The cache, keyed by pod UID (or `namespace/name` without one).
#[derive(Debug, Clone, Default)]
pub struct AssumedPods {
    entries: HashMap<String, Assumed>,
}

/// The cache key of a pod.
pub fn key(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_else(|| {
        format!(
            "{}/{}",
            pod.metadata.namespace.as_deref().unwrap_or(""),
            pod.metadata.name.as_deref().unwrap_or("")
        )
    })
}

fn bound_node(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

impl AssumedPods {
    /// Assumes `pod` on `node` from `now` (an entry for the same node and state keeps its
    /// original time, so re-assuming a pod that waits for its volumes does not extend its TTL).
    pub fn assume(&mut self, pod: Arc<Pod>, node: &str, waiting_for_volumes: bool, now: Instant) {
        let since = self
            .entries
            .get(&key(&pod))
            .filter(|a| a.node == node && a.waiting_for_volumes == waiting_for_volumes)
            .map_or(now, |a| a.since);
        self.entries.insert(
            key(&pod),
            Assumed {
                node: node.to_string(),
                pod,
                since,
                waiting_for_volumes,
            },
        );
    }

    /// The entry of `pod`, if assumed.
    pub fn get(&self, pod: &Pod) -> Option<&Assumed> {
        self.entries.get(&key(pod))
    }

    /// Forgets `pod`.
    pub fn forget(&mut self, pod: &Pod) {
        self.entries.remove(&key(pod));
    }

    /// Drops entries the watch has caught up with (the pod is bound, or gone from `current`)
    /// and entries older than their time to live.
    pub fn reconcile<'p>(&mut self, current: impl IntoIterator<Item = &'p Pod>, now: Instant) {
        let live: HashMap<String, &Pod> = current.into_iter().map(|p| (key(p), p)).collect();
        self.entries.retain(|k, a| {
            let Some(pod) = live.get(k) else {
                return false;
            };
            let ttl = if a.waiting_for_volumes {
                VOLUME_WAIT_TTL
            } else {
                BOUND_TTL
            };
            bound_node(pod).is_none()
                && pod.metadata.deletion_timestamp.is_none()
                && now.duration_since(a.since) < ttl
        });
    }

    /// Every assumed pod with its node.
    pub fn iter(&self) -> impl Iterator<Item = &Assumed> {
        self.entries.values()
    }
}

#[cfg(test)]
mod tests;
