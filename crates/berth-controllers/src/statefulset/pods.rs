//! Pods and claims for one ordinal: names, identity labels, building a pod from a template
//! (`newVersionedStatefulSetPod`), its claims (`getPersistentVolumeClaims`), identity/storage
//! matching and repair (`identityMatches`, `storageMatches`, `updateIdentity`,
//! `updateStorage`), and the pod state predicates the planner uses.

use super::spec::SetView;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// Label carrying the pod's name (`statefulset.kubernetes.io/pod-name`).
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// Label carrying the pod's ordinal (`apps.kubernetes.io/pod-index`).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// Label carrying the pod's ControllerRevision name (`controller-revision-hash`).
pub const REVISION_LABEL: &str = "controller-revision-hash";

/// Splits `<parent>-<ordinal>` like `getParentNameAndOrdinal` (regex `(.*)-([0-9]+)$`, the
/// ordinal parsed as a 32-bit integer). `None` when the name does not parse.
pub fn parent_and_ordinal(name: &str) -> Option<(&str, i64)> {
    let digits = name.len() - name.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (head, num) = name.split_at(digits);
    let parent = head.strip_suffix('-')?;
    if num.is_empty() {
        return None;
    }
    let ord: i32 = num.parse().ok()?;
    Some((parent, i64::from(ord)))
}

/// A pod's ordinal, or `None`.
pub fn ordinal(pod: &Pod) -> Option<i64> {
    parent_and_ordinal(pod.metadata.name.as_deref()?).map(|(_, o)| o)
}

/// The pod name for an ordinal.
pub fn pod_name(set: &str, ordinal: i64) -> String {
    format!("{set}-{ordinal}")
}

/// The claim name for a template and ordinal (item 37).
pub fn claim_name(template: &str, set: &str, ordinal: i64) -> String {
    format!("{template}-{set}-{ordinal}")
}

/// The pod's `controller-revision-hash` label ("" when absent).
pub fn pod_revision(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map(String::as_str)
        .unwrap_or("")
}

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

/// `isCreated`: the pod has a phase (the API server sets `Pending` at creation).
pub fn is_created(pod: &Pod) -> bool {
    !phase(pod).is_empty()
}

/// `isPending`.
pub fn is_pending(pod: &Pod) -> bool {
    phase(pod) == "Pending"
}

/// `isFailed || isSucceeded`.
pub fn is_finished(pod: &Pod) -> bool {
    matches!(phase(pod), "Failed" | "Succeeded")
}

/// `isTerminating`: `deletionTimestamp` is set.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// `IsPodReady`: condition `Ready=True`.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// `isRunningAndReady`.
pub fn is_running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && is_ready(pod)
}

/// `IsPodAvailable`: ready, and ready for more than `min_ready_seconds` (items 79, 87).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    let Some(c) = ready_condition(pod).filter(|c| c.status == "True") else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    let Some(t) = c.last_transition_time.as_ref() else {
        return false;
    };
    t.0.checked_add(SignedDuration::from_secs(i64::from(min_ready_seconds)))
        .is_ok_and(|until| until < now)
}

/// `isHealthy`: running, ready and not terminating.
pub fn is_healthy(pod: &Pod) -> bool {
    is_running_and_ready(pod) && !is_terminating(pod)
}

/// `isUnavailable`: not healthy, or not yet available.
pub fn is_unavailable(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    !is_healthy(pod) || !is_available(pod, min_ready_seconds, now)
}

/// What one sync reads of a pod's state, derived once per pod and sync instead of at every
/// step that asks (the planner visits every replica at each sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodState {
    /// [`is_created`].
    pub created: bool,
    /// [`is_pending`].
    pub pending: bool,
    /// [`is_finished`].
    pub finished: bool,
    /// [`is_terminating`].
    pub terminating: bool,
    /// [`is_running_and_ready`].
    pub running_and_ready: bool,
    /// [`is_available`] (ready for `minReadySeconds`).
    pub available: bool,
    /// The pod's revision label is the sync's current revision.
    pub at_current: bool,
    /// The pod's revision label is the sync's update revision.
    pub at_update: bool,
}

impl PodState {
    /// The state of `pod` at `now`, against the sync's `current` and `update` revisions.
    pub fn of(pod: &Pod, min_ready_seconds: i32, now: Timestamp, current: &str, update: &str) -> Self {
        Readings::of(pod).state(min_ready_seconds, now, current, update)
    }

