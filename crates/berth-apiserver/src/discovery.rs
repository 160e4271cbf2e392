//! Discovery documents: the legacy `/api`, `/apis`, `/apis/<group>`, per-group-version
//! resource lists, and aggregated discovery (`apidiscovery.k8s.io/v2` and `v2beta1`) for
//! `/api` and `/apis`, all generated from `berth_api::registry`.

use berth_api::registry::{self, RESOURCES, ResourceType};
use serde_json::{Value, json};

/// (group, version, kind) of a subresource's response, and its verbs.
fn subresource_shape(rt: &ResourceType, sub: &str) -> (String, String, String, &'static [&'static str]) {
    let same = (rt.group.to_string(), rt.version.to_string(), rt.kind.to_string());
    match sub {
        "status" => (same.0, same.1, same.2, &["get", "patch", "update"]),
        "scale" => (
            "autoscaling".into(),
            "v1".into(),
            "Scale".into(),
            &["get", "patch", "update"],
        ),
        "log" => (same.0, same.1, "Pod".into(), &["get"]),
        "exec" | "attach" => (same.0, same.1, "PodExecOptions".into(), &["create", "get"]),
        "portforward" => (same.0, same.1, "PodPortForwardOptions".into(), &["create", "get"]),
        "binding" => (same.0, same.1, "Binding".into(), &["create"]),
        "eviction" => ("policy".into(), "v1".into(), "Eviction".into(), &["create"]),
        "finalize" => (same.0, same.1, same.2, &["update"]),
        _ => (same.0, same.1, same.2, &["get"]),
    }
}

fn resources_of<'a>(group: &'a str, version: &'a str) -> impl Iterator<Item = &'static ResourceType> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// `/api`: the legacy versions document.
pub(crate) fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_entry(group: &str) -> Value {
    let versions: Vec<Value> = registry::group_versions()
        .into_iter()
        .filter(|(g, _)| *g == group)
        .map(|(g, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

fn groups() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (g, _) in registry::group_versions() {
        if !g.is_empty() && !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// `/apis`: the legacy group list.
pub(crate) fn group_list() -> Value {
    let groups: Vec<Value> = groups().into_iter().map(group_entry).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`.
pub(crate) fn group(group: &str) -> Value {
    let mut g = group_entry(group);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    g
}

/// `/api/v1` or `/apis/<group>/<version>`: the resource list.
pub(crate) fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for rt in resources_of(group, version) {
        let mut r = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": rt.verbs(),
        });
        if !rt.short_names.is_empty() {
            r["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            r["categories"] = json!(rt.categories);
        }
        resources.push(r);
        for sub in rt.subresources {
            let (g, v, kind, verbs) = subresource_shape(rt, sub);
            let mut s = json!({
                "name": format!("{}/{sub}", rt.plural),
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if g != rt.group || v != rt.version {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn aggregated_version(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = resources_of(group, version)
        .map(|rt| {
            let mut r = json!({
                "resource": rt.plural,
                "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
                "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": rt.singular,
                "verbs": rt.verbs(),
            });
            if !rt.short_names.is_empty() {
                r["shortNames"] = json!(rt.short_names);
            }
            if !rt.categories.is_empty() {
                r["categories"] = json!(rt.categories);
            }
            if !rt.subresources.is_empty() {
                let subs: Vec<Value> = rt
                    .subresources
                    .iter()
                    .map(|sub| {
                        let (g, v, kind, verbs) = subresource_shape(rt, sub);
                        json!({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": kind}, "verbs": verbs})
                    })
                    .collect();
                r["subresources"] = json!(subs);
            }
            r
        })
        .collect();
    json!({"version": version, "resources": resources, "freshness": "Current"})
}

/// Aggregated discovery for `/api` (`core = true`) or `/apis`.
pub(crate) fn aggregated(core: bool, api_version: &str) -> Value {
    let items: Vec<Value> = if core {
        vec![
            json!({"metadata": {"name": "", "creationTimestamp": null}, "versions": [aggregated_version("", "v1")]}),
        ]
    } else {
        groups()
            .into_iter()
            .map(|g| {
                let versions: Vec<Value> = registry::group_versions()
                    .into_iter()
                    .filter(|(gg, _)| *gg == g)
                    .map(|(_, v)| aggregated_version(g, v))
                    .collect();
                json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions})
            })
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{api_version}"),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_list_has_scale_in_autoscaling() {
        let l = resource_list("apps", "v1");
        let scale = l["resources"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["name"] == "statefulsets/scale"))
            .cloned()
            .expect("scale subresource");
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");
    }

    #[test]
    fn aggregated_core_group_has_empty_name() {
        let a = aggregated(true, "v2");
        assert_eq!(a["items"][0]["metadata"]["name"], "");
        assert_eq!(a["apiVersion"], "apidiscovery.k8s.io/v2");
        let pods = a["items"][0]["versions"][0]["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["resource"] == "pods"))
            .cloned()
            .expect("pods");
        assert_eq!(pods["scope"], "Namespaced");
        assert_eq!(pods["shortNames"][0], "po");
    }
}
