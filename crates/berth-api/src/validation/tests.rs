use super::*;
use crate::defaults;
use crate::registry::lookup_kind;
use serde_json::{Value, json};

fn rt(group: &str, kind: &str) -> &'static ResourceType {
    lookup_kind(group, kind).expect("served kind")
}

fn msgs(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

fn create(group: &str, kind: &str, mut obj: Value) -> Vec<String> {
    defaults::apply(rt(group, kind), &mut obj);
    msgs(&validate_create(rt(group, kind), &obj))
}

fn update(group: &str, kind: &str, mut new: Value, mut old: Value) -> Vec<String> {
    defaults::apply(rt(group, kind), &mut new);
    defaults::apply(rt(group, kind), &mut old);
    msgs(&validate_update(rt(group, kind), &new, &old))
}

fn has(errs: &[String], want: &str) {
    assert!(errs.iter().any(|e| e == want), "missing {want:?} in {errs:#?}");
}

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn sts() -> Value {
    json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "serviceName": "web",
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    }})
}

fn pod() -> Value {
    json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}})
}

// ----- names -----

#[test]
fn dns_names_match_kubernetes_messages() {
    assert_eq!(is_dns1123_subdomain("Bad_Name"), vec![SUBDOMAIN_MSG.to_string()]);
    assert!(is_dns1123_subdomain("a.b-c").is_empty());
    assert!(is_dns1123_label("a.b").contains(&"must not contain dots".to_string()));
    let long = "a".repeat(64);
    assert_eq!(
        is_dns1123_label(&long),
        vec!["must be no more than 63 characters".to_string()]
    );
    assert_eq!(
        is_dns1123_subdomain(&"a".repeat(254))[0],
        "must be no more than 253 characters"
    );
    assert!(is_dns1035_label("1abc")[0].starts_with("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character"));
}

#[test]
fn regex_error_examples_are_joined_like_go() {
    // Go's RegexError joins examples as "'a', or 'b', " — reproduce it byte for byte.
    assert_eq!(
        names::regex_error("m", "f", &["x", "y"]),
        "m (e.g. 'x', or 'y', regex used for validation is 'f')"
    );
}

#[test]
fn qualified_names() {
    assert!(is_qualified_name("example.com/my-key").is_empty());
    assert_eq!(
        is_qualified_name("/x"),
        vec!["prefix part must be non-empty".to_string()]
    );
    assert!(is_qualified_name("a/b/c")[0].starts_with("a qualified name must consist of"));
    assert!(is_qualified_name("-x")[0].starts_with("name part must consist of alphanumeric characters"));
}

// ----- metadata -----

#[test]
fn name_required_and_formats() {
    let mut p = pod();
    p["metadata"]["name"] = json!("");
    has(
        &create("", "Pod", p),
        "metadata.name: Required value: name or generateName is required",
    );
    let mut p = pod();
    p["metadata"]["name"] = json!("Bad_Name");
    has(
        &create("", "Pod", p),
        &format!("metadata.name: Invalid value: \"Bad_Name\": {SUBDOMAIN_MSG}"),
    );
    let svc =
        json!({"metadata": {"name": "1svc", "namespace": "default"}, "spec": {"ports": [{"port": 80}]}});
    let errs = create("", "Service", svc);
    assert!(
        errs[0].starts_with("metadata.name: Invalid value: \"1svc\": a DNS-1035 label"),
        "{errs:?}"
    );
    let ns = json!({"metadata": {"name": "a.b"}});
    has(
        &create("", "Namespace", ns),
        "metadata.name: Invalid value: \"a.b\": must not contain dots",
    );
    let role = json!({"metadata": {"name": "a/b", "namespace": "default"}, "rules": []});
    has(
        &create("rbac.authorization.k8s.io", "Role", role),
        "metadata.name: Invalid value: \"a/b\": may not contain '/'",
    );
    let mut s = sts();
    s["metadata"]["name"] = json!("web.v1");
    has(
        &create("apps", "StatefulSet", s),
        "metadata.name: Invalid value: \"web.v1\": must not contain dots",
    );
}

#[test]
fn namespace_required_or_forbidden() {
    let mut p = pod();
    p["metadata"].as_object_mut().map(|m| m.remove("namespace"));
    has(&create("", "Pod", p), "metadata.namespace: Required value");
    let node = json!({"metadata": {"name": "n1", "namespace": "default"}});
    has(
        &create("", "Node", node),
        "metadata.namespace: Forbidden: not allowed on this type",
    );
}

