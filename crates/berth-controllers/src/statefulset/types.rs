//! The planner's inputs and outputs: [`Observed`], [`Plan`], [`Action`], [`Event`] and the
//! [`BerthExtensions`] switches.

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Everything one sync looks at. The shell fills it from its caches; the planner reads nothing else.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The StatefulSet, as stored (defaults applied by the API server).
    pub set: StatefulSet,
    /// The pods the set owns, already claimed (adopted/released) by the shell.
    pub pods: Vec<Arc<Pod>>,
    /// The ControllerRevisions the set owns (orphans already adopted by the shell).
    pub revisions: Vec<ControllerRevision>,
    /// Other ControllerRevisions in the namespace whose names a new revision could collide with
    /// (owned by someone else). May be empty: when `CreateRevision` then fails with
    /// AlreadyExists, the shell adds the existing object here on the next sync.
    pub foreign_revisions: Vec<ControllerRevision>,
    /// The PersistentVolumeClaims of the set's namespace, by name (at least those named like
    /// `<template>-<set>-<ordinal>`).
    pub claims: BTreeMap<String, Arc<PersistentVolumeClaim>>,
    /// The time used for `minReadySeconds` availability.
    pub now: Timestamp,
}

/// Switches for Berth's deliberate departures from Kubernetes. [`BerthExtensions::KUBERNETES`]
/// turns all of them off; [`Default`] turns all of them on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BerthExtensions {
    /// Plan [`Action::ExpandClaim`] when a claim template asks for more storage than an existing
    /// claim has requested.
    pub claim_template_growth: bool,
    /// With OrderedReady + RollingUpdate, replace an unready/unavailable pod that runs an old
    /// revision at or above the partition instead of waiting for it forever (k/k#67250).
    pub stuck_rollout_recovery: bool,
}

impl BerthExtensions {
    /// Exactly Kubernetes' behaviour.
    pub const KUBERNETES: Self = Self {
        claim_template_growth: false,
        stuck_rollout_recovery: false,
    };
    /// Every Berth improvement.
    pub const BERTH: Self = Self {
        claim_template_growth: true,
        stuck_rollout_recovery: true,
    };
}

impl Default for BerthExtensions {
    fn default() -> Self {
        Self::BERTH
    }
}

/// Why a pod is being deleted (for logs and tests; the API call is the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteReason {
    /// The pod is Failed or Succeeded; it is recreated on a later sync (item 52).
    Finished,
    /// The pod's ordinal is outside `[start, start+replicas)` (items 46, 49).
    Condemned,
    /// Rolling update: the pod is not at the update revision (items 65, 70).
    Update,
    /// Berth's stuck-rollout recovery (see [`BerthExtensions::stuck_rollout_recovery`]).
    StuckRollout,
}

/// One API call for the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create this ControllerRevision. On AlreadyExists the shell should re-sync with the
    /// existing object in [`Observed::foreign_revisions`].
    CreateRevision(ControllerRevision),
    /// Set `.revision` of an existing ControllerRevision (rollback to an equal older revision).
    UpdateRevision {
        /// The revision's name.
        name: String,
        /// The new `.revision` number.
        revision: i64,
    },
    /// Delete a ControllerRevision (history truncation).
    DeleteRevision(String),
    /// Create a claim for a pod.
    CreateClaim {
        /// The claim to create.
        claim: PersistentVolumeClaim,
        /// The pod it is for (events name it).
        pod: String,
    },
    /// Create a pod.
    CreatePod(Pod),
    /// Delete a pod.
    DeletePod {
        /// The pod's name.
        name: String,
        /// Its UID, usable as a delete precondition.
        uid: Option<String>,
        /// Why.
        reason: DeleteReason,
    },
    /// Replace (PUT) an existing pod whose identity labels or claim volumes were restored.
    UpdatePodIdentity(Pod),
    /// Set a claim's `metadata.ownerReferences` to exactly this list (retention policy).
    PatchClaimOwnerRefs {
        /// The claim's name.
        name: String,
        /// The pod the claim belongs to (events name it).
        pod: String,
        /// The complete new list.
        owner_references: Vec<OwnerReference>,
    },
    /// Berth: raise a claim's `spec.resources.requests.storage`. The shell applies it only when
    /// the claim's StorageClass has `allowVolumeExpansion: true`, and skips it otherwise.
    ExpandClaim {
        /// The claim's name.
        name: String,
        /// The pod the claim belongs to (events name it).
        pod: String,
        /// The new request, copied from the claim template.
        storage: String,
    },
    /// An error Kubernetes returns at this point (e.g. `pvc data-web-0 is being deleted`): the
    /// shell performs no call, treats it as a failed action and retries with backoff.
    Fail {
        /// The pod concerned.
        pod: String,
        /// The verb whose failure event Kubernetes records ("create", "update"), if any.
        verb: Option<&'static str>,
        /// The error text.
        message: String,
    },
}

