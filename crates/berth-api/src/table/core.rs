//! Printers for core/v1 kinds: Pod, Service, Endpoints, ConfigMap, Secret, ServiceAccount,
//! Namespace, Node, ResourceQuota and Event (also used for events.k8s.io Events).

use super::{
    AGE, Column, NAME, NAME_DOC, Printer, Row, age, arr_at, format_labels, int_at, map_len, meta_map, since,
    str_at, timestamp,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Pod

pub(crate) const POD: Printer = Printer {
    columns: &[
        NAME,
        Column::string("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        Column::string("Status", "The aggregate status of the containers in this pod."),
        Column::string(
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        AGE,
        Column::string(
            "IP",
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        )
        .wide(),
        Column::string(
            "Node",
            "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
        )
        .wide(),
        Column::string(
            "Nominated Node",
            "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
        )
        .wide(),
        Column::string(
            "Readiness Gates",
            "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
        )
        .wide(),
    ],
    row: pod_row,
};

/// `podutil.IsRestartableInitContainer`: an init container with `restartPolicy: Always`.
fn is_restartable_init_container(spec: Option<&Value>) -> bool {
    spec.is_some_and(|c| str_at(c, "/restartPolicy") == "Always")
}

fn condition_status<'a>(pod: &'a Value, ty: &str) -> Option<&'a str> {
    arr_at(pod, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == ty)
        .map(|c| str_at(c, "/status"))
}

/// The later of `current` and the container's `lastState.terminated.finishedAt`.
fn later_restart(current: Option<jiff::Timestamp>, status: &Value) -> Option<jiff::Timestamp> {
    if status.pointer("/lastState/terminated").is_none_or(Value::is_null) {
        return current;
    }
    let finished = timestamp(status.pointer("/lastState/terminated/finishedAt"));
    match (current, finished) {
        (Some(c), Some(f)) if c < f => Some(f),
        (None, f) => f,
        (c, _) => c,
    }
}

fn present<'a>(status: &'a Value, ptr: &str) -> Option<&'a Value> {
    status.pointer(ptr).filter(|v| !v.is_null())
}

/// `printPod`.
fn pod_row(pod: &Value, now: jiff::Timestamp) -> Row {
    let containers = arr_at(pod, "/spec/containers");
    let init_specs = arr_at(pod, "/spec/initContainers");
    let mut total = containers.len();
    let mut ready = 0usize;
    let mut restarts: i64 = 0;
    let mut restartable_restarts: i64 = 0;
    let mut last_restart: Option<jiff::Timestamp> = None;
    let mut last_restartable_restart: Option<jiff::Timestamp> = None;

    let phase = str_at(pod, "/status/phase");
    let mut reason = phase.to_string();
    let status_reason = str_at(pod, "/status/reason");
    if !status_reason.is_empty() {
        reason = status_reason.to_string();
    }
    for c in arr_at(pod, "/status/conditions") {
        if str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated" {
            reason = "SchedulingGated".to_string();
        }
    }

    let conditions = match phase {
        "Succeeded" => Some(
            json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully."}]),
        ),
        "Failed" => Some(json!([{"type": "Completed", "status": "True", "reason": "Failed",
            "message": "The pod failed."}])),
        _ => None,
    };

    let init_spec = |name: &str| init_specs.iter().find(|c| str_at(c, "/name") == name);
    total += init_specs
        .iter()
        .filter(|c| is_restartable_init_container(Some(c)))
        .count();

    let mut initializing = false;
    let init_statuses = arr_at(pod, "/status/initContainerStatuses");
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += int_at(c, "/restartCount", 0);
        last_restart = later_restart(last_restart, c);
        let restartable = is_restartable_init_container(init_spec(str_at(c, "/name")));
        if restartable {
            restartable_restarts += int_at(c, "/restartCount", 0);
            last_restartable_restart = later_restart(last_restartable_restart, c);
        }
        let terminated = present(c, "/state/terminated");
        let waiting = present(c, "/state/waiting");
        if terminated.is_some_and(|t| int_at(t, "/exitCode", 0) == 0) {
            continue;
        }
        if restartable && c.get("started").and_then(Value::as_bool) == Some(true) {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            let r = str_at(t, "/reason");
            reason = if r.is_empty() {
                let signal = int_at(t, "/signal", 0);
                if signal != 0 {
                    format!("Init:Signal:{signal}")
                } else {
                    format!("Init:ExitCode:{}", int_at(t, "/exitCode", 0))
                }
            } else {
                format!("Init:{r}")
            };
        } else if let Some(w) =
            waiting.filter(|w| !str_at(w, "/reason").is_empty() && str_at(w, "/reason") != "PodInitializing")
        {
            reason = format!("Init:{}", str_at(w, "/reason"));
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || condition_status(pod, "Initialized") == Some("True") {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        for c in arr_at(pod, "/status/containerStatuses").iter().rev() {
            restarts += int_at(c, "/restartCount", 0);
            last_restart = later_restart(last_restart, c);
            let waiting = present(c, "/state/waiting");
            let terminated = present(c, "/state/terminated");
            if let Some(w) = waiting.filter(|w| !str_at(w, "/reason").is_empty()) {
                reason = str_at(w, "/reason").to_string();
            } else if let Some(t) = terminated.filter(|t| !str_at(t, "/reason").is_empty()) {
                reason = str_at(t, "/reason").to_string();
            } else if let Some(t) = terminated {
                let signal = int_at(t, "/signal", 0);
                reason = if signal != 0 {
                    format!("Signal:{signal}")
                } else {
                    format!("ExitCode:{}", int_at(t, "/exitCode", 0))
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && present(c, "/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_status(pod, "Ready") == Some("True") {
                "Running"
            } else {
                "NotReady"
            }
            .to_string();
        }
    }

    let deleting = crate::meta::is_deleting(pod);
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
        _ => restarts.to_string(),
    };

    let or_none = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };
    let ip = match str_at(pod, "/status/podIPs/0/ip") {
        "" => str_at(pod, "/status/podIP"),
        ip => ip,
    };
    let gates = arr_at(pod, "/spec/readinessGates");
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_conditions = gates
            .iter()
            .filter(|g| condition_status(pod, str_at(g, "/conditionType")) == Some("True"))
            .count();
        format!("{true_conditions}/{}", gates.len())
    };

    Row {
        cells: vec![
            json!(crate::meta::name(pod)),
            json!(format!("{ready}/{total}")),
            json!(reason),
            json!(restarts_cell),
            age(pod, now),
            json!(or_none(ip)),
            json!(or_none(str_at(pod, "/spec/nodeName"))),
            json!(or_none(str_at(pod, "/status/nominatedNodeName"))),
            json!(readiness_gates),
        ],
        conditions,
    }
}

