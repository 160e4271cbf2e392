//! Server-side `Table` rendering for `kubectl get`: the column definitions and cells of
//! Kubernetes 1.32's printers (`pkg/printers/internalversion/printers.go`) for every served
//! type, the default `Name`/`Created At` table for types without a printer, and
//! apimachinery's `duration.HumanDuration` for age cells.
//!
//! The apiserver always prints with `Wide: true`, so priority-1 columns and their cells are
//! always present; kubectl hides them unless `-o wide`.

mod apps;
mod core;
mod endpointslice;
mod other;
mod runtimeclass;
mod storage;
#[cfg(test)]
mod tests;

use crate::registry::ResourceType;
use serde_json::{Map, Value, json};

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

/// One `TableColumnDefinition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Header, e.g. `Ready`.
    pub name: &'static str,
    /// `string`, `integer`, `date` or `boolean`.
    pub ty: &'static str,
    /// `name` for the column holding the object's name, else empty.
    pub format: &'static str,
    /// What the column shows (Kubernetes' wording).
    pub description: &'static str,
    /// 0 always shown; 1 only with `-o wide`.
    pub priority: u8,
}

impl Column {
    /// A priority-0 `string` column.
    pub(crate) const fn string(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            ty: "string",
            format: "",
            description,
            priority: 0,
        }
    }

    /// The same column with another `type`.
    pub(crate) const fn typed(self, ty: &'static str) -> Self {
        Self { ty, ..self }
    }

    /// The same column at priority 1 (`-o wide`).
    pub(crate) const fn wide(self) -> Self {
        Self { priority: 1, ..self }
    }

    /// The same column with `format: name`.
    pub(crate) const fn name_format(self) -> Self {
        Self {
            format: "name",
            ..self
        }
    }

    fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// `metav1.ObjectMeta{}.SwaggerDoc()["name"]`.
pub(crate) const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// `metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]`.
pub(crate) const CREATION_TIMESTAMP_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The `Name` column every printer starts with.
pub(crate) const NAME: Column = Column::string("Name", NAME_DOC).name_format();

/// The `Age` column.
pub(crate) const AGE: Column = Column::string("Age", CREATION_TIMESTAMP_DOC);

/// The cells (and row conditions) a printer produces for one object.
pub(crate) struct Row {
    pub(crate) cells: Vec<Value>,
    pub(crate) conditions: Option<Value>,
}

impl Row {
    pub(crate) fn new(cells: Vec<Value>) -> Self {
        Self {
            cells,
            conditions: None,
        }
    }
}

/// A printer: its columns and its row function.
pub(crate) struct Printer {
    pub(crate) columns: &'static [Column],
    pub(crate) row: fn(&Value, jiff::Timestamp) -> Row,
}

/// The default table of types without a printer (`rest.NewDefaultTableConvertor`).
const DEFAULT_COLUMNS: &[Column] = &[
    NAME,
    Column::string("Created At", CREATION_TIMESTAMP_DOC).typed("date"),
];

fn default_row(obj: &Value, _now: jiff::Timestamp) -> Row {
    let created = timestamp(obj.pointer("/metadata/creationTimestamp"))
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string());
    Row::new(vec![json!(crate::meta::name(obj)), json!(created)])
}

fn printer_for(rt: &ResourceType) -> Printer {
    match (rt.group, rt.kind) {
        ("", "Pod") => core::POD,
        ("", "Service") => core::SERVICE,
        ("", "Endpoints") => core::ENDPOINTS,
        ("", "ConfigMap") => core::CONFIG_MAP,
        ("", "Secret") => core::SECRET,
        ("", "ServiceAccount") => core::SERVICE_ACCOUNT,
        ("", "Namespace") => core::NAMESPACE,
        ("", "Node") => core::NODE,
        ("", "ResourceQuota") => core::RESOURCE_QUOTA,
        // events.k8s.io shares the core Event storage and therefore its printer.
        ("" | "events.k8s.io", "Event") => core::EVENT,
        ("", "PersistentVolume") => storage::PERSISTENT_VOLUME,
        ("", "PersistentVolumeClaim") => storage::PERSISTENT_VOLUME_CLAIM,
        ("storage.k8s.io", "StorageClass") => storage::STORAGE_CLASS,
        ("apps", "StatefulSet") => apps::STATEFUL_SET,
        ("apps", "ControllerRevision") => apps::CONTROLLER_REVISION,
        ("autoscaling", "Scale") => apps::SCALE,
        ("coordination.k8s.io", "Lease") => other::LEASE,
        ("discovery.k8s.io", "EndpointSlice") => endpointslice::ENDPOINT_SLICE,
        ("node.k8s.io", "RuntimeClass") => runtimeclass::RUNTIME_CLASS,
        ("rbac.authorization.k8s.io", "RoleBinding") => other::ROLE_BINDING,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => other::CLUSTER_ROLE_BINDING,
        _ => Printer {
            columns: DEFAULT_COLUMNS,
            row: default_row,
        },
    }
}

