//! The agent's shell: registers the Node, renews its Lease, watches the pods bound to it and
//! reports their status (from [`crate::sim::pod_status`]); pods being deleted are finished
//! off (`gracePeriodSeconds: 0`) once their containers are stopped.

use crate::node::{lease_object, node_object, set_kubelet_port};
use crate::node_pods::NodePods;
use crate::sim;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, PodStatus};
use k8s_openapi::api::node::v1::RuntimeClass;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::{Client, ResourceExt};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How an agent identifies itself.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Node name (`kubernetes.io/hostname`).
    pub node_name: String,
    /// Zone (`topology.kubernetes.io/zone`), if any.
    pub zone: Option<String>,
    /// The node's pod network: `10.244.<n>.0/24` for `n` below 256 (all the host runtime's
    /// bridge has room for); simulated nodes beyond that continue into `10.245.0.0/24` and on.
    pub pod_subnet: u16,
    /// Bearer token the API server presents to this node's streaming server (exec, attach,
    /// port-forward, logs); the API server's `ApiStateOptions::node_stream_token`.
    pub stream_token: String,
    /// How the node runs pods.
    pub runtime: NodeRuntime,
    /// Where the node's `berth.dev/local` provisioner keeps volume directories.
    pub volume_root: std::path::PathBuf,
}

/// How a node runs its pods.
#[derive(Debug, Clone, Default)]
pub enum NodeRuntime {
    /// Simulated containers ([`crate::sim`]).
    #[default]
    Sim,
    /// Real processes ([`crate::host`]).
    Host(HostSettings),
}

/// Where the host runtime keeps its state and how it reaches the pod network.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// The node's state directory.
    pub root: std::path::PathBuf,
    /// The bridge's network namespace name.
    pub network_namespace: String,
    /// Host directories hidden from containers.
    pub masked: Vec<std::path::PathBuf>,
    /// The `berth` binary (for the shims).
    pub berth_exe: std::path::PathBuf,
}

/// Why the agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The streaming server (exec, attach, port-forward, logs) could not start.
    #[error("starting the streaming server of node {node}: {source}")]
    Streams {
        /// The node.
        node: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Registering the Node failed.
    #[error("registering node {node}: {source}")]
    Register {
        /// The node.
        node: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
}

fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn now_micro() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

async fn register(client: &Client, cfg: &AgentConfig, kubelet_port: u16) -> Result<String, kube::Error> {
    let nodes: Api<Node> = Api::all(client.clone());
    let runtime = match cfg.runtime {
        NodeRuntime::Sim => "sim",
        NodeRuntime::Host(_) => "host",
    };
    let mut desired = node_object(&cfg.node_name, cfg.zone.as_deref(), runtime, &now());
    set_kubelet_port(&mut desired, kubelet_port);
    let node = match nodes.get_opt(&cfg.node_name).await? {
        Some(n) => {
            let status = json!({"status": desired["status"].clone()});
            nodes
                .patch_status(&cfg.node_name, &PatchParams::default(), &Patch::Merge(&status))
                .await?;
            let labels = json!({"metadata": {"labels": desired["metadata"]["labels"].clone()}});
            nodes
                .patch(&cfg.node_name, &PatchParams::default(), &Patch::Merge(&labels))
                .await?;
            n
        }
        None => {
            let n: Node = serde_json::from_value(desired).map_err(kube::Error::SerdeError)?;
            nodes.create(&PostParams::default(), &n).await?
        }
    };
    tracing::info!(node = %cfg.node_name, zone = cfg.zone.as_deref().unwrap_or(""), "node registered");
    Ok(node.uid().unwrap_or_default())
}

async fn renew_lease(client: &Client, node: &str, node_uid: &str) -> Result<(), kube::Error> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let desired = lease_object(node, node_uid, &now_micro());
    if leases.get_opt(node).await?.is_some() {
        let patch = json!({"spec": desired["spec"].clone()});
        leases
            .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    } else {
        let lease: Lease = serde_json::from_value(desired).map_err(kube::Error::SerdeError)?;
        leases.create(&PostParams::default(), &lease).await?;
    }
    Ok(())
}

