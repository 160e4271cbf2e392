//! `berth agent`: a node agent on another machine (or another process), joining a running
//! server as the kubelet joins a cluster: it registers its Node, renews its Lease and runs
//! the pods the scheduler binds to it, through the same API every client uses.

use anyhow::Context;
use std::path::PathBuf;

/// Flags of `berth agent`.
#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    /// The API server's URL, e.g. `https://10.0.0.1:6443`.
    #[arg(long)]
    server: String,
    /// Bearer token to authenticate with (the server's `pki/admin.token`).
    #[arg(long, env = "BERTH_TOKEN")]
    token: String,
    /// The Node's name (`kubernetes.io/hostname`).
    #[arg(long)]
    node_name: String,
    /// The Node's zone (`topology.kubernetes.io/zone`).
    #[arg(long)]
    zone: Option<String>,
    /// Directory for the node's pods and volumes.
    #[arg(long, default_value = "./berth-agent-data")]
    data_dir: PathBuf,
    /// The third octet of this node's pod addresses (`10.244.<n>.0/24`); distinct per node.
    #[arg(long, default_value_t = 100)]
    pod_subnet: u8,
    /// The cluster CA certificate (the server's `pki/ca.crt`) to verify the server with.
    #[arg(long)]
    certificate_authority: Option<PathBuf>,
    /// Do not verify the server's certificate (testing only).
    #[arg(long)]
    insecure_skip_tls_verify: bool,
    /// `host` (real processes, needs root) or `sim` (simulated pods).
    #[arg(long, default_value = "host")]
    runtime: String,
}

/// Runs the agent until interrupted.
pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: AgentArgs) -> anyhow::Result<()> {
    let url: http::Uri = args.server.parse().context("parsing --server")?;
    let mut config = kube::Config::new(url);
    config.auth_info.token = Some(args.token.clone().into());
    match (&args.certificate_authority, args.insecure_skip_tls_verify) {
        (Some(ca), _) => {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            let certs = rustls_pemfile::certs(&mut pem.as_slice())
                .collect::<Result<Vec<_>, _>>()
                .context("parsing the CA certificate")?;
            config.root_cert = Some(certs.into_iter().map(|c| c.to_vec()).collect());
        }
        (None, true) => config.accept_invalid_certs = true,
        (None, false) => anyhow::bail!(
            "pass --certificate-authority <server data dir>/pki/ca.crt (or --insecure-skip-tls-verify for a test)"
        ),
    }
    let client = kube::Client::try_from(config).context("building the API client")?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize().context("resolving --data-dir")?;
    let node_root = data_dir.join("nodes").join(&args.node_name);
    let node_runtime = match args.runtime.as_str() {
        "sim" => berth_node::NodeRuntime::Sim,
        "host" => {
            let namespace = berth_node::host::network::namespace_name(&data_dir);
            berth_node::host::network::ensure_namespace(&namespace)
                .await
                .context("creating the pod network (the host runtime needs root)")?;
            berth_node::host::dns::start(&namespace, client.clone())
                .await
                .context("starting the cluster DNS server")?;
            berth_node::NodeRuntime::Host(berth_node::HostSettings {
                root: node_root.clone(),
                network_namespace: namespace,
                masked: vec![data_dir.clone()],
                berth_exe: std::env::current_exe().context("finding the berth binary")?,
            })
        }
        other => anyhow::bail!("unknown runtime {other:?}: use host or sim"),
    };
    let cfg = berth_node::AgentConfig {
        node_name: args.node_name.clone(),
        zone: args.zone.clone(),
        pod_subnet: u16::from(args.pod_subnet),
        stream_token: args.token.clone(),
        runtime: node_runtime,
        volume_root: node_root.join("volumes"),
    };
    tracing::info!(node = %args.node_name, server = %args.server, "starting node agent");
    tokio::select! {
        result = berth_node::run(client, cfg) => result.context("the node agent stopped")?,
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; pods keep running"),
    }
    Ok(())
}