#[test]
fn labels_annotations_finalizers_owner_refs() {
    let mut p = pod();
    p["metadata"]["labels"] = json!({"app": "bad value"});
    let errs = create("", "Pod", p);
    assert!(errs[0].starts_with("metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters"), "{errs:?}");

    let mut p = pod();
    p["metadata"]["annotations"] = json!({"big": "x".repeat(256 * 1024)});
    has(
        &create("", "Pod", p),
        "metadata.annotations: Too long: may not be more than 262144 bytes",
    );

    let mut p = pod();
    p["metadata"]["finalizers"] = json!(["custom"]);
    has(
        &create("", "Pod", p),
        "metadata.finalizers[0]: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified",
    );
    let mut p = pod();
    p["metadata"]["finalizers"] = json!(["orphan", "foregroundDeletion"]);
    has(
        &create("", "Pod", p),
        "metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: finalizer orphan and foregroundDeletion cannot be both set",
    );

    let mut p = pod();
    p["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"}]);
    has(
        &create("", "Pod", p),
        "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty",
    );
}

#[test]
fn metadata_update_immutables() {
    let old = json!({"metadata": {"name": "cm", "namespace": "default", "uid": "u1", "creationTimestamp": "2024-01-01T00:00:00Z"}});
    let mut new = old.clone();
    new["metadata"]["name"] = json!("cm2");
    new["metadata"]["uid"] = json!("u2");
    new["metadata"]["creationTimestamp"] = json!("2024-02-01T00:00:00Z");
    let errs = update("", "ConfigMap", new, old.clone());
    has(&errs, "metadata.name: Invalid value: \"cm2\": field is immutable");
    has(&errs, "metadata.uid: Invalid value: \"u2\": field is immutable");
    has(
        &errs,
        "metadata.creationTimestamp: Invalid value: 2024-02-01 00:00:00 +0000 UTC: field is immutable",
    );
    // An omitted uid is filled from the stored object, not an error.
    let mut same = old.clone();
    same["metadata"].as_object_mut().map(|m| m.remove("uid"));
    assert!(update("", "ConfigMap", same, old.clone()).is_empty());
    // No new finalizers while deleting.
    let mut deleting = old.clone();
    deleting["metadata"]["deletionTimestamp"] = json!("2024-03-01T00:00:00Z");
    let mut new = deleting.clone();
    new["metadata"]["finalizers"] = json!(["example.com/x"]);
    has(
        &update("", "ConfigMap", new, deleting),
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/x\"}",
    );
}

// ----- StatefulSet -----

#[test]
fn valid_statefulset_passes() {
    assert_eq!(create("apps", "StatefulSet", sts()), Vec::<String>::new());
}

#[test]
fn statefulset_selector_rules() {
    let mut s = sts();
    s["spec"]["template"]["metadata"]["labels"] = json!({"app": "other", "tier": "db"});
    has(
        &create("apps", "StatefulSet", s),
        "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\", \"tier\":\"db\"}: `selector` does not match template `labels`",
    );
    let mut s = sts();
    s["spec"].as_object_mut().map(|m| m.remove("selector"));
    let errs = create("apps", "StatefulSet", s);
    has(&errs, "spec.selector: Required value");
    has(
        &errs,
        "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
    );
    let mut s = sts();
    s["spec"]["selector"] = json!({});
    has(
        &create("apps", "StatefulSet", s),
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset",
    );
    let mut s = sts();
    s["spec"]["selector"] =
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]});
    assert!(create("apps", "StatefulSet", s).is_empty());
    let mut s = sts();
    s["spec"]["selector"] = json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]});
    has(
        &create("apps", "StatefulSet", s),
        "spec.selector.matchExpressions[0].operator: Invalid value: \"Bogus\": not a valid selector operator",
    );
}

