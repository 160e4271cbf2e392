//! Stable network identity end to end: a headless Service in front of a 3-replica
//! StatefulSet gets an Endpoints object (hostnames `web-0..2`) and an EndpointSlice from the
//! endpoint controllers; `kubectl get endpoints|endpointslices` print them; a pod held not
//! ready moves to `notReadyAddresses`, and `publishNotReadyAddresses` brings it back.
//!
//! The simulated runtime gives pods IPs `10.244.x.y` and makes them Ready at once unless
//! the annotation `sim.berth.dev/ready` is `"false"`.

use crate::harness::{Berth, EVENTUALLY, table, wait_for, wait_for_value};
use serde_json::Value;

const MANIFEST: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {tier: front}
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicas: 3
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
        ports:
        - {name: http, containerPort: 8080}
";

/// (ip, hostname, pod name) of each entry of an Endpoints address list, sorted by pod name.
fn addresses(ep: &Value, key: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = ep["subsets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|ss| ss[key].as_array().cloned().unwrap_or_default())
        .map(|a| {
            (
                a["ip"].as_str().unwrap_or("").to_string(),
                a["hostname"].as_str().unwrap_or("").to_string(),
                a["targetRef"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.2.cmp(&b.2));
    out
}

fn endpoints(b: &Berth) -> Option<Value> {
    let out = b.kubectl(&["get", "endpoints", "web", "-o", "json"]);
    if !out.success() {
        return None;
    }
    serde_json::from_str(&out.stdout).ok()
}

fn slices(b: &Berth) -> Vec<Value> {
    b.get_json(&["endpointslices", "-l", "kubernetes.io/service-name=web"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The slice endpoint of `pod`: (ready, serving, terminating).
fn conditions(b: &Berth, pod: &str) -> Option<(bool, bool, bool)> {
    slices(b).iter().find_map(|s| {
        s["endpoints"].as_array()?.iter().find_map(|e| {
            (e["targetRef"]["name"] == pod).then(|| {
                let c = &e["conditions"];
                (
                    c["ready"].as_bool().unwrap_or(false),
                    c["serving"].as_bool().unwrap_or(false),
                    c["terminating"].as_bool().unwrap_or(false),
                )
            })
        })
    })
}

#[test]
fn headless_service_statefulset_gets_endpoints_and_slices() {
    let b = Berth::start();
    b.apply_ok(MANIFEST);

    // Endpoints: three ready addresses with the pods' hostnames, IPs, nodes and references.
    let ep = wait_for_value("3 ready addresses in endpoints/web", EVENTUALLY, || {
        endpoints(&b).filter(|ep| addresses(ep, "addresses").len() == 3)
    });
    let ready = addresses(&ep, "addresses");
    let hostnames: Vec<&str> = ready.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(hostnames, ["web-0", "web-1", "web-2"], "{ep:#}");
    for (ip, _, pod) in &ready {
        assert!(ip.starts_with("10.244."), "{pod} has IP {ip}");
        let pod_ip = b.jsonpath(&["pod", pod], "{.status.podIP}");
        assert_eq!(ip, &pod_ip);
    }
    let subset = &ep["subsets"][0];
    assert_eq!(subset["ports"][0]["name"], "http");
    assert_eq!(
        subset["ports"][0]["port"], 8080,
        "named targetPort resolved: {ep:#}"
    );
    assert_eq!(subset["ports"][0]["protocol"], "TCP");
    assert!(subset["addresses"][0]["nodeName"].is_string(), "{ep:#}");
    assert_eq!(subset["addresses"][0]["targetRef"]["kind"], "Pod");
    assert_eq!(ep["metadata"]["labels"]["service.kubernetes.io/headless"], "");
    assert_eq!(ep["metadata"]["labels"]["tier"], "front");

    // EndpointSlice: one managed slice owned by the service, endpoints with hostnames.
    let slice = wait_for_value("an EndpointSlice with 3 endpoints", EVENTUALLY, || {
        slices(&b)
            .into_iter()
            .find(|s| s["endpoints"].as_array().is_some_and(|e| e.len() == 3))
    });
    let name = slice["metadata"]["name"].as_str().unwrap_or("").to_string();
    assert!(
        name.starts_with("web-") && name.len() == "web-".len() + 5,
        "generated name {name}"
    );
    assert_eq!(slice["addressType"], "IPv4");
    let labels = &slice["metadata"]["labels"];
    assert_eq!(
        labels["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(labels["service.kubernetes.io/headless"], "");
    let owner = &slice["metadata"]["ownerReferences"][0];
    assert_eq!(
        (owner["kind"].as_str(), owner["name"].as_str()),
        (Some("Service"), Some("web"))
    );
    assert_eq!(owner["controller"], true);
    let mut hosts: Vec<&str> = slice["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["hostname"].as_str())
        .collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["web-0", "web-1", "web-2"]);
    assert_eq!(slice["ports"][0]["port"], 8080);
    assert_eq!(
        slice.pointer("/endpoints/0/conditions/ready"),
        Some(&Value::Bool(true))
    );

    // kubectl prints both.
    let rows = table(&b.kubectl_ok(&["get", "endpointslices"]));
    assert_eq!(rows[0], ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]);
    let row = rows.iter().find(|r| r[0] == name).expect("slice row");
    assert_eq!(row[1], "IPv4");
    assert_eq!(row[2], "8080");
    let mut ips: Vec<&str> = ready.iter().map(|a| a.0.as_str()).collect();
    ips.sort_unstable();
    let mut printed: Vec<&str> = row[3].split(',').collect();
    printed.sort_unstable();
    assert_eq!(printed, ips);
    let rows = table(&b.kubectl_ok(&["get", "endpoints", "web"]));
    assert_eq!(rows[0], ["NAME", "ENDPOINTS", "AGE"]);
    assert_eq!(rows[1][0], "web");
    assert!(rows[1][1].contains(":8080"), "{rows:?}");

    // A pod held not ready moves to notReadyAddresses; its slice endpoint is not ready.
    b.kubectl_ok(&[
        "annotate",
        "pod",
        "web-1",
        "sim.berth.dev/ready=false",
        "--overwrite",
    ]);
    wait_for("web-1 under notReadyAddresses", EVENTUALLY, || {
        endpoints(&b).is_some_and(|ep| {
            addresses(&ep, "notReadyAddresses")
                .iter()
                .map(|a| a.2.as_str())
                .collect::<Vec<_>>()
                == ["web-1"]
                && addresses(&ep, "addresses").len() == 2
        })
    });
    let ep = endpoints(&b).expect("endpoints");
    assert_eq!(
        addresses(&ep, "notReadyAddresses")[0].1,
        "web-1",
        "hostname kept: {ep:#}"
    );
    wait_for("web-1 not ready in its slice", EVENTUALLY, || {
        conditions(&b, "web-1") == Some((false, false, false))
    });

    // publishNotReadyAddresses publishes it as ready again.
    b.kubectl_ok(&[
        "patch",
        "service",
        "web",
        "-p",
        r#"{"spec":{"publishNotReadyAddresses":true}}"#,
    ]);
    wait_for("all 3 ready with publishNotReadyAddresses", EVENTUALLY, || {
        endpoints(&b).is_some_and(|ep| {
            addresses(&ep, "addresses").len() == 3 && addresses(&ep, "notReadyAddresses").is_empty()
        })
    });
    wait_for("web-1 ready but not serving in its slice", EVENTUALLY, || {
        conditions(&b, "web-1") == Some((true, false, false))
    });
    // The slice was updated in place, not replaced.
    assert_eq!(slices(&b).len(), 1);
    assert_eq!(slices(&b)[0]["metadata"]["name"], name.as_str());

    // Deleting the service deletes its Endpoints and (through the owner reference) its slices.
    b.kubectl_ok(&["delete", "service", "web"]);
    wait_for("endpoints/web deleted", EVENTUALLY, || endpoints(&b).is_none());
    wait_for("slices of web deleted", EVENTUALLY, || slices(&b).is_empty());
}

#[test]
fn runtime_classes_and_slices_are_served_and_explained() {
    let b = Berth::start();
    b.apply_ok("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: gvisor}\nhandler: runsc\n");
    let rows = table(&b.kubectl_ok(&["get", "runtimeclasses"]));
    assert_eq!(rows[0], ["NAME", "HANDLER", "AGE"]);
    assert_eq!(rows[1][..2], ["gvisor", "runsc"]);
    let explain = b.kubectl_ok(&["explain", "endpointslices.addressType"]);
    assert!(
        explain.contains("addressType specifies the type of address"),
        "{explain}"
    );
    let explain = b.kubectl_ok(&["explain", "runtimeclass.handler"]);
    assert!(
        explain.contains("handler specifies the underlying runtime"),
        "{explain}"
    );
    let out = b.kubectl_fails(&["patch", "runtimeclass", "gvisor", "-p", r#"{"handler":"kata"}"#]);
    assert!(
        out.stderr
            .contains("handler: Invalid value: \"kata\": field is immutable"),
        "{}",
        out.stderr
    );
}