    /// [`is_healthy`].
    pub fn healthy(&self) -> bool {
        self.running_and_ready && !self.terminating
    }

    /// [`is_unavailable`].
    pub fn unavailable(&self) -> bool {
        !self.healthy() || !self.available
    }
}

/// What the planner reads of one pod object that does not depend on the sync: derived once
/// per pod version (see [`super::plan::PodMemo`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFacts {
    /// The ordinal when the pod is named `<set>-<ordinal>` (a member of the set).
    pub ordinal: Option<i64>,
    /// [`identity_matches`].
    pub identity_ok: bool,
    /// [`storage_matches`].
    pub storage_ok: bool,
    phase: String,
    /// `Some` when `Ready=True`, with its `lastTransitionTime`.
    ready_since: Option<Option<Timestamp>>,
    terminating: bool,
    revision: String,
}

impl PodFacts {
    /// The facts of `pod` as a member of `set`.
    pub fn of(set: &SetView, pod: &Pod) -> Self {
        let ordinal = pod
            .metadata
            .name
            .as_deref()
            .and_then(parent_and_ordinal)
            .filter(|(parent, _)| *parent == set.name)
            .map(|(_, o)| o);
        let readings = Readings::of(pod);
        PodFacts {
            ordinal,
            identity_ok: ordinal.is_some() && identity_matches(set, pod),
            storage_ok: ordinal.is_some() && storage_matches(set, pod),
            phase: readings.phase.to_string(),
            ready_since: readings.ready_since,
            terminating: readings.terminating,
            revision: readings.revision.to_string(),
        }
    }

    /// The pod's state at `now` against the sync's revisions (what [`PodState::of`] gives).
    pub fn state(&self, min_ready_seconds: i32, now: Timestamp, current: &str, update: &str) -> PodState {
        let readings = Readings {
            phase: &self.phase,
            ready_since: self.ready_since,
            terminating: self.terminating,
            revision: &self.revision,
        };
        readings.state(min_ready_seconds, now, current, update)
    }
}

/// The parts of a pod its [`PodState`] is computed from.
struct Readings<'a> {
    phase: &'a str,
    /// `Some` when `Ready=True`, with its `lastTransitionTime`.
    ready_since: Option<Option<Timestamp>>,
    terminating: bool,
    revision: &'a str,
}

impl<'a> Readings<'a> {
    fn of(pod: &'a Pod) -> Self {
        Readings {
            phase: phase(pod),
            ready_since: ready_condition(pod)
                .filter(|c| c.status == "True")
                .map(|c| c.last_transition_time.as_ref().map(|t| t.0)),
            terminating: is_terminating(pod),
            revision: pod_revision(pod),
        }
    }

    /// As [`is_available`] decides from the ready condition.
    fn state(&self, min_ready_seconds: i32, now: Timestamp, current: &str, update: &str) -> PodState {
        let available = match self.ready_since {
            None => false,
            Some(_) if min_ready_seconds <= 0 => true,
            Some(None) => false,
            Some(Some(t)) => t
                .checked_add(SignedDuration::from_secs(i64::from(min_ready_seconds)))
                .is_ok_and(|until| until < now),
        };
        PodState {
            created: !self.phase.is_empty(),
            pending: self.phase == "Pending",
            finished: matches!(self.phase, "Failed" | "Succeeded"),
            terminating: self.terminating,
            running_and_ready: self.phase == "Running" && self.ready_since.is_some(),
            available,
            at_current: self.revision == current,
            at_update: self.revision == update,
        }
    }
}

/// The claims a pod at `ordinal` uses, one per template, in template order (item 38): the
/// template copied with the claim name, the set's namespace, template labels merged with the
/// selector's matchLabels (selector keys win) and no status.
pub fn claims_for(set: &SetView, ordinal: i64) -> Vec<(String, PersistentVolumeClaim)> {
    set.claim_templates
        .iter()
        .map(|t| {
            let tname = t.metadata.name.clone().unwrap_or_default();
            let mut claim = t.clone();
            claim.metadata.name = Some(claim_name(&tname, &set.name, ordinal));
            claim.metadata.namespace = Some(set.namespace.clone());
            let mut labels = claim.metadata.labels.take().unwrap_or_default();
            labels.extend(set.match_labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            claim.metadata.labels = Some(labels);
            claim.status = None;
            (tname, claim)
        })
        .collect()
}

/// The set's controller reference (item 33).
pub fn controller_ref(set: &SetView) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
        name: set.name.clone(),
        uid: set.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `updateStorage`: one volume per claim template (claim volumes first, in template order),
/// then the pod's other volumes; a pod volume named like a template is replaced (item 34).
pub fn update_storage(set: &SetView, pod: &mut Pod, ordinal: i64) {
    let claims = claims_for(set, ordinal);
    let spec = pod.spec.get_or_insert_with(Default::default);
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|(tname, claim)| Volume {
            name: tname.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.metadata.name.clone().unwrap_or_default(),
                read_only: None,
            }),
            ..Default::default()
        })
        .collect();
    for v in spec.volumes.take().unwrap_or_default() {
        if !claims.iter().any(|(t, _)| *t == v.name) {
            volumes.push(v);
        }
    }
    spec.volumes = if volumes.is_empty() { None } else { Some(volumes) };
}

