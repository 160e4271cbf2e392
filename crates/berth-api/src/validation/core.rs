//! Basic validation for the remaining kinds: Namespace, ConfigMap, Secret, ResourceQuota,
//! LimitRange, Endpoints, Event, Lease and the RBAC kinds (rules and bindings).

use super::meta::validate_kube_finalizer_names;
use super::names::{is_config_map_key, is_qualified_name};
use super::quantity;
use super::{get, get_arr, get_i64, get_obj, get_str, immutable, nonnegative, sem_eq_opt, too_long};
use crate::field::{FieldError, Path};
use serde_json::Value;

/// `core.MaxSecretSize` (also the ConfigMap limit).
const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// `ValidateNamespace` (spec part): finalizer names.
pub(crate) fn validate_namespace(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let path = Path::new("spec").child("finalizers");
    let fins = obj
        .pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for f in fins {
        let f = f.as_str().unwrap_or("");
        errs.extend(
            is_qualified_name(f)
                .into_iter()
                .map(|m| FieldError::invalid(&path, f, m)),
        );
        errs.extend(
            validate_kube_finalizer_names(std::slice::from_ref(&Value::String(f.to_string())), &path)
                .into_iter()
                .map(|mut e| {
                    e.field = path.as_str().to_string();
                    e
                }),
        );
    }
    errs
}

/// `ValidateNamespaceUpdate`: metadata only.
pub(crate) fn validate_namespace_update(_new: &Value, _old: &Value) -> Vec<FieldError> {
    Vec::new()
}

fn data_size(v: Option<&serde_json::Map<String, Value>>, base64: bool) -> usize {
    v.into_iter()
        .flatten()
        .map(|(_, x)| {
            let n = x.as_str().map_or(0, str::len);
            if base64 { n / 4 * 3 } else { n }
        })
        .sum()
}

