//! `kubectl apply` (client- and server-side), `create -f` and the generators: created /
//! unchanged / configured, validation and strict field validation.

use crate::harness::Berth;

/// A headless Service and a StatefulSet without volumeClaimTemplates (whose re-apply is a no-op).
pub const WEB: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  serviceName: web
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        env:
        - {name: MODE, value: primary}
        ports:
        - {name: http, containerPort: 80}
      - name: side
        image: busybox
"#;

const CONF: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
  labels: {app: web}
data:
  a: "1"
  b: "2"
"#;

#[test]
fn apply_creates_then_unchanged_then_configured() {
    let k = Berth::start();
    assert_eq!(
        k.apply_ok(WEB),
        "service/web created\nstatefulset.apps/web created\n"
    );
    assert_eq!(k.apply_ok(CONF), "configmap/conf created\n");
    let rv_sts = k.jsonpath(&["sts", "web"], "{.metadata.resourceVersion}");
    let rv_cm = k.jsonpath(&["cm", "conf"], "{.metadata.resourceVersion}");
    assert_eq!(k.jsonpath(&["sts", "web"], "{.metadata.generation}"), "1");

    // Same manifests again: kubectl computes an empty patch and sends nothing.
    assert_eq!(
        k.apply_ok(WEB),
        "service/web unchanged\nstatefulset.apps/web unchanged\n"
    );
    assert_eq!(k.apply_ok(CONF), "configmap/conf unchanged\n");
    // The StatefulSet controller keeps writing the set's status, so only the generation
    // shows that no spec change was sent; the ConfigMap has no writer but kubectl.
    assert_eq!(k.jsonpath(&["sts", "web"], "{.metadata.generation}"), "1");
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.metadata.resourceVersion}"), rv_cm);

    // Edited StatefulSet: replicas and one container's image (a strategic merge patch by name).
    let edited = WEB
        .replace("replicas: 2", "replicas: 3")
        .replace("nginx:1.25", "nginx:1.26");
    assert_eq!(
        k.apply_ok(&edited),
        "service/web unchanged\nstatefulset.apps/web configured\n"
    );
    assert_eq!(k.jsonpath(&["sts", "web"], "{.spec.replicas}"), "3");
    assert_eq!(
        k.jsonpath(&["sts", "web"], "{.spec.template.spec.containers[*].image}"),
        "nginx:1.26 busybox"
    );
    // Fields the patch did not mention survive (merge by container name, not list replacement).
    assert_eq!(
        k.jsonpath(
            &["sts", "web"],
            "{.spec.template.spec.containers[0].env[0].value}"
        ),
        "primary"
    );
    assert_eq!(
        k.jsonpath(
            &["sts", "web"],
            "{.spec.template.spec.containers[0].ports[0].containerPort}"
        ),
        "80"
    );
    assert_eq!(k.jsonpath(&["sts", "web"], "{.metadata.generation}"), "2");
    let rv_after: u64 = k
        .jsonpath(&["sts", "web"], "{.metadata.resourceVersion}")
        .parse()
        .unwrap();
    assert!(rv_after > rv_sts.parse::<u64>().unwrap());

    // Edited ConfigMap: a changed value, a new key, and a key dropped from the manifest.
    let edited = CONF
        .replace("a: \"1\"", "a: \"10\"")
        .replace("b: \"2\"", "c: \"3\"");
    assert_eq!(k.apply_ok(&edited), "configmap/conf configured\n");
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.data}"), r#"{"a":"10","c":"3"}"#);
    assert_eq!(k.apply_ok(&edited), "configmap/conf unchanged\n");
}

#[test]
fn apply_rejects_negative_replicas_with_kubernetes_message() {
    let k = Berth::start();
    let bad = WEB.replace("replicas: 2", "replicas: -1");
    let out = k.apply_yaml(&bad);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stdout, "service/web created\n");
    assert_eq!(
        out.stderr.trim(),
        r#"The StatefulSet "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#
    );
    assert!(
        k.is_gone(&["sts", "web"]),
        "an invalid StatefulSet must not be stored"
    );

    // `create -f` renders the same 422 as "Error from server (Invalid)".
    let out = k.kubectl_stdin(&["create", "-f", "-"], &bad);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            r#"Error from server (Invalid): error when creating "STDIN": StatefulSet.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn apply_rejects_selector_not_matching_template_labels() {
    let k = Berth::start();
    let bad = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sel}
spec:
  serviceName: sel
  selector: {matchLabels: {app: sel}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers: [{name: c, image: busybox}]
"#;
    let out = k.apply_yaml(bad);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        r#"The StatefulSet "sel" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`"#
    );
    assert!(k.is_gone(&["sts", "sel"]));
}

