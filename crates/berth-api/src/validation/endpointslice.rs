//! EndpointSlice validation (`pkg/apis/discovery/validation/validation.go`): address type,
//! endpoints (addresses per address type, topology labels, hostname) and ports.

use super::meta::validate_labels;
use super::names::{is_dns1123_label, is_dns1123_subdomain, is_qualified_name};
use super::{get, get_arr, get_obj, get_str, immutable};
use crate::field::{ErrorType, FieldError, Path};
use serde_json::Value;
use std::collections::HashSet;
use std::net::IpAddr;

/// `supportedAddressTypes`, sorted as `sets.String.List()` prints them.
const SUPPORTED_ADDRESS_TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];
/// `supportedAddressTypes ∪ deprecatedAddressTypes` (updates may keep the old `IP` type).
const UPDATE_ADDRESS_TYPES: &[&str] = &["FQDN", "IP", "IPv4", "IPv6"];
/// `supportedPortProtocols`, sorted.
const SUPPORTED_PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const MAX_TOPOLOGY_LABELS: usize = 16;
const MAX_ADDRESSES: usize = 100;
const MAX_PORTS: usize = 100;
const MAX_ENDPOINTS: usize = 1000;

/// `ValidateEndpointSliceCreate`.
pub(crate) fn validate_endpoint_slice(obj: &Value) -> Vec<FieldError> {
    validate(obj, SUPPORTED_ADDRESS_TYPES)
}

/// `ValidateEndpointSliceUpdate`: as on create (the deprecated `IP` type allowed), and
/// `addressType` is immutable.
pub(crate) fn validate_endpoint_slice_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate(new, UPDATE_ADDRESS_TYPES);
    errs.extend(immutable(
        get(new, "addressType"),
        get(old, "addressType"),
        &Path::new("addressType"),
    ));
    errs
}

fn validate(obj: &Value, address_types: &[&str]) -> Vec<FieldError> {
    let address_type = get_str(obj, "addressType");
    let mut errs = Vec::new();
    let path = Path::new("addressType");
    if address_type.is_empty() {
        errs.push(FieldError::required(&path, ""));
    } else if !address_types.contains(&address_type) {
        errs.push(FieldError::not_supported(&path, address_type, address_types));
    }
    errs.extend(validate_endpoints(
        get_arr(obj, "endpoints"),
        address_type,
        &Path::new("endpoints"),
    ));
    errs.extend(validate_ports(get_arr(obj, "ports"), &Path::new("ports")));
    errs
}

/// `field.TooMany(path, actual, max)`.
fn too_many(path: &Path, actual: usize, max: usize) -> FieldError {
    FieldError {
        kind: ErrorType::TooMany,
        field: path.as_str().to_string(),
        value: Some(Value::from(actual)),
        detail: format!("must have at most {max} items"),
    }
}

fn validate_endpoints(endpoints: &[Value], address_type: &str, path: &Path) -> Vec<FieldError> {
    if endpoints.len() > MAX_ENDPOINTS {
        return vec![too_many(path, endpoints.len(), MAX_ENDPOINTS)];
    }
    let mut errs = Vec::new();
    for (i, ep) in endpoints.iter().enumerate() {
        let idx = path.index(i);
        let addr_path = idx.child("addresses");
        let addresses = get_arr(ep, "addresses");
        if addresses.is_empty() {
            errs.push(FieldError::required(
                &addr_path,
                "must contain at least 1 address",
            ));
        } else if addresses.len() > MAX_ADDRESSES {
            errs.push(too_many(&addr_path, addresses.len(), MAX_ADDRESSES));
        }
        for (j, a) in addresses.iter().enumerate() {
            let a = a.as_str().unwrap_or("");
            let p = addr_path.index(j);
            match address_type {
                "IP" if a.parse::<IpAddr>().is_err() => {
                    errs.push(FieldError::invalid(
                        &p,
                        a,
                        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                    ));
                }
                "IPv4" => {
                    if !matches!(a.parse::<IpAddr>(), Ok(IpAddr::V4(_))) {
                        errs.push(FieldError::invalid(&p, a, "must be a valid IPv4 address"));
                    }
                    errs.extend(validate_non_special_ip(a, &p));
                }
                "IPv6" => {
                    if !matches!(a.parse::<IpAddr>(), Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none()) {
                        errs.push(FieldError::invalid(&p, a, "must be a valid IPv6 address"));
                    }
                    errs.extend(validate_non_special_ip(a, &p));
                }
                "FQDN" => errs.extend(fully_qualified_domain_name(a, &p)),
                _ => {}
            }
        }
        let topo_path = idx.child("topology");
        if let Some(topology) = get_obj(ep, "deprecatedTopology").or_else(|| get_obj(ep, "topology")) {
            if topology.len() > MAX_TOPOLOGY_LABELS {
                errs.push(too_many(&topo_path, topology.len(), MAX_TOPOLOGY_LABELS));
            }
            errs.extend(validate_labels(
                Some(&Value::Object(topology.clone())),
                &topo_path,
            ));
        }
        if let Some(hostname) = get(ep, "hostname").and_then(Value::as_str) {
            errs.extend(
                is_dns1123_label(hostname)
                    .into_iter()
                    .map(|m| FieldError::invalid(idx.child("hostname"), hostname, m)),
            );
        }
    }
    errs
}

