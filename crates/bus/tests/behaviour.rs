//! The bus's behaviour, written once and run against both adapters: `memory::*` in process,
//! `amqp::*` against the RabbitMQ at `HERALD_TEST_AMQP_URI` (skipped only with
//! `HERALD_SKIP_AMQP_TESTS=1`; an unreachable broker fails them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{CampaignControl, GUARD, Harness, Job, OtherControl, next};
use herald_bus::{Bus, Error, QueueSpec};
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

/// Generates `memory::$test` and `amqp::$test` for each behaviour below.
macro_rules! on_both_adapters {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    super::common::Harness::memory().run(|h| Box::pin(super::$test(h))).await;
                }
            )*
        }
        mod amqp {
            $(
                #[tokio::test]
                async fn $test() {
                    if super::common::skip_amqp() {
                        return;
                    }
                    super::common::Harness::amqp().await.run(|h| Box::pin(super::$test(h))).await;
                }
            )*
        }
    };
}

on_both_adapters!(
    a_published_message_is_consumed_and_gone_once_acked,
    a_message_held_by_a_dropped_consumer_is_redelivered_to_another,
    a_dropped_delivery_is_requeued,
    a_poison_message_ends_in_the_dead_letter_queue_after_max_deliveries,
    a_rejected_message_goes_straight_to_the_dead_letter_queue,
    a_delayed_message_arrives_no_earlier_than_its_delay,
    control_events_reach_every_subscriber_on_every_replica,
    the_trace_context_travels_with_the_message,
    publishing_to_an_undeclared_queue_is_an_error,
    consuming_an_undeclared_queue_is_an_error,
    redeclaring_a_queue_is_idempotent,
    redeclaring_a_queue_with_another_delivery_limit_is_refused,
    closing_the_bus_ends_its_consumers,
);

async fn a_published_message_is_consumed_and_gone_once_acked(h: &mut Harness) {
    let queue = h.queue(5).await;
    let id = h.bus.publish(&queue, &Job { n: 1 }).await.unwrap();

    let mut consumer = h.bus.consume(&queue, 10).await.unwrap();
    let delivery = next(&mut consumer).await;
    assert_eq!(delivery.id(), id);
    assert_eq!(delivery.decode::<Job>().unwrap(), Job { n: 1 });
    assert_eq!(delivery.message().kind(), "test_job");
    assert_eq!(delivery.message().version(), 1);
    assert_eq!(delivery.delivery_count(), 1);
    delivery.ack().await.unwrap();
    drop(consumer);

    // Had the ack been lost, the first message would come back before (or instead of) this one.
    let marker = h.bus.publish(&queue, &Job { n: 2 }).await.unwrap();
    let mut consumer = h.bus.consume(&queue, 10).await.unwrap();
    let delivery = next(&mut consumer).await;
    assert_eq!(delivery.id(), marker);
    delivery.ack().await.unwrap();
}

async fn a_message_held_by_a_dropped_consumer_is_redelivered_to_another(h: &mut Harness) {
    let queue = h.queue(5).await;
    let id = h.bus.publish(&queue, &Job { n: 7 }).await.unwrap();

    let mut first = h.bus.consume(&queue, 1).await.unwrap();
    let held = next(&mut first).await;
    assert_eq!(held.id(), id);
    drop(first); // e.g. the worker crashed while handling it

    let mut second = h.bus.consume(&queue, 1).await.unwrap();
    let again = next(&mut second).await;
    assert_eq!(again.id(), id);
    assert_eq!(again.delivery_count(), 2);

    // The first consumer's channel is gone: its late ack must not pretend to have worked.
    assert!(matches!(
        held.ack().await,
        Err(Error::DeliveryChannelClosed)
    ));
    again.ack().await.unwrap();
}

async fn a_dropped_delivery_is_requeued(h: &mut Harness) {
    let queue = h.queue(5).await;
    let id = h.bus.publish(&queue, &Job { n: 3 }).await.unwrap();
    let mut consumer = h.bus.consume(&queue, 1).await.unwrap();

    let delivery = next(&mut consumer).await;
    drop(delivery); // a handler that panicked or was cancelled

    let again = next(&mut consumer).await;
    assert_eq!(again.id(), id);
    assert_eq!(again.delivery_count(), 2);
    again.ack().await.unwrap();
}

async fn a_poison_message_ends_in_the_dead_letter_queue_after_max_deliveries(h: &mut Harness) {
    const MAX: u32 = 3;
    let queue = h.queue(MAX).await;
    let id = h.bus.publish(&queue, &Job { n: 666 }).await.unwrap();

    let mut consumer = h.bus.consume(&queue, 1).await.unwrap();
    for attempt in 1..=MAX {
        let delivery = next(&mut consumer).await;
        assert_eq!(delivery.id(), id);
        assert_eq!(delivery.delivery_count(), attempt);
        delivery.nack_requeue().await.unwrap();
    }

    let mut dead = h.bus.consume_dead_letters(&queue, 1).await.unwrap();
    let delivery = next(&mut dead).await;
    assert_eq!(delivery.id(), id);
    assert_eq!(delivery.decode::<Job>().unwrap(), Job { n: 666 });
    delivery.ack().await.unwrap();

    // The work queue goes on with other messages: the poison one is not looping in it.
    let marker = h.bus.publish(&queue, &Job { n: 1 }).await.unwrap();
    let delivery = next(&mut consumer).await;
    assert_eq!(delivery.id(), marker);
    delivery.ack().await.unwrap();
}

