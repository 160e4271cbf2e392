//! `metadata` validation for every kind: `ValidateObjectMeta` / `ValidateObjectMetaUpdate`
//! from `k8s.io/apimachinery/pkg/api/validation/objectmeta.go`, plus the core package's
//! extra finalizer-name check (`validateKubeFinalizerName`).

use super::names::{is_qualified_name, is_valid_label_value};
use super::{NameFn, get, get_arr, get_str, go_quote, invalid_raw, nonnegative, sem_eq_opt, too_long};
use crate::field::{FieldError, Path};
use serde_json::{Map, Value};

/// Total size limit of all annotation keys and values.
pub(crate) const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Finalizers that need no domain prefix (`helper.IsStandardFinalizerName`).
const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

fn meta_of(obj: &Value) -> Value {
    obj.get("metadata").cloned().unwrap_or(Value::Object(Map::new()))
}

/// `ValidateObjectMeta` for a create (name already generated).
pub(crate) fn validate_object_meta(
    obj: &Value,
    namespaced: bool,
    name_fn: NameFn,
    path: &Path,
) -> Vec<FieldError> {
    let md = meta_of(obj);
    let mut errs = Vec::new();
    let generate_name = get_str(&md, "generateName");
    if !generate_name.is_empty() {
        for msg in name_fn(generate_name, true) {
            errs.push(FieldError::invalid(
                path.child("generateName"),
                generate_name,
                msg,
            ));
        }
    }
    let name = get_str(&md, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for msg in name_fn(name, false) {
            errs.push(FieldError::invalid(path.child("name"), name, msg));
        }
    }
    let ns = get_str(&md, "namespace");
    if namespaced {
        if ns.is_empty() {
            errs.push(FieldError::required(path.child("namespace"), ""));
        } else {
            for msg in super::name_is_dns_label(ns, false) {
                errs.push(FieldError::invalid(path.child("namespace"), ns, msg));
            }
        }
    } else if !ns.is_empty() {
        errs.push(FieldError::forbidden(
            path.child("namespace"),
            "not allowed on this type",
        ));
    }
    if let Some(g) = super::get_i64(&md, "generation") {
        errs.extend(nonnegative(g, &path.child("generation")));
    }
    errs.extend(validate_labels(get(&md, "labels"), &path.child("labels")));
    errs.extend(validate_annotations(
        get(&md, "annotations"),
        &path.child("annotations"),
    ));
    errs.extend(validate_owner_references(
        get_arr(&md, "ownerReferences"),
        &path.child("ownerReferences"),
    ));
    errs.extend(validate_finalizers(
        get_arr(&md, "finalizers"),
        &path.child("finalizers"),
    ));
    errs.extend(validate_kube_finalizer_names(
        get_arr(&md, "finalizers"),
        &path.child("finalizers"),
    ));
    errs
}

/// `ValidateObjectMetaUpdate`.
///
/// Kubernetes' `rest.BeforeUpdate` copies `generation`, `creationTimestamp` and (when
/// empty) `uid` from the stored object before validating; callers are expected to do the
/// same. An empty `resourceVersion` is not rejected here because unconditional updates get
/// the stored version filled in first.
pub(crate) fn validate_object_meta_update(new: &Value, old: &Value, path: &Path) -> Vec<FieldError> {
    let nm = meta_of(new);
    let om = meta_of(old);
    let mut errs = Vec::new();
    if get(&om, "deletionTimestamp").is_some() {
        let old_f: Vec<&str> = get_arr(&om, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut extra: Vec<&str> = get_arr(&nm, "finalizers")
            .iter()
            .filter_map(Value::as_str)
            .filter(|f| !old_f.contains(f))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        if !extra.is_empty() {
            errs.push(FieldError::forbidden(
                path.child("finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers {}",
                    go_string_slice(&extra)
                ),
            ));
        }
    }
    if let Some(g) = super::get_i64(&nm, "generation") {
        errs.extend(nonnegative(g, &path.child("generation")));
    }
    for key in ["name", "namespace"] {
        let (n, o) = (get_str(&nm, key), get_str(&om, key));
        if n != o {
            errs.push(FieldError::invalid(path.child(key), n, "field is immutable"));
        }
    }
    let (nu, ou) = (get_str(&nm, "uid"), get_str(&om, "uid"));
    if !nu.is_empty() && nu != ou {
        errs.push(FieldError::invalid(path.child("uid"), nu, "field is immutable"));
    }
    let (nc, oc) = (get(&nm, "creationTimestamp"), get(&om, "creationTimestamp"));
    if nc.is_some() && !sem_eq_opt(nc, oc, "") {
        let shown = nc.and_then(Value::as_str).map(go_time).unwrap_or_default();
        errs.push(invalid_raw(
            &path.child("creationTimestamp"),
            &shown,
            "field is immutable",
        ));
    }
    errs.extend(validate_labels(get(&nm, "labels"), &path.child("labels")));
    errs.extend(validate_annotations(
        get(&nm, "annotations"),
        &path.child("annotations"),
    ));
    errs.extend(validate_owner_references(
        get_arr(&nm, "ownerReferences"),
        &path.child("ownerReferences"),
    ));
    errs.extend(validate_kube_finalizer_names(
        get_arr(&nm, "finalizers"),
        &path.child("finalizers"),
    ));
    errs
}

/// Renders an RFC 3339 timestamp as Go's `time.Time.String()` does for UTC.
fn go_time(s: &str) -> String {
    match s.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
        Err(_) => s.to_string(),
    }
}

