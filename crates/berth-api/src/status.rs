//! `metav1.Status` errors with Kubernetes' codes, reasons and wording.
//!
//! Every failure the API answers is an [`ApiError`]; its constructors reproduce the messages
//! of `k8s.io/apimachinery/pkg/api/errors` so that kubectl prints what it prints against
//! Kubernetes (`statefulsets.apps "web" not found`, `Operation cannot be fulfilled on …`).

use crate::field::{FieldError, aggregate_message};
use serde_json::{Map, Value, json};

/// Names a resource for messages: its plural and its group (empty for core).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResource {
    /// API group, empty for the core group.
    pub group: String,
    /// Plural resource name, e.g. `statefulsets`.
    pub resource: String,
}

impl GroupResource {
    /// A group and plural.
    pub fn new(group: &str, resource: &str) -> Self {
        Self {
            group: group.to_string(),
            resource: resource.to_string(),
        }
    }

    /// `statefulsets.apps`, or `pods` for the core group.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

/// A `metav1.Status` failure: HTTP code, machine reason, human message and details.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `StatusReason`, e.g. `NotFound`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// `StatusDetails`, if any (boxed: errors travel in `Result`s and should stay small).
    pub details: Option<Box<Value>>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

fn details(name: &str, gr: &GroupResource) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !gr.group.is_empty() {
        d.insert("group".into(), json!(gr.group));
    }
    d.insert("kind".into(), json!(gr.resource));
    Value::Object(d)
}

impl ApiError {
    fn new(code: u16, reason: &str, message: impl Into<String>, details: Option<Value>) -> Self {
        Self {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: details.map(Box::new),
        }
    }

    /// 404 `statefulsets.apps "web" not found`.
    pub fn not_found(gr: &GroupResource, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} {name:?} not found", gr.qualified()),
            Some(details(name, gr)),
        )
    }

    /// 404 with a free message (unknown paths): `the server could not find the requested resource`.
    pub fn not_found_path() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({"causes":[{"reason":"UnexpectedServerResponse","message":"404 page not found"}]})),
        )
    }

    /// 409 `services "x" already exists`.
    pub fn already_exists(gr: &GroupResource, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} {name:?} already exists", gr.qualified()),
            Some(details(name, gr)),
        )
    }

    /// 409 `Operation cannot be fulfilled on configmaps "x": <why>`.
    pub fn conflict(gr: &GroupResource, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {name:?}: {why}",
                gr.qualified()
            ),
            Some(details(name, gr)),
        )
    }

    /// The optimistic-concurrency conflict every stale update gets.
    pub fn stale(gr: &GroupResource, name: &str) -> Self {
        Self::conflict(
            gr,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 `StatefulSet.apps "web" is invalid: <field errors>`.
    pub fn invalid(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> Self {
        let qualified_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({"reason": e.kind.cause_reason(), "message": e.body(), "field": e.field}))
            .collect();
        let mut d = Map::new();
        if !name.is_empty() {
            d.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            d.insert("group".into(), json!(group));
        }
        d.insert("kind".into(), json!(kind));
        d.insert("causes".into(), Value::Array(causes));
        Self::new(
            422,
            "Invalid",
            format!(
                "{qualified_kind} {name:?} is invalid: {}",
                aggregate_message(errors)
            ),
            Some(Value::Object(d)),
        )
    }

    /// 422 for a patch that cannot be applied (a failed JSON-patch `test`, a missing path).
    pub fn invalid_patch(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message, None)
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message, None)
    }

    /// 403 `<resource> "<name>" is forbidden: <why>` (admission and authorization denials).
    pub fn forbidden(gr: &GroupResource, name: &str, why: &str) -> Self {
        let subject = if name.is_empty() {
            gr.qualified()
        } else {
            format!("{} {name:?}", gr.qualified())
        };
        Self::new(
            403,
            "Forbidden",
            format!("{subject} is forbidden: {why}"),
            Some(details(name, gr)),
        )
    }

    /// 401 `Unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized", None)
    }

    /// 405 `<verb> is not supported on resources of kind "<resource>"`.
    pub fn method_not_supported(gr: &GroupResource, verb: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!(
                "{verb} is not supported on resources of kind {:?}",
                gr.qualified()
            ),
            Some(details("", gr)),
        )
    }

    /// 406 for an Accept header no served media type satisfies.
    pub fn not_acceptable(accepted: &str) -> Self {
        Self::new(
            406,
            "NotAcceptable",
            format!("only the following media types are accepted: {accepted}"),
            None,
        )
    }

    /// 415 for a body media type the endpoint does not take.
    pub fn unsupported_media_type(media_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
            Some(json!({"causes":[{"reason":"UnexpectedServerResponse","message": media_type}]})),
        )
    }

    /// 413 for a body over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
            None,
        )
    }

    /// 410 `Expired`, for a watch or list from a compacted resourceVersion.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message, None)
    }

    /// 410 `Gone`.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Gone", message, None)
    }

    /// 500 `Internal error occurred: <why>`.
    pub fn internal(why: impl std::fmt::Display) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {why}"),
            Some(json!({"causes":[{"message": why.to_string()}]})),
        )
    }

    /// 504 `Timeout`.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message, None)
    }

    /// 503 `ServiceUnavailable`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message, None)
    }

    /// The `metav1.Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let (Some(d), Some(obj)) = (&self.details, s.as_object_mut()) {
            obj.insert("details".into(), (**d).clone());
        }
        if let Some(obj) = s.as_object_mut() {
            obj.insert("code".into(), json!(self.code));
        }
        s
    }
}

/// The `Status` a DELETE answers when the object is gone at once.
pub fn success_status(gr: &GroupResource, name: &str, uid: &str) -> Value {
    let mut d = details(name, gr);
    if let Some(obj) = d.as_object_mut() {
        obj.insert("uid".into(), json!(uid));
    }
    json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details": d})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_qualified_resource() {
        let e = ApiError::not_found(&GroupResource::new("apps", "statefulsets"), "nope");
        assert_eq!(e.message, "statefulsets.apps \"nope\" not found");
        let s = e.to_status();
        assert_eq!(s["details"]["kind"], "statefulsets");
        assert_eq!(s["code"], 404);
    }

    #[test]
    fn invalid_carries_kind_and_causes() {
        let errs = [FieldError::invalid(
            "spec.replicas",
            -1,
            "must be greater than or equal to 0",
        )];
        let e = ApiError::invalid("StatefulSet", "apps", "database", &errs);
        assert_eq!(
            e.message,
            "StatefulSet.apps \"database\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        let s = e.to_status();
        assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueInvalid");
        assert_eq!(s["details"]["causes"][0]["field"], "spec.replicas");
    }

    #[test]
    fn stale_conflict_wording() {
        let e = ApiError::stale(&GroupResource::new("", "configmaps"), "ssa1");
        assert_eq!(
            e.message,
            "Operation cannot be fulfilled on configmaps \"ssa1\": the object has been modified; please apply your changes to the latest version and try again"
        );
    }
}