#[test]
fn statefulset_field_rules() {
    let mut s = sts();
    s["spec"]["replicas"] = json!(-1);
    s["spec"]["minReadySeconds"] = json!(-2);
    s["spec"]["ordinals"] = json!({"start": -3});
    s["spec"]["podManagementPolicy"] = json!("Sometimes");
    s["spec"]["persistentVolumeClaimRetentionPolicy"] =
        json!({"whenDeleted": "Keep", "whenScaled": "Retain"});
    s["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    s["spec"]["template"]["spec"]["activeDeadlineSeconds"] = json!(5);
    let errs = create("apps", "StatefulSet", s);
    has(
        &errs,
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    );
    has(
        &errs,
        "spec.minReadySeconds: Invalid value: -2: must be greater than or equal to 0",
    );
    has(
        &errs,
        "spec.ordinals.start: Invalid value: -3: must be greater than or equal to 0",
    );
    has(
        &errs,
        "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'",
    );
    has(
        &errs,
        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\"",
    );
    has(
        &errs,
        "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
    );
    has(
        &errs,
        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported",
    );
}

#[test]
fn statefulset_update_strategy_rules() {
    let mut s = sts();
    s["spec"]["updateStrategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": -1}});
    has(
        &create("apps", "StatefulSet", s),
        "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0",
    );
    let mut s = sts();
    s["spec"]["updateStrategy"] = json!({"type": "OnDelete", "rollingUpdate": {"partition": 1}});
    has(
        &create("apps", "StatefulSet", s),
        "spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'",
    );
    let mut s = sts();
    s["spec"]["updateStrategy"] = json!({"type": "Recreate"});
    has(
        &create("apps", "StatefulSet", s),
        "spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:\"Recreate\", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be 'RollingUpdate' or 'OnDelete'",
    );
    // maxUnavailable checks (validated if present; defaulting drops it while the gate is off).
    let spec = json!({"podManagementPolicy": "OrderedReady", "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": "0%"}}});
    has(
        &msgs(&statefulset::validate_statefulset_spec(&spec, &Path::new("spec"))),
        "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"0%\"}: cannot be 0",
    );
}

#[test]
fn statefulset_update_mutable_fields() {
    let old = sts();
    let mut new = sts();
    new["spec"]["replicas"] = json!(5);
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    new["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
    new["spec"]["minReadySeconds"] = json!(10);
    new["spec"]["revisionHistoryLimit"] = json!(3);
    new["spec"]["ordinals"] = json!({"start": 2});
    new["spec"]["persistentVolumeClaimRetentionPolicy"] =
        json!({"whenDeleted": "Delete", "whenScaled": "Delete"});
    assert_eq!(
        update("apps", "StatefulSet", new, old.clone()),
        Vec::<String>::new()
    );

    let forbidden = format!("spec: Forbidden: {}", statefulset::STS_UPDATE_FORBIDDEN);
    assert_eq!(
        forbidden,
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    );
    let mut new = sts();
    new["spec"]["serviceName"] = json!("other");
    assert_eq!(
        update("apps", "StatefulSet", new, old.clone()),
        vec![forbidden.clone()]
    );
    let mut new = sts();
    new["spec"]["podManagementPolicy"] = json!("Parallel");
    assert_eq!(
        update("apps", "StatefulSet", new, old.clone()),
        vec![forbidden.clone()]
    );
    let mut new = sts();
    new["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = json!("fast");
    assert_eq!(
        update("apps", "StatefulSet", new, old.clone()),
        vec![forbidden.clone()]
    );
    // The same size written differently is not a change.
    let mut new = sts();
    new["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = json!("1024Mi");
    assert!(update("apps", "StatefulSet", new, old.clone()).is_empty());
}

#[test]
fn statefulset_claim_template_storage_may_grow_but_not_shrink() {
    let old = sts();
    let mut grow = sts();
    grow["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = json!("5Gi");
    assert!(update("apps", "StatefulSet", grow, old.clone()).is_empty());
    let mut shrink = sts();
    shrink["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = json!("512Mi");
    assert_eq!(
        update("apps", "StatefulSet", shrink, old.clone()),
        vec!["spec.volumeClaimTemplates[0].spec.resources.requests.storage: Forbidden: field can not be less than previous value".to_string()]
    );
    let mut grow_and_more = sts();
    grow_and_more["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] =
        json!("5Gi");
    grow_and_more["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] = json!(["ReadWriteMany"]);
    assert_eq!(update("apps", "StatefulSet", grow_and_more, old).len(), 1);
}

#[test]
fn controller_revision_rules() {
    let cr = json!({"metadata": {"name": "web-abc", "namespace": "default"}, "revision": -1});
    let errs = create("apps", "ControllerRevision", cr);
    has(&errs, "data: Required value: data is mandatory");
    has(
        &errs,
        "revision: Invalid value: -1: must be greater than or equal to 0",
    );
    let old =
        json!({"metadata": {"name": "web-abc", "namespace": "default"}, "data": {"a": 1}, "revision": 1});
    let mut new = old.clone();
    new["data"] = json!({"a": 2});
    let errs = update("apps", "ControllerRevision", new, old);
    assert!(
        errs[0].starts_with("data: Invalid value:") && errs[0].ends_with("field is immutable"),
        "{errs:?}"
    );
}

// ----- Pod -----

#[test]
fn valid_pod_passes() {
    assert_eq!(create("", "Pod", pod()), Vec::<String>::new());
}

#[test]
fn pod_containers_required_and_image_required() {
    let p = json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {}});
    has(&create("", "Pod", p), "spec.containers: Required value");
    let p = json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [{"name": "c"}, {"name": "c", "image": "x"}]}});
    let errs = create("", "Pod", p);
    has(&errs, "spec.containers[0].image: Required value");
    has(&errs, "spec.containers[1].name: Duplicate value: \"c\"");
    let p = json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [{"name": "Bad", "image": "x"}]}});
    has(
        &create("", "Pod", p),
        &format!("spec.containers[0].name: Invalid value: \"Bad\": {LABEL_MSG}"),
    );
}

