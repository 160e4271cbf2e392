//! `kubectl get`: server-side tables, wide and label columns, structured output, selectors,
//! chunked lists and all-namespaces listing.

use crate::apply::WEB;
use crate::harness::{Berth, table};

fn configmap(name: &str, namespace: &str, labels: &str, keys: usize) -> String {
    let data: String = (0..keys).map(|i| format!("  k{i}: v{i}\n")).collect();
    let data = if keys == 0 {
        "data: {}\n".to_string()
    } else {
        format!("data:\n{data}")
    };
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels: {{{labels}}}\n{data}"
    )
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")
}

/// An age cell as printed by kubectl (`5s`, `2m3s`, …; a fresh object is seconds old).
fn is_age(cell: &str) -> bool {
    cell.ends_with('s') && cell[..cell.len() - 1].chars().all(|c| c.is_ascii_digit())
}

#[test]
fn get_tables_for_statefulsets_and_configmaps() {
    let k = Berth::start();
    k.apply_ok(WEB);
    k.apply_ok(&configmap("conf", "default", "app: web", 3));

    let rows = table(&k.kubectl_ok(&["get", "sts"]));
    assert_eq!(rows[0], ["NAME", "READY", "AGE"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], "web");
    let (ready, desired) = rows[1][1]
        .split_once('/')
        .unwrap_or_else(|| panic!("READY cell: {rows:?}"));
    assert!(ready.parse::<u32>().is_ok(), "READY cell: {rows:?}");
    assert_eq!(desired, "2", "READY is readyReplicas/spec.replicas: {rows:?}");
    assert!(is_age(&rows[1][2]), "AGE cell: {rows:?}");

    // Priority-1 columns appear only with -o wide.
    let rows = table(&k.kubectl_ok(&["get", "sts", "-o", "wide"]));
    assert_eq!(rows[0], ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]);
    assert_eq!(rows[1][3..], ["app,side", "nginx:1.25,busybox"]);

    let rows = table(&k.kubectl_ok(&["get", "cm"]));
    assert_eq!(rows[0], ["NAME", "DATA", "AGE"]);
    let conf = rows
        .iter()
        .find(|r| r[0] == "conf")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(conf[1], "3");

    // Get by name is a one-row table too; several types print kind-prefixed names.
    let rows = table(&k.kubectl_ok(&["get", "sts", "web"]));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], "web");
    let out = k.kubectl_ok(&["get", "sts,svc", "-l", "app=web"]);
    assert!(
        out.lines().any(|l| l.starts_with("statefulset.apps/web ")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("service/web ")), "{out}");
    let rows = table(&k.kubectl_ok(&["get", "svc", "web"]));
    assert_eq!(
        rows[0],
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    );
    assert_eq!(rows[1][..5], ["web", "ClusterIP", "None", "<none>", "80/TCP"]);

    // -o name
    assert_eq!(
        k.kubectl_ok(&["get", "sts", "-o", "name"]),
        "statefulset.apps/web\n"
    );
}

