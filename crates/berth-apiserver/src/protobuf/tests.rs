//! Tests for the protobuf body decoder: bodies captured from kubectl 1.32, objects built
//! with k8s-pb and compared field for field with the JSON Kubernetes writes, and malformed
//! input that must fail cleanly.
#![allow(clippy::unwrap_used)]

use super::decode;
use k8s_pb::api::apps::v1 as apps_v1;
use k8s_pb::api::authentication::v1 as authn_v1;
use k8s_pb::api::authorization::v1 as authz_v1;
use k8s_pb::api::coordination::v1 as coordination_v1;
use k8s_pb::api::core::v1 as core_v1;
use k8s_pb::api::events::v1 as events_v1;
use k8s_pb::api::rbac::v1 as rbac_v1;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta_v1;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use proptest::prelude::*;
use prost::Message;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn qty(v: &str) -> Quantity {
    Quantity { string: s(v) }
}

fn map<V: Clone>(pairs: &[(&str, V)]) -> BTreeMap<String, V> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// ObjectMeta as Go's marshaller writes it: every non-pointer field present, zero or not.
fn go_meta(name: &str, namespace: &str) -> Option<meta_v1::ObjectMeta> {
    Some(meta_v1::ObjectMeta {
        name: s(name),
        generate_name: s(""),
        namespace: s(namespace),
        self_link: s(""),
        uid: s(""),
        resource_version: s(""),
        generation: Some(0),
        creation_timestamp: Some(meta_v1::Time::default()),
        ..Default::default()
    })
}

/// The `k8s\0` + `runtime.Unknown` envelope around `raw`.
fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s(api_version),
            kind: s(kind),
        }),
        raw: Some(raw),
        content_encoding: s(""),
        content_type: s(""),
    };
    let mut out = b"k8s\0".to_vec();
    out.extend(unknown.encode_to_vec());
    out
}

fn roundtrip<M: Message>(api_version: &str, kind: &str, msg: &M) -> Value {
    decode(&envelope(api_version, kind, msg.encode_to_vec())).unwrap()
}

fn err_code(bytes: &[u8]) -> (u16, String) {
    let e = decode(bytes).unwrap_err();
    (e.code, e.message)
}

// ---------------------------------------------------------------- bodies captured from kubectl 1.32

#[test]
fn captured_create_configmap() {
    let body = b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12\x1d\x0a\x13\x0a\x03cm1\x12\x00\x1a\x00\"\x00*\x002\x008\x00B\x00\x12\x06\x0a\x01a\x12\x01b\x1a\x00\"\x00";
    let v = decode(body).unwrap();
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm1"},"data":{"a":"b"}}"#
    );
}

#[test]
fn captured_create_namespace() {
    let body = b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x1b\x0a\x13\x0a\x03foo\x12\x00\x1a\x00\"\x00*\x002\x008\x00B\x00\x12\x00\x1a\x02\x0a\x00\x1a\x00\"\x00";
    let v = decode(body).unwrap();
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"foo"},"spec":{},"status":{}}"#
    );
}

#[test]
fn captured_self_subject_access_review() {
    let body = b"k8s\x00\x0a2\x0a\x17authorization.k8s.io/v1\x12\x17SelfSubjectAccessReview\x12?\x0a\x10\x0a\x00\x12\x00\x1a\x00\"\x00*\x002\x008\x00B\x00\x12!\x0a\x1f\x0a\x07default\x12\x06create\x1a\x00\"\x00*\x04pods2\x00:\x00\x1a\x08\x08\x00\x12\x00\x1a\x00 \x00\x1a\x00\"\x00";
    let v = decode(body).unwrap();
    assert_eq!(
        v,
        json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}},
            "status": {"allowed": false}
        })
    );
}

#[test]
fn captured_self_subject_rules_review() {
    let body = b"k8s\x00\x0a1\x0a\x17authorization.k8s.io/v1\x12\x16SelfSubjectRulesReview\x12#\x0a\x10\x0a\x00\x12\x00\x1a\x00\"\x00*\x002\x008\x00B\x00\x12\x09\x0a\x07default\x1a\x04\x18\x00\"\x00\x1a\x00\"\x00";
    let v = decode(body).unwrap();
    assert_eq!(
        v,
        json!({
            "kind": "SelfSubjectRulesReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {},
            "spec": {"namespace": "default"},
            "status": {"resourceRules": null, "nonResourceRules": null, "incomplete": false}
        })
    );
}

