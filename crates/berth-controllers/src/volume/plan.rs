//! The PV controller's pure decisions: given one claim or one volume and a snapshot of the
//! cluster ([`World`]), the writes and events Kubernetes' `pv_controller.go` would make
//! (`syncClaim` → `syncUnboundClaim` / `syncBoundClaim`, `syncVolume`, `bind`, `unbindVolume`,
//! `reclaimVolume`, `provisionClaimOperationExternal`, `assignDefaultStorageClass`).
//!
//! Berth has no in-tree volume plugins: every provisioner is external. Berth's own
//! `berth.dev/local` provisioner runs on the nodes; for `Immediate` classes of that provisioner
//! the controller also picks the node (Berth has no external topology driver) and writes it to
//! `volume.kubernetes.io/selected-node`, the annotation the scheduler writes for
//! `WaitForFirstConsumer` claims.

use super::matching::{
    TargetNode, access_modes_fit, claim_class, default_class, find_best_match, is_volume_bound_to_claim,
    node_affinity_fits, node_is_ready, node_labels, requested_storage, topology_allows, volume_capacity,
    volume_class, volume_mode_mismatch,
};
use super::{
    ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_DYNAMICALLY_PROVISIONED,
    ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, LOCAL_PROVISIONER,
};
use k8s_openapi::api::core::v1::{
    Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimStatus,
    PersistentVolumeStatus, Pod,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use std::collections::BTreeMap;

/// What one sync sees: every volume, claim, class, node and pod (from the shell's caches).
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Volumes by name.
    pub volumes: BTreeMap<String, PersistentVolume>,
    /// Claims by `namespace/name`.
    pub claims: BTreeMap<String, PersistentVolumeClaim>,
    /// StorageClasses by name.
    pub classes: BTreeMap<String, StorageClass>,
    /// Nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// Pods (only those using claims matter), shared with the cache.
    pub pods: Vec<std::sync::Arc<Pod>>,
}

/// An event about a claim or a volume, with Kubernetes' reason and message.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The object the event is about.
    pub regarding: ObjectReference,
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    /// The reason, e.g. `ExternalProvisioning`.
    pub reason: &'static str,
    /// The message.
    pub message: String,
}

/// One write or event. The shell runs a plan's actions in order and stops at the first failed
/// write (the next sync re-plans from the new state), as Kubernetes' `bind` returns on its
/// first error. An update carries the object as the planner derived it; when an earlier action
/// of the same plan updated the same object, the shell sends it with that write's
/// `resourceVersion`.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `PUT` the volume (metadata and spec).
    UpdateVolume(Box<PersistentVolume>),
    /// `PUT` the volume's `status`.
    UpdateVolumeStatus(Box<PersistentVolume>),
    /// `PUT` the claim (metadata and spec).
    UpdateClaim(Box<PersistentVolumeClaim>),
    /// `PUT` the claim's `status`.
    UpdateClaimStatus(Box<PersistentVolumeClaim>),
    /// Record an event.
    Event(Box<Event>),
}

/// The decision of one sync: actions, or an error Kubernetes returns without writing (the
/// shell logs it and retries on the next sync).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// What to do, in order.
    pub actions: Vec<Action>,
    /// Why the sync failed, if it did (after running `actions`).
    pub error: Option<String>,
}

impl Plan {
    fn push(&mut self, a: Action) {
        self.actions.push(a);
    }

    fn event(
        &mut self,
        regarding: ObjectReference,
        type_: &'static str,
        reason: &'static str,
        message: String,
    ) {
        self.push(Action::Event(Box::new(Event {
            regarding,
            type_,
            reason,
            message,
        })));
    }
}

