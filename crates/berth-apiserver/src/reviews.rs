//! The create-only review resources kubectl uses: `SelfSubjectAccessReview` (`auth can-i`),
//! `SelfSubjectRulesReview` (`auth can-i --list`) and `SelfSubjectReview` (`auth whoami`).
//! They are answered from the authenticator and authorizer and never stored.

use crate::auth::{Attributes, UserInfo};
use crate::state::ApiState;
use berth_api::registry::ResourceType;
use berth_api::status::ApiError;
use serde_json::{Value, json};

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// Answers a review object for `user`.
pub(crate) fn review(
    rt: &ResourceType,
    mut obj: Value,
    user: &UserInfo,
    state: &ApiState,
) -> Result<Value, ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request("the body is not a JSON object"));
    }
    obj["apiVersion"] = json!(rt.api_version());
    obj["kind"] = json!(rt.kind);
    if obj.get("metadata").is_none() {
        obj["metadata"] = json!({});
    }
    obj["metadata"]["creationTimestamp"] = Value::Null;
    match rt.kind {
        "SelfSubjectAccessReview" => {
            let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
            let attrs = if spec.get("resourceAttributes").is_some() {
                Attributes {
                    verb: str_at(&spec, "/resourceAttributes/verb").to_string(),
                    group: str_at(&spec, "/resourceAttributes/group").to_string(),
                    resource: str_at(&spec, "/resourceAttributes/resource").to_string(),
                    subresource: str_at(&spec, "/resourceAttributes/subresource").to_string(),
                    namespace: str_at(&spec, "/resourceAttributes/namespace").to_string(),
                    name: str_at(&spec, "/resourceAttributes/name").to_string(),
                }
            } else if spec.get("nonResourceAttributes").is_some() {
                Attributes {
                    verb: str_at(&spec, "/nonResourceAttributes/verb").to_string(),
                    group: String::new(),
                    resource: str_at(&spec, "/nonResourceAttributes/path").to_string(),
                    subresource: String::new(),
                    namespace: String::new(),
                    name: String::new(),
                }
            } else {
                return Err(ApiError::invalid(
                    rt.kind,
                    rt.group,
                    "",
                    &[berth_api::field::FieldError::invalid(
                        "spec.resourceAttributes",
                        Value::Null,
                        "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    )],
                ));
            };
            obj["status"] = match state.authorizer.authorize(user, &attrs) {
                Ok(()) => json!({"allowed": true}),
                Err(reason) => json!({"allowed": false, "reason": reason}),
            };
        }
        "SelfSubjectRulesReview" => {
            obj["status"] = json!({
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": false,
            });
        }
        _ => {
            obj["status"] =
                json!({"userInfo": {"username": user.username, "uid": user.uid, "groups": user.groups}});
        }
    }
    Ok(obj)
}
