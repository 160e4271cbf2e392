//! Strategic merge patch. (Placeholder: filled in by the strategic-merge-patch work.)

use super::PatchError;
use serde_json::Value;

/// Applies a strategic merge patch to `target`, an object of the given kind (`group`, `kind`).
pub fn apply(_group: &str, kind: &str, target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let _ = kind;
    super::merge(target, patch);
    Ok(())
}
