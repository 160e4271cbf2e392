//! Tests for label and field selectors, with cases and messages from apimachinery.

use super::*;
use crate::registry::lookup;
use serde_json::json;

fn labels(pairs: &[(&str, &str)]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> =
        pairs.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect();
    json!({"metadata": {"name": "x", "labels": map}})
}

fn parse_ok(s: &str) -> LabelSelector {
    match LabelSelector::parse(s) {
        Ok(sel) => sel,
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

fn parse_err(s: &str) -> String {
    match LabelSelector::parse(s) {
        Ok(sel) => panic!("{s:?} should not parse, got {sel:?}"),
        Err(e) => e,
    }
}

#[test]
fn parses_every_operator() {
    let sel = parse_ok("x=a,y==b,z!=c,w in (d,e),v notin (f),u,!t,s>1,r<10");
    let ops: Vec<(&str, Operator)> = sel
        .requirements()
        .iter()
        .map(|r| (r.key(), r.operator()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("r", Operator::LessThan),
            ("s", Operator::GreaterThan),
            ("t", Operator::DoesNotExist),
            ("u", Operator::Exists),
            ("v", Operator::NotIn),
            ("w", Operator::In),
            ("x", Operator::Equals),
            ("y", Operator::DoubleEquals),
            ("z", Operator::NotEquals),
        ]
    );
}

#[test]
fn canonical_string_is_sorted_by_key() {
    assert_eq!(parse_ok("app=database").to_string(), "app=database");
    assert_eq!(
        parse_ok("tier in (web, db),app=x, !canary").to_string(),
        "app=x,!canary,tier in (db,web)"
    );
    assert_eq!(parse_ok("  x  ==  a ").to_string(), "x==a");
    assert_eq!(parse_ok("x notin ( b , a ),y").to_string(), "x notin (a,b),y");
    assert_eq!(parse_ok("").to_string(), "");
    assert!(parse_ok("").is_empty());
    assert!(parse_ok("   ").is_empty());
}

#[test]
fn valid_selectors_from_apimachinery() {
    for s in [
        "",
        "x=a",
        "x=a,y=b,z=c",
        "x = a , y=b",
        "x!=a,y=b",
        "x=",
        "x= ",
        "x=,z= ",
        "x= ,z= ",
        "!x",
        "x>1",
        "x>1,z<5",
        "x in (a)",
        "x in (a,,b)",
        "x in (,a)",
        "x in ()",
        "x notin (a)",
        "x in (in)",
        "x notin (notin)",
        "in in (in)",
        "x in (a,),y",
        "foo.example.com/bar=baz",
        "a-b_c.d=e_f-g.h",
        "x\t=\ta",
    ] {
        parse_ok(s);
    }
}

#[test]
fn invalid_selectors_from_apimachinery() {
    for s in [
        "x=a||y=b",
        "x==a==b",
        "!x=a",
        "x<a",
        "x>1,z<a",
        "x=a,",
        "x in (",
        "x in (a",
        "x in a",
        "x in (a b)",
        "x (a)",
        ",",
        "x,,y",
        "a b",
        "=a",
        "x=a b",
        "x notin",
        "!",
        "x>",
        "x<1.5",
    ] {
        parse_err(s);
    }
}

#[test]
fn parse_error_messages_match_kubernetes() {
    assert_eq!(parse_err("x=a,"), "found '', expected: identifier after ','");
    assert_eq!(
        parse_err("a b"),
        "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
    );
    assert_eq!(
        parse_err("=a"),
        "found '=', expected: !, identifier, or 'end of string'"
    );
    assert_eq!(parse_err("x=a b"), "found 'b', expected: ',' or 'end of string'");
    assert_eq!(parse_err("!x=a"), "found '=', expected: ',' or 'end of string'");
    assert_eq!(
        parse_err("x in a"),
        "unable to parse requirement: found 'a' expected: '('"
    );
    assert_eq!(
        parse_err("x in (a b)"),
        "unable to parse requirement: found 'b', expected: ',' or ')'"
    );
    assert_eq!(
        parse_err("x in ("),
        "unable to parse requirement: found '', expected: ',', ')' or identifier"
    );
    assert_eq!(
        parse_err("!"),
        "unable to parse requirement: found '', expected: identifier"
    );
    assert_eq!(
        parse_err("x=!"),
        "unable to parse requirement: found '!', expected: identifier"
    );
    assert_eq!(
        parse_err("x$=a"),
        "unable to parse requirement: <nil>: Invalid value: \"x$\": name part must consist of alphanumeric \
         characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  \
         or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    );
    assert_eq!(
        parse_err("x=a$"),
        "unable to parse requirement: values[0][x]: Invalid value: \"a$\": a valid label must be an empty \
         string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an \
         alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is \
         '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    );
    assert_eq!(
        parse_err("x<a"),
        "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"
    );
}

#[test]
fn key_validation() {
    assert!(is_qualified_name("app").is_empty());
    assert!(is_qualified_name("example.com/app").is_empty());
    assert!(is_qualified_name(&"a".repeat(63)).is_empty());
    assert_eq!(
        is_qualified_name(&"a".repeat(64)),
        vec!["name part must be no more than 63 characters"]
    );
    assert_eq!(is_qualified_name("/a"), vec!["prefix part must be non-empty"]);
    assert_eq!(is_qualified_name("Example.com/a").len(), 1);
    assert!(is_qualified_name("Example.com/a")[0].starts_with("prefix part a lowercase RFC 1123 subdomain"));
    assert!(is_qualified_name("a/b/c")[0].starts_with("a qualified name must consist of"));
    assert_eq!(is_qualified_name("").len(), 2);
    assert_eq!(is_qualified_name("-a").len(), 1);
    assert!(is_valid_label_value("").is_empty());
    assert!(is_valid_label_value("a.b-c_D9").is_empty());
    assert_eq!(
        is_valid_label_value(&"a".repeat(64)),
        vec!["must be no more than 63 characters"]
    );
    assert_eq!(is_valid_label_value("a b").len(), 1);
}

#[test]
fn matching_follows_kubernetes_semantics() {
    let obj = labels(&[("app", "web"), ("tier", "db"), ("n", "5")]);
    let m = |s: &str| parse_ok(s).matches(&obj);
    assert!(m(""));
    assert!(m("app=web"));
    assert!(m("app==web"));
    assert!(!m("app=db"));
    assert!(m("app!=db"));
    assert!(m("missing!=x"), "!= matches when the key is absent");
    assert!(m("tier in (db,cache)"));
    assert!(!m("tier in (cache)"));
    assert!(m("tier notin (cache)"));
    assert!(m("missing notin (a)"), "notin matches when the key is absent");
    assert!(m("app"));
    assert!(!m("missing"));
    assert!(m("!missing"));
    assert!(!m("!app"));
    assert!(m("n>4"));
    assert!(!m("n>5"));
    assert!(m("n<6"));
    assert!(!m("app>1"), "a non-integer label never satisfies gt");
    assert!(m("app=web,tier=db"));
    assert!(!m("app=web,tier=web"));
    assert!(!m("missing="), "= requires the key");
    let no_labels = json!({"metadata": {"name": "x"}});
    assert!(parse_ok("!app").matches(&no_labels));
    assert!(!parse_ok("app").matches(&no_labels));
    assert!(parse_ok("").matches(&no_labels));
}

#[test]
fn empty_value_in_set() {
    let sel = parse_ok("x in (,a)");
    assert_eq!(sel.requirements()[0].values(), &["".to_string(), "a".to_string()]);
    assert!(sel.matches(&labels(&[("x", "")])));
    assert_eq!(parse_ok("x in ()").to_string(), "x in ()");
}

#[test]
fn converts_metav1_label_selector() {
    let sel = LabelSelector::from_label_selector_json(&json!({"matchLabels": {"app": "database"}}))
        .expect("valid selector");
    assert_eq!(sel.to_string(), "app=database");
    assert!(sel.matches(&labels(&[("app", "database"), ("x", "y")])));
    assert!(!sel.matches(&labels(&[("app", "web")])));

    let sel = LabelSelector::from_label_selector_json(&json!({
        "matchLabels": {"tier": "db", "app": "x"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "NotIn", "values": ["b"]},
            {"key": "owner", "operator": "Exists"}
        ]
    }))
    .expect("valid selector");
    assert_eq!(
        sel.to_string(),
        "app=x,!canary,env in (dev,prod),owner,tier=db,zone notin (b)"
    );
    assert!(sel.matches(&labels(&[
        ("app", "x"),
        ("tier", "db"),
        ("env", "dev"),
        ("owner", "me")
    ])));
    assert!(!sel.matches(&labels(&[
        ("app", "x"),
        ("tier", "db"),
        ("env", "dev"),
        ("owner", "me"),
        ("canary", "")
    ])));
    assert!(!sel.matches_labels(&serde_json::Map::new()));
}

#[test]
fn null_selects_nothing_and_empty_selects_everything() {
    let nothing = LabelSelector::from_label_selector_json(&serde_json::Value::Null).expect("null is valid");
    assert!(nothing.is_nothing());
    assert!(!nothing.is_empty());
    assert!(!nothing.matches(&labels(&[])));
    assert_eq!(nothing.to_string(), "");
    let everything = LabelSelector::from_label_selector_json(&json!({})).expect("{} is valid");
    assert!(everything.is_empty());
    assert!(everything.matches(&labels(&[("a", "b")])));
    assert_eq!(format_label_selector(&json!({})), "<none>");
    assert_eq!(format_label_selector(&serde_json::Value::Null), "<none>");
    assert_eq!(format_label_selector(&json!({"matchLabels": {"a": "b"}})), "a=b");
    assert_eq!(
        format_label_selector(&json!({"matchLabels": {"a": "b c"}})),
        "<error>"
    );
}

#[test]
fn metav1_selector_errors_match_kubernetes() {
    let err = |v: serde_json::Value| LabelSelector::from_label_selector_json(&v).expect_err("must fail");
    assert_eq!(
        err(json!({"matchExpressions": [{"key": "a", "operator": "Foo"}]})),
        "\"Foo\" is not a valid label selector operator"
    );
    assert_eq!(
        err(json!({"matchExpressions": [{"key": "a", "operator": "In"}]})),
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
    );
    assert_eq!(
        err(json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})),
        "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"
    );
    let e = err(json!({"matchLabels": {"a b": "c$"}}));
    assert!(
        e.starts_with("[key: Invalid value: \"a b\": name part must consist"),
        "{e}"
    );
    assert!(
        e.contains(", values[0][a b]: Invalid value: \"c$\": a valid label"),
        "{e}"
    );
}

#[test]
fn requires_exact_match() {
    let sel = parse_ok("a=b,c in (d),e in (f,g),h!=i");
    assert_eq!(sel.requires_exact_match("a"), Some("b"));
    assert_eq!(sel.requires_exact_match("c"), Some("d"));
    assert_eq!(sel.requires_exact_match("e"), None);
    assert_eq!(sel.requires_exact_match("h"), None);
    assert_eq!(sel.requires_exact_match("z"), None);
}

fn rt(group: &str, plural: &str) -> &'static crate::registry::ResourceType {
    let version = "v1";
    lookup(group, version, plural).expect("served type")
}

