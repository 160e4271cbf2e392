//! Strategic-merge-patch metadata of the served kinds: which fields merge their lists, by
//! which merge key, and which carry the `retainKeys` strategy.
//!
//! Kubernetes reads this metadata from the `patchStrategy` / `patchMergeKey` struct tags of
//! its Go types (published as `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`
//! in OpenAPI). The tables below were transcribed by hand from the struct tags of
//! Kubernetes 1.32 (`k8s.io/api` v0.32: `core/v1/types.go`, `apps/v1/types.go`,
//! `rbac/v1`, `coordination/v1`, `storage/v1`, `events/v1`, `autoscaling/v1`, and
//! `k8s.io/apimachinery` v0.32 `pkg/apis/meta/v1/types.go`).
//!
//! Only fields that carry a strategy, or that lead to a type containing one, are listed: a
//! field absent from a [`PatchSchema`] has no strategy (its maps merge key by key and its
//! lists are replaced wholesale), which is what Kubernetes does for every untagged field.
//! Element types of lists *without* a strategy are never looked into (such lists are
//! replaced), so e.g. `ContainerStatus.volumeMounts` (tagged, but only reachable through
//! the atomic `status.containerStatuses`) is deliberately absent.
//!
//! Notable untagged lists, replaced wholesale: `Container.resizePolicy`, `args`, `command`,
//! `PodSpec.tolerations`, `readinessGates`, `StatefulSetSpec.volumeClaimTemplates`,
//! `Endpoints.subsets`, every RBAC list, `NodeSpec.taints`, `ObjectMeta.managedFields`.

/// How a strategic merge patch combines a field's patch value with its live value (the
/// non-`retainKeys` part of the field's `patchStrategy` tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// No strategy: maps merge key by key, lists are replaced by the patch's list.
    Default,
    /// `merge`: lists of objects merge element by element on the merge key, lists of
    /// scalars merge as a set union.
    Merge,
    /// `replace`: the patch value replaces the live value, maps included.
    Replace,
}

/// Patch metadata of one field of a [`PatchSchema`].
#[derive(Debug)]
pub struct PatchField {
    /// JSON name of the field.
    pub name: &'static str,
    /// The field's strategy.
    pub strategy: Strategy,
    /// Whether the tag also lists `retainKeys` (only informative when applying: the
    /// `$retainKeys` directive is honoured wherever it appears, as Kubernetes does).
    pub retain_keys: bool,
    /// `patchMergeKey`: the key identifying elements of a merged list of objects.
    pub merge_key: Option<&'static str>,
    /// The type of the field's value (for a list, of its elements), if it has metadata.
    pub schema: Option<&'static PatchSchema>,
}

/// Patch metadata of one API type (a Go struct): the fields that matter to strategic merge.
#[derive(Debug)]
pub struct PatchSchema {
    /// Go type name, for messages.
    pub name: &'static str,
    /// The fields with a strategy or leading to one; all other fields have none.
    pub fields: &'static [PatchField],
}