#[test]
fn pod_ports_env_mounts() {
    let p = json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {
        "containers": [{"name": "c", "image": "x",
            "ports": [{"containerPort": 70000, "protocol": "HTTP"}, {"name": "web", "containerPort": 80}, {"name": "web", "containerPort": 81}],
            "env": [{"name": "A=B"}, {"name": ""}],
            "volumeMounts": [{"name": "missing", "mountPath": "/a"}, {"name": "data", "mountPath": "/a"}]}],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]}});
    let errs = create("", "Pod", p);
    has(
        &errs,
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    );
    has(
        &errs,
        "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
    );
    has(
        &errs,
        "spec.containers[0].ports[2].name: Duplicate value: \"web\"",
    );
    has(
        &errs,
        "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
    );
    has(&errs, "spec.containers[0].env[1].name: Required value");
    has(
        &errs,
        "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"",
    );
    has(
        &errs,
        "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/a\": must be unique",
    );
    has(&errs, "spec.volumes[1].name: Duplicate value: \"data\"");
}

#[test]
fn pod_policies_resources_probes() {
    let p = json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {
        "restartPolicy": "Sometimes", "dnsPolicy": "Weird",
        "containers": [{"name": "c", "image": "x",
            "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1", "memory": "-1"}},
            "livenessProbe": {"successThreshold": 2, "exec": {"command": ["true"]}},
            "readinessProbe": {"periodSeconds": -1}}]}});
    let errs = create("", "Pod", p);
    has(
        &errs,
        "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
    );
    has(
        &errs,
        "spec.dnsPolicy: Unsupported value: \"Weird\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
    );
    has(
        &errs,
        "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
    );
    has(
        &errs,
        "spec.containers[0].resources.limits[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
    );
    has(
        &errs,
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
    );
    has(
        &errs,
        "spec.containers[0].readinessProbe: Required value: must specify a handler type",
    );
    has(
        &errs,
        "spec.containers[0].readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
    );
}

#[test]
fn pod_volume_sources() {
    let p = json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {
        "containers": [{"name": "c", "image": "x"}],
        "volumes": [{"name": "a", "emptyDir": {}, "hostPath": {"path": "/x"}}, {"name": "b", "configMap": {"defaultMode": 1000}}]}});
    let errs = create("", "Pod", p);
    has(
        &errs,
        "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
    );
    has(&errs, "spec.volumes[1].configMap.name: Required value");
    has(
        &errs,
        "spec.volumes[1].configMap.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
    );
}

#[test]
fn pod_update_rules() {
    let old = pod();
    let mut new = pod();
    new["spec"]["containers"][0]["image"] = json!("nginx:2");
    new["spec"]["activeDeadlineSeconds"] = json!(30);
    new["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists"}]);
    assert_eq!(update("", "Pod", new, old.clone()), Vec::<String>::new());

    let mut new = pod();
    new["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "1"}]);
    let errs = update("", "Pod", new, old.clone());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"));

    let mut new = pod();
    new["spec"]["containers"] = json!([{"name": "c", "image": "x"}, {"name": "d", "image": "y"}]);
    has(
        &update("", "Pod", new, old.clone()),
        "spec.containers: Forbidden: pod updates may not add or remove containers",
    );

    let mut with_deadline = pod();
    with_deadline["spec"]["activeDeadlineSeconds"] = json!(10);
    let mut longer = with_deadline.clone();
    longer["spec"]["activeDeadlineSeconds"] = json!(20);
    has(
        &update("", "Pod", longer, with_deadline),
        "spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value",
    );

    let mut tolerating = pod();
    tolerating["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists"}]);
    has(
        &update("", "Pod", pod(), tolerating),
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
    );
}

