//! StatefulSet and ControllerRevision validation (`pkg/apis/apps/validation/validation.go`,
//! Kubernetes 1.33), including the one deliberate Berth difference: raising the storage
//! request of a `volumeClaimTemplates` entry is allowed on update.

use super::meta::{validate_annotations, validate_labels};
use super::names::{is_qualified_name, is_valid_label_value, is_valid_percent};
use super::quantity;
use super::{
    get, get_arr, get_i64, get_obj, get_str, go_int_or_string, go_label_selector, go_quote, go_string_map,
    invalid_raw, nonnegative, sem_eq,
};
use crate::field::{FieldError, Path};
use serde_json::{Map, Value};

/// The forbidden-update message, exactly as Kubernetes 1.33 prints it.
pub(crate) const STS_UPDATE_FORBIDDEN: &str = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

/// `ValidateStatefulSet` (spec part; metadata is validated by the caller).
pub(crate) fn validate_statefulset(obj: &Value) -> Vec<FieldError> {
    let empty = Value::Object(Map::new());
    validate_statefulset_spec(obj.get("spec").unwrap_or(&empty), &Path::new("spec"))
}

fn go_rolling_update(ru: &Value) -> String {
    let mu = match get(ru, "maxUnavailable") {
        None => "(*intstr.IntOrString)(nil)".to_string(),
        Some(v) => format!("&{}", go_int_or_string(v)),
    };
    format!(
        "apps.RollingUpdateStatefulSetStrategy{{Partition:{}, MaxUnavailable:{mu}}}",
        get_i64(ru, "partition").unwrap_or(0)
    )
}

