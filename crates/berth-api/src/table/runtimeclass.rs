//! The RuntimeClass printer (`printRuntimeClass`): Name, Handler, Age.

use super::{AGE, Column, NAME, Printer, Row, age, str_at};
use serde_json::json;

/// Kubernetes describes the Handler column with `metav1.ObjectMeta{}.SwaggerDoc()["handler"]`,
/// a key ObjectMeta does not have, so the description is empty.
pub(crate) const RUNTIME_CLASS: Printer = Printer {
    columns: &[NAME, Column::string("Handler", ""), AGE],
    row: |rc, now| {
        Row::new(vec![
            json!(crate::meta::name(rc)),
            json!(str_at(rc, "/handler")),
            age(rc, now),
        ])
    },
};

#[cfg(test)]
mod tests {
    use crate::registry::lookup_kind;
    use crate::table::{IncludeObject, render};
    use serde_json::json;

    #[test]
    fn row_is_name_handler_age() {
        let rt = lookup_kind("node.k8s.io", "RuntimeClass").expect("served");
        let now: jiff::Timestamp = "2026-01-01T02:00:00Z".parse().expect("time");
        let obj = json!({"metadata": {"name": "gvisor", "creationTimestamp": "2026-01-01T00:00:00Z"}, "handler": "runsc"});
        let t = render(rt, &[obj], now, IncludeObject::None, true);
        assert_eq!(t["rows"][0]["cells"], json!(["gvisor", "runsc", "120m"]));
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["Name", "Handler", "Age"]);
    }
}