// ---------------------------------------------------------------------------------------------
// Service

pub(crate) const SERVICE: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Type",
            "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
        ),
        Column::string(
            "Cluster-IP",
            "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
        ),
        Column::string(
            "External-IP",
            "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.",
        ),
        Column::string(
            "Port(s)",
            "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
        ),
        AGE,
        Column::string(
            "Selector",
            "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
        )
        .wide(),
    ],
    row: service_row,
};

fn strings_at<'a>(obj: &'a Value, ptr: &str) -> Vec<&'a str> {
    arr_at(obj, ptr).iter().filter_map(Value::as_str).collect()
}

/// `loadBalancerStatusStringer` with `wide` (the apiserver always prints wide).
fn load_balancer_ips(svc: &Value) -> Vec<String> {
    let mut result: Vec<String> = arr_at(svc, "/status/loadBalancer/ingress")
        .iter()
        .filter_map(|i| {
            let ip = str_at(i, "/ip");
            let host = str_at(i, "/hostname");
            if !ip.is_empty() {
                Some(ip.to_string())
            } else if !host.is_empty() {
                Some(host.to_string())
            } else {
                None
            }
        })
        .collect();
    result.sort();
    result.dedup();
    result
}

/// `getServiceExternalIP`.
fn service_external_ip(svc: &Value) -> String {
    let external_ips = strings_at(svc, "/spec/externalIPs");
    match str_at(svc, "/spec/type") {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_ips(svc);
            if !external_ips.is_empty() {
                let mut all: Vec<String> = lb;
                all.extend(external_ips.iter().map(|s| (*s).to_string()));
                return all.join(",");
            }
            if lb.is_empty() {
                "<pending>".to_string()
            } else {
                lb.join(",")
            }
        }
        "ExternalName" => str_at(svc, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// `makePortString`: `5432/TCP`, `80:30080/TCP`.
fn service_ports(svc: &Value) -> String {
    let pieces: Vec<String> = arr_at(svc, "/spec/ports")
        .iter()
        .map(|p| {
            let port = int_at(p, "/port", 0);
            let protocol = match str_at(p, "/protocol") {
                "" => "TCP",
                proto => proto,
            };
            let node_port = int_at(p, "/nodePort", 0);
            if node_port > 0 {
                format!("{port}:{node_port}/{protocol}")
            } else {
                format!("{port}/{protocol}")
            }
        })
        .collect();
    if pieces.is_empty() {
        "<none>".to_string()
    } else {
        pieces.join(",")
    }
}

/// `printService`.
fn service_row(svc: &Value, now: jiff::Timestamp) -> Row {
    // `clusterIPs[0]`; defaulting keeps `clusterIPs` in step with `clusterIP`.
    let cluster_ip = match (str_at(svc, "/spec/clusterIPs/0"), str_at(svc, "/spec/clusterIP")) {
        ("", "") => "<none>",
        ("", ip) | (ip, _) => ip,
    };
    Row::new(vec![
        json!(crate::meta::name(svc)),
        json!(str_at(svc, "/spec/type")),
        json!(cluster_ip),
        json!(service_external_ip(svc)),
        json!(service_ports(svc)),
        age(svc, now),
        json!(format_labels(svc.pointer("/spec/selector"))),
    ])
}

// ---------------------------------------------------------------------------------------------
// Endpoints

pub(crate) const ENDPOINTS: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Endpoints",
            "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
        ),
        AGE,
    ],
    row: endpoints_row,
};

