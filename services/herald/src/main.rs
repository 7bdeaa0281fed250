//! The `herald` command. It only parses arguments, loads configuration, starts telemetry and
//! calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herald::{Application, HeraldConfig};
use herald_platform::shutdown::{CancellationToken, cancel_on_signals};
use herald_platform::{config, telemetry};

/// Herald sends WhatsApp template campaigns through Meta's Cloud API and follows every message to
/// its end.
#[derive(Parser)]
#[command(name = "herald", version, about)]
struct Cli {
    /// A TOML configuration file; `HERALD__SECTION__KEY` environment variables override it.
    #[arg(long, global = true, env = "HERALD_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start every Herald service in one process on one port.
    Serve,
    /// Load and validate the configuration, then exit: 0 when it is usable, 2 with every problem
    /// named by its key when it is not.
    CheckConfig,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config: HeraldConfig = match config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("herald: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::CheckConfig => {
            println!("herald: the configuration is valid");
            ExitCode::SUCCESS
        }
        Command::Serve => match serve(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("herald: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

#[tokio::main]
async fn serve(config: HeraldConfig) -> anyhow::Result<()> {
    let mut telemetry = telemetry::init(&config.telemetry)?;
    let shutdown = CancellationToken::new();
    cancel_on_signals(shutdown.clone());
    let app = Application::build(config.clone(), shutdown).await?;
    let url = format!("http://{}:{}", config.http.host, app.port());
    tracing::info!(%url, "herald is listening");
    // Also on stdout, plainly, for the person who just typed `make run`.
    println!("Herald is listening on {url} (health: {url}/healthz, metrics: {url}/metrics)");
    println!("Stop it with Ctrl-C.");
    let outcome = app.run_until_stopped().await;
    tracing::info!("herald stopped");
    telemetry.shutdown();
    Ok(outcome?)
}