/// `ValidateLabelSelector` (strict: label values in expressions must be valid).
pub(crate) fn validate_label_selector(sel: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_labels(get(sel, "matchLabels"), &path.child("matchLabels"));
    for (i, req) in get_arr(sel, "matchExpressions").iter().enumerate() {
        let p = path.child("matchExpressions").index(i);
        let op = get_str(req, "operator");
        let values = get_arr(req, "values");
        match op {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errs.push(FieldError::required(
                        p.child("values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errs.push(FieldError::forbidden(
                        p.child("values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            _ => errs.push(FieldError::invalid(
                p.child("operator"),
                op,
                "not a valid selector operator",
            )),
        }
        let key = get_str(req, "key");
        errs.extend(
            is_qualified_name(key)
                .into_iter()
                .map(|m| FieldError::invalid(p.child("key"), key, m)),
        );
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or("");
            errs.extend(
                is_valid_label_value(v)
                    .into_iter()
                    .map(|m| FieldError::invalid(p.child("values").index(j), v, m)),
            );
        }
    }
    errs
}

/// Whether a (valid) label selector matches a label map.
pub(crate) fn selector_matches(sel: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let ml_ok = get_obj(sel, "matchLabels")
        .map(|m| m.iter().all(|(k, v)| label(k) == v.as_str()))
        .unwrap_or(true);
    ml_ok
        && get_arr(sel, "matchExpressions").iter().all(|req| {
            let key = get_str(req, "key");
            let values: Vec<&str> = get_arr(req, "values").iter().filter_map(Value::as_str).collect();
            match get_str(req, "operator") {
                "In" => label(key).is_some_and(|v| values.contains(&v)),
                "NotIn" => label(key).is_none_or(|v| !values.contains(&v)),
                "Exists" => label(key).is_some(),
                "DoesNotExist" => label(key).is_none(),
                _ => false,
            }
        })
}

/// `ValidateStatefulSetSpec`.
pub(crate) fn validate_statefulset_spec(spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let pmp = get_str(spec, "podManagementPolicy");
    match pmp {
        "" => errs.push(FieldError::required(path.child("podManagementPolicy"), "")),
        "OrderedReady" | "Parallel" => {}
        other => errs.push(FieldError::invalid(
            path.child("podManagementPolicy"),
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }

    let empty = Value::Object(Map::new());
    let strategy = spec.get("updateStrategy").unwrap_or(&empty);
    let su_path = path.child("updateStrategy");
    let rolling = get(strategy, "rollingUpdate");
    match get_str(strategy, "type") {
        "" => errs.push(FieldError::required(&su_path, "")),
        "OnDelete" => {
            if let Some(ru) = rolling {
                errs.push(invalid_raw(
                    &su_path.child("rollingUpdate"),
                    &go_rolling_update(ru),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = rolling {
                errs.extend(validate_rolling_update(ru, &su_path.child("rollingUpdate")));
            }
        }
        other => {
            let ru = if rolling.is_some() {
                "(*apps.RollingUpdateStatefulSetStrategy)(0xc000000000)"
            } else {
                "(*apps.RollingUpdateStatefulSetStrategy)(nil)"
            };
            let shown = format!(
                "apps.StatefulSetUpdateStrategy{{Type:{}, RollingUpdate:{ru}}}",
                go_quote(other)
            );
            errs.push(invalid_raw(
                &su_path,
                &shown,
                "must be 'RollingUpdate' or 'OnDelete'",
            ));
        }
    }

    if let Some(policy) = get(spec, "persistentVolumeClaimRetentionPolicy") {
        let pp = path.child("persistentVolumeClaimRetentionPolicy");
        for key in ["whenDeleted", "whenScaled"] {
            let v = get_str(policy, key);
            if v != "Retain" && v != "Delete" {
                errs.push(FieldError::not_supported(pp.child(key), v, &["Retain", "Delete"]));
            }
        }
    }

    errs.extend(nonnegative(
        get_i64(spec, "replicas").unwrap_or(0),
        &path.child("replicas"),
    ));
    errs.extend(nonnegative(
        get_i64(spec, "minReadySeconds").unwrap_or(0),
        &path.child("minReadySeconds"),
    ));
    if let Some(ord) = get(spec, "ordinals") {
        errs.extend(nonnegative(
            get_i64(ord, "start").unwrap_or(0),
            &path.child("ordinals.start"),
        ));
    }

    let template = spec.get("template").unwrap_or(&empty);
    let tmd = template.get("metadata").unwrap_or(&empty);
    let tlabels = get_obj(tmd, "labels");
    let selector = get(spec, "selector");
    let mut selector_ok = true;
    match selector {
        None => errs.push(FieldError::required(path.child("selector"), "")),
        Some(sel) => {
            let serrs = validate_label_selector(sel, &path.child("selector"));
            selector_ok = serrs.is_empty();
            errs.extend(serrs);
            if get_obj(sel, "matchLabels").is_none_or(Map::is_empty)
                && get_arr(sel, "matchExpressions").is_empty()
            {
                errs.push(invalid_raw(
                    &path.child("selector"),
                    &go_label_selector(sel),
                    "empty selector is invalid for statefulset",
                ));
            }
        }
    }
    let tpath = path.child("template");
    if !selector_ok {
        if let Some(sel) = selector {
            errs.push(invalid_raw(&path.child("selector"), &go_label_selector(sel), ""));
        }
    } else {
        // A nil selector behaves as "nothing" (never matches); an empty one as "everything".
        let is_everything = selector.is_some_and(|s| {
            get_obj(s, "matchLabels").is_none_or(Map::is_empty) && get_arr(s, "matchExpressions").is_empty()
        });
        let matches = selector.is_some_and(|s| selector_matches(s, tlabels));
        if !is_everything && !matches {
            errs.push(invalid_raw(
                &tpath.child("metadata").child("labels"),
                &go_string_map(tmd.get("labels")),
                "`selector` does not match template `labels`",
            ));
        }
        errs.extend(validate_labels(get(tmd, "labels"), &tpath.child("labels")));
        errs.extend(validate_annotations(
            get(tmd, "annotations"),
            &tpath.child("annotations"),
        ));
    }

    let tspec = template.get("spec").unwrap_or(&empty);
    let rp = get_str(tspec, "restartPolicy");
    if rp != "Always" {
        errs.push(FieldError::not_supported(
            tpath.child("spec").child("restartPolicy"),
            rp,
            &["Always"],
        ));
    }
    if get(tspec, "activeDeadlineSeconds").is_some() {
        errs.push(FieldError::forbidden(
            tpath.child("spec").child("activeDeadlineSeconds"),
            "activeDeadlineSeconds in StatefulSet is not Supported",
        ));
    }
    errs
}

/// `validateRollingUpdateStatefulSet`.
fn validate_rolling_update(ru: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = nonnegative(get_i64(ru, "partition").unwrap_or(0), &path.child("partition"));
    if let Some(mu) = get(ru, "maxUnavailable") {
        let p = path.child("maxUnavailable");
        let shown = go_int_or_string(mu);
        let value = match mu {
            Value::String(s) => {
                let msgs = is_valid_percent(s);
                let ok = msgs.is_empty();
                errs.extend(msgs.into_iter().map(|m| invalid_raw(&p, &shown, &m)));
                if ok {
                    s.trim_end_matches('%').parse::<i64>().ok()
                } else {
                    Some(0)
                }
            }
            other => {
                let n = other.as_i64().unwrap_or(0);
                errs.extend(nonnegative(n, &p));
                Some(n)
            }
        };
        if value == Some(0) {
            errs.push(invalid_raw(&p, &shown, "cannot be 0"));
        }
        if let Value::String(s) = mu
            && let Some(pct) = s.strip_suffix('%').and_then(|n| n.parse::<i64>().ok())
            && pct > 100
        {
            errs.push(invalid_raw(&p, &shown, "must not be greater than 100%"));
        }
    }
    errs
}

fn storage_request(claim: &Value) -> Option<&Value> {
    claim
        .pointer("/spec/resources/requests/storage")
        .filter(|v| !v.is_null())
}

/// `ValidateStatefulSetUpdate`: the new spec must be valid, and only the mutable fields may
/// change.
///
/// Berth difference (KEP-4650 semantics): Berth expands existing claims from the templates,
/// so raising `volumeClaimTemplates[*].spec.resources.requests.storage` is allowed; lowering
/// it is forbidden with its own message, and every other claim-template change stays
/// forbidden exactly as in Kubernetes.
pub(crate) fn validate_statefulset_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate_statefulset(new);
    let empty = Value::Object(Map::new());
    let ns = new.get("spec").unwrap_or(&empty);
    let os = old.get("spec").unwrap_or(&empty);
    let mut clone = ns.clone();
    if let Some(m) = clone.as_object_mut() {
        for key in [
            "replicas",
            "template",
            "updateStrategy",
            "minReadySeconds",
            "ordinals",
            "revisionHistoryLimit",
            "persistentVolumeClaimRetentionPolicy",
        ] {
            match os.get(key) {
                Some(v) => m.insert(key.to_string(), v.clone()),
                None => m.remove(key),
            };
        }
        let old_claims = get_arr(os, "volumeClaimTemplates");
        if let Some(claims) = m.get_mut("volumeClaimTemplates").and_then(Value::as_array_mut)
            && claims.len() == old_claims.len()
        {
            for (i, (c, oc)) in claims.iter_mut().zip(old_claims).enumerate() {
                let (Some(nq), Some(oq)) = (storage_request(c), storage_request(oc)) else {
                    continue;
                };
                let (Some(a), Some(b)) = (quantity::parse_value(nq), quantity::parse_value(oq)) else {
                    continue;
                };
                if a < b {
                    errs.push(FieldError::forbidden(
                        Path::new("spec")
                            .child("volumeClaimTemplates")
                            .index(i)
                            .child("spec")
                            .child("resources")
                            .child("requests")
                            .child("storage"),
                        "field can not be less than previous value",
                    ));
                }
                let oq = oq.clone();
                if let Some(slot) = c.pointer_mut("/spec/resources/requests/storage") {
                    *slot = oq;
                }
            }
        }
    }
    if !sem_eq(&clone, os, "spec") {
        errs.push(FieldError::forbidden(Path::new("spec"), STS_UPDATE_FORBIDDEN));
    }
    errs
}

/// `ValidateControllerRevision`.
pub(crate) fn validate_controller_revision(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if get(obj, "data").is_none() {
        errs.push(FieldError::required(Path::new("data"), "data is mandatory"));
    }
    errs.extend(nonnegative(
        get_i64(obj, "revision").unwrap_or(0),
        &Path::new("revision"),
    ));
    errs
}

/// `ValidateControllerRevisionUpdate`: `data` is immutable.
pub(crate) fn validate_controller_revision_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate_controller_revision(new);
    errs.extend(super::immutable(
        get(new, "data"),
        get(old, "data"),
        &Path::new("data"),
    ));
    errs
}