// ----- Service -----

#[test]
fn service_rules() {
    let svc = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    assert_eq!(create("", "Service", svc), Vec::<String>::new());
    let svc = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"type": "Magic", "ports": [{"port": 0}, {"port": 81}]}});
    let errs = create("", "Service", svc);
    has(&errs, "spec.ports[0].name: Required value");
    has(
        &errs,
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
    );
    has(
        &errs,
        "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
    );
    let svc = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {}});
    has(&create("", "Service", svc), "spec.ports: Required value");
    let headless = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"clusterIP": "None", "selector": {"app": "web"}}});
    assert_eq!(create("", "Service", headless), Vec::<String>::new());
    let np = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}]}});
    has(
        &create("", "Service", np),
        "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services",
    );
    let dup = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}});
    let errs = create("", "Service", dup);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("spec.ports[1]: Duplicate value: core.ServicePort{")),
        "{errs:?}"
    );
}

#[test]
fn service_cluster_ip_may_not_change() {
    let old = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}});
    let mut new = old.clone();
    new["spec"]["clusterIP"] = json!("10.0.0.2");
    new["spec"]["clusterIPs"] = json!(["10.0.0.2"]);
    has(
        &update("", "Service", new, old),
        "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.2\"}: may not change once set",
    );
}

// ----- storage -----

