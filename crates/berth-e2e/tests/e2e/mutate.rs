//! `describe`, `label`, `annotate`, `patch` (strategic, merge, JSON) and `replace` with
//! optimistic concurrency.

use crate::apply::WEB;
use crate::harness::Berth;

const CONF: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {a: '1', b: '2'}\n";

/// The value after `key:` on the first line of `describe` output that starts with it.
fn field<'a>(describe: &'a str, key: &str) -> &'a str {
    describe
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no `{key}:` line in describe output:\n{describe}"))
}

#[test]
fn describe_statefulset() {
    let k = Berth::start();
    k.apply_ok(WEB);
    let out = k.kubectl_ok(&["describe", "sts", "web"]);
    assert_eq!(field(&out, "Name"), "web");
    assert_eq!(field(&out, "Namespace"), "default");
    assert_eq!(field(&out, "Selector"), "app=web");
    assert_eq!(field(&out, "Labels"), "app=web");
    // describe hides the last-applied annotation.
    assert_eq!(field(&out, "Annotations"), "<none>");
    let replicas = field(&out, "Replicas");
    assert!(
        replicas.starts_with("2 desired | ") && replicas.ends_with(" total"),
        "Replicas: {replicas}"
    );
    assert_eq!(field(&out, "Update Strategy"), "RollingUpdate");
    assert_eq!(field(&out, "  Partition"), "0");
    assert!(field(&out, "Pods Status").ends_with("Failed"), "{out}");
    assert!(out.lines().any(|l| l == "Pod Template:"), "{out}");
    assert_eq!(field(&out, "  Labels"), "app=web");
    assert!(
        out.lines().any(|l| l.trim() == "app:") && out.lines().any(|l| l.trim() == "side:"),
        "{out}"
    );
    assert_eq!(field(&out, "    Image"), "nginx:1.25");
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["MODE:", "primary"]),
        "{out}"
    );
    assert_eq!(field(&out, "Volume Claims"), "<none>");
    assert!(out.lines().any(|l| l.starts_with("Events:")), "{out}");

    let out = k.kubectl_fails(&["describe", "sts", "nope"]);
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (NotFound): statefulsets.apps "nope" not found"#
    );
}

#[test]
fn label_and_annotate() {
    let k = Berth::start();
    k.apply_ok(CONF);
    assert_eq!(
        k.kubectl_ok(&["label", "cm", "conf", "tier=db"]),
        "configmap/conf labeled\n"
    );
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.metadata.labels.tier}"), "db");
    assert_eq!(
        k.kubectl_ok(&["get", "cm", "-l", "tier=db", "-o", "name"]),
        "configmap/conf\n"
    );

    let out = k.kubectl_fails(&["label", "cm", "conf", "tier=web"]);
    assert_eq!(
        out.stderr.trim(),
        "error: 'tier' already has a value (db), and --overwrite is false"
    );
    assert_eq!(
        k.kubectl_ok(&["label", "cm", "conf", "tier=web", "--overwrite"]),
        "configmap/conf labeled\n"
    );
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.metadata.labels.tier}"), "web");
    assert_eq!(
        k.kubectl_ok(&["label", "cm", "conf", "tier-"]),
        "configmap/conf unlabeled\n"
    );
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.metadata.labels}"), "");

    assert_eq!(
        k.kubectl_ok(&["annotate", "cm", "conf", "note=hello world"]),
        "configmap/conf annotated\n"
    );
    assert_eq!(
        k.jsonpath(&["cm", "conf"], "{.metadata.annotations.note}"),
        "hello world"
    );
    assert_eq!(
        k.kubectl_ok(&["annotate", "cm", "conf", "note-"]),
        "configmap/conf annotated\n"
    );
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.metadata.annotations.note}"), "");
    // The data never changed.
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.data}"), r#"{"a":"1","b":"2"}"#);
}