#[test]
fn captured_self_subject_review() {
    let body = b"k8s\x00\x0a-\x0a\x18authentication.k8s.io/v1\x12\x11SelfSubjectReview\x12\x1a\x0a\x10\x0a\x00\x12\x00\x1a\x00\"\x00*\x002\x008\x00B\x00\x12\x06\x0a\x04\x0a\x00\x12\x00\x1a\x00\"\x00";
    let v = decode(body).unwrap();
    assert_eq!(
        v,
        json!({
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {},
            "status": {"userInfo": {}}
        })
    );
}

// ---------------------------------------------------------------- objects kubectl create builds

#[test]
fn secret_data_is_base64() {
    let secret = core_v1::Secret {
        metadata: go_meta("s1", ""),
        data: map(&[("p", b"q".to_vec()), ("bin", vec![0, 255, 1])]),
        r#type: s("Opaque"),
        ..Default::default()
    };
    let v = roundtrip("v1", "Secret", &secret);
    assert_eq!(
        v,
        json!({
            "kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": "s1"},
            "data": {"bin": "AP8B", "p": "cQ=="},
            "type": "Opaque"
        })
    );
}

#[test]
fn secret_tls_with_string_data_and_immutable() {
    let secret = core_v1::Secret {
        metadata: go_meta("tls", "prod"),
        immutable: Some(false),
        string_data: map(&[("k", "v".to_string())]),
        r#type: s("kubernetes.io/tls"),
        ..Default::default()
    };
    let v = roundtrip("v1", "Secret", &secret);
    assert_eq!(
        v,
        json!({
            "kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": "tls", "namespace": "prod"},
            "immutable": false,
            "stringData": {"k": "v"},
            "type": "kubernetes.io/tls"
        })
    );
}

#[test]
fn configmap_binary_data() {
    let cm = core_v1::ConfigMap {
        metadata: go_meta("c", ""),
        binary_data: map(&[("b", b"hi".to_vec())]),
        ..Default::default()
    };
    let v = roundtrip("v1", "ConfigMap", &cm);
    assert_eq!(
        v,
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "binaryData": {"b": "aGk="}})
    );
}

#[test]
fn service_account() {
    let sa = core_v1::ServiceAccount {
        metadata: go_meta("sa1", ""),
        automount_service_account_token: Some(false),
        image_pull_secrets: vec![core_v1::LocalObjectReference { name: s("regcred") }],
        ..Default::default()
    };
    let v = roundtrip("v1", "ServiceAccount", &sa);
    assert_eq!(
        v,
        json!({
            "kind": "ServiceAccount", "apiVersion": "v1",
            "metadata": {"name": "sa1"},
            "imagePullSecrets": [{"name": "regcred"}],
            "automountServiceAccountToken": false
        })
    );
}

#[test]
fn service_clusterip_in_go_field_order() {
    let svc = core_v1::Service {
        metadata: Some(meta_v1::ObjectMeta {
            labels: map(&[("app", "svc1".to_string())]),
            ..go_meta("svc1", "").unwrap()
        }),
        spec: Some(core_v1::ServiceSpec {
            ports: vec![core_v1::ServicePort {
                name: s("80-8080"),
                protocol: s("TCP"),
                port: Some(80),
                target_port: Some(IntOrString {
                    r#type: Some(0),
                    int_val: Some(8080),
                    str_val: s(""),
                }),
                node_port: Some(0),
                ..Default::default()
            }],
            selector: map(&[("app", "svc1".to_string())]),
            cluster_ip: s(""),
            r#type: s("ClusterIP"),
            session_affinity: s(""),
            load_balancer_ip: s(""),
            external_name: s(""),
            external_traffic_policy: s(""),
            health_check_node_port: Some(0),
            publish_not_ready_addresses: Some(false),
            ..Default::default()
        }),
        status: Some(core_v1::ServiceStatus {
            load_balancer: Some(Default::default()),
            ..Default::default()
        }),
    };
    let v = roundtrip("v1", "Service", &svc);
    // What `kubectl create service clusterip svc1 --tcp=80:8080 -o json --dry-run=client` prints
    // (less `creationTimestamp`, which Kubernetes 1.35 no longer writes when zero).
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        concat!(
            r#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"svc1","labels":{"app":"svc1"}},"#,
            r#""spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"#,
            r#""selector":{"app":"svc1"},"type":"ClusterIP"},"status":{"loadBalancer":{}}}"#
        )
    );
}

