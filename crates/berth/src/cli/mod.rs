//! The command line: one definition per flag, one module per subcommand.

mod agent;
mod controllers;
mod kubeconfig;
mod reset;
mod server;
mod shim;

use clap::{Parser, Subcommand};

/// Berth: a single-binary, Kubernetes-compatible platform for stateful workloads.
#[derive(Debug, Parser)]
#[command(name = "berth", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the control plane (API server on an embedded store).
    Server(server::ServerArgs),
    /// Run a node agent that joins a remote API server.
    Agent(agent::AgentArgs),
    /// Run the controllers and the scheduler against a remote API server.
    Controllers(controllers::ControllersArgs),
    /// Stop every pod of a server's host-runtime nodes and remove their network.
    Reset(reset::ResetArgs),
    /// A pod sandbox or container shim (started by node agents).
    #[command(hide = true)]
    Shim(shim::ShimArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Server(args) => server::run(args),
        Command::Agent(args) => agent::run(args),
        Command::Controllers(args) => controllers::run(args),
        Command::Reset(args) => reset::run(args),
        Command::Shim(args) => shim::run(args),
    }
}