fn pvc() -> Value {
    json!({"metadata": {"name": "data", "namespace": "default"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
}

#[test]
fn pvc_create_rules() {
    assert_eq!(create("", "PersistentVolumeClaim", pvc()), Vec::<String>::new());
    let bad = json!({"metadata": {"name": "data", "namespace": "default"}, "spec": {"accessModes": ["ReadWriteSometimes"]}});
    let errs = create("", "PersistentVolumeClaim", bad);
    has(
        &errs,
        "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
    );
    has(&errs, "spec.resources[storage]: Required value");
    let none = json!({"metadata": {"name": "data", "namespace": "default"}, "spec": {"resources": {"requests": {"storage": "0"}}}});
    let errs = create("", "PersistentVolumeClaim", none);
    has(
        &errs,
        "spec.accessModes: Required value: at least 1 access mode is required",
    );
    has(
        &errs,
        "spec.resources[storage]: Invalid value: \"0\": must be greater than zero",
    );
}

#[test]
fn pvc_update_rules() {
    let mut bound = pvc();
    bound["spec"]["volumeName"] = json!("pv-1");
    bound["status"] = json!({"phase": "Bound", "capacity": {"storage": "1Gi"}});
    let mut grown = bound.clone();
    grown["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
    assert!(update("", "PersistentVolumeClaim", grown, bound.clone()).is_empty());

    let mut shrunk = bound.clone();
    shrunk["spec"]["resources"]["requests"]["storage"] = json!("512Mi");
    has(
        &update("", "PersistentVolumeClaim", shrunk, bound.clone()),
        "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity",
    );

    let mut changed = bound.clone();
    changed["spec"]["accessModes"] = json!(["ReadWriteMany"]);
    let errs = update("", "PersistentVolumeClaim", changed, bound.clone());
    assert!(errs.iter().any(|e| e.starts_with(
        "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"
    )), "{errs:?}");

    // Unbound claims cannot be resized; volumeName may be set once.
    let mut unbound_grown = pvc();
    unbound_grown["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
    assert_eq!(update("", "PersistentVolumeClaim", unbound_grown, pvc()).len(), 1);
    let mut named = pvc();
    named["spec"]["volumeName"] = json!("pv-1");
    assert!(update("", "PersistentVolumeClaim", named, pvc()).is_empty());
}

#[test]
fn pv_rules() {
    let pv = json!({"metadata": {"name": "pv1"}, "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/data"}}});
    assert_eq!(create("", "PersistentVolume", pv.clone()), Vec::<String>::new());
    let bad = json!({"metadata": {"name": "pv1"}, "spec": {}});
    let errs = create("", "PersistentVolume", bad);
    has(&errs, "spec.accessModes: Required value");
    has(&errs, "spec.capacity: Required value");
    has(&errs, "spec: Required value: must specify a volume type");
    let mut moved = pv.clone();
    moved["spec"]["hostPath"]["path"] = json!("/other");
    let errs = update("", "PersistentVolume", moved, pv);
    assert!(
        errs[0].starts_with(
            "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation"
        ),
        "{errs:?}"
    );
}

#[test]
fn storage_class_rules() {
    let sc = json!({"metadata": {"name": "fast"}, "provisioner": "example.com/csi", "parameters": {"type": "ssd"}});
    assert_eq!(
        create("storage.k8s.io", "StorageClass", sc.clone()),
        Vec::<String>::new()
    );
    has(
        &create(
            "storage.k8s.io",
            "StorageClass",
            json!({"metadata": {"name": "x"}}),
        ),
        "provisioner: Required value",
    );
    let mut changed = sc.clone();
    changed["parameters"] = json!({"type": "hdd"});
    changed["provisioner"] = json!("other.com/csi");
    changed["reclaimPolicy"] = json!("Retain");
    changed["volumeBindingMode"] = json!("WaitForFirstConsumer");
    let errs = update("storage.k8s.io", "StorageClass", changed, sc);
    has(
        &errs,
        "parameters: Forbidden: updates to parameters are forbidden.",
    );
    has(
        &errs,
        "provisioner: Forbidden: updates to provisioner are forbidden.",
    );
    has(
        &errs,
        "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
    );
    has(
        &errs,
        "volumeBindingMode: Invalid value: \"WaitForFirstConsumer\": field is immutable",
    );
}

// ----- other kinds -----

#[test]
fn config_map_and_secret_rules() {
    let cm = json!({"metadata": {"name": "c", "namespace": "default"}, "data": {"bad key": "v"}});
    let errs = create("", "ConfigMap", cm);
    has(
        &errs,
        "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
    let old =
        json!({"metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1"}, "immutable": true});
    let mut new = old.clone();
    new["data"] = json!({"a": "2"});
    has(
        &update("", "ConfigMap", new, old),
        "data: Forbidden: field is immutable when `immutable` is set",
    );
    let old = json!({"metadata": {"name": "s", "namespace": "default"}, "type": "Opaque"});
    let mut new = old.clone();
    new["type"] = json!("kubernetes.io/tls");
    new["data"] = json!({"tls.crt": "", "tls.key": ""});
    has(
        &update("", "Secret", new, old),
        "type: Invalid value: \"kubernetes.io/tls\": field is immutable",
    );
    let tls = json!({"metadata": {"name": "s", "namespace": "default"}, "type": "kubernetes.io/tls"});
    has(&create("", "Secret", tls), "data[tls.crt]: Required value");
}

#[test]
fn rbac_rules() {
    let role = json!({"metadata": {"name": "r", "namespace": "default"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]});
    has(
        &create("rbac.authorization.k8s.io", "Role", role),
        "rules[0].verbs: Required value: verbs must contain at least one value",
    );
    let binding = json!({"metadata": {"name": "b", "namespace": "default"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "default"}]});
    assert_eq!(
        create("rbac.authorization.k8s.io", "RoleBinding", binding.clone()),
        Vec::<String>::new()
    );
    let mut changed = binding.clone();
    changed["roleRef"]["name"] = json!("other");
    let errs = update("rbac.authorization.k8s.io", "RoleBinding", changed, binding);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("roleRef: Invalid value:") && e.ends_with("cannot change roleRef")),
        "{errs:?}"
    );
}

#[test]
fn generate_name_prefix() {
    assert!(validate_generate_name(rt("", "Pod"), "web-").is_empty());
    assert!(!validate_generate_name(rt("", "Pod"), "Web-").is_empty());
}

#[test]
fn semantic_equality() {
    assert!(sem_eq(
        &json!({"requests": {"storage": "1Gi"}}),
        &json!({"requests": {"storage": "1024Mi"}}),
        ""
    ));
    assert!(!sem_eq(
        &json!({"labels": {"a": "1"}}),
        &json!({"labels": {"a": "1.0"}}),
        ""
    ));
    assert!(sem_eq(&json!({"a": [], "b": null}), &json!({}), ""));
    assert!(sem_eq(&json!({"n": 1}), &json!({"n": 1.0}), ""));
}
