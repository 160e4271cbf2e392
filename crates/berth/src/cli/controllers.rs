//! `berth controllers`: runs the controllers and the scheduler against a remote API server
//! (the same code the server runs in-process), authenticated by a kubeconfig.

use anyhow::Context;
use std::path::PathBuf;

/// Flags of `berth controllers`.
#[derive(Debug, clap::Args)]
pub struct ControllersArgs {
    /// Kubeconfig of the cluster to control (e.g. `berth-data/kubeconfig`).
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: PathBuf,
}

/// Runs until interrupted.
pub fn run(args: ControllersArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let kubeconfig = kube::config::Kubeconfig::read_from(&args.kubeconfig)
            .with_context(|| format!("reading {}", args.kubeconfig.display()))?;
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .context("loading the kubeconfig")?;
        tracing::info!(server = %config.cluster_url, "running controllers against a remote API server");
        let client = kube::Client::try_from(config).context("building the API client")?;
        let informers = std::sync::Arc::new(berth_informer::Informers::new(client));
        tokio::select! {
            _ = berth_controllers::run_all(informers.clone()) => {}
            _ = berth_scheduler::binder::run(informers) => {}
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; shutting down"),
        }
        Ok(())
    })
}
