//! One shutdown signal for the whole process.
//!
//! `main` creates a [`CancellationToken`], hands clones to every server and worker, and calls
//! [`cancel_on_signals`]. SIGTERM (what Kubernetes sends) or SIGINT (Ctrl-C) cancels it; each task
//! then finishes or hands back what it holds within its grace period.

use std::io;

use actix_web::dev::Server;
use tokio::task::JoinHandle;
pub use tokio_util::sync::CancellationToken;

/// Cancels `token` on the first SIGTERM or SIGINT.
pub fn cancel_on_signals(token: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let reason = wait_for_signal().await;
        tracing::info!(signal = reason, "shutdown requested");
        token.cancel();
    })
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        },
        // Without a SIGTERM handler Ctrl-C still works; say why the other one does not.
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops Herald");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

/// Runs an actix server until it stops by itself or `token` is cancelled; then stops it
/// gracefully: no new connections, in-flight requests get the server's `shutdown_timeout`.
/// Build the server with `disable_signals()` so that this token is the only stop signal.
pub async fn run_server_until(server: Server, token: CancellationToken) -> io::Result<()> {
    let handle = server.handle();
    let mut server = std::pin::pin!(server);
    tokio::select! {
        outcome = &mut server => return outcome,
        () = token.cancelled() => {}
    }
    // The server future runs the loop that carries out the stop, so it must keep being polled
    // while the stop is awaited.
    let (_, outcome) = tokio::join!(handle.stop(true), server);
    outcome
}
