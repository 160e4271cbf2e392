//! [`SetView`]: the StatefulSet fields the planner reads, with Kubernetes' defaults applied
//! (items 1–6) so the rest of the module never unwraps an `Option`.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The update strategy.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// `RollingUpdate` with its partition and, if set, maxUnavailable.
    RollingUpdate {
        /// `rollingUpdate.partition` (0 when unset), relative to `ordinals.start`.
        partition: i64,
        /// `rollingUpdate.maxUnavailable`; when set, the maxUnavailable algorithm is used.
        max_unavailable: Option<IntOrString>,
    },
    /// `OnDelete`.
    OnDelete,
}

/// `persistentVolumeClaimRetentionPolicy`, with `Retain` for anything but `Delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// `whenDeleted: Delete`.
    pub when_deleted_delete: bool,
    /// `whenScaled: Delete`.
    pub when_scaled_delete: bool,
}

/// The set, flattened and defaulted.
#[derive(Debug, Clone)]
pub struct SetView {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.generation`.
    pub generation: i64,
    /// `metadata.annotations` (copied onto new revisions).
    pub annotations: BTreeMap<String, String>,
    /// Whether `deletionTimestamp` is set (item 51).
    pub deleting: bool,
    /// `spec.replicas` (default 1).
    pub replicas: i64,
    /// `spec.ordinals.start` (default 0).
    pub start: i64,
    /// `podManagementPolicy` is not `Parallel`.
    pub monotonic: bool,
    /// The update strategy.
    pub strategy: Strategy,
    /// `spec.minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `spec.revisionHistoryLimit` (default 10; negative keeps all).
    pub history_limit: i64,
    /// The retention policy.
    pub retention: Retention,
    /// `spec.serviceName`.
    pub service_name: String,
    /// `spec.volumeClaimTemplates`.
    pub claim_templates: Vec<PersistentVolumeClaim>,
    /// `spec.selector.matchLabels`.
    pub match_labels: BTreeMap<String, String>,
}

impl SetView {
    /// Reads and defaults the set.
    pub fn new(set: &StatefulSet) -> Self {
        let md = &set.metadata;
        let spec = set.spec.clone().unwrap_or_default();
        let strategy = match spec.update_strategy.as_ref() {
            Some(s) if s.type_.as_deref() == Some("OnDelete") => Strategy::OnDelete,
            s => {
                let ru = s.and_then(|s| s.rolling_update.as_ref());
                Strategy::RollingUpdate {
                    partition: i64::from(ru.and_then(|r| r.partition).unwrap_or(0)),
                    max_unavailable: ru.and_then(|r| r.max_unavailable.clone()),
                }
            }
        };
        let policy = spec.persistent_volume_claim_retention_policy.as_ref();
        SetView {
            name: md.name.clone().unwrap_or_default(),
            namespace: md.namespace.clone().unwrap_or_default(),
            uid: md.uid.clone().unwrap_or_default(),
            generation: md.generation.unwrap_or(0),
            annotations: md.annotations.clone().unwrap_or_default(),
            deleting: md.deletion_timestamp.is_some(),
            replicas: i64::from(spec.replicas.unwrap_or(1)),
            start: i64::from(spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0)),
            monotonic: spec.pod_management_policy.as_deref() != Some("Parallel"),
            strategy,
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            history_limit: i64::from(spec.revision_history_limit.unwrap_or(10)),
            retention: Retention {
                when_deleted_delete: policy.and_then(|p| p.when_deleted.as_deref()) == Some("Delete"),
                when_scaled_delete: policy.and_then(|p| p.when_scaled.as_deref()) == Some("Delete"),
            },
            service_name: spec.service_name.clone().unwrap_or_default(),
            claim_templates: spec.volume_claim_templates.clone().unwrap_or_default(),
            match_labels: spec.selector.match_labels.clone().unwrap_or_default(),
        }
    }

    /// Whether `ordinal` is in `[start, start+replicas)`.
    pub fn in_range(&self, ordinal: i64) -> bool {
        ordinal >= self.start && ordinal < self.start + self.replicas
    }

    /// The effective maxUnavailable (`getStatefulSetMaxUnavailable`): integers as is,
    /// percentages of `spec.replicas` rounded down, at least 1.
    pub fn max_unavailable(&self, value: &IntOrString) -> Result<i64, String> {
        let n = match value {
            IntOrString::Int(i) => i64::from(*i),
            IntOrString::String(s) => {
                let pct: i64 = s
                    .strip_suffix('%')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| s.clone())?;
                pct * self.replicas / 100
            }
        };
        Ok(n.max(1))
    }
}
