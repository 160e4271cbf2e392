//! Printers for coordination and RBAC kinds: Lease, RoleBinding and ClusterRoleBinding.

use super::{AGE, Column, NAME, Printer, Row, age, arr_at, str_at};
use serde_json::{Value, json};

pub(crate) const LEASE: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Holder",
            "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
        ),
        AGE,
    ],
    row: |lease, now| {
        Row::new(vec![
            json!(crate::meta::name(lease)),
            json!(str_at(lease, "/spec/holderIdentity")),
            age(lease, now),
        ])
    },
};

pub(crate) const ROLE_BINDING: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Role",
            "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
        ),
        AGE,
        Column::string("Users", "Users in the roleBinding").wide(),
        Column::string("Groups", "Groups in the roleBinding").wide(),
        Column::string("ServiceAccounts", "ServiceAccounts in the roleBinding").wide(),
    ],
    row: binding_row,
};

pub(crate) const CLUSTER_ROLE_BINDING: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Role",
            "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
        ),
        AGE,
        Column::string("Users", "Users in the clusterRoleBinding").wide(),
        Column::string("Groups", "Groups in the clusterRoleBinding").wide(),
        Column::string("ServiceAccounts", "ServiceAccounts in the clusterRoleBinding").wide(),
    ],
    row: binding_row,
};

/// `printRoleBinding` / `printClusterRoleBinding`: `Kind/name` of the role and the subjects
/// split as `rbac.SubjectsStrings` does.
fn binding_row(b: &Value, now: jiff::Timestamp) -> Row {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut sas = Vec::new();
    for s in arr_at(b, "/subjects") {
        match str_at(s, "/kind") {
            "ServiceAccount" => sas.push(format!("{}/{}", str_at(s, "/namespace"), str_at(s, "/name"))),
            "User" => users.push(str_at(s, "/name").to_string()),
            "Group" => groups.push(str_at(s, "/name").to_string()),
            _ => {}
        }
    }
    Row::new(vec![
        json!(crate::meta::name(b)),
        json!(format!(
            "{}/{}",
            str_at(b, "/roleRef/kind"),
            str_at(b, "/roleRef/name")
        )),
        age(b, now),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ])
}
