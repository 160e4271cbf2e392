//! Durability: every write the server acknowledged survives `kill -9`, and resourceVersions
//! keep increasing across the restart.

use crate::harness::Berth;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const TOTAL: usize = 200;
const WORKERS: usize = 6;
/// Kill the server once this many creates have been acknowledged.
const KILL_AFTER: usize = 80;

#[derive(Debug, Clone)]
struct Ack {
    uid: String,
    rv: u64,
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let mut k = Berth::start();
    let api = k.api();
    let acked: Arc<Mutex<BTreeMap<String, Ack>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (api, acked, next, failures) = (api.clone(), acked.clone(), next.clone(), failures.clone());
            thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= TOTAL {
                        break;
                    }
                    let name = format!("d{i:03}");
                    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"i": i.to_string()}});
                    let r = api.send_json("POST", "/api/v1/namespaces/default/configmaps", &body);
                    if r.status == 201 {
                        let v = r.json();
                        let uid = v["metadata"]["uid"].as_str().unwrap().to_string();
                        let rv = v["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
                        acked.lock().unwrap().insert(name, Ack { uid, rv });
                    } else {
                        assert!(r.status == 0, "create {name}: unexpected HTTP {}: {}", r.status, r.body);
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "only {} creates acknowledged in 60 s",
            acked.lock().unwrap().len()
        );
        thread::sleep(Duration::from_millis(2));
    }
    k.kill9();
    for w in workers {
        w.join().expect("worker panicked");
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= KILL_AFTER, "{} acked", acked.len());
    assert!(
        failures.load(Ordering::SeqCst) > 0,
        "the kill came after all {TOTAL} creates; the test proves nothing"
    );
    let max_seen = acked.values().map(|a| a.rv).max().unwrap();

    k.restart();
    let list = k.get_json(&["cm"]);
    let stored: BTreeMap<String, String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap().to_string(),
                o["metadata"]["uid"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let lost: Vec<&String> = acked.keys().filter(|n| !stored.contains_key(*n)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged creates were lost after kill -9: {lost:?}",
        lost.len(),
        acked.len()
    );
    for (name, ack) in &acked {
        assert_eq!(&stored[name], &ack.uid, "{name} came back with another uid");
    }
    // One spot check by name (the list covered existence and uid of all).
    let (name, ack) = acked.iter().next_back().unwrap();
    let got = k.jsonpath(&["cm", name], "{.metadata.resourceVersion}");
    assert_eq!(
        got.parse::<u64>().unwrap(),
        ack.rv,
        "{name} came back with another resourceVersion"
    );

    // New writes continue the resourceVersion sequence.
    let r = k.api().send_json(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata": {"name": "after-restart"}, "data": {"x": "y"}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let rv: u64 = r.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        rv > max_seen,
        "resourceVersion after restart ({rv}) must exceed every one acknowledged before ({max_seen})"
    );
    let list_rv: u64 =
        k.api().get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    assert!(
        list_rv >= rv,
        "list resourceVersion {list_rv} is older than the last write {rv}"
    );
}