async fn a_rejected_message_goes_straight_to_the_dead_letter_queue(h: &mut Harness) {
    let queue = h.queue(5).await;
    let id = h.bus.publish(&queue, &Job { n: 9 }).await.unwrap();
    let mut consumer = h.bus.consume(&queue, 1).await.unwrap();
    next(&mut consumer)
        .await
        .reject_to_dead_letter()
        .await
        .unwrap();

    let mut dead = h.bus.consume_dead_letters(&queue, 1).await.unwrap();
    let delivery = next(&mut dead).await;
    assert_eq!(delivery.id(), id);
    delivery.ack().await.unwrap();
}

async fn a_delayed_message_arrives_no_earlier_than_its_delay(h: &mut Harness) {
    const DELAY: Duration = Duration::from_millis(1500);
    let queue = h.queue(5).await;
    let mut consumer = h.bus.consume(&queue, 10).await.unwrap();

    let start = Instant::now();
    let delayed = h
        .bus
        .publish_delayed(&queue, &Job { n: 1 }, DELAY)
        .await
        .unwrap();
    let immediate = h.bus.publish(&queue, &Job { n: 2 }).await.unwrap();

    let first = next(&mut consumer).await;
    assert_eq!(first.id(), immediate, "the delayed message overtook");
    first.ack().await.unwrap();

    let second = next(&mut consumer).await;
    let elapsed = start.elapsed();
    assert_eq!(second.id(), delayed);
    assert!(
        elapsed >= DELAY,
        "arrived after {elapsed:?}, delay {DELAY:?}"
    );
    assert_eq!(second.delivery_count(), 1);
    second.ack().await.unwrap();
}

async fn control_events_reach_every_subscriber_on_every_replica(h: &mut Harness) {
    let replica = h.replica().await;
    let mut here_a = h.bus.subscribe::<CampaignControl>().await.unwrap();
    let mut here_b = h.bus.subscribe::<CampaignControl>().await.unwrap();
    let mut there = replica.subscribe::<CampaignControl>().await.unwrap();

    // Another kind is not delivered to these subscribers.
    h.bus
        .broadcast(&OtherControl {
            note: "ignore me".into(),
        })
        .await
        .unwrap();
    let pause = CampaignControl {
        campaign: "c1".into(),
        action: "pause".into(),
    };
    replica.broadcast(&pause).await.unwrap();

    for subscription in [&mut here_a, &mut here_b, &mut there] {
        let event = tokio::time::timeout(GUARD, subscription.recv())
            .await
            .expect("no control event within the guard time")
            .unwrap();
        assert_eq!(event, pause);
    }
}

async fn the_trace_context_travels_with_the_message(h: &mut Harness) {
    let queue = h.queue(5).await;
    let trace_id = TraceId::from_bytes(*uuid::Uuid::new_v4().as_bytes());
    let span_id = SpanId::from_bytes(7u64.to_be_bytes());
    let parent = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ));
    h.bus
        .publish(&queue, &Job { n: 1 })
        .with_context(parent)
        .await
        .unwrap();

    let mut consumer = h.bus.consume(&queue, 1).await.unwrap();
    let delivery = next(&mut consumer).await;
    let extracted = delivery.parent_context();
    let span = extracted.span();
    assert_eq!(span.span_context().trace_id(), trace_id);
    assert_eq!(span.span_context().span_id(), span_id);
    assert!(span.span_context().is_sampled());
    delivery.ack().await.unwrap();
}

async fn publishing_to_an_undeclared_queue_is_an_error(h: &mut Harness) {
    let result = h.bus.publish("never-declared", &Job { n: 1 }).await;
    assert!(
        matches!(result, Err(Error::Unroutable { ref queue, .. }) if queue == "never-declared"),
        "{result:?}"
    );
    let delayed = h
        .bus
        .publish_delayed("never-declared", &Job { n: 1 }, Duration::from_secs(1))
        .await;
    assert!(delayed.is_err(), "{delayed:?}");
    // The bus is still usable afterwards.
    let queue = h.queue(5).await;
    h.bus.publish(&queue, &Job { n: 2 }).await.unwrap();
}

async fn consuming_an_undeclared_queue_is_an_error(h: &mut Harness) {
    let result = h.bus.consume("never-declared", 1).await;
    assert!(matches!(result, Err(Error::UnknownQueue(_))), "{result:?}");
}

async fn redeclaring_a_queue_is_idempotent(h: &mut Harness) {
    let queue = h.queue(4).await;
    let spec = QueueSpec::new(&queue).max_deliveries(4);
    h.bus.declare_queue(&spec).await.unwrap();
    let id = h.bus.publish(&queue, &Job { n: 1 }).await.unwrap();
    // Redeclaring keeps what is queued.
    h.bus.declare_queue(&spec).await.unwrap();
    let mut consumer = h.bus.consume(&queue, 1).await.unwrap();
    let delivery = next(&mut consumer).await;
    assert_eq!(delivery.id(), id);
    delivery.ack().await.unwrap();
}

async fn redeclaring_a_queue_with_another_delivery_limit_is_refused(h: &mut Harness) {
    let queue = h.queue(4).await;
    let changed = QueueSpec::new(&queue).max_deliveries(7);
    let result = h.bus.declare_queue(&changed).await;
    assert!(
        matches!(result, Err(Error::InvalidTopology(_))),
        "{result:?}"
    );
}

async fn closing_the_bus_ends_its_consumers(h: &mut Harness) {
    let queue = h.queue(5).await;
    let other: Bus = h.replica().await;
    let mut consumer = other.consume(&queue, 1).await.unwrap();
    other.close().await;
    let ended = tokio::time::timeout(GUARD, consumer.next())
        .await
        .expect("consumer did not end within the guard time");
    assert!(ended.is_none());
}