/// The crash point (`berth_api::crashpoint`) right after a successful write of `action`, named
/// by the step of a bind or a reclaim the write is: the volume's `claimRef`, the volume's
/// `Bound` phase, the claim's `volumeName`, the volume's `Released` phase. Other writes and
/// events have none.
pub fn crash_point_after(action: &Action) -> Option<&'static str> {
    match action {
        Action::UpdateVolume(v) => v
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .and_then(|r| r.uid.as_deref())
            .is_some_and(|uid| !uid.is_empty())
            .then_some("bind:after-pv-claimref"),
        Action::UpdateVolumeStatus(v) => match volume_phase(v) {
            "Bound" => Some("bind:after-pv-bound"),
            "Released" => Some("reclaim:after-released"),
            _ => None,
        },
        Action::UpdateClaim(c) => (!volume_name(c).is_empty()).then_some("bind:after-claim-volumename"),
        Action::UpdateClaimStatus(_) | Action::Event(_) => None,
    }
}

/// The key of a claim in [`World::claims`].
pub fn claim_key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

fn key_of(claim: &PersistentVolumeClaim) -> String {
    claim_key(
        claim.metadata.namespace.as_deref().unwrap_or(""),
        claim.metadata.name.as_deref().unwrap_or(""),
    )
}

fn has_annotation(meta: &ObjectMeta, key: &str) -> bool {
    meta.annotations.as_ref().is_some_and(|a| a.contains_key(key))
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

fn set_annotation(meta: &mut ObjectMeta, key: &str, value: &str) {
    meta.annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(key.to_string(), value.to_string());
}

fn volume_name(claim: &PersistentVolumeClaim) -> &str {
    claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or("")
}

fn volume_phase(volume: &PersistentVolume) -> &str {
    volume
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn claim_phase(claim: &PersistentVolumeClaim) -> &str {
    claim
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// An `ObjectReference` to a claim, as `reference.GetReference` builds it.
pub fn claim_reference(claim: &PersistentVolumeClaim) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("PersistentVolumeClaim".into()),
        namespace: claim.metadata.namespace.clone(),
        name: claim.metadata.name.clone(),
        uid: claim.metadata.uid.clone(),
        resource_version: claim.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

/// An `ObjectReference` to a volume.
pub fn volume_reference(volume: &PersistentVolume) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("PersistentVolume".into()),
        name: volume.metadata.name.clone(),
        uid: volume.metadata.uid.clone(),
        resource_version: volume.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

/// `IsDelayBindingMode`: the claim's class exists and binds `WaitForFirstConsumer`.
pub fn is_delay_binding(claim: &PersistentVolumeClaim, world: &World) -> bool {
    let class = claim_class(claim);
    !class.is_empty()
        && world
            .classes
            .get(class)
            .and_then(|c| c.volume_binding_mode.as_deref())
            == Some("WaitForFirstConsumer")
}

/// `updateVolumePhase`: set `phase` (with `message` and the transition time) unless the volume
/// is already in it. Returns the volume as it will be after the write.
fn volume_phase_update(
    plan: &mut Plan,
    volume: &PersistentVolume,
    phase: &str,
    message: &str,
    now: Timestamp,
) -> PersistentVolume {
    if volume_phase(volume) == phase {
        return volume.clone();
    }
    let mut clone = volume.clone();
    let status = clone.status.get_or_insert_with(PersistentVolumeStatus::default);
    status.phase = Some(phase.to_string());
    status.message = (!message.is_empty()).then(|| message.to_string());
    status.last_phase_transition_time = Some(Time(now));
    plan.push(Action::UpdateVolumeStatus(Box::new(clone.clone())));
    clone
}

/// `updateVolumePhaseWithEvent`: as [`volume_phase_update`], plus an event when the phase changes.
fn volume_phase_with_event(
    plan: &mut Plan,
    volume: &PersistentVolume,
    phase: &str,
    type_: &'static str,
    reason: &'static str,
    message: String,
    now: Timestamp,
) {
    if volume_phase(volume) == phase {
        return;
    }
    let updated = volume_phase_update(plan, volume, phase, &message, now);
    plan.event(volume_reference(&updated), type_, reason, message);
}

/// `updateClaimStatus`: the phase, and the volume's access modes and capacity (or none).
fn claim_status_update(
    plan: &mut Plan,
    claim: &PersistentVolumeClaim,
    phase: &str,
    volume: Option<&PersistentVolume>,
) -> PersistentVolumeClaim {
    let mut clone = claim.clone();
    let status = clone
        .status
        .get_or_insert_with(PersistentVolumeClaimStatus::default);
    let mut dirty = false;
    if status.phase.as_deref() != Some(phase) {
        status.phase = Some(phase.to_string());
        dirty = true;
    }
    match volume {
        None => {
            if status.access_modes.is_some() {
                status.access_modes = None;
                dirty = true;
            }
            if status.capacity.is_some() {
                status.capacity = None;
                dirty = true;
            }
        }
        Some(v) => {
            let spec = v.spec.clone().unwrap_or_default();
            if status.access_modes != spec.access_modes {
                status.access_modes = spec.access_modes;
                dirty = true;
            }
            let volume_cap = volume_capacity(v);
            let claim_cap = status
                .capacity
                .as_ref()
                .and_then(|c| c.get("storage"))
                .and_then(|q| berth_api::validation::quantity::parse(&q.0));
            if claim_cap != Some(volume_cap) {
                status.capacity = spec.capacity;
                dirty = true;
            }
        }
    }
    if dirty {
        plan.push(Action::UpdateClaimStatus(Box::new(clone.clone())));
    }
    clone
}

/// `updateClaimStatusWithEvent`: nothing when the claim is already in `phase`.
fn claim_status_with_event(
    plan: &mut Plan,
    claim: &PersistentVolumeClaim,
    phase: &str,
    type_: &'static str,
    reason: &'static str,
    message: &str,
) {
    if claim_phase(claim) == phase {
        return;
    }
    claim_status_update(plan, claim, phase, None);
    plan.event(claim_reference(claim), type_, reason, message.to_string());
}

/// `bind`: the volume's `claimRef` (and `bound-by-controller`), the volume's phase, the
/// claim's `volumeName` (and `bound-by-controller`, `bind-completed`), the claim's status.
fn bind(plan: &mut Plan, volume: &PersistentVolume, claim: &PersistentVolumeClaim, now: Timestamp) {
    let mut v = volume.clone();
    let mut dirty = false;
    let set_by_controller = !is_volume_bound_to_claim(volume, claim);
    let spec = v.spec.get_or_insert_with(Default::default);
    let same = spec.claim_ref.as_ref().is_some_and(|r| {
        r.name == claim.metadata.name
            && r.namespace.as_deref().unwrap_or("") == claim.metadata.namespace.as_deref().unwrap_or("")
            && r.uid == claim.metadata.uid
    });
    if !same {
        spec.claim_ref = Some(claim_reference(claim));
        dirty = true;
    }
    if set_by_controller && !has_annotation(&v.metadata, ANN_BOUND_BY_CONTROLLER) {
        set_annotation(&mut v.metadata, ANN_BOUND_BY_CONTROLLER, "yes");
        dirty = true;
    }
    if dirty {
        plan.push(Action::UpdateVolume(Box::new(v.clone())));
    }
    let v = volume_phase_update(plan, &v, "Bound", "", now);

    let vname = v.metadata.name.clone().unwrap_or_default();
    let mut c = claim.clone();
    let mut dirty = false;
    let set_by_controller = volume_name(claim) != vname;
    let cspec = c.spec.get_or_insert_with(Default::default);
    if cspec.volume_name.as_deref() != Some(vname.as_str()) {
        cspec.volume_name = Some(vname.clone());
        dirty = true;
    }
    if set_by_controller && !has_annotation(&c.metadata, ANN_BOUND_BY_CONTROLLER) {
        set_annotation(&mut c.metadata, ANN_BOUND_BY_CONTROLLER, "yes");
        dirty = true;
    }
    if !has_annotation(&c.metadata, ANN_BIND_COMPLETED) {
        set_annotation(&mut c.metadata, ANN_BIND_COMPLETED, "yes");
        dirty = true;
    }
    if dirty {
        plan.push(Action::UpdateClaim(Box::new(c.clone())));
    }
    claim_status_update(plan, &c, "Bound", Some(&v));
}

/// `unbindVolume`: a volume the controller bound loses its `claimRef`; one the user pre-bound
/// keeps it without the UID. Then the volume is Available.
fn unbind_volume(plan: &mut Plan, volume: &PersistentVolume, now: Timestamp) {
    let mut v = volume.clone();
    if has_annotation(&volume.metadata, ANN_BOUND_BY_CONTROLLER) {
        if let Some(spec) = v.spec.as_mut() {
            spec.claim_ref = None;
        }
        if let Some(a) = v.metadata.annotations.as_mut() {
            a.remove(ANN_BOUND_BY_CONTROLLER);
            if a.is_empty() {
                v.metadata.annotations = None;
            }
        }
    } else if let Some(r) = v.spec.as_mut().and_then(|s| s.claim_ref.as_mut()) {
        r.uid = None;
    }
    plan.push(Action::UpdateVolume(Box::new(v.clone())));
    volume_phase_update(plan, &v, "Available", "", now);
}

/// `checkVolumeSatisfyClaim`: why a volume the claim names cannot serve it.
fn check_volume_satisfies_claim(
    volume: &PersistentVolume,
    claim: &PersistentVolumeClaim,
) -> Result<(), String> {
    if volume.metadata.deletion_timestamp.is_some() {
        return Err(format!(
            "the volume is marked for deletion {:?}",
            volume.metadata.name.as_deref().unwrap_or("")
        ));
    }
    if volume_capacity(volume) < requested_storage(claim) {
        return Err("requested PV is too small".into());
    }
    if volume_class(volume) != claim_class(claim) {
        return Err("storageClassName does not match".into());
    }
    if volume_mode_mismatch(claim, volume) {
        return Err("incompatible volumeMode".into());
    }
    if !access_modes_fit(claim, volume) {
        return Err("incompatible accessMode".into());
    }
    Ok(())
}

/// Pods that have not finished and reference the claim (directly or as a generic ephemeral
/// volume), as `PodPVCIndex` indexes them.
fn pods_using<'a>(
    claim: &PersistentVolumeClaim,
    pods: &'a [std::sync::Arc<Pod>],
) -> impl Iterator<Item = &'a std::sync::Arc<Pod>> {
    let ns = claim.metadata.namespace.clone().unwrap_or_default();
    let name = claim.metadata.name.clone().unwrap_or_default();
    pods.iter().filter(move |p| {
        let finished = matches!(
            p.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        let pod_name = p.metadata.name.as_deref().unwrap_or("");
        p.metadata.namespace.as_deref() == Some(ns.as_str())
            && !finished
            && p.spec
                .as_ref()
                .and_then(|s| s.volumes.as_ref())
                .is_some_and(|vols| {
                    vols.iter().any(|v| {
                        v.persistent_volume_claim
                            .as_ref()
                            .is_some_and(|c| c.claim_name == name)
                            || (v.ephemeral.is_some() && format!("{pod_name}-{}", v.name) == name)
                    })
                })
    })
}

/// `emitEventForUnboundDelayBindingClaim`.
fn delay_binding_event(plan: &mut Plan, claim: &PersistentVolumeClaim, world: &World) {
    let unscheduled: Vec<String> = pods_using(claim, &world.pods)
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or("")
                .is_empty()
        })
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    let (reason, message) = match unscheduled.as_slice() {
        [] => (
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding".to_string(),
        ),
        [one] => (
            "WaitForPodScheduled",
            format!("waiting for pod {one} to be scheduled"),
        ),
        many => (
            "WaitForPodScheduled",
            format!("waiting for pods {} to be scheduled", many.join(",")),
        ),
    };
    plan.event(claim_reference(claim), "Normal", reason, message);
}

