//! Namespace deletion: the namespace controller empties a terminating namespace, then
//! finalizes it; a terminating namespace refuses new content.

use crate::apply::WEB;
use crate::harness::{Berth, EVENTUALLY, wait_for};

fn ns(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")
}

#[test]
fn delete_namespace_removes_its_contents() {
    let k = Berth::start();
    assert_eq!(k.apply_ok(&ns("doomed")), "namespace/doomed created\n");
    let out = k.kubectl_stdin(&["apply", "-n", "doomed", "-f", "-"], WEB);
    assert!(out.success(), "{out:?}");
    k.apply_ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: doomed}\ndata: {a: b}\n");
    k.apply_ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: survivor}\ndata: {a: b}\n");
    assert_eq!(
        k.jsonpath(&["ns", "doomed"], "{.spec.finalizers}"),
        r#"["kubernetes"]"#
    );

    let out = k.kubectl(&["delete", "ns", "doomed", "--timeout=30s"]);
    assert!(
        out.success(),
        "kubectl delete ns (waits until the namespace is gone): {out:?}"
    );
    assert_eq!(out.stdout, "namespace \"doomed\" deleted\n");
    wait_for("the namespace to disappear", EVENTUALLY, || {
        k.is_gone(&["ns", "doomed"])
    });
    let out = k.kubectl_fails(&["get", "ns", "doomed"]);
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (NotFound): namespaces "doomed" not found"#
    );
    for kind in ["cm", "sts", "svc"] {
        let out = k.kubectl(&["get", kind, "-n", "doomed", "-o", "name"]);
        assert!(
            out.success() && out.stdout.is_empty(),
            "{kind} left in the deleted namespace: {out:?}"
        );
    }
    let out = k.kubectl_ok(&["get", "cm", "-A", "-o", "jsonpath={.items[*].metadata.namespace}"]);
    assert!(
        !out.split(' ').any(|n| n == "doomed"),
        "objects of the deleted namespace remain: {out}"
    );
    assert_eq!(k.jsonpath(&["cm", "survivor"], "{.data.a}"), "b");
}

#[test]
fn terminating_namespace_rejects_new_content_until_finalized() {
    let k = Berth::start();
    k.apply_ok(&ns("slow"));
    // A finalizer on a ConfigMap keeps the namespace Terminating until we release it.
    let held = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: slow, finalizers: [e2e.berth.dev/hold]}\n";
    k.apply_ok(held);
    k.apply_ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain, namespace: slow}\n");
    let out = k.kubectl(&["delete", "ns", "slow", "--wait=false"]);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "namespace \"slow\" deleted\n");

    let rows = crate::harness::table(&k.kubectl_ok(&["get", "ns", "slow"]));
    assert_eq!(rows[1][..2], ["slow", "Terminating"]);
    assert!(
        !k.jsonpath(&["ns", "slow"], "{.metadata.deletionTimestamp}")
            .is_empty()
    );

    let out = k.kubectl_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: slow}\n",
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "configmaps \"late\" is forbidden: unable to create new content in namespace slow because it is being terminated"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.starts_with("Error from server (Forbidden)"),
        "{}",
        out.stderr
    );

    // The controller deletes what it can; the held object waits with a deletionTimestamp.
    wait_for("the plain configmap to be deleted", EVENTUALLY, || {
        k.is_gone(&["cm", "plain", "-n", "slow"])
    });
    wait_for("the held configmap to be marked for deletion", EVENTUALLY, || {
        !k.jsonpath(&["cm", "held", "-n", "slow"], "{.metadata.deletionTimestamp}")
            .is_empty()
    });
    assert_eq!(k.jsonpath(&["ns", "slow"], "{.status.phase}"), "Terminating");

    k.kubectl_ok(&[
        "patch",
        "cm",
        "held",
        "-n",
        "slow",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    wait_for("the namespace to be finalized", EVENTUALLY, || {
        k.is_gone(&["ns", "slow"])
    });
    assert!(k.is_gone(&["cm", "held", "-n", "slow"]));
}
