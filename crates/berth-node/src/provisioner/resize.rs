//! The shell of online expansion: runs [`super::expand`]'s decision against the node and the
//! API, writing the claim statuses and events of external-resizer and kubelet. Order matters
//! for crash safety: the device and the filesystem grow first, the volume's capacity is
//! recorded next and the claim's last, so every pass after a crash sees either "still bigger
//! than the volume" (grow again: idempotent) or "volume grown, claim not told" (finish).

use super::expand::{self, ExpandDecision};
use super::{Provisioner, ProvisionerError, blocking, reference, volumes};
use berth_api::crashpoint;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};

/// The reasons of the events an expansion records.
const RESIZE_REASONS: &[&str] = &[
    "ExternalExpanding",
    "Resizing",
    "FileSystemResizeRequired",
    "FileSystemResizeSuccessful",
    "FileSystemResizeFailed",
    "VolumeResizeSuccessful",
    "VolumeResizeFailed",
];

impl Provisioner {
    /// Acts on one bound claim's size decision; failures are reported and retried next pass.
    pub(super) async fn act_on_size(
        &mut self,
        claim: &PersistentVolumeClaim,
        volume: &PersistentVolume,
        decision: ExpandDecision,
    ) {
        let result = match decision {
            ExpandDecision::Skip => return,
            ExpandDecision::Finish { capacity } => self.finish(claim, capacity).await,
            ExpandDecision::Expand { driver, from, to } => {
                tracing::info!(claim = %claim.name_any(), volume = %volume.name_any(), from, to, "expanding a volume");
                self.expand(claim, volume, driver, to).await
            }
        };
        if let Err(e) = result {
            tracing::warn!(claim = %claim.name_any(), error = %e, "expanding a volume failed; will retry");
        }
    }

    async fn patch_claim_status(
        &self,
        claim: &PersistentVolumeClaim,
        patch: serde_json::Value,
    ) -> Result<(), ProvisionerError> {
        let api: Api<PersistentVolumeClaim> =
            Api::namespaced(self.client.clone(), &claim.namespace().unwrap_or_default());
        api.patch_status(&claim.name_any(), &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        Ok(())
    }

    async fn finish(&mut self, claim: &PersistentVolumeClaim, capacity: u64) -> Result<(), ProvisionerError> {
        self.patch_claim_status(claim, expand::done_patch(capacity)).await
    }

    async fn expand(
        &mut self,
        claim: &PersistentVolumeClaim,
        volume: &PersistentVolume,
        driver: super::driver::Driver,
        to: u64,
    ) -> Result<(), ProvisionerError> {
        let name = volume.name_any();
        let node = self.node.name.clone();
        let claim_ref = reference(claim);
        let now = k8s_openapi::jiff::Timestamp::now().to_string();
        self.event(
            &claim_ref,
            "Warning",
            "ExternalExpanding",
            expand::EXTERNAL_EXPANDING_MESSAGE.into(),
        )
        .await;
        self.event(&claim_ref, "Normal", "Resizing", expand::resizing_message(&name))
            .await;
        if !expand::resize_in_progress(claim) {
            self.patch_claim_status(claim, expand::resizing_patch(to, &now))
                .await?;
        }
        crashpoint::reached("expand:after-resizing-status");
        let root = self.root.clone();
        let n = name.clone();
        let grow_fs = match blocking(move || volumes::expand_device(driver, &root, &n, to)).await {
            Ok(grow_fs) => grow_fs,
            Err(e) => {
                let message = format!("resize volume {name:?} by resizer \"berth.dev/local\" failed: {e}");
                self.event(&claim_ref, "Warning", "VolumeResizeFailed", message)
                    .await;
                return Err(e);
            }
        };
        crashpoint::reached("expand:after-device-grow");
        if grow_fs {
            self.event(
                &claim_ref,
                "Normal",
                "FileSystemResizeRequired",
                expand::FS_RESIZE_REQUIRED_MESSAGE.into(),
            )
            .await;
            let pending = claim
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "FileSystemResizePending"));
            if !pending {
                self.patch_claim_status(claim, expand::fs_pending_patch(&now))
                    .await?;
            }
            let root = self.root.clone();
            let n = name.clone();
            if let Err(e) = blocking(move || volumes::expand_filesystem(driver, &root, &n)).await {
                let message = expand::fs_resize_failed_message(&name, &e.to_string());
                self.event(&claim_ref, "Warning", "FileSystemResizeFailed", message)
                    .await;
                return Err(e);
            }
            crashpoint::reached("expand:after-fs-resize");
        }
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        api.patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(expand::volume_patch(to)),
        )
        .await?;
        // The volume records the new size, the claim does not yet.
        crashpoint::reached("expand:after-pv-capacity");
        if grow_fs {
            let message = expand::fs_resize_succeeded_message(&name, &node);
            self.event(&claim_ref, "Normal", "FileSystemResizeSuccessful", message)
                .await;
        } else {
            self.event(
                &claim_ref,
                "Normal",
                "VolumeResizeSuccessful",
                expand::RESIZE_SUCCEEDED_MESSAGE.into(),
            )
            .await;
        }
        self.patch_claim_status(claim, expand::done_patch(to)).await?;
        // A later expansion of the same claim is reported afresh.
        let uid = claim_ref.uid.unwrap_or_default();
        self.emitted
            .retain(|(u, reason, _)| *u != uid || !RESIZE_REASONS.contains(reason));
        Ok(())
    }
}
