//! The pod streaming subresources (`pods/exec`, `pods/attach`, `pods/portforward`,
//! `pods/log`) as pure decisions: which container a request means, whether it can stream
//! now, and where the pod's node serves it; Kubernetes' messages (`LogLocation`,
//! `streamLocation`, `validateContainer`, the kubelet's `validateContainerLogStatus`).
//! [`crate::node_proxy`] does the I/O.

use berth_api::status::ApiError;
use serde_json::Value;

/// The streaming subresources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    /// `pods/exec`.
    Exec,
    /// `pods/attach`.
    Attach,
    /// `pods/portforward`.
    PortForward,
    /// `pods/log`.
    Log,
}

impl StreamKind {
    fn from_subresource(s: &str) -> Option<StreamKind> {
        Some(match s {
            "exec" => StreamKind::Exec,
            "attach" => StreamKind::Attach,
            "portforward" => StreamKind::PortForward,
            "log" => StreamKind::Log,
            _ => return None,
        })
    }

    /// The subresource name.
    pub(crate) fn subresource(self) -> &'static str {
        match self {
            StreamKind::Exec => "exec",
            StreamKind::Attach => "attach",
            StreamKind::PortForward => "portforward",
            StreamKind::Log => "log",
        }
    }
}

/// A parsed streaming request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamTarget {
    pub namespace: String,
    pub pod: String,
    pub kind: StreamKind,
}

/// `/api/v1/namespaces/{ns}/pods/{name}/{exec|attach|portforward|log}`, else `None`.
pub(crate) fn parse_path(path: &str) -> Option<StreamTarget> {
    match path
        .trim_end_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["", "api", "v1", "namespaces", ns, "pods", name, sub] if !ns.is_empty() && !name.is_empty() => {
            Some(StreamTarget {
                namespace: (*ns).to_string(),
                pod: (*name).to_string(),
                kind: StreamKind::from_subresource(sub)?,
            })
        }
        _ => None,
    }
}

/// Every container name of the pod in `VisitContainers` order (init, regular, ephemeral).
fn container_names(pod: &Value) -> Vec<String> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| pod["spec"][k].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

/// Kubernetes' `validateContainer`: the requested container, or the only one.
pub(crate) fn container_for(pod: &Value, requested: Option<&str>) -> Result<String, ApiError> {
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    match requested.filter(|c| !c.is_empty()) {
        Some(c) => {
            if container_names(pod).iter().any(|n| n == c) {
                Ok(c.to_string())
            } else {
                Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )))
            }
        }
        None => {
            let regular = pod["spec"]["containers"].as_array().cloned().unwrap_or_default();
            match regular.len() {
                1 => Ok(regular[0]["name"].as_str().unwrap_or_default().to_string()),
                0 => Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}"
                ))),
                _ => Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    container_names(pod).join(" ")
                ))),
            }
        }
    }
}

/// The kubelet's container state checks before streaming: a waiting container (with no
/// terminated instance to show) cannot stream; `previous` needs a terminated instance.
pub(crate) fn check_container_state(pod: &Value, container: &str, previous: bool) -> Result<(), ApiError> {
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let status = [
        "initContainerStatuses",
        "containerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .flat_map(|k| pod["status"][k].as_array().cloned().unwrap_or_default())
    .find(|s| s["name"] == container);
    let Some(status) = status else {
        return Err(ApiError::bad_request(format!(
            "container {container:?} in pod {name:?} is waiting to start: ContainerCreating"
        )));
    };
    let last_terminated = status["lastState"]["terminated"].is_object();
    if previous {
        if !last_terminated {
            return Err(ApiError::bad_request(format!(
                "previous terminated container {container:?} in pod {name:?} not found"
            )));
        }
        return Ok(());
    }
    if let Some(waiting) = status["state"]["waiting"].as_object()
        && !last_terminated
    {
        let reason = waiting.get("reason").and_then(Value::as_str).unwrap_or("");
        let why = match reason {
            "ErrImagePull" => "image can't be pulled".to_string(),
            "ImagePullBackOff" => "trying and failing to pull image".to_string(),
            other => other.to_string(),
        };
        return Err(ApiError::bad_request(format!(
            "container {container:?} in pod {name:?} is waiting to start: {why}"
        )));
    }
    Ok(())
}

/// The node's streaming endpoint: its first `InternalIP` (else any address) and
/// `status.daemonEndpoints.kubeletEndpoint.Port`.
pub(crate) fn node_endpoint(node: &Value) -> Result<(String, u16), ApiError> {
    let addresses = node["status"]["addresses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let pick = |ty: &str| {
        addresses
            .iter()
            .find(|a| a["type"] == ty)
            .and_then(|a| a["address"].as_str())
            .map(str::to_string)
    };
    let host = pick("InternalIP")
        .or_else(|| pick("ExternalIP"))
        .or_else(|| pick("Hostname"));
    let Some(host) = host else {
        return Err(ApiError::internal(format!(
            "no preferred addresses found; known addresses: {}",
            Value::Array(addresses)
        )));
    };
    let port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| ApiError::internal("the node reports no kubelet endpoint port"))?;
    Ok((host, port))
}

