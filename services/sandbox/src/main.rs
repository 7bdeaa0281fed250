//! `herald-sandbox`: loads the configuration, starts telemetry, runs the sandbox until SIGTERM or
//! Ctrl-C.

use std::path::PathBuf;

use clap::Parser;
use herald_platform::config;
use herald_platform::shutdown::{CancellationToken, cancel_on_signals};
use herald_platform::telemetry;
use herald_sandbox::{Application, SandboxConfig};

/// A local stand-in for Meta's WhatsApp Cloud API and its webhooks.
#[derive(Debug, Parser)]
#[command(name = "herald-sandbox", version)]
struct Cli {
    /// TOML configuration file; `HERALD__…` variables override it.
    #[arg(long, env = "HERALD_SANDBOX_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings: SandboxConfig = config::load(cli.config.as_deref())?;
    let mut guard = telemetry::init(&settings.telemetry)?;
    let app = Application::build(settings.clone())?;
    tracing::info!(
        port = app.port(),
        host = %settings.http.host,
        graph_prefix = %settings.routes.graph_prefix,
        admin_prefix = %settings.routes.admin_prefix,
        callback_url = ?settings.webhooks.callback_url,
        "herald-sandbox listening"
    );
    let shutdown = CancellationToken::new();
    cancel_on_signals(shutdown.clone());
    let outcome = app.run_until_stopped(shutdown).await;
    guard.shutdown();
    Ok(outcome?)
}
