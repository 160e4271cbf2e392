//! The three PATCH formats Kubernetes accepts: JSON merge patch (RFC 7386), JSON patch
//! (RFC 6902) and strategic merge patch (Kubernetes' own, with merge keys and `$patch`
//! directives; no crate implements it, so it is written here).

pub mod merge_keys;
pub mod strategic;

use serde_json::Value;

/// Why a patch could not be applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PatchError {
    /// The patch document is not valid for its format.
    #[error("{0}")]
    Malformed(String),
    /// A JSON patch operation failed (e.g. a `test` did not match or a path is missing).
    #[error("{0}")]
    Failed(String),
}

/// Applies an RFC 7386 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// Applies an RFC 6902 JSON patch document (an array of operations).
pub fn json(target: &mut Value, ops: &Value) -> Result<(), PatchError> {
    let ops: json_patch::Patch =
        serde_json::from_value(ops.clone()).map_err(|e| PatchError::Malformed(e.to_string()))?;
    json_patch::patch(target, &ops).map_err(|e| PatchError::Failed(e.to_string()))
}