/// The node a `berth.dev/local` volume of an `Immediate` class goes to: a Ready, schedulable
/// node within the class's `allowedTopologies` holding the fewest volumes (bound or being
/// provisioned there); ties go to the first name.
pub fn choose_node(class: &StorageClass, world: &World) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for (name, node) in &world.nodes {
        let labels = node_labels(node);
        let unschedulable = node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
        if !node_is_ready(node)
            || unschedulable
            || !topology_allows(class.allowed_topologies.as_ref(), &labels)
        {
            continue;
        }
        let volumes = world
            .volumes
            .values()
            .filter(|v| {
                v.spec.as_ref().and_then(|s| s.node_affinity.as_ref()).is_some()
                    && node_affinity_fits(v, name, &labels)
            })
            .count();
        let pending = world
            .claims
            .values()
            .filter(|c| volume_name(c).is_empty() && annotation(&c.metadata, ANN_SELECTED_NODE) == Some(name))
            .count();
        let load = volumes + pending;
        if best.is_none_or(|(l, _)| load < l) {
            best = Some((load, name));
        }
    }
    best.map(|(_, n)| n.to_string())
}

/// `provisionClaim` for an external provisioner (every provisioner, in Berth).
fn provision_claim(plan: &mut Plan, claim: &PersistentVolumeClaim, world: &World) {
    let class_name = claim_class(claim);
    let Some(class) = world.classes.get(class_name) else {
        plan.event(
            claim_reference(claim),
            "Warning",
            "ProvisioningFailed",
            format!("storageclass.storage.k8s.io {class_name:?} not found"),
        );
        return;
    };
    let provisioner = class.provisioner.as_str();
    if provisioner.starts_with("kubernetes.io/") {
        // Kubernetes looks for an in-tree plugin of that name; Berth has none.
        plan.event(
            claim_reference(claim),
            "Warning",
            "ProvisioningFailed",
            format!("no volume plugin matched name: {provisioner}"),
        );
        return;
    }
    // setClaimProvisioner, plus Berth's node choice for Immediate local volumes.
    let mut c = claim.clone();
    let mut dirty = false;
    for key in [ANN_STORAGE_PROVISIONER, ANN_BETA_STORAGE_PROVISIONER] {
        if annotation(&c.metadata, key) != Some(provisioner) {
            set_annotation(&mut c.metadata, key, provisioner);
            dirty = true;
        }
    }
    if provisioner == LOCAL_PROVISIONER
        && !is_delay_binding(claim, world)
        && !has_annotation(&c.metadata, ANN_SELECTED_NODE)
    {
        match choose_node(class, world) {
            Some(node) => {
                set_annotation(&mut c.metadata, ANN_SELECTED_NODE, &node);
                dirty = true;
            }
            None => {
                plan.event(
                    claim_reference(claim),
                    "Warning",
                    "ProvisioningFailed",
                    format!(
                        "no Ready node satisfies the allowedTopologies of StorageClass {:?}",
                        class.metadata.name.as_deref().unwrap_or("")
                    ),
                );
                return;
            }
        }
    }
    if dirty {
        plan.push(Action::UpdateClaim(Box::new(c.clone())));
    }
    plan.event(
        claim_reference(&c),
        "Normal",
        "ExternalProvisioning",
        format!(
            "Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."
        ),
    );
}

