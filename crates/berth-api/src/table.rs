//! Server-side `Table` rendering. (Placeholder: filled in by the table work.)

use crate::registry::ResourceType;
use serde_json::{Value, json};

/// What each row carries in `object` (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The full object.
    Object,
}

/// Renders objects of one type as a `meta.k8s.io/v1` Table.
pub fn render(
    _rt: &ResourceType,
    objects: &[Value],
    _now: jiff::Timestamp,
    _include: IncludeObject,
    with_headers: bool,
) -> Value {
    let rows: Vec<Value> = objects.iter().map(|o| json!({"cells":[crate::meta::name(o)], "object": o})).collect();
    let mut t = json!({"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{},"rows":rows});
    if with_headers {
        t["columnDefinitions"] = json!([{"name":"Name","type":"string","format":"name","description":"","priority":0}]);
    }
    t
}
