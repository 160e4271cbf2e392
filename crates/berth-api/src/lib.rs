//! Berth's pure object model.
//!
//! Everything here is a plain function over JSON objects (`serde_json::Value`) or the
//! `k8s-openapi` types: the registry of served resources, defaulting, validation with
//! Kubernetes' field paths and wording, the three patch formats, label and field
//! selectors, server-side Table rendering and `metav1.Status` errors. No I/O, no async
//! runtime, no clock: callers pass "now" in.

pub mod convert;
pub mod crashpoint;
pub mod defaults;
pub mod field;
pub mod meta;
pub mod patch;
pub mod quantity;
pub mod quota;
pub mod registry;
pub mod schema;
pub mod selector;
pub mod status;
pub mod table;
pub mod validation;