#[test]
fn service_named_target_port_and_pointers() {
    let svc = core_v1::Service {
        metadata: go_meta("web", ""),
        spec: Some(core_v1::ServiceSpec {
            ports: vec![core_v1::ServicePort {
                port: Some(443),
                target_port: Some(IntOrString {
                    r#type: Some(1),
                    int_val: Some(0),
                    str_val: s("https"),
                }),
                app_protocol: s(""),
                ..Default::default()
            }],
            cluster_ips: vec!["None".to_string()],
            ip_families: vec!["IPv4".to_string()],
            ip_family_policy: s("SingleStack"),
            session_affinity_config: Some(core_v1::SessionAffinityConfig {
                client_ip: Some(core_v1::ClientIpConfig {
                    timeout_seconds: Some(0),
                }),
            }),
            ..Default::default()
        }),
        status: None,
    };
    let v = roundtrip("v1", "Service", &svc);
    assert_eq!(
        v,
        json!({
            "kind": "Service", "apiVersion": "v1",
            "metadata": {"name": "web"},
            "spec": {
                "ports": [{"appProtocol": "", "port": 443, "targetPort": "https"}],
                "clusterIPs": ["None"],
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}},
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack"
            },
            "status": {"loadBalancer": {}}
        })
    );
}

#[test]
fn resource_quota() {
    let q = core_v1::ResourceQuota {
        metadata: go_meta("q1", ""),
        spec: Some(core_v1::ResourceQuotaSpec {
            hard: map(&[("pods", qty("10")), ("requests.cpu", qty("500m"))]),
            scopes: vec!["BestEffort".to_string()],
            scope_selector: None,
        }),
        status: Some(Default::default()),
    };
    let v = roundtrip("v1", "ResourceQuota", &q);
    assert_eq!(
        v,
        json!({
            "kind": "ResourceQuota", "apiVersion": "v1",
            "metadata": {"name": "q1"},
            "spec": {"hard": {"pods": "10", "requests.cpu": "500m"}, "scopes": ["BestEffort"]},
            "status": {}
        })
    );
}

#[test]
fn role_and_cluster_role_with_aggregation() {
    let role = rbac_v1::Role {
        metadata: go_meta("r1", ""),
        rules: vec![rbac_v1::PolicyRule {
            verbs: vec!["get".to_string()],
            api_groups: vec![String::new()],
            resources: vec!["pods".to_string()],
            ..Default::default()
        }],
    };
    let v = roundtrip("rbac.authorization.k8s.io/v1", "Role", &role);
    assert_eq!(
        v,
        json!({
            "kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "r1"},
            "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]
        })
    );

    let cr = rbac_v1::ClusterRole {
        metadata: go_meta("agg", ""),
        rules: vec![],
        aggregation_rule: Some(rbac_v1::AggregationRule {
            cluster_role_selectors: vec![meta_v1::LabelSelector {
                match_labels: map(&[("rbac.example.com/aggregate", "true".to_string())]),
                match_expressions: vec![meta_v1::LabelSelectorRequirement {
                    key: s("tier"),
                    operator: s("Exists"),
                    values: vec![],
                }],
            }],
        }),
    };
    let v = roundtrip("rbac.authorization.k8s.io/v1", "ClusterRole", &cr);
    assert_eq!(
        v,
        json!({
            "kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "agg"},
            "rules": null,
            "aggregationRule": {"clusterRoleSelectors": [{
                "matchLabels": {"rbac.example.com/aggregate": "true"},
                "matchExpressions": [{"key": "tier", "operator": "Exists"}]
            }]}
        })
    );
}

