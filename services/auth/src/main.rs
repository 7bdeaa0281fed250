//! `herald-auth`: the auth service alone. Loads the configuration, starts telemetry, runs the
//! library.

use std::path::PathBuf;
use std::process::ExitCode;

use herald_auth::{Application, AuthConfig};
use herald_platform::shutdown::{CancellationToken, cancel_on_signals};
use herald_platform::{config, telemetry};

fn main() -> ExitCode {
    let file = std::env::var_os("HERALD_CONFIG").map(PathBuf::from);
    let config: AuthConfig = match config::load(file.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("herald-auth: {e}");
            return ExitCode::from(2);
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald-auth: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run(config: AuthConfig) -> anyhow::Result<()> {
    let mut telemetry = telemetry::init(&config.telemetry)?;
    let shutdown = CancellationToken::new();
    cancel_on_signals(shutdown.clone());
    let app = Application::build(config.clone(), shutdown).await?;
    tracing::info!(host = %config.http.host, port = app.port(), "herald-auth is listening");
    let outcome = app.run_until_stopped().await;
    telemetry.shutdown();
    Ok(outcome?)
}
