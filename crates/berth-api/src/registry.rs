//! The registry of served resources: group, version, kind, plural, scope, verbs, short names,
//! categories and subresources, as Kubernetes' discovery reports them.
//!
//! Discovery, routing, OpenAPI and the object lifecycle all read this one table.

/// What the API does with one served resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, empty for core.
    pub group: &'static str,
    /// API version, e.g. `v1`.
    pub version: &'static str,
    /// Kind, e.g. `StatefulSet`.
    pub kind: &'static str,
    /// Plural resource name used in URLs.
    pub plural: &'static str,
    /// Singular name for discovery.
    pub singular: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names (`sts`).
    pub short_names: &'static [&'static str],
    /// Discovery categories (`all`).
    pub categories: &'static [&'static str],
    /// Subresources served (`status`, `scale`).
    pub subresources: &'static [&'static str],
    /// Whether `metadata.generation` is maintained (bumped on spec changes).
    pub generation: bool,
    /// Whether DELETE answers with the deleted object instead of a `Status`.
    pub delete_returns_object: bool,
    /// Whether the object may only be created, never stored (reviews).
    pub create_only: bool,
    /// Another served type whose storage this one shares (group, plural), converting on
    /// the way in and out (`events.k8s.io/v1 Event` is stored as `core/v1 Event`).
    pub stored_as: Option<(&'static str, &'static str)>,
}

impl ResourceType {
    /// `apps/v1`, or `v1` for core.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The `GroupResource` used in error messages.
    pub fn group_resource(&self) -> crate::status::GroupResource {
        crate::status::GroupResource::new(self.group, self.plural)
    }

    /// The type whose storage holds this type's objects (itself for most types).
    pub fn storage(&'static self) -> &'static ResourceType {
        match self.stored_as {
            Some((group, plural)) => RESOURCES
                .iter()
                .find(|r| r.group == group && r.plural == plural)
                .unwrap_or(self),
            None => self,
        }
    }

    /// Whether the resource has a status subresource.
    pub fn has_status(&self) -> bool {
        self.subresources.contains(&"status")
    }

    /// The verbs discovery advertises.
    pub fn verbs(&self) -> &'static [&'static str] {
        if self.create_only {
            &["create"]
        } else {
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        }
    }

    /// The list kind, e.g. `StatefulSetList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

const fn rt(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceType {
    ResourceType {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short_names: &[],
        categories: &[],
        subresources: &[],
        generation: false,
        delete_returns_object: false,
        create_only: false,
        stored_as: None,
    }
}

/// Every served resource type, in discovery order.
pub static RESOURCES: &[ResourceType] = &[
    ResourceType {
        short_names: &["ns"],
        subresources: &["finalize", "status"],
        delete_returns_object: true,
        ..rt("", "v1", "Namespace", "namespaces", "namespace", false)
    },
    ResourceType {
        short_names: &["po"],
        categories: &["all"],
        subresources: &[
            "attach",
            "binding",
            "eviction",
            "exec",
            "log",
            "portforward",
            "status",
        ],
        delete_returns_object: true,
        ..rt("", "v1", "Pod", "pods", "pod", true)
    },
    ResourceType {
        short_names: &["svc"],
        categories: &["all"],
        subresources: &["status"],
        delete_returns_object: true,
        ..rt("", "v1", "Service", "services", "service", true)
    },
    ResourceType {
        short_names: &["ep"],
        ..rt("", "v1", "Endpoints", "endpoints", "endpoints", true)
    },
    ResourceType {
        short_names: &["cm"],
        ..rt("", "v1", "ConfigMap", "configmaps", "configmap", true)
    },
    rt("", "v1", "Secret", "secrets", "secret", true),
    ResourceType {
        short_names: &["ev"],
        ..rt("", "v1", "Event", "events", "event", true)
    },
    ResourceType {
        short_names: &["sa"],
        delete_returns_object: true,
        ..rt(
            "",
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            "serviceaccount",
            true,
        )
    },
    ResourceType {
        short_names: &["no"],
        subresources: &["status"],
        ..rt("", "v1", "Node", "nodes", "node", false)
    },
    ResourceType {
        short_names: &["pv"],
        subresources: &["status"],
        delete_returns_object: true,
        ..rt(
            "",
            "v1",
            "PersistentVolume",
            "persistentvolumes",
            "persistentvolume",
            false,
        )
    },
    ResourceType {
        short_names: &["pvc"],
        subresources: &["status"],
        delete_returns_object: true,
        ..rt(
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            "persistentvolumeclaim",
            true,
        )
    },
    ResourceType {
        short_names: &["quota"],
        subresources: &["status"],
        ..rt("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", true)
    },
    ResourceType {
        short_names: &["limits"],
        ..rt("", "v1", "LimitRange", "limitranges", "limitrange", true)
    },
    ResourceType {
        short_names: &["sts"],
        categories: &["all"],
        subresources: &["scale", "status"],
        generation: true,
        ..rt("apps", "v1", "StatefulSet", "statefulsets", "statefulset", true)
    },
    rt(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
        true,
    ),
    ResourceType {
        short_names: &["sc"],
        ..rt(
            "storage.k8s.io",
            "v1",
            "StorageClass",
            "storageclasses",
            "storageclass",
            false,
        )
    },
    ResourceType {
        short_names: &["ev"],
        stored_as: Some(("", "events")),
        ..rt("events.k8s.io", "v1", "Event", "events", "event", true)
    },
    rt("coordination.k8s.io", "v1", "Lease", "leases", "lease", true),
    rt(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        true,
    ),
    rt(
        "node.k8s.io",
        "v1",
        "RuntimeClass",
        "runtimeclasses",
        "runtimeclass",
        false,
    ),
    rt("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", true),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        false,
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        true,
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
    ),
    ResourceType {
        create_only: true,
        ..rt(
            "authorization.k8s.io",
            "v1",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            "selfsubjectaccessreview",
            false,
        )
    },
    ResourceType {
        create_only: true,
        ..rt(
            "authorization.k8s.io",
            "v1",
            "SelfSubjectRulesReview",
            "selfsubjectrulesreviews",
            "selfsubjectrulesreview",
            false,
        )
    },
    ResourceType {
        create_only: true,
        ..rt(
            "authentication.k8s.io",
            "v1",
            "SelfSubjectReview",
            "selfsubjectreviews",
            "selfsubjectreview",
            false,
        )
    },
];

/// The group-versions served, in discovery order: core `v1` first, then each group.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// Finds a resource by group, version and plural.
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Finds a resource by group and kind (any version).
pub fn lookup_kind(group: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|r| r.group == group && r.kind == kind)
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statefulsets_have_scale_and_status() {
        let r = lookup("apps", "v1", "statefulsets").expect("served");
        assert!(r.has_status());
        assert!(r.subresources.contains(&"scale"));
        assert_eq!(r.api_version(), "apps/v1");
    }

    #[test]
    fn events_v1_shares_core_storage() {
        let ev = lookup("events.k8s.io", "v1", "events").expect("served");
        assert_eq!(ev.storage().group, "");
        assert_eq!(ev.storage().kind, "Event");
        let cm = lookup("", "v1", "configmaps").expect("served");
        assert_eq!(cm.storage(), cm);
    }

    #[test]
    fn core_group_comes_first() {
        assert_eq!(group_versions()[0], ("", "v1"));
    }

    #[test]
    fn plurals_are_unique_per_group() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    !(a.group == b.group && a.plural == b.plural),
                    "{} duplicated",
                    a.plural
                );
            }
        }
    }
}
