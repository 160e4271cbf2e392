//! Field selectors: apimachinery's `fields.ParseSelector` (terms, escaping, errors), the
//! per-kind field label conversions of Kubernetes' schemes and the selectable field sets of
//! its registries (`ToSelectableFields`), evaluated on JSON objects.

use super::names::go_quote;
use crate::registry::ResourceType;
use serde_json::Value;
use std::fmt;

/// A field selector operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

/// One `field op value` term, with the field already converted to the name the registry's
/// selectable field set uses (e.g. `regarding.name` → `involvedObject.name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    /// The canonical field label.
    pub field: String,
    /// The operator.
    pub op: FieldOp,
    /// The unescaped value.
    pub value: String,
}

/// Which selectable field set (`ToSelectableFields`) an object type has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum FieldSet {
    /// `metadata.name` (+ `metadata.namespace` when namespaced).
    #[default]
    Namespaced,
    ClusterScoped,
    Pod,
    Event,
    Namespace,
    Node,
    Secret,
    Service,
}

/// A parsed field selector (`metadata.name=web,status.phase!=Running`).
///
/// Two selectors are equal when they have the same terms over the same kind of field set;
/// every empty selector equals `FieldSelector::default()`, whatever type it was parsed for.
#[derive(Debug, Clone, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
    set: FieldSet,
}

impl PartialEq for FieldSelector {
    fn eq(&self, other: &Self) -> bool {
        self.terms == other.terms && (self.terms.is_empty() || self.set == other.set)
    }
}

impl FieldSelector {
    /// Parses the query-string form, rejecting fields the resource does not support with
    /// Kubernetes' messages (`field label not supported: spec.foo` for kinds with their own
    /// field label conversion, the default conversion's wording for the others).
    pub fn parse(rt: &ResourceType, s: &str) -> Result<Self, String> {
        let mut parts = split_terms(s);
        parts.sort();
        let mut raw = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(format!("invalid selector: '{s}'; can't understand '{part}'"));
            };
            raw.push((lhs, op, unescape_value(rhs)?));
        }
        let set = field_set(rt);
        let mut terms = Vec::with_capacity(raw.len());
        for (lhs, op, value) in raw {
            let field = convert_field_label(rt, lhs)?;
            terms.push(FieldTerm { field, op, value });
        }
        Ok(Self { terms, set })
    }

    /// The terms (ANDed), sorted as Kubernetes sorts them.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// Whether the selector restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value an `=` term demands for `field` (`RequiresExactMatch`), e.g. `metadata.name`.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && t.op == FieldOp::Equals)
            .map(|t| t.value.as_str())
    }

    /// Whether an object with these [`SelectorAttrs`] matches every term.
    pub fn matches_attrs(&self, attrs: &SelectorAttrs) -> bool {
        self.terms.iter().all(|t| {
            let have = attrs.field(&t.field);
            match t.op {
                FieldOp::Equals => have == t.value,
                FieldOp::NotEquals => have != t.value,
            }
        })
    }

    /// Whether an object matches every term. Fields absent from the object (or from the
    /// type's selectable set) compare as the empty string.
    pub fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|t| {
            let have = field_value(self.set, obj, &t.field);
            match t.op {
                FieldOp::Equals => have == t.value,
                FieldOp::NotEquals => have != t.value,
            }
        })
    }
}

impl fmt::Display for FieldSelector {
    /// `selector.String()`: terms joined by `,`, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match t.op {
                FieldOp::Equals => "=",
                FieldOp::NotEquals => "!=",
            };
            write!(f, "{}{op}{}", t.field, escape_value(&t.value))?;
        }
        Ok(())
    }
}

/// `fields.EscapeValue`.
fn escape_value(s: &str) -> String {
    s.replace('\\', "\\\\").replace(',', "\\,").replace('=', "\\=")
}

/// `fields.splitTerms`: splits on unescaped commas, keeping escapes in the terms.
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// `fields.splitTerm`: the first `!=`, `==` or `=` splits field from value.
fn split_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op_str, op) in [
            ("!=", FieldOp::NotEquals),
            ("==", FieldOp::Equals),
            ("=", FieldOp::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(op_str) {
                return Some((&term[..i], op, value));
            }
        }
    }
    None
}

/// `fields.UnescapeValue`.
fn unescape_value(s: &str) -> Result<String, String> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                _ => return Err(format!("invalid field selector: invalid escape sequence: \\{c}")),
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                return Err(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                ));
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

