//! Pod and PodSpec defaults (`SetDefaults_Pod`, `SetDefaults_PodSpec`, `SetDefaults_Container`,
//! `SetDefaults_Probe`, volume-source defaults from `pkg/apis/core/v1/defaults.go` and the
//! generated `SetObjectDefaults_*`), the pod strategy's initial status, and QoS class
//! computation (`qos.ComputePodQOS`).

use super::{def_num, def_str, def_val, obj_mut};
use crate::validation::quantity;
use serde_json::{Map, Value, json};

/// Defaults for a Pod object: `SetDefaults_Pod`, the PodSpec defaults and, when the pod has no
/// status yet, the status the registry strategy sets on create (`Pending` and the QoS class).
pub(crate) fn default_pod(obj: &mut Value) {
    if let Some(spec) = obj_mut(obj, "spec") {
        pod_only_defaults(spec);
        default_pod_spec(spec);
    }
    let empty_status = obj
        .get("status")
        .is_none_or(|s| s.is_null() || s.as_object().is_some_and(Map::is_empty));
    if empty_status {
        let qos = obj.get("spec").map(compute_qos).unwrap_or("BestEffort");
        if let Some(m) = obj.as_object_mut() {
            m.insert("status".to_string(), json!({"phase": "Pending", "qosClass": qos}));
        }
    }
}

/// `SetDefaults_Pod`: requests default to limits, `enableServiceLinks: true`, host-network ports.
fn pod_only_defaults(spec: &mut Map<String, Value>) {
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut() {
                let Some(res) = c.get_mut("resources").and_then(Value::as_object_mut) else {
                    continue;
                };
                let Some(limits) = res.get("limits").and_then(Value::as_object).cloned() else {
                    continue;
                };
                let req = res.entry("requests").or_insert_with(|| Value::Object(Map::new()));
                if !req.is_object() {
                    *req = Value::Object(Map::new());
                }
                if let Some(req) = req.as_object_mut() {
                    for (k, v) in limits {
                        req.entry(k).or_insert(v);
                    }
                }
            }
        }
    }
    def_val(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["containers", "initContainers"] {
            if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
                for c in cs.iter_mut() {
                    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
                        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                            let cp = p.get("containerPort").cloned().unwrap_or(json!(0));
                            if p.get("hostPort").and_then(Value::as_i64).unwrap_or(0) == 0 {
                                p.insert("hostPort".to_string(), cp);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Defaults for a pod template (`PodTemplateSpec`): the PodSpec defaults only.
pub(crate) fn default_pod_template(template: &mut Value) {
    if let Some(spec) = obj_mut(template, "spec") {
        default_pod_spec(spec);
    }
}

/// `SetDefaults_PodSpec` plus the nested volume and container defaults.
pub(crate) fn default_pod_spec(spec: &mut Map<String, Value>) {
    def_str(spec, "dnsPolicy", "ClusterFirst");
    def_str(spec, "restartPolicy", "Always");
    def_val(spec, "securityContext", json!({}));
    def_val(spec, "terminationGracePeriodSeconds", json!(30));
    def_str(spec, "schedulerName", "default-scheduler");
    if let Some(vols) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in vols.iter_mut().filter_map(Value::as_object_mut) {
            default_volume(v);
        }
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                default_container(c);
            }
        }
    }
}

/// Keys of `VolumeSource` that are not sources.
const VOLUME_NON_SOURCE_KEYS: &[&str] = &["name"];

fn default_volume(v: &mut Map<String, Value>) {
    let has_source = v
        .iter()
        .any(|(k, val)| !VOLUME_NON_SOURCE_KEYS.contains(&k.as_str()) && !val.is_null());
    if !has_source {
        v.insert("emptyDir".to_string(), json!({}));
    }
    if let Some(s) = v.get_mut("hostPath").and_then(Value::as_object_mut) {
        def_val(s, "type", json!(""));
    }
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = v.get_mut(key).and_then(Value::as_object_mut) {
            def_val(s, "defaultMode", json!(420));
        }
    }
    if let Some(items) = v
        .get_mut("downwardAPI")
        .and_then(|d| d.get_mut("items"))
        .and_then(Value::as_array_mut)
    {
        for it in items.iter_mut() {
            default_field_ref(it.get_mut("fieldRef"));
        }
    }
    if let Some(sources) = v
        .get_mut("projected")
        .and_then(|p| p.get_mut("sources"))
        .and_then(Value::as_array_mut)
    {
        for s in sources.iter_mut() {
            if let Some(items) = s
                .get_mut("downwardAPI")
                .and_then(|d| d.get_mut("items"))
                .and_then(Value::as_array_mut)
            {
                for it in items.iter_mut() {
                    default_field_ref(it.get_mut("fieldRef"));
                }
            }
            if let Some(t) = s.get_mut("serviceAccountToken").and_then(Value::as_object_mut) {
                def_val(t, "expirationSeconds", json!(3600));
            }
        }
    }
    if let Some(s) = v.get_mut("iscsi").and_then(Value::as_object_mut) {
        def_str(s, "iscsiInterface", "default");
    }
    if let Some(s) = v.get_mut("rbd").and_then(Value::as_object_mut) {
        def_str(s, "pool", "rbd");
        def_str(s, "user", "admin");
        def_str(s, "keyring", "/etc/ceph/keyring");
    }
    if let Some(s) = v.get_mut("azureDisk").and_then(Value::as_object_mut) {
        def_val(s, "cachingMode", json!("ReadWrite"));
        def_val(s, "fsType", json!("ext4"));
        def_val(s, "readOnly", json!(false));
        def_val(s, "kind", json!("Shared"));
    }
    if let Some(s) = v.get_mut("scaleIO").and_then(Value::as_object_mut) {
        def_str(s, "storageMode", "ThinProvisioned");
        def_str(s, "fsType", "xfs");
    }
    if let Some(spec) = v
        .get_mut("ephemeral")
        .and_then(|e| e.get_mut("volumeClaimTemplate"))
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        default_pvc_spec(spec);
    }
}

