//! `berth reset`: stops every pod a server's host-runtime nodes run, unmounts their volumes
//! and detaches their loop devices, and removes their network, as `kubeadm reset` does; for
//! tests and for starting over. The store, certificates and volume images stay unless `--all`
//! is given (a restarted server mounts the volumes again).

use anyhow::Context;
use std::path::PathBuf;

/// Flags of `berth reset`.
#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    /// The server's data directory.
    #[arg(long, default_value = "./berth-data")]
    data_dir: PathBuf,
    /// Also delete the whole data directory (store, certificates, volumes).
    #[arg(long)]
    all: bool,
}

/// Kills the shims, removes the pod state, unmounts the volumes, and removes the bridge
/// namespace.
pub fn run(args: ResetArgs) -> anyhow::Result<()> {
    let nodes = args.data_dir.join("nodes");
    let mut stopped = 0;
    for node in std::fs::read_dir(&nodes).into_iter().flatten().flatten() {
        berth_node::host::kill_all(&node.path());
        let pods = node.path().join("pods");
        if pods.exists() {
            std::fs::remove_dir_all(&pods).with_context(|| format!("removing {}", pods.display()))?;
            stopped += 1;
        }
        let _ = std::fs::remove_dir_all(node.path().join("ipam"));
        let volumes = node.path().join("volumes");
        let unmounted = berth_node::provisioner::mounts::release_tree(&std::path::absolute(&volumes)?)
            .with_context(|| format!("releasing the volumes under {}", volumes.display()))?;
        if unmounted > 0 {
            tracing::info!(volumes = %volumes.display(), unmounted, "volumes unmounted");
        }
    }
    let namespace = berth_node::host::network::namespace_name(&args.data_dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime
        .block_on(berth_node::host::network::remove_namespace(&namespace))
        .context("removing the pod network namespace")?;
    if args.all && args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("removing {}", args.data_dir.display()))?;
    }
    tracing::info!(nodes = stopped, namespace, "reset done");
    Ok(())
}
