//! What the bus tests share: test events, a harness per adapter that gives each test its own
//! namespace and cleans it up, and receive helpers whose timeouts only guard against hangs.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::panic::AssertUnwindSafe;
use std::process::Command;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;
use herald_bus::{AmqpConfig, Bus, Consumer, Delivery, Event, QueueSpec};
use serde::{Deserialize, Serialize};

/// How long any single wait may take before the test is declared hung.
pub const GUARD: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub n: u32,
}

impl Event for Job {
    const KIND: &'static str = "test_job";
    const VERSION: u16 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignControl {
    pub campaign: String,
    pub action: String,
}

impl Event for CampaignControl {
    const KIND: &'static str = "campaign_control";
    const VERSION: u16 = 1;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherControl {
    pub note: String,
}

impl Event for OtherControl {
    const KIND: &'static str = "other_control";
    const VERSION: u16 = 1;
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// `HERALD_TEST_AMQP_URI`, or the local broker's default vhost.
pub fn amqp_uri() -> String {
    std::env::var("HERALD_TEST_AMQP_URI")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// The amqp tests run unless explicitly skipped: an unreachable broker fails them.
pub fn skip_amqp() -> bool {
    let skip = std::env::var("HERALD_SKIP_AMQP_TESTS").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("HERALD_SKIP_AMQP_TESTS=1: skipping a RabbitMQ test");
    }
    skip
}

pub fn amqp_config(uri: String) -> AmqpConfig {
    // Fail within seconds, not the production 30 s, when the broker is missing.
    AmqpConfig::new(uri)
        .namespace(unique("herald-test"))
        .connection_name("herald-bus-tests")
        .retry_for(Duration::from_secs(10))
}

/// One test's bus, plus how to get a second "replica" of it.
pub struct Harness {
    pub bus: Bus,
    config: Option<AmqpConfig>,
    replicas: Vec<Bus>,
}

impl Harness {
    pub fn memory() -> Self {
        Self {
            bus: Bus::memory(),
            config: None,
            replicas: Vec::new(),
        }
    }

    pub async fn amqp() -> Self {
        let config = amqp_config(amqp_uri());
        let bus = Bus::amqp(config.clone())
            .await
            .expect("RabbitMQ is not reachable (set HERALD_SKIP_AMQP_TESTS=1 to skip)");
        Self {
            bus,
            config: Some(config),
            replicas: Vec::new(),
        }
    }

    pub fn is_amqp(&self) -> bool {
        self.config.is_some()
    }

    /// Another handle on the same bus as a second process would have it: its own connection on
    /// RabbitMQ; on the in-process bus, the same bus (one process is the only replica).
    pub async fn replica(&mut self) -> Bus {
        let bus = match &self.config {
            Some(config) => Bus::amqp(config.clone()).await.expect("second connection"),
            None => self.bus.clone(),
        };
        self.replicas.push(bus.clone());
        bus
    }

    /// A queue with a name unique to this test.
    pub async fn queue(&self, max_deliveries: u32) -> String {
        let name = unique("q");
        self.bus
            .declare_queue(&QueueSpec::new(&name).max_deliveries(max_deliveries))
            .await
            .expect("declare queue");
        name
    }

    /// Runs `test` and then deletes what it declared, even when it panicked.
    pub async fn run(
        mut self,
        test: impl for<'a> FnOnce(&'a mut Harness) -> LocalBoxFuture<'a, ()>,
    ) {
        let outcome = AssertUnwindSafe(test(&mut self)).catch_unwind().await;
        for replica in &self.replicas {
            replica.close().await;
        }
        let cleaned = self.bus.delete_topology().await;
        self.bus.close().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
        cleaned.expect("delete topology");
    }
}

/// The next delivery, failing the test if none comes within [`GUARD`].
pub async fn next(consumer: &mut Consumer) -> Delivery {
    tokio::time::timeout(GUARD, consumer.next())
        .await
        .expect("no delivery within the guard time")
        .expect("consumer ended")
}

/// Runs `rabbitmqctl` with `args`, failing the test if it is missing or fails.
pub fn rabbitmqctl(args: &[&str]) -> String {
    let output = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl must be installed for the broker-recovery test");
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `base` with its vhost replaced by `vhost`.
pub fn uri_with_vhost(base: &str, vhost: &str) -> String {
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{vhost}", &base[..path_start])
}
