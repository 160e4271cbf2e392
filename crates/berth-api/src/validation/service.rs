//! Service validation (`ValidateService`, `validateServicePort`, `ValidateServiceUpdate` in
//! `pkg/apis/core/validation/validation.go`). Cluster IP allocation is not done here.

use super::meta::validate_labels;
use super::names::{
    is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_port_name, is_valid_port_num,
};
use super::{get, get_arr, get_i64, get_str, go_quote};
use crate::field::{ErrorType, FieldError, Path};
use serde_json::{Map, Value};
use std::collections::HashSet;

fn is_headless(spec: &Value) -> bool {
    get_arr(spec, "clusterIPs").first().and_then(Value::as_str) == Some("None")
        || get_str(spec, "clusterIP") == "None"
}

fn go_service_port(p: &Value) -> String {
    let tp = match p.get("targetPort") {
        Some(Value::String(s)) => format!("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}", go_quote(s)),
        Some(v) => format!(
            "intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}",
            v.as_i64().unwrap_or(0)
        ),
        None => "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}".to_string(),
    };
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{}, TargetPort:{tp}, NodePort:0}}",
        go_quote(get_str(p, "protocol")),
        get_i64(p, "port").unwrap_or(0)
    )
}

/// `ValidateService` (spec part).
pub(crate) fn validate_service(obj: &Value) -> Vec<FieldError> {
    let empty = Value::Object(Map::new());
    let spec = obj.get("spec").unwrap_or(&empty);
    let sp = Path::new("spec");
    let mut errs = Vec::new();
    let ty = get_str(spec, "type");
    let ports = get_arr(spec, "ports");
    let headless = is_headless(spec);
    if ports.is_empty() && !headless && ty != "ExternalName" {
        errs.push(FieldError::required(sp.child("ports"), ""));
    }
    match ty {
        "LoadBalancer" | "NodePort" => {
            if ty == "LoadBalancer" {
                for (i, p) in ports.iter().enumerate() {
                    if get_i64(p, "port") == Some(10250) {
                        errs.push(FieldError::invalid(
                            sp.child("ports").index(i),
                            10250,
                            "may not expose port 10250 externally since it is used by kubelet",
                        ));
                    }
                }
            }
            if headless {
                errs.push(FieldError::invalid(
                    sp.child("clusterIPs").index(0),
                    "None",
                    format!("may not be set to 'None' for {ty} services"),
                ));
            }
        }
        "ExternalName" => {
            if !get_arr(spec, "clusterIPs").is_empty() {
                errs.push(FieldError::forbidden(
                    sp.child("clusterIPs"),
                    "may not be set for ExternalName services",
                ));
            }
            if !get_arr(spec, "ipFamilies").is_empty() {
                errs.push(FieldError::forbidden(
                    sp.child("ipFamilies"),
                    "may not be set for ExternalName services",
                ));
            }
            if get(spec, "ipFamilyPolicy").is_some() {
                errs.push(FieldError::forbidden(
                    sp.child("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                ));
            }
            let cname = get_str(spec, "externalName").trim_end_matches('.');
            if cname.is_empty() {
                errs.push(FieldError::required(sp.child("externalName"), ""));
            } else {
                errs.extend(
                    is_dns1123_subdomain(cname)
                        .into_iter()
                        .map(|m| FieldError::invalid(sp.child("externalName"), cname, m)),
                );
            }
        }
        _ => {}
    }
    let mut names = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = sp.child("ports").index(i);
        let name = get_str(p, "name");
        if ports.len() > 1 && name.is_empty() {
            errs.push(FieldError::required(pp.child("name"), ""));
        } else if !name.is_empty() {
            errs.extend(
                is_dns1123_label(name)
                    .into_iter()
                    .map(|m| FieldError::invalid(pp.child("name"), name, m)),
            );
            if !names.insert(name) {
                errs.push(FieldError::duplicate(pp.child("name"), name));
            }
        }
        let port = get_i64(p, "port").unwrap_or(0);
        errs.extend(
            is_valid_port_num(port)
                .into_iter()
                .map(|m| FieldError::invalid(pp.child("port"), port, m)),
        );
        errs.extend(super::pod::one_of(
            p,
            "protocol",
            &["SCTP", "TCP", "UDP"],
            &pp.child("protocol"),
        ));
        match p.get("targetPort") {
            Some(Value::String(s)) => errs.extend(
                is_valid_port_name(s)
                    .into_iter()
                    .map(|m| FieldError::invalid(pp.child("targetPort"), s.as_str(), m)),
            ),
            other => {
                let n = other.and_then(Value::as_i64).unwrap_or(0);
                errs.extend(
                    is_valid_port_num(n)
                        .into_iter()
                        .map(|m| FieldError::invalid(pp.child("targetPort"), n, m)),
                );
            }
        }
        if let Some(ap) = p.get("appProtocol").and_then(Value::as_str) {
            errs.extend(
                is_qualified_name(ap)
                    .into_iter()
                    .map(|m| FieldError::invalid(pp.child("appProtocol"), ap, m)),
            );
        }
    }
    errs.extend(validate_labels(get(spec, "selector"), &sp.child("selector")));
    let sa = get_str(spec, "sessionAffinity");
    match sa {
        "" => errs.push(FieldError::required(sp.child("sessionAffinity"), "")),
        "ClientIP" => {
            let cp = sp.child("sessionAffinityConfig");
            let msg = "when session affinity type is ClientIP";
            match get(spec, "sessionAffinityConfig") {
                None => errs.push(FieldError::required(&cp, msg)),
                Some(c) => match get(c, "clientIP") {
                    None => errs.push(FieldError::required(cp.child("clientIP"), msg)),
                    Some(ci) => match get_i64(ci, "timeoutSeconds") {
                        None => errs.push(FieldError::required(
                            cp.child("clientIP").child("timeoutSeconds"),
                            msg,
                        )),
                        Some(t) if !(1..=86400).contains(&t) => errs.push(FieldError::invalid(
                            cp.child("clientIP").child("timeoutSeconds"),
                            t,
                            "must be greater than 0 and less than 86400",
                        )),
                        _ => {}
                    },
                },
            }
        }
        "None" => {
            if get(spec, "sessionAffinityConfig").is_some() {
                errs.push(FieldError::forbidden(
                    sp.child("sessionAffinityConfig"),
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            sp.child("sessionAffinity"),
            other,
            &["ClientIP", "None"],
        )),
    }
    match ty {
        "" => errs.push(FieldError::required(sp.child("type"), "")),
        "ClusterIP" | "ExternalName" | "LoadBalancer" | "NodePort" => {}
        other => errs.push(FieldError::not_supported(
            sp.child("type"),
            other,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }
    if ty == "ClusterIP" {
        for (i, p) in ports.iter().enumerate() {
            if get_i64(p, "nodePort").unwrap_or(0) != 0 {
                errs.push(FieldError::forbidden(
                    sp.child("ports").index(i).child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let np = get_i64(p, "nodePort").unwrap_or(0);
        if np != 0 && !node_ports.insert((get_str(p, "protocol"), np)) {
            errs.push(FieldError::duplicate(
                sp.child("ports").index(i).child("nodePort"),
                np,
            ));
        }
    }
    let mut seen = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        if !seen.insert((get_str(p, "protocol"), get_i64(p, "port").unwrap_or(0))) {
            let shown = go_service_port(
                &serde_json::json!({"protocol": get_str(p, "protocol"), "port": get_i64(p, "port")}),
            );
            errs.push(FieldError {
                kind: ErrorType::Duplicate,
                field: sp.child("ports").index(i).into(),
                value: None,
                detail: shown,
            });
        }
    }
    if get(spec, "allocateLoadBalancerNodePorts").is_some() && ty != "LoadBalancer" {
        errs.push(FieldError::forbidden(
            sp.child("allocateLoadBalancerNodePorts"),
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    match get(spec, "internalTrafficPolicy").and_then(Value::as_str) {
        None if matches!(ty, "ClusterIP" | "NodePort" | "LoadBalancer") => {
            errs.push(FieldError::required(sp.child("internalTrafficPolicy"), ""))
        }
        Some(v) if v != "Cluster" && v != "Local" => errs.push(FieldError::not_supported(
            sp.child("internalTrafficPolicy"),
            v,
            &["Cluster", "Local"],
        )),
        _ => {}
    }
    errs
}

/// `ValidateServiceUpdate`: a set cluster IP may not change (except when switching to
/// `ExternalName`), then the new object must be valid.
pub(crate) fn validate_service_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let old_ip = old
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("");
    let new_ip = new
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("");
    let new_type = new.pointer("/spec/type").and_then(Value::as_str).unwrap_or("");
    if !old_ip.is_empty() && !new_ip.is_empty() && new_ip != old_ip && new_type != "ExternalName" {
        let ips: Vec<&str> = get_arr(new.get("spec").unwrap_or(&Value::Null), "clusterIPs")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let ips = if ips.is_empty() { vec![new_ip] } else { ips };
        errs.push(super::invalid_raw(
            &Path::new("spec").child("clusterIPs").index(0),
            &super::meta::go_string_slice(&ips),
            "may not change once set",
        ));
    }
    errs.extend(validate_service(new));
    errs
}
