//! Label and field selectors: parsing the query-string forms exactly as apimachinery's
//! `labels.Parse` and `fields.ParseSelector` do, converting `metav1.LabelSelector` objects,
//! and matching JSON objects against them.
//!
//! * [`LabelSelector`] — `app=web,tier in (db),!canary`, matched against `metadata.labels`.
//! * [`FieldSelector`] — `metadata.name=web,status.phase!=Running`, restricted per resource
//!   type to the fields Kubernetes' registries make selectable.

mod field;
mod label;
mod names;
#[cfg(test)]
mod tests;

pub use field::{FieldOp, FieldSelector, FieldTerm, SelectorAttrs};
pub use label::{LabelSelector, Operator, Requirement, format_label_selector};
pub use names::{is_qualified_name, is_valid_label_value};
