//! `berth server`: starts the control plane in named phases: data directory, certificates,
//! store, API router, bootstrap objects, HTTPS listener, kubeconfig.

use anyhow::Context;
use berth_apiserver::auth::{TokenAuthenticator, UserInfo};
use berth_apiserver::{ApiState, ApiStateOptions, pki::Pki, serve};
use berth_store::{SqliteStore, SqliteStoreOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Flags of `berth server`.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Directory for the store, certificates and kubeconfig.
    #[arg(long, default_value = "./berth-data")]
    data_dir: PathBuf,
    /// Address of the HTTPS API listener.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Container runtime of the in-process node agents (`host`: real processes in Linux
    /// namespaces, needs root; `sim`: simulated, no processes).
    #[arg(long, value_enum, default_value_t = Runtime::Host)]
    runtime: Runtime,
    /// Number of in-process node agents (the host runtime's pod network has room for 256;
    /// simulated nodes go up to 10,000).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    nodes: u16,
    /// Zones assigned to the nodes round-robin (comma-separated), e.g. `a,b,c`.
    #[arg(long, value_delimiter = ',')]
    zones: Vec<String>,
    /// Do not run the controllers and the scheduler in-process (run `berth controllers`
    /// elsewhere instead).
    #[arg(long)]
    no_controllers: bool,
}

/// Container runtimes an in-process node agent can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Runtime {
    /// Real processes in their own namespaces, run from the host's filesystem.
    Host,
    /// Simulated: containers start instantly, readiness steered by annotations.
    Sim,
}

/// Runs the server until interrupted.
pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve_forever(args))
}

async fn serve_forever(args: ServerArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    let pki = Pki::load_or_create(&args.data_dir.join("pki")).context("preparing certificates")?;
    let store = SqliteStore::open(&args.data_dir.join("store.db"), SqliteStoreOptions::default())
        .context("opening the store")?;
    let admin = UserInfo {
        username: "admin".into(),
        uid: "admin".into(),
        groups: vec!["system:masters".into(), "system:authenticated".into()],
    };
    let authenticator = TokenAuthenticator::new([(pki.admin_token.clone(), admin)]);
    let state = Arc::new(
        ApiState::new(
            Arc::new(store),
            Arc::new(authenticator),
            ApiStateOptions {
                node_stream_token: pki.admin_token.clone(),
                ..ApiStateOptions::default()
            },
        )
        .with_metrics_source(Arc::new(berth_node::volume_stats::render)),
    );
    let router = berth_apiserver::router(state.clone());
    let system = UserInfo {
        username: "system:apiserver".into(),
        uid: "system:apiserver".into(),
        groups: vec!["system:masters".into()],
    };
    let internal = berth_apiserver::in_process(router.clone(), system);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "listening on {} (is another server running? pass --listen)",
                args.listen
            )
        })?;
    let local = listener.local_addr().context("reading the listener address")?;
    let driver = default_volume_driver(args.runtime);
    bootstrap::run(&internal, local, driver)
        .await
        .context("creating the built-in objects")?;
    let client = kube::Client::new(internal, "default");
    // One watch and one cache per type for the controllers, the scheduler and the node
    // agents of this process together.
    let informers = std::sync::Arc::new(berth_informer::Informers::new(client.clone()));
    if !args.no_controllers {
        tokio::spawn(berth_controllers::run_all(informers.clone()));
        tokio::spawn(berth_scheduler::binder::run(informers.clone()));
    }
    let node_pods = berth_node::NodePodsHub::start(&informers);
    let node_runtime = node_runtime(&args, &client).await?;
    for i in 0..args.nodes.max(1) {
        let zone = (!args.zones.is_empty()).then(|| args.zones[usize::from(i) % args.zones.len()].clone());
        let cfg = berth_node::AgentConfig {
            node_name: format!("node-{}", i + 1),
            zone,
            pod_subnet: i,
            stream_token: pki.admin_token.clone(),
            volume_root: args
                .data_dir
                .join("nodes")
                .join(format!("node-{}", i + 1))
                .join("volumes"),
            runtime: match &node_runtime {
                None => berth_node::NodeRuntime::Sim,
                Some(base) => berth_node::NodeRuntime::Host(berth_node::HostSettings {
                    root: base.root.join(format!("node-{}", i + 1)),
                    ..base.clone()
                }),
            },
        };
        let runtime = args.runtime;
        let client = client.clone();
        let pods = node_pods.node(&cfg.node_name);
        tokio::spawn(async move {
            tracing::info!(node = %cfg.node_name, ?runtime, "starting node agent");
            if let Err(e) = berth_node::run_with(client, cfg, pods).await {
                tracing::error!(error = %e, "node agent stopped");
            }
        });
    }
    let acceptor = serve::tls_acceptor(&pki).context("loading the serving certificate")?;
    let host = if local.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        local.ip().to_string()
    };
    let kubeconfig = args.data_dir.join("kubeconfig");
    super::kubeconfig::write(&kubeconfig, &format!("https://{host}:{}", local.port()), &pki)?;
    tracing::info!(address = %local, "serving the Kubernetes API over HTTPS");
    tracing::info!(
        "ready: export KUBECONFIG={} && kubectl get namespaces",
        kubeconfig.display()
    );
    tokio::select! {
        _ = serve::serve_tls(listener, acceptor, router) => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; shutting down"),
    }
    Ok(())
}

