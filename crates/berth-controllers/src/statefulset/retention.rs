//! Claim owner references per `persistentVolumeClaimRetentionPolicy` (items 43, 91–99):
//! `isClaimOwnerUpToDate`, `updateClaimOwnerRefForSetAndPod`, `hasUnexpectedController`,
//! `hasStaleOwnerRef` and `PodClaimIsStale`.

use super::spec::{Retention, SetView};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// The object a claim may be owned by: the set or one of its pods.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// `apiVersion` (`apps/v1` or `v1`).
    pub api_version: &'a str,
    /// `StatefulSet` or `Pod`.
    pub kind: &'a str,
    /// Name.
    pub name: &'a str,
    /// UID ("" for a pod not yet created).
    pub uid: &'a str,
}

impl<'a> Owner<'a> {
    /// The set as an owner.
    pub fn set(set: &'a SetView) -> Self {
        Owner {
            api_version: "apps/v1",
            kind: "StatefulSet",
            name: &set.name,
            uid: &set.uid,
        }
    }

    /// A pod as an owner.
    pub fn pod(pod: &'a Pod) -> Self {
        Owner {
            api_version: "v1",
            kind: "Pod",
            name: pod.metadata.name.as_deref().unwrap_or_default(),
            uid: pod.metadata.uid.as_deref().unwrap_or_default(),
        }
    }

    fn matches(&self, r: &OwnerReference) -> bool {
        r.api_version == self.api_version && r.kind == self.kind && r.name == self.name
    }

    fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.into(),
            kind: self.kind.into(),
            name: self.name.into(),
            uid: self.uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

fn refs(claim: &PersistentVolumeClaim) -> &[OwnerReference] {
    claim.metadata.owner_references.as_deref().unwrap_or_default()
}

fn has_ref(claim: &PersistentVolumeClaim, o: Owner<'_>) -> bool {
    refs(claim).iter().any(|r| r.uid == o.uid)
}

/// `hasStaleOwnerRef`: the first reference naming `o` carries another UID.
pub fn has_stale_ref(claim: &PersistentVolumeClaim, o: Owner<'_>) -> bool {
    refs(claim)
        .iter()
        .find(|r| o.matches(r))
        .is_some_and(|r| r.uid != o.uid)
}

/// `hasUnexpectedController` (item 96): with a non-Retain policy, another controller (or a
/// stale reference to the set or pod) owns the claim.
pub fn has_unexpected_controller(
    claim: &PersistentVolumeClaim,
    policy: Retention,
    set: Owner<'_>,
    pod: Owner<'_>,
) -> bool {
    if !policy.when_deleted_delete && !policy.when_scaled_delete {
        return false;
    }
    refs(claim).iter().any(|r| {
        if set.matches(r) {
            r.uid != set.uid
        } else if pod.matches(r) {
            r.uid != pod.uid
        } else {
            r.controller == Some(true)
        }
    })
}

fn has_non_controller_owner(claim: &PersistentVolumeClaim, set: Owner<'_>, pod: Owner<'_>) -> bool {
    refs(claim)
        .iter()
        .any(|r| (r.uid == set.uid || r.uid == pod.uid) && r.controller != Some(true))
}

/// `isClaimOwnerUpToDate` (items 91, 97): whether the claim's references already follow the
/// policy. Claims with stale references, or with another controller and no reference of ours,
/// are left alone (reported up to date).
pub fn is_up_to_date(
    claim: &PersistentVolumeClaim,
    policy: Retention,
    set: Owner<'_>,
    pod: Owner<'_>,
    pod_in_range: bool,
) -> bool {
    if has_stale_ref(claim, set) || has_stale_ref(claim, pod) {
        return true;
    }
    if has_unexpected_controller(claim, policy, set, pod) {
        return !(has_ref(claim, set) || has_ref(claim, pod));
    }
    if has_non_controller_owner(claim, set, pod) {
        return false;
    }
    let (s, p) = (has_ref(claim, set), has_ref(claim, pod));
    let scaled_down = !pod_in_range;
    match (policy.when_scaled_delete, policy.when_deleted_delete) {
        (false, false) => !s && !p,
        (false, true) => s && !p,
        (true, false) => !s && scaled_down == p,
        (true, true) => scaled_down != s && scaled_down == p,
    }
}

/// `updateClaimOwnerRefForSetAndPod`: the claim's new reference list — ours scrubbed, then the
/// set and/or pod added as controller per the policy (nothing added under another controller).
pub fn desired_refs(
    claim: &PersistentVolumeClaim,
    policy: Retention,
    set: Owner<'_>,
    pod: Owner<'_>,
    pod_in_range: bool,
) -> Vec<OwnerReference> {
    let unexpected = has_unexpected_controller(claim, policy, set, pod);
    let mut out: Vec<OwnerReference> = refs(claim)
        .iter()
        .filter(|r| !set.matches(r) && !pod.matches(r))
        .cloned()
        .collect();
    if unexpected {
        return out;
    }
    let mut add = |o: Owner<'_>| {
        if !out.iter().any(|r| r.uid == o.uid) {
            out.push(o.controller_ref());
        }
    };
    let scaled_down = !pod_in_range;
    match (policy.when_scaled_delete, policy.when_deleted_delete) {
        (false, false) => {}
        (false, true) => add(set),
        (true, false) => {
            if scaled_down {
                add(pod)
            }
        }
        (true, true) => add(if scaled_down { pod } else { set }),
    }
    out
}

/// The references a claim created for an in-range pod starts with (Berth creates it with them
/// rather than patching it on a later sync): the set when `whenDeleted: Delete`.
pub fn refs_for_new_claim(policy: Retention, set: Owner<'_>) -> Option<Vec<OwnerReference>> {
    policy.when_deleted_delete.then(|| vec![set.controller_ref()])
}

/// `PodClaimIsStale` (item 95): with `whenScaled: Delete`, an existing claim of a pod about to be
/// created still references an earlier pod of that name (its GC is pending).
pub fn claim_is_stale(claim: &PersistentVolumeClaim, policy: Retention, new_pod: Owner<'_>) -> bool {
    policy.when_scaled_delete && has_stale_ref(claim, new_pod)
}

#[cfg(test)]
mod tests;
