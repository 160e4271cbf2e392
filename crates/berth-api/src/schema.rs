//! The OpenAPI schemas of the served kinds, generated from `k8s-openapi`'s types (their
//! `schemars` implementations carry Kubernetes' own definition names and descriptions).
//!
//! One source serves three needs: unknown-field detection for `fieldValidation`
//! ([`check_fields`]), JSON type checks with Go-like messages, and the `components.schemas`
//! of the OpenAPI v3 documents that `kubectl explain` reads ([`components_for`]).

use k8s_openapi::api::{
    apps, authentication, authorization, coordination, core, discovery, events, node, rbac, storage,
};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::OnceLock;

/// All definitions plus the root definition name of each served kind.
#[derive(Debug)]
pub struct Schemas {
    defs: Map<String, Value>,
    roots: HashMap<(&'static str, &'static str), String>,
}

const REF_PREFIX: &str = "#/components/schemas/";

macro_rules! kinds {
    ($gen:ident, $roots:ident; $(($group:literal, $version:literal, $kind:literal, $ty:ty)),* $(,)?) => {
        $(
            let r = $gen.subschema_for::<$ty>();
            if let Some(name) = r.get("$ref").and_then(Value::as_str).and_then(|s| s.strip_prefix(REF_PREFIX)) {
                $roots.insert(($group, $kind), (name.to_string(), $version));
            }
        )*
    };
}

fn build() -> Schemas {
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let mut roots: HashMap<(&'static str, &'static str), (String, &'static str)> = HashMap::new();
    kinds!(generator, roots;
        ("", "v1", "Namespace", core::v1::Namespace),
        ("", "v1", "Pod", core::v1::Pod),
        ("", "v1", "Service", core::v1::Service),
        ("", "v1", "Endpoints", core::v1::Endpoints),
        ("", "v1", "ConfigMap", core::v1::ConfigMap),
        ("", "v1", "Secret", core::v1::Secret),
        ("", "v1", "Event", core::v1::Event),
        ("", "v1", "ServiceAccount", core::v1::ServiceAccount),
        ("", "v1", "Node", core::v1::Node),
        ("", "v1", "PersistentVolume", core::v1::PersistentVolume),
        ("", "v1", "PersistentVolumeClaim", core::v1::PersistentVolumeClaim),
        ("", "v1", "ResourceQuota", core::v1::ResourceQuota),
        ("", "v1", "LimitRange", core::v1::LimitRange),
        ("", "v1", "Binding", core::v1::Binding),
        ("apps", "v1", "StatefulSet", apps::v1::StatefulSet),
        ("apps", "v1", "ControllerRevision", apps::v1::ControllerRevision),
        ("storage.k8s.io", "v1", "StorageClass", storage::v1::StorageClass),
        ("events.k8s.io", "v1", "Event", events::v1::Event),
        ("coordination.k8s.io", "v1", "Lease", coordination::v1::Lease),
        ("discovery.k8s.io", "v1", "EndpointSlice", discovery::v1::EndpointSlice),
        ("node.k8s.io", "v1", "RuntimeClass", node::v1::RuntimeClass),
        ("rbac.authorization.k8s.io", "v1", "Role", rbac::v1::Role),
        ("rbac.authorization.k8s.io", "v1", "ClusterRole", rbac::v1::ClusterRole),
        ("rbac.authorization.k8s.io", "v1", "RoleBinding", rbac::v1::RoleBinding),
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", rbac::v1::ClusterRoleBinding),
        ("authorization.k8s.io", "v1", "SelfSubjectAccessReview", authorization::v1::SelfSubjectAccessReview),
        ("authorization.k8s.io", "v1", "SelfSubjectRulesReview", authorization::v1::SelfSubjectRulesReview),
        ("authentication.k8s.io", "v1", "SelfSubjectReview", authentication::v1::SelfSubjectReview),
        ("autoscaling", "v1", "Scale", k8s_openapi::api::autoscaling::v1::Scale),
    );
    let mut defs: Map<String, Value> = generator
        .definitions()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut out_roots = HashMap::new();
    for ((group, kind), (name, version)) in roots {
        if let Some(Value::Object(schema)) = defs.get_mut(&name) {
            schema.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([{"group": group, "kind": kind, "version": version}]),
            );
        }
        out_roots.insert((group, kind), name);
    }
    Schemas {
        defs,
        roots: out_roots,
    }
}