/// The volume driver of the default StorageClass: `ext4` (a loop-mounted image of exactly the
/// claimed size, so "100Mi" refuses the 101st MiB) when the node agents run real pods and the
/// machine has `mkfs.ext4`, `losetup` and loop devices; `dir` (no capacity enforcement, no
/// root needed) otherwise, e.g. for the simulated runtime.
fn default_volume_driver(runtime: Runtime) -> &'static str {
    let on_path = |tool: &str| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
            .any(|dir| dir.join(tool).is_file())
    };
    let loop_devices = std::path::Path::new("/dev/loop-control").exists();
    if runtime == Runtime::Host && loop_devices && on_path("mkfs.ext4") && on_path("losetup") {
        "ext4"
    } else {
        "dir"
    }
}

/// The host runtime's shared settings (`None` for the simulated runtime): the pod network's
/// namespace is created here, once per server.
async fn node_runtime(
    args: &ServerArgs,
    client: &kube::Client,
) -> anyhow::Result<Option<berth_node::HostSettings>> {
    if args.runtime != Runtime::Host {
        return Ok(None);
    }
    if args.nodes > 256 {
        anyhow::bail!(
            "the host runtime's pod network (10.244.0.0/16, a /24 per node) has room for 256 nodes, not {}: pass --nodes 256 or less, or --runtime sim",
            args.nodes
        );
    }
    let data_dir = args
        .data_dir
        .canonicalize()
        .with_context(|| format!("resolving {}", args.data_dir.display()))?;
    if !std::path::Path::new(berth_node::host::network::CNI_BIN)
        .join("bridge")
        .exists()
    {
        anyhow::bail!(
            "the host runtime needs the CNI plugins: apt-get install -y containernetworking-plugins (or pass --runtime sim)"
        );
    }
    let namespace = berth_node::host::network::namespace_name(&data_dir);
    berth_node::host::network::ensure_namespace(&namespace)
        .await
        .context("creating the pod network (the host runtime needs root; pass --runtime sim to simulate pods instead)")?;
    berth_node::host::dns::start(&namespace, client.clone())
        .await
        .context("starting the cluster DNS server")?;
    let berth_exe = std::env::current_exe().context("finding the berth binary")?;
    Ok(Some(berth_node::HostSettings {
        root: data_dir.join("nodes"),
        network_namespace: namespace,
        masked: vec![data_dir],
        berth_exe,
    }))
}

mod bootstrap {
    //! Objects every cluster starts with, created through the API like any client would:
    //! the built-in namespaces and the `kubernetes` Service with its Endpoints.