/// `syncClaim`: what to do with one claim.
pub fn sync_claim(claim: &PersistentVolumeClaim, world: &World, now: Timestamp) -> Plan {
    let mut plan = Plan::default();
    if has_annotation(&claim.metadata, ANN_BIND_COMPLETED) {
        sync_bound_claim(&mut plan, claim, world, now);
    } else {
        sync_unbound_claim(&mut plan, claim, world, now);
    }
    plan
}

fn sync_unbound_claim(plan: &mut Plan, claim: &PersistentVolumeClaim, world: &World, now: Timestamp) {
    let requested = volume_name(claim);
    if requested.is_empty() {
        let delay = is_delay_binding(claim, world);
        let selected = annotation(&claim.metadata, ANN_SELECTED_NODE);
        let labels = selected.and_then(|n| world.nodes.get(n)).map(node_labels);
        let node = match (delay, selected, labels.as_ref()) {
            (true, Some(name), Some(labels)) => Some(TargetNode { name, labels }),
            _ => None,
        };
        let volumes: Vec<&PersistentVolume> = world.volumes.values().collect();
        let found = match find_best_match(claim, &volumes, node, delay) {
            Ok(found) => found,
            Err(e) => {
                plan.error = Some(format!("error finding PV for claim {:?}: {e}", key_of(claim)));
                return;
            }
        };
        match found {
            Some(volume) => bind(plan, volume, claim, now),
            None => {
                let class_unset = claim.spec.as_ref().is_none_or(|s| s.storage_class_name.is_none())
                    && !has_annotation(&claim.metadata, super::matching::ANN_BETA_STORAGE_CLASS);
                if class_unset {
                    let classes: Vec<&StorageClass> = world.classes.values().collect();
                    if let Some(default) = default_class(&classes) {
                        let mut c = claim.clone();
                        c.spec.get_or_insert_with(Default::default).storage_class_name = Some(default);
                        plan.push(Action::UpdateClaim(Box::new(c)));
                        return;
                    }
                }
                if delay && selected.is_none() {
                    delay_binding_event(plan, claim, world);
                } else if !claim_class(claim).is_empty() {
                    provision_claim(plan, claim, world);
                    return;
                } else {
                    plan.event(
                        claim_reference(claim),
                        "Normal",
                        "FailedBinding",
                        "no persistent volumes available for this claim and no storage class is set".into(),
                    );
                }
                claim_status_update(plan, claim, "Pending", None);
            }
        }
        return;
    }
    // The user asked for a specific volume.
    let Some(volume) = world.volumes.get(requested) else {
        claim_status_update(plan, claim, "Pending", None);
        return;
    };
    let claimed = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()).is_some();
    if !claimed {
        match check_volume_satisfies_claim(volume, claim) {
            Err(e) => {
                plan.event(
                    claim_reference(claim),
                    "Warning",
                    "VolumeMismatch",
                    format!("Cannot bind to requested volume {requested:?}: {e}"),
                );
                claim_status_update(plan, claim, "Pending", None);
            }
            Ok(()) => bind(plan, volume, claim, now),
        }
    } else if is_volume_bound_to_claim(volume, claim) {
        bind(plan, volume, claim, now);
    } else {
        plan.event(
            claim_reference(claim),
            "Warning",
            "FailedBinding",
            format!("volume {requested:?} already bound to a different claim."),
        );
        if has_annotation(&claim.metadata, ANN_BOUND_BY_CONTROLLER) {
            let other = volume
                .spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .map(|r| {
                    claim_key(
                        r.namespace.as_deref().unwrap_or(""),
                        r.name.as_deref().unwrap_or(""),
                    )
                })
                .unwrap_or_default();
            plan.error = Some(format!(
                "invalid binding of claim {:?} to volume {requested:?}: volume already claimed by {other:?}",
                key_of(claim)
            ));
        } else {
            claim_status_update(plan, claim, "Pending", None);
        }
    }
}

