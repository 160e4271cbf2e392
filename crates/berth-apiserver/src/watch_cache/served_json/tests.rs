use super::ServedJson;
use bytes::Bytes;

fn served(stored: &str, revision: u64, out: &str) -> ServedJson {
    let stored = Bytes::copy_from_slice(stored.as_bytes());
    let json = ServedJson::new(&stored, out.as_bytes().to_vec(), revision);
    assert_eq!(
        String::from_utf8(json.to_vec()).expect("utf-8"),
        out,
        "serves exactly the served bytes"
    );
    assert_eq!(json.len(), out.len());
    json
}

fn shares(stored: &str, revision: u64, out: &str) -> bool {
    let stored_bytes = Bytes::copy_from_slice(stored.as_bytes());
    let json = ServedJson::new(&stored_bytes, out.as_bytes().to_vec(), revision);
    assert_eq!(String::from_utf8(json.to_vec()).expect("utf-8"), out);
    json.shares(&stored_bytes)
}

#[test]
fn the_resource_version_last_in_metadata_shares_the_stored_value() {
    let stored = r#"{"kind":"Pod","metadata":{"name":"a","uid":"u"},"spec":{}}"#;
    let out = r#"{"kind":"Pod","metadata":{"name":"a","uid":"u","resourceVersion":"42"},"spec":{}}"#;
    assert!(shares(stored, 42, out));
    served(stored, 42, out);
}

#[test]
fn the_resource_version_first_or_alone_in_metadata_shares_the_stored_value() {
    assert!(shares(
        r#"{"metadata":{"name":"a"}}"#,
        7,
        r#"{"metadata":{"resourceVersion":"7","name":"a"}}"#
    ));
    assert!(shares(
        r#"{"metadata":{}}"#,
        7,
        r#"{"metadata":{"resourceVersion":"7"}}"#
    ));
}

#[test]
fn an_object_changed_by_conversion_keeps_its_own_copy() {
    let stored = r#"{"apiVersion":"v1beta1","metadata":{"name":"a"}}"#;
    let out = r#"{"apiVersion":"v1","metadata":{"name":"a","resourceVersion":"3"}}"#;
    assert!(!shares(stored, 3, out));
}

#[test]
fn a_lookalike_of_another_revision_is_not_taken_for_the_resource_version() {
    let stored = r#"{"metadata":{"name":"a"},"x":{"resourceVersion":"9"}}"#;
    let out = r#"{"metadata":{"name":"a"},"x":{"resourceVersion":"9"}}"#;
    // Revision 8 appears nowhere: the served bytes are kept whole.
    assert!(!shares(stored, 8, out));
    served(stored, 8, out);
}

#[test]
fn writing_appends_to_what_is_there() {
    let stored = Bytes::from_static(br#"{"metadata":{"name":"a"}}"#);
    let json = ServedJson::new(
        &stored,
        br#"{"metadata":{"name":"a","resourceVersion":"1"}}"#.to_vec(),
        1,
    );
    let mut out = b"[".to_vec();
    json.write_to(&mut out);
    assert_eq!(out, br#"[{"metadata":{"name":"a","resourceVersion":"1"}}"#);
}
