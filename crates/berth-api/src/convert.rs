//! Conversions between served versions that share one storage: `events.k8s.io/v1 Event` is
//! a view of `core/v1 Event`, as in Kubernetes (`pkg/apis/events/v1/conversion.go`).

use crate::registry::ResourceType;
use serde_json::{Map, Value, json};

/// Field renames between core/v1 Event (left) and events.k8s.io/v1 Event (right).
const EVENT_FIELDS: [(&str, &str); 14] = [
    ("involvedObject", "regarding"),
    ("related", "related"),
    ("message", "note"),
    ("reason", "reason"),
    ("type", "type"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("action", "action"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn is_events_v1(rt: &ResourceType) -> bool {
    rt.group == "events.k8s.io" && rt.kind == "Event"
}

fn rename(obj: &Value, to_v1: bool, api_version: &str) -> Value {
    let Some(map) = obj.as_object() else {
        return obj.clone();
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    if let Some(md) = map.get("metadata") {
        out.insert("metadata".into(), md.clone());
    }
    for (core, v1) in EVENT_FIELDS {
        let (from, to) = if to_v1 { (core, v1) } else { (v1, core) };
        if let Some(v) = map.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// Converts a stored object into the served version `rt` (identity for most types).
pub fn from_storage(rt: &ResourceType, obj: Value) -> Value {
    if is_events_v1(rt) {
        rename(&obj, true, "events.k8s.io/v1")
    } else {
        obj
    }
}

/// Converts an object of the served version `rt` into its storage form.
pub fn to_storage(rt: &ResourceType, obj: Value) -> Value {
    if is_events_v1(rt) {
        rename(&obj, false, "v1")
    } else {
        obj
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::lookup;

    #[test]
    fn events_round_trip_between_versions() {
        let rt = lookup("events.k8s.io", "v1", "events").expect("served");
        let core = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "e1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-0"},
            "reason": "Created", "message": "created container", "type": "Normal",
            "reportingComponent": "berth", "count": 2
        });
        let v1 = from_storage(rt, core.clone());
        assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
        assert_eq!(v1["regarding"]["name"], "web-0");
        assert_eq!(v1["note"], "created container");
        assert_eq!(v1["reportingController"], "berth");
        assert_eq!(v1["deprecatedCount"], 2);
        assert_eq!(to_storage(rt, v1), core);
    }

    #[test]
    fn other_types_are_unchanged() {
        let rt = lookup("", "v1", "configmaps").expect("served");
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}});
        assert_eq!(from_storage(rt, cm.clone()), cm);
    }
}
