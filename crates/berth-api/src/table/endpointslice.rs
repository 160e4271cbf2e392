//! The EndpointSlice printer (`printEndpointSlice`): Name, AddressType, Ports, Endpoints, Age.

use super::{AGE, Column, NAME, Printer, Row, age, arr_at, str_at};
use serde_json::{Value, json};

/// At most this many ports or addresses are listed before `+ N more...`.
const MAX: usize = 3;

pub(crate) const ENDPOINT_SLICE: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "AddressType",
            "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.",
        ),
        Column::string(
            "Ports",
            "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates \"all ports\". Each slice may include a maximum of 100 ports.",
        ),
        Column::string(
            "Endpoints",
            "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.",
        ),
        AGE,
    ],
    row: endpoint_slice_row,
};

/// `listWithMoreString`.
fn list_with_more(list: &[String], more: bool, count: usize) -> String {
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else if ret.is_empty() {
        "<unset>".to_string()
    } else {
        ret
    }
}

/// `formatDiscoveryPorts`: the port number, else its name, else `*`.
fn format_ports(slice: &Value) -> String {
    let ports = arr_at(slice, "/ports");
    let list: Vec<String> = ports
        .iter()
        .take(MAX)
        .map(|p| match p.get("port").and_then(Value::as_i64) {
            Some(n) => n.to_string(),
            None => p
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| "*".to_string(), str::to_string),
        })
        .collect();
    list_with_more(&list, ports.len() > MAX, ports.len())
}

/// `formatDiscoveryEndpoints`: the addresses of all endpoints.
fn format_endpoints(slice: &Value) -> String {
    let addresses: Vec<&str> = arr_at(slice, "/endpoints")
        .iter()
        .flat_map(|e| arr_at(e, "/addresses"))
        .map(|a| a.as_str().unwrap_or(""))
        .collect();
    let list: Vec<String> = addresses.iter().take(MAX).map(|a| a.to_string()).collect();
    list_with_more(&list, addresses.len() > MAX, addresses.len())
}

fn endpoint_slice_row(slice: &Value, now: jiff::Timestamp) -> Row {
    Row::new(vec![
        json!(crate::meta::name(slice)),
        json!(str_at(slice, "/addressType")),
        json!(format_ports(slice)),
        json!(format_endpoints(slice)),
        age(slice, now),
    ])
}

#[cfg(test)]
mod tests {
    use crate::registry::lookup_kind;
    use crate::table::{IncludeObject, columns, render};
    use serde_json::{Value, json};

    fn cells(obj: Value) -> Vec<Value> {
        let rt = lookup_kind("discovery.k8s.io", "EndpointSlice").expect("served");
        let now: jiff::Timestamp = "2026-01-01T00:05:00Z".parse().expect("time");
        let t = render(rt, &[obj], now, IncludeObject::None, true);
        t["rows"][0]["cells"].as_array().cloned().unwrap_or_default()
    }

    #[test]
    fn columns_are_kubernetes_1_32s() {
        let rt = lookup_kind("discovery.k8s.io", "EndpointSlice").expect("served");
        let names: Vec<&str> = columns(rt).iter().map(|c| c.name).collect();
        assert_eq!(names, ["Name", "AddressType", "Ports", "Endpoints", "Age"]);
    }

    #[test]
    fn row_lists_three_ports_and_addresses_then_more() {
        let obj = json!({"metadata": {"name": "web-x7k2p", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.0.1"]}, {"addresses": ["10.244.0.2", "10.244.0.3"]}, {"addresses": ["10.244.0.4"]}],
            "ports": [{"port": 80}, {"name": "dns"}, {}, {"port": 9}]});
        assert_eq!(
            cells(obj),
            vec![
                json!("web-x7k2p"),
                json!("IPv4"),
                json!("80,dns,* + 1 more..."),
                json!("10.244.0.1,10.244.0.2,10.244.0.3 + 1 more..."),
                json!("5m"),
            ]
        );
    }

    #[test]
    fn empty_lists_print_unset() {
        let obj = json!({"metadata": {"name": "e"}, "addressType": "IPv4"});
        assert_eq!(cells(obj)[2..4], [json!("<unset>"), json!("<unset>")]);
    }
}
