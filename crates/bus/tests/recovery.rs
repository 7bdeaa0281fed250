//! RabbitMQ only: the broker closes every connection mid-stream (`rabbitmqctl
//! close_all_connections`) and nothing is lost: the consumer and the publisher recover by
//! themselves, deliveries from the dead channel refuse to be acked, and every message is
//! eventually acked. The test runs in a vhost of its own so that closing "all" connections
//! touches nobody else's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use common::{Job, amqp_config, amqp_uri, next, rabbitmqctl, skip_amqp, unique, uri_with_vhost};
use futures_util::FutureExt;
use herald_bus::{Bus, Error, QueueSpec};

const BEFORE: u32 = 200;
const AFTER: u32 = 50;
const ACKED_BEFORE_CLOSE: usize = 60;
const HELD_ACROSS_CLOSE: usize = 5;

#[tokio::test]
async fn closing_every_broker_connection_mid_stream_loses_nothing_and_consuming_resumes() {
    if skip_amqp() {
        return;
    }
    let vhost = unique("herald-test-vhost");
    rabbitmqctl(&["add_vhost", &vhost]);
    rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", ".*", ".*", ".*"]);
    let outcome = AssertUnwindSafe(recover_in(&vhost)).catch_unwind().await;
    rabbitmqctl(&["delete_vhost", &vhost]);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn recover_in(vhost: &str) {
    let config = amqp_config(uri_with_vhost(&amqp_uri(), vhost)).retry_for(Duration::from_secs(30));
    let bus = Bus::amqp(config).await.expect("RabbitMQ is not reachable");
    // Generous limit: each forced close counts as a failed delivery for what was in flight.
    let queue = unique("recovery");
    bus.declare_queue(&QueueSpec::new(&queue).max_deliveries(20))
        .await
        .unwrap();

    let mut expected = BTreeSet::new();
    for n in 0..BEFORE {
        expected.insert(bus.publish(&queue, &Job { n }).await.unwrap());
    }

    let mut consumer = bus.consume(&queue, 10).await.unwrap();
    let mut seen: BTreeMap<uuid::Uuid, u32> = BTreeMap::new();
    let mut acked = BTreeSet::new();
    for _ in 0..ACKED_BEFORE_CLOSE {
        let delivery = next(&mut consumer).await;
        *seen.entry(delivery.id()).or_default() += 1;
        acked.insert(delivery.id());
        delivery.ack().await.unwrap();
    }
    let mut held = Vec::new();
    for _ in 0..HELD_ACROSS_CLOSE {
        let delivery = next(&mut consumer).await;
        *seen.entry(delivery.id()).or_default() += 1;
        held.push(delivery);
    }

    rabbitmqctl(&["close_all_connections", "-p", vhost, "test"]);

    // Publishing recovers too: these go through a new connection and channel.
    for n in BEFORE..BEFORE + AFTER {
        expected.insert(bus.publish(&queue, &Job { n }).await.unwrap());
    }

    // The consumer carries on by itself. A delivery prefetched just before the close may still
    // come out of it; its ack then fails and the broker redelivers it.
    let mut stale_acks = 0;
    while acked != expected {
        let delivery = next(&mut consumer).await;
        let id = delivery.id();
        *seen.entry(id).or_default() += 1;
        assert!(expected.contains(&id), "unexpected message");
        match delivery.ack().await {
            Ok(()) => {
                acked.insert(id);
            }
            Err(Error::DeliveryChannelClosed) => stale_acks += 1,
            Err(other) => panic!("ack failed: {other}"),
        }
    }
    eprintln!(
        "recovered: {} messages acked, {} deliveries seen, {stale_acks} stale acks refused",
        acked.len(),
        seen.values().sum::<u32>()
    );
    assert!(
        stale_acks <= 10,
        "{stale_acks} stale deliveries: more than the prefetch"
    );

    // What was in flight on the dead channel cannot be acked any more: the broker requeued it,
    // and it was acked above when it came back.
    let held_ids: Vec<_> = held.iter().map(|d| d.id()).collect();
    for delivery in held {
        assert!(matches!(
            delivery.ack().await,
            Err(Error::DeliveryChannelClosed)
        ));
    }

    assert_eq!(acked, expected, "every message is eventually acked");
    for id in &held_ids {
        assert!(seen[id] >= 2, "held message {id} was not redelivered");
    }
    bus.delete_topology().await.unwrap();
    bus.close().await;
}
