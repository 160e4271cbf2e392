//! Parsing of API paths (`/api/v1/namespaces/default/pods/web-0/status`) into the resource,
//! namespace, name and subresource they address.

use berth_api::registry::{self, ResourceType};
use berth_api::status::ApiError;

/// What an `/api` or `/apis` path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiPath {
    /// `/api`: the core API versions.
    CoreVersions,
    /// `/apis`: the group list.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`: the resource list.
    Resources { group: String, version: String },
    /// A collection, an object, or an object's subresource.
    Object(Target),
}

/// A resource request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub rt: &'static ResourceType,
    /// Namespace from the URL (`None` for cluster-scoped or all-namespaces requests).
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found_path()
}

/// Parses a request path.
pub(crate) fn parse(path: &str) -> Result<ApiPath, ApiError> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api"] => return Ok(ApiPath::CoreVersions),
        ["apis"] => return Ok(ApiPath::Groups),
        ["apis", g] => {
            return if registry::group_versions().iter().any(|(gg, _)| gg == g) {
                Ok(ApiPath::Group((*g).to_string()))
            } else {
                Err(not_found())
            };
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found()),
    };
    if !registry::group_versions().contains(&(group, version)) {
        return Err(not_found());
    }
    let lookup = |plural: &str| registry::lookup(group, version, plural).ok_or_else(not_found);
    let target = |rt: &'static ResourceType, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        if sub.is_some_and(|s| !rt.subresources.contains(&s)) {
            return Err(not_found());
        }
        if ns.is_some() && !rt.namespaced {
            return Err(not_found());
        }
        Ok(ApiPath::Object(Target {
            rt,
            namespace: ns.map(str::to_string),
            name: name.map(str::to_string),
            subresource: sub.map(str::to_string),
        }))
    };
    let namespaces = group.is_empty() && version == "v1";
    match rest {
        [] => Ok(ApiPath::Resources {
            group: group.to_string(),
            version: version.to_string(),
        }),
        [plural] => target(lookup(plural)?, None, None, None),
        ["namespaces", name, x] if namespaces && matches!(*x, "status" | "finalize") => {
            target(lookup("namespaces")?, None, Some(name), Some(x))
        }
        ["namespaces", ns, plural] => target(lookup(plural)?, Some(ns), None, None),
        ["namespaces", ns, plural, name] => target(lookup(plural)?, Some(ns), Some(name), None),
        ["namespaces", ns, plural, name, sub] => target(lookup(plural)?, Some(ns), Some(name), Some(sub)),
        [plural, name] => {
            let rt = lookup(plural)?;
            if rt.namespaced {
                Err(not_found())
            } else {
                target(rt, None, Some(name), None)
            }
        }
        [plural, name, sub] => {
            let rt = lookup(plural)?;
            if rt.namespaced {
                Err(not_found())
            } else {
                target(rt, None, Some(name), Some(sub))
            }
        }
        _ => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(p: &str) -> Target {
        match parse(p) {
            Ok(ApiPath::Object(t)) => t,
            other => panic!("{p}: {other:?}"),
        }
    }

    #[test]
    fn namespaced_paths() {
        let t = obj("/apis/apps/v1/namespaces/default/statefulsets/web/scale");
        assert_eq!(t.rt.plural, "statefulsets");
        assert_eq!(t.namespace.as_deref(), Some("default"));
        assert_eq!(t.name.as_deref(), Some("web"));
        assert_eq!(t.subresource.as_deref(), Some("scale"));
        let t = obj("/api/v1/pods");
        assert_eq!((t.rt.plural, t.namespace), ("pods", None));
    }

    #[test]
    fn namespace_objects_and_their_subresources() {
        let t = obj("/api/v1/namespaces/foo");
        assert_eq!(
            (t.rt.plural, t.name.as_deref(), t.namespace),
            ("namespaces", Some("foo"), None)
        );
        let t = obj("/api/v1/namespaces/foo/status");
        assert_eq!(
            (t.name.as_deref(), t.subresource.as_deref()),
            (Some("foo"), Some("status"))
        );
        let t = obj("/api/v1/namespaces/foo/pods");
        assert_eq!((t.rt.plural, t.namespace.as_deref()), ("pods", Some("foo")));
    }

    #[test]
    fn discovery_and_unknown_paths() {
        assert_eq!(parse("/api").ok(), Some(ApiPath::CoreVersions));
        assert_eq!(parse("/apis").ok(), Some(ApiPath::Groups));
        assert_eq!(
            parse("/apis/apps/v1").ok(),
            Some(ApiPath::Resources {
                group: "apps".into(),
                version: "v1".into()
            })
        );
        assert!(parse("/apis/apps/v2/statefulsets").is_err());
        assert!(parse("/api/v1/nothings").is_err());
        assert!(parse("/api/v1/namespaces/default/nodes").is_err());
        assert!(parse("/api/v1/namespaces/default/pods/x/nope").is_err());
    }
}
