//! Messages: idempotent bulk creation, the atomic claim, outcomes, the monotonic merge, stale
//! claims, counts and listing.

use std::sync::Arc;

use herald_domain::{
    CampaignId, ContactId, DeliveryState, MessageError, MessageId, MessageStatus, ReportedStatus,
    RunId, StatusUpdate, Wamid,
};
use herald_store::{
    ErrorCount, MessageFilter, MessageScope, PageRequest, SendOutcome, StatusReport, Store,
    StoreError,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use tokio::sync::Barrier;

use crate::harness::{messages, now, queued_messages, secs};

fn wamid(n: usize) -> Wamid {
    Wamid::parse(format!("wamid.HBgL{n:08}")).unwrap()
}

fn error(code: i64) -> MessageError {
    MessageError {
        code: Some(code),
        title: format!("error {code}"),
        detail: None,
    }
}

fn report(wamid: &Wamid, status: ReportedStatus, second: i64) -> StatusReport {
    StatusReport {
        wamid: wamid.clone(),
        message_id: None,
        update: StatusUpdate {
            status,
            timestamp: base() + secs(second),
            error: (status == ReportedStatus::Failed).then(|| error(131026 + second)),
        },
    }
}

fn base() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

/// Claims and accepts each message, so that it has a wamid.
async fn sent(store: &Store, ids: &[MessageId]) -> Vec<Wamid> {
    let mut wamids = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        store
            .messages()
            .claim_for_sending(*id, "worker-1", now())
            .await
            .unwrap()
            .unwrap();
        let w = wamid(n);
        store
            .messages()
            .record_outcome(
                *id,
                &SendOutcome::Accepted {
                    wamid: w.clone(),
                    at: base(),
                },
                now(),
            )
            .await
            .unwrap();
        wamids.push(w);
    }
    wamids
}

pub async fn creating_the_messages_of_a_run_twice_creates_nothing_new(store: Store) {
    let (campaign, run) = (CampaignId::new(), RunId::new());
    let contacts: Vec<ContactId> = (0..250).map(|_| ContactId::new()).collect();
    let first = messages(campaign, run, &contacts);
    assert_eq!(store.messages().create_for_run(&first).await.unwrap(), 250);
    // The same call retried, and the run's page rebuilt with fresh message ids.
    assert_eq!(store.messages().create_for_run(&first).await.unwrap(), 0);
    let rebuilt = messages(campaign, run, &contacts);
    assert_eq!(store.messages().create_for_run(&rebuilt).await.unwrap(), 0);
    // A partly new page creates only the new ones.
    let mut more = contacts[..10].to_vec();
    more.push(ContactId::new());
    assert_eq!(
        store
            .messages()
            .create_for_run(&messages(campaign, run, &more))
            .await
            .unwrap(),
        1
    );
    // Another run of the same campaign is another key.
    let next_run = messages(campaign, RunId::new(), &contacts[..5]);
    assert_eq!(store.messages().create_for_run(&next_run).await.unwrap(), 5);
    let counts = store
        .messages()
        .count_by_status(MessageScope::Campaign(campaign))
        .await
        .unwrap();
    assert_eq!(counts.get(MessageStatus::Queued), 256);
    assert_eq!(
        store.messages().get(first[0].id).await.unwrap(),
        Some(first[0].clone())
    );
}