fn validate_ports(ports: &[Value], path: &Path) -> Vec<FieldError> {
    if ports.len() > MAX_PORTS {
        return vec![too_many(path, ports.len(), MAX_PORTS)];
    }
    let mut errs = Vec::new();
    let mut names: HashSet<&str> = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let idx = path.index(i);
        let name = get_str(port, "name");
        if !name.is_empty() {
            errs.extend(
                is_dns1123_label(name)
                    .into_iter()
                    .map(|m| FieldError::invalid(idx.child("name"), name, m)),
            );
        }
        if !names.insert(name) {
            errs.push(FieldError::duplicate(idx.child("name"), name));
        }
        match get(port, "protocol").and_then(Value::as_str) {
            None => errs.push(FieldError::required(idx.child("protocol"), "")),
            Some(p) if !SUPPORTED_PROTOCOLS.contains(&p) => {
                errs.push(FieldError::not_supported(
                    idx.child("protocol"),
                    p,
                    SUPPORTED_PROTOCOLS,
                ));
            }
            Some(_) => {}
        }
        if let Some(app) = get(port, "appProtocol").and_then(Value::as_str) {
            errs.extend(
                is_qualified_name(app)
                    .into_iter()
                    .map(|m| FieldError::invalid(idx.child("appProtocol"), app, m)),
            );
        }
    }
    errs
}