    use axum::body::Body;
    use http::{Method, Request, StatusCode};
    use serde_json::{Value, json};
    use std::net::SocketAddr;
    use tower::ServiceExt;

    /// Namespaces Kubernetes creates at start-up.
    const NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

    /// Creates the object at `collection` unless one of that name exists; true if created.
    async fn ensure(router: &axum::Router, collection: &str, body: Value) -> anyhow::Result<bool> {
        let name = body["metadata"]["name"].as_str().unwrap_or_default();
        let get = Request::builder()
            .method(Method::GET)
            .uri(format!("{collection}/{name}"))
            .body(Body::empty())?;
        if router.clone().oneshot(get).await?.status() == StatusCode::OK {
            return Ok(false);
        }
        let req = Request::builder()
            .method(Method::POST)
            .uri(collection)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))?;
        let resp = router.clone().oneshot(req).await?;
        match resp.status() {
            StatusCode::CREATED => Ok(true),
            StatusCode::CONFLICT => Ok(false),
            other => {
                let body = axum::body::to_bytes(resp.into_body(), 64 * 1024)
                    .await
                    .unwrap_or_default();
                anyhow::bail!(
                    "POST {collection}: HTTP {other}: {}",
                    String::from_utf8_lossy(&body)
                )
            }
        }
    }

    /// The StorageClass `standard` (Berth's node-local volumes with `driver`, the default
    /// class), created only when the cluster has no StorageClass at all, so a deleted or
    /// replaced default stays so.
    async fn default_storage_class(router: &axum::Router, driver: &str) -> anyhow::Result<()> {
        let collection = "/apis/storage.k8s.io/v1/storageclasses";
        let list = Request::builder()
            .method(Method::GET)
            .uri(collection)
            .body(Body::empty())?;
        let resp = router.clone().oneshot(list).await?;
        anyhow::ensure!(
            resp.status() == StatusCode::OK,
            "listing StorageClasses: HTTP {}",
            resp.status()
        );
        let body = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024).await?;
        let items = serde_json::from_slice::<Value>(&body)?["items"]
            .as_array()
            .map_or(0, Vec::len);
        if items > 0 {
            return Ok(());
        }
        let class = json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard",
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "berth.dev/local",
            "parameters": {"driver": driver},
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": true,
        });
        if ensure(router, collection, class).await? {
            tracing::info!(class = "standard", driver, "created the default StorageClass");
        }
        Ok(())
    }

    pub async fn run(router: &axum::Router, api: SocketAddr, volume_driver: &str) -> anyhow::Result<()> {
        for ns in NAMESPACES {
            let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            if ensure(router, "/api/v1/namespaces", body).await? {
                tracing::info!(namespace = ns, "created namespace");
            }
        }
        default_storage_class(router, volume_driver).await?;
        let labels = json!({"component": "apiserver", "provider": "kubernetes"});
        let service = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
            "spec": {"clusterIP": "10.96.0.1", "type": "ClusterIP", "sessionAffinity": "None",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": api.port()}]},
        });
        ensure(router, "/api/v1/namespaces/default/services", service).await?;
        let endpoints = json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": api.ip().to_string()}],
                         "ports": [{"name": "https", "port": api.port(), "protocol": "TCP"}]}],
        });
        if !ensure(router, "/api/v1/namespaces/default/endpoints", endpoints.clone()).await? {
            // The API may listen elsewhere than last time: point the endpoints at it, as
            // Kubernetes' API server reconciles its own endpoints at start-up.
            let patch = json!({"subsets": endpoints["subsets"].clone()});
            let req = Request::builder()
                .method(Method::PATCH)
                .uri("/api/v1/namespaces/default/endpoints/kubernetes")
                .header("content-type", "application/merge-patch+json")
                .body(Body::from(patch.to_string()))?;
            let status = router.clone().oneshot(req).await?.status();
            anyhow::ensure!(
                status == StatusCode::OK,
                "updating the kubernetes endpoints: HTTP {status}"
            );
        }
        Ok(())
    }
}