fn default_field_ref(fr: Option<&mut Value>) {
    if let Some(fr) = fr.and_then(Value::as_object_mut) {
        def_str(fr, "apiVersion", "v1");
    }
}

/// `SetDefaults_PersistentVolumeClaimSpec`.
pub(crate) fn default_pvc_spec(spec: &mut Map<String, Value>) {
    def_val(spec, "volumeMode", json!("Filesystem"));
}

/// The tag `parsers.ParseImageName` finds: `latest` when neither tag nor digest is given.
fn image_tag(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag.to_string(),
        None if digest.is_some() => String::new(),
        None => "latest".to_string(),
    }
}

/// `SetDefaults_Container` plus port, env and probe defaults.
fn default_container(c: &mut Map<String, Value>) {
    if c.get("imagePullPolicy")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        let policy = if image_tag(image) == "latest" {
            "Always"
        } else {
            "IfNotPresent"
        };
        c.insert("imagePullPolicy".to_string(), json!(policy));
    }
    def_str(c, "terminationMessagePath", "/dev/termination-log");
    def_str(c, "terminationMessagePolicy", "File");
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            def_str(p, "protocol", "TCP");
        }
    }
    if let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) {
        for e in env.iter_mut() {
            default_field_ref(e.get_mut("valueFrom").and_then(|vf| vf.get_mut("fieldRef")));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).and_then(Value::as_object_mut) {
            def_num(p, "timeoutSeconds", 1);
            def_num(p, "periodSeconds", 10);
            def_num(p, "successThreshold", 1);
            def_num(p, "failureThreshold", 3);
            default_handler(p);
            if let Some(g) = p.get_mut("grpc").and_then(Value::as_object_mut) {
                def_val(g, "service", json!(""));
            }
        }
    }
    if let Some(lc) = c.get_mut("lifecycle").and_then(Value::as_object_mut) {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = lc.get_mut(hook).and_then(Value::as_object_mut) {
                default_handler(h);
            }
        }
    }
}

/// `SetDefaults_HTTPGetAction` on a handler's `httpGet`.
fn default_handler(h: &mut Map<String, Value>) {
    if let Some(g) = h.get_mut("httpGet").and_then(Value::as_object_mut) {
        def_str(g, "path", "/");
        def_str(g, "scheme", "HTTP");
    }
}

/// `qos.ComputePodQOS` over a pod spec: `Guaranteed`, `Burstable` or `BestEffort`.
pub(crate) fn compute_qos(spec: &Value) -> &'static str {
    use std::collections::BTreeMap;
    let mut requests: BTreeMap<String, i128> = BTreeMap::new();
    let mut limits: BTreeMap<String, i128> = BTreeMap::new();
    let mut guaranteed = true;
    let containers = spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            spec.get("initContainers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    for c in containers {
        let res = c.get("resources");
        let mut limits_found = Vec::new();
        for (kind, acc) in [("requests", &mut requests), ("limits", &mut limits)] {
            if let Some(m) = res.and_then(|r| r.get(kind)).and_then(Value::as_object) {
                for (name, q) in m {
                    if name != "cpu" && name != "memory" {
                        continue;
                    }
                    let Some(q) = quantity::parse_value(q) else {
                        continue;
                    };
                    if q.0 <= 0 {
                        continue;
                    }
                    *acc.entry(name.clone()).or_insert(0) += q.0;
                    if kind == "limits" {
                        limits_found.push(name.clone());
                    }
                }
            }
        }
        if !(limits_found.iter().any(|n| n == "cpu") && limits_found.iter().any(|n| n == "memory")) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed && requests.iter().any(|(k, v)| limits.get(k) != Some(v)) {
        guaranteed = false;
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}
