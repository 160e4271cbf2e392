//! RuntimeClass validation (`pkg/apis/node/validation/validation.go`): `handler` is a DNS
//! label and immutable; `scheduling.nodeSelector` holds valid labels.

use super::meta::validate_labels;
use super::{get, get_str, immutable, name_is_dns_label};
use crate::field::{FieldError, Path};
use serde_json::Value;

/// `ValidateRuntimeClass`.
pub(crate) fn validate_runtime_class(obj: &Value) -> Vec<FieldError> {
    let handler = get_str(obj, "handler");
    let mut errs: Vec<FieldError> = name_is_dns_label(handler, false)
        .into_iter()
        .map(|m| FieldError::invalid(Path::new("handler"), handler, m))
        .collect();
    if let Some(selector) = obj.pointer("/scheduling/nodeSelector").filter(|v| !v.is_null()) {
        errs.extend(validate_labels(
            Some(selector),
            &Path::new("scheduling").child("nodeSelector"),
        ));
    }
    errs
}

/// The update strategy's checks: `ValidateRuntimeClass` on the new object plus
/// `ValidateRuntimeClassUpdate` (`handler` is immutable).
pub(crate) fn validate_runtime_class_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate_runtime_class(new);
    errs.extend(immutable(
        get(new, "handler"),
        get(old, "handler"),
        &Path::new("handler"),
    ));
    errs
}

#[cfg(test)]
mod tests {
    use crate::registry::lookup_kind;
    use crate::validation;
    use serde_json::{Value, json};

    fn create(obj: Value) -> Vec<String> {
        let rt = lookup_kind("node.k8s.io", "RuntimeClass").expect("served");
        validation::validate_create(rt, &obj)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn handler_must_be_a_dns_label() {
        assert_eq!(
            create(json!({"metadata": {"name": "gvisor"}, "handler": "runsc"})),
            Vec::<String>::new()
        );
        let errs = create(json!({"metadata": {"name": "gvisor"}}));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with(r#"handler: Invalid value: "": a lowercase RFC 1123 label"#));
        let errs = create(json!({"metadata": {"name": "gvisor"}, "handler": "Run.SC"}));
        assert!(errs[0].starts_with(r#"handler: Invalid value: "Run.SC": a lowercase RFC 1123 label"#));
    }

    #[test]
    fn runtime_classes_are_cluster_scoped() {
        assert_eq!(
            create(json!({"metadata": {"name": "gvisor", "namespace": "default"}, "handler": "runsc"})),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
    }

    #[test]
    fn handler_is_immutable() {
        let rt = lookup_kind("node.k8s.io", "RuntimeClass").expect("served");
        let old = json!({"metadata": {"name": "gvisor"}, "handler": "runsc"});
        let new = json!({"metadata": {"name": "gvisor"}, "handler": "kata"});
        let errs: Vec<String> = validation::validate_update(rt, &new, &old)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errs,
            vec![r#"handler: Invalid value: "kata": field is immutable"#]
        );
    }
}