/// `net.JoinHostPort`.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints(endpoints, nil)`: the first three `ip:port`, then `+ N more...`.
fn format_endpoints(ep: &Value) -> String {
    let subsets = arr_at(ep, "/subsets");
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = arr_at(ss, "/addresses");
        let ports = arr_at(ss, "/ports");
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(str_at(a, "/ip").to_string());
            }
            continue;
        }
        for p in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(str_at(a, "/ip"), int_at(p, "/port", 0)));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

fn endpoints_row(ep: &Value, now: jiff::Timestamp) -> Row {
    Row::new(vec![
        json!(crate::meta::name(ep)),
        json!(format_endpoints(ep)),
        age(ep, now),
    ])
}

// ---------------------------------------------------------------------------------------------
// ConfigMap, Secret, ServiceAccount, Namespace

pub(crate) const CONFIG_MAP: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Data",
            "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
        ),
        AGE,
    ],
    row: |cm, now| {
        let data = map_len(cm, "/data") + map_len(cm, "/binaryData");
        Row::new(vec![json!(crate::meta::name(cm)), json!(data), age(cm, now)])
    },
};

pub(crate) const SECRET: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Type",
            "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
        ),
        Column::string(
            "Data",
            "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
        ),
        AGE,
    ],
    row: |s, now| {
        Row::new(vec![
            json!(crate::meta::name(s)),
            json!(str_at(s, "/type")),
            json!(map_len(s, "/data")),
            age(s, now),
        ])
    },
};

pub(crate) const SERVICE_ACCOUNT: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Secrets",
            "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret",
        ),
        AGE,
    ],
    row: |sa, now| {
        Row::new(vec![
            json!(crate::meta::name(sa)),
            json!(arr_at(sa, "/secrets").len()),
            age(sa, now),
        ])
    },
};

pub(crate) const NAMESPACE: Printer = Printer {
    columns: &[NAME, Column::string("Status", "The status of the namespace"), AGE],
    row: |ns, now| {
        Row::new(vec![
            json!(crate::meta::name(ns)),
            json!(str_at(ns, "/status/phase")),
            age(ns, now),
        ])
    },
};

// ---------------------------------------------------------------------------------------------
// Node

pub(crate) const NODE: Printer = Printer {
    columns: &[
        NAME,
        Column::string("Status", "The status of the node"),
        Column::string("Roles", "The roles of the node"),
        AGE,
        Column::string("Version", "Kubelet Version reported by the node."),
        Column::string("Internal-IP", NODE_ADDRESSES_DOC).wide(),
        Column::string("External-IP", NODE_ADDRESSES_DOC).wide(),
        Column::string("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).")
            .wide(),
        Column::string(
            "Kernel-Version",
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        )
        .wide(),
        Column::string(
            "Container-Runtime",
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        )
        .wide(),
    ],
    row: node_row,
};

const NODE_ADDRESSES_DOC: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values, sorted.
fn node_roles(node: &Value) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for (k, v) in meta_map(node, "labels") {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.push(role.to_string());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.push(v.to_string());
        }
    }
    roles.sort();
    roles.dedup();
    roles
}

fn node_address(node: &Value, ty: &str) -> String {
    arr_at(node, "/status/addresses")
        .iter()
        .find(|a| str_at(a, "/type") == ty)
        .map_or_else(|| "<none>".to_string(), |a| str_at(a, "/address").to_string())
}

