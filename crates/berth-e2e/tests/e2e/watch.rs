//! `kubectl get -w`: list-then-watch from the list's resourceVersion, event rows as they
//! happen, and the single-object form that watches from resourceVersion 0.

use crate::harness::{Berth, table};

fn cm(name: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, labels: {{w: x}}}}\ndata: {{{data}}}\n"
    )
}

fn first_cell_is(line: &str, name: &str) -> bool {
    line.split_whitespace().next() == Some(name)
}

#[test]
fn get_watch_prints_rows_for_changes() {
    let k = Berth::start();
    k.apply_ok(&cm("before", "a: '1'"));
    let mut w = k.spawn_kubectl(&["get", "cm", "-l", "w=x", "-w"]);
    // The initial list: header and the existing object.
    let lines = w.wait_for_lines("the initial list", 1, |l| first_cell_is(l, "before"));
    assert_eq!(table(&lines[0])[0], ["NAME", "DATA", "AGE"]);

    k.apply_ok(&cm("w1", "a: '1'"));
    w.wait_for_lines("the ADDED row of w1", 1, |l| first_cell_is(l, "w1"));
    k.kubectl_ok(&["patch", "cm", "w1", "--type=merge", "-p", r#"{"data":{"b":"2"}}"#]);
    let lines = w.wait_for_lines("the MODIFIED row of w1", 2, |l| first_cell_is(l, "w1"));
    let rows: Vec<Vec<String>> = lines
        .iter()
        .filter(|l| first_cell_is(l, "w1"))
        .flat_map(|l| table(l))
        .collect();
    assert_eq!(rows[0][1], "1", "DATA after create: {lines:?}");
    assert_eq!(rows[1][1], "2", "DATA after patch: {lines:?}");
    k.kubectl_ok(&["delete", "cm", "w1"]);
    w.wait_for_lines("the DELETED row of w1", 3, |l| first_cell_is(l, "w1"));
    assert!(w.running(), "kubectl get -w must keep watching");
    // Only one header: later Table events carry no column definitions.
    let lines = w.lines();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("NAME")).count(),
        1,
        "{lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| first_cell_is(l, "before")).count(),
        1,
        "{lines:?}"
    );
    w.stop();
}

#[test]
fn get_watch_output_watch_events_shows_event_types() {
    let k = Berth::start();
    k.apply_ok(&cm("anchor", "a: '1'"));
    let mut w = k.spawn_kubectl(&["get", "cm", "-l", "w=x", "-w", "--output-watch-events"]);
    // The listed object comes first, as an ADDED row.
    let lines = w.wait_for_lines("the listed object", 1, |l| {
        l.split_whitespace().nth(1) == Some("anchor")
    });
    assert_eq!(table(&lines[1])[0][..3], ["ADDED", "anchor", "1"], "{lines:?}");
    k.apply_ok(&cm("ev", "a: '1'"));
    k.kubectl_ok(&["label", "cm", "ev", "extra=yes"]);
    k.kubectl_ok(&["delete", "cm", "ev"]);
    let lines = w.wait_for_lines("three events", 3, |l| l.split_whitespace().nth(1) == Some("ev"));
    let events: Vec<String> = lines
        .iter()
        .filter(|l| l.split_whitespace().nth(1) == Some("ev"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(events, ["ADDED", "MODIFIED", "DELETED"], "{lines:?}");
    assert_eq!(table(&lines[0])[0], ["EVENT", "NAME", "DATA", "AGE"], "{lines:?}");
    w.stop();
}

#[test]
fn get_single_object_watch() {
    let k = Berth::start();
    k.apply_ok(&cm("one", "a: '1'"));
    k.apply_ok(&cm("two", "a: '1'"));
    // kubectl GETs the object, then watches ?fieldSelector=metadata.name=one&resourceVersion=0
    // and drops the first event (the synthetic ADDED the server must send).
    let mut w = k.spawn_kubectl(&["get", "cm", "one", "-w"]);
    let lines = w.wait_for_lines("the initial row", 1, |l| first_cell_is(l, "one"));
    assert_eq!(table(&lines[0])[0], ["NAME", "DATA", "AGE"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        w.lines().iter().filter(|l| first_cell_is(l, "one")).count(),
        1,
        "{:?}",
        w.lines()
    );

    k.kubectl_ok(&[
        "patch",
        "cm",
        "two",
        "--type=merge",
        "-p",
        r#"{"data":{"b":"2"}}"#,
    ]);
    k.kubectl_ok(&[
        "patch",
        "cm",
        "one",
        "--type=merge",
        "-p",
        r#"{"data":{"b":"2","c":"3"}}"#,
    ]);
    let lines = w.wait_for_lines("the MODIFIED row", 2, |l| first_cell_is(l, "one"));
    let last = lines.iter().rfind(|l| first_cell_is(l, "one")).unwrap();
    assert_eq!(table(last)[0][1], "3", "{lines:?}");
    assert!(
        !lines.iter().any(|l| first_cell_is(l, "two")),
        "the field selector excludes other objects: {lines:?}"
    );
    w.stop();
}
