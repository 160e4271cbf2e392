//! The sync planner ([`plan`]): one pass of Kubernetes' `updateStatefulSet` (item 113, steps
//! 4–15) turned into a [`Plan`], stopping exactly where Kubernetes stops a sync.

use super::pods::{
    PodFacts, PodState, claim_name, claim_names, claims_for, new_pod, ordinal, update_identity,
    update_storage,
};
use super::retention::{self, Owner};
use super::spec::{SetView, Strategy};
use super::types::{Action, Batch, BerthExtensions, DeleteReason, Observed, Plan, PlanError, Task};
use super::{events, revision, status};
use berth_api::validation::quantity;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodTemplateSpec};
use std::collections::BTreeSet;

/// Kubernetes' `MaxBatchSize` for slow-start batches.
pub const MAX_BATCH_SIZE: usize = 500;

/// One pod of the sync: an observed member of the set (in range or condemned), or, for an
/// in-range ordinal without one, the pod to create.
#[derive(Clone, Copy)]
struct Slot<'p> {
    ordinal: i64,
    /// The observed pod, or the one to create.
    pod: &'p Pod,
    observed: bool,
    /// The pod's state at this sync.
    state: PodState,
    /// `identityMatches` and `storageMatches` (for an observed pod).
    identity_ok: bool,
    storage_ok: bool,
}

/// [`PodFacts`] of one set's pods, kept between syncs (see [`berth_informer::memo`]): a sync then
/// derives them only for the pods that changed since the last one. Plans do not depend on
/// it: [`plan`] is [`plan_with`] on an empty memo.
#[derive(Default)]
pub struct PodMemo {
    /// What the facts depend on besides the pod: the set's name, namespace and claim
    /// template names (all immutable; the memo starts over if they differ).
    set_key: Vec<String>,
    facts: berth_informer::memo::IdentityMemo<Pod, PodFacts>,
}

impl PodMemo {
    fn begin(&mut self, set: &SetView) {
        let key: Vec<String> = [set.name.clone(), set.namespace.clone()]
            .into_iter()
            .chain(
                set.claim_templates
                    .iter()
                    .map(|t| t.metadata.name.clone().unwrap_or_default()),
            )
            .collect();
        if key != self.set_key {
            self.facts.clear();
            self.set_key = key;
        }
    }
}

struct Planner<'a> {
    obs: &'a Observed,
    set: SetView,
    ext: BerthExtensions,
    current: String,
    update: String,
    plan: Plan,
    deleted: BTreeSet<String>,
    deleted_for_update: i32,
}

/// Plans one sync of `observed` (see the module docs of [`super`] for how the shell runs it).
pub fn plan(observed: &Observed, ext: BerthExtensions) -> Result<Plan, PlanError> {
    plan_with(observed, ext, &mut PodMemo::default())
}

