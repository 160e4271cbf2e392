//! Label and field selectors. (Placeholder: filled in by the selector work.)

use crate::registry::ResourceType;
use serde_json::Value;

/// A parsed label selector (`app=web,tier in (db),!canary`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector {}

impl LabelSelector {
    /// Parses the query-string form.
    pub fn parse(_s: &str) -> Result<Self, String> {
        Ok(Self {})
    }

    /// Whether an object's labels match.
    pub fn matches(&self, _obj: &Value) -> bool {
        true
    }
}

/// A parsed field selector (`metadata.name=web,status.phase!=Running`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector {}

impl FieldSelector {
    /// Parses the query-string form, rejecting fields the resource does not support.
    pub fn parse(_rt: &ResourceType, _s: &str) -> Result<Self, String> {
        Ok(Self {})
    }

    /// Whether an object matches.
    pub fn matches(&self, _obj: &Value) -> bool {
        true
    }
}