/// `ValidateNonSpecialIP`: no unspecified, loopback or link-local addresses.
pub(crate) fn validate_non_special_ip(address: &str, path: &Path) -> Vec<FieldError> {
    let Ok(ip) = address.parse::<IpAddr>() else {
        return vec![FieldError::invalid(path, address, "must be a valid IP address")];
    };
    // Go treats an IPv4-mapped IPv6 address as the IPv4 address it carries.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let (unspecified, loopback, link_local, link_local_multicast) = match ip {
        IpAddr::V4(v4) => (
            v4.is_unspecified(),
            v4.is_loopback(),
            v4.is_link_local(),
            v4.octets()[..3] == [224, 0, 0],
        ),
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            (
                v6.is_unspecified(),
                v6.is_loopback(),
                seg[0] & 0xffc0 == 0xfe80,
                seg[0] & 0xff0f == 0xff02,
            )
        }
    };
    let mut errs = Vec::new();
    if unspecified {
        errs.push(FieldError::invalid(
            path,
            address,
            format!("may not be unspecified ({address})"),
        ));
    }
    if loopback {
        errs.push(FieldError::invalid(
            path,
            address,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    if link_local {
        errs.push(FieldError::invalid(
            path,
            address,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if link_local_multicast {
        errs.push(FieldError::invalid(
            path,
            address,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errs
}

/// `IsFullyQualifiedDomainName`.
fn fully_qualified_domain_name(name: &str, path: &Path) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let errs = is_dns1123_subdomain(name);
    if !errs.is_empty() {
        return vec![FieldError::invalid(path, name, errs.join(","))];
    }
    if name.split('.').count() < 2 {
        return vec![FieldError::invalid(
            path,
            name,
            "should be a domain with at least two segments separated by dots",
        )];
    }
    for label in name.split('.') {
        let errs = is_dns1123_label(label);
        if !errs.is_empty() {
            return vec![FieldError::invalid(path, label, errs.join(","))];
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use crate::registry::lookup_kind;
    use crate::{defaults, validation};
    use serde_json::{Value, json};

    fn create(mut obj: Value) -> Vec<String> {
        let rt = lookup_kind("discovery.k8s.io", "EndpointSlice").expect("served");
        defaults::apply(rt, &mut obj);
        validation::validate_create(rt, &obj)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn update(mut new: Value, mut old: Value) -> Vec<String> {
        let rt = lookup_kind("discovery.k8s.io", "EndpointSlice").expect("served");
        defaults::apply(rt, &mut new);
        defaults::apply(rt, &mut old);
        validation::validate_update(rt, &new, &old)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn slice(extra: Value) -> Value {
        let mut s = json!({"metadata": {"name": "web-abcde", "namespace": "default"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.0.5"], "hostname": "web-0"}],
            "ports": [{"name": "http", "port": 80}]});
        if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                s.insert(k.clone(), v.clone());
            }
        }
        s
    }

    #[test]
    fn a_controller_written_slice_is_valid_and_gets_defaults() {
        assert_eq!(create(slice(json!({}))), Vec::<String>::new());
        let rt = lookup_kind("discovery.k8s.io", "EndpointSlice").expect("served");
        let mut s = json!({"ports": [{"port": 80}]});
        defaults::apply(rt, &mut s);
        assert_eq!(s["ports"][0], json!({"port": 80, "name": "", "protocol": "TCP"}));
    }

    #[test]
    fn address_type_is_required_supported_and_immutable() {
        let mut s = slice(json!({}));
        s.as_object_mut().map(|m| m.remove("addressType"));
        assert_eq!(create(s), vec!["addressType: Required value".to_string()]);
        assert_eq!(
            create(slice(json!({"addressType": "IP", "endpoints": []}))),
            vec![r#"addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6""#]
        );
        let old = slice(json!({}));
        let new = slice(json!({"addressType": "IPv6", "endpoints": []}));
        assert_eq!(
            update(new, old),
            vec![r#"addressType: Invalid value: "IPv6": field is immutable"#]
        );
    }

    #[test]
    fn endpoints_need_addresses_of_the_slice_type() {
        assert_eq!(
            create(slice(json!({"endpoints": [{"addresses": []}]}))),
            vec!["endpoints[0].addresses: Required value: must contain at least 1 address"]
        );
        assert_eq!(
            create(slice(json!({"endpoints": [{"addresses": ["fd00::1"]}]}))),
            vec![r#"endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address"#]
        );
        assert_eq!(
            create(slice(
                json!({"endpoints": [{"addresses": ["127.0.0.1", "169.254.1.1", "0.0.0.0"]}]})
            )),
            vec![
                r#"endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)"#,
                r#"endpoints[0].addresses[1]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)"#,
                r#"endpoints[0].addresses[2]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)"#,
            ]
        );
        assert_eq!(
            create(slice(
                json!({"addressType": "IPv6", "endpoints": [{"addresses": ["ff02::1"]}]})
            )),
            vec![
                r#"endpoints[0].addresses[0]: Invalid value: "ff02::1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"#
            ]
        );
        assert_eq!(
            create(slice(
                json!({"addressType": "FQDN", "endpoints": [{"addresses": ["example"]}]})
            )),
            vec![
                r#"endpoints[0].addresses[0]: Invalid value: "example": should be a domain with at least two segments separated by dots"#
            ]
        );
        assert_eq!(
            create(slice(
                json!({"addressType": "FQDN", "endpoints": [{"addresses": ["db.example.com."]}]})
            )),
            Vec::<String>::new()
        );
        let errs = create(slice(
            json!({"endpoints": [{"addresses": ["10.0.0.1"], "hostname": "Web_0"}]}),
        ));
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0]
                .starts_with(r#"endpoints[0].hostname: Invalid value: "Web_0": a lowercase RFC 1123 label"#)
        );
    }

    #[test]
    fn ports_have_unique_names_and_known_protocols() {
        assert_eq!(
            create(slice(
                json!({"ports": [{"name": "a", "port": 1}, {"name": "a", "port": 2, "protocol": "HTTP"}]})
            )),
            vec![
                r#"ports[1].name: Duplicate value: "a""#,
                r#"ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP""#,
            ]
        );
    }

    #[test]
    fn too_many_endpoints_are_rejected() {
        let many: Vec<Value> = (0..1001).map(|_| json!({"addresses": ["10.0.0.1"]})).collect();
        assert_eq!(
            create(slice(json!({"endpoints": many}))),
            vec!["endpoints: Too many: 1001: must have at most 1000 items"]
        );
    }
}
