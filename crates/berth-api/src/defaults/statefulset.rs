//! StatefulSet defaults (`SetDefaults_StatefulSet` in `pkg/apis/apps/v1/defaults.go` and the
//! generated nested defaults for the pod template and claim templates), Kubernetes 1.33.
//!
//! `MaxUnavailableStatefulSet` is alpha (off) in 1.33, so `rollingUpdate.maxUnavailable` is
//! neither defaulted nor kept: the strategy's `dropDisabledFields` clears it.

use super::pod::{default_pod_template, default_pvc_spec};
use super::{def_str, def_val, obj_mut};
use serde_json::{Map, Value, json};

/// Applies StatefulSet defaults.
pub(crate) fn default_statefulset(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else { return };
    def_str(spec, "podManagementPolicy", "OrderedReady");

    let strategy = spec
        .entry("updateStrategy")
        .or_insert_with(|| Value::Object(Map::new()));
    if strategy.is_null() {
        *strategy = Value::Object(Map::new());
    }
    if let Some(st) = strategy.as_object_mut() {
        if st.get("type").and_then(Value::as_str).unwrap_or("").is_empty() {
            st.insert("type".to_string(), json!("RollingUpdate"));
            def_val(st, "rollingUpdate", json!({}));
        }
        if st.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = st.get_mut("rollingUpdate").and_then(Value::as_object_mut)
        {
            def_val(ru, "partition", json!(0));
            ru.remove("maxUnavailable");
        }
    }

    let policy = spec
        .entry("persistentVolumeClaimRetentionPolicy")
        .or_insert_with(|| Value::Object(Map::new()));
    if policy.is_null() {
        *policy = Value::Object(Map::new());
    }
    if let Some(p) = policy.as_object_mut() {
        def_str(p, "whenDeleted", "Retain");
        def_str(p, "whenScaled", "Retain");
    }
    def_val(spec, "replicas", json!(1));
    def_val(spec, "revisionHistoryLimit", json!(10));

    if let Some(t) = spec.get_mut("template")
        && t.is_object()
    {
        default_pod_template(t);
    }
    if let Some(claims) = spec.get_mut("volumeClaimTemplates").and_then(Value::as_array_mut) {
        for c in claims.iter_mut().filter(|c| c.is_object()) {
            if let Some(s) = obj_mut(c, "spec") {
                default_pvc_spec(s);
            }
            if let Some(st) = obj_mut(c, "status") {
                def_str(st, "phase", "Pending");
            }
        }
    }
}
