//! The storage protection controller (Kubernetes' `pvc-protection` and `pv-protection`):
//! a claim being deleted keeps its `kubernetes.io/pvc-protection` finalizer while any pod
//! that has not finished uses it; a volume being deleted keeps `kubernetes.io/pv-protection`
//! while it is bound.

use berth_informer::Informers;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The claim finalizer.
pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
/// The volume finalizer.
pub const PV_PROTECTION: &str = "kubernetes.io/pv-protection";

/// Whether a pod that has not finished mounts the claim `name` of `namespace`.
pub fn claim_in_use<'p>(namespace: &str, name: &str, pods: impl IntoIterator<Item = &'p Pod>) -> bool {
    pods.into_iter().any(|p| {
        let finished = matches!(
            p.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        p.namespace().as_deref() == Some(namespace)
            && !finished
            && p.spec
                .as_ref()
                .and_then(|s| s.volumes.as_ref())
                .is_some_and(|vols| {
                    vols.iter().any(|v| {
                        v.persistent_volume_claim
                            .as_ref()
                            .is_some_and(|c| c.claim_name == name)
                    })
                })
    })
}

fn mounts_a_claim(p: &Pod) -> bool {
    p.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .is_some_and(|vols| vols.iter().any(|v| v.persistent_volume_claim.is_some()))
}

/// Whether a volume is still bound to a claim.
pub fn volume_in_use(pv: &PersistentVolume) -> bool {
    pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
}

fn waits_on(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, finalizer: &str) -> bool {
    meta.deletion_timestamp.is_some() && meta.finalizers.iter().flatten().any(|f| f == finalizer)
}

fn release_patch(uid: Option<String>, finalizer: &str) -> Patch<serde_json::Value> {
    Patch::Strategic(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [finalizer], "uid": uid}}))
}

/// Runs the controller.
pub async fn run(informers: Arc<Informers>) {
    let client = informers.client().clone();
    let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
    // A pod matters only when it mounts claims (it may be what holds a claim back).
    let pod_informer = informers.get::<Pod>();
    let pods = pod_informer.notify(tx.clone(), mounts_a_claim);
    let claims = informers
        .get::<PersistentVolumeClaim>()
        .notify(tx.clone(), |_| true);
    let volumes = informers.get::<PersistentVolume>().notify(tx.clone(), |_| true);
    drop(tx);
    let mut retry = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            change = changes.recv() => if change.is_none() { return },
            _ = retry.tick() => {}
        }
        berth_informer::settle_channel(
            Duration::from_millis(10),
            Duration::from_millis(200),
            &mut changes,
        )
        .await;
        pod_informer.synced().await;
        // Only claims being deleted are looked at, so most passes never touch the pods.
        let waiting: Vec<_> = claims
            .state()
            .into_iter()
            .filter(|c| waits_on(&c.metadata, PVC_PROTECTION))
            .collect();
        let all_pods = if waiting.is_empty() {
            Vec::new()
        } else {
            pods.state()
        };
        for claim in waiting {
            let ns = claim.namespace().unwrap_or_default();
            if claim_in_use(&ns, &claim.name_any(), all_pods.iter().map(|p| &**p)) {
                continue;
            }
            let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
            match api
                .patch(
                    &claim.name_any(),
                    &PatchParams::default(),
                    &release_patch(claim.uid(), PVC_PROTECTION),
                )
                .await
            {
                Ok(_) | Err(kube::Error::Api(_)) => {}
                Err(e) => {
                    tracing::debug!(claim = %claim.name_any(), error = %e, "releasing claim protection failed")
                }
            }
        }
        for pv in volumes.state() {
            if !waits_on(&pv.metadata, PV_PROTECTION) || volume_in_use(&pv) {
                continue;
            }
            let api: Api<PersistentVolume> = Api::all(client.clone());
            match api
                .patch(
                    &pv.name_any(),
                    &PatchParams::default(),
                    &release_patch(pv.uid(), PV_PROTECTION),
                )
                .await
            {
                Ok(_) | Err(kube::Error::Api(_)) => {}
                Err(e) => {
                    tracing::debug!(volume = %pv.name_any(), error = %e, "releasing volume protection failed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, claim: &str, phase: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": ns},
            "spec": {"containers": [], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]},
            "status": {"phase": phase}
        }))
        .expect("pod")
    }

    #[test]
    fn running_pods_hold_their_claims() {
        let pods = vec![
            pod("a", "data-web-0", "Running"),
            pod("b", "data-web-1", "Succeeded"),
        ];
        assert!(claim_in_use("a", "data-web-0", &pods));
        assert!(!claim_in_use("b", "data-web-0", &pods), "another namespace");
        assert!(
            !claim_in_use("b", "data-web-1", &pods),
            "a finished pod does not hold its claim"
        );
        assert!(!claim_in_use("a", "other", &pods));
    }

    #[test]
    fn bound_volumes_are_in_use() {
        let bound: PersistentVolume =
            serde_json::from_value(json!({"metadata": {"name": "v"}, "status": {"phase": "Bound"}}))
                .expect("pv");
        let released: PersistentVolume =
            serde_json::from_value(json!({"metadata": {"name": "v"}, "status": {"phase": "Released"}}))
                .expect("pv");
        assert!(volume_in_use(&bound));
        assert!(!volume_in_use(&released));
    }
}
