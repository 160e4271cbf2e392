//! Service address allocation, as Kubernetes' service registry does on create: a cluster IP
//! from the service range (10.96.0.0/16 here, `.1` reserved for `kubernetes`) unless the
//! Service is headless or ExternalName or asked for one, node ports from 30000-32767 for
//! NodePort and LoadBalancer Services, and the empty `status.loadBalancer`.

use berth_api::field::FieldError;
use berth_api::status::ApiError;
use rand::Rng;
use serde_json::{Value, json};
use std::collections::HashSet;

/// The node port range.
pub(crate) const NODE_PORTS: std::ops::RangeInclusive<u16> = 30000..=32767;

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// Fills the addresses of a new Service, given every existing Service.
pub(crate) fn allocate(svc: &mut Value, existing: &[Value]) -> Result<(), ApiError> {
    let ty = match str_at(svc, "/spec/type") {
        "" => "ClusterIP".to_string(),
        t => t.to_string(),
    };
    let name = str_at(svc, "/metadata/name").to_string();
    let used_ips: HashSet<&str> = existing.iter().map(|s| str_at(s, "/spec/clusterIP")).collect();
    let used_ports: HashSet<u64> = existing
        .iter()
        .flat_map(|s| {
            s.pointer("/spec/ports")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        .collect();
    let mut rng = rand::rng();
    if ty != "ExternalName" {
        let requested = str_at(svc, "/spec/clusterIP").to_string();
        let ip = if requested.is_empty() {
            let mut chosen = None;
            for _ in 0..4096 {
                let n: u16 = rng.random_range(2..65534);
                let candidate = format!("10.96.{}.{}", n >> 8, n & 0xff);
                if !used_ips.contains(candidate.as_str()) {
                    chosen = Some(candidate);
                    break;
                }
            }
            chosen.ok_or_else(|| ApiError::internal("failed to allocate a service IP: range is full"))?
        } else {
            if requested != "None" && used_ips.contains(requested.as_str()) {
                return Err(ApiError::invalid(
                    "Service",
                    "",
                    &name,
                    &[FieldError::invalid(
                        "spec.clusterIPs",
                        json!([requested]),
                        format!("failed to allocate IP {requested}: provided IP is already allocated"),
                    )],
                ));
            }
            requested
        };
        if let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("clusterIP".into(), json!(ip));
            spec.insert("clusterIPs".into(), json!([ip]));
        }
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        let mut taken = used_ports;
        if let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
            for (i, port) in ports.iter_mut().enumerate() {
                match port.get("nodePort").and_then(Value::as_u64) {
                    Some(p) if p > 0 => {
                        if !taken.insert(p) {
                            return Err(ApiError::invalid(
                                "Service",
                                "",
                                &name,
                                &[FieldError::invalid(
                                    format!("spec.ports[{i}].nodePort"),
                                    p,
                                    "provided port is already allocated",
                                )],
                            ));
                        }
                    }
                    _ => {
                        let free = (0..4096)
                            .map(|_| u64::from(rng.random_range(NODE_PORTS)))
                            .find(|p| !taken.contains(p))
                            .ok_or_else(|| {
                                ApiError::internal("failed to allocate a node port: range is full")
                            })?;
                        taken.insert(free);
                        if let Some(obj) = port.as_object_mut() {
                            obj.insert("nodePort".into(), json!(free));
                        }
                    }
                }
            }
        }
    }
    if let Some(map) = svc.as_object_mut() {
        map.insert("status".into(), json!({"loadBalancer": {}}));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ip_is_unique_and_headless_stays_headless() {
        let existing = vec![json!({"spec": {"clusterIP": "10.96.0.10"}})];
        let mut svc = json!({"metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}});
        allocate(&mut svc, &existing).expect("allocated");
        let ip = svc["spec"]["clusterIP"].as_str().expect("ip").to_string();
        assert!(ip.starts_with("10.96.") && ip != "10.96.0.10");
        assert_eq!(svc["spec"]["clusterIPs"], json!([ip]));
        assert_eq!(svc["status"], json!({"loadBalancer": {}}));
        let mut headless = json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}});
        allocate(&mut headless, &existing).expect("allocated");
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
    }

    #[test]
    fn node_ports_are_allocated_in_range_and_conflicts_rejected() {
        let existing =
            vec![json!({"spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80, "nodePort": 30080}]}})];
        let mut svc = json!({"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81}]}});
        allocate(&mut svc, &existing).expect("allocated");
        for p in svc["spec"]["ports"].as_array().expect("ports") {
            let n = p["nodePort"].as_u64().expect("nodePort") as u16;
            assert!(NODE_PORTS.contains(&n) && n != 30080);
        }
        let mut clash = json!({"metadata": {"name": "c"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}});
        let err = allocate(&mut clash, &existing).expect_err("conflict");
        assert_eq!(err.code, 422);
        assert!(
            err.message
                .contains("spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated")
        );
    }

    #[test]
    fn requested_ip_in_use_is_rejected() {
        let existing = vec![json!({"spec": {"clusterIP": "10.96.0.10"}})];
        let mut svc = json!({"metadata": {"name": "x"}, "spec": {"clusterIP": "10.96.0.10"}});
        let err = allocate(&mut svc, &existing).expect_err("in use");
        assert!(err.message.contains("provided IP is already allocated"));
    }
}
