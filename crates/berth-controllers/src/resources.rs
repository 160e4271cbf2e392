//! kube-rs `ApiResource`s for the served types, from `berth_api::registry`.

use berth_api::registry::{RESOURCES, ResourceType};
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;

/// The `ApiResource` of a registry type.
pub(crate) fn api_resource(rt: &ResourceType) -> ApiResource {
    ApiResource {
        group: rt.group.to_string(),
        version: rt.version.to_string(),
        api_version: rt.api_version(),
        kind: rt.kind.to_string(),
        plural: rt.plural.to_string(),
    }
}

/// Types that hold stored objects (not the create-only reviews).
pub(crate) fn stored_types() -> impl Iterator<Item = &'static ResourceType> {
    RESOURCES.iter().filter(|r| !r.create_only)
}

/// An API handle for one object's collection: namespaced when `namespace` is not empty.
pub(crate) fn api_for(client: &Client, rt: &ResourceType, namespace: &str) -> Api<DynamicObject> {
    let ar = api_resource(rt);
    if rt.namespaced && !namespace.is_empty() {
        Api::namespaced_with(client.clone(), namespace, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    }
}

/// Whether an API error is "not found" or "conflict": the world moved on, re-plan later.
pub(crate) fn is_gone_or_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404 || s.code == 409)
}