/// [`plan`], reading each pod's [`PodFacts`] from `memo` (and keeping them there for the next
/// sync of the same set).
pub fn plan_with(observed: &Observed, ext: BerthExtensions, memo: &mut PodMemo) -> Result<Plan, PlanError> {
    let set = SetView::new(&observed.set);
    memo.begin(&set);
    let old = observed.set.status.as_ref();
    let mut sorted = observed.revisions.clone();
    revision::sort(&mut sorted);
    let template = observed
        .set
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let chosen = revision::choose(
        &set,
        &template,
        &sorted,
        &observed.foreign_revisions,
        old.and_then(|s| s.collision_count).unwrap_or(0),
        old.and_then(|s| s.current_revision.as_deref()).unwrap_or(""),
    )?;
    let current_template = revision::template_of(&chosen.current)?;
    let update_template = revision::template_of(&chosen.update)?;
    let current = chosen.current.metadata.name.clone().unwrap_or_default();
    let update = chosen.update.metadata.name.clone().unwrap_or_default();

    let mut p = Planner {
        obs: observed,
        set,
        ext,
        current: current.clone(),
        update: update.clone(),
        plan: Plan {
            current_revision: current,
            update_revision: update,
            ..Default::default()
        },
        deleted: BTreeSet::new(),
        deleted_for_update: 0,
    };
    if let Some(c) = chosen.create {
        p.plan.revisions.push(Action::CreateRevision(c));
    }
    if let Some((name, revision)) = chosen.bump {
        p.plan.revisions.push(Action::UpdateRevision { name, revision });
    }

    let (mrs, now) = (p.set.min_ready_seconds, observed.now);
    let members: Vec<Slot> = observed
        .pods
        .iter()
        .filter_map(|pod| {
            let facts = memo.facts.get_or_derive(pod, |pod| PodFacts::of(&p.set, pod));
            Some(Slot {
                pod,
                ordinal: facts.ordinal?,
                observed: true,
                state: facts.state(mrs, now, &p.current, &p.update),
                identity_ok: facts.identity_ok,
                storage_ok: facts.storage_ok,
            })
        })
        .collect();
    memo.facts.sweep();
    p.run(&members, &current_template, &update_template)?;

    let mut counts = status::Counts::default();
    for m in &members {
        counts.add(&m.state);
    }
    counts.current = (counts.current - p.deleted_for_update).max(0);
    let new_status = status::build(&p.set, old, counts, &p.current, &p.update, chosen.collision_count);
    p.plan.requeue_after = status::requeue(&p.set, &new_status);
    if status::needs_write(old, &new_status) {
        p.plan.status = Some(new_status);
    }
    let live = [p.current.as_str(), p.update.as_str()];
    let member_pods: Vec<&Pod> = members.iter().map(|m| m.pod).collect();
    p.plan.history = revision::truncate(&sorted, p.set.history_limit, &live, &member_pods)
        .into_iter()
        .map(Action::DeleteRevision)
        .collect();
    Ok(p.plan)
}

/// Splits tasks into slow-start batches of 1, 2, 4, … (at most [`MAX_BATCH_SIZE`]) over their
/// positions, then drops empty tasks and batches (Kubernetes' `slowStartBatch`).
pub fn slow_start(tasks: Vec<Task>) -> Vec<Batch> {
    let mut out = Vec::new();
    let mut it = tasks.into_iter().peekable();
    let mut size = 1usize;
    while it.peek().is_some() {
        let batch: Batch = it.by_ref().take(size).filter(|t| !t.is_empty()).collect();
        if !batch.is_empty() {
            out.push(batch);
        }
        size = (size * 2).min(MAX_BATCH_SIZE);
    }
    out
}

