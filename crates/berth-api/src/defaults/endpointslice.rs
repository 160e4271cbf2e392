//! EndpointSlice defaults (`pkg/apis/discovery/v1/defaults.go`): every port gets a name (`""`)
//! and a protocol (`TCP`).

use serde_json::Value;

/// `SetDefaults_EndpointPort` for each of `ports`.
pub(crate) fn default_endpoint_slice(obj: &mut Value) {
    let Some(ports) = obj.get_mut("ports").and_then(Value::as_array_mut) else {
        return;
    };
    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
        super::def_val(port, "name", Value::String(String::new()));
        super::def_val(port, "protocol", Value::String("TCP".to_string()));
    }
}