/// The column definitions Berth serves for a type (all priorities).
pub fn columns(rt: &ResourceType) -> &'static [Column] {
    printer_for(rt).columns
}

/// Renders objects of one type as a `meta.k8s.io/v1` Table.
///
/// `metadata` is left `{}` for the caller (resourceVersion, continue). Without headers
/// (watch events after the first) `columnDefinitions` is omitted.
pub fn render(
    rt: &ResourceType,
    objects: &[Value],
    now: jiff::Timestamp,
    include: IncludeObject,
    with_headers: bool,
) -> Value {
    build(&printer_for(rt), objects, now, include, with_headers)
}

/// Renders `autoscaling/v1` `Scale` objects (the `/scale` subresource) as a Table:
/// Name, Desired, Available, Age.
pub fn render_scale(
    objects: &[Value],
    now: jiff::Timestamp,
    include: IncludeObject,
    with_headers: bool,
) -> Value {
    build(&apps::SCALE, objects, now, include, with_headers)
}

fn build(
    printer: &Printer,
    objects: &[Value],
    now: jiff::Timestamp,
    include: IncludeObject,
    headers: bool,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|obj| {
            let row = (printer.row)(obj, now);
            let mut out = Map::new();
            out.insert("cells".to_string(), Value::Array(row.cells));
            if let Some(conditions) = row.conditions {
                out.insert("conditions".to_string(), conditions);
            }
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    let metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
                    out.insert(
                        "object".to_string(),
                        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}),
                    );
                }
                IncludeObject::Object => {
                    out.insert("object".to_string(), obj.clone());
                }
            }
            Value::Object(out)
        })
        .collect();
    let mut table = Map::new();
    table.insert("kind".to_string(), json!("Table"));
    table.insert("apiVersion".to_string(), json!("meta.k8s.io/v1"));
    table.insert("metadata".to_string(), json!({}));
    if headers {
        let columns: Vec<Value> = printer.columns.iter().map(|c| c.to_json()).collect();
        table.insert("columnDefinitions".to_string(), Value::Array(columns));
    }
    table.insert("rows".to_string(), Value::Array(rows));
    Value::Object(table)
}

/// apimachinery's `duration.HumanDuration` for a whole number of seconds (truncated toward
/// zero, as Go's `int(d.Seconds())`): `<invalid>` below -1 s, then `0s`, `Ns` (< 2 min),
/// `NmSs` (< 10 min), `Nm` (< 3 h), `NhMm` (< 8 h), `Nh` (< 2 d), `NdHh` (< 8 d), `Nd`
/// (< 2 y), `NyDd` (< 8 y), `Ny`; zero second parts are dropped (`5m`, `2h`, `3d`, `2y`).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        let d = hours / 24;
        return if h == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{h}h")
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        let y = hours / 24 / 365;
        return if dy == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{dy}d")
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// A Kubernetes timestamp (`metav1.Time` / `MicroTime`), or `None` when absent or unparseable
/// (what Go sees as the zero time).
pub(crate) fn timestamp(v: Option<&Value>) -> Option<jiff::Timestamp> {
    v.and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
}

/// `translateTimestampSince`: `HumanDuration(now - t)`, `<unknown>` for the zero time.
pub(crate) fn since(t: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    match t {
        Some(t) => human_duration(now.duration_since(t).as_secs()),
        None => "<unknown>".to_string(),
    }
}

/// The Age cell: `translateTimestampSince(metadata.creationTimestamp)`.
pub(crate) fn age(obj: &Value, now: jiff::Timestamp) -> Value {
    json!(since(timestamp(obj.pointer("/metadata/creationTimestamp")), now))
}

/// The string at a JSON pointer, or "".
pub(crate) fn str_at<'a>(obj: &'a Value, ptr: &str) -> &'a str {
    obj.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// The array at a JSON pointer, or an empty slice.
pub(crate) fn arr_at<'a>(obj: &'a Value, ptr: &str) -> &'a [Value] {
    obj.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The integer at a JSON pointer, or `default`.
pub(crate) fn int_at(obj: &Value, ptr: &str, default: i64) -> i64 {
    obj.pointer(ptr).and_then(Value::as_i64).unwrap_or(default)
}

/// The number of entries of the map at a JSON pointer.
pub(crate) fn map_len(obj: &Value, ptr: &str) -> usize {
    obj.pointer(ptr).and_then(Value::as_object).map_or(0, Map::len)
}

/// The label or annotation map under `metadata`, as `(key, string value)` pairs.
pub(crate) fn meta_map<'a>(obj: &'a Value, which: &str) -> Vec<(&'a str, &'a str)> {
    obj.get("metadata")
        .and_then(|m| m.get(which))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default()
}

/// `labels.FormatLabels` of a string map: `k=v` sorted by key, `<none>` when empty.
pub(crate) fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<(&str, &str)> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        return "<none>".to_string();
    }
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `layoutContainerCells`: container names and images, comma-joined.
pub(crate) fn container_cells(containers: &[Value]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    (names.join(","), images.join(","))
}
