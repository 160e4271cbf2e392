//! Pod validation from `pkg/apis/core/validation/validation.go`: `ValidatePodSpec` (volumes,
//! containers, ports, env, mounts, probes, resources, policies) and `ValidatePodUpdate`
//! (only images, `activeDeadlineSeconds`, added tolerations, removed scheduling gates and a
//! negative grace period raised to 1 may change).

use super::meta::validate_labels;
use super::names::{
    inclusive_range_error, is_dns1123_label, is_env_var_name, is_http_header_name, is_valid_port_name,
    is_valid_port_num,
};
use super::quantity::{self, QUANTITY_FORMAT_ERR};
use super::{
    get, get_arr, get_i64, get_obj, get_str, name_is_dns_subdomain, nonnegative, sem_eq, sem_eq_opt,
};
use crate::defaults::pod::compute_qos;
use crate::field::{FieldError, Path};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

const FILE_MODE_ERR: &str = "must be a number between 0 and 0777 (octal), both inclusive";
const MAX_INT32: i64 = i32::MAX as i64;

/// Keys of a `Volume` that are not volume sources.
const VOLUME_NON_SOURCE_KEYS: &[&str] = &["name"];

/// `ValidatePodCreate` / `validatePodMetadataAndSpec` (spec part).
pub(crate) fn validate_pod(pod: &Value) -> Vec<FieldError> {
    let spec = pod.get("spec").cloned().unwrap_or(Value::Object(Map::new()));
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    validate_pod_spec(&spec, pod_name, &Path::new("spec"))
}

