//! The command line: one definition per flag, one module per subcommand.

mod controllers;
mod kubeconfig;
mod server;

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
    /// Run the controllers and the scheduler against a remote API server.
    Controllers(controllers::ControllersArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Server(args) => server::run(args),
        Command::Controllers(args) => controllers::run(args),
    }
}