/// `printNode`.
fn node_row(node: &Value, now: jiff::Timestamp) -> Row {
    // Conditions are keyed by type; the last one of a type wins, as in the Go map.
    let ready = arr_at(node, "/status/conditions")
        .iter()
        .rev()
        .find(|c| str_at(c, "/type") == "Ready");
    let mut status = vec![match ready {
        Some(c) if str_at(c, "/status") == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    let roles = node_roles(node);
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    let unknown = |s: &str| {
        if s.is_empty() {
            "<unknown>".to_string()
        } else {
            s.to_string()
        }
    };
    Row::new(vec![
        json!(crate::meta::name(node)),
        json!(status.join(",")),
        json!(roles),
        age(node, now),
        json!(str_at(node, "/status/nodeInfo/kubeletVersion")),
        json!(node_address(node, "InternalIP")),
        json!(node_address(node, "ExternalIP")),
        json!(unknown(str_at(node, "/status/nodeInfo/osImage"))),
        json!(unknown(str_at(node, "/status/nodeInfo/kernelVersion"))),
        json!(unknown(str_at(node, "/status/nodeInfo/containerRuntimeVersion"))),
    ])
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota

pub(crate) const RESOURCE_QUOTA: Printer = Printer {
    columns: &[
        NAME,
        Column::string(
            "Request",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column::string(
            "Limit",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
        AGE,
    ],
    row: resource_quota_row,
};

/// A quantity as stored (`Quantity.String()`; the zero quantity is `0`).
fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// `printResourceQuota`: `resource: used/hard` lists, `limits.*` in the Limit column.
fn resource_quota_row(rq: &Value, now: jiff::Timestamp) -> Row {
    let hard = rq.pointer("/status/hard").and_then(Value::as_object);
    let mut resources: Vec<&String> = hard.map(|h| h.keys().collect()).unwrap_or_default();
    resources.sort();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for r in resources {
        let used = quantity(rq.pointer("/status/used").and_then(|u| u.get(r)));
        let hard = quantity(hard.and_then(|h| h.get(r)));
        let entry = format!("{r}: {used}/{hard}");
        let pieces: Vec<&str> = r.split('.').collect();
        if pieces.len() > 1 && pieces[0] == "limits" {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    Row::new(vec![
        json!(crate::meta::name(rq)),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
        age(rq, now),
    ])
}

// ---------------------------------------------------------------------------------------------
// Event

pub(crate) const EVENT: Printer = Printer {
    columns: &[
        Column::string("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
        Column::string("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
        Column::string(
            "Reason",
            "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
        ),
        Column::string("Object", "The object that this event is about."),
        Column::string(
            "Subobject",
            "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
        )
        .wide(),
        Column::string("Source", "The component reporting this event. Should be a short machine understandable string.")
            .wide(),
        Column::string("Message", "A human-readable description of the status of this operation."),
        Column::string(
            "First Seen",
            "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
        )
        .wide(),
        Column::string("Count", "The number of times this event has occurred.").wide(),
        Column::string("Name", NAME_DOC).wide().name_format(),
    ],
    row: event_row,
};

/// The first present value among the pointers: core/v1 field names first, then the
/// events.k8s.io/v1 ones (`regarding`, `note`, `deprecated*`).
fn event_field<'a>(ev: &'a Value, ptrs: &[&str]) -> Option<&'a Value> {
    ptrs.iter().find_map(|p| ev.pointer(p).filter(|v| !v.is_null()))
}

fn event_str<'a>(ev: &'a Value, ptrs: &[&str]) -> &'a str {
    event_field(ev, ptrs).and_then(Value::as_str).unwrap_or("")
}

/// `printEvent` (wide).
fn event_row(ev: &Value, now: jiff::Timestamp) -> Row {
    let first_ts = timestamp(event_field(ev, &["/firstTimestamp", "/deprecatedFirstTimestamp"]));
    let first_seen = match first_ts {
        Some(t) => since(Some(t), now),
        None => since(timestamp(ev.pointer("/eventTime")), now),
    };
    let last_ts = timestamp(event_field(ev, &["/lastTimestamp", "/deprecatedLastTimestamp"]));
    let mut last_seen = match last_ts {
        Some(t) => since(Some(t), now),
        None => first_seen.clone(),
    };
    let mut count = event_field(ev, &["/count", "/deprecatedCount"])
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(series) = ev.get("series").filter(|s| !s.is_null()) {
        last_seen = since(timestamp(series.get("lastObservedTime")), now);
        count = int_at(series, "/count", 0);
    } else if count == 0 {
        count = 1;
    }
    let kind = event_str(ev, &["/involvedObject/kind", "/regarding/kind"]).to_lowercase();
    let name = event_str(ev, &["/involvedObject/name", "/regarding/name"]);
    let target = if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    };
    let component = [
        event_str(ev, &["/source/component", "/deprecatedSource/component"]),
        event_str(ev, &["/reportingComponent", "/reportingController"]),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .unwrap_or("");
    let instance = [
        event_str(ev, &["/source/host", "/deprecatedSource/host"]),
        event_str(ev, &["/reportingInstance"]),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .unwrap_or("");
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    Row::new(vec![
        json!(last_seen),
        json!(str_at(ev, "/type")),
        json!(str_at(ev, "/reason")),
        json!(target),
        json!(event_str(
            ev,
            &["/involvedObject/fieldPath", "/regarding/fieldPath"]
        )),
        json!(source),
        json!(event_str(ev, &["/message", "/note"]).trim()),
        json!(first_seen),
        json!(count),
        json!(crate::meta::name(ev)),
    ])
}
