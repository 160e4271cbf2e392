//! Validation with Kubernetes' field paths and messages. (Placeholder.)

use crate::field::FieldError;
use crate::registry::ResourceType;
use serde_json::Value;

/// Validates an object being created.
pub fn validate_create(_rt: &ResourceType, _obj: &Value) -> Vec<FieldError> {
    Vec::new()
}

/// Validates an update of `old` to `new`.
pub fn validate_update(_rt: &ResourceType, _new: &Value, _old: &Value) -> Vec<FieldError> {
    Vec::new()
}
