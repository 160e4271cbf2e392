//! The Events Kubernetes records for each action's outcome (`recordPodEvent`,
//! `recordClaimEvent` in `stateful_pod_control.go`), with their exact reasons and messages.

use super::types::{Action, Event, EventType, Outcome};

fn title(verb: &str) -> String {
    let mut c = verb.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `recordPodEvent`: `Successful<Verb>` / `Failed<Verb>` for a pod.
pub fn pod_event(verb: &str, pod: &str, set: &str, err: Option<&str>) -> Event {
    match err {
        None => Event {
            type_: EventType::Normal,
            reason: format!("Successful{}", title(verb)),
            message: format!("{verb} Pod {pod} in StatefulSet {set} successful"),
        },
        Some(e) => Event {
            type_: EventType::Warning,
            reason: format!("Failed{}", title(verb)),
            message: format!("{verb} Pod {pod} in StatefulSet {set} failed error: {e}"),
        },
    }
}

/// `recordClaimEvent`: `Successful<Verb>` / `Failed<Verb>` for a pod's claim.
pub fn claim_event(verb: &str, claim: &str, pod: &str, set: &str, err: Option<&str>) -> Event {
    match err {
        None => Event {
            type_: EventType::Normal,
            reason: format!("Successful{}", title(verb)),
            message: format!("{verb} Claim {claim} Pod {pod} in StatefulSet {set} success"),
        },
        Some(e) => Event {
            type_: EventType::Warning,
            reason: format!("Failed{}", title(verb)),
            message: format!("{verb} Claim {claim} for Pod {pod} in StatefulSet {set} failed error: {e}"),
        },
    }
}

/// The `ConflictingController` warning (item 96), message spelled as upstream ("manging").
pub fn conflicting_controller(claim: &str) -> Event {
    Event {
        type_: EventType::Warning,
        reason: "ConflictingController".into(),
        message: format!(
            "PersistentVolumeClaim {claim} has a conflicting OwnerReference that acts as a manging \
             controller, the retention policy is ignored for this claim"
        ),
    }
}

impl Action {
    /// The Events to record on the set named `set` once this action ended with `outcome`.
    pub fn events(&self, set: &str, outcome: Outcome<'_>) -> Vec<Event> {
        let err = match outcome {
            Outcome::Succeeded => None,
            Outcome::AlreadyExists => Some("already exists"),
            Outcome::Failed(e) => Some(e),
        };
        match self {
            Action::CreateRevision(_) | Action::UpdateRevision { .. } | Action::DeleteRevision(_) => vec![],
            Action::CreateClaim { claim, pod } => {
                let name = claim.metadata.name.as_deref().unwrap_or_default();
                match outcome {
                    Outcome::Succeeded => vec![claim_event("create", name, pod, set, None)],
                    // Kubernetes records no claim event for AlreadyExists, but the pod fails.
                    Outcome::AlreadyExists => {
                        let e = format!("failed to create PVC {name}: already exists");
                        vec![pod_event("create", pod, set, Some(&e))]
                    }
                    Outcome::Failed(e) => vec![
                        claim_event("create", name, pod, set, Some(e)),
                        pod_event(
                            "create",
                            pod,
                            set,
                            Some(&format!("failed to create PVC {name}: {e}")),
                        ),
                    ],
                }
            }
            Action::CreatePod(pod) => match outcome {
                Outcome::AlreadyExists => vec![],
                _ => vec![pod_event(
                    "create",
                    pod.metadata.name.as_deref().unwrap_or_default(),
                    set,
                    err,
                )],
            },
            Action::DeletePod { name, .. } => vec![pod_event("delete", name, set, err)],
            Action::UpdatePodIdentity(pod) => {
                vec![pod_event(
                    "update",
                    pod.metadata.name.as_deref().unwrap_or_default(),
                    set,
                    err,
                )]
            }
            Action::PatchClaimOwnerRefs { name, pod, .. } => match err {
                None => vec![],
                Some(e) => {
                    let e = format!("could not update claim {name} for delete policy ownerRefs: {e}");
                    vec![pod_event("update", pod, set, Some(&e))]
                }
            },
            Action::ExpandClaim { name, pod, .. } => vec![claim_event("update", name, pod, set, err)],
            Action::Fail { pod, verb, message } => match verb {
                Some(v) => vec![pod_event(v, pod, set, Some(message))],
                None => vec![],
            },
        }
    }
}