fn fparse(group: &str, plural: &str, s: &str) -> Result<FieldSelector, String> {
    FieldSelector::parse(rt(group, plural), s)
}

#[test]
fn field_selector_basic_matching() {
    let pod = json!({"metadata": {"name": "database-0", "namespace": "default"},
        "spec": {"nodeName": "node-1", "restartPolicy": "Always"},
        "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}], "podIP": "10.0.0.5"}});
    let m = |s: &str| fparse("", "pods", s).expect("valid").matches(&pod);
    assert!(m(""));
    assert!(m("metadata.name=database-0"));
    assert!(m("metadata.name==database-0"));
    assert!(!m("metadata.name=database-1"));
    assert!(m("metadata.name!=database-1"));
    assert!(m("metadata.namespace=default,status.phase=Running"));
    assert!(m("status.phase!=Pending"));
    assert!(m("spec.nodeName=node-1"));
    assert!(
        m("spec.host=node-1"),
        "spec.host is the legacy name of spec.nodeName"
    );
    assert!(m("spec.hostNetwork=false"));
    assert!(m("status.podIP=10.0.0.5"));
    assert!(m("status.nominatedNodeName="));
    assert!(m("spec.schedulerName="));
    assert!(!m("spec.schedulerName!="));
}

#[test]
fn field_selector_unsupported_fields() {
    assert_eq!(
        fparse("", "pods", "spec.foo=x").expect_err("unsupported"),
        "field label not supported: spec.foo"
    );
    assert_eq!(
        fparse("", "nodes", "metadata.namespace=x").expect_err("unsupported"),
        "field label not supported: metadata.namespace"
    );
    assert_eq!(
        fparse("", "configmaps", "data.x=y").expect_err("unsupported"),
        "\"data.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    assert_eq!(
        fparse("apps", "statefulsets", "status.replicas=1").expect_err("unsupported"),
        "\"status.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    assert_eq!(
        fparse("events.k8s.io", "events", "involvedObject.name=x").expect_err("unsupported"),
        "field label not supported: involvedObject.name"
    );
    assert!(fparse("", "secrets", "type=Opaque").is_ok());
    assert!(fparse("", "services", "spec.clusterIP=None,spec.type=ClusterIP").is_ok());
    assert!(fparse("", "namespaces", "status.phase=Active,metadata.name=x").is_ok());
    assert!(fparse("", "nodes", "spec.unschedulable=false").is_ok());
}

#[test]
fn field_selector_parse_errors() {
    assert_eq!(
        fparse("", "pods", "metadata.name").expect_err("no operator"),
        "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
    );
    assert_eq!(
        fparse("", "pods", "metadata.name=a=b").expect_err("unescaped ="),
        "invalid field selector: unescaped character in value: 61"
    );
    assert_eq!(
        fparse("", "pods", "metadata.name=a\\b").expect_err("bad escape"),
        "invalid field selector: invalid escape sequence: \\b"
    );
    assert_eq!(
        fparse("", "pods", "metadata.name=a\\").expect_err("trailing backslash"),
        "invalid field selector: invalid escape sequence: \\"
    );
}

#[test]
fn field_selector_escapes_and_empty_values() {
    let cm = json!({"metadata": {"name": "a,b=c\\d", "namespace": "ns"}});
    let sel = fparse("", "configmaps", "metadata.name=a\\,b\\=c\\\\d").expect("valid");
    assert!(sel.matches(&cm));
    assert_eq!(sel.to_string(), "metadata.name=a\\,b\\=c\\\\d");
    assert_eq!(sel.requires_exact_match("metadata.name"), Some("a,b=c\\d"));
    let sel = fparse("", "configmaps", ",metadata.namespace=ns,,").expect("empty terms are skipped");
    assert_eq!(sel.terms().len(), 1);
    assert!(sel.matches(&cm));
}

#[test]
fn empty_field_selectors_equal_the_default() {
    assert_eq!(fparse("", "pods", "").expect("empty"), FieldSelector::default());
    assert_eq!(
        fparse("", "events", ",").expect("empty"),
        FieldSelector::default()
    );
    assert_ne!(
        fparse("", "pods", "metadata.name=a").expect("valid"),
        FieldSelector::default()
    );
    assert_eq!(
        fparse("", "pods", "metadata.name=a").expect("valid"),
        fparse("", "pods", "metadata.name==a").expect("valid")
    );
}

#[test]
fn cluster_scoped_types_have_no_namespace_field() {
    let sc = json!({"metadata": {"name": "local"}});
    let sel = fparse("storage.k8s.io", "storageclasses", "metadata.namespace=x").expect("default conversion");
    assert!(!sel.matches(&sc));
    let sel = fparse("storage.k8s.io", "storageclasses", "metadata.namespace=").expect("default conversion");
    assert!(sel.matches(&sc));
}

#[test]
fn node_and_namespace_fields() {
    let node = json!({"metadata": {"name": "node-1"}, "spec": {"unschedulable": true}});
    assert!(
        fparse("", "nodes", "spec.unschedulable=true")
            .expect("valid")
            .matches(&node)
    );
    let node = json!({"metadata": {"name": "node-1"}});
    assert!(
        fparse("", "nodes", "spec.unschedulable=false")
            .expect("valid")
            .matches(&node)
    );
    let ns = json!({"metadata": {"name": "default"}, "status": {"phase": "Active"}});
    assert!(
        fparse("", "namespaces", "status.phase=Active")
            .expect("valid")
            .matches(&ns)
    );
    let secret = json!({"metadata": {"name": "s", "namespace": "d"}, "type": "kubernetes.io/tls"});
    assert!(
        fparse("", "secrets", "type=kubernetes.io/tls")
            .expect("valid")
            .matches(&secret)
    );
}

#[test]
fn event_fields_in_both_shapes() {
    let core = json!({"metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "StatefulSet", "apiVersion": "apps/v1", "name": "database", "namespace": "default"},
        "reason": "SuccessfulCreate", "type": "Normal", "source": {"component": "statefulset-controller"}});
    let sel = fparse(
        "",
        "events",
        "involvedObject.kind=StatefulSet,involvedObject.apiVersion=apps/v1,involvedObject.name=database",
    )
    .expect("kubectl events --for");
    assert!(sel.matches(&core));
    assert!(
        fparse("", "events", "involvedObject.namespace=")
            .expect("valid")
            .matches(&json!({}))
    );
    assert!(
        fparse("", "events", "source=statefulset-controller")
            .expect("valid")
            .matches(&core)
    );
    assert!(
        fparse("", "events", "reason=SuccessfulCreate,type=Normal")
            .expect("valid")
            .matches(&core)
    );

    let events_api = json!({"metadata": {"name": "e2", "namespace": "default"},
        "regarding": {"kind": "Pod", "name": "database-0"}, "reportingController": "kubelet",
        "reason": "Started", "type": "Normal"});
    let sel = fparse(
        "events.k8s.io",
        "events",
        "regarding.kind=Pod,regarding.name=database-0,reportingController=kubelet",
    )
    .expect("events.k8s.io names");
    assert!(sel.matches(&events_api));
    assert!(sel.matches(
        &json!({"involvedObject": {"kind": "Pod", "name": "database-0"}, "reportingComponent": "kubelet"})
    ));
    assert!(
        fparse("events.k8s.io", "events", "source=kubelet")
            .expect("valid")
            .matches(&events_api)
    );
    assert!(
        fparse("", "events", "reportingComponent=kubelet")
            .expect("valid")
            .matches(&events_api)
    );
}

#[test]
fn typed_label_maps_match_like_json_labels() {
    let sel = LabelSelector::from_label_selector_json(&json!({
        "matchLabels": {"app": "x"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["dev", "prod"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "gen", "operator": "NotIn", "values": ["2"]}
        ]
    }))
    .expect("valid selector");
    let cases: &[&[(&str, &str)]] = &[
        &[("app", "x"), ("env", "dev"), ("gen", "3")],
        &[("app", "x"), ("env", "dev"), ("gen", "2")],
        &[("app", "x"), ("env", "qa"), ("gen", "3")],
        &[("app", "x"), ("env", "prod"), ("gen", "9"), ("canary", "")],
        &[("env", "prod"), ("gen", "9")],
        &[],
    ];
    for pairs in cases {
        let map: std::collections::BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        assert_eq!(
            sel.matches_label_map(&map),
            sel.matches(&labels(pairs)),
            "{pairs:?}"
        );
    }
    let map = [("app", "x"), ("env", "dev"), ("gen", "3")]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    assert!(sel.matches_label_map(&map));
    let nothing = LabelSelector::from_label_selector_json(&serde_json::Value::Null).expect("null is valid");
    assert!(!nothing.matches_label_map(&map));
}

#[test]
fn selector_attrs_match_exactly_as_the_whole_object() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "prod", "labels": {"app": "web", "tier": "db"},
                     "annotations": {"big": "x"}, "uid": "u1"},
        "spec": {"nodeName": "node-7", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                 "serviceAccountName": "default", "hostNetwork": true, "containers": [{"name": "c"}]},
        "status": {"phase": "Running", "podIP": "10.244.0.9", "podIPs": [{"ip": "10.244.0.9"}],
                   "nominatedNodeName": "node-2", "conditions": []}
    });
    let pod_no_ips = json!({"metadata": {"name": "p", "namespace": "n"},
                            "status": {"podIP": "10.0.0.1"}, "spec": {}});
    let event = json!({
        "metadata": {"name": "e1", "namespace": "prod"},
        "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "web-0", "uid": "u1",
                           "apiVersion": "v1", "resourceVersion": "5", "fieldPath": "spec"},
        "reason": "Started", "type": "Normal", "source": {"component": "kubelet"},
        "reportingComponent": "kubelet", "message": "hello"
    });
    let events_v1 = json!({
        "metadata": {"name": "e2", "namespace": "prod"},
        "regarding": {"kind": "Pod", "name": "web-1"}, "reason": "Killing", "type": "Warning",
        "reportingController": "ctl", "deprecatedSource": {"component": "old"}
    });
    // (group, version, plural, object, the fields and values it carries)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        serde_json::Value,
        Vec<(&'static str, &'static str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "",
            "v1",
            "pods",
            pod.clone(),
            vec![
                ("metadata.name", "web-0"),
                ("metadata.namespace", "prod"),
                ("spec.nodeName", "node-7"),
                ("spec.restartPolicy", "Always"),
                ("spec.schedulerName", "default-scheduler"),
                ("spec.serviceAccountName", "default"),
                ("spec.hostNetwork", "true"),
                ("status.phase", "Running"),
                ("status.podIP", "10.244.0.9"),
                ("status.nominatedNodeName", "node-2"),
            ],
        ),
        (
            "",
            "v1",
            "pods",
            pod_no_ips,
            vec![("status.podIP", "10.0.0.1"), ("spec.nodeName", "")],
        ),
        (
            "",
            "v1",
            "events",
            event.clone(),
            vec![
                ("involvedObject.kind", "Pod"),
                ("involvedObject.namespace", "prod"),
                ("involvedObject.name", "web-0"),
                ("involvedObject.uid", "u1"),
                ("involvedObject.apiVersion", "v1"),
                ("involvedObject.resourceVersion", "5"),
                ("involvedObject.fieldPath", "spec"),
                ("reason", "Started"),
                ("type", "Normal"),
                ("source", "kubelet"),
                ("reportingComponent", "kubelet"),
            ],
        ),
        (
            "",
            "v1",
            "events",
            events_v1,
            vec![
                ("involvedObject.name", "web-1"),
                ("source", "old"),
                ("reportingComponent", "ctl"),
            ],
        ),
        (
            "",
            "v1",
            "namespaces",
            json!({"metadata": {"name": "a"}, "status": {"phase": "Active"}}),
            vec![("metadata.name", "a"), ("status.phase", "Active")],
        ),
        (
            "",
            "v1",
            "nodes",
            json!({"metadata": {"name": "n1"}, "spec": {"unschedulable": true}}),
            vec![("metadata.name", "n1"), ("spec.unschedulable", "true")],
        ),
        (
            "",
            "v1",
            "secrets",
            json!({"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque"}),
            vec![("type", "Opaque"), ("metadata.namespace", "d")],
        ),
        (
            "",
            "v1",
            "services",
            json!({"metadata": {"name": "s", "namespace": "d"},
            "spec": {"clusterIP": "10.96.0.5", "type": "ClusterIP", "ports": []}}),
            vec![("spec.clusterIP", "10.96.0.5"), ("spec.type", "ClusterIP")],
        ),
        (
            "",
            "v1",
            "configmaps",
            json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"k": "v"}}),
            vec![("metadata.name", "c"), ("metadata.namespace", "d")],
        ),
    ];
    let label_selectors = [
        "",
        "app=web",
        "app!=web",
        "tier in (db)",
        "!canary",
        "app",
        "app=other",
    ];
    for (group, version, plural, obj, fields) in cases {
        let rt = lookup(group, version, plural).expect("served");
        let attrs = SelectorAttrs::of(rt, &obj);
        for (field, value) in &fields {
            for op in ["=", "!="] {
                for candidate in [*value, "something-else", ""] {
                    let text = format!("{field}{op}{candidate}");
                    let sel = FieldSelector::parse(rt, &text).expect("valid selector");
                    assert_eq!(sel.matches_attrs(&attrs), sel.matches(&obj), "{plural}: {text}");
                }
            }
        }
        for text in label_selectors {
            let sel = parse_ok(text);
            assert_eq!(
                sel.matches_attrs(&attrs),
                sel.matches(&obj),
                "{plural}: labels {text}"
            );
        }
    }
    // The attributes keep the selectable values only.
    let attrs = SelectorAttrs::of(lookup("", "v1", "pods").expect("served"), &pod);
    assert_eq!(attrs.field("spec.nodeName"), "node-7");
    assert_eq!(attrs.field("spec.containers"), "", "not selectable");
    assert_eq!(attrs.label("tier"), Some("db"));
    assert_eq!(attrs.label("big"), None, "annotations are not labels");
}
