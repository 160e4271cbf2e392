//! Kubernetes' generic-registry semantics, checked through the router.

use crate::support::Api;
use serde_json::{Value, json};

fn rv(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_no_op_update_does_not_bump_the_resource_version() {
    let api = Api::new().await;
    let cm = api
        .post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata":{"name":"a"},"data":{"k":"v"}}),
        )
        .await;
    assert_eq!(cm.status, 201);
    let again = api
        .call(
            "PUT",
            "/api/v1/namespaces/default/configmaps/a",
            Some(&cm.body.to_string()),
            None,
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(rv(&again.body), rv(&cm.body));
    let patched = api
        .call(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/a",
            Some(r#"{"data":{"k":"v"}}"#),
            Some("application/merge-patch+json"),
        )
        .await;
    assert_eq!(rv(&patched.body), rv(&cm.body));
}

fn sts(name: &str) -> Value {
    json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":name},
           "spec":{"replicas":1,"serviceName":name,"selector":{"matchLabels":{"app":name}},
                   "template":{"metadata":{"labels":{"app":name}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})
}

#[tokio::test]
async fn generation_moves_only_with_the_spec() {
    let api = Api::new().await;
    let base = "/apis/apps/v1/namespaces/default/statefulsets/web";
    let created = api
        .post("/apis/apps/v1/namespaces/default/statefulsets", &sts("web"))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["generation"], 1);
    assert!(created.body.get("status").is_none_or(|s| s == &json!({})));
    let labelled = api
        .call(
            "PATCH",
            base,
            Some(r#"{"metadata":{"labels":{"x":"y"}}}"#),
            Some("application/merge-patch+json"),
        )
        .await;
    assert_eq!(labelled.body["metadata"]["generation"], 1);
    let scaled = api
        .call(
            "PATCH",
            base,
            Some(r#"{"spec":{"replicas":3}}"#),
            Some("application/merge-patch+json"),
        )
        .await;
    assert_eq!(scaled.body["metadata"]["generation"], 2);
    // The status subresource changes status only; the main resource never changes status.
    let status = api
        .call(
            "PATCH",
            &format!("{base}/status"),
            Some(r#"{"spec":{"replicas":9},"status":{"replicas":3,"observedGeneration":2}}"#),
            Some("application/merge-patch+json"),
        )
        .await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.body["spec"]["replicas"], 3);
    assert_eq!(status.body["status"]["replicas"], 3);
    assert_eq!(status.body["metadata"]["generation"], 2);
    let main = api
        .call(
            "PATCH",
            base,
            Some(r#"{"status":{"replicas":7}}"#),
            Some("application/merge-patch+json"),
        )
        .await;
    assert_eq!(main.body["status"]["replicas"], 3);
}

#[tokio::test]
async fn dry_run_create_stores_nothing() {
    let api = Api::new().await;
    let before = api.get("/api/v1/namespaces/default/configmaps").await;
    let dry = api
        .call(
            "POST",
            "/api/v1/namespaces/default/configmaps?dryRun=All",
            Some(r#"{"metadata":{"name":"d"}}"#),
            None,
        )
        .await;
    assert_eq!(dry.status, 201);
    assert!(dry.body["metadata"]["uid"].is_string());
    assert_eq!(
        api.get("/api/v1/namespaces/default/configmaps/d").await.status,
        404
    );
    let after = api.get("/api/v1/namespaces/default/configmaps").await;
    assert_eq!(rv(&after.body), rv(&before.body));
}

#[tokio::test]
async fn stale_resource_version_conflicts() {
    let api = Api::new().await;
    let cm = api
        .post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata":{"name":"c"}}),
        )
        .await;
    let mut first = cm.body.clone();
    first["data"] = json!({"a": "1"});
    assert_eq!(
        api.call(
            "PUT",
            "/api/v1/namespaces/default/configmaps/c",
            Some(&first.to_string()),
            None
        )
        .await
        .status,
        200
    );
    let mut stale = cm.body.clone();
    stale["data"] = json!({"a": "2"});
    let r = api
        .call(
            "PUT",
            "/api/v1/namespaces/default/configmaps/c",
            Some(&stale.to_string()),
            None,
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["reason"], "Conflict");
    assert_eq!(
        r.body["message"],
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
    );
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let api = Api::new().await;
    api.post(
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata":{"name":"f","finalizers":["example.com/hold"]}}),
    )
    .await;
    let del = api
        .call("DELETE", "/api/v1/namespaces/default/configmaps/f", None, None)
        .await;
    assert_eq!(del.status, 200);
    assert!(del.body["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        api.get("/api/v1/namespaces/default/configmaps/f").await.status,
        200
    );
    let released = api
        .call(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/f",
            Some(r#"{"metadata":{"finalizers":null}}"#),
            Some("application/merge-patch+json"),
        )
        .await;
    assert_eq!(released.status, 200);
    assert_eq!(
        api.get("/api/v1/namespaces/default/configmaps/f").await.status,
        404
    );
}

#[tokio::test]
async fn pages_follow_one_snapshot() {
    let api = Api::new().await;
    for i in 0..5 {
        api.post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata":{"name":format!("p{i}")}}),
        )
        .await;
    }
    let first = api.get("/api/v1/namespaces/default/configmaps?limit=2").await;
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&first.body), ["p0", "p1"]);
    assert_eq!(first.body["metadata"]["remainingItemCount"], 3);
    // Created after the first page: not part of this list.
    api.post(
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata":{"name":"p2a"}}),
    )
    .await;
    let token = first.body["metadata"]["continue"].as_str().unwrap().to_string();
    let second = api
        .get(&format!(
            "/api/v1/namespaces/default/configmaps?limit=2&continue={token}"
        ))
        .await;
    assert_eq!(names(&second.body), ["p2", "p3"]);
    let token = second.body["metadata"]["continue"].as_str().unwrap().to_string();
    let third = api
        .get(&format!(
            "/api/v1/namespaces/default/configmaps?limit=2&continue={token}"
        ))
        .await;
    assert_eq!(names(&third.body), ["p4"]);
    assert!(third.body["metadata"].get("continue").is_none());
}

#[tokio::test]
async fn watching_from_a_compacted_version_is_410_expired() {
    let api = Api::with_history(5).await;
    for i in 0..20 {
        api.post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata":{"name":format!("w{i}")}}),
        )
        .await;
    }
    let w = api
        .get("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2&timeoutSeconds=1")
        .await;
    assert_eq!(w.status, 200);
    let line: Value = serde_json::from_slice(w.raw.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["type"], "ERROR");
    assert_eq!(line["object"]["code"], 410);
    assert_eq!(line["object"]["reason"], "Expired");
}

#[tokio::test]
async fn label_selected_watches_see_objects_leave_and_enter() {
    let api = Api::new().await;
    let list = api.get("/api/v1/namespaces/default/configmaps").await;
    let from = rv(&list.body);
    api.post(
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata":{"name":"s","labels":{"app":"x"}}}),
    )
    .await;
    let unlabel = r#"{"metadata":{"labels":{"app":"y"}}}"#;
    api.call(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/s",
        Some(unlabel),
        Some("application/merge-patch+json"),
    )
    .await;
    let relabel = r#"{"metadata":{"labels":{"app":"x"}}}"#;
    api.call(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/s",
        Some(relabel),
        Some("application/merge-patch+json"),
    )
    .await;
    let w = api
        .get(&format!("/api/v1/namespaces/default/configmaps?watch=1&labelSelector=app%3Dx&resourceVersion={from}&timeoutSeconds=1"))
        .await;
    let types: Vec<String> = w
        .raw
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_slice::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, ["ADDED", "DELETED", "ADDED"]);
}

#[tokio::test]
async fn generate_name_gives_unique_names() {
    let api = Api::new().await;
    let a = api
        .post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata":{"generateName":"gen-"}}),
        )
        .await;
    let b = api
        .post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata":{"generateName":"gen-"}}),
        )
        .await;
    let (na, nb) = (
        a.body["metadata"]["name"].as_str().unwrap(),
        b.body["metadata"]["name"].as_str().unwrap(),
    );
    assert!(na.starts_with("gen-") && na.len() == 9, "{na}");
    assert_ne!(na, nb);
}
