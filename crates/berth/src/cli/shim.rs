//! `berth shim …`: the processes that own a pod's sandbox or one container on the host
//! runtime (see `berth_node::host::shim`). Started by node agents, never by people.

use std::path::PathBuf;

/// Flags of `berth shim`.
#[derive(Debug, clap::Args)]
pub struct ShimArgs {
    /// What to run.
    #[arg(value_enum)]
    role: Role,
    /// The sandbox or container directory holding `spec.json`.
    dir: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Role {
    /// Own a pod's network, UTS and IPC namespaces.
    Sandbox,
    /// Own one container run: start it, log its output, record its exit.
    Run,
    /// Become the container (inside its namespaces).
    Init,
}

/// Runs the shim; returns only on failure (or when the container ended, for `run`).
pub fn run(args: ShimArgs) -> anyhow::Result<()> {
    use berth_node::host::shim;
    match args.role {
        Role::Sandbox => shim::sandbox(&args.dir)?,
        Role::Run => shim::run(&args.dir)?,
        Role::Init => shim::init(&args.dir)?,
    }
    Ok(())
}
