//! Printers for apps kinds (StatefulSet, ControllerRevision) and the autoscaling/v1 `Scale`
//! subresource.

use super::{
    AGE, CREATION_TIMESTAMP_DOC, Column, NAME, NAME_DOC, Printer, Row, age, arr_at, container_cells, int_at,
    str_at,
};
use serde_json::{Value, json};

const CONTAINERS_DOC: &str = "Names of each container in the template.";
const IMAGES_DOC: &str = "Images referenced by each container in the template.";

pub(crate) const STATEFUL_SET: Printer = Printer {
    columns: &[
        NAME,
        Column::string("Ready", "Number of the pod with ready state"),
        AGE,
        Column::string("Containers", CONTAINERS_DOC).wide(),
        Column::string("Images", IMAGES_DOC).wide(),
    ],
    row: stateful_set_row,
};

/// `printStatefulSet`: Ready is `status.readyReplicas/spec.replicas`.
fn stateful_set_row(sts: &Value, now: jiff::Timestamp) -> Row {
    // `spec.replicas` defaults to 1.
    let desired = int_at(sts, "/spec/replicas", 1);
    let ready = int_at(sts, "/status/readyReplicas", 0);
    let (names, images) = container_cells(arr_at(sts, "/spec/template/spec/containers"));
    Row::new(vec![
        json!(crate::meta::name(sts)),
        json!(format!("{ready}/{desired}")),
        age(sts, now),
        json!(names),
        json!(images),
    ])
}

pub(crate) const CONTROLLER_REVISION: Printer = Printer {
    columns: &[
        NAME,
        Column::string("Controller", "Controller of the object"),
        Column::string(
            "Revision",
            "revision indicates the revision of the state represented by Data.",
        ),
        AGE,
    ],
    row: controller_revision_row,
};

/// `formatResourceName(GroupKind, name, true)` of the controller owner reference:
/// `statefulset.apps/database`, or `<none>` without a controller.
fn controller_name(obj: &Value) -> String {
    let Some(owner) = arr_at(obj, "/metadata/ownerReferences")
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
    else {
        return "<none>".to_string();
    };
    let name = str_at(owner, "/name");
    let kind = str_at(owner, "/kind");
    let group = match str_at(owner, "/apiVersion").split_once('/') {
        Some((g, _)) => g,
        None => "",
    };
    if kind.is_empty() && group.is_empty() {
        return name.to_string();
    }
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{name}", group_kind.to_lowercase())
}

/// `printControllerRevision`.
fn controller_revision_row(cr: &Value, now: jiff::Timestamp) -> Row {
    Row::new(vec![
        json!(crate::meta::name(cr)),
        json!(controller_name(cr)),
        json!(int_at(cr, "/revision", 0)),
        age(cr, now),
    ])
}

/// The `Scale` printer; its Name column carries no `name` format in Kubernetes.
pub(crate) const SCALE: Printer = Printer {
    columns: &[
        Column::string("Name", NAME_DOC),
        Column::string(
            "Desired",
            "replicas is the desired number of instances for the scaled object.",
        )
        .typed("integer"),
        Column::string(
            "Available",
            "replicas is the actual number of observed instances of the scaled object.",
        )
        .typed("integer"),
        Column::string("Age", CREATION_TIMESTAMP_DOC),
    ],
    row: |scale, now| {
        Row::new(vec![
            json!(crate::meta::name(scale)),
            json!(int_at(scale, "/spec/replicas", 0)),
            json!(int_at(scale, "/status/replicas", 0)),
            age(scale, now),
        ])
    },
};