fn field_set(rt: &ResourceType) -> FieldSet {
    match (rt.group, rt.kind) {
        ("", "Pod") => FieldSet::Pod,
        ("" | "events.k8s.io", "Event") => FieldSet::Event,
        ("", "Namespace") => FieldSet::Namespace,
        ("", "Node") => FieldSet::Node,
        ("", "Secret") => FieldSet::Secret,
        ("", "Service") => FieldSet::Service,
        _ if rt.namespaced => FieldSet::Namespaced,
        _ => FieldSet::ClusterScoped,
    }
}

fn not_supported(label: &str) -> String {
    format!("field label not supported: {label}")
}

/// `scheme.ConvertFieldLabel`: the per-kind conversion functions registered in
/// `pkg/apis/core/v1/conversion.go` and `pkg/apis/events/v1/conversion.go`, else
/// `runtime.DefaultMetaV1FieldSelectorConversion`.
fn convert_field_label(rt: &ResourceType, label: &str) -> Result<String, String> {
    let accept = |allowed: &[&str]| {
        if allowed.contains(&label) {
            Ok(label.to_string())
        } else {
            Err(not_supported(label))
        }
    };
    match (rt.group, rt.kind) {
        ("", "Pod") => {
            if label == "spec.host" {
                return Ok("spec.nodeName".to_string());
            }
            accept(&[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            ])
        }
        ("", "Node") => accept(&["metadata.name", "spec.unschedulable"]),
        ("", "Event") => accept(&[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "metadata.namespace",
            "metadata.name",
        ]),
        ("", "Namespace") => accept(&["status.phase", "metadata.name"]),
        ("", "Secret") => accept(&["type", "metadata.namespace", "metadata.name"]),
        ("", "Service") => accept(&[
            "metadata.namespace",
            "metadata.name",
            "spec.clusterIP",
            "spec.type",
        ]),
        ("events.k8s.io", "Event") => {
            let mapped = match label {
                "reason" => "reason",
                "regarding.kind" => "involvedObject.kind",
                "regarding.namespace" => "involvedObject.namespace",
                "regarding.name" => "involvedObject.name",
                "regarding.uid" => "involvedObject.uid",
                "regarding.apiVersion" => "involvedObject.apiVersion",
                "regarding.resourceVersion" => "involvedObject.resourceVersion",
                "regarding.fieldPath" => "involvedObject.fieldPath",
                "reportingController" => "reportingComponent",
                "source" => "source",
                "type" => "type",
                "metadata.namespace" => "metadata.namespace",
                "metadata.name" => "metadata.name",
                _ => return Err(not_supported(label)),
            };
            Ok(mapped.to_string())
        }
        _ => match label {
            "metadata.name" | "metadata.namespace" => Ok(label.to_string()),
            _ => Err(format!(
                "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                go_quote(label)
            )),
        },
    }
}

fn str_at<'a>(obj: &'a Value, ptr: &str) -> Option<&'a str> {
    obj.pointer(ptr).and_then(Value::as_str)
}

/// The first non-empty string among the pointers (events have a core and an events.k8s.io shape).
fn first_str(obj: &Value, ptrs: &[&str]) -> String {
    ptrs.iter()
        .filter_map(|p| str_at(obj, p))
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_string()
}

fn bool_string(obj: &Value, ptr: &str) -> String {
    obj.pointer(ptr)
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .to_string()
}

/// The canonical field labels of a selectable field set (what `ToSelectableFields` fills).
fn selectable_fields(set: FieldSet) -> &'static [&'static str] {
    match set {
        FieldSet::Namespaced => &["metadata.name", "metadata.namespace"],
        FieldSet::Pod => &[
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        FieldSet::Event => &[
            "metadata.name",
            "metadata.namespace",
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "type",
            "reportingComponent",
            "source",
        ],
        FieldSet::Namespace => &["metadata.name", "status.phase"],
        FieldSet::Node => &["metadata.name", "spec.unschedulable"],
        FieldSet::ClusterScoped => &["metadata.name"],
        FieldSet::Secret => &["metadata.name", "metadata.namespace", "type"],
        FieldSet::Service => &[
            "metadata.name",
            "metadata.namespace",
            "spec.clusterIP",
            "spec.type",
        ],
    }
}

/// What label and field selectors read of one object, Kubernetes' `GetAttrs` (a `labels.Set`
/// and a `fields.Set`): its labels and the values of its type's selectable fields, a few
/// hundred bytes where the decoded object takes kilobytes. Every [`FieldSelector`] parsed
/// for the type and every [`crate::selector::LabelSelector`] matches the attributes exactly
/// when it matches the whole object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectorAttrs {
    /// `metadata.labels`, sorted by key.
    labels: Box<[(Box<str>, Box<str>)]>,
    /// The selectable fields with a non-empty value, in the set's order.
    fields: Box<[(&'static str, Box<str>)]>,
}

impl SelectorAttrs {
    /// The attributes of `obj`, an object of type `rt`.
    pub fn of(rt: &ResourceType, obj: &Value) -> Self {
        let set = field_set(rt);
        let mut labels: Vec<(Box<str>, Box<str>)> = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.as_str().into(), v.as_str().unwrap_or("").into()))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        let fields = selectable_fields(set)
            .iter()
            .filter_map(|f| {
                let v = field_value(set, obj, f);
                (!v.is_empty()).then(|| (*f, v.into_boxed_str()))
            })
            .collect();
        Self {
            labels: labels.into_boxed_slice(),
            fields,
        }
    }

    /// The value of a canonical field label; "" when absent or not selectable.
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(f, _)| *f == name)
            .map_or("", |(_, v)| v)
    }

    /// The value of the label `key`, if the object has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.labels[i].1)
    }
}