impl<'a> Planner<'a> {
    fn run(
        &mut self,
        members: &[Slot],
        current_t: &PodTemplateSpec,
        update_t: &PodTemplateSpec,
    ) -> Result<(), PlanError> {
        let set = &self.set;
        let (mrs, now) = (set.min_ready_seconds, self.obs.now);
        // Step 6: in-range slots (missing ones built at the right revision) and condemned pods.
        // Pods are large: slots point at them (observed ones, or the missing ones built here)
        // rather than moving copies around.
        let mut observed_at: Vec<Option<&Slot>> =
            (set.start..set.start + set.replicas).map(|_| None).collect();
        let mut condemned: Vec<&Slot> = Vec::new();
        for m in members {
            if set.in_range(m.ordinal) {
                observed_at[usize::try_from(m.ordinal - set.start).unwrap_or(0)] = Some(m);
            } else {
                condemned.push(m);
            }
        }
        let missing: Vec<Pod> = observed_at
            .iter()
            .zip(set.start..)
            .filter(|(m, _)| m.is_none())
            .map(|(_, o)| {
                let below_partition = matches!(set.strategy, Strategy::RollingUpdate { partition, .. } if o < set.start + partition);
                if below_partition {
                    new_pod(set, current_t, &self.current, o)
                } else {
                    new_pod(set, update_t, &self.update, o)
                }
            })
            .collect();
        let mut missing = missing.iter();
        let slots: Vec<Slot> = observed_at
            .iter()
            .zip(set.start..)
            .filter_map(|(m, o)| match m {
                Some(m) => Some(**m),
                None => missing.next().map(|pod| Slot {
                    ordinal: o,
                    pod,
                    observed: false,
                    state: PodState::of(pod, mrs, now, &self.current, &self.update),
                    identity_ok: true,
                    storage_ok: true,
                }),
            })
            .collect();
        condemned.sort_by_key(|m| std::cmp::Reverse(m.ordinal));
        let first_unhealthy: Option<String> = slots
            .iter()
            .map(|s| (s.pod, s.state))
            .chain(condemned.iter().rev().map(|m| (m.pod, m.state)))
            .find(|(_, state)| state.unavailable())
            .and_then(|(p, _)| p.metadata.name.clone());

        // Step 7: a set being deleted only gets its status recomputed (item 51).
        if set.deleting {
            return Ok(());
        }
        let monotonic = set.monotonic;

        // Step 8: every in-range replica (items 44, 45, 48, 49, 52, 53).
        if monotonic {
            for slot in &slots {
                let (stop, task) = self.process_replica(slot);
                self.push(task);
                if stop {
                    return Ok(());
                }
            }
        } else {
            let tasks: Vec<Task> = slots.iter().map(|s| self.process_replica(s).1).collect();
            self.plan.batches.extend(slow_start(tasks));
        }

        // Step 9: retention owner references of condemned pods' claims (item 93).
        let tasks: Vec<Task> = condemned
            .iter()
            .map(|pod| {
                let mut t = Vec::new();
                self.fix_claims(pod.pod, false, false, &mut t);
                t
            })
            .collect();
        self.push_all(tasks, monotonic);

        // Step 10: delete condemned pods (items 46, 47, 49).
        if monotonic {
            for pod in &condemned {
                let (stop, task) = self.process_condemned(pod, first_unhealthy.as_deref());
                self.push(task);
                if stop {
                    return Ok(());
                }
            }
        } else {
            let tasks: Vec<Task> = condemned
                .iter()
                .map(|pod| self.process_condemned(pod, first_unhealthy.as_deref()).1)
                .collect();
            self.plan.batches.extend(slow_start(tasks));
        }

        // Steps 11–12: updates (items 65, 70, 72).
        let Strategy::RollingUpdate {
            partition,
            max_unavailable,
        } = self.set.strategy.clone()
        else {
            return Ok(());
        };
        let min_index = usize::try_from(partition).unwrap_or(0);
        match max_unavailable {
            None => self.rolling_update_step(&slots, min_index),
            Some(mu) => {
                let max = self.set.max_unavailable(&mu).map_err(PlanError::MaxUnavailable)?;
                self.max_unavailable_step(&slots, min_index, max);
            }
        }
        Ok(())
    }

    fn push(&mut self, task: Task) {
        if !task.is_empty() {
            self.plan.batches.push(vec![task]);
        }
    }

    fn push_all(&mut self, tasks: Vec<Task>, monotonic: bool) {
        if monotonic {
            tasks.into_iter().for_each(|t| self.push(t));
        } else {
            self.plan.batches.extend(slow_start(tasks));
        }
    }

    fn delete(&mut self, pod: &Pod, reason: DeleteReason) -> Action {
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.deleted.insert(name.clone());
        Action::DeletePod {
            name,
            uid: pod.metadata.uid.clone(),
            reason,
        }
    }

