//! Store keys for objects: `/<group>/<plural>/<namespace>/<name>` (`core` for the core group,
//! no namespace segment for cluster-scoped types). Key order is namespace then name, which is
//! the order Kubernetes lists in.

use berth_api::registry::ResourceType;

fn group_segment(rt: &ResourceType) -> &str {
    if rt.group.is_empty() { "core" } else { rt.group }
}

/// The key of one object (in its type's storage).
pub(crate) fn object_key(rt: &'static ResourceType, namespace: &str, name: &str) -> String {
    let rt = rt.storage();
    if rt.namespaced {
        format!("/{}/{}/{}/{}", group_segment(rt), rt.plural, namespace, name)
    } else {
        format!("/{}/{}/{}", group_segment(rt), rt.plural, name)
    }
}

/// The prefix of every object of a type, or of one namespace of it.
pub(crate) fn collection_prefix(rt: &'static ResourceType, namespace: Option<&str>) -> String {
    let rt = rt.storage();
    match namespace {
        Some(ns) if rt.namespaced => format!("/{}/{}/{}/", group_segment(rt), rt.plural, ns),
        _ => format!("/{}/{}/", group_segment(rt), rt.plural),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::registry::lookup;

    #[test]
    fn keys_nest_under_their_prefixes() {
        let sts = lookup("apps", "v1", "statefulsets").expect("served");
        let key = object_key(sts, "default", "web");
        assert_eq!(key, "/apps/statefulsets/default/web");
        assert!(key.starts_with(&collection_prefix(sts, Some("default"))));
        assert!(key.starts_with(&collection_prefix(sts, None)));
        let ns = lookup("", "v1", "namespaces").expect("served");
        assert_eq!(object_key(ns, "", "default"), "/core/namespaces/default");
    }
}
