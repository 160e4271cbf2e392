//! Defaults for the core kinds other than Pod (Service, Namespace, Secret, PersistentVolume,
//! PersistentVolumeClaim, Endpoints, LimitRange, Node) and for StorageClass, from
//! `pkg/apis/core/v1/defaults.go` and `pkg/apis/storage/v1/defaults.go`, plus the fields the
//! Service and Namespace registries always fill in on create.

use super::pod::default_pvc_spec;
use super::{def_str, def_val, obj_mut};
use serde_json::{Map, Value, json};

/// `SetDefaults_Service`, plus `clusterIPs` / `ipFamilyPolicy` / `ipFamilies` as the Service
/// REST storage fills them on a single-stack IPv4 cluster (no IP is allocated here).
pub(crate) fn default_service(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else { return };
    def_str(spec, "sessionAffinity", "None");
    match spec.get("sessionAffinity").and_then(Value::as_str) {
        Some("None") => {
            spec.remove("sessionAffinityConfig");
        }
        Some("ClientIP") => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.insert(
                    "sessionAffinityConfig".to_string(),
                    json!({"clientIP": {"timeoutSeconds": 10800}}),
                );
            }
        }
        _ => {}
    }
    def_str(spec, "type", "ClusterIP");
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            def_str(p, "protocol", "TCP");
            let unset = match p.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.is_empty(),
                Some(v) => v.as_i64() == Some(0),
            };
            if unset {
                let port = p.get("port").cloned().unwrap_or(json!(0));
                p.insert("targetPort".to_string(), port);
            }
        }
    }
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("").to_string();
    let has_external_ips = spec
        .get("externalIPs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let externally_accessible =
        ty == "LoadBalancer" || ty == "NodePort" || (ty == "ClusterIP" && has_external_ips);
    if externally_accessible {
        def_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(ty.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        def_val(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        def_val(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if ty != "ExternalName" {
        let cluster_ip = spec
            .get("clusterIP")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !cluster_ip.is_empty()
            && spec
                .get("clusterIPs")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
        {
            spec.insert("clusterIPs".to_string(), json!([cluster_ip]));
        }
        let headless = cluster_ip == "None";
        let has_selector = spec
            .get("selector")
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty());
        let policy = if headless && !has_selector {
            "RequireDualStack"
        } else {
            "SingleStack"
        };
        def_val(spec, "ipFamilyPolicy", json!(policy));
        if spec
            .get("ipFamilies")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            spec.insert("ipFamilies".to_string(), json!(["IPv4"]));
        }
    }
}

/// `SetDefaults_Namespace` (the `kubernetes.io/metadata.name` label) and
/// `SetDefaults_NamespaceStatus`; on create (no status yet) also the `kubernetes` finalizer the
/// namespace strategy adds.
pub(crate) fn default_namespace(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !name.is_empty()
        && let Some(md) = obj_mut(obj, "metadata")
    {
        let labels = md.entry("labels").or_insert_with(|| Value::Object(Map::new()));
        if !labels.is_object() {
            *labels = Value::Object(Map::new());
        }
        if let Some(l) = labels.as_object_mut() {
            l.insert("kubernetes.io/metadata.name".to_string(), json!(name));
        }
    }
    let creating = obj
        .get("status")
        .and_then(|s| s.get("phase"))
        .is_none_or(Value::is_null);
    if creating && let Some(spec) = obj_mut(obj, "spec") {
        let fins = spec.entry("finalizers").or_insert_with(|| json!([]));
        if !fins.is_array() {
            *fins = json!([]);
        }
        if let Some(a) = fins.as_array_mut()
            && !a.iter().any(|f| f.as_str() == Some("kubernetes"))
        {
            a.push(json!("kubernetes"));
        }
    }
    if let Some(st) = obj_mut(obj, "status") {
        def_str(st, "phase", "Active");
    }
}

/// `SetDefaults_Secret`.
pub(crate) fn default_secret(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        def_str(m, "type", "Opaque");
    }
}

/// `SetDefaults_PersistentVolume`.
pub(crate) fn default_pv(obj: &mut Value) {
    if let Some(spec) = obj_mut(obj, "spec") {
        def_str(spec, "persistentVolumeReclaimPolicy", "Retain");
        def_val(spec, "volumeMode", json!("Filesystem"));
    }
    if let Some(st) = obj_mut(obj, "status") {
        def_str(st, "phase", "Pending");
    }
}

/// `SetDefaults_PersistentVolumeClaim` and `SetDefaults_PersistentVolumeClaimSpec`.
pub(crate) fn default_pvc(obj: &mut Value) {
    if let Some(spec) = obj_mut(obj, "spec") {
        default_pvc_spec(spec);
    }
    if let Some(st) = obj_mut(obj, "status") {
        def_str(st, "phase", "Pending");
    }
}

/// `SetDefaults_Endpoints`: port protocol `TCP`.
pub(crate) fn default_endpoints(obj: &mut Value) {
    if let Some(subsets) = obj.get_mut("subsets").and_then(Value::as_array_mut) {
        for ss in subsets.iter_mut() {
            if let Some(ports) = ss.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    def_str(p, "protocol", "TCP");
                }
            }
        }
    }
}

/// `SetDefaults_LimitRangeItem` for `Container` items.
pub(crate) fn default_limit_range(obj: &mut Value) {
    let Some(limits) = obj.pointer_mut("/spec/limits").and_then(Value::as_array_mut) else {
        return;
    };
    for item in limits.iter_mut().filter_map(Value::as_object_mut) {
        if item.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let get = |item: &Map<String, Value>, k: &str| {
            item.get(k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let max = get(item, "max");
        let min = get(item, "min");
        let mut default = get(item, "default");
        let mut default_request = get(item, "defaultRequest");
        for (k, v) in max {
            default.entry(k).or_insert(v);
        }
        for (k, v) in &default {
            default_request.entry(k.clone()).or_insert(v.clone());
        }
        for (k, v) in min {
            default_request.entry(k).or_insert(v);
        }
        if !default.is_empty() {
            item.insert("default".to_string(), Value::Object(default));
        }
        if !default_request.is_empty() {
            item.insert("defaultRequest".to_string(), Value::Object(default_request));
        }
    }
}

/// `SetDefaults_NodeStatus`: `allocatable` defaults to `capacity`.
pub(crate) fn default_node(obj: &mut Value) {
    let Some(st) = obj.get_mut("status").and_then(Value::as_object_mut) else {
        return;
    };
    if st.get("allocatable").is_none_or(Value::is_null)
        && let Some(cap) = st.get("capacity").filter(|c| c.is_object()).cloned()
    {
        st.insert("allocatable".to_string(), cap);
    }
}

/// `SetDefaults_StorageClass`: `reclaimPolicy: Delete`, `volumeBindingMode: Immediate`.
pub(crate) fn default_storage_class(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        def_val(m, "reclaimPolicy", json!("Delete"));
        def_val(m, "volumeBindingMode", json!("Immediate"));
    }
}