/// Runs the agent, with its own watch of the pods bound to its node, until the API goes away.
pub async fn run(client: Client, cfg: AgentConfig) -> Result<(), AgentError> {
    let pods = NodePods::watch(client.clone(), &cfg.node_name);
    run_with(client, cfg, pods).await
}

/// Runs the agent on `pods` (the pods bound to its node, e.g. from a [`crate::NodePodsHub`]
/// shared by the agents of one process) until the API goes away.
pub async fn run_with(client: Client, cfg: AgentConfig, pods: NodePods) -> Result<(), AgentError> {
    let kubelet_port =
        crate::sim_streams::start_server(stream_backend(&cfg.runtime), cfg.stream_token.clone())
            .await
            .map_err(|source| AgentError::Streams {
                node: cfg.node_name.clone(),
                source,
            })?;
    let mut node_uid = String::new();
    for attempt in 0..50 {
        match register(&client, &cfg, kubelet_port).await {
            Ok(uid) => {
                node_uid = uid;
                break;
            }
            Err(e) if attempt < 49 => {
                tracing::debug!(error = %e, "node registration failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(source) => {
                return Err(AgentError::Register {
                    node: cfg.node_name.clone(),
                    source,
                });
            }
        }
    }
    tokio::spawn(crate::provisioner::run(
        client.clone(),
        cfg.node_name.clone(),
        cfg.zone.clone(),
        cfg.volume_root.clone(),
    ));
    let mut changes = pods.changes();
    tokio::spawn(crate::volume_stats::run(
        client.clone(),
        cfg.node_name.clone(),
        pods.clone(),
    ));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut lease_tick = tokio::time::interval(Duration::from_secs(10));
    let mut ips: BTreeMap<String, String> = BTreeMap::new();
    // Simulated pods (by UID) whose status matched at this resourceVersion.
    let mut in_sync: BTreeMap<String, String> = BTreeMap::new();
    let mut host_workers = match &cfg.runtime {
        NodeRuntime::Sim => None,
        NodeRuntime::Host(settings) => Some(host_workers(&client, &cfg, settings)),
    };
    loop {
        tokio::select! {
            change = changes.next() => if change.is_none() { return Ok(()) },
            _ = tick.tick() => {}
            _ = lease_tick.tick() => {
                if let Err(e) = renew_lease(&client, &cfg.node_name, &node_uid).await {
                    tracing::warn!(error = %e, "renewing the node lease failed");
                }
                continue;
            }
        }
        berth_informer::settle(Duration::from_millis(2), Duration::from_millis(100), &mut changes).await;
        let mut current = pods.state();
        if let Some(workers) = host_workers.as_mut() {
            // Pods whose RuntimeClass names the `sim` handler are simulated even here.
            let handlers = runtime_handlers(&client, &current).await;
            let (simulated, real): (Vec<_>, Vec<_>) = current.into_iter().partition(|p| {
                let class = p.spec.as_ref().and_then(|s| s.runtime_class_name.as_deref());
                class.and_then(|c| handlers.get(c)).is_some_and(|h| h == "sim")
            });
            // Only a complete view may tear down pods that look gone.
            if pods.is_complete() {
                workers.sync(&real);
            }
            current = simulated;
        }
        let live: BTreeSet<String> = current.iter().filter_map(|p| p.uid()).collect();
        ips.retain(|uid, _| live.contains(uid));
        in_sync.retain(|uid, _| live.contains(uid));
        for pod in current {
            // A simulated pod's status follows from the object alone: a version already
            // brought in sync needs nothing until the pod changes again.
            let (uid, version) = (pod.uid().unwrap_or_default(), pod.resource_version());
            if version.is_some() && in_sync.get(&uid) == version.as_ref() {
                continue;
            }
            match sync_pod(&client, &cfg, &pod, &mut ips).await {
                Ok(SimSync::InSync) => {
                    if let Some(version) = version {
                        in_sync.insert(uid, version);
                    }
                }
                Ok(SimSync::Written) => {}
                Err(e) => tracing::debug!(pod = %pod.name_any(), error = %e, "pod sync failed; will retry"),
            }
        }
    }
}

/// The handler of every RuntimeClass the pods name (missing classes are left out).
async fn runtime_handlers(client: &Client, pods: &[std::sync::Arc<Pod>]) -> BTreeMap<String, String> {
    let mut handlers = BTreeMap::new();
    let classes: BTreeSet<&str> = pods
        .iter()
        .filter_map(|p| p.spec.as_ref().and_then(|s| s.runtime_class_name.as_deref()))
        .collect();
    let api: Api<RuntimeClass> = Api::all(client.clone());
    for class in classes {
        if let Ok(Some(rc)) = api.get_opt(class).await {
            handlers.insert(class.to_string(), rc.handler);
        }
    }
    handlers
}

fn host_workers(client: &Client, cfg: &AgentConfig, settings: &HostSettings) -> crate::host::PodWorkers {
    let rt = crate::host::HostRuntime {
        client: client.clone(),
        node_name: cfg.node_name.clone(),
        host_ip: "127.0.0.1".into(),
        root: settings.root.clone(),
        network: crate::host::network::PodNetwork {
            namespace: settings.network_namespace.clone(),
            // The server refuses more host nodes than the bridge's /16 has /24s.
            subnet: u8::try_from(cfg.pod_subnet).unwrap_or(u8::MAX),
            ipam_dir: settings.root.join("ipam"),
        },
        masked: settings.masked.clone(),
        berth_exe: settings.berth_exe.clone(),
    };
    crate::host::PodWorkers::new(std::sync::Arc::new(rt))
}

/// The runtime's answer to exec, attach, port-forward and logs.
fn stream_backend(runtime: &NodeRuntime) -> std::sync::Arc<dyn berth_stream::PodStreams> {
    match runtime {
        NodeRuntime::Sim => std::sync::Arc::new(crate::sim_streams::SimStreams),
        NodeRuntime::Host(settings) => std::sync::Arc::new(crate::host::streams::HostStreams {
            root: settings.root.clone(),
        }),
    }
}

/// The lowest free address in the node's pod network.
fn allocate_ip(cfg: &AgentConfig, ips: &BTreeMap<String, String>) -> String {
    let used: BTreeSet<&str> = ips.values().map(String::as_str).collect();
    let (second, third) = (244 + cfg.pod_subnet / 256, cfg.pod_subnet % 256);
    (2..=254u16)
        .map(|h| format!("10.{second}.{third}.{h}"))
        .find(|ip| !used.contains(ip.as_str()))
        .unwrap_or_else(|| format!("10.{second}.{third}.254"))
}

/// What one simulated pod sync did.
enum SimSync {
    /// The stored status already was the simulated one.
    InSync,
    /// A status (or the end of a graceful deletion) was written.
    Written,
}

async fn sync_pod(
    client: &Client,
    cfg: &AgentConfig,
    pod: &Pod,
    ips: &mut BTreeMap<String, String>,
) -> Result<SimSync, kube::Error> {
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let uid = pod.uid().unwrap_or_default();
    if pod.metadata.deletion_timestamp.is_some() {
        // The simulated containers stop at once: finish the graceful deletion.
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        return match api.delete(&pod.name_any(), &dp).await {
            Ok(_) => Ok(SimSync::Written),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(SimSync::Written),
            Err(e) => Err(e),
        };
    }
    let existing_ip = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .filter(|ip| !ip.is_empty());
    let ip = match (ips.get(&uid), existing_ip) {
        (Some(ip), _) => ip.clone(),
        (None, Some(ip)) => ip,
        (None, None) => allocate_ip(cfg, ips),
    };
    ips.insert(uid, ip.clone());
    let as_json = serde_json::to_value(pod).map_err(kube::Error::SerdeError)?;
    let computed = sim::pod_status(&as_json, &now(), "127.0.0.1", &ip);
    let desired: PodStatus = serde_json::from_value(computed).map_err(kube::Error::SerdeError)?;
    if pod.status.as_ref() == Some(&desired) {
        return Ok(SimSync::InSync);
    }
    let patch = json!({"status": desired});
    api.patch_status(&pod.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(SimSync::Written)
}