fn sync_bound_claim(plan: &mut Plan, claim: &PersistentVolumeClaim, world: &World, now: Timestamp) {
    let requested = volume_name(claim);
    if requested.is_empty() {
        claim_status_with_event(
            plan,
            claim,
            "Lost",
            "Warning",
            "ClaimLost",
            "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
        );
        return;
    }
    let Some(volume) = world.volumes.get(requested) else {
        claim_status_with_event(
            plan,
            claim,
            "Lost",
            "Warning",
            "ClaimLost",
            "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
        );
        return;
    };
    match volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
        None => bind(plan, volume, claim, now),
        Some(r) if r.uid == claim.metadata.uid => bind(plan, volume, claim, now),
        Some(_) => claim_status_with_event(
            plan,
            claim,
            "Lost",
            "Warning",
            "ClaimMisbound",
            "Two claims are bound to the same volume, this one is bound incorrectly",
        ),
    }
}

/// `syncVolume`: what to do with one volume.
pub fn sync_volume(volume: &PersistentVolume, world: &World, now: Timestamp) -> Plan {
    let mut plan = Plan::default();
    let Some(r) = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        volume_phase_update(&mut plan, volume, "Available", "", now);
        return plan;
    };
    if r.uid.as_deref().unwrap_or("").is_empty() {
        // Pre-bound by the user; the claim's sync binds it.
        volume_phase_update(&mut plan, volume, "Available", "", now);
        return plan;
    }
    let key = claim_key(
        r.namespace.as_deref().unwrap_or(""),
        r.name.as_deref().unwrap_or(""),
    );
    let claim = world.claims.get(&key).filter(|c| c.metadata.uid == r.uid);
    let Some(claim) = claim else {
        // The claim was deleted: the volume is released and its reclaim policy applies. A
        // Failed phase is kept so the user sees what went wrong.
        let v = if matches!(volume_phase(volume), "Released" | "Failed") {
            volume.clone()
        } else {
            volume_phase_update(&mut plan, volume, "Released", "", now)
        };
        reclaim_volume(&mut plan, &v, now);
        return plan;
    };
    let bound_to = volume_name(claim);
    let name = volume.metadata.name.as_deref().unwrap_or("");
    if bound_to.is_empty() {
        // Binding not finished (or undone by a user): the claim's sync completes it.
    } else if bound_to == name {
        volume_phase_update(&mut plan, volume, "Bound", "", now);
    } else if annotation(&volume.metadata, ANN_DYNAMICALLY_PROVISIONED).is_some()
        && reclaim_policy(volume) == "Delete"
    {
        let v = if matches!(volume_phase(volume), "Released" | "Failed") {
            volume.clone()
        } else {
            volume_phase_update(&mut plan, volume, "Released", "", now)
        };
        reclaim_volume(&mut plan, &v, now);
    } else {
        unbind_volume(&mut plan, volume, now);
    }
    plan
}