impl PatchSchema {
    /// The metadata of the field named `name` (exact JSON name), if it has any.
    pub fn field(&'static self, name: &str) -> Option<&'static PatchField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl PatchField {
    /// A field without a strategy whose value is an object of type `schema`.
    pub const fn nested(name: &'static str, schema: &'static PatchSchema) -> Self {
        PatchField {
            name,
            strategy: Strategy::Default,
            retain_keys: false,
            merge_key: None,
            schema: Some(schema),
        }
    }

    /// A `patchStrategy:"merge"` list of objects merged on `merge_key`.
    pub const fn merge_list(
        name: &'static str,
        merge_key: &'static str,
        elements: Option<&'static PatchSchema>,
    ) -> Self {
        PatchField {
            name,
            strategy: Strategy::Merge,
            retain_keys: false,
            merge_key: Some(merge_key),
            schema: elements,
        }
    }

    /// A `patchStrategy:"merge,retainKeys"` list of objects merged on `merge_key`.
    pub const fn merge_retain_keys_list(
        name: &'static str,
        merge_key: &'static str,
        elements: Option<&'static PatchSchema>,
    ) -> Self {
        PatchField {
            name,
            strategy: Strategy::Merge,
            retain_keys: true,
            merge_key: Some(merge_key),
            schema: elements,
        }
    }

    /// A `patchStrategy:"merge"` list of scalars (merged as a set).
    pub const fn merge_scalars(name: &'static str) -> Self {
        PatchField {
            name,
            strategy: Strategy::Merge,
            retain_keys: false,
            merge_key: None,
            schema: None,
        }
    }
}

use PatchField as F;

/// `metav1.ObjectMeta`.
pub static OBJECT_META: PatchSchema = PatchSchema {
    name: "ObjectMeta",
    fields: &[
        F::merge_list("ownerReferences", "uid", None),
        F::merge_scalars("finalizers"),
    ],
};

/// Fields of `core/v1.Container`, shared with `EphemeralContainerCommon` (inlined into
/// `EphemeralContainer`), which carries the same tags.
const CONTAINER_FIELDS: &[PatchField] = &[
    F::merge_list("ports", "containerPort", None),
    F::merge_list("env", "name", None),
    F::merge_list("volumeMounts", "mountPath", None),
    F::merge_list("volumeDevices", "devicePath", None),
];

/// `core/v1.Container`.
pub static CONTAINER: PatchSchema = PatchSchema {
    name: "Container",
    fields: CONTAINER_FIELDS,
};

/// `core/v1.EphemeralContainer`.
pub static EPHEMERAL_CONTAINER: PatchSchema = PatchSchema {
    name: "EphemeralContainer",
    fields: CONTAINER_FIELDS,
};

/// `core/v1.PodSpec`.
pub static POD_SPEC: PatchSchema = PatchSchema {
    name: "PodSpec",
    fields: &[
        F::merge_retain_keys_list("volumes", "name", None),
        F::merge_list("initContainers", "name", Some(&CONTAINER)),
        F::merge_list("containers", "name", Some(&CONTAINER)),
        F::merge_list("ephemeralContainers", "name", Some(&EPHEMERAL_CONTAINER)),
        F::merge_list("imagePullSecrets", "name", None),
        F::merge_list("hostAliases", "ip", None),
        F::merge_list("topologySpreadConstraints", "topologyKey", None),
        F::merge_list("schedulingGates", "name", None),
        F::merge_retain_keys_list("resourceClaims", "name", None),
    ],
};

/// `core/v1.PodStatus`.
pub static POD_STATUS: PatchSchema = PatchSchema {
    name: "PodStatus",
    fields: &[
        F::merge_list("conditions", "type", None),
        F::merge_list("hostIPs", "ip", None),
        F::merge_list("podIPs", "ip", None),
        F::merge_retain_keys_list("resourceClaimStatuses", "name", None),
    ],
};

/// `core/v1.Pod`.
pub static POD: PatchSchema = PatchSchema {
    name: "Pod",
    fields: &[
        F::nested("metadata", &OBJECT_META),
        F::nested("spec", &POD_SPEC),
        F::nested("status", &POD_STATUS),
    ],
};

/// `core/v1.PodTemplateSpec`.
pub static POD_TEMPLATE_SPEC: PatchSchema = PatchSchema {
    name: "PodTemplateSpec",
    fields: &[F::nested("metadata", &OBJECT_META), F::nested("spec", &POD_SPEC)],
};

/// A status whose only tagged field is `conditions`, merged on `type` (NamespaceStatus,
/// PersistentVolumeClaimStatus, ServiceStatus, StatefulSetStatus).
static CONDITIONS_STATUS: PatchSchema = PatchSchema {
    name: "Status",
    fields: &[F::merge_list("conditions", "type", None)],
};

/// `apps/v1.StatefulSetSpec`.
pub static STATEFUL_SET_SPEC: PatchSchema = PatchSchema {
    name: "StatefulSetSpec",
    fields: &[F::nested("template", &POD_TEMPLATE_SPEC)],
};

/// `apps/v1.StatefulSet`.
pub static STATEFUL_SET: PatchSchema = PatchSchema {
    name: "StatefulSet",
    fields: &[
        F::nested("metadata", &OBJECT_META),
        F::nested("spec", &STATEFUL_SET_SPEC),
        F::nested("status", &CONDITIONS_STATUS),
    ],
};

/// `core/v1.ServiceSpec`.
static SERVICE_SPEC: PatchSchema = PatchSchema {
    name: "ServiceSpec",
    fields: &[F::merge_list("ports", "port", None)],
};

/// `core/v1.Service`.
pub static SERVICE: PatchSchema = PatchSchema {
    name: "Service",
    fields: &[
        F::nested("metadata", &OBJECT_META),
        F::nested("spec", &SERVICE_SPEC),
        F::nested("status", &CONDITIONS_STATUS),
    ],
};

/// `core/v1.ServiceAccount`.
pub static SERVICE_ACCOUNT: PatchSchema = PatchSchema {
    name: "ServiceAccount",
    fields: &[
        F::nested("metadata", &OBJECT_META),
        F::merge_list("secrets", "name", None),
    ],
};

/// `core/v1.NodeSpec`.
static NODE_SPEC: PatchSchema = PatchSchema {
    name: "NodeSpec",
    fields: &[F::merge_scalars("podCIDRs")],
};

/// `core/v1.NodeStatus`.
static NODE_STATUS: PatchSchema = PatchSchema {
    name: "NodeStatus",
    fields: &[
        F::merge_list("conditions", "type", None),
        F::merge_list("addresses", "type", None),
    ],
};

/// `core/v1.Node`.
pub static NODE: PatchSchema = PatchSchema {
    name: "Node",
    fields: &[
        F::nested("metadata", &OBJECT_META),
        F::nested("spec", &NODE_SPEC),
        F::nested("status", &NODE_STATUS),
    ],
};

/// `core/v1.Namespace`.
pub static NAMESPACE: PatchSchema = PatchSchema {
    name: "Namespace",
    fields: &[
        F::nested("metadata", &OBJECT_META),
        F::nested("status", &CONDITIONS_STATUS),
    ],
};

/// `core/v1.PersistentVolumeClaim`.
pub static PERSISTENT_VOLUME_CLAIM: PatchSchema = PatchSchema {
    name: "PersistentVolumeClaim",
    fields: &[
        F::nested("metadata", &OBJECT_META),
        F::nested("status", &CONDITIONS_STATUS),
    ],
};

/// Any served kind whose only tagged fields are those of its `metadata`: Endpoints,
/// ConfigMap, Secret, Event (both groups), PersistentVolume, ResourceQuota, LimitRange,
/// ControllerRevision, StorageClass, Lease, the four RBAC kinds and autoscaling/v1 Scale.
pub static METADATA_ONLY: PatchSchema = PatchSchema {
    name: "Object",
    fields: &[F::nested("metadata", &OBJECT_META)],
};

/// The patch schema of a served kind (`group` is `""` for the core group), or `None` for a
/// kind that does not support strategic merge patch (Kubernetes rejects it for custom
/// resources with `415 Unsupported Media Type`).
pub fn schema_for(group: &str, kind: &str) -> Option<&'static PatchSchema> {
    let schema = match (group, kind) {
        ("", "Pod") => &POD,
        ("", "Service") => &SERVICE,
        ("", "ServiceAccount") => &SERVICE_ACCOUNT,
        ("", "Node") => &NODE,
        ("", "Namespace") => &NAMESPACE,
        ("", "PersistentVolumeClaim") => &PERSISTENT_VOLUME_CLAIM,
        ("apps", "StatefulSet") => &STATEFUL_SET,
        (
            "",
            "Endpoints" | "ConfigMap" | "Secret" | "Event" | "PersistentVolume" | "ResourceQuota"
            | "LimitRange",
        )
        | ("apps", "ControllerRevision")
        | ("storage.k8s.io", "StorageClass")
        | ("events.k8s.io", "Event")
        | ("coordination.k8s.io", "Lease")
        | ("discovery.k8s.io", "EndpointSlice")
        | ("node.k8s.io", "RuntimeClass")
        | ("rbac.authorization.k8s.io", "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding")
        | ("autoscaling", "Scale") => &METADATA_ONLY,
        _ => return None,
    };
    Some(schema)
}
