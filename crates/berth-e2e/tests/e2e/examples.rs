//! The examples in `examples/` (Redis, etcd, PostgreSQL) on the host runtime, on three
//! nodes in three zones with the default WaitForFirstConsumer storage: every replica
//! Ready, one per zone with its volume in its zone, peers found by stable DNS names, data
//! replicated and kept across a pod's deletion. Real programs from Debian's packages.

use crate::harness::{Berth, wait_for, wait_for_value};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

fn example(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn three_zones() -> Berth {
    Berth::start_with(&["--runtime", "host", "--nodes", "3", "--zones", "a,b,c"])
}

fn wait_ready_replicas(k: &Berth, set: &str, n: usize) {
    wait_for(
        &format!("{n} ready replicas of {set}"),
        Duration::from_secs(180),
        || k.jsonpath(&["statefulset", set], "{.status.readyReplicas}") == n.to_string(),
    );
}

/// Deletes `pod` and waits until its replacement (a new uid) is Ready.
fn delete_and_wait_replaced(k: &Berth, pod: &str) {
    let old = k.jsonpath(&["pod", pod], "{.metadata.uid}");
    k.kubectl_ok(&["delete", "pod", pod]);
    wait_for(
        &format!("{pod} replaced and Ready"),
        Duration::from_secs(120),
        || {
            let out = k.kubectl(&[
                "get",
                "pod",
                pod,
                "-o",
                "jsonpath={.metadata.uid} {.status.conditions[?(@.type=='Ready')].status}",
            ]);
            let mut parts = out.stdout.split(' ');
            let uid = parts.next().unwrap_or("");
            !uid.is_empty() && uid != old && parts.next() == Some("True")
        },
    );
}

fn exec(k: &Berth, pod: &str, args: &[&str]) -> String {
    let mut all = vec!["exec", pod, "--"];
    all.extend_from_slice(args);
    k.kubectl_ok(&all)
}

/// Each replica on its own zone, and its claim's volume pinned to that zone.
fn assert_one_replica_per_zone(k: &Berth, set: &str, claim: &str, n: usize) {
    let mut zones = BTreeSet::new();
    for i in 0..n {
        let pod = format!("{set}-{i}");
        let node = k.jsonpath(&["pod", &pod], "{.spec.nodeName}");
        let zone = k.jsonpath(
            &["node", &node],
            "{.metadata.labels.topology\\.kubernetes\\.io/zone}",
        );
        let pv = k.jsonpath(&["pvc", &format!("{claim}-{pod}")], "{.spec.volumeName}");
        let affinity: Value = k.get_json(&["pv", &pv]);
        let terms = affinity
            .pointer("/spec/nodeAffinity/required/nodeSelectorTerms")
            .cloned()
            .unwrap_or(Value::Null);
        assert!(
            terms.to_string().contains(&format!("\"{node}\"")),
            "{pv} not pinned to {node}: {terms}"
        );
        zones.insert(zone);
    }
    assert_eq!(zones.len(), n, "replicas of {set} share a zone: {zones:?}");
}

#[test]
fn redis_replicates_from_its_primary_and_keeps_data_across_deletion() {
    let k = three_zones();
    k.apply_ok(&example("redis.yaml"));
    wait_ready_replicas(&k, "redis", 3);
    assert_one_replica_per_zone(&k, "redis", "data", 3);
    assert_eq!(
        exec(&k, "redis-0", &["redis-cli", "set", "greeting", "hello"]).trim(),
        "OK"
    );
    let got = wait_for_value("the key on redis-2", Duration::from_secs(30), || {
        let v = exec(&k, "redis-2", &["redis-cli", "get", "greeting"]);
        (v.trim() == "hello").then_some(v)
    });
    assert_eq!(got.trim(), "hello");
    assert!(exec(&k, "redis-2", &["redis-cli", "info", "replication"]).contains("master_host:redis-0.redis"));
    delete_and_wait_replaced(&k, "redis-0");
    assert_eq!(
        exec(&k, "redis-0", &["redis-cli", "get", "greeting"]).trim(),
        "hello"
    );
}

#[test]
fn etcd_forms_one_cluster_and_a_deleted_member_rejoins() {
    let k = three_zones();
    k.apply_ok(&example("etcd.yaml"));
    wait_ready_replicas(&k, "etcd", 3);
    assert_one_replica_per_zone(&k, "etcd", "data", 3);
    let members = exec(&k, "etcd-0", &["etcdctl", "member", "list"]);
    assert_eq!(
        members.lines().filter(|l| l.contains(", started, ")).count(),
        3,
        "{members}"
    );
    assert_eq!(exec(&k, "etcd-0", &["etcdctl", "put", "k1", "v1"]).trim(), "OK");
    assert_eq!(
        exec(&k, "etcd-2", &["etcdctl", "get", "k1", "--print-value-only"]).trim(),
        "v1"
    );
    delete_and_wait_replaced(&k, "etcd-1");
    assert_eq!(
        exec(&k, "etcd-1", &["etcdctl", "get", "k1", "--print-value-only"]).trim(),
        "v1"
    );
    let members = exec(&k, "etcd-1", &["etcdctl", "member", "list"]);
    assert_eq!(
        members.lines().filter(|l| l.contains(", started, ")).count(),
        3,
        "{members}"
    );
}

#[test]
fn postgres_streams_to_its_standby_and_keeps_rows_across_deletion() {
    let k = three_zones();
    k.apply_ok(&example("postgres.yaml"));
    wait_ready_replicas(&k, "postgres", 2);
    let mut zones = BTreeSet::new();
    for pod in ["postgres-0", "postgres-1"] {
        let node = k.jsonpath(&["pod", pod], "{.spec.nodeName}");
        zones.insert(k.jsonpath(
            &["node", &node],
            "{.metadata.labels.topology\\.kubernetes\\.io/zone}",
        ));
    }
    assert_eq!(zones.len(), 2, "both members in one zone");
    let psql = |pod: &str, sql: &str| exec(&k, pod, &["psql", "-U", "postgres", "-tAc", sql]);
    psql(
        "postgres-0",
        "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('written on the primary');",
    );
    let row = wait_for_value("the row on the standby", Duration::from_secs(30), || {
        let out = k.kubectl(&[
            "exec",
            "postgres-1",
            "--",
            "psql",
            "-U",
            "postgres",
            "-tAc",
            "SELECT body FROM notes",
        ]);
        out.success()
            .then_some(out.stdout)
            .filter(|s| !s.trim().is_empty())
    });
    assert_eq!(row.trim(), "written on the primary");
    assert_eq!(psql("postgres-1", "SELECT pg_is_in_recovery()").trim(), "t");
    delete_and_wait_replaced(&k, "postgres-0");
    assert_eq!(
        psql("postgres-0", "SELECT body FROM notes").trim(),
        "written on the primary"
    );
    assert_eq!(
        psql("postgres-1", "SELECT body FROM notes").trim(),
        "written on the primary"
    );
}
