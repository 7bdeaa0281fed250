//! `/healthz` says the process is alive; `/readyz` says it can do its work: every dependency
//! check passes and no shutdown has begun. Kubernetes restarts on the first and routes traffic on
//! the second, so a draining replica reports not-ready while it finishes what it has.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::http::{ApiError, ErrorCode, FieldProblem};

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// How long one dependency check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The dependency checks behind `/readyz`.
#[derive(Clone)]
pub struct Readiness {
    checks: Vec<(String, Check)>,
    shutdown: CancellationToken,
}

impl Readiness {
    /// No checks yet; reports not-ready as soon as `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        Self {
            checks: Vec::new(),
            shutdown,
        }
    }

    /// Adds a named check (e.g. "store", "bus"); `Err` carries a short reason.
    pub fn with_check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let check: Check = Arc::new(move || Box::pin(check()));
        self.checks.push((name.into(), check));
        self
    }

    /// Runs every check concurrently; returns the failures.
    pub async fn failures(&self) -> Vec<FieldProblem> {
        if self.shutdown.is_cancelled() {
            return vec![FieldProblem {
                field: "process".to_owned(),
                message: "shutting down".to_owned(),
            }];
        }
        let runs = self.checks.iter().map(|(name, check)| async move {
            let outcome = match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            outcome.err().map(|message| FieldProblem {
                field: name.clone(),
                message,
            })
        });
        futures_util::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

#[derive(Serialize)]
struct Status {
    status: &'static str,
}

pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok" })
}

pub(crate) async fn readyz(readiness: web::Data<Readiness>) -> Result<HttpResponse, ApiError> {
    let failures = readiness.failures().await;
    if failures.is_empty() {
        return Ok(HttpResponse::Ok().json(Status { status: "ready" }));
    }
    let detail = failures
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ");
    // A 503 whose detail names the failing dependency: operators need it, and it reveals
    // nothing a client could use.
    Err(ApiError::new(ErrorCode::ServiceUnavailable, detail).with_field_problems(failures))
}
