//! `kubectl delete`: plain deletes and the three cascade policies (the garbage collector
//! following ownerReferences).

use crate::apply::WEB;
use crate::harness::{Berth, EVENTUALLY, wait_for};
use serde_json::Value;

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{a: '1'}}\n")
}

/// A ConfigMap owned by `owner` (kind/apiVersion/uid), optionally held by an extra finalizer.
fn dependent(
    name: &str,
    api_version: &str,
    kind: &str,
    owner: &str,
    uid: &str,
    finalizer: Option<&str>,
) -> String {
    let finalizers = finalizer
        .map(|f| format!("  finalizers: [{f}]\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
{finalizers}  ownerReferences:
  - apiVersion: {api_version}
    kind: {kind}
    name: {owner}
    uid: {uid}
    blockOwnerDeletion: true
data: {{a: '1'}}
"
    )
}

fn owner_refs(k: &Berth, name: &str) -> Value {
    assert!(
        !k.is_gone(&["cm", name]),
        "configmap {name} was deleted, but it was orphaned and must stay"
    );
    k.get_json(&["cm", name])["metadata"]["ownerReferences"].clone()
}

#[test]
fn delete_configmap() {
    let k = Berth::start();
    k.apply_ok(&cm("gone"));
    k.apply_ok(&cm("kept"));
    assert_eq!(
        k.kubectl_ok(&["delete", "cm", "gone"]),
        "configmap \"gone\" deleted\n"
    );
    let out = k.kubectl_fails(&["get", "cm", "gone"]);
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (NotFound): configmaps "gone" not found"#
    );
    assert_eq!(
        k.kubectl_ok(&["get", "cm", "kept", "-o", "name"]),
        "configmap/kept\n"
    );

    let out = k.kubectl_fails(&["delete", "cm", "gone"]);
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (NotFound): configmaps "gone" not found"#
    );
    let out = k.kubectl(&["delete", "cm", "gone", "--ignore-not-found"]);
    assert!(out.success() && out.stdout.is_empty(), "{out:?}");

    // The DELETE answer for a configmap is a Success Status naming the object.
    let uid = k.jsonpath(&["cm", "kept"], "{.metadata.uid}");
    let r = k.api().request(
        "DELETE",
        "/api/v1/namespaces/default/configmaps/kept",
        None,
        None,
        true,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["kind"], "Status", "{v}");
    assert_eq!(v["status"], "Success", "{v}");
    assert_eq!(v["details"]["name"], "kept", "{v}");
    assert_eq!(v["details"]["kind"], "configmaps", "{v}");
    assert_eq!(v["details"]["uid"], uid.as_str(), "{v}");

    // Deleting a StatefulSet and its Service by file.
    assert_eq!(
        k.apply_ok(WEB),
        "service/web created\nstatefulset.apps/web created\n"
    );
    let out = k.kubectl_stdin(&["delete", "-f", "-"], WEB);
    assert!(out.success(), "{out:?}");
    assert_eq!(
        out.stdout,
        "service \"web\" deleted\nstatefulset.apps \"web\" deleted\n"
    );
    assert!(k.is_gone(&["sts", "web"]));
    assert!(k.is_gone(&["svc", "web"]));
}

#[test]
fn delete_cascade_background_removes_dependents() {
    let k = Berth::start();
    k.apply_ok(WEB);
    let uid = k.jsonpath(&["sts", "web"], "{.metadata.uid}");
    k.apply_ok(&dependent("dep", "apps/v1", "StatefulSet", "web", &uid, None));
    k.apply_ok(&cm("bystander"));
    assert_eq!(
        k.kubectl_ok(&["delete", "sts", "web"]),
        "statefulset.apps \"web\" deleted\n"
    );
    assert!(
        k.is_gone(&["sts", "web"]),
        "background deletion removes the owner at once"
    );
    wait_for(
        "the garbage collector to delete the dependent",
        EVENTUALLY,
        || k.is_gone(&["cm", "dep"]),
    );
    assert_eq!(
        k.kubectl_ok(&["get", "cm", "bystander", "-o", "name"]),
        "configmap/bystander\n"
    );
}