/// Go's `%#v` of a `[]string`.
pub(crate) fn go_string_slice(items: &[&str]) -> String {
    let q: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[]string{{{}}}", q.join(", "))
}

/// `ValidateLabels`: keys must be qualified names, values valid label values.
pub(crate) fn validate_labels(labels: Option<&Value>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(m) = labels.and_then(Value::as_object) else {
        return errs;
    };
    for (k, v) in m {
        for msg in is_qualified_name(k) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        let v = v.as_str().unwrap_or("");
        for msg in is_valid_label_value(v) {
            errs.push(FieldError::invalid(path, v, msg));
        }
    }
    errs
}

/// `ValidateAnnotations`: keys are qualified names (case-insensitive), total size ≤ 256 KiB.
pub(crate) fn validate_annotations(annotations: Option<&Value>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(m) = annotations.and_then(Value::as_object) else {
        return errs;
    };
    let mut total = 0usize;
    for (k, v) in m {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

fn go_owner_reference(r: &Value) -> String {
    let ptr_bool = |k: &str| match r.get(k).and_then(Value::as_bool) {
        None => "(*bool)(nil)".to_string(),
        Some(b) => format!("&{b}"),
    };
    format!(
        "v1.OwnerReference{{APIVersion:{}, Kind:{}, Name:{}, UID:{}, Controller:{}, BlockOwnerDeletion:{}}}",
        go_quote(get_str(r, "apiVersion")),
        go_quote(get_str(r, "kind")),
        go_quote(get_str(r, "name")),
        go_quote(get_str(r, "uid")),
        ptr_bool("controller"),
        ptr_bool("blockOwnerDeletion")
    )
}

/// `ValidateOwnerReferences` (1.33 reports member errors on the unindexed list path).
pub(crate) fn validate_owner_references(refs: &[Value], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut first_controller = String::new();
    for r in refs {
        let api_version = get_str(r, "apiVersion");
        let kind = get_str(r, "kind");
        let (group, version) = match api_version.split('/').collect::<Vec<_>>().as_slice() {
            [v] => ("", *v),
            [g, v] => (*g, *v),
            _ => ("", ""),
        };
        if version.is_empty() {
            errs.push(FieldError::invalid(
                path.child("apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        if kind.is_empty() {
            errs.push(FieldError::invalid(
                path.child("kind"),
                kind,
                "kind must not be empty",
            ));
        }
        if get_str(r, "name").is_empty() {
            errs.push(FieldError::invalid(
                path.child("name"),
                "",
                "name must not be empty",
            ));
        }
        if get_str(r, "uid").is_empty() {
            errs.push(FieldError::invalid(
                path.child("uid"),
                "",
                "uid must not be empty",
            ));
        }
        if group.is_empty() && version == "v1" && kind == "Event" {
            errs.push(invalid_raw(
                path,
                &go_owner_reference(r),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let cur = format!("{}/{}", kind, get_str(r, "name"));
            if first_controller.is_empty() {
                first_controller = cur;
            } else {
                let all: Vec<String> = refs.iter().map(go_owner_reference).collect();
                errs.push(invalid_raw(
                    path,
                    &format!("[]v1.OwnerReference{{{}}}", all.join(", ")),
                    &format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first_controller} and {cur}"
                    ),
                ));
            }
        }
    }
    errs
}

/// `ValidateFinalizers`: qualified names, and not both `orphan` and `foregroundDeletion`.
pub(crate) fn validate_finalizers(finalizers: &[Value], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let names: Vec<&str> = finalizers.iter().filter_map(Value::as_str).collect();
    for f in &names {
        for msg in is_qualified_name(f) {
            errs.push(FieldError::invalid(path, *f, msg));
        }
    }
    if names.contains(&"orphan") && names.contains(&"foregroundDeletion") {
        errs.push(invalid_raw(
            path,
            &go_string_slice(&names),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

/// `validateKubeFinalizerName` for each finalizer: unprefixed names must be standard ones.
pub(crate) fn validate_kube_finalizer_names(finalizers: &[Value], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, f) in finalizers.iter().enumerate() {
        let f = f.as_str().unwrap_or("");
        if !f.contains('/') && !STANDARD_FINALIZERS.contains(&f) {
            errs.push(FieldError::invalid(
                path.index(i),
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errs
}
