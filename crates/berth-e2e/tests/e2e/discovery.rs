//! Version, discovery and the built-in namespaces as kubectl shows them.

use crate::harness::{Berth, table};

#[test]
fn version_reports_berth_server_version() {
    let k = Berth::start();
    let out = k.kubectl(&["version"]);
    assert!(out.success(), "kubectl version failed: {out:?}");
    assert!(
        out.stdout.lines().any(|l| l == "Server Version: v1.32.4+berth"),
        "no `Server Version: v1.32.4+berth` line in:\n{}",
        out.stdout
    );
    // A minor skew beyond one version makes kubectl warn; 1.32 against 1.32 must not.
    assert!(
        !out.stderr.contains("version difference"),
        "unexpected skew warning: {}",
        out.stderr
    );

    // The dispatcher picks the kubectl binary from /version's minor (must be 1.32).
    let v = k.api().request("GET", "/version", None, None, true).json();
    assert_eq!(v["major"], "1");
    assert_eq!(v["minor"], "32");
    assert_eq!(v["gitVersion"], "v1.32.4+berth");
}

#[test]
fn api_resources_lists_statefulsets_and_core_types() {
    let k = Berth::start();
    let rows = table(&k.kubectl_ok(&["api-resources"]));
    assert_eq!(
        rows[0],
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    let find = |name: &str, version: &str| {
        rows.iter()
            .find(|r| r[0] == name && r.iter().any(|c| c == version))
            .unwrap_or_else(|| panic!("api-resources has no {name} ({version}) row: {rows:?}"))
            .clone()
    };
    assert_eq!(
        find("statefulsets", "apps/v1"),
        ["statefulsets", "sts", "apps/v1", "true", "StatefulSet"]
    );
    assert_eq!(
        find("configmaps", "v1"),
        ["configmaps", "cm", "v1", "true", "ConfigMap"]
    );
    assert_eq!(
        find("namespaces", "v1"),
        ["namespaces", "ns", "v1", "false", "Namespace"]
    );
    assert_eq!(
        find("controllerrevisions", "apps/v1"),
        ["controllerrevisions", "apps/v1", "true", "ControllerRevision"]
    );

    // Short names resolve through discovery.
    let out = k.kubectl(&["get", "sts"]);
    assert!(out.success(), "kubectl get sts: {out:?}");
    assert_eq!(out.stdout, "", "no StatefulSets yet, so stdout is empty");
    assert_eq!(out.stderr.trim(), "No resources found in default namespace.");
}

#[test]
fn builtin_namespaces_are_active() {
    let k = Berth::start();
    let rows = table(&k.kubectl_ok(&["get", "ns"]));
    assert_eq!(rows[0], ["NAME", "STATUS", "AGE"]);
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let row = rows
            .iter()
            .find(|r| r[0] == ns)
            .unwrap_or_else(|| panic!("namespace {ns} missing: {rows:?}"));
        assert_eq!(row[1], "Active", "namespace {ns}: {row:?}");
        assert!(
            row[2].ends_with('s') || row[2].ends_with('m'),
            "age cell of {ns}: {row:?}"
        );
    }
    let phase = k.jsonpath(&["ns", "kube-system"], "{.status.phase}");
    assert_eq!(phase, "Active");
    // Kubernetes labels every namespace with its own name.
    let label = k.jsonpath(
        &["ns", "default"],
        "{.metadata.labels.kubernetes\\.io/metadata\\.name}",
    );
    assert_eq!(label, "default");
}
