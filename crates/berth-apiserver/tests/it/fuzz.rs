//! Hostile input never hurts: random methods, paths, media types and bodies always get an
//! HTTP answer, and every error answer is a `metav1.Status` carrying the same code.

use crate::support::Api;
use axum::body::Body;
use http::Request;
use proptest::prelude::*;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("api".to_string()),
        Just("apis".to_string()),
        Just("v1".to_string()),
        Just("apps".to_string()),
        Just("namespaces".to_string()),
        Just("default".to_string()),
        Just("configmaps".to_string()),
        Just("statefulsets".to_string()),
        Just("pods".to_string()),
        Just("status".to_string()),
        Just("scale".to_string()),
        Just("binding".to_string()),
        "[a-z0-9%.-]{0,12}",
    ]
}

fn method() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("PUT"),
        Just("PATCH"),
        Just("DELETE"),
        Just("HEAD"),
        Just("OPTIONS")
    ]
}

fn content_type() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("application/json"),
        Just("application/yaml"),
        Just("application/merge-patch+json"),
        Just("application/json-patch+json"),
        Just("application/strategic-merge-patch+json"),
        Just("application/apply-patch+yaml"),
        Just("application/vnd.kubernetes.protobuf"),
        Just("text/plain"),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        Just(br#"{"metadata":{"name":"x"}}"#.to_vec()),
        Just(br#"{"metadata":{"name":"x"},"spec":{"replicas":"many"}}"#.to_vec()),
        Just(br#"[{"op":"remove","path":"/nope"}]"#.to_vec()),
        Just(br#"{"apiVersion":"v9","kind":"Nope"}"#.to_vec()),
        Just(b"k8s\x00\x0a\x02\x08\x01".to_vec()),
        Just(b"- a\n- b: [".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn every_answer_is_well_formed(
        m in method(),
        segs in proptest::collection::vec(segment(), 0..7),
        ct in content_type(),
        b in body(),
        query in prop_oneof![Just(""), Just("?watch=true&timeoutSeconds=0"), Just("?limit=x"), Just("?dryRun=All"), Just("?fieldSelector=nope%3D1"), Just("?labelSelector=%21%21")],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let api = Api::new().await;
            let uri = format!("/{}{}", segs.join("/"), query);
            let Ok(req) = Request::builder()
                .method(m)
                .uri(&uri)
                .header("authorization", format!("Bearer {}", crate::support::TOKEN))
                .header("content-type", ct)
                .body(Body::from(b.clone()))
            else {
                return;
            };
            let resp = api.send(req).await;
            // HEAD answers carry no body by definition.
            if resp.status >= 400 && m != "HEAD" {
                assert_eq!(resp.body["kind"], "Status", "{m} {uri}: {}", String::from_utf8_lossy(&resp.raw));
                assert_eq!(resp.body["code"], resp.status, "{m} {uri}");
                assert!(resp.status < 500, "{m} {uri} answered {}: {}", resp.status, resp.body);
            }
        });
    }
}