    /// `processReplica`: returns whether a monotonic sync stops here, and the actions.
    fn process_replica(&mut self, slot: &Slot) -> (bool, Task) {
        let mut task = Vec::new();
        let pod = slot.pod;
        let state = slot.state;
        let monotonic = self.set.monotonic;
        if slot.observed && state.finished {
            if !state.terminating {
                task.push(self.delete(pod, DeleteReason::Finished));
            }
            return (true, task);
        }
        if !slot.observed {
            let me = Owner::pod(pod);
            let stale = claim_names(&self.set, slot.ordinal).any(|name| {
                self.existing_named(&name)
                    .is_some_and(|e| retention::claim_is_stale(e, self.set.retention, me))
            });
            if stale {
                return (true, task);
            }
            if self.create_claims(pod, slot.ordinal, Some("create"), &mut task) {
                return (true, task);
            }
            task.push(Action::CreatePod(pod.clone()));
            self.fix_claims(pod, true, true, &mut task);
            self.expand_claims(pod, slot.ordinal, &mut task);
            return (monotonic, task);
        }
        if state.pending {
            if self.create_claims(pod, slot.ordinal, None, &mut task) {
                return (true, task);
            }
            self.fix_claims(pod, true, true, &mut task);
        }
        if monotonic && state.terminating {
            return (true, task);
        }
        let available = state.running_and_ready && state.available;
        if monotonic && !available {
            if self.stuck_rollout(slot) {
                task.push(self.delete(pod, DeleteReason::StuckRollout));
            }
            return (true, task);
        }
        // Enforce identity, storage and retention (item 35).
        // The pod is copied only when it needs fixing: most syncs find every replica intact.
        let mut fixed: Option<Pod> = None;
        if !slot.identity_ok {
            update_identity(&self.set, fixed.get_or_insert_with(|| pod.clone()), slot.ordinal);
        }
        if !slot.storage_ok {
            let fixed = fixed.get_or_insert_with(|| pod.clone());
            update_storage(&self.set, fixed, slot.ordinal);
            if self.create_claims(fixed, slot.ordinal, Some("update"), &mut task) {
                return (true, task);
            }
        }
        self.fix_claims(pod, true, false, &mut task);
        if let Some(fixed) = fixed {
            task.push(Action::UpdatePodIdentity(fixed));
        }
        self.expand_claims(pod, slot.ordinal, &mut task);
        (false, task)
    }

    /// Berth's stuck-rollout recovery (see [`BerthExtensions::stuck_rollout_recovery`]).
    fn stuck_rollout(&self, slot: &Slot) -> bool {
        let Strategy::RollingUpdate { partition, .. } = self.set.strategy else {
            return false;
        };
        self.ext.stuck_rollout_recovery
            && self.set.monotonic
            && !slot.state.terminating
            && !slot.state.at_update
            && slot.ordinal >= self.set.start + partition
    }

    /// `processCondemned`.
    fn process_condemned(&mut self, member: &Slot, first_unhealthy: Option<&str>) -> (bool, Task) {
        let (pod, state) = (member.pod, member.state);
        let monotonic = self.set.monotonic;
        if state.terminating {
            return (monotonic, vec![]);
        }
        let healthy = state.running_and_ready && state.available;
        if monotonic && !healthy && pod.metadata.name.as_deref() != first_unhealthy {
            return (true, vec![]);
        }
        (true, vec![self.delete(pod, DeleteReason::Condemned)])
    }

    /// The rolling update with maxUnavailable unset (item 65).
    fn rolling_update_step(&mut self, slots: &[Slot], min_index: usize) {
        for slot in slots.iter().skip(min_index).rev() {
            let pod = &slot.pod;
            if !slot.state.at_update && !slot.state.terminating {
                let name = pod.metadata.name.clone().unwrap_or_default();
                if !self.deleted.contains(&name) {
                    let a = self.delete(pod, DeleteReason::Update);
                    self.push(vec![a]);
                }
                self.deleted_for_update += 1;
                return;
            }
            if slot.state.unavailable() {
                return;
            }
        }
    }

    /// The maxUnavailable algorithm (item 70). In Parallel mode, unavailable pods still at an old
    /// revision are not counted against the budget (item 71, the direction of PR #137666).
    fn max_unavailable_step(&mut self, slots: &[Slot], min_index: usize, max: i64) {
        let unavailable = slots
            .iter()
            .filter(|s| s.state.unavailable())
            .filter(|s| self.set.monotonic || !s.observed || s.state.terminating || s.state.at_update)
            .count();
        let unavailable = i64::try_from(unavailable).unwrap_or(i64::MAX);
        if unavailable > max {
            return;
        }
        let mut budget = max - unavailable;
        let mut task = Vec::new();
        for slot in slots.iter().skip(min_index).rev() {
            if budget <= 0 {
                break;
            }
            let pod = &slot.pod;
            if !slot.state.at_update && !slot.state.terminating {
                let name = pod.metadata.name.clone().unwrap_or_default();
                if !self.deleted.contains(&name) {
                    task.push(self.delete(pod, DeleteReason::Update));
                }
                budget -= 1;
                self.deleted_for_update += 1;
            }
        }
        self.push(task);
    }

