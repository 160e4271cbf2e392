//! Content negotiation: which media type a request body is in and what the client accepts.

use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE};

/// The media type of a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyType {
    Json,
    Yaml,
    Protobuf,
    MergePatch,
    JsonPatch,
    StrategicMergePatch,
    ApplyPatch,
    Other(String),
}

/// The request's body media type; a missing `Content-Type` means JSON (the Python client
/// and `kubectl scale --current-replicas` send none).
pub(crate) fn body_type(headers: &HeaderMap) -> BodyType {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return BodyType::Json;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "" | "application/json" => BodyType::Json,
        "application/yaml" => BodyType::Yaml,
        "application/vnd.kubernetes.protobuf" => BodyType::Protobuf,
        "application/merge-patch+json" => BodyType::MergePatch,
        "application/json-patch+json" => BodyType::JsonPatch,
        "application/strategic-merge-patch+json" => BodyType::StrategicMergePatch,
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => BodyType::ApplyPatch,
        other => BodyType::Other(other.to_string()),
    }
}

/// One entry of an `Accept` header with its parameters.
struct AcceptEntry<'a> {
    essence: String,
    params: Vec<(&'a str, &'a str)>,
}

fn accept_entries(headers: &HeaderMap) -> Vec<AcceptEntry<'_>> {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Vec::new();
    };
    accept
        .split(',')
        .map(|entry| {
            let mut parts = entry.split(';');
            let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let params = parts
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            AcceptEntry { essence, params }
        })
        .collect()
}

fn has(e: &AcceptEntry<'_>, key: &str, value: &str) -> bool {
    e.params.iter().any(|(k, v)| *k == key && *v == value)
}

/// What the response should be rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    Json,
    Yaml,
    Table,
    /// `PartialObjectMetadata` (and `…List`), what metadata-only informers ask for.
    Metadata,
}

/// The representation the client prefers among those Berth can produce, or `None` when
/// the `Accept` header rules out all of them (406).
pub(crate) fn output(headers: &HeaderMap) -> Option<Output> {
    let entries = accept_entries(headers);
    if entries.is_empty() {
        return Some(Output::Json);
    }
    for e in &entries {
        if e.essence == "application/json" && has(e, "as", "Table") && has(e, "g", "meta.k8s.io") {
            if has(e, "v", "v1") || has(e, "v", "v1beta1") {
                return Some(Output::Table);
            }
            continue;
        }
        if e.essence == "application/json"
            && (has(e, "as", "PartialObjectMetadata") || has(e, "as", "PartialObjectMetadataList"))
            && has(e, "g", "meta.k8s.io")
            && (has(e, "v", "v1") || has(e, "v", "v1beta1"))
        {
            return Some(Output::Metadata);
        }
        if e.params.iter().any(|(k, _)| *k == "as") {
            // Another conversion (e.g. PartialObjectMetadata) we do not produce: try the next.
            continue;
        }
        match e.essence.as_str() {
            "application/json" | "application/*" | "*/*" | "application/vnd.kubernetes.protobuf" => {
                return Some(Output::Json);
            }
            "application/yaml" => return Some(Output::Yaml),
            _ => {}
        }
    }
    None
}

/// Whether the client asks for aggregated discovery (`as=APIGroupDiscoveryList`), and which version.
pub(crate) fn aggregated_discovery(headers: &HeaderMap) -> Option<&'static str> {
    for e in accept_entries(headers) {
        if has(&e, "as", "APIGroupDiscoveryList") && has(&e, "g", "apidiscovery.k8s.io") {
            if has(&e, "v", "v2") {
                return Some("v2");
            }
            if has(&e, "v", "v2beta1") {
                return Some("v2beta1");
            }
        }
        if e.essence == "application/json" && e.params.is_empty() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn h(name: http::header::HeaderName, v: &'static str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(name, HeaderValue::from_static(v));
        m
    }

    #[test]
    fn kubectl_get_asks_for_a_table() {
        let m = h(
            ACCEPT,
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
        );
        assert_eq!(output(&m), Some(Output::Table));
    }

    #[test]
    fn metadata_informers_get_partial_objects() {
        let m = h(
            ACCEPT,
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
        );
        assert_eq!(output(&m), Some(Output::Metadata));
    }

    #[test]
    fn protobuf_first_gets_json() {
        let m = h(ACCEPT, "application/vnd.kubernetes.protobuf,application/json");
        assert_eq!(output(&m), Some(Output::Json));
        assert_eq!(output(&h(ACCEPT, "text/html")), None);
        assert_eq!(output(&HeaderMap::new()), Some(Output::Json));
    }

    #[test]
    fn missing_content_type_is_json() {
        assert_eq!(body_type(&HeaderMap::new()), BodyType::Json);
        assert_eq!(
            body_type(&h(CONTENT_TYPE, "application/strategic-merge-patch+json")),
            BodyType::StrategicMergePatch
        );
    }

    #[test]
    fn aggregated_discovery_versions() {
        let m = h(
            ACCEPT,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
        );
        assert_eq!(aggregated_discovery(&m), Some("v2"));
        assert_eq!(aggregated_discovery(&h(ACCEPT, "application/json")), None);
    }
}