/// `ValidateConfigMap`.
pub(crate) fn validate_config_map(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let data = get_obj(obj, "data");
    let binary = get_obj(obj, "binaryData");
    for k in data.into_iter().flatten().map(|(k, _)| k) {
        let p = Path::new("data").key(k);
        errs.extend(
            is_config_map_key(k)
                .into_iter()
                .map(|m| FieldError::invalid(&p, k.as_str(), m)),
        );
        if binary.is_some_and(|b| b.contains_key(k)) {
            errs.push(FieldError::invalid(
                &p,
                k.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
    }
    for k in binary.into_iter().flatten().map(|(k, _)| k) {
        let p = Path::new("binaryData").key(k);
        errs.extend(
            is_config_map_key(k)
                .into_iter()
                .map(|m| FieldError::invalid(&p, k.as_str(), m)),
        );
    }
    if data_size(data, false) + data_size(binary, true) > MAX_SECRET_SIZE {
        errs.push(too_long(&Path::new(""), MAX_SECRET_SIZE));
    }
    errs
}

fn immutable_flag(new: &Value, old: &Value, fields: &[&str]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if old.get("immutable").and_then(Value::as_bool) == Some(true) {
        if new.get("immutable").and_then(Value::as_bool) != Some(true) {
            errs.push(FieldError::forbidden(
                Path::new("immutable"),
                "field is immutable when `immutable` is set",
            ));
        }
        for f in fields {
            if !sem_eq_opt(get(new, f), get(old, f), "") {
                errs.push(FieldError::forbidden(
                    Path::new(f),
                    "field is immutable when `immutable` is set",
                ));
            }
        }
    }
    errs
}

/// `ValidateConfigMapUpdate`.
pub(crate) fn validate_config_map_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = immutable_flag(new, old, &["data", "binaryData"]);
    errs.extend(validate_config_map(new));
    errs
}

/// `ValidateSecret`.
pub(crate) fn validate_secret(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let data = get_obj(obj, "data");
    for k in data.into_iter().flatten().map(|(k, _)| k) {
        let p = Path::new("data").key(k);
        errs.extend(
            is_config_map_key(k)
                .into_iter()
                .map(|m| FieldError::invalid(&p, k.as_str(), m)),
        );
    }
    if data_size(data, true) > MAX_SECRET_SIZE {
        errs.push(too_long(&Path::new("data"), MAX_SECRET_SIZE));
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let dp = Path::new("data");
    match get_str(obj, "type") {
        "kubernetes.io/service-account-token"
            if obj
                .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty() =>
        {
            errs.push(FieldError::required(
                Path::new("metadata")
                    .child("annotations")
                    .key("kubernetes.io/service-account.name"),
                "",
            ));
        }
        "kubernetes.io/dockercfg" if !has(".dockercfg") => {
            errs.push(FieldError::required(dp.key(".dockercfg"), ""))
        }
        "kubernetes.io/dockerconfigjson" if !has(".dockerconfigjson") => {
            errs.push(FieldError::required(dp.key(".dockerconfigjson"), ""))
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.push(FieldError::required(dp.key("username"), ""));
            errs.push(FieldError::required(dp.key("password"), ""));
        }
        "kubernetes.io/ssh-auth" if !has("ssh-privatekey") => {
            errs.push(FieldError::required(dp.key("ssh-privatekey"), ""))
        }
        "kubernetes.io/tls" => {
            if !has("tls.crt") {
                errs.push(FieldError::required(dp.key("tls.crt"), ""));
            }
            if !has("tls.key") {
                errs.push(FieldError::required(dp.key("tls.key"), ""));
            }
        }
        _ => {}
    }
    errs
}

/// `ValidateSecretUpdate`: `type` is immutable, and `immutable: true` freezes `data`.
pub(crate) fn validate_secret_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = immutable(get(new, "type"), get(old, "type"), &Path::new("type"));
    errs.extend(immutable_flag(new, old, &["data"]));
    errs.extend(validate_secret(new));
    errs
}

fn validate_resource_list(list: Option<&serde_json::Map<String, Value>>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (name, q) in list.into_iter().flatten() {
        let p = path.key(name);
        let shown = q.as_str().map(str::to_string).unwrap_or_else(|| q.to_string());
        match quantity::parse_value(q) {
            None => errs.push(FieldError::invalid(
                &p,
                shown,
                super::quantity::QUANTITY_FORMAT_ERR,
            )),
            Some(x) if x.0 < 0 => errs.push(FieldError::invalid(
                &p,
                shown,
                "must be greater than or equal to 0",
            )),
            _ => {}
        }
    }
    errs
}

/// `ValidateResourceQuota` (basic: quantities non-negative).
pub(crate) fn validate_resource_quota(obj: &Value) -> Vec<FieldError> {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    validate_resource_list(get_obj(&spec, "hard"), &Path::new("spec").child("hard"))
}

/// `ValidateLimitRange` (basic: item types and quantities).
pub(crate) fn validate_limit_range(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let limits = obj
        .pointer("/spec/limits")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (i, item) in limits.iter().enumerate() {
        let p = Path::new("spec").child("limits").index(i);
        let ty = get_str(item, "type");
        if ty.is_empty() {
            errs.push(FieldError::required(p.child("type"), ""));
        } else if !ty.contains('/') && !["Pod", "Container", "PersistentVolumeClaim"].contains(&ty) {
            errs.push(FieldError::invalid(
                p.child("type"),
                ty,
                "must be a standard limit type or fully qualified",
            ));
        }
        for key in ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] {
            errs.extend(validate_resource_list(get_obj(item, key), &p.child(key).clone()));
        }
    }
    errs
}

/// `ValidateEndpoints` (basic: ports).
pub(crate) fn validate_endpoints(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, ss) in get_arr(obj, "subsets").iter().enumerate() {
        let sp = Path::new("subsets").index(i);
        for (j, port) in get_arr(ss, "ports").iter().enumerate() {
            let pp = sp.child("ports").index(j);
            let n = get_i64(port, "port").unwrap_or(0);
            errs.extend(
                super::names::is_valid_port_num(n)
                    .into_iter()
                    .map(|m| FieldError::invalid(pp.child("port"), n, m)),
            );
            errs.extend(super::pod::one_of(
                port,
                "protocol",
                &["SCTP", "TCP", "UDP"],
                &pp.child("protocol"),
            ));
        }
        for (j, a) in get_arr(ss, "addresses").iter().enumerate() {
            if get_str(a, "ip").is_empty() {
                errs.push(FieldError::invalid(
                    sp.child("addresses").index(j).child("ip"),
                    "",
                    "must be a valid IP address",
                ));
            }
        }
    }
    errs
}

/// Events: nothing beyond metadata (Kubernetes' extra checks concern reporting fields).
pub(crate) fn validate_event(_obj: &Value) -> Vec<FieldError> {
    Vec::new()
}

/// `ValidateLease` (basic: durations non-negative).
pub(crate) fn validate_lease(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    for key in ["leaseDurationSeconds", "leaseTransitions"] {
        if let Some(v) = get_i64(&spec, key) {
            errs.extend(nonnegative(v, &Path::new("spec").child(key)));
        }
    }
    errs
}

