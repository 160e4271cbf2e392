//! Errors as kubectl and raw HTTP clients see them: NotFound, authentication, malformed and
//! unsupported bodies, oversized requests. Every error is a `metav1.Status`.

use crate::harness::Berth;
use serde_json::{Value, json};

/// Asserts a Failure `Status` envelope with `code` and `reason`; returns it.
fn status(body: &Value, code: u16, reason: &str) -> Value {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1", "{body}");
    assert_eq!(body["status"], "Failure", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
    body.clone()
}

#[test]
fn not_found_errors() {
    let k = Berth::start();
    let out = k.kubectl_fails(&["get", "sts", "nope"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (NotFound): statefulsets.apps "nope" not found"#
    );
    let out = k.kubectl_fails(&["get", "cm", "nope", "-o", "yaml"]);
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (NotFound): configmaps "nope" not found"#
    );

    let r = k.api().get("/apis/apps/v1/namespaces/default/statefulsets/nope");
    assert_eq!(r.status, 404);
    let v = status(&r.json(), 404, "NotFound");
    assert_eq!(v["message"], r#"statefulsets.apps "nope" not found"#);
    assert_eq!(
        v["details"],
        json!({"name": "nope", "group": "apps", "kind": "statefulsets"})
    );

    // Unknown paths are 404 Status too.
    let r = k.api().get("/apis/nosuch.example.com/v1/things");
    assert_eq!(r.status, 404, "{}", r.body);
    status(&r.json(), 404, "NotFound");

    // Kubernetes does not look at the namespace on reads: a list in a missing namespace is
    // empty, and a get by name answers 404 for the object. kubectl 1.32 then asks for the
    // namespace itself and, finding it missing too, reports the namespace.
    let out = k.kubectl(&["get", "cm", "-n", "no-such-ns"]);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stderr.trim(), "No resources found in no-such-ns namespace.");
    let out = k.kubectl_fails(&["get", "cm", "x", "-n", "no-such-ns"]);
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (NotFound): namespaces "no-such-ns" not found"#
    );
    let r = k.api().get("/api/v1/namespaces/no-such-ns/configmaps/x");
    let v = status(&r.json(), 404, "NotFound");
    assert_eq!(v["message"], r#"configmaps "x" not found"#);
}

#[test]
fn authentication() {
    let k = Berth::start();
    let api = k.api();
    // No credentials.
    let r = api.request("GET", "/api/v1/namespaces", None, None, false);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})
    );
    // A wrong token.
    let mut cmd = std::process::Command::new("curl");
    cmd.args([
        "-sk",
        "-H",
        "Authorization: Bearer not-the-token",
        "-w",
        "\n%{http_code}",
    ])
    .arg(api.url("/api/v1/namespaces"));
    let out = crate::harness::run_process(cmd, None, std::time::Duration::from_secs(30));
    assert!(out.stdout.ends_with("\n401"), "{out:?}");
    assert!(out.stdout.contains(r#""reason":"Unauthorized""#), "{out:?}");

    // /version answers without credentials (the kubectl dispatcher asks it first).
    let r = api.request("GET", "/version", None, None, false);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["gitVersion"], "v1.32.4+berth");

    // kubectl with a bad token (discovery cache warmed first, so the request that fails is the
    // GET of the pods; a cold cache fails in discovery with client-go's own wording).
    k.kubectl_ok(&["get", "pods"]);
    let bad = std::fs::read_to_string(k.kubeconfig())
        .unwrap()
        .replace(api.token(), "not-the-token");
    let path = k.write_file("bad-kubeconfig", &bad);
    let mut cmd = k.kubectl_command(&["get", "pods"]);
    cmd.env("KUBECONFIG", &path);
    let out = crate::harness::run_process(cmd, None, std::time::Duration::from_secs(30));
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "error: You must be logged in to the server (Unauthorized)"
    );
}

#[test]
fn malformed_and_unsupported_bodies() {
    let k = Berth::start();
    let api = k.api();
    let path = "/api/v1/namespaces/default/configmaps";

    let r = api.request("POST", path, Some("application/json"), Some(b"{bad"), true);
    assert_eq!(r.status, 400, "{}", r.body);
    let v = status(&r.json(), 400, "BadRequest");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("couldn't get version/kind; json parse error: "),
        "{v}"
    );

    let r = api.request("POST", path, Some("text/plain"), Some(b"name: x"), true);
    assert_eq!(r.status, 415, "{}", r.body);
    let v = status(&r.json(), 415, "UnsupportedMediaType");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml"),
        "{v}"
    );

    // A body without Content-Type is JSON (the Python client and `kubectl scale` send none).
    let r = api.request(
        "POST",
        path,
        None,
        Some(br#"{"metadata":{"name":"untyped"},"data":{"a":"b"}}"#),
        true,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["kind"], "ConfigMap", "kind is filled in from the URL: {v}");
    assert_eq!(v["apiVersion"], "v1", "{v}");
    // YAML bodies are accepted.
    let r = api.request(
        "POST",
        path,
        Some("application/yaml"),
        Some(b"metadata:\n  name: yamled\ndata:\n  a: b\n"),
        true,
    );
    assert_eq!(r.status, 201, "{}", r.body);

    // A kind that does not match the URL.
    let r = api.send_json(
        "POST",
        path,
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    status(&r.json(), 400, "BadRequest");

    // Name in the body differs from the URL on update.
    let r = api.send_json(
        "PUT",
        "/api/v1/namespaces/default/configmaps/untyped",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let v = status(&r.json(), 400, "BadRequest");
    assert_eq!(
        v["message"],
        "the name of the object (other) does not match the name on the URL (untyped)"
    );
}

#[test]
fn oversized_request_body_is_rejected() {
    let k = Berth::start();
    let big = "x".repeat(4 * 1024 * 1024);
    let body =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"}, "data": {"big": big}});
    // kubectl (Go's HTTP/2 client) prints the 413 Status.
    let file = k.write_file("huge.json", &body.to_string());
    let out = k.kubectl_fails(&["create", "-f", file.to_str().unwrap()]);
    assert_eq!(
        out.stderr.trim(),
        format!(
            r#"Error from server (RequestEntityTooLarge): error when creating "{}": Request entity too large: limit is 3145728"#,
            file.display()
        )
    );
    // The raw answer (over HTTP/1.1: curl 7.88 reports the HTTP/2 stream reset that follows
    // an early answer as a transfer error).
    let r = k
        .api()
        .http1()
        .send_json("POST", "/api/v1/namespaces/default/configmaps", &body);
    assert_eq!(
        r.status,
        413,
        "{} {}",
        r.curl_stderr,
        &r.body[..r.body.len().min(500)]
    );
    let v = status(&r.json(), 413, "RequestEntityTooLarge");
    assert_eq!(v["message"], "Request entity too large: limit is 3145728");
    assert!(k.is_gone(&["cm", "huge"]));

    // A 512 KiB ConfigMap, well under every limit, is accepted.
    let ok = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"big": "y".repeat(512 * 1024)}});
    let r = k
        .api()
        .send_json("POST", "/api/v1/namespaces/default/configmaps", &ok);
    assert_eq!(r.status, 201, "{}", &r.body[..r.body.len().min(500)]);
    assert_eq!(k.jsonpath(&["cm", "big"], "{.data.big}").len(), 512 * 1024);
}