    fn existing(&self, claim: &PersistentVolumeClaim) -> Option<&'a PersistentVolumeClaim> {
        self.existing_named(claim.metadata.name.as_deref().unwrap_or_default())
    }

    fn existing_named(&self, name: &str) -> Option<&'a PersistentVolumeClaim> {
        let obs: &'a Observed = self.obs;
        obs.claims.get(name).map(|c| &**c)
    }

    /// `createPersistentVolumeClaims`: create the missing claims; a claim being deleted is an
    /// error (item 40). Returns whether a [`Action::Fail`] was planned.
    fn create_claims(&self, pod: &Pod, ordinal: i64, verb: Option<&'static str>, task: &mut Task) -> bool {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let mut errors = Vec::new();
        for (_, mut claim) in claims_for(&self.set, ordinal) {
            let name = claim.metadata.name.clone().unwrap_or_default();
            match self.existing(&claim) {
                None => {
                    claim.metadata.owner_references =
                        retention::refs_for_new_claim(self.set.retention, Owner::set(&self.set));
                    task.push(Action::CreateClaim {
                        claim,
                        pod: pod_name.clone(),
                    });
                }
                Some(c) if c.metadata.deletion_timestamp.is_some() => {
                    errors.push(format!("pvc {name} is being deleted"));
                }
                Some(_) => {}
            }
        }
        if errors.is_empty() {
            return false;
        }
        let message = if errors.len() == 1 {
            errors.remove(0)
        } else {
            format!("[{}]", errors.join(", "))
        };
        task.push(Action::Fail {
            pod: pod_name,
            verb,
            message,
        });
        true
    }

    /// `ClaimsMatchRetentionPolicy` + `UpdatePodClaimForRetentionPolicy` over the pod's existing
    /// claims. With `always` false nothing happens unless some claim is out of date.
    fn fix_claims(&mut self, pod: &Pod, in_range: bool, always: bool, task: &mut Task) {
        if self.set.claim_templates.is_empty() {
            return;
        }
        let (policy, set_owner, pod_owner) = (self.set.retention, Owner::set(&self.set), Owner::pod(pod));
        let Some(ord) = ordinal(pod) else { return };
        let existing: Vec<&PersistentVolumeClaim> = claim_names(&self.set, ord)
            .filter_map(|name| self.existing_named(&name))
            .collect();
        let stale =
            |c: &PersistentVolumeClaim| !retention::is_up_to_date(c, policy, set_owner, pod_owner, in_range);
        if !always && !existing.iter().any(|c| stale(c)) {
            return;
        }
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        for c in existing {
            let name = c.metadata.name.clone().unwrap_or_default();
            if retention::has_unexpected_controller(c, policy, set_owner, pod_owner) {
                self.plan.events.push(events::conflicting_controller(&name));
            }
            if stale(c) {
                let owner_references = retention::desired_refs(c, policy, set_owner, pod_owner, in_range);
                task.push(Action::PatchClaimOwnerRefs {
                    name,
                    pod: pod_name.clone(),
                    owner_references,
                });
            }
        }
    }

    /// Berth's claim template growth (see [`BerthExtensions::claim_template_growth`]).
    fn expand_claims(&self, pod: &Pod, ordinal: i64, task: &mut Task) {
        if !self.ext.claim_template_growth || self.set.claim_templates.is_empty() {
            return;
        }
        let storage = |c: &PersistentVolumeClaim| {
            c.spec
                .as_ref()?
                .resources
                .as_ref()?
                .requests
                .as_ref()?
                .get("storage")
                .map(|q| q.0.clone())
        };
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        for template in &self.set.claim_templates {
            let name = claim_name(
                template.metadata.name.as_deref().unwrap_or_default(),
                &self.set.name,
                ordinal,
            );
            let Some(have) = self
                .existing_named(&name)
                .filter(|c| c.metadata.deletion_timestamp.is_none())
            else {
                continue;
            };
            let (Some(w), Some(h)) = (storage(template), storage(have)) else {
                continue;
            };
            if let (Some(wq), Some(hq)) = (quantity::parse(&w), quantity::parse(&h))
                && wq > hq
            {
                task.push(Action::ExpandClaim {
                    name,
                    pod: pod_name.clone(),
                    storage: w,
                });
            }
        }
    }
}

#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;