/// `ValidatePolicyRule` for each rule of a Role or ClusterRole.
pub(crate) fn validate_rbac_rules(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, rule) in get_arr(obj, "rules").iter().enumerate() {
        let p = Path::new("rules").index(i);
        if get_arr(rule, "verbs").is_empty() {
            errs.push(FieldError::required(
                p.child("verbs"),
                "verbs must contain at least one value",
            ));
        }
        let has_urls = !get_arr(rule, "nonResourceURLs").is_empty();
        if has_urls {
            if obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty())
            {
                errs.push(FieldError::invalid(
                    p.child("nonResourceURLs"),
                    Value::Array(get_arr(rule, "nonResourceURLs").to_vec()),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if !get_arr(rule, "apiGroups").is_empty()
                || !get_arr(rule, "resources").is_empty()
                || !get_arr(rule, "resourceNames").is_empty()
            {
                errs.push(FieldError::invalid(
                    p.child("nonResourceURLs"),
                    Value::Array(get_arr(rule, "nonResourceURLs").to_vec()),
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if get_arr(rule, "apiGroups").is_empty() {
            errs.push(FieldError::required(
                p.child("apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if get_arr(rule, "resources").is_empty() {
            errs.push(FieldError::required(
                p.child("resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
    errs
}

/// `ValidateRoleBinding` / `ValidateClusterRoleBinding` (basic: roleRef and subjects).
pub(crate) fn validate_rbac_binding(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let rr = obj.get("roleRef").cloned().unwrap_or(Value::Null);
    let rp = Path::new("roleRef");
    let namespaced = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if get_str(&rr, "apiGroup") != "rbac.authorization.k8s.io" {
        errs.push(FieldError::not_supported(
            rp.child("apiGroup"),
            get_str(&rr, "apiGroup"),
            &["rbac.authorization.k8s.io"],
        ));
    }
    let kind = get_str(&rr, "kind");
    if namespaced {
        if kind != "Role" && kind != "ClusterRole" {
            errs.push(FieldError::not_supported(
                rp.child("kind"),
                kind,
                &["Role", "ClusterRole"],
            ));
        }
    } else if kind != "ClusterRole" {
        errs.push(FieldError::not_supported(
            rp.child("kind"),
            kind,
            &["ClusterRole"],
        ));
    }
    let name = get_str(&rr, "name");
    if name.is_empty() {
        errs.push(FieldError::required(rp.child("name"), ""));
    } else {
        errs.extend(
            super::name_is_path_segment(name, false)
                .into_iter()
                .map(|m| FieldError::invalid(rp.child("name"), name, m)),
        );
    }
    for (i, s) in get_arr(obj, "subjects").iter().enumerate() {
        let sp = Path::new("subjects").index(i);
        let sname = get_str(s, "name");
        if sname.is_empty() {
            errs.push(FieldError::required(sp.child("name"), ""));
        }
        match get_str(s, "kind") {
            "ServiceAccount" => {
                if !sname.is_empty() {
                    errs.extend(
                        super::name_is_dns_subdomain(sname, false)
                            .into_iter()
                            .map(|m| FieldError::invalid(sp.child("name"), sname, m)),
                    );
                }
                if !get_str(s, "apiGroup").is_empty() {
                    errs.push(FieldError::not_supported(
                        sp.child("apiGroup"),
                        get_str(s, "apiGroup"),
                        &[""],
                    ));
                }
                if !namespaced && get_str(s, "namespace").is_empty() {
                    errs.push(FieldError::required(sp.child("namespace"), ""));
                }
            }
            "User" | "Group" => {
                if get_str(s, "apiGroup") != "rbac.authorization.k8s.io" {
                    errs.push(FieldError::not_supported(
                        sp.child("apiGroup"),
                        get_str(s, "apiGroup"),
                        &["rbac.authorization.k8s.io"],
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                sp.child("kind"),
                other,
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
    errs
}

/// Bindings: `roleRef` cannot change (`ValidateRoleBindingUpdate`).
pub(crate) fn validate_role_ref_update(new: &Value, old: &Value) -> Vec<FieldError> {
    if sem_eq_opt(get(new, "roleRef"), get(old, "roleRef"), "") {
        Vec::new()
    } else {
        vec![FieldError::invalid(
            Path::new("roleRef"),
            get(new, "roleRef").cloned().unwrap_or(Value::Null),
            "cannot change roleRef",
        )]
    }
}
