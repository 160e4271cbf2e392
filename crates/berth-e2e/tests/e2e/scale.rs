//! `kubectl scale` through the `statefulsets/scale` subresource.

use crate::apply::WEB;
use crate::harness::Berth;

#[test]
fn scale_statefulset() {
    let k = Berth::start();
    k.apply_ok(WEB);
    assert_eq!(
        k.kubectl_ok(&["scale", "sts", "web", "--replicas=5"]),
        "statefulset.apps/web scaled\n"
    );
    assert_eq!(k.jsonpath(&["sts", "web"], "{.spec.replicas}"), "5");
    assert_eq!(
        k.jsonpath(&["sts", "web"], "{.metadata.generation}"),
        "2",
        "a spec change bumps generation"
    );

    // The Scale object itself (autoscaling/v1) with the selector in string form.
    let scale = k
        .api()
        .get("/apis/apps/v1/namespaces/default/statefulsets/web/scale");
    assert_eq!(scale.status, 200, "{}", scale.body);
    let v = scale.json();
    assert_eq!(v["kind"], "Scale");
    assert_eq!(v["apiVersion"], "autoscaling/v1");
    assert_eq!(v["metadata"]["name"], "web");
    assert_eq!(
        v["metadata"]["uid"],
        k.jsonpath(&["sts", "web"], "{.metadata.uid}").as_str()
    );
    assert_eq!(v["spec"]["replicas"], 5);
    assert_eq!(v["status"]["selector"], "app=web");

    // --current-replicas is a precondition checked against the Scale (then PUT with its resourceVersion).
    let out = k.kubectl_fails(&["scale", "sts", "web", "--replicas=7", "--current-replicas=3"]);
    assert_eq!(out.stderr.trim(), "error: Expected replicas to be 3, was 5");
    assert_eq!(k.jsonpath(&["sts", "web"], "{.spec.replicas}"), "5");
    assert_eq!(
        k.kubectl_ok(&["scale", "sts", "web", "--replicas=7", "--current-replicas=5"]),
        "statefulset.apps/web scaled\n"
    );
    assert_eq!(k.jsonpath(&["sts", "web"], "{.spec.replicas}"), "7");

    // --resource-version must match too.
    let out = k.kubectl_fails(&["scale", "sts", "web", "--replicas=1", "--resource-version=1"]);
    assert!(
        out.stderr.contains("Conflict") || out.stderr.contains("Expected resource version"),
        "{}",
        out.stderr
    );
    assert_eq!(k.jsonpath(&["sts", "web"], "{.spec.replicas}"), "7");

    // Scaling to zero is allowed.
    assert_eq!(
        k.kubectl_ok(&["scale", "sts", "web", "--replicas=0"]),
        "statefulset.apps/web scaled\n"
    );
    assert_eq!(k.jsonpath(&["sts", "web"], "{.spec.replicas}"), "0");

    let out = k.kubectl_fails(&["scale", "sts", "nope", "--replicas=1"]);
    assert_eq!(
        out.stderr.trim(),
        // kubectl 1.32 wraps the server's NotFound in its own message.
        r#"error: no objects passed to scale statefulsets.apps "nope" not found"#
    );
}