#[test]
fn apply_rejects_unknown_fields_strictly() {
    let k = Berth::start();
    let with_foo = WEB
        .split("---")
        .nth(1)
        .unwrap()
        .replace("  replicas: 2", "  foo: bar\n  replicas: 2");

    // Create path: POST ?fieldValidation=Strict → 400 BadRequest.
    let out = k.apply_yaml(&with_foo);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (BadRequest): error when creating "STDIN": StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.foo""#
    );
    assert!(k.is_gone(&["sts", "web"]));

    // Patch path (object exists): PATCH ?fieldValidation=Strict → 422 naming the field, object unchanged.
    k.apply_ok(WEB);
    // The StatefulSet controller writes status meanwhile, so the resourceVersion may move;
    // the generation moves only when the spec changes.
    let generation = k.jsonpath(&["sts", "web"], "{.metadata.generation}");
    let out = k.apply_yaml(&with_foo.replace("replicas: 2", "replicas: 4"));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains(r#"strict decoding error: unknown field "spec.foo""#),
        "{}",
        out.stderr
    );
    assert_eq!(k.jsonpath(&["sts", "web"], "{.metadata.generation}"), generation);
    assert_eq!(k.jsonpath(&["sts", "web"], "{.spec.replicas}"), "2");

    // --validate=warn → fieldValidation=Warn: stored without the field, warning printed.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warned}\ndata: {a: b}\nfoo: 1\n";
    let out = k.kubectl_stdin(&["apply", "--validate=warn", "-f", "-"], cm);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "configmap/warned created\n");
    assert!(
        out.stderr.contains(r#"Warning: unknown field "foo""#),
        "{}",
        out.stderr
    );

    // --validate=false → fieldValidation=Ignore: silently dropped.
    let out = k.kubectl_stdin(
        &["apply", "--validate=false", "-f", "-"],
        &cm.replace("warned", "ignored"),
    );
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "configmap/ignored created\n");
    assert!(!out.stderr.contains("unknown field"), "{}", out.stderr);
    let stored = k.get_json(&["cm", "ignored"]);
    assert!(
        stored.get("foo").is_none(),
        "unknown field was persisted: {stored}"
    );
}

#[test]
fn apply_server_side_and_dry_run() {
    let k = Berth::start();
    let out = k.kubectl_stdin(&["apply", "--server-side", "-f", "-"], CONF);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "configmap/conf serverside-applied\n");
    assert_eq!(k.jsonpath(&["cm", "conf"], "{.data.b}"), "2");
    let managers = k.jsonpath(
        &["cm", "conf", "--show-managed-fields"],
        "{.metadata.managedFields[*].manager}",
    );
    assert!(
        managers.split(' ').any(|m| m == "kubectl"),
        "managedFields managers: {managers}"
    );
    let ops = k.jsonpath(
        &["cm", "conf", "--show-managed-fields"],
        "{.metadata.managedFields[*].operation}",
    );
    assert!(
        ops.split(' ').any(|o| o == "Apply"),
        "managedFields operations: {ops}"
    );

    // Server dry run: reported as created, nothing stored.
    let other = CONF.replace("name: conf", "name: dry");
    let out = k.kubectl_stdin(&["apply", "--dry-run=server", "-f", "-"], &other);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "configmap/dry created (server dry run)\n");
    assert!(k.is_gone(&["cm", "dry"]), "a dry-run create must not persist");
}

#[test]
fn create_from_file_reports_already_exists() {
    let k = Berth::start();
    let out = k.kubectl_stdin(&["create", "-f", "-"], CONF);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "configmap/conf created\n");
    let out = k.kubectl_stdin(&["create", "-f", "-"], CONF);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (AlreadyExists): error when creating "STDIN": configmaps "conf" already exists"#
    );
}

/// `kubectl create configmap|namespace` use client-go's typed clients, which send protobuf
/// request bodies in kubectl 1.32.
#[test]
fn create_generators_configmap_and_namespace() {
    let k = Berth::start();
    let out = k.kubectl(&[
        "create",
        "configmap",
        "gen",
        "--from-literal=a=b",
        "--from-literal=c=d",
    ]);
    assert!(out.success(), "kubectl create configmap: {out:?}");
    assert_eq!(out.stdout, "configmap/gen created\n");
    assert_eq!(k.jsonpath(&["cm", "gen"], "{.data}"), r#"{"a":"b","c":"d"}"#);

    let out = k.kubectl(&["create", "namespace", "gen"]);
    assert!(out.success(), "kubectl create namespace: {out:?}");
    assert_eq!(out.stdout, "namespace/gen created\n");
    assert_eq!(k.jsonpath(&["ns", "gen"], "{.status.phase}"), "Active");
}