pub async fn exactly_one_of_eight_racing_workers_claims_a_message(store: Store) {
    let (_, _, ids) = queued_messages(&store, 20).await;
    for id in ids {
        let barrier = Arc::new(Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|worker| {
                let (store, barrier) = (store.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .messages()
                        .claim_for_sending(id, &format!("worker-{worker}"), now())
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            winners.extend(task.await.unwrap());
        }
        assert_eq!(winners.len(), 1, "message {id}");
        let won = &winners[0];
        assert_eq!(won.delivery.status, MessageStatus::Sending);
        assert_eq!(won.attempts, 1);
        assert!(won.claimed_by.as_deref().unwrap().starts_with("worker-"));
        assert_eq!(store.messages().get(id).await.unwrap().as_ref(), Some(won));
    }
}

pub async fn an_accepted_send_records_its_wamid_and_is_found_by_it(store: Store) {
    let (_, _, ids) = queued_messages(&store, 1).await;
    let w = wamid(1);
    assert!(store.messages().find_by_wamid(&w).await.unwrap().is_none());
    store
        .messages()
        .claim_for_sending(ids[0], "w", now())
        .await
        .unwrap()
        .unwrap();
    let stored = store
        .messages()
        .record_outcome(
            ids[0],
            &SendOutcome::Accepted {
                wamid: w.clone(),
                at: base(),
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(stored.delivery.status, MessageStatus::Sent);
    assert_eq!(stored.delivery.sent_at, Some(base()));
    assert_eq!(stored.wamid, Some(w.clone()));
    assert_eq!(
        store.messages().find_by_wamid(&w).await.unwrap(),
        Some(stored)
    );
    // A repeated job finds it sent and cannot claim it again.
    assert!(
        store
            .messages()
            .claim_for_sending(ids[0], "w2", now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store
            .messages()
            .record_outcome(MessageId::new(), &SendOutcome::Retry, now())
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn a_wamid_belongs_to_one_message_only(store: Store) {
    let (_, _, ids) = queued_messages(&store, 2).await;
    sent(&store, &ids[..1]).await;
    store
        .messages()
        .claim_for_sending(ids[1], "w", now())
        .await
        .unwrap()
        .unwrap();
    let err = store
        .messages()
        .record_outcome(
            ids[1],
            &SendOutcome::Accepted {
                wamid: wamid(0),
                at: base(),
            },
            now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
}

pub async fn a_retry_releases_the_claim_and_a_failure_records_the_error(store: Store) {
    let (_, _, ids) = queued_messages(&store, 1).await;
    let id = ids[0];
    store
        .messages()
        .claim_for_sending(id, "w", now())
        .await
        .unwrap()
        .unwrap();
    let released = store
        .messages()
        .record_outcome(id, &SendOutcome::Retry, now())
        .await
        .unwrap();
    assert_eq!(released.delivery.status, MessageStatus::Queued);
    assert_eq!((released.claimed_at, released.attempts), (None, 1));

    let again = store
        .messages()
        .claim_for_sending(id, "w", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 2);
    let failed = store
        .messages()
        .record_outcome(
            id,
            &SendOutcome::Failed {
                error: error(131026),
                at: base(),
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(failed.delivery.status, MessageStatus::Failed);
    assert_eq!(failed.delivery.error, Some(error(131026)));
    assert_eq!(failed.delivery.failed_at, Some(base()));
    // A retry of a message that is no longer sending changes nothing.
    let unchanged = store
        .messages()
        .record_outcome(id, &SendOutcome::Retry, now())
        .await
        .unwrap();
    assert_eq!(unchanged, failed);
}

pub async fn an_unknown_outcome_stays_in_sending_and_is_found_as_a_stale_claim(store: Store) {
    let (_, _, ids) = queued_messages(&store, 3).await;
    let claimed_at = now() - secs(600);
    for id in &ids {
        store
            .messages()
            .claim_for_sending(*id, "w", claimed_at)
            .await
            .unwrap()
            .unwrap();
    }
    let unknown = store
        .messages()
        .record_outcome(
            ids[0],
            &SendOutcome::Unknown {
                reason: "timeout after 30 s".into(),
            },
            now(),
        )
        .await
        .unwrap();
    assert_eq!(unknown.delivery.status, MessageStatus::Sending);
    // It is not claimable again: no silent second send.
    assert!(
        store
            .messages()
            .claim_for_sending(ids[0], "w2", now())
            .await
            .unwrap()
            .is_none()
    );
    // ids[1] was sent; ids[2] lost its worker.
    sent_after_claim(&store, ids[1]).await;

    let stale = store
        .messages()
        .find_stale_claims(now() - secs(60), 10)
        .await
        .unwrap();
    let found: Vec<_> = stale
        .iter()
        .map(|s| (s.message.id, s.unknown_outcome.clone()))
        .collect();
    assert_eq!(found.len(), 2);
    assert!(found.contains(&(ids[0], Some("timeout after 30 s".into()))));
    assert!(found.contains(&(ids[2], None)));
    assert!(
        store
            .messages()
            .find_stale_claims(claimed_at, 10)
            .await
            .unwrap()
            .is_empty(),
        "a claim is stale only when older than the cut-off"
    );
}

async fn sent_after_claim(store: &Store, id: MessageId) {
    store
        .messages()
        .record_outcome(
            id,
            &SendOutcome::Accepted {
                wamid: wamid(99),
                at: base(),
            },
            now(),
        )
        .await
        .unwrap();
}

pub async fn a_status_matched_by_message_id_records_the_wamid_and_resolves_an_unknown_outcome(
    store: Store,
) {
    let (_, _, ids) = queued_messages(&store, 1).await;
    let id = ids[0];
    store
        .messages()
        .claim_for_sending(id, "w", now())
        .await
        .unwrap()
        .unwrap();
    store
        .messages()
        .record_outcome(
            id,
            &SendOutcome::Unknown {
                reason: "connection reset".into(),
            },
            now(),
        )
        .await
        .unwrap();
    // The webhook carries Herald's id in biz_opaque_callback_data and a wamid never recorded.
    let w = wamid(7);
    let mut delivered = report(&w, ReportedStatus::Delivered, 2);
    delivered.message_id = Some(id);
    let summary = store.messages().merge_statuses(&[delivered]).await.unwrap();
    assert_eq!((summary.changed, summary.unchanged), (1, 0));
    let resolved = store.messages().find_by_wamid(&w).await.unwrap().unwrap();
    assert_eq!(resolved.id, id);
    assert_eq!(resolved.delivery.status, MessageStatus::Delivered);
    assert!(
        store
            .messages()
            .find_stale_claims(now() + secs(60), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // From now on the wamid alone finds it.
    let read = report(&w, ReportedStatus::Read, 3);
    store.messages().merge_statuses(&[read]).await.unwrap();
    assert_eq!(
        store
            .messages()
            .get(id)
            .await
            .unwrap()
            .unwrap()
            .delivery
            .status,
        MessageStatus::Read
    );
}

/// Every status a message can be reported with, some twice with different times.
fn event_set(wamids: &[Wamid]) -> Vec<StatusReport> {
    let mut events = Vec::new();
    for (n, w) in wamids.iter().enumerate() {
        let n = n as i64;
        events.push(report(w, ReportedStatus::Sent, 1 + n % 3));
        events.push(report(w, ReportedStatus::Sent, 2 + n % 3));
        if n % 4 == 0 {
            events.push(report(w, ReportedStatus::Failed, 4 + n % 2));
            events.push(report(w, ReportedStatus::Failed, 3));
        }
        if n % 2 == 0 {
            events.push(report(w, ReportedStatus::Delivered, 6));
        }
        if n % 3 == 0 {
            events.push(report(w, ReportedStatus::Read, 8 + n % 2));
        }
    }
    events
}

/// What the domain rule says each message must end as.
fn expected_states(wamids: &[Wamid], events: &[StatusReport]) -> Vec<DeliveryState> {
    wamids
        .iter()
        .map(|w| {
            events.iter().filter(|e| &e.wamid == w).fold(
                DeliveryState {
                    status: MessageStatus::Sent,
                    sent_at: Some(base()),
                    ..DeliveryState::default()
                },
                |state, e| state.merge(&e.update),
            )
        })
        .collect()
}

async fn states(store: &Store, ids: &[MessageId]) -> Vec<DeliveryState> {
    let mut out = Vec::new();
    for id in ids {
        out.push(store.messages().get(*id).await.unwrap().unwrap().delivery);
    }
    out
}

pub async fn status_events_in_shuffled_and_duplicated_order_end_in_the_same_state(store: Store) {
    let (_, _, ids) = queued_messages(&store, 24).await;
    let wamids = sent(&store, &ids).await;
    let events = event_set(&wamids);
    let expected = expected_states(&wamids, &events);

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut replay: Vec<StatusReport> = events.iter().chain(&events).cloned().collect();
    replay.extend(events.iter().step_by(3).cloned());
    replay.shuffle(&mut rng);
    // Applied in batches of uneven size, as webhook deliveries come.
    for batch in replay.chunks(17) {
        let summary = store.messages().merge_statuses(batch).await.unwrap();
        assert!(summary.unmatched.is_empty());
    }
    assert_eq!(states(&store, &ids).await, expected);

    // Replaying everything again changes nothing.
    let summary = store.messages().merge_statuses(&replay).await.unwrap();
    assert_eq!(summary.changed, 0);
    assert_eq!(summary.unchanged, replay.len() as u64);
    assert_eq!(states(&store, &ids).await, expected);
    let read_after_failed = &expected[0];
    assert_eq!(read_after_failed.status, MessageStatus::Read);
    assert!(
        read_after_failed.error.is_some(),
        "the failure stays on record"
    );
}

pub async fn concurrent_merges_of_the_same_events_end_in_the_same_state(store: Store) {
    let (_, _, ids) = queued_messages(&store, 16).await;
    let wamids = sent(&store, &ids).await;
    let events = event_set(&wamids);
    let expected = expected_states(&wamids, &events);

    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8u64)
        .map(|seed| {
            let (store, barrier) = (store.clone(), barrier.clone());
            let mut mine = events.clone();
            mine.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
            tokio::spawn(async move {
                barrier.wait().await;
                for batch in mine.chunks(5) {
                    store.messages().merge_statuses(batch).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(states(&store, &ids).await, expected);
}

pub async fn unmatched_status_events_are_reported_by_index(store: Store) {
    let (_, _, ids) = queued_messages(&store, 1).await;
    let wamids = sent(&store, &ids).await;
    let mut foreign = report(&wamid(500), ReportedStatus::Delivered, 1);
    foreign.message_id = Some(MessageId::new());
    let batch = [
        report(&wamid(404), ReportedStatus::Delivered, 1),
        report(&wamids[0], ReportedStatus::Delivered, 1),
        foreign,
    ];
    let summary = store.messages().merge_statuses(&batch).await.unwrap();
    assert_eq!(summary.unmatched, [0, 2]);
    assert_eq!(summary.changed, 1);
}

pub async fn messages_are_counted_by_status_and_by_error_code_for_a_campaign_and_a_run(
    store: Store,
) {
    let campaign = CampaignId::new();
    let (run_a, run_b) = (RunId::new(), RunId::new());
    let contacts: Vec<ContactId> = (0..10).map(|_| ContactId::new()).collect();
    let a = messages(campaign, run_a, &contacts);
    let b = messages(campaign, run_b, &contacts[..4]);
    store.messages().create_for_run(&a).await.unwrap();
    store.messages().create_for_run(&b).await.unwrap();
    // Run A: 3 sent, 3 failed (2 × 131026, 1 × 131047), 1 sending, 3 queued.
    for (n, m) in a.iter().take(7).enumerate() {
        store
            .messages()
            .claim_for_sending(m.id, "w", now())
            .await
            .unwrap()
            .unwrap();
        let outcome = match n {
            0..=2 => SendOutcome::Accepted {
                wamid: wamid(n),
                at: base(),
            },
            3 | 4 => SendOutcome::Failed {
                error: error(131026),
                at: base(),
            },
            5 => SendOutcome::Failed {
                error: error(131047),
                at: base(),
            },
            _ => continue,
        };
        store
            .messages()
            .record_outcome(m.id, &outcome, now())
            .await
            .unwrap();
    }
    // Run B: one failure by Herald itself (no Meta code).
    store
        .messages()
        .claim_for_sending(b[0].id, "w", now())
        .await
        .unwrap()
        .unwrap();
    let opted_out = MessageError {
        code: None,
        title: "contact opted out".into(),
        detail: None,
    };
    store
        .messages()
        .record_outcome(
            b[0].id,
            &SendOutcome::Failed {
                error: opted_out,
                at: base(),
            },
            now(),
        )
        .await
        .unwrap();

    let run = store
        .messages()
        .count_by_status(MessageScope::Run(run_a))
        .await
        .unwrap();
    assert_eq!(
        [
            MessageStatus::Queued,
            MessageStatus::Sending,
            MessageStatus::Sent,
            MessageStatus::Failed,
            MessageStatus::Delivered,
        ]
        .map(|s| run.get(s)),
        [3, 1, 3, 3, 0]
    );
    assert_eq!(run.total(), 10);
    let all = store
        .messages()
        .count_by_status(MessageScope::Campaign(campaign))
        .await
        .unwrap();
    assert_eq!((all.total(), all.get(MessageStatus::Failed)), (14, 4));

    let codes = store
        .messages()
        .count_by_error_code(MessageScope::Run(run_a))
        .await
        .unwrap();
    assert_eq!(
        codes,
        [
            ErrorCount {
                code: Some(131026),
                count: 2
            },
            ErrorCount {
                code: Some(131047),
                count: 1
            }
        ]
    );
    let mut codes = store
        .messages()
        .count_by_error_code(MessageScope::Campaign(campaign))
        .await
        .unwrap();
    codes.sort();
    assert_eq!(
        codes,
        [
            ErrorCount {
                code: None,
                count: 1
            },
            ErrorCount {
                code: Some(131026),
                count: 2
            },
            ErrorCount {
                code: Some(131047),
                count: 1
            }
        ]
    );
}

pub async fn stopping_cancels_only_the_queued_messages(store: Store) {
    let (campaign, run, ids) = queued_messages(&store, 5).await;
    sent(&store, &ids[..2]).await;
    store
        .messages()
        .claim_for_sending(ids[2], "w", now())
        .await
        .unwrap()
        .unwrap();
    let stopped = MessageError {
        code: None,
        title: "campaign stopped".into(),
        detail: None,
    };
    let cancelled = store
        .messages()
        .cancel_queued(MessageScope::Run(run), &stopped, now())
        .await
        .unwrap();
    assert_eq!(cancelled, 2);
    let counts = store
        .messages()
        .count_by_status(MessageScope::Campaign(campaign))
        .await
        .unwrap();
    assert_eq!(
        [
            MessageStatus::Sent,
            MessageStatus::Sending,
            MessageStatus::Failed
        ]
        .map(|s| counts.get(s)),
        [2, 1, 2]
    );
    let m = store.messages().get(ids[4]).await.unwrap().unwrap();
    assert_eq!(m.delivery.error, Some(stopped));
    assert!(
        store
            .messages()
            .claim_for_sending(ids[4], "w", now())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn messages_list_with_filters_in_pages(store: Store) {
    let (campaign, run, ids) = queued_messages(&store, 7).await;
    queued_messages(&store, 3).await;
    sent(&store, &ids[..3]).await;

    let filter = MessageFilter {
        campaign_id: Some(campaign),
        status: Some(MessageStatus::Queued),
        ..MessageFilter::default()
    };
    let mut seen = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let got = store.messages().list(&filter, &page).await.unwrap();
        assert!(got.items.len() <= 3);
        seen.extend(got.items.iter().map(|m| m.id));
        match got.next {
            Some(next) => page = PageRequest::after(next, 3),
            None => break,
        }
    }
    assert_eq!(seen, ids[3..]);

    let by_run = store
        .messages()
        .list(
            &MessageFilter {
                run_id: Some(run),
                ..MessageFilter::default()
            },
            &PageRequest::first(100),
        )
        .await
        .unwrap();
    assert_eq!(by_run.items.len(), 7);
    let one = store.messages().get(ids[0]).await.unwrap().unwrap();
    let by_contact = store
        .messages()
        .list(
            &MessageFilter {
                contact_id: Some(one.contact_id),
                ..MessageFilter::default()
            },
            &PageRequest::first(100),
        )
        .await
        .unwrap();
    assert_eq!(by_contact.items, [one]);
}