/// The value of a canonical field label in the type's selectable field set; "" when absent.
fn field_value(set: FieldSet, obj: &Value, field: &str) -> String {
    let s = |ptr: &str| str_at(obj, ptr).unwrap_or("").to_string();
    match field {
        "metadata.name" => return s("/metadata/name"),
        "metadata.namespace" => {
            return match set {
                FieldSet::ClusterScoped | FieldSet::Namespace | FieldSet::Node => String::new(),
                _ => s("/metadata/namespace"),
            };
        }
        _ => {}
    }
    match (set, field) {
        (FieldSet::Pod, "spec.nodeName") => s("/spec/nodeName"),
        (FieldSet::Pod, "spec.restartPolicy") => s("/spec/restartPolicy"),
        (FieldSet::Pod, "spec.schedulerName") => s("/spec/schedulerName"),
        (FieldSet::Pod, "spec.serviceAccountName") => s("/spec/serviceAccountName"),
        (FieldSet::Pod, "spec.hostNetwork") => bool_string(obj, "/spec/hostNetwork"),
        (FieldSet::Pod, "status.phase") => s("/status/phase"),
        // `podIPs[0]`, which the v1 conversion fills from `podIP` when only that is set.
        (FieldSet::Pod, "status.podIP") => first_str(obj, &["/status/podIPs/0/ip", "/status/podIP"]),
        (FieldSet::Pod, "status.nominatedNodeName") => s("/status/nominatedNodeName"),
        (FieldSet::Event, "involvedObject.kind") => {
            first_str(obj, &["/involvedObject/kind", "/regarding/kind"])
        }
        (FieldSet::Event, "involvedObject.namespace") => {
            first_str(obj, &["/involvedObject/namespace", "/regarding/namespace"])
        }
        (FieldSet::Event, "involvedObject.name") => {
            first_str(obj, &["/involvedObject/name", "/regarding/name"])
        }
        (FieldSet::Event, "involvedObject.uid") => first_str(obj, &["/involvedObject/uid", "/regarding/uid"]),
        (FieldSet::Event, "involvedObject.apiVersion") => {
            first_str(obj, &["/involvedObject/apiVersion", "/regarding/apiVersion"])
        }
        (FieldSet::Event, "involvedObject.resourceVersion") => first_str(
            obj,
            &["/involvedObject/resourceVersion", "/regarding/resourceVersion"],
        ),
        (FieldSet::Event, "involvedObject.fieldPath") => {
            first_str(obj, &["/involvedObject/fieldPath", "/regarding/fieldPath"])
        }
        (FieldSet::Event, "reason") => s("/reason"),
        (FieldSet::Event, "type") => s("/type"),
        (FieldSet::Event, "reportingComponent") => {
            first_str(obj, &["/reportingComponent", "/reportingController"])
        }
        (FieldSet::Event, "source") => first_str(
            obj,
            &[
                "/source/component",
                "/deprecatedSource/component",
                "/reportingComponent",
                "/reportingController",
            ],
        ),
        (FieldSet::Namespace, "status.phase") => s("/status/phase"),
        (FieldSet::Node, "spec.unschedulable") => bool_string(obj, "/spec/unschedulable"),
        (FieldSet::Secret, "type") => s("/type"),
        (FieldSet::Service, "spec.clusterIP") => s("/spec/clusterIP"),
        (FieldSet::Service, "spec.type") => s("/spec/type"),
        // Accepted by the conversion but not in the selectable set (e.g. `status.podIPs`).
        _ => String::new(),
    }
}