#[test]
fn patch_strategic_merge_json_and_noop() {
    let k = Berth::start();
    k.apply_ok(WEB);
    k.apply_ok(CONF);
    let sts = |p: &str| k.jsonpath(&["sts", "web"], p);

    // Strategic merge (the default): containers merge by name; env and ports of `app` stay.
    let out = k.kubectl_ok(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}}}"#,
    ]);
    assert_eq!(out, "statefulset.apps/web patched\n");
    assert_eq!(sts("{.spec.template.spec.containers[*].name}"), "app side");
    assert_eq!(
        sts("{.spec.template.spec.containers[*].image}"),
        "nginx:1.27 busybox"
    );
    assert_eq!(
        sts(
            "{.spec.template.spec.containers[0].env[0].name}={.spec.template.spec.containers[0].env[0].value}"
        ),
        "MODE=primary"
    );
    assert_eq!(
        sts("{.spec.template.spec.containers[0].ports[0].containerPort}"),
        "80"
    );
    assert_eq!(sts("{.metadata.generation}"), "2");

    // env merges by name too: add one variable, the existing one stays.
    k.kubectl_ok(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"EXTRA","value":"x"}]}]}}}}"#,
    ]);
    assert_eq!(
        sts("{.spec.template.spec.containers[0].env[*].name}"),
        "EXTRA MODE"
    );

    // $patch: delete removes one list element by its merge key.
    k.kubectl_ok(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}"#,
    ]);
    assert_eq!(sts("{.spec.template.spec.containers[*].name}"), "app");

    // JSON merge patch replaces lists and deletes keys with null.
    assert_eq!(
        k.kubectl_ok(&[
            "patch",
            "cm",
            "conf",
            "--type=merge",
            "-p",
            r#"{"data":{"a":null,"c":"3"}}"#
        ]),
        "configmap/conf patched\n"
    );
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.data}"), r#"{"b":"2","c":"3"}"#);

    // JSON patch (RFC 6902).
    assert_eq!(
        k.kubectl_ok(&[
            "patch",
            "sts",
            "web",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#
        ]),
        "statefulset.apps/web patched\n"
    );
    assert_eq!(sts("{.spec.replicas}"), "4");
    k.kubectl_ok(&[
        "patch",
        "cm",
        "conf",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/data/d","value":"4"},{"op":"remove","path":"/data/b"}]"#,
    ]);
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.data}"), r#"{"c":"3","d":"4"}"#);
    // A failing `test` op rejects the whole patch.
    let out = k.kubectl_fails(&[
        "patch",
        "cm",
        "conf",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/data/c","value":"nope"},{"op":"add","path":"/data/e","value":"5"}]"#,
    ]);
    assert!(!out.stderr.is_empty(), "{out:?}");
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.data}"), r#"{"c":"3","d":"4"}"#);
    // Kubernetes answers a JSON patch that fails to apply with 422 Invalid.
    let r = k.api().request(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/conf",
        Some("application/json-patch+json"),
        Some(br#"[{"op":"test","path":"/data/c","value":"nope"}]"#),
        true,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["reason"], "Invalid", "{}", r.body);

    // A patch that changes nothing is reported as such and does not bump resourceVersion.
    let rv = k.jsonpath(&["cm", "conf"], "{.metadata.resourceVersion}");
    assert_eq!(
        k.kubectl_ok(&[
            "patch",
            "cm",
            "conf",
            "--type=merge",
            "-p",
            r#"{"data":{"c":"3"}}"#
        ]),
        "configmap/conf patched (no change)\n"
    );
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.metadata.resourceVersion}"), rv);

    // Invalid results are rejected by validation like any update.
    let out = k.kubectl_fails(&[
        "patch",
        "sts",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":-2}}"#,
    ]);
    assert_eq!(
        out.stderr.trim(),
        r#"The StatefulSet "web" is invalid: spec.replicas: Invalid value: -2: must be greater than or equal to 0"#
    );
    assert_eq!(sts("{.spec.replicas}"), "4");
}

#[test]
fn replace_with_stale_resource_version_conflicts() {
    let k = Berth::start();
    k.apply_ok(CONF);
    let stale = k.kubectl_ok(&["get", "cm", "conf", "-o", "yaml"]);
    let path = k.write_file("stale.yaml", &stale.replace("b: \"2\"", "b: \"22\""));
    // Someone else writes in between.
    k.kubectl_ok(&["label", "cm", "conf", "touched=later"]);
    let file = path.to_str().unwrap();
    let out = k.kubectl_fails(&["replace", "-f", file]);
    assert_eq!(
        out.stderr.trim(),
        format!(
            r#"Error from server (Conflict): error when replacing "{file}": Operation cannot be fulfilled on configmaps "conf": the object has been modified; please apply your changes to the latest version and try again"#
        )
    );
    assert_eq!(
        k.jsonpath(&["cm", "conf"], "{.data.b}"),
        "2",
        "the stale write must not land"
    );

    // With the current resourceVersion the replace succeeds and drops the label it did not carry.
    let fresh = k
        .kubectl_ok(&["get", "cm", "conf", "-o", "yaml"])
        .replace("b: \"2\"", "b: \"22\"");
    let path = k.write_file("fresh.yaml", &fresh.replace("    touched: later\n", ""));
    assert_eq!(
        k.kubectl_ok(&["replace", "-f", path.to_str().unwrap()]),
        "configmap/conf replaced\n"
    );
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.data.b}"), "22");
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.metadata.labels}"), "");
}