fn dns_label_errs(value: &str, path: &Path) -> Vec<FieldError> {
    is_dns1123_label(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// `ValidatePodSpec`.
pub(crate) fn validate_pod_spec(spec: &Value, pod_name: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if get(spec, "terminationGracePeriodSeconds").is_none() {
        errs.push(FieldError::required(
            path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let (vols, verrs) = validate_volumes(get_arr(spec, "volumes"), pod_name, &path.child("volumes"));
    errs.extend(verrs);
    errs.extend(validate_containers(
        get_arr(spec, "containers"),
        &vols,
        &path.child("containers"),
    ));
    errs.extend(validate_init_containers(
        get_arr(spec, "initContainers"),
        get_arr(spec, "containers"),
        &vols,
        &path.child("initContainers"),
    ));
    errs.extend(one_of(
        spec,
        "restartPolicy",
        &["Always", "OnFailure", "Never"],
        &path.child("restartPolicy"),
    ));
    errs.extend(one_of(
        spec,
        "dnsPolicy",
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        &path.child("dnsPolicy"),
    ));
    errs.extend(validate_labels(
        get(spec, "nodeSelector"),
        &path.child("nodeSelector"),
    ));
    for (key, f) in [
        ("serviceAccountName", name_is_dns_subdomain as super::NameFn),
        ("nodeName", name_is_dns_subdomain),
        ("priorityClassName", name_is_dns_subdomain),
    ] {
        let v = get_str(spec, key);
        if !v.is_empty() {
            for m in f(v, false) {
                errs.push(FieldError::invalid(path.child(key), v, m));
            }
        }
    }
    if let Some(ads) = get_i64(spec, "activeDeadlineSeconds")
        && !(1..=MAX_INT32).contains(&ads)
    {
        errs.push(FieldError::invalid(
            path.child("activeDeadlineSeconds"),
            ads,
            inclusive_range_error(1, MAX_INT32),
        ));
    }
    for key in ["hostname", "subdomain"] {
        let v = get_str(spec, key);
        if !v.is_empty() {
            errs.extend(dns_label_errs(v, &path.child(key)));
        }
    }
    errs
}

/// A required enum field: `Required` when empty, `Unsupported value` when unknown.
pub(crate) fn one_of(obj: &Value, key: &str, allowed: &[&str], path: &Path) -> Vec<FieldError> {
    let v = get_str(obj, key);
    if v.is_empty() {
        vec![FieldError::required(path, "")]
    } else if !allowed.contains(&v) {
        vec![FieldError::not_supported(path, v, allowed)]
    } else {
        Vec::new()
    }
}

/// `ValidateVolumes`: returns the names of valid volumes and the errors.
fn validate_volumes(volumes: &[Value], pod_name: &str, path: &Path) -> (HashSet<String>, Vec<FieldError>) {
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    let _ = pod_name;
    for (i, vol) in volumes.iter().enumerate() {
        let idx = path.index(i);
        let name = get_str(vol, "name");
        let mut el = validate_volume_source(vol, &idx);
        if name.is_empty() {
            el.push(FieldError::required(idx.child("name"), ""));
        } else {
            el.extend(dns_label_errs(name, &idx.child("name")));
        }
        if names.contains(name) {
            el.push(FieldError::duplicate(idx.child("name"), name));
        }
        if el.is_empty() {
            names.insert(name.to_string());
        } else {
            errs.extend(el);
        }
    }
    (names, errs)
}

fn file_mode(obj: &Value, key: &str, path: &Path) -> Vec<FieldError> {
    match get_i64(obj, key) {
        Some(m) if !(0..=0o777).contains(&m) => vec![FieldError::invalid(path.child(key), m, FILE_MODE_ERR)],
        _ => Vec::new(),
    }
}

fn key_to_paths(src: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, kp) in get_arr(src, "items").iter().enumerate() {
        let p = path.child("items").index(i);
        if get_str(kp, "key").is_empty() {
            errs.push(FieldError::required(p.child("key"), ""));
        }
        if get_str(kp, "path").is_empty() {
            errs.push(FieldError::required(p.child("path"), ""));
        }
        errs.extend(file_mode(kp, "mode", &p));
    }
    errs
}

/// `validateVolumeSource`: exactly one source, and the common sources' required fields.
fn validate_volume_source(vol: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut count = 0;
    let Some(m) = vol.as_object() else {
        return vec![FieldError::required(path, "must specify a volume type")];
    };
    for (key, src) in m {
        if VOLUME_NON_SOURCE_KEYS.contains(&key.as_str()) || src.is_null() {
            continue;
        }
        let p = path.child(key);
        if count > 0 {
            errs.push(FieldError::forbidden(
                p,
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        count += 1;
        match key.as_str() {
            "emptyDir" => {
                if let Some(q) = get(src, "sizeLimit").and_then(quantity::parse_value)
                    && q.0 < 0
                {
                    errs.push(FieldError::forbidden(
                        p.child("sizeLimit"),
                        "SizeLimit field must be a valid resource quantity",
                    ));
                }
            }
            "hostPath" if get_str(src, "path").is_empty() => {
                errs.push(FieldError::required(p.child("path"), ""));
            }
            "secret" => {
                if get_str(src, "secretName").is_empty() {
                    errs.push(FieldError::required(p.child("secretName"), ""));
                }
                errs.extend(file_mode(src, "defaultMode", &p));
                errs.extend(key_to_paths(src, &p));
            }
            "configMap" => {
                if get_str(src, "name").is_empty() {
                    errs.push(FieldError::required(p.child("name"), ""));
                }
                errs.extend(file_mode(src, "defaultMode", &p));
                errs.extend(key_to_paths(src, &p));
            }
            "persistentVolumeClaim" if get_str(src, "claimName").is_empty() => {
                errs.push(FieldError::required(p.child("claimName"), ""));
            }
            "projected" | "downwardAPI" => errs.extend(file_mode(src, "defaultMode", &p)),
            _ => {}
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
    errs
}

/// `validateContainerCommon`.
fn validate_container_common(c: &Value, vols: &HashSet<String>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = get_str(c, "name");
    if name.is_empty() {
        errs.push(FieldError::required(path.child("name"), ""));
    } else {
        errs.extend(dns_label_errs(name, &path.child("name")));
    }
    if get_str(c, "image").is_empty() {
        errs.push(FieldError::required(path.child("image"), ""));
    }
    errs.extend(one_of(
        c,
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
        &path.child("terminationMessagePolicy"),
    ));
    errs.extend(validate_container_ports(
        get_arr(c, "ports"),
        &path.child("ports"),
    ));
    errs.extend(validate_env(get_arr(c, "env"), &path.child("env")));
    errs.extend(validate_volume_mounts(
        get_arr(c, "volumeMounts"),
        vols,
        &path.child("volumeMounts"),
    ));
    errs.extend(one_of(
        c,
        "imagePullPolicy",
        &["Always", "IfNotPresent", "Never"],
        &path.child("imagePullPolicy"),
    ));
    errs.extend(validate_resource_requirements(
        c.get("resources"),
        &path.child("resources"),
    ));
    errs
}

/// `validateContainers`.
fn validate_containers(containers: &[Value], vols: &HashSet<String>, path: &Path) -> Vec<FieldError> {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = path.index(i);
        errs.extend(validate_container_common(c, vols, &p));
        let name = get_str(c, "name");
        if !names.insert(name) {
            errs.push(FieldError::duplicate(p.child("name"), name));
        }
        if let Some(lc) = get(c, "lifecycle") {
            errs.extend(validate_lifecycle(lc, &p.child("lifecycle")));
        }
        errs.extend(validate_probe_kind(c, "livenessProbe", &p));
        errs.extend(validate_probe_kind(c, "readinessProbe", &p));
        errs.extend(validate_probe_kind(c, "startupProbe", &p));
        if get(c, "restartPolicy").is_some() {
            errs.push(FieldError::forbidden(
                p.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    errs
}

/// `validateInitContainers` (common checks, unique names, sidecar-only fields).
fn validate_init_containers(
    inits: &[Value],
    containers: &[Value],
    vols: &HashSet<String>,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names: HashSet<&str> = containers.iter().map(|c| get_str(c, "name")).collect();
    for (i, c) in inits.iter().enumerate() {
        let p = path.index(i);
        errs.extend(validate_container_common(c, vols, &p));
        let name = get_str(c, "name");
        if !names.insert(name) {
            errs.push(FieldError::duplicate(p.child("name"), name));
        }
        let restart = get_str(c, "restartPolicy");
        if !restart.is_empty() && restart != "Always" {
            errs.push(FieldError::not_supported(
                p.child("restartPolicy"),
                restart,
                &["Always"],
            ));
        }
        if restart == "Always" {
            if let Some(lc) = get(c, "lifecycle") {
                errs.extend(validate_lifecycle(lc, &p.child("lifecycle")));
            }
            errs.extend(validate_probe_kind(c, "livenessProbe", &p));
            errs.extend(validate_probe_kind(c, "readinessProbe", &p));
            errs.extend(validate_probe_kind(c, "startupProbe", &p));
        } else {
            for key in ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] {
                if get(c, key).is_some() {
                    errs.push(FieldError::forbidden(
                        p.child(key),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
    errs
}

/// `validateContainerPorts`.
fn validate_container_ports(ports: &[Value], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = path.index(i);
        let name = get_str(port, "name");
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                errs.extend(
                    msgs.into_iter()
                        .map(|m| FieldError::invalid(p.child("name"), name, m)),
                );
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(p.child("name"), name));
            }
        }
        let cp = get_i64(port, "containerPort").unwrap_or(0);
        if cp == 0 {
            errs.push(FieldError::required(p.child("containerPort"), ""));
        } else {
            errs.extend(
                is_valid_port_num(cp)
                    .into_iter()
                    .map(|m| FieldError::invalid(p.child("containerPort"), cp, m)),
            );
        }
        let hp = get_i64(port, "hostPort").unwrap_or(0);
        if hp != 0 {
            errs.extend(
                is_valid_port_num(hp)
                    .into_iter()
                    .map(|m| FieldError::invalid(p.child("hostPort"), hp, m)),
            );
        }
        errs.extend(one_of(
            port,
            "protocol",
            &["SCTP", "TCP", "UDP"],
            &p.child("protocol"),
        ));
    }
    errs
}

/// `ValidateEnv` (relaxed names, as 1.33 enables by default) and `validateEnvVarValueFrom`.
fn validate_env(vars: &[Value], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, ev) in vars.iter().enumerate() {
        let p = path.index(i);
        let name = get_str(ev, "name");
        if name.is_empty() {
            errs.push(FieldError::required(p.child("name"), ""));
        } else {
            errs.extend(
                is_env_var_name(name)
                    .into_iter()
                    .map(|m| FieldError::invalid(p.child("name"), name, m)),
            );
        }
        if let Some(vf) = get(ev, "valueFrom") {
            let vp = p.child("valueFrom");
            let n = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"]
                .iter()
                .filter(|k| get(vf, k).is_some())
                .count();
            if n == 0 {
                errs.push(FieldError::invalid(&vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
            } else if !get_str(ev, "value").is_empty() {
                errs.push(FieldError::invalid(
                    &vp,
                    "",
                    "may not be specified when `value` is not empty",
                ));
            } else if n > 1 {
                errs.push(FieldError::invalid(
                    &vp,
                    "",
                    "may not have more than one field specified at a time",
                ));
            }
        }
    }
    errs
}

/// `ValidateVolumeMounts`.
fn validate_volume_mounts(mounts: &[Value], vols: &HashSet<String>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut points = HashSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let p = path.index(i);
        let name = get_str(m, "name");
        if name.is_empty() {
            errs.push(FieldError::required(p.child("name"), ""));
        }
        if !vols.contains(name) {
            errs.push(FieldError::not_found(p.child("name"), name));
        }
        let mp = get_str(m, "mountPath");
        if mp.is_empty() {
            errs.push(FieldError::required(p.child("mountPath"), ""));
        }
        if !points.insert(mp) {
            errs.push(FieldError::invalid(p.child("mountPath"), mp, "must be unique"));
        }
        let sp = get_str(m, "subPath");
        let spe = get_str(m, "subPathExpr");
        if !spe.is_empty() && !sp.is_empty() {
            errs.push(FieldError::invalid(
                p.child("subPathExpr"),
                spe,
                "subPathExpr and subPath are mutually exclusive",
            ));
        }
    }
    errs
}

fn is_overcommit_allowed(name: &str) -> bool {
    let native = !name.contains('/') || name.contains("kubernetes.io/");
    native && !name.starts_with("hugepages-")
}

fn is_standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

fn quantity_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `ValidateResourceRequirements`.
pub(crate) fn validate_resource_requirements(res: Option<&Value>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(res) = res else { return errs };
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let limits: BTreeMap<String, Value> = get_obj(res, "limits")
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default();
    let check_name = |name: &str, p: &Path, errs: &mut Vec<FieldError>| {
        if !name.contains('/') && !is_standard_container_resource(name) {
            errs.push(FieldError::invalid(
                p,
                name,
                "must be a standard resource for containers",
            ));
        }
    };
    let check_value = |q: &Value, p: &Path, errs: &mut Vec<FieldError>| match quantity::parse_value(q) {
        None => errs.push(FieldError::invalid(p, quantity_str(q), QUANTITY_FORMAT_ERR)),
        Some(x) if x.0 < 0 => errs.push(FieldError::invalid(
            p,
            quantity_str(q),
            "must be greater than or equal to 0",
        )),
        _ => {}
    };
    if let Some(m) = get_obj(res, "limits") {
        for (name, q) in m {
            let p = lim_path.key(name);
            check_name(name, &p, &mut errs);
            check_value(q, &p, &mut errs);
        }
    }
    if let Some(m) = get_obj(res, "requests") {
        for (name, q) in m {
            let p = req_path.key(name);
            check_name(name, &p, &mut errs);
            check_value(q, &p, &mut errs);
            let qs = quantity_str(q);
            if let Some(lq) = limits.get(name) {
                let (a, b) = (quantity::parse_value(q), quantity::parse_value(lq));
                if let (Some(a), Some(b)) = (a, b) {
                    if a != b && !is_overcommit_allowed(name) {
                        errs.push(FieldError::invalid(
                            &req_path,
                            qs,
                            format!("must be equal to {name} limit of {}", quantity_str(lq)),
                        ));
                    } else if a > b {
                        errs.push(FieldError::invalid(
                            &req_path,
                            qs,
                            format!(
                                "must be less than or equal to {name} limit of {}",
                                quantity_str(lq)
                            ),
                        ));
                    }
                }
            } else if !is_overcommit_allowed(name) {
                errs.push(FieldError::required(
                    &lim_path,
                    "Limit must be set for non overcommitable resources",
                ));
            }
        }
    }
    errs
}

fn validate_probe_kind(c: &Value, kind: &str, path: &Path) -> Vec<FieldError> {
    let Some(probe) = get(c, kind) else {
        return Vec::new();
    };
    let p = path.child(kind);
    let mut errs = validate_probe(probe, &p);
    match kind {
        "livenessProbe" | "startupProbe" => {
            let st = get_i64(probe, "successThreshold").unwrap_or(0);
            if st != 1 {
                errs.push(FieldError::invalid(p.child("successThreshold"), st, "must be 1"));
            }
        }
        _ => {
            if let Some(t) = get_i64(probe, "terminationGracePeriodSeconds") {
                errs.push(FieldError::invalid(
                    p.child("terminationGracePeriodSeconds"),
                    t,
                    "must not be set for readinessProbes",
                ));
            }
        }
    }
    errs
}

/// `validateProbe`.
fn validate_probe(probe: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_handler(probe, path);
    for key in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        errs.extend(nonnegative(get_i64(probe, key).unwrap_or(0), &path.child(key)));
    }
    if let Some(t) = get_i64(probe, "terminationGracePeriodSeconds")
        && t <= 0
    {
        errs.push(FieldError::invalid(
            path.child("terminationGracePeriodSeconds"),
            t,
            "must be greater than 0",
        ));
    }
    errs
}

fn validate_lifecycle(lc: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for hook in ["postStart", "preStop"] {
        if let Some(h) = get(lc, hook) {
            errs.extend(validate_handler(h, &path.child(hook)));
        }
    }
    errs
}

/// `ValidatePortNumOrName`.
fn validate_port_num_or_name(port: Option<&Value>, path: &Path) -> Vec<FieldError> {
    match port {
        Some(Value::String(s)) => is_valid_port_name(s)
            .into_iter()
            .map(|m| FieldError::invalid(path, s.as_str(), m))
            .collect(),
        Some(v) => {
            let n = v.as_i64().unwrap_or(0);
            is_valid_port_num(n)
                .into_iter()
                .map(|m| FieldError::invalid(path, n, m))
                .collect()
        }
        None => is_valid_port_num(0)
            .into_iter()
            .map(|m| FieldError::invalid(path, 0, m))
            .collect(),
    }
}

/// `validateHandler`: exactly one of exec, httpGet, tcpSocket, grpc, sleep.
fn validate_handler(h: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut n = 0;
    for key in ["exec", "httpGet", "tcpSocket", "grpc", "sleep"] {
        let Some(a) = get(h, key) else { continue };
        let p = path.child(key);
        if n > 0 {
            errs.push(FieldError::forbidden(
                p,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        n += 1;
        match key {
            "exec" if get_arr(a, "command").is_empty() => {
                errs.push(FieldError::required(p.child("command"), ""));
            }
            "httpGet" => {
                if get_str(a, "path").is_empty() {
                    errs.push(FieldError::required(p.child("path"), ""));
                }
                errs.extend(validate_port_num_or_name(get(a, "port"), &p.child("port")));
                let scheme = get_str(a, "scheme");
                if scheme != "HTTP" && scheme != "HTTPS" {
                    errs.push(FieldError::not_supported(
                        p.child("scheme"),
                        scheme,
                        &["HTTP", "HTTPS"],
                    ));
                }
                for hdr in get_arr(a, "httpHeaders") {
                    let name = get_str(hdr, "name");
                    errs.extend(
                        is_http_header_name(name)
                            .into_iter()
                            .map(|m| FieldError::invalid(p.child("httpHeaders"), name, m)),
                    );
                }
            }
            "tcpSocket" | "grpc" => errs.extend(validate_port_num_or_name(get(a, "port"), &p.child("port"))),
            _ => {}
        }
    }
    if n == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    errs
}

/// The message prefix of the Pod spec update error, exactly as Kubernetes 1.33 prints it.
pub(crate) const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `ValidatePodUpdate` (spec part; metadata is validated by the caller).
pub(crate) fn validate_pod_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate_pod(new);
    let spec_path = Path::new("spec");
    let empty = Value::Object(Map::new());
    let ns = new.get("spec").unwrap_or(&empty);
    let os = old.get("spec").unwrap_or(&empty);
    for list in ["containers", "initContainers"] {
        let (nc, oc) = (get_arr(ns, list), get_arr(os, list));
        if nc.len() != oc.len() {
            errs.push(FieldError::forbidden(
                spec_path.child(list),
                "pod updates may not add or remove containers",
            ));
            return errs;
        }
        for (i, c) in nc.iter().enumerate() {
            let image = get_str(c, "image");
            if image.trim().len() != image.len() {
                errs.push(FieldError::invalid(
                    spec_path.child(list).index(i).child("image"),
                    image,
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
    let ads_path = spec_path.child("activeDeadlineSeconds");
    match (
        get_i64(ns, "activeDeadlineSeconds"),
        get_i64(os, "activeDeadlineSeconds"),
    ) {
        (Some(n), old_v) => {
            if !(0..=MAX_INT32).contains(&n) {
                errs.push(FieldError::invalid(
                    &ads_path,
                    n,
                    inclusive_range_error(0, MAX_INT32),
                ));
                return errs;
            }
            if old_v.is_some_and(|o| o < n) {
                errs.push(FieldError::invalid(
                    &ads_path,
                    n,
                    "must be less than or equal to previous value",
                ));
                return errs;
            }
        }
        (None, Some(_)) => errs.push(FieldError::invalid(
            &ads_path,
            Value::Null,
            "must not update from a positive integer to nil value",
        )),
        (None, None) => {}
    }
    // Only additions to tolerations (tolerationSeconds may change).
    let new_tols = get_arr(ns, "tolerations");
    for old_t in get_arr(os, "tolerations") {
        let found = new_tols.iter().any(|nt| {
            let mut a = old_t.clone();
            if let (Some(am), Some(ts)) = (a.as_object_mut(), nt.get("tolerationSeconds")) {
                am.insert("tolerationSeconds".to_string(), ts.clone());
            } else if let Some(am) = a.as_object_mut() {
                am.remove("tolerationSeconds");
            }
            sem_eq(&a, nt, "")
        });
        if !found {
            errs.push(FieldError::forbidden(
                spec_path.child("tolerations"),
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }
    // Only deletions of scheduling gates.
    let old_gates: Vec<&str> = get_arr(os, "schedulingGates")
        .iter()
        .map(|g| get_str(g, "name"))
        .collect();
    for (i, g) in get_arr(ns, "schedulingGates").iter().enumerate() {
        let name = get_str(g, "name");
        if !old_gates.contains(&name) {
            errs.push(FieldError::forbidden(
                spec_path.child("schedulingGates").index(i).child("name"),
                format!("only deletion is allowed, but found new scheduling gate '{name}'"),
            ));
        }
    }
    if sem_eq(ns, os, "spec") {
        return errs;
    }
    let new_qos = compute_qos(ns);
    let old_qos = old
        .pointer("/status/qosClass")
        .and_then(Value::as_str)
        .unwrap_or_else(|| compute_qos(os));
    if new_qos != old_qos {
        let shown = new
            .pointer("/status/qosClass")
            .and_then(Value::as_str)
            .unwrap_or("");
        errs.push(FieldError::invalid(
            Path::new("metadata"),
            shown,
            "Pod QoS is immutable",
        ));
    }
    // Munge the updatable fields from old into new, then compare.
    let mut munged = ns.clone();
    if let Some(m) = munged.as_object_mut() {
        for list in ["containers", "initContainers"] {
            if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
                for (i, c) in cs.iter_mut().enumerate() {
                    let old_image = get_arr(os, list).get(i).and_then(|oc| oc.get("image")).cloned();
                    if let Some(cm) = c.as_object_mut() {
                        match old_image {
                            Some(img) => cm.insert("image".to_string(), img),
                            None => cm.remove("image"),
                        };
                    }
                }
            }
        }
        for key in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
            match os.get(key) {
                Some(v) => m.insert(key.to_string(), v.clone()),
                None => m.remove(key),
            };
        }
        let old_grace = get_i64(os, "terminationGracePeriodSeconds");
        if old_grace.is_some_and(|g| g < 0)
            && get_i64(ns, "terminationGracePeriodSeconds") == Some(1)
            && let Some(g) = os.get("terminationGracePeriodSeconds")
        {
            m.insert("terminationGracePeriodSeconds".to_string(), g.clone());
        }
    }
    if !sem_eq(&munged, os, "spec") {
        errs.push(FieldError::forbidden(
            spec_path,
            format!("{POD_UPDATE_FORBIDDEN}\n{}", spec_diff(os, &munged)),
        ));
    }
    errs
}

/// A short diff of two specs' top-level fields, in the spirit of `cmp.Diff` (which
/// Kubernetes appends to immutability errors; its exact text is not reproduced).
pub(crate) fn spec_diff(old: &Value, new: &Value) -> String {
    let mut lines = Vec::new();
    let keys: Vec<&String> = {
        let mut k: Vec<&String> = old.as_object().into_iter().flat_map(|m| m.keys()).collect();
        for nk in new.as_object().into_iter().flat_map(|m| m.keys()) {
            if !k.contains(&nk) {
                k.push(nk);
            }
        }
        k
    };
    for k in keys {
        let (a, b) = (old.get(k), new.get(k));
        if !sem_eq_opt(a, b, k) {
            if let Some(a) = a {
                lines.push(format!("-  {k}: {a}"));
            }
            if let Some(b) = b {
                lines.push(format!("+  {k}: {b}"));
            }
        }
    }
    lines.join("\n")
}