/// The schemas, built once.
pub fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(build)
}

impl Schemas {
    /// The definition name of a kind's root schema (`io.k8s.api.apps.v1.StatefulSet`).
    pub fn root(&self, group: &str, kind: &str) -> Option<&str> {
        self.roots
            .iter()
            .find(|((g, k), _)| *g == group && *k == kind)
            .map(|(_, n)| n.as_str())
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut s = schema;
        for _ in 0..16 {
            match s
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(REF_PREFIX))
            {
                Some(name) => match self.defs.get(name) {
                    Some(d) => s = d,
                    None => return s,
                },
                None => return s,
            }
        }
        s
    }
}

/// What [`check_fields`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldReport {
    /// Paths of unknown fields, e.g. `spec.template.spec.containers[0].foo` (removed from the object).
    pub unknown: Vec<String>,
    /// Type mismatches, worded like Go's `encoding/json`.
    pub type_errors: Vec<String>,
}

/// Removes fields the kind's schema does not know and reports them, with JSON type
/// mismatches. Kinds without a schema are left alone.
pub fn check_fields(group: &str, kind: &str, obj: &mut Value) -> FieldReport {
    let s = schemas();
    let mut report = FieldReport::default();
    if let Some(name) = s.root(group, kind)
        && let Some(root) = s.defs.get(name)
    {
        let short = name.rsplit('.').next().unwrap_or(name);
        walk(s, root, obj, "", short, &mut report);
    }
    report
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn go_type(schema: &Value) -> String {
    match (
        schema.get("type").and_then(Value::as_str),
        schema.get("format").and_then(Value::as_str),
    ) {
        (Some("integer"), Some(f)) => f.to_string(),
        (Some("integer"), None) => "int".into(),
        (Some("number"), _) => "float64".into(),
        (Some("boolean"), _) => "bool".into(),
        (Some("string"), _) => "string".into(),
        (Some("array"), _) => "array".into(),
        _ => "object".into(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn walk(
    s: &Schemas,
    schema: &Value,
    obj: &mut Value,
    path: &str,
    struct_name: &str,
    report: &mut FieldReport,
) {
    let schema = s.resolve(schema);
    if obj.is_null() || schema.get("x-kubernetes-int-or-string").is_some() {
        if schema.get("x-kubernetes-int-or-string").is_some()
            && !(obj.is_string() || obj.is_number() || obj.is_null())
        {
            report.type_errors.push(format!(
                "json: cannot unmarshal {} into Go struct field {struct_name}.{path} of type string",
                json_type(obj)
            ));
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let mismatch = match (ty, &*obj) {
        (Some("string"), Value::String(_)) => false,
        (Some("integer"), Value::Number(n)) => !(n.is_i64() || n.is_u64()),
        (Some("number"), Value::Number(_)) => false,
        (Some("boolean"), Value::Bool(_)) => false,
        (Some("array"), Value::Array(_)) => false,
        (Some("object") | None, Value::Object(_)) => false,
        (None, _) => false,
        _ => true,
    };
    if mismatch {
        report.type_errors.push(format!(
            "json: cannot unmarshal {} into Go struct field {struct_name}.{path} of type {}",
            json_type(obj),
            go_type(schema)
        ));
        return;
    }
    match obj {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                let mut unknown = Vec::new();
                for (k, v) in map.iter_mut() {
                    match props.get(k) {
                        Some(sub) => {
                            let name = type_name_of(s, sub).unwrap_or(struct_name);
                            walk(s, sub, v, &join(path, k), name, report);
                        }
                        None => {
                            report.unknown.push(join(path, k));
                            unknown.push(k.clone());
                        }
                    }
                }
                for k in unknown {
                    map.remove(&k);
                }
            } else if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for (k, v) in map.iter_mut() {
                    walk(s, additional, v, &join(path, k), struct_name, report);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(s, item_schema, v, &format!("{path}[{i}]"), struct_name, report);
                }
            }
        }
        _ => {}
    }
}

/// The Go struct name (last segment of the definition name) a field's schema refers to.
fn type_name_of<'a>(s: &'a Schemas, schema: &'a Value) -> Option<&'a str> {
    let _ = s;
    let r = schema.get("$ref").and_then(Value::as_str)?;
    r.rsplit('.').next()
}

/// The `components.schemas` an OpenAPI v3 document for one group-version needs: the root
/// schemas of its kinds and everything they reference.
pub fn components_for(group: &str, version: &str) -> Map<String, Value> {
    let s = schemas();
    let mut wanted: Vec<String> = s
        .roots
        .iter()
        .filter(|((g, k), _)| {
            *g == group && crate::registry::lookup_kind(g, k).is_some_and(|r| r.version == version)
        })
        .map(|(_, n)| n.clone())
        .collect();
    if group == "apps"
        && version == "v1"
        && let Some(scale) = s.root("autoscaling", "Scale")
    {
        wanted.push(scale.to_string());
    }
    let mut out = Map::new();
    while let Some(name) = wanted.pop() {
        if out.contains_key(&name) {
            continue;
        }
        if let Some(def) = s.defs.get(&name) {
            collect_refs(def, &mut wanted);
            out.insert(name, def.clone());
        }
    }
    out
}

fn collect_refs(v: &Value, into: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(REF_PREFIX))
            {
                into.push(r.to_string());
            }
            m.values().for_each(|x| collect_refs(x, into));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, into)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_found_with_their_paths_and_removed() {
        let mut sts = json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "labels": {"a": "b"}},
            "spec": {"foo": 1, "replicas": 1, "template": {"spec": {"containers": [{"name": "c", "bar": true}]}}}
        });
        let report = check_fields("apps", "StatefulSet", &mut sts);
        assert_eq!(
            report.unknown,
            vec!["spec.foo", "spec.template.spec.containers[0].bar"]
        );
        assert!(report.type_errors.is_empty());
        assert!(sts["spec"].get("foo").is_none());
        assert_eq!(sts["metadata"]["labels"]["a"], "b");
    }

    #[test]
    fn type_mismatches_are_reported_like_go() {
        let mut sts = json!({"spec": {"replicas": "three"}});
        let report = check_fields("apps", "StatefulSet", &mut sts);
        assert_eq!(
            report.type_errors,
            vec![
                "json: cannot unmarshal string into Go struct field StatefulSetSpec.spec.replicas of type int32"
            ]
        );
    }

    #[test]
    fn quantities_and_int_or_string_accept_both_forms() {
        let mut pvc = json!({"spec": {"resources": {"requests": {"storage": "1Gi", "cpu": 2}}}});
        assert_eq!(
            check_fields("", "PersistentVolumeClaim", &mut pvc),
            FieldReport::default()
        );
        let mut svc = json!({"spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}});
        assert_eq!(check_fields("", "Service", &mut svc), FieldReport::default());
    }

    #[test]
    fn free_form_data_is_accepted() {
        let mut cr = json!({"data": {"anything": [1, 2, {"x": null}]}, "revision": 1});
        assert_eq!(
            check_fields("apps", "ControllerRevision", &mut cr),
            FieldReport::default()
        );
    }

    #[test]
    fn components_include_referenced_definitions() {
        let c = components_for("apps", "v1");
        assert!(c.contains_key("io.k8s.api.apps.v1.StatefulSet"));
        assert!(c.contains_key("io.k8s.api.core.v1.PodSpec"));
        assert!(c.contains_key("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
        assert_eq!(
            c["io.k8s.api.apps.v1.StatefulSet"]["x-kubernetes-group-version-kind"][0]["kind"],
            "StatefulSet"
        );
    }
}