fn reclaim_policy(volume: &PersistentVolume) -> &str {
    volume
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or("Retain")
}

/// `reclaimVolume` for a released volume.
fn reclaim_volume(plan: &mut Plan, volume: &PersistentVolume, now: Timestamp) {
    match reclaim_policy(volume) {
        "Retain" => {}
        "Recycle" => volume_phase_with_event(
            plan,
            volume,
            "Failed",
            "Warning",
            "VolumeFailedRecycle",
            "No recycler plugin found for the volume!".into(),
            now,
        ),
        "Delete" => {
            // `deleteVolumeOperation` → `findDeletablePlugin`: a volume provisioned by an
            // external provisioner is left to it (Berth's node provisioner deletes
            // `berth.dev/local` volumes); Berth has no in-tree deleters.
            let name = volume.metadata.name.as_deref().unwrap_or("");
            let message = match annotation(&volume.metadata, ANN_DYNAMICALLY_PROVISIONED)
                .filter(|p| !p.is_empty())
            {
                Some(p) if !p.starts_with("kubernetes.io/") => return,
                Some(p) => format!("no volume plugin matched name: {p}"),
                None => format!(
                    "error getting deleter volume plugin for volume {name:?}: no deletable volume plugin matched"
                ),
            };
            volume_phase_with_event(
                plan,
                volume,
                "Failed",
                "Warning",
                "VolumeFailedDelete",
                message,
                now,
            );
        }
        _ => volume_phase_with_event(
            plan,
            volume,
            "Failed",
            "Warning",
            "VolumeUnknownReclaimPolicy",
            "Volume has unrecognized PersistentVolumeReclaimPolicy".into(),
            now,
        ),
    }
}