#[test]
fn role_bindings() {
    let subjects = vec![
        rbac_v1::Subject {
            kind: s("User"),
            api_group: s("rbac.authorization.k8s.io"),
            name: s("bob"),
            namespace: s(""),
        },
        rbac_v1::Subject {
            kind: s("ServiceAccount"),
            api_group: s(""),
            name: s("sa1"),
            namespace: s("default"),
        },
    ];
    let rb = rbac_v1::RoleBinding {
        metadata: go_meta("rb1", ""),
        subjects: subjects.clone(),
        role_ref: Some(rbac_v1::RoleRef {
            api_group: s("rbac.authorization.k8s.io"),
            kind: s("Role"),
            name: s("r1"),
        }),
    };
    let expected_subjects = json!([
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"},
        {"kind": "ServiceAccount", "name": "sa1", "namespace": "default"}
    ]);
    let v = roundtrip("rbac.authorization.k8s.io/v1", "RoleBinding", &rb);
    assert_eq!(
        v,
        json!({
            "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "rb1"},
            "subjects": expected_subjects,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r1"}
        })
    );

    let crb = rbac_v1::ClusterRoleBinding {
        metadata: go_meta("crb1", ""),
        subjects,
        role_ref: Some(rbac_v1::RoleRef {
            api_group: s("rbac.authorization.k8s.io"),
            kind: s("ClusterRole"),
            name: s("cr1"),
        }),
    };
    let v = roundtrip("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &crb);
    assert_eq!(v["subjects"], expected_subjects);
    assert_eq!(
        v["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cr1"})
    );
    assert_eq!(v["kind"], "ClusterRoleBinding");
}

#[test]
fn unset_role_ref_is_written_with_empty_strings() {
    // RoleRef is a non-pointer struct whose fields have no omitempty.
    let rb = rbac_v1::RoleBinding {
        metadata: go_meta("x", ""),
        ..Default::default()
    };
    let v = roundtrip("rbac.authorization.k8s.io/v1", "RoleBinding", &rb);
    assert_eq!(v["roleRef"], json!({"apiGroup": "", "kind": "", "name": ""}));
    assert!(v.get("subjects").is_none());
}

#[test]
fn non_resource_access_review() {
    let review = authz_v1::SelfSubjectAccessReview {
        metadata: None,
        spec: Some(authz_v1::SelfSubjectAccessReviewSpec {
            resource_attributes: None,
            non_resource_attributes: Some(authz_v1::NonResourceAttributes {
                path: s("/healthz"),
                verb: s("get"),
            }),
        }),
        status: None,
    };
    let v = roundtrip("authorization.k8s.io/v1", "SelfSubjectAccessReview", &review);
    assert_eq!(
        v,
        json!({
            "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {},
            "spec": {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}},
            "status": {"allowed": false}
        })
    );
}

