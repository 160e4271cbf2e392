//! Defaulting, as Kubernetes' `SetDefaults_*` functions do. (Placeholder.)

use crate::registry::ResourceType;
use serde_json::Value;

/// Fills in defaults on an object about to be stored.
pub fn apply(_rt: &ResourceType, _obj: &mut Value) {}