#[test]
fn get_yaml_shows_server_fields_and_defaults() {
    let k = Berth::start();
    k.apply_ok(WEB);
    let yaml = k.kubectl_ok(&["get", "sts", "web", "-o", "yaml"]);
    let v: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}: {yaml}"));
    assert_eq!(v["apiVersion"].as_str(), Some("apps/v1"));
    assert_eq!(v["kind"].as_str(), Some("StatefulSet"));
    let md = &v["metadata"];
    let uid = md["uid"].as_str().unwrap_or_else(|| panic!("no uid: {yaml}"));
    assert_eq!(uid.len(), 36, "uid is a UUID: {uid}");
    assert_eq!(uid.matches('-').count(), 4, "uid is a UUID: {uid}");
    let rv = md["resourceVersion"]
        .as_str()
        .unwrap_or_else(|| panic!("resourceVersion must be a string: {yaml}"));
    assert!(rv.parse::<u64>().is_ok(), "resourceVersion: {rv}");
    let ts = md["creationTimestamp"]
        .as_str()
        .unwrap_or_else(|| panic!("no creationTimestamp: {yaml}"));
    assert!(
        ts.len() == 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
        "RFC 3339 seconds: {ts}"
    );
    assert_eq!(md["generation"].as_u64(), Some(1));
    assert_eq!(md["namespace"].as_str(), Some("default"));
    assert!(
        md["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string(),
        "apply records the last-applied annotation: {yaml}"
    );

    let spec = &v["spec"];
    assert_eq!(spec["podManagementPolicy"].as_str(), Some("OrderedReady"));
    assert_eq!(spec["revisionHistoryLimit"].as_u64(), Some(10));
    assert_eq!(spec["updateStrategy"]["type"].as_str(), Some("RollingUpdate"));
    assert_eq!(
        spec["updateStrategy"]["rollingUpdate"]["partition"].as_u64(),
        Some(0)
    );
    assert_eq!(
        spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"].as_str(),
        Some("Retain")
    );
    assert_eq!(
        spec["persistentVolumeClaimRetentionPolicy"]["whenScaled"].as_str(),
        Some("Retain")
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Always"));
    assert_eq!(pod["dnsPolicy"].as_str(), Some("ClusterFirst"));
    assert_eq!(pod["schedulerName"].as_str(), Some("default-scheduler"));
    assert_eq!(pod["terminationGracePeriodSeconds"].as_u64(), Some(30));
    let c = &pod["containers"];
    // imagePullPolicy: IfNotPresent for a tagged image, Always for an untagged (:latest) one.
    assert_eq!(c[0]["imagePullPolicy"].as_str(), Some("IfNotPresent"));
    assert_eq!(c[1]["imagePullPolicy"].as_str(), Some("Always"));
    assert_eq!(
        c[0]["terminationMessagePath"].as_str(),
        Some("/dev/termination-log")
    );
    assert_eq!(c[0]["ports"][0]["protocol"].as_str(), Some("TCP"));

    // The Service gets its defaults too.
    let svc = k.get_json(&["svc", "web"]);
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
    assert_eq!(svc["spec"]["sessionAffinity"], "None");
}

#[test]
fn get_jsonpath_and_show_labels() {
    let k = Berth::start();
    k.apply_ok(WEB);
    assert_eq!(
        k.kubectl_ok(&["get", "sts", "web", "-o", "jsonpath={.spec.replicas}"]),
        "2"
    );
    assert_eq!(
        k.kubectl_ok(&["get", "sts", "-o", "jsonpath={.items[*].metadata.name}"]),
        "web",
        "jsonpath over a list"
    );
    assert_eq!(
        k.jsonpath(
            &["sts", "web"],
            "{.spec.template.spec.containers[?(@.name==\"side\")].image}"
        ),
        "busybox"
    );

    k.apply_ok(&configmap("labelled", "default", "app: web, tier: cache", 1));
    let rows = table(&k.kubectl_ok(&["get", "cm", "labelled", "--show-labels"]));
    assert_eq!(rows[0], ["NAME", "DATA", "AGE", "LABELS"]);
    assert_eq!(rows[1][0], "labelled");
    assert_eq!(rows[1][3], "app=web,tier=cache");
    let rows = table(&k.kubectl_ok(&["get", "cm", "labelled", "-L", "tier"]));
    assert_eq!(rows[0], ["NAME", "DATA", "AGE", "TIER"]);
    assert_eq!(rows[1][3], "cache");
}

#[test]
fn get_filters_by_label_and_field_selectors() {
    let k = Berth::start();
    k.apply_ok(&configmap("a1", "default", "app: a, tier: xa", 1));
    k.apply_ok(&configmap("a2", "default", "app: a, tier: yb", 1));
    k.apply_ok(&configmap("b1", "default", "app: b", 1));
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["get", "cm", "-o", "name"];
        all.extend_from_slice(args);
        k.kubectl_ok(&all)
            .lines()
            .map(|l| l.trim_start_matches("configmap/").to_string())
            .collect()
    };
    assert_eq!(names(&["-l", "app=a"]), ["a1", "a2"]);
    assert_eq!(names(&["-l", "app=a,tier=yb"]), ["a2"]);
    assert!(!names(&["-l", "app!=a"]).contains(&"a1".to_string()));
    assert!(names(&["-l", "app!=a"]).contains(&"b1".to_string()));
    assert_eq!(names(&["-l", "app in (a,b),tier"]), ["a1", "a2"]);
    assert_eq!(names(&["-l", "app,!tier"]), ["b1"]);
    // `notin` also selects objects without the key.
    assert_eq!(names(&["-l", "tier notin (xa)"]), ["a2", "b1"]);
    assert_eq!(names(&["--field-selector", "metadata.name=a2"]), ["a2"]);
    assert_eq!(
        names(&["--field-selector", "metadata.name!=a2", "-l", "app"]),
        ["a1", "b1"]
    );
    assert_eq!(
        names(&["--field-selector", "metadata.namespace=default", "-l", "app=b"]),
        ["b1"]
    );

    let out = k.kubectl(&["get", "cm", "-l", "app=zzz"]);
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.trim(), "No resources found in default namespace.");
}

