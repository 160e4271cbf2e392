//! OpenAPI v3: the index (`/openapi/v3`) and one document per served group-version with the
//! operations kubectl looks for (PATCH with `x-kubernetes-group-version-kind` and the
//! `fieldValidation` parameter, so `kubectl apply` validates server-side) and the schemas
//! `kubectl explain` reads.
//!
//! The PATCH request bodies deliberately do not list strategic merge patch: kubectl then
//! computes apply patches from its compiled-in types (which carry Kubernetes' merge keys)
//! instead of from these schemas, which do not.

use berth_api::registry::{self, RESOURCES, ResourceType};
use berth_api::schema;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};
use std::sync::OnceLock;

/// One group-version document with its content hash.
pub(crate) struct Document {
    /// `api/v1` or `apis/<group>/<version>`.
    pub path: String,
    pub body: Vec<u8>,
    pub hash: String,
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn param(name: &str, ty: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": ty, "uniqueItems": true}})
}

fn operation(
    rt: &ResourceType,
    action: &str,
    id_verb: &str,
    params: Vec<Value>,
    body_types: &[&str],
) -> Value {
    let group_camel: String = rt
        .group
        .split('.')
        .next()
        .map(|g| {
            let mut c = g.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let version_camel = {
        let mut c = rt.version.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    let scope = if rt.namespaced { "Namespaced" } else { "" };
    let mut op = json!({
        "operationId": format!("{id_verb}{}{group_camel}{version_camel}{scope}{}", "", rt.kind),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "parameters": params,
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
    });
    if !body_types.is_empty() {
        let mut content = Map::new();
        for t in body_types {
            content.insert((*t).to_string(), json!({"schema": {"type": "object"}}));
        }
        op["requestBody"] = json!({"required": true, "content": content});
    }
    op
}

fn document(group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let write_params = || {
        vec![
            param("dryRun", "string"),
            param("fieldManager", "string"),
            param("fieldValidation", "string"),
        ]
    };
    for rt in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let base = if rt.namespaced {
            format!(
                "/{}/namespaces/{{namespace}}/{}",
                gv_path(group, version),
                rt.plural
            )
        } else {
            format!("/{}/{}", gv_path(group, version), rt.plural)
        };
        let mut collection = Map::new();
        collection.insert(
            "post".into(),
            operation(
                rt,
                "post",
                "create",
                write_params(),
                &["application/json", "application/yaml"],
            ),
        );
        if !rt.create_only {
            collection.insert(
                "get".into(),
                operation(
                    rt,
                    "list",
                    "list",
                    vec![param("labelSelector", "string"), param("fieldSelector", "string")],
                    &[],
                ),
            );
            let mut item = Map::new();
            item.insert("get".into(), operation(rt, "get", "read", vec![], &[]));
            item.insert(
                "put".into(),
                operation(
                    rt,
                    "put",
                    "replace",
                    write_params(),
                    &["application/json", "application/yaml"],
                ),
            );
            let mut patch_params = write_params();
            patch_params.push(param("force", "boolean"));
            item.insert(
                "patch".into(),
                operation(
                    rt,
                    "patch",
                    "patch",
                    patch_params,
                    &[
                        "application/apply-patch+yaml",
                        "application/json-patch+json",
                        "application/merge-patch+json",
                    ],
                ),
            );
            item.insert(
                "delete".into(),
                operation(rt, "delete", "delete", vec![param("dryRun", "string")], &[]),
            );
            paths.insert(format!("{base}/{{name}}"), Value::Object(item));
        }
        paths.insert(base, Value::Object(collection));
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.4+berth"},
        "paths": paths,
        "components": {"schemas": schema::components_for(group, version)},
    })
}

/// Every group-version's document, built once.
pub(crate) fn documents() -> &'static [Document] {
    static DOCS: OnceLock<Vec<Document>> = OnceLock::new();
    DOCS.get_or_init(|| {
        registry::group_versions()
            .into_iter()
            .map(|(g, v)| {
                let body = serde_json::to_vec(&document(g, v)).unwrap_or_default();
                let hash = Sha512::digest(&body).iter().map(|b| format!("{b:02X}")).collect();
                Document {
                    path: gv_path(g, v),
                    body,
                    hash,
                }
            })
            .collect()
    })
}

/// The `/openapi/v3` index.
pub(crate) fn index() -> Value {
    let mut paths = Map::new();
    for d in documents() {
        paths.insert(
            d.path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{}?hash={}", d.path, d.hash)}),
        );
    }
    json!({"paths": paths})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_patch_operation_has_gvk_and_field_validation() {
        let doc = document("apps", "v1");
        let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "StatefulSet");
        let names: Vec<&str> = patch["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(names.contains(&"fieldValidation"));
        assert!(
            patch["requestBody"]["content"]
                .get("application/strategic-merge-patch+json")
                .is_none()
        );
    }

    #[test]
    fn index_lists_every_group_version() {
        let idx = index();
        assert!(
            idx["paths"]["api/v1"]["serverRelativeURL"]
                .as_str()
                .is_some_and(|u| u.starts_with("/openapi/v3/api/v1?hash="))
        );
        assert!(idx["paths"].get("apis/storage.k8s.io/v1").is_some());
    }
}