/// One query parameter's first value.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// All values of a query parameter.
pub(crate) fn query_params(query: Option<&str>, name: &str) -> Vec<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// The node path and query for a validated request (Kubernetes' `*Location` functions, with
/// the pod UID in the path as the kubelet's UID-qualified routes allow).
pub(crate) fn node_path(kind: StreamKind, pod: &Value, container: &str, query: Option<&str>) -> String {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let uid = pod["metadata"]["uid"].as_str().unwrap_or_default();
    let mut q = form_urlencoded::Serializer::new(String::new());
    let src: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| k != "container")
        .collect();
    for (k, v) in &src {
        q.append_pair(k, v);
    }
    let enc = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    match kind {
        StreamKind::Exec | StreamKind::Attach => format!(
            "/{}/{}/{}/{}/{}?{}",
            kind.subresource(),
            enc(ns),
            enc(name),
            enc(uid),
            enc(container),
            q.finish()
        ),
        StreamKind::PortForward => format!(
            "/portForward/{}/{}/{}?{}",
            enc(ns),
            enc(name),
            enc(uid),
            q.finish()
        ),
        StreamKind::Log => {
            q.append_pair("podUID", uid);
            format!(
                "/containerLogs/{}/{}/{}?{}",
                enc(ns),
                enc(name),
                enc(container),
                q.finish()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(containers: &[&str]) -> Value {
        json!({
            "metadata": {"name": "web-0", "namespace": "default", "uid": "u1"},
            "spec": {"containers": containers.iter().map(|c| json!({"name": c})).collect::<Vec<_>>()},
            "status": {"containerStatuses": containers.iter().map(|c| json!({"name": c, "state": {"running": {}}})).collect::<Vec<_>>()},
        })
    }

    #[test]
    fn paths() {
        let t = parse_path("/api/v1/namespaces/default/pods/web-0/exec").expect("exec");
        assert_eq!(
            (t.namespace.as_str(), t.pod.as_str(), t.kind),
            ("default", "web-0", StreamKind::Exec)
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/a/pods/b/log").map(|t| t.kind),
            Some(StreamKind::Log)
        );
        assert_eq!(
            parse_path("/api/v1/namespaces/a/pods/b/portforward").map(|t| t.kind),
            Some(StreamKind::PortForward)
        );
        assert!(parse_path("/api/v1/namespaces/a/pods/b/status").is_none());
        assert!(parse_path("/api/v1/namespaces/a/pods/b").is_none());
    }

    #[test]
    fn container_selection_matches_validate_container() {
        assert_eq!(container_for(&pod(&["app"]), None).expect("only"), "app");
        let two = pod(&["a", "b"]);
        assert_eq!(
            container_for(&two, None).expect_err("ambiguous").message,
            "a container name must be specified for pod web-0, choose one of: [a b]"
        );
        assert_eq!(container_for(&two, Some("b")).expect("named"), "b");
        let e = container_for(&two, Some("c")).expect_err("unknown");
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "container c is not valid for pod web-0")
        );
        assert_eq!(
            container_for(&pod(&[]), None).expect_err("none").message,
            "a container name must be specified for pod web-0"
        );
    }

    #[test]
    fn waiting_containers_cannot_stream() {
        let mut p = pod(&["app"]);
        assert!(check_container_state(&p, "app", false).is_ok());
        p["status"]["containerStatuses"][0]["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
        let e = check_container_state(&p, "app", false).expect_err("waiting");
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                400,
                "container \"app\" in pod \"web-0\" is waiting to start: ContainerCreating"
            )
        );
        assert_eq!(
            check_container_state(&p, "app", true)
                .expect_err("no previous")
                .message,
            "previous terminated container \"app\" in pod \"web-0\" not found"
        );
        p["status"]["containerStatuses"][0]["lastState"] = json!({"terminated": {"exitCode": 1}});
        assert!(
            check_container_state(&p, "app", false).is_ok(),
            "the last instance can be shown"
        );
        assert!(check_container_state(&p, "app", true).is_ok());
        p["status"] = json!({});
        assert!(check_container_state(&p, "app", false).is_err());
    }

    #[test]
    fn node_endpoints() {
        let node = json!({"status": {
            "addresses": [{"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 41234}},
        }});
        assert_eq!(
            node_endpoint(&node).expect("endpoint"),
            ("127.0.0.1".to_string(), 41234)
        );
        assert!(node_endpoint(&json!({"status": {"addresses": []}})).is_err());
        let no_port = json!({"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}});
        assert!(node_endpoint(&no_port).is_err());
    }

    #[test]
    fn node_paths_carry_the_query_without_the_container() {
        let p = pod(&["app"]);
        assert_eq!(
            node_path(
                StreamKind::Exec,
                &p,
                "app",
                Some("command=sh&command=-c&command=echo+hi&container=app&stdout=true")
            ),
            "/exec/default/web-0/u1/app?command=sh&command=-c&command=echo+hi&stdout=true"
        );
        assert_eq!(
            node_path(StreamKind::PortForward, &p, "", Some("ports=80")),
            "/portForward/default/web-0/u1?ports=80"
        );
        assert_eq!(
            node_path(StreamKind::Log, &p, "app", Some("follow=true")),
            "/containerLogs/default/web-0/app?follow=true&podUID=u1"
        );
        assert_eq!(query_params(Some("command=a&command=b"), "command"), ["a", "b"]);
        assert_eq!(
            query_param(Some("container=x"), "container").as_deref(),
            Some("x")
        );
    }
}