#[test]
fn get_chunked_lists_everything_once() {
    let k = Berth::start();
    for n in ["c1", "c2", "c3", "c4"] {
        k.apply_ok(&configmap(n, "default", "set: chunk", 1));
    }
    let rows = table(&k.kubectl_ok(&["get", "cm", "-l", "set=chunk", "--chunk-size=1"]));
    assert_eq!(
        rows[0],
        ["NAME", "DATA", "AGE"],
        "one header for all chunks: {rows:?}"
    );
    let names: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["c1", "c2", "c3", "c4"]);
    let out = k.kubectl_ok(&["get", "cm", "-l", "set=chunk", "--chunk-size=3", "-o", "name"]);
    assert_eq!(out, "configmap/c1\nconfigmap/c2\nconfigmap/c3\nconfigmap/c4\n");

    // The server really pages: limit=1 gives one item and a continue token.
    let api = k.api();
    let mut token = String::new();
    let mut seen = Vec::new();
    for page in 0..10 {
        let mut path = "/api/v1/namespaces/default/configmaps?labelSelector=set%3Dchunk&limit=1".to_string();
        if !token.is_empty() {
            path.push_str(&format!("&continue={token}"));
        }
        let r = api.get(&path);
        assert_eq!(r.status, 200, "page {page}: {}", r.body);
        let v = r.json();
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "page {page} of limit=1: {v}");
        seen.push(items[0]["metadata"]["name"].as_str().unwrap().to_string());
        match v["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => break,
        }
    }
    assert_eq!(seen, ["c1", "c2", "c3", "c4"]);
}

#[test]
fn get_all_namespaces() {
    let k = Berth::start();
    k.apply_ok(&namespace("other"));
    k.apply_ok(&configmap("here", "default", "e2e: a", 2));
    k.apply_ok(&configmap("there", "other", "e2e: a", 1));
    let rows = table(&k.kubectl_ok(&["get", "cm", "-A", "-l", "e2e"]));
    assert_eq!(rows[0], ["NAMESPACE", "NAME", "DATA", "AGE"]);
    assert_eq!(rows[1][..3], ["default", "here", "2"]);
    assert_eq!(rows[2][..3], ["other", "there", "1"]);
    assert_eq!(rows.len(), 3);
    // Namespaced get without -A sees only its namespace.
    assert_eq!(
        k.kubectl_ok(&["get", "cm", "-n", "other", "-l", "e2e", "-o", "name"]),
        "configmap/there\n"
    );
    assert_eq!(
        k.kubectl_ok(&["get", "cm", "-l", "e2e", "-o", "name"]),
        "configmap/here\n"
    );
}