/// A sequence of actions; the shell stops the task at its first failure.
pub type Task = Vec<Action>;

/// Tasks that may run concurrently. After a batch in which any task failed, the shell runs no
/// further batch (Kubernetes' `slowStartBatch` / monotonic early exit).
pub type Batch = Vec<Task>;

/// What one sync decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Revision bookkeeping, run first and in order; if one fails, the shell stops the whole
    /// sync (no pod work, no status write, no history truncation).
    pub revisions: Vec<Action>,
    /// Pod and claim work, in slow-start batches (see [`Batch`]).
    pub batches: Vec<Batch>,
    /// The status to write after the batches (even if a batch failed), or `None` if unchanged.
    /// Counts assume every planned action succeeds (Kubernetes decrements `currentReplicas` only
    /// after a successful update deletion; the next sync corrects any difference).
    pub status: Option<StatefulSetStatus>,
    /// History truncation (`DeleteRevision`), run after the status write even if a batch failed.
    pub history: Vec<Action>,
    /// Events decided while planning, independent of any action's outcome
    /// (`ConflictingController`).
    pub events: Vec<Event>,
    /// Sync again after this long (minReadySeconds availability).
    pub requeue_after: Option<Duration>,
    /// The name of the current revision this sync used.
    pub current_revision: String,
    /// The name of the update revision this sync used.
    pub update_revision: String,
}

impl Plan {
    /// Every action in execution order (revisions, batches, history).
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.revisions
            .iter()
            .chain(self.batches.iter().flatten().flatten())
            .chain(self.history.iter())
    }

    /// Whether the plan performs no API call besides a possible status write.
    pub fn is_idle(&self) -> bool {
        self.actions().next().is_none()
    }
}

/// Event type, as in `core/v1` Event `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl EventType {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// An Event to record on the StatefulSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Normal or Warning.
    pub type_: EventType,
    /// Reason, e.g. `SuccessfulCreate`.
    pub reason: String,
    /// Message, e.g. `create Pod web-0 in StatefulSet web successful`.
    pub message: String,
}

/// How an action ended, for [`Action::events`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The call succeeded.
    Succeeded,
    /// A create returned AlreadyExists (a stale cache; Kubernetes records no event for it).
    AlreadyExists,
    /// The call failed with this error text.
    Failed(&'a str),
}

/// Errors that stop planning altogether (Kubernetes returns them before touching anything).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A ControllerRevision's `data` is not a StatefulSet template patch.
    #[error("controller revision {0} has invalid data: {1}")]
    RevisionData(String, String),
    /// The set's own template could not be encoded.
    #[error("cannot encode the pod template: {0}")]
    Template(String),
    /// `rollingUpdate.maxUnavailable` is neither an integer nor a percentage.
    #[error("invalid maxUnavailable {0:?}")]
    MaxUnavailable(String),
}
