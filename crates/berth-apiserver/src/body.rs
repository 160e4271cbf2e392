//! Reading request bodies: size limit, media type, and decoding into JSON values.

use crate::negotiate::BodyType;
use berth_api::status::ApiError;
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::Value;

/// Kubernetes' request body limit (3 MiB).
pub(crate) const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// How much of an oversized body is still read (and discarded) so that the client, which is
/// usually still sending, receives the 413 instead of a broken connection.
const DRAIN_LIMIT: usize = 32 * 1024 * 1024;

/// Reads the whole body, answering 413 beyond the limit.
pub(crate) async fn read(mut body: axum::body::Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("unable to read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen <= limit {
                buf.extend_from_slice(&data);
            } else if seen > DRAIN_LIMIT {
                break;
            }
        }
    }
    if seen > limit {
        return Err(ApiError::too_large(limit));
    }
    Ok(buf.freeze())
}

/// Parses JSON, worded as Kubernetes' decoder words failures.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}")))
}

/// Parses YAML (or JSON, which is YAML) into a JSON value.
pub(crate) fn parse_yaml(bytes: &[u8]) -> Result<Value, ApiError> {
    let v: serde_yaml::Value = serde_yaml::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: yaml: {e}")))?;
    serde_json::to_value(v).map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))
}

/// Decodes an object body (create/update) of the given media type.
pub(crate) fn decode_object(ty: &BodyType, bytes: &[u8]) -> Result<Value, ApiError> {
    match ty {
        BodyType::Json => parse_json(bytes),
        BodyType::Yaml => parse_yaml(bytes),
        BodyType::Protobuf => crate::protobuf::decode(bytes),
        BodyType::Other(other) => Err(ApiError::unsupported_media_type(
            other,
            &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ],
        )),
        patch => Err(ApiError::unsupported_media_type(
            &format!("{patch:?}"),
            &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ],
        )),
    }
}
