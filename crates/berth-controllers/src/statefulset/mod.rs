//! The StatefulSet controller's pure decision core: given what one sync observes
//! ([`Observed`]), decide what to do ([`Plan`]). No I/O, no client, no clock: the shell passes
//! `now` in and executes the plan.
//!
//! Semantics follow Kubernetes' `pkg/controller/statefulset` (`stateful_set_control.go`,
//! `stateful_set_utils.go`, `stateful_pod_control.go`) and `pkg/controller/history`; item numbers
//! in the docs and tests refer to the behaviour checklist (sections 1D–1N).
//!
//! # Running a plan (the shell's contract)
//!
//! 1. [`Plan::revisions`] in order; on the first failure stop the sync and retry with backoff
//!    (on AlreadyExists for `CreateRevision`, pass the existing object in
//!    [`Observed::foreign_revisions`] next time so the collision count is bumped).
//! 2. [`Plan::batches`] in order. Tasks of one batch may run concurrently; a task stops at its
//!    first failed action; after a batch in which anything failed, run no further batch. This
//!    reproduces both the monotonic early exit (OrderedReady: the planner already stops where
//!    Kubernetes returns, e.g. one pod created per sync) and `slowStartBatch` for Parallel.
//!    [`Action::Fail`] is an error Kubernetes raises without an API call (`pvc … is being
//!    deleted`): treat it as a failed action.
//! 3. Write [`Plan::status`] if `Some` (even after a failed batch), keeping `conditions` as given.
//! 4. Run [`Plan::history`] (even after a failed batch).
//! 5. Record [`Plan::events`] and, for each executed action, [`Action::events`]; requeue after
//!    [`Plan::requeue_after`]; on any failure requeue with rate-limited backoff.
//!
//! # Berth improvements ([`BerthExtensions`])
//!
//! - **Claim template growth** (`claim_template_growth`): Kubernetes never touches an existing
//!   claim ("TODO: Check resource requirements", item 39; KEP-4650 is not implemented upstream).
//!   Berth compares each claim template's `resources.requests.storage` with the existing claim's
//!   request (as quantities, so `1Gi` equals `1024Mi`) and plans [`Action::ExpandClaim`] when the
//!   template is larger — never a shrink. It is planned where Kubernetes enforces a pod's other
//!   invariants: when the pod is created over existing claims, and for a running pod once the
//!   ordering rules let the sync reach it (OrderedReady: in ordinal order, healthy
//!   predecessors). The shell applies it only if the claim's StorageClass has
//!   `allowVolumeExpansion: true` (item 140).
//! - **Stuck-rollout recovery** (`stuck_rollout_recovery`, k/k#67250, item 69): with
//!   `OrderedReady` and `RollingUpdate`, Kubernetes stops at the first pod that is not Running,
//!   Ready and Available, before the update step, so a pod broken by a bad template is never
//!   replaced even after the template is fixed. Berth deletes such a pod (it is recreated at the
//!   update revision) when all of these hold: the pod exists, is not terminating and not
//!   Failed/Succeeded (those are replaced anyway), is not Running+Ready+Available, its
//!   `controller-revision-hash` differs from the update revision, and its ordinal is at or above
//!   `start + partition`. Everything else is unchanged: pods at the update revision, pods below
//!   the partition, OnDelete and Parallel sets still wait exactly as in Kubernetes, and it acts
//!   only at the point where Kubernetes would block, so it never creates a pod out of order.
//!
//! # Other deliberate differences from Kubernetes
//!
//! - Claims created for in-range pods already carry the set's owner reference when
//!   `whenDeleted: Delete` (Kubernetes creates them bare and patches them on a later sync).
//! - `status.conditions` is preserved (item 84); a change of `collisionCount` alone also writes
//!   status.
//! - Rollout completion (`currentRevision := updateRevision`) also applies to OnDelete, as in
//!   upstream since PR #136833 (item 73); it ignores `availableReplicas` like upstream (item 81).
//! - `maxUnavailable` switches on the maxUnavailable algorithm when the field is set (the
//!   feature gate is modelled by the API server dropping the field); in Parallel mode unavailable
//!   pods still at an old revision do not consume the budget (item 71).
//! - When only a claim's owner references change for a running pod, no pod update and no
//!   `SuccessfulUpdate` event are planned (Kubernetes issues a no-op pod update).
//! - Revision data and equality: see [`revision`].

pub mod events;
pub mod plan;
pub mod pods;
pub mod retention;
pub mod revision;
pub mod spec;
pub mod status;
pub mod types;

pub use plan::{PodMemo, plan, plan_with};
pub use spec::SetView;
pub use types::{
    Action, Batch, BerthExtensions, DeleteReason, Event, EventType, Observed, Outcome, Plan, PlanError, Task,
};
