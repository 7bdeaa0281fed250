//! Throughput of both adapters on loopback: publishes that each wait for the broker's confirm
//! (one at a time, then `IN_FLIGHT` at once), and consuming with an ack per message.
//!
//! `cargo bench -p herald-bus`. A bounded run: it stops by itself after `MESSAGES` messages per
//! phase. The RabbitMQ run uses `HERALD_TEST_AMQP_URI` (default: the local broker) and is
//! skipped with `HERALD_SKIP_AMQP_TESTS=1`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use herald_bus::{AmqpConfig, Bus, Event, QueueSpec};
use serde::{Deserialize, Serialize};

const MESSAGES: u32 = 20_000;
const SEQUENTIAL: u32 = 2_000;
const IN_FLIGHT: usize = 64;
const PREFETCH: u16 = 256;
/// The whole of one adapter's run; past it the benchmark gives up instead of hanging.
const GUARD: Duration = Duration::from_secs(300);

#[derive(Serialize, Deserialize)]
struct Job {
    message_id: String,
    attempt: u32,
}

impl Event for Job {
    const KIND: &'static str = "bench_job";
    const VERSION: u16 = 1;
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn per_second(count: u32, elapsed: Duration) -> f64 {
    f64::from(count) / elapsed.as_secs_f64()
}

async fn measure(name: &str, bus: &Bus) -> Result<(), BoxError> {
    let queue = format!("bench-{}", uuid::Uuid::new_v4().simple());
    bus.declare_queue(&QueueSpec::new(&queue)).await?;
    let job = |attempt| Job {
        message_id: "65f1c0ffee0123456789abcd".to_owned(),
        attempt,
    };

    let start = Instant::now();
    for n in 0..SEQUENTIAL {
        bus.publish(&queue, &job(n)).await?;
    }
    let sequential = start.elapsed();

    let start = Instant::now();
    let mut publishes = futures_util::stream::iter(0..MESSAGES)
        .map(|n| {
            let (bus, queue, job) = (bus.clone(), queue.clone(), job(n));
            async move { bus.publish(&queue, &job).await }
        })
        .buffer_unordered(IN_FLIGHT);
    while let Some(published) = publishes.next().await {
        published?;
    }
    let concurrent = start.elapsed();

    let total = SEQUENTIAL + MESSAGES;
    let mut consumer = bus.consume(&queue, PREFETCH).await?;
    let start = Instant::now();
    for _ in 0..total {
        let delivery = consumer.next().await.ok_or("consumer ended early")?;
        delivery.decode::<Job>()?;
        delivery.ack().await?;
    }
    let consumed = start.elapsed();
    drop(consumer);
    bus.delete_topology().await?;
    bus.close().await;

    println!(
        "{name:>6}  publish+confirm, 1 in flight:  {:>9.0} msg/s  ({SEQUENTIAL} in {sequential:.2?})",
        per_second(SEQUENTIAL, sequential)
    );
    println!(
        "{name:>6}  publish+confirm, {IN_FLIGHT} in flight: {:>9.0} msg/s  ({MESSAGES} in {concurrent:.2?})",
        per_second(MESSAGES, concurrent)
    );
    println!(
        "{name:>6}  consume+ack, prefetch {PREFETCH}:  {:>9.0} msg/s  ({total} in {consumed:.2?})",
        per_second(total, consumed)
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    tokio::time::timeout(GUARD, measure("memory", &Bus::memory())).await??;

    if std::env::var("HERALD_SKIP_AMQP_TESTS").is_ok_and(|v| v == "1") {
        println!("  amqp  skipped (HERALD_SKIP_AMQP_TESTS=1)");
        return Ok(());
    }
    let uri = std::env::var("HERALD_TEST_AMQP_URI")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let config = AmqpConfig::new(uri)
        .namespace(format!("herald-bench-{}", uuid::Uuid::new_v4().simple()))
        .connection_name("herald-bus-bench")
        .retry_for(Duration::from_secs(10));
    let bus = Bus::amqp(config).await?;
    tokio::time::timeout(GUARD, measure("amqp", &bus)).await??;
    Ok(())
}