#[test]
fn delete_cascade_orphan_keeps_dependents_without_owner_reference() {
    let k = Berth::start();
    k.apply_ok(&cm("owner"));
    let uid = k.jsonpath(&["cm", "owner"], "{.metadata.uid}");
    k.apply_ok(&dependent("dep", "v1", "ConfigMap", "owner", &uid, None));
    assert_eq!(owner_refs(&k, "dep")[0]["uid"], uid.as_str());
    let out = k.kubectl(&["delete", "cm", "owner", "--cascade=orphan", "--timeout=20s"]);
    assert!(out.success(), "delete --cascade=orphan: {out:?}");
    assert_eq!(out.stdout, "configmap \"owner\" deleted\n");
    assert!(k.is_gone(&["cm", "owner"]));
    wait_for("the dependent's ownerReference to be removed", EVENTUALLY, || {
        owner_refs(&k, "dep").is_null()
    });
    // And it stays.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(k.jsonpath(&["cm", "dep"], "{.data.a}"), "1");
    assert!(
        k.jsonpath(&["cm", "dep"], "{.metadata.deletionTimestamp}")
            .is_empty()
    );
}

#[test]
fn delete_cascade_foreground_waits_for_blocking_dependents() {
    let k = Berth::start();
    k.apply_ok(&cm("owner"));
    let uid = k.jsonpath(&["cm", "owner"], "{.metadata.uid}");
    // The dependent carries its own finalizer, so the owner must wait for it.
    k.apply_ok(&dependent(
        "dep",
        "v1",
        "ConfigMap",
        "owner",
        &uid,
        Some("e2e.berth.dev/hold"),
    ));
    let out = k.kubectl(&["delete", "cm", "owner", "--cascade=foreground", "--wait=false"]);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "configmap \"owner\" deleted\n");

    // The owner is marked (deletionTimestamp + foregroundDeletion) but still there.
    let owner = k.get_json(&["cm", "owner"]);
    assert!(owner["metadata"]["deletionTimestamp"].is_string(), "{owner}");
    let fin = owner["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        fin.iter().any(|f| f == "foregroundDeletion"),
        "finalizers: {fin:?}"
    );

    // The garbage collector deletes the dependent, which waits on its own finalizer...
    wait_for("the dependent to be marked for deletion", EVENTUALLY, || {
        !k.jsonpath(&["cm", "dep"], "{.metadata.deletionTimestamp}")
            .is_empty()
    });
    // ...and the owner is still waiting for it.
    assert!(
        !k.is_gone(&["cm", "owner"]),
        "the owner must wait for its blocking dependent"
    );

    // Releasing the dependent lets both go.
    k.kubectl_ok(&[
        "patch",
        "cm",
        "dep",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);
    wait_for("the dependent to disappear", EVENTUALLY, || {
        k.is_gone(&["cm", "dep"])
    });
    wait_for("the owner to disappear", EVENTUALLY, || {
        k.is_gone(&["cm", "owner"])
    });
}

#[test]
fn finalizer_holds_deletion_until_removed() {
    let k = Berth::start();
    k.apply_ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, finalizers: [e2e.berth.dev/hold]}\n");
    let out = k.kubectl(&["delete", "cm", "held", "--wait=false"]);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "configmap \"held\" deleted\n");
    let v = k.get_json(&["cm", "held"]);
    assert!(v["metadata"]["deletionTimestamp"].is_string(), "{v}");
    assert_eq!(v["metadata"]["deletionGracePeriodSeconds"], 0, "{v}");
    // Adding a finalizer once deletion started is forbidden; removing the last one deletes.
    let out = k.kubectl_fails(&[
        "patch",
        "cm",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["e2e.berth.dev/hold","x/y"]}}"#,
    ]);
    assert_eq!(
        out.stderr.trim(),
        r#"The ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"x/y"}"#
    );
    k.kubectl_ok(&[
        "patch",
        "cm",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    wait_for("the released object to disappear", EVENTUALLY, || {
        k.is_gone(&["cm", "held"])
    });
}
