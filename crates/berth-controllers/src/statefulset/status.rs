//! Status (items 76–85, 87): replica counts (`computeReplicaStatus`), rollout completion
//! (`completeRollingUpdate`), whether a write is needed (`inconsistentStatus`), and the
//! minReadySeconds requeue.

use super::pods::PodState;
use super::spec::SetView;
use k8s_openapi::api::apps::v1::StatefulSetStatus;
use std::time::Duration;

/// The counted part of the status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Pods with a phase (item 77).
    pub replicas: i32,
    /// Running and Ready (item 78).
    pub ready: i32,
    /// Ready for minReadySeconds (item 79).
    pub available: i32,
    /// Created, not terminating, at the current revision (item 80).
    pub current: i32,
    /// Created, not terminating, at the update revision (item 80).
    pub updated: i32,
}

impl Counts {
    /// Counts one pod of `computeReplicaStatus` (the planner adds every member of the set).
    pub fn add(&mut self, pod: &PodState) {
        if pod.created {
            self.replicas += 1;
        }
        if pod.running_and_ready {
            self.ready += 1;
            if pod.available {
                self.available += 1;
            }
        }
        if pod.created && !pod.terminating {
            if pod.at_current {
                self.current += 1;
            }
            if pod.at_update {
                self.updated += 1;
            }
        }
    }
}

/// Builds the new status, applies rollout completion (item 81; also for OnDelete, as upstream
/// does since PR #136833, item 73) and keeps the existing `conditions` (item 84).
pub fn build(
    set: &SetView,
    old: Option<&StatefulSetStatus>,
    counts: Counts,
    current: &str,
    update: &str,
    collision_count: i32,
) -> StatefulSetStatus {
    let mut s = StatefulSetStatus {
        observed_generation: Some(set.generation),
        replicas: counts.replicas,
        ready_replicas: Some(counts.ready),
        available_replicas: Some(counts.available),
        current_replicas: Some(counts.current),
        updated_replicas: Some(counts.updated),
        current_revision: Some(current.to_string()),
        update_revision: Some(update.to_string()),
        collision_count: Some(collision_count),
        conditions: old.and_then(|o| o.conditions.clone()),
    };
    let spec_replicas = i32::try_from(set.replicas).unwrap_or(i32::MAX);
    if counts.updated == spec_replicas && counts.ready == spec_replicas && counts.replicas == spec_replicas {
        s.current_replicas = Some(counts.updated);
        s.current_revision = Some(update.to_string());
    }
    s
}

/// `inconsistentStatus` (item 85): whether `new` must be written over `old`. Berth also writes
/// when only `collisionCount` changed.
pub fn needs_write(old: Option<&StatefulSetStatus>, new: &StatefulSetStatus) -> bool {
    let Some(old) = old else { return true };
    let n = |v: Option<i32>| v.unwrap_or(0);
    new.observed_generation.unwrap_or(0) > old.observed_generation.unwrap_or(0)
        || new.replicas != old.replicas
        || n(new.current_replicas) != n(old.current_replicas)
        || n(new.ready_replicas) != n(old.ready_replicas)
        || n(new.updated_replicas) != n(old.updated_replicas)
        || n(new.available_replicas) != n(old.available_replicas)
        || new.current_revision.as_deref().unwrap_or("") != old.current_revision.as_deref().unwrap_or("")
        || new.update_revision.as_deref().unwrap_or("") != old.update_revision.as_deref().unwrap_or("")
        || new.collision_count != old.collision_count
}

/// The controller's requeue (item 87): after `minReadySeconds` while fewer than `spec.replicas`
/// pods are available.
pub fn requeue(set: &SetView, status: &StatefulSetStatus) -> Option<Duration> {
    let secs = u64::try_from(set.min_ready_seconds).ok().filter(|s| *s > 0)?;
    (i64::from(status.available_replicas.unwrap_or(0)) != set.replicas).then(|| Duration::from_secs(secs))
}