/// `updateIdentity`: name, namespace, and the pod-name / pod-index labels.
pub fn update_identity(set: &SetView, pod: &mut Pod, ordinal: i64) {
    let name = pod_name(&set.name, ordinal);
    pod.metadata.name = Some(name.clone());
    pod.metadata.namespace = Some(set.namespace.clone());
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.into(), name);
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
}

/// Whether `digits` is how `format!` writes the ordinal `ord`: no sign, no leading zeros.
fn is_ordinal_text(digits: &str, ord: i64) -> bool {
    (digits == "0" || !digits.starts_with('0'))
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<i64>() == Ok(ord)
}

/// Whether `name` is [`pod_name`]`(set, ord)`, without building it.
fn is_pod_name(name: &str, set: &str, ord: i64) -> bool {
    name.strip_prefix(set)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|digits| is_ordinal_text(digits, ord))
}

/// Whether `name` is [`claim_name`]`(template, set, ord)`, without building it.
pub fn is_claim_name(name: &str, template: &str, set: &str, ord: i64) -> bool {
    name.strip_prefix(template)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| is_pod_name(rest, set, ord))
}

/// The names of the claims a pod at `ordinal` uses, in template order (see [`claims_for`]).
pub fn claim_names(set: &SetView, ordinal: i64) -> impl Iterator<Item = String> + '_ {
    set.claim_templates
        .iter()
        .map(move |t| claim_name(t.metadata.name.as_deref().unwrap_or_default(), &set.name, ordinal))
}

/// `identityMatches` (item 35): name, namespace and the pod-name label.
pub fn identity_matches(set: &SetView, pod: &Pod) -> bool {
    let Some(name) = pod.metadata.name.as_deref() else {
        return false;
    };
    let Some((parent, ord)) = parent_and_ordinal(name) else {
        return false;
    };
    parent == set.name
        && is_pod_name(name, &set.name, ord)
        && pod.metadata.namespace.as_deref().unwrap_or_default() == set.namespace
        && pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(POD_NAME_LABEL))
            .map(String::as_str)
            == Some(name)
}

/// `storageMatches` (item 35): every claim template has a volume pointing at the right claim.
pub fn storage_matches(set: &SetView, pod: &Pod) -> bool {
    let Some(ord) = ordinal(pod) else { return false };
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
    set.claim_templates.iter().all(|t| {
        let tname = t.metadata.name.as_deref().unwrap_or_default();
        volumes.into_iter().flatten().any(|v| {
            v.name == tname
                && v.persistent_volume_claim
                    .as_ref()
                    .is_some_and(|p| is_claim_name(&p.claim_name, tname, &set.name, ord))
        })
    })
}

/// `newStatefulSetPod` + `setPodRevision`: a pod for `ordinal` built from `template`
/// (`GetPodFromTemplate`: labels, annotations, finalizers, `generateName: <set>-`, the controller
/// reference), with identity (`initIdentity`: also `hostname`/`subdomain`), storage and revision.
pub fn new_pod(set: &SetView, template: &PodTemplateSpec, revision: &str, ordinal: i64) -> Pod {
    let tmeta = template.metadata.clone().unwrap_or_default();
    let mut pod = Pod {
        metadata: ObjectMeta {
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            generate_name: Some(format!("{}-", set.name)),
            owner_references: Some(vec![controller_ref(set)]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    };
    update_identity(set, &mut pod, ordinal);
    let name = pod.metadata.name.clone();
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.hostname = name;
    spec.subdomain = Some(set.service_name.clone()).filter(|s| !s.is_empty());
    update_storage(set, &mut pod, ordinal);
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(REVISION_LABEL.into(), revision.into());
    pod
}

#[cfg(test)]
mod tests;