#[test]
fn subject_access_review_extra() {
    let review = authz_v1::SubjectAccessReview {
        spec: Some(authz_v1::SubjectAccessReviewSpec {
            user: s("alice"),
            groups: vec!["dev".to_string()],
            extra: map(&[
                (
                    "scopes",
                    authz_v1::ExtraValue {
                        items: vec!["a".to_string(), "b".to_string()],
                    },
                ),
                ("none", authz_v1::ExtraValue { items: vec![] }),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let v = roundtrip("authorization.k8s.io/v1", "SubjectAccessReview", &review);
    assert_eq!(
        v["spec"],
        json!({"user": "alice", "groups": ["dev"], "extra": {"none": null, "scopes": ["a", "b"]}})
    );
}

#[test]
fn token_request_pointer_fields_without_omitempty() {
    let tr = authn_v1::TokenRequest {
        metadata: go_meta("sa1", "default"),
        spec: Some(authn_v1::TokenRequestSpec {
            audiences: vec![],
            expiration_seconds: Some(3600),
            bound_object_ref: None,
        }),
        status: None,
    };
    let v = roundtrip("authentication.k8s.io/v1", "TokenRequest", &tr);
    assert_eq!(
        v,
        json!({
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": "sa1", "namespace": "default"},
            "spec": {"audiences": null, "expirationSeconds": 3600, "boundObjectRef": null},
            "status": {"token": "", "expirationTimestamp": null}
        })
    );
}

// ---------------------------------------------------------------- Pod and nested types

#[test]
fn pod_with_containers_probes_volumes() {
    let pod = core_v1::Pod {
        metadata: go_meta("web", "default"),
        spec: Some(core_v1::PodSpec {
            volumes: vec![
                core_v1::Volume {
                    name: s("cache"),
                    volume_source: Some(core_v1::VolumeSource {
                        empty_dir: Some(core_v1::EmptyDirVolumeSource {
                            medium: s(""),
                            size_limit: Some(qty("1Gi")),
                        }),
                        ..Default::default()
                    }),
                },
                core_v1::Volume {
                    name: s("cfg"),
                    volume_source: Some(core_v1::VolumeSource {
                        config_map: Some(core_v1::ConfigMapVolumeSource {
                            local_object_reference: Some(core_v1::LocalObjectReference { name: s("c1") }),
                            default_mode: Some(420),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                },
            ],
            containers: vec![core_v1::Container {
                name: s("nginx"),
                image: s("nginx:1.27"),
                command: vec!["nginx".to_string()],
                ports: vec![core_v1::ContainerPort {
                    name: s("http"),
                    container_port: Some(80),
                    protocol: s("TCP"),
                    ..Default::default()
                }],
                env: vec![
                    core_v1::EnvVar {
                        name: s("A"),
                        value: s("1"),
                        value_from: None,
                    },
                    core_v1::EnvVar {
                        name: s("POD"),
                        value: s(""),
                        value_from: Some(core_v1::EnvVarSource {
                            field_ref: Some(core_v1::ObjectFieldSelector {
                                api_version: s("v1"),
                                field_path: s("metadata.name"),
                            }),
                            ..Default::default()
                        }),
                    },
                ],
                resources: Some(core_v1::ResourceRequirements {
                    limits: map(&[("cpu", qty("500m")), ("memory", qty("128Mi"))]),
                    ..Default::default()
                }),
                volume_mounts: vec![core_v1::VolumeMount {
                    name: s("cache"),
                    mount_path: s("/cache"),
                    read_only: Some(false),
                    ..Default::default()
                }],
                readiness_probe: Some(core_v1::Probe {
                    handler: Some(core_v1::ProbeHandler {
                        http_get: Some(core_v1::HttpGetAction {
                            path: s("/"),
                            port: Some(IntOrString {
                                r#type: Some(1),
                                int_val: Some(0),
                                str_val: s("http"),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    period_seconds: Some(5),
                    initial_delay_seconds: Some(0),
                    ..Default::default()
                }),
                image_pull_policy: s("IfNotPresent"),
                security_context: Some(core_v1::SecurityContext {
                    run_as_non_root: Some(true),
                    capabilities: Some(core_v1::Capabilities {
                        add: vec![],
                        drop: vec!["ALL".to_string()],
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            restart_policy: s("Always"),
            termination_grace_period_seconds: Some(30),
            node_selector: map(&[("disk", "ssd".to_string())]),
            tolerations: vec![core_v1::Toleration {
                key: s("k"),
                operator: s("Exists"),
                effect: s("NoSchedule"),
                toleration_seconds: None,
                value: s(""),
            }],
            ..Default::default()
        }),
        status: Some(core_v1::PodStatus {
            phase: s(""),
            ..Default::default()
        }),
    };
    let v = roundtrip("v1", "Pod", &pod);
    assert_eq!(
        v,
        json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "volumes": [
                    {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
                    {"name": "cfg", "configMap": {"name": "c1", "defaultMode": 420}}
                ],
                "containers": [{
                    "name": "nginx",
                    "image": "nginx:1.27",
                    "command": ["nginx"],
                    "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                    "env": [
                        {"name": "A", "value": "1"},
                        {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}
                    ],
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
                    "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                    "imagePullPolicy": "IfNotPresent",
                    "securityContext": {"capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}
                }],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "nodeSelector": {"disk": "ssd"},
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]
            },
            "status": {}
        })
    );
}

#[test]
fn minimal_pod_writes_go_zero_structs() {
    let pod = core_v1::Pod {
        metadata: go_meta("p", ""),
        spec: Some(core_v1::PodSpec {
            containers: vec![core_v1::Container {
                name: s("c"),
                image: s("busybox"),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: None,
    };
    let v = roundtrip("v1", "Pod", &pod);
    // `kubectl run p --image=busybox -o json --dry-run=client`, less creationTimestamp
    // and the fields kubectl sets (restartPolicy, dnsPolicy).
    assert_eq!(
        v,
        json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox", "resources": {}}]},
            "status": {}
        })
    );
}

// ---------------------------------------------------------------- apimachinery special types

#[test]
fn times_are_rfc3339_and_zero_is_null() {
    let ns = core_v1::Namespace {
        metadata: Some(meta_v1::ObjectMeta {
            name: s("n"),
            creation_timestamp: Some(meta_v1::Time {
                seconds: Some(1_764_042_000),
                nanos: Some(999),
            }),
            deletion_timestamp: Some(meta_v1::Time {
                seconds: Some(-62_135_596_800),
                nanos: Some(0),
            }),
            ..Default::default()
        }),
        spec: Some(core_v1::NamespaceSpec {
            finalizers: vec!["kubernetes".to_string()],
        }),
        status: Some(core_v1::NamespaceStatus {
            phase: s("Active"),
            conditions: vec![core_v1::NamespaceCondition {
                r#type: s("NamespaceDeletionDiscoveryFailure"),
                status: s("False"),
                last_transition_time: Some(meta_v1::Time {
                    seconds: Some(0),
                    nanos: None,
                }),
                ..Default::default()
            }],
        }),
    };
    let v = roundtrip("v1", "Namespace", &ns);
    assert_eq!(
        v["metadata"],
        json!({"name": "n", "creationTimestamp": "2025-11-25T03:40:00Z", "deletionTimestamp": null})
    );
    assert_eq!(v["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(
        v["status"],
        json!({"phase": "Active", "conditions": [{
            "type": "NamespaceDeletionDiscoveryFailure", "status": "False",
            "lastTransitionTime": "1970-01-01T00:00:00Z"
        }]})
    );
}

#[test]
fn time_dates_across_the_calendar() {
    let cases = [
        (951_782_400, "2000-02-29T00:00:00Z"),
        (4_107_542_399, "2100-02-28T23:59:59Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (-62_135_596_799, "0001-01-01T00:00:01Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ];
    for (secs, want) in cases {
        let t = meta_v1::Time {
            seconds: Some(secs),
            nanos: None,
        };
        assert_eq!(super::wire::time(&t).unwrap(), json!(want), "{secs}");
    }
    let far = meta_v1::Time {
        seconds: Some(i64::MAX),
        nanos: None,
    };
    assert_eq!(super::wire::time(&far).unwrap_err().code, 400);
    let far = meta_v1::Time {
        seconds: Some(i64::MIN),
        nanos: None,
    };
    assert_eq!(super::wire::time(&far).unwrap_err().code, 400);
}

#[test]
fn micro_time_and_lease() {
    let lease = coordination_v1::Lease {
        metadata: go_meta("l", "kube-system"),
        spec: Some(coordination_v1::LeaseSpec {
            holder_identity: s("node-1"),
            lease_duration_seconds: Some(40),
            renew_time: Some(meta_v1::MicroTime {
                seconds: Some(1_764_042_000),
                nanos: Some(123_456_789),
            }),
            acquire_time: Some(meta_v1::MicroTime {
                seconds: Some(1_764_042_000),
                nanos: Some(-1500),
            }),
            ..Default::default()
        }),
    };
    let v = roundtrip("coordination.k8s.io/v1", "Lease", &lease);
    assert_eq!(
        v["spec"],
        json!({
            "holderIdentity": "node-1",
            "leaseDurationSeconds": 40,
            "acquireTime": "2025-11-25T03:39:59.999999Z",
            "renewTime": "2025-11-25T03:40:00.123456Z"
        })
    );
}

#[test]
fn events_v1_event_time() {
    let ev = events_v1::Event {
        metadata: go_meta("e", "default"),
        event_time: Some(meta_v1::MicroTime {
            seconds: Some(0),
            nanos: Some(5000),
        }),
        reason: s("Started"),
        ..Default::default()
    };
    let v = roundtrip("events.k8s.io/v1", "Event", &ev);
    assert_eq!(v["eventTime"], json!("1970-01-01T00:00:00.000005Z"));
    assert_eq!(v["reason"], json!("Started"));
    assert_eq!(v["regarding"], json!({}));
}

#[test]
fn controller_revision_raw_extension() {
    let rev = apps_v1::ControllerRevision {
        metadata: go_meta("r", "default"),
        data: Some(RawExtension {
            raw: Some(br#"{"spec":{"replicas":3}}"#.to_vec()),
        }),
        revision: Some(2),
    };
    let v = roundtrip("apps/v1", "ControllerRevision", &rev);
    assert_eq!(v["data"], json!({"spec": {"replicas": 3}}));
    assert_eq!(v["revision"], json!(2));

    let bad = apps_v1::ControllerRevision {
        data: Some(RawExtension {
            raw: Some(b"\x0a\x01x".to_vec()),
        }),
        ..Default::default()
    };
    let (code, msg) = err_code(&envelope("apps/v1", "ControllerRevision", bad.encode_to_vec()));
    assert_eq!(code, 400);
    assert!(msg.contains("RawExtension"), "{msg}");
}

#[test]
fn managed_fields_v1() {
    let cm = core_v1::ConfigMap {
        metadata: Some(meta_v1::ObjectMeta {
            name: s("c"),
            managed_fields: vec![meta_v1::ManagedFieldsEntry {
                manager: s("kubectl"),
                operation: s("Update"),
                api_version: s("v1"),
                time: Some(meta_v1::Time {
                    seconds: Some(0),
                    nanos: None,
                }),
                fields_type: s("FieldsV1"),
                fields_v1: Some(meta_v1::FieldsV1 {
                    raw: Some(br#"{"f:data":{}}"#.to_vec()),
                }),
                subresource: s(""),
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let v = roundtrip("v1", "ConfigMap", &cm);
    assert_eq!(
        v["metadata"]["managedFields"],
        json!([{
            "manager": "kubectl", "operation": "Update", "apiVersion": "v1",
            "time": "1970-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}
        }])
    );
}

#[test]
fn stateful_set_template() {
    let sts = apps_v1::StatefulSet {
        metadata: go_meta("db", "default"),
        spec: Some(apps_v1::StatefulSetSpec {
            replicas: Some(3),
            selector: Some(meta_v1::LabelSelector {
                match_labels: map(&[("app", "db".to_string())]),
                match_expressions: vec![],
            }),
            template: Some(core_v1::PodTemplateSpec {
                metadata: Some(meta_v1::ObjectMeta {
                    labels: map(&[("app", "db".to_string())]),
                    ..Default::default()
                }),
                spec: Some(core_v1::PodSpec {
                    containers: vec![core_v1::Container {
                        name: s("db"),
                        image: s("pg"),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            }),
            service_name: s("db"),
            volume_claim_templates: vec![core_v1::PersistentVolumeClaim {
                metadata: go_meta("data", ""),
                spec: Some(core_v1::PersistentVolumeClaimSpec {
                    access_modes: vec!["ReadWriteOnce".to_string()],
                    resources: Some(core_v1::VolumeResourceRequirements {
                        requests: map(&[("storage", qty("1Gi"))]),
                        limits: BTreeMap::new(),
                    }),
                    ..Default::default()
                }),
                status: None,
            }],
            ..Default::default()
        }),
        status: None,
    };
    let v = roundtrip("apps/v1", "StatefulSet", &sts);
    assert_eq!(
        v,
        json!({
            "kind": "StatefulSet", "apiVersion": "apps/v1",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "db", "image": "pg", "resources": {}}]}
                },
                "volumeClaimTemplates": [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                    "status": {}
                }],
                "serviceName": "db",
                "updateStrategy": {}
            },
            "status": {"replicas": 0, "availableReplicas": 0}
        })
    );
}

#[test]
fn quantity_and_int_or_string_edge_cases() {
    let unset = core_v1::ResourceQuota {
        spec: Some(core_v1::ResourceQuotaSpec {
            hard: map(&[("pods", Quantity { string: None })]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let v = roundtrip("v1", "ResourceQuota", &unset);
    assert_eq!(v["spec"]["hard"], json!({"pods": "0"}));

    let empty = core_v1::ResourceQuota {
        spec: Some(core_v1::ResourceQuotaSpec {
            hard: map(&[("pods", qty(""))]),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        err_code(&envelope("v1", "ResourceQuota", empty.encode_to_vec())).0,
        400
    );

    let weird = core_v1::Service {
        spec: Some(core_v1::ServiceSpec {
            ports: vec![core_v1::ServicePort {
                target_port: Some(IntOrString {
                    r#type: Some(7),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let (code, msg) = err_code(&envelope("v1", "Service", weird.encode_to_vec()));
    assert_eq!(code, 400);
    assert!(msg.contains("IntOrString"), "{msg}");

    // An unset non-pointer IntOrString is Go's zero value, the int 0.
    let zero = core_v1::Service {
        spec: Some(core_v1::ServiceSpec {
            ports: vec![core_v1::ServicePort {
                port: Some(80),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let v = roundtrip("v1", "Service", &zero);
    assert_eq!(v["spec"]["ports"], json!([{"port": 80, "targetPort": 0}]));
}

// ---------------------------------------------------------------- envelope errors

#[test]
fn unknown_kind_is_415() {
    let body = envelope("apps/v1", "Deployment", vec![]);
    let e = decode(&body).unwrap_err();
    assert_eq!(e.code, 415);
    assert_eq!(e.reason, "UnsupportedMediaType");
    let body = envelope("v2", "ConfigMap", vec![]);
    assert_eq!(decode(&body).unwrap_err().code, 415);
}

#[test]
fn missing_type_meta_is_400() {
    let mut body = b"k8s\0".to_vec();
    body.extend(
        Unknown {
            raw: Some(vec![]),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    let (code, msg) = err_code(&body);
    assert_eq!(code, 400);
    assert!(msg.contains("Kind"), "{msg}");
    let body = envelope("", "ConfigMap", vec![]);
    assert_eq!(err_code(&body).0, 400);
}

#[test]
fn empty_raw_decodes_to_an_empty_object() {
    let v = decode(&envelope("v1", "ConfigMap", vec![])).unwrap();
    assert_eq!(
        v,
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {}})
    );
}

#[test]
fn malformed_bodies_are_400() {
    let good = envelope(
        "v1",
        "ConfigMap",
        core_v1::ConfigMap {
            metadata: go_meta("c", ""),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("json", br#"{"kind":"ConfigMap"}"#.to_vec()),
        ("wrong magic", b"k8t\0\x0a\x00".to_vec()),
        ("short magic", b"k8s".to_vec()),
        ("magic only", b"k8s\0".to_vec()),
        ("truncated envelope", good[..good.len() - 3].to_vec()),
        ("bad wire type", b"k8s\0\x0f".to_vec()),
        ("huge length", b"k8s\0\x0a\xff\xff\xff\xff\x0f".to_vec()),
        (
            "garbage raw",
            envelope("v1", "ConfigMap", b"\xff\xff\xff".to_vec()),
        ),
        (
            "raw truncated",
            envelope("v1", "ConfigMap", b"\x0a\x10\x0a".to_vec()),
        ),
        (
            "non-utf8 string",
            envelope("v1", "ConfigMap", b"\x0a\x03\x0a\x01\xff".to_vec()),
        ),
    ];
    for (what, body) in cases {
        let e = decode(&body).unwrap_err();
        assert_eq!(e.code, 400, "{what}: {e}");
        assert_eq!(e.reason, "BadRequest", "{what}");
    }
}

#[test]
fn every_kind_decodes_an_empty_object() {
    for (api_version, kind, _) in super::types::KINDS {
        let v = decode(&envelope(api_version, kind, vec![])).unwrap();
        assert_eq!(v["kind"], json!(kind));
        assert_eq!(v["apiVersion"], json!(api_version));
        assert!(v["metadata"].is_object(), "{kind}");
    }
}

proptest! {
    #[test]
    fn random_bytes_after_magic_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut body = b"k8s\0".to_vec();
        body.extend(tail);
        if let Err(e) = decode(&body) {
            prop_assert!(e.code == 400 || e.code == 415);
        }
    }

    #[test]
    fn random_raw_for_every_kind_never_panics(
        idx in 0usize..super::types::KINDS.len(),
        raw in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let (api_version, kind, _) = super::types::KINDS[idx];
        match decode(&envelope(api_version, kind, raw)) {
            Ok(v) => prop_assert_eq!(&v["kind"], &json!(kind)),
            Err(e) => prop_assert_eq!(e.code, 400),
        }
    }

    #[test]
    fn secret_values_roundtrip(data in proptest::collection::btree_map("[a-z.]{1,8}", proptest::collection::vec(any::<u8>(), 0..64), 0..4)) {
        use base64::Engine as _;
        let secret = core_v1::Secret { data: data.clone(), ..Default::default() };
        let v = roundtrip("v1", "Secret", &secret);
        for (k, bytes) in &data {
            let got = v["data"][k].as_str().unwrap();
            prop_assert_eq!(base64::engine::general_purpose::STANDARD.decode(got).unwrap(), bytes.clone());
        }
        prop_assert_eq!(v.get("data").is_some(), !data.is_empty());
    }
}
